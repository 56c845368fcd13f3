"""What the small files a write leaves cost the engine's reads, and what merging them gives back.

One command:  .venv/bin/python benchmarks/compaction.py --triples 1000000 --results

It builds an on-disk store of the model and the generated graph (benchmarks/.work/worker-store-N, as
worker_scaling.py does; loading compacts it), then four copies of it: as loaded; after one write; after
five; and a checkpoint taken after five writes, then merged (Oxigraph's optimize, timed), as `policykg
serve` gives its query workers once writes pause (writing/compaction.py). Each write adds a few hundred
triples and takes a checkpoint, as the service does for its query workers after every write. The heavy mix
of sparql_throughput.py (its queries()) then runs in this process on all four, query by query in turn
(interleaved, so that a noisy machine slows them alike), --rounds times after one round not counted; the
answers of the four are compared. Then, on two more copies, writes are made every WRITE_GAP seconds while
the store itself is merged, and while a checkpoint of it is: what an entry that comes meanwhile waits.
"""

import argparse
import shutil
import statistics
import tempfile
import threading
import time
from pathlib import Path

import pyoxigraph as ox
from sparql_throughput import machine, publish, queries, synthetic_data
from worker_scaling import build_store

from policykg.store.tablefiles import merge_files

HERE = Path(__file__).resolve().parent
EX = "http://example.org/benchmark/"
WRITTEN_TRIPLES = 300  # triples per write: an entry with its provenance is a few dozen; a batch import more
WRITE_GAP = 0.05  # seconds between two writes made while files are merged


def write(store: ox.Store, number: int, scratch: Path) -> float:
    """One write as the service makes it: its triples committed, then a checkpoint for the query workers; its
    seconds."""
    started = time.perf_counter()
    graph = ox.NamedNode(f"{EX}write-{number}")
    title = ox.NamedNode("http://purl.org/dc/terms/title")
    store.extend(
        ox.Quad(ox.NamedNode(f"{EX}thing-{number}-{i}"), title, ox.Literal(f"written {number} {i}"), graph)
        for i in range(WRITTEN_TRIPLES)
    )
    checkpoint = scratch / f"checkpoint-{number}"
    store.backup(str(checkpoint))
    took = time.perf_counter() - started
    shutil.rmtree(checkpoint)
    return took


def prepared(source: Path, work: Path, writes: int, merged: bool) -> tuple[ox.Store, float | None]:
    """A copy of the store after that many writes, or, if asked, a merged checkpoint of it, as the query workers get
    it once writes pause (writing/compaction.py); and how long the merge took."""
    folder = work / f"copy-{writes}-{merged}"
    shutil.copytree(source, folder)
    store = ox.Store(str(folder))
    for number in range(writes):
        write(store, number, work)
    if not merged:
        return store, None
    checkpoint = work / f"merged-{writes}"
    store.backup(str(checkpoint))
    del store
    started = time.perf_counter()
    merge_files(checkpoint)
    took = time.perf_counter() - started
    return ox.Store(str(checkpoint)), took


def writes_beside_merging(source: Path, work: Path, in_place: bool) -> tuple[list[float], list[float], float]:
    """Writes alone, then writes made while the store (in_place) or a checkpoint of it is merged: their seconds, and
    the merge's."""
    folder = work / f"copy-beside-{in_place}"
    shutil.copytree(source, folder)
    store = ox.Store(str(folder))
    alone = [write(store, number, work) for number in range(20)]
    target = folder
    if not in_place:
        target = work / "merged-beside"
        store.backup(str(target))
    merging: list[float] = []

    def merge() -> None:
        started = time.perf_counter()
        if in_place:
            store.optimize()
        else:
            merge_files(target)
        merging.append(time.perf_counter() - started)

    thread = threading.Thread(target=merge)
    thread.start()
    beside, number = [], 100
    while not merging:
        beside.append(write(store, number, work))
        number += 1
        time.sleep(WRITE_GAP)
    thread.join()
    return alone, beside, merging[0]


def rows(store: ox.Store, query: str) -> tuple[list[list[str | None]], float]:
    """The query's rows as text, and how long it took."""
    started = time.perf_counter()
    solutions = store.query(query, use_default_graph_as_union=True)
    assert isinstance(solutions, ox.QuerySolutions)
    names = [variable.value for variable in solutions.variables]
    found = [[None if s[n] is None else s[n].value for n in names] for s in solutions]
    return found, time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--triples", type=int, default=1_000_000)
    parser.add_argument("--rounds", type=int, default=3, help="rounds of the whole mix, after one not counted")
    parser.add_argument("--results", action="store_true", help="add the table to benchmarks/RESULTS.md")
    args = parser.parse_args()

    source = HERE / ".work" / f"worker-store-{args.triples}"
    if not source.exists():
        build_store(source, synthetic_data(args.triples))
    states = [("as loaded", 0, False), ("after 1 write", 1, False), ("after 5 writes", 5, False)]
    states.append(("after 5 writes, a merged checkpoint", 5, True))
    mix = queries(args.triples)
    with tempfile.TemporaryDirectory(dir=HERE / ".work") as scratch:
        work = Path(scratch)
        beside = {in_place: writes_beside_merging(source, work, in_place) for in_place in (True, False)}
        stores, merging = [], None
        for _name, writes, merged in states:
            store, took = prepared(source, work, writes, merged)
            stores.append(store)
            merging = took if took is not None else merging
        quads = len(stores[0])
        seconds = {(name, kind): 0.0 for name, _, _ in states for kind, _ in mix}
        disagree: set[str] = set()
        for round_number in range(args.rounds + 1):
            for kind, query in mix:
                answers = []
                for (name, _, _), store in zip(states, stores, strict=True):
                    found, took = rows(store, query)
                    answers.append(found)
                    if round_number:
                        seconds[name, kind] += took
                if any(answer != answers[0] for answer in answers):
                    disagree.add(kind)
        del stores  # closes the copies before their folders go

    kinds = list(dict.fromkeys(kind for kind, _ in mix))
    names = [name for name, _, _ in states]
    lines = [
        f"### Small files after writes, and a merged checkpoint, {args.triples:,} generated triples "
        f"({time.strftime('%Y-%m-%d')})",
        "",
        f"Machine: {machine()}. `benchmarks/compaction.py`: one store of {quads:,} quads (the model and the generated "
        f"graph, loaded and compacted), four copies: {', '.join(names)}; each write {WRITTEN_TRIPLES} triples and a "
        f"checkpoint, as the service takes for its query workers. The merge (Oxigraph's optimize of the checkpoint) "
        f"took {merging:.2f} s. The {len(mix)} queries of sparql_throughput.py's heavy mix, in one process, each "
        f"query on the four copies in turn, {args.rounds} rounds after one not counted. Answers: "
        + ("the same on all four." if not disagree else f"**different** for {', '.join(sorted(disagree))}."),
        "",
        "| kind | " + " | ".join(f"{name} (s)" for name in names) + " | after 5 writes ÷ as loaded "
        "| merged ÷ as loaded |",
        "|---|" + "---:|" * (len(names) + 2),
    ]
    for kind in [*kinds, "all"]:
        totals = [sum(seconds[name, k] for k in kinds) if kind == "all" else seconds[name, kind] for name in names]
        cells = " | ".join(f"{total:.3f}" for total in totals)
        label = f"**{kind}**" if kind == "all" else kind
        lines.append(f"| {label} | {cells} | {totals[2] / totals[0]:.2f} | {totals[3] / totals[0]:.2f} |")
    for in_place, (alone, during, took) in beside.items():
        what = "the store itself" if in_place else "a checkpoint of it (what the service does)"
        lines.append(
            f"\nWrites while {what} is merged ({took:.2f} s), one every {WRITE_GAP * 1000:g} ms: {len(during)} writes, "
            f"median {milliseconds(during, 0.5)}, 90th percentile {milliseconds(during, 0.9)}, slowest "
            f"{milliseconds(during, 1)}; the same writes alone: median {milliseconds(alone, 0.5)}, slowest "
            f"{milliseconds(alone, 1)}."
        )
    publish("\n".join(lines) + "\n", args.results)


def milliseconds(seconds: list[float], fraction: float) -> str:
    """A quantile of durations, in milliseconds (1: the largest)."""
    value = max(seconds) if fraction >= 1 else statistics.quantiles(seconds, n=100)[round(fraction * 100) - 1]
    return f"{value * 1000:.0f} ms"


if __name__ == "__main__":
    main()

"""What the small files a write leaves cost the engine's reads, and what merging them gives back.

One command:  .venv/bin/python benchmarks/compaction.py --triples 1000000 --results

It builds an on-disk store of the model and the generated graph (benchmarks/.work/worker-store-N, as
worker_scaling.py does; loading compacts it), then four copies of it: as loaded; after one write; after
five; after five writes and a compaction (Oxigraph's optimize, timed), as `policykg serve` does once writes
pause (writing/compaction.py). Each write adds a few hundred triples and takes a checkpoint, as the service
does for its query workers after every write. The heavy mix of sparql_throughput.py (its queries()) then
runs in this process on all four, query by query in turn (interleaved, so that a noisy machine slows them
alike), --rounds times after one round not counted; the answers of the four are compared.
"""

import argparse
import shutil
import tempfile
import time
from pathlib import Path

import pyoxigraph as ox
from sparql_throughput import machine, publish, queries, synthetic_data
from worker_scaling import build_store

HERE = Path(__file__).resolve().parent
EX = "http://example.org/benchmark/"
WRITTEN_TRIPLES = 300  # triples per write: an entry with its provenance is a few dozen; a batch import more


def write(store: ox.Store, number: int, scratch: Path) -> None:
    """One write as the service makes it: its triples committed, then a checkpoint for the query workers."""
    graph = ox.NamedNode(f"{EX}write-{number}")
    title = ox.NamedNode("http://purl.org/dc/terms/title")
    store.extend(
        ox.Quad(ox.NamedNode(f"{EX}thing-{number}-{i}"), title, ox.Literal(f"written {number} {i}"), graph)
        for i in range(WRITTEN_TRIPLES)
    )
    checkpoint = scratch / f"checkpoint-{number}"
    store.backup(str(checkpoint))
    shutil.rmtree(checkpoint)


def prepared(source: Path, work: Path, writes: int, compact: bool) -> tuple[ox.Store, float | None]:
    """A copy of the store after that many writes, compacted if asked; and how long the compaction took."""
    folder = work / f"copy-{writes}-{compact}"
    shutil.copytree(source, folder)
    store = ox.Store(str(folder))
    for number in range(writes):
        write(store, number, work)
    if not compact:
        return store, None
    started = time.perf_counter()
    store.optimize()
    return store, time.perf_counter() - started


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
    states.append(("after 5 writes, then compacted", 5, True))
    mix = queries(args.triples)
    with tempfile.TemporaryDirectory(dir=HERE / ".work") as scratch:
        work = Path(scratch)
        stores, compaction = [], None
        for _name, writes, compact in states:
            store, took = prepared(source, work, writes, compact)
            stores.append(store)
            compaction = took if took is not None else compaction
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
        f"### Small files after writes, and compaction, {args.triples:,} generated triples "
        f"({time.strftime('%Y-%m-%d')})",
        "",
        f"Machine: {machine()}. `benchmarks/compaction.py`: one store of {quads:,} quads (the model and the generated "
        f"graph, loaded and compacted), four copies: {', '.join(names)}; each write {WRITTEN_TRIPLES} triples and a "
        f"checkpoint, as the service takes for its query workers. The compaction (Oxigraph's optimize) took "
        f"{compaction:.2f} s. The {len(mix)} queries of sparql_throughput.py's heavy mix, in one process, each "
        f"query on the four copies in turn, {args.rounds} rounds after one not counted. Answers: "
        + ("the same on all four." if not disagree else f"**different** for {', '.join(sorted(disagree))}."),
        "",
        "| kind | " + " | ".join(f"{name} (s)" for name in names) + " | after 5 writes ÷ as loaded "
        "| compacted ÷ as loaded |",
        "|---|" + "---:|" * (len(names) + 2),
    ]
    for kind in [*kinds, "all"]:
        totals = [sum(seconds[name, k] for k in kinds) if kind == "all" else seconds[name, kind] for name in names]
        cells = " | ".join(f"{total:.3f}" for total in totals)
        label = f"**{kind}**" if kind == "all" else kind
        lines.append(f"| {label} | {cells} | {totals[2] / totals[0]:.2f} | {totals[3] / totals[0]:.2f} |")
    publish("\n".join(lines) + "\n", args.results)


if __name__ == "__main__":
    main()

"""What VoID's figures cost: a full count of the store, against keeping them from each write (publish/tally.py).

One command:  .venv/bin/python benchmarks/statistics_upkeep.py --triples 1000000

It copies the load mix's store (benchmarks/.work/load-mix-store-N, built once, as load_mix.py builds it) and
times, in one process: the full count of every figure (publish/statistics.py, as a start or a change the
writer cannot list needs it), wall and CPU; then writes through a Writer that keeps the figures, and times what
the upkeep adds inside each write (the look-ups before and after it): a new meeting with its participations,
as an entry writes it; the same taken out again; a graph of 1,000 triples replaced. The kept figures are
checked against a full count at the end. The shapes are left out (the writes are the same either way; this
times the upkeep only).

With --serve it serves a copy of that store instead and measures VoID and DCAT as harvesters meet them while
writes stream in (writers sending small SPARQL Updates back to back, readers asking for VoID and DCAT in
turn): the latency of each answer, how many writes behind the revision its ETag names was (the figures' lag),
and the CPU the server spent. With --results it appends the table to RESULTS.md.
"""

import argparse
import asyncio
import os
import shutil
import sys
import time
from collections import defaultdict
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TYPE_CHECKING

import httpx
import rdflib
from conftest import start_service, stop
from load_mix import run_copy
from sparql_throughput import machine, percentile, publish, synthetic_data
from worker_scaling import build_store

from policykg.config import Settings
from policykg.store import EmbeddedStore, Store
from policykg.validation.incremental import Change, ChangeValidator
from policykg.validation.shacl import load_model_graph
from policykg.writing.writer import Revision, Writer

if TYPE_CHECKING:  # imported when used: with --serve, the service measured may be a revision without them
    from policykg.publish.tally import KeptStatistics

HERE = Path(__file__).resolve().parent
WORK = HERE / ".work"
B = "http://localhost:8000/"
PKG = "https://w3id.org/policykg/ontology#"


class Timed:
    """Forwards the writer's calls to the figures' keeper, timing them per revision."""

    def __init__(self, inner: "KeptStatistics[Revision]") -> None:
        self.inner = inner
        self.spent = 0.0
        self.last = 0.0

    def before(self, store: Store, change: Change | None) -> None:
        started = time.perf_counter()
        self.inner.before(store, change)
        self.spent += time.perf_counter() - started

    def after(self, store: Store, revision: Revision) -> None:
        started = time.perf_counter()
        self.inner.after(store, revision)
        self.last, self.spent = self.spent + time.perf_counter() - started, 0.0


def meeting(number: int) -> str:
    """A meeting with three participations, in a graph of its own, as an entry adds one (19 quads)."""
    m = f"<{B}id/event/upkeep-meeting-{number}>"
    lines = [
        f'{m} a <{PKG}ExpertGroupMeeting> ; <http://www.w3.org/2000/01/rdf-schema#label> "Meeting {number}"@en ;'
        f' <https://schema.org/startDate> "2025-01-01"^^<http://www.w3.org/2001/XMLSchema#date> ;'
        f" <{PKG}partOfSeries> <{B}id/series/cultural-heritage-expert-group-meetings> ; <{PKG}seriesNumber> {number}"
    ]
    for n in range(3):
        p = f"<{B}id/participation/upkeep-{number}-{n}>"
        lines.append(
            f"{m} <http://data.europa.eu/m8g/hasParticipation> {p} . {p} a <{PKG}Participation> ; "
            f"<http://data.europa.eu/m8g/hasParticipant> <{B}id/person/julia-pagel> ; "
            f"<http://data.europa.eu/m8g/role> <{PKG}roleAttendee> ; <{PKG}onBehalfOf> <{B}id/org/nemo>"
        )
    return " . ".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--triples", type=int, default=1_000_000)
    parser.add_argument("--writes", type=int, default=40, help="writes of each kind")
    parser.add_argument("--serve", action="store_true", help="VoID and DCAT over HTTP while writes stream in")
    parser.add_argument("--seconds", type=float, default=30.0, help="with --serve: how long")
    parser.add_argument("--writers", type=int, default=4, help="with --serve: clients writing back to back")
    parser.add_argument("--readers", type=int, default=8, help="with --serve: clients reading VoID and DCAT")
    parser.add_argument("--label", default="policykg", help="with --serve: the system's name in the table")
    parser.add_argument("--results", action="store_true", help="append the table to benchmarks/RESULTS.md")
    args = parser.parse_args()
    if args.serve:
        text = "\n".join(serve(args))
        print(text)
        if args.results:
            publish(text + "\n")
        return
    pristine, built = WORK / f"load-mix-store-{args.triples}", WORK / f"load-mix-store-{args.triples}.built"
    if not built.exists():
        shutil.rmtree(pristine, ignore_errors=True)
        build_store(pristine, synthetic_data(args.triples))
        built.touch()
    copy = WORK / f"statistics-upkeep-{args.triples}"
    shutil.rmtree(copy, ignore_errors=True)
    _checkpoint(pristine, copy)
    store = EmbeddedStore.on_disk(copy)
    try:
        lines = measure(store, args.writes)
    finally:
        store.close()
        shutil.rmtree(copy, ignore_errors=True)
    text = "\n".join(lines)
    print(text)
    if args.results:
        publish(text + f"\n\nRerun: `.venv/bin/python benchmarks/statistics_upkeep.py --triples {args.triples}`\n")


def _checkpoint(source: Path, target: Path) -> None:
    store = EmbeddedStore.on_disk(source)
    try:
        store.backup(target)
    finally:
        store.close()


def measure(store: EmbeddedStore, writes: int) -> list[str]:
    """The table's lines: the full count, then the upkeep per kind of write."""
    from policykg.publish.statistics import example_classes, statistics
    from policykg.publish.tally import Figures, KeptStatistics

    counts = []
    for _ in range(3):
        started, cpu = time.perf_counter(), time.process_time()
        Figures.counted(store, B, example_classes(store))
        counts.append((time.perf_counter() - started, time.process_time() - cpu))
    settings = Settings()
    writer = Writer(store, ChangeValidator(rdflib.Graph(), load_model_graph(settings.ontology_dir, B)), B)
    with ThreadPoolExecutor(2) as executor:
        kept = KeptStatistics(store, writer.frozen, B, executor)
        timed = Timed(kept)
        writer.watch(timed)
        kept.latest(seconds=600)
        upkeep: dict[str, list[float]] = defaultdict(list)
        whole: dict[str, list[float]] = defaultdict(list)

        def timed_write(kind: str, write: str) -> None:
            started = time.perf_counter()
            writer.update(write, B)
            whole[kind].append(time.perf_counter() - started)
            upkeep[kind].append(timed.last)

        big = " . ".join(f'<{B}id/upkeep/thing-{n}> <{PKG}note> "{n}"' for n in range(1000))
        for n in range(writes):
            graph = f"<{B}graph/upkeep-{n}>"
            timed_write("a meeting added (19 quads)", f"INSERT DATA {{ GRAPH {graph} {{ {meeting(89_000 + n)} }} }}")
        for n in range(writes):
            graph = f"<{B}graph/upkeep-{n}>"
            timed_write("the meeting taken out (DROP GRAPH)", f"DROP GRAPH {graph}")
        for n in range(writes):
            timed_write(
                "a graph of 1,000 triples replaced",
                f"DROP SILENT GRAPH <{B}graph/upkeep-big> ; "
                f"INSERT DATA {{ GRAPH <{B}graph/upkeep-big> {{ {big.replace('thing-', f'thing-{n}-')} }} }}",
            )
        exact = kept.latest()[1] == statistics(store, B)
    wall = sorted(c[0] for c in counts)[1]
    cpu = sorted(c[1] for c in counts)[1]
    lines = [
        f"### VoID's figures: a full count against upkeep per write, {store.count():,} quads "
        f"({time.strftime('%Y-%m-%d')})",
        "",
        f"Machine: {machine()}; other work may share it. One process, the load mix's store (copied). "
        f"Full count (publish/statistics.py, every figure, median of 3): **{wall:.2f} s, {cpu:.2f} s of CPU**. "
        f"Upkeep: the time the figures' look-ups add inside each write (before and after it), {writes} writes "
        f"of each kind through a Writer without shapes; the kept figures equal a full count at the end: {exact}.",
        "",
        "| write | upkeep p50 (ms) | upkeep p95 (ms) | whole write p50 (ms) |",
        "|---|---:|---:|---:|",
    ]
    for kind in upkeep:
        lines.append(
            f"| {kind} | {percentile(upkeep[kind], 0.5):,.1f} | {percentile(upkeep[kind], 0.95):,.1f} | "
            f"{percentile(whole[kind], 0.5):,.1f} |"
        )
    return lines


TOKEN = "statistics-upkeep-token"


def serve(args: argparse.Namespace) -> list[str]:
    """Serve a copy of the store; stream writes and read VoID and DCAT for a while; the table's lines."""
    folder = run_copy(args.triples)
    process, url = start_service(folder, POLICYKG_STORE=str(folder / "store"), POLICYKG_UPDATE_TOKEN=TOKEN)
    try:
        httpx.get(url + "/.well-known/void", timeout=600)  # the first count, after the start
        before, cpu = os.getloadavg()[0], _cpu(process.pid)
        reads, writes, lags = asyncio.run(_stream(url, args))
        cpu = _cpu(process.pid) - cpu
    finally:
        stop(process)
        shutil.rmtree(folder, ignore_errors=True)
    lines = [
        f"VoID and DCAT while {args.writers} clients write, {args.readers} read, {args.seconds:g} s; {machine()}:",
        "",
        "| system | writes/s | VoID answers | p50 (ms) | p95 (ms) | DCAT answers | p50 (ms) | p95 (ms) | "
        "lag p50 (writes) | lag max (writes) | server CPU (cores) | load average before |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
        f"| {args.label} | {writes / args.seconds:.1f} | "
        + " | ".join(
            f"{len(reads[path]):,} | {percentile(reads[path], 0.5):,.0f} | {percentile(reads[path], 0.95):,.0f}"
            for path in ("/.well-known/void", "/catalog")
        )
        + f" | {sorted(lags)[len(lags) // 2] if lags else 'n/a'} | {max(lags, default=0)} | "
        f"{cpu / args.seconds:.2f} | {before:.1f} |",
    ]
    return lines


async def _stream(url: str, args: argparse.Namespace) -> tuple[dict[str, list[float]], int, list[int]]:
    """Writers and readers for args.seconds: read latencies per path, writes acknowledged, lags in writes."""
    reads: dict[str, list[float]] = defaultdict(list)
    lags: list[int] = []
    done = [0]
    first = _writes(httpx.get(url + "/.well-known/void", timeout=600))  # nothing is written yet: the current one
    deadline = time.monotonic() + args.seconds
    headers = {"Authorization": f"Bearer {TOKEN}"}

    async def write(number: int) -> None:
        async with httpx.AsyncClient(timeout=120) as client:
            n = 0
            while time.monotonic() < deadline:
                n += 1
                thing = f'<{B}id/steady/{number}-{n}> <{PKG}note> "{n}"'
                text = f"INSERT DATA {{ GRAPH <{B}graph/steady-{number}-{n}> {{ {thing} }} }}"
                answer = await client.post(url + "/sparql", data={"update": text}, headers=headers)
                assert answer.status_code in (200, 204), answer.text
                done[0] += 1

    async def read(number: int) -> None:
        async with httpx.AsyncClient(timeout=120) as client:
            paths = ("/.well-known/void", "/catalog")
            n = number
            while time.monotonic() < deadline:
                path, written = paths[n % 2], done[0]
                n += 1
                started = time.perf_counter()
                answer = await client.get(url + path, headers={"Accept": "text/turtle"})
                assert answer.status_code == 200, answer.text
                reads[path].append(time.perf_counter() - started)
                lags.append(max(0, first + written - _writes(answer)))

    await asyncio.gather(*(write(n) for n in range(args.writers)), *(read(n) for n in range(args.readers)))
    return reads, done[0], lags


def _writes(answer: httpx.Response) -> int:
    """The number of writes of the revision an answer's ETag names ('"<run>-<writes>-<syntax>"')."""
    return int(answer.headers["etag"].strip('"').split("-")[1])


def _cpu(pid: int) -> float:
    """Seconds of CPU a process and its children (ended and alive) have used."""
    total = 0.0
    for task in [pid, *_children(pid)]:
        try:
            fields = Path(f"/proc/{task}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += sum(int(f) for f in fields[11 : 15 if task == pid else 13]) / os.sysconf("SC_CLK_TCK")
    return total


def _children(pid: int) -> list[int]:
    try:
        return [int(c) for c in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    except OSError:
        return []


if __name__ == "__main__":
    sys.exit(main())

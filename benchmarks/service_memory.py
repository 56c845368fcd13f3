"""Cold start and memory of `policykg serve` on an on-disk store: idle, under the query mix, while streaming dumps.

One command:  .venv/bin/python benchmarks/service_memory.py --triples 1000000

It builds an on-disk store once in benchmarks/.work/ (`policykg load` of the generated graph into a new
store, which also gives it the model). Then it starts `policykg serve` over it as a real process on a
loopback port, query workers at their default, and measures:

- the cold start: from starting the process until /sparql answers a query, over several starts (median);
- the resident memory (VmRSS from /proc) of the service process, and separately the sum over its query
  worker processes (its children, from /proc/<pid>/task/*/children), sampled every 50 ms from a thread,
  while idle, while answering the query mix of sparql_throughput.py from concurrent clients, and while
  streaming the full dumps /dumps/policykg.nq.gz and /dumps/policykg.nq to a client that reads as fast as
  it can, to one that reads slowly (the whole dump spread over --slow-seconds), and to four clients at once;
- the time each start-up step takes, timed in a separate process that does what `policykg serve` does.

With --results it appends the tables to benchmarks/RESULTS.md.
"""

import argparse
import asyncio
import contextlib
import json
import os
import shutil
import statistics
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import httpx
from sparql_throughput import (
    System,
    drive,
    free_port,
    machine,
    percentile,
    publish,
    queries,
    synthetic_data,
)

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
WORK = HERE / ".work"
ASK = {"query": "ASK { ?s ?p ?o }"}
JSON = {"Accept": "application/sparql-results+json"}


def rss_mb(pid: int) -> float:
    """The resident memory of a process in MB (VmRSS), 0 if it is gone."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024 / 1e6
    except (FileNotFoundError, ProcessLookupError):
        pass
    return 0.0


def children(pid: int) -> list[int]:
    """The child processes of a process, whichever of its threads started them."""
    found: list[int] = []
    for task in Path(f"/proc/{pid}/task").glob("*"):
        with contextlib.suppress(FileNotFoundError, ProcessLookupError):
            found += [int(child) for child in (task / "children").read_text().split()]
    return found


def is_query_worker(pid: int) -> bool:
    """A process started by multiprocessing's spawn (the query workers), not its resource tracker."""
    try:
        command = Path(f"/proc/{pid}/cmdline").read_bytes()
    except (FileNotFoundError, ProcessLookupError):
        return False
    return b"spawn_main" in command


class Sampler(threading.Thread):
    """Every 50 ms, the RSS of the service process and the sum over its query workers, filed under a phase."""

    def __init__(self, pid: int, interval: float = 0.05) -> None:
        super().__init__(daemon=True)
        self.pid = pid
        self.interval = interval
        self.phase: str | None = None
        self.samples: dict[str, list[tuple[float, float, int]]] = {}
        self._stopping = threading.Event()

    def run(self) -> None:
        while not self._stopping.wait(self.interval):
            phase = self.phase
            if phase is None:
                continue
            workers = [child for child in children(self.pid) if is_query_worker(child)]
            self.samples.setdefault(phase, []).append((rss_mb(self.pid), sum(rss_mb(w) for w in workers), len(workers)))

    def stop(self) -> None:
        self._stopping.set()
        self.join()


@dataclass(frozen=True)
class Phase:
    """One phase of the memory run: its name, and what the clients got in it."""

    name: str
    note: str = ""


# Lines that `policykg serve` and uvicorn print as they start, in this order: when each first appears
# (after the process started) marks the end of a start-up step.
START_LINES = {
    "policykg: serving": "imports, settings, store opened (query workers started), model checked",
    "Started server process": "create_app (shapes and ontology parsed), uvicorn configured",
    "Application startup complete": "the application's lifespan started",
    "Uvicorn running on": "listening on the port",
}


class Service:
    """A running `policykg serve`: its process, its /sparql URL, and when its start-up lines and first answer came."""

    def __init__(self, store: Path, log: Path, environment: dict[str, str]) -> None:
        port = free_port()
        self.url = f"http://127.0.0.1:{port}/sparql"
        self.marks: dict[str, float] = {}
        self._log = log.open("ab")
        env = {k: v for k, v in os.environ.items() if not k.startswith("POLICYKG_")}
        env.update(POLICYKG_STORE=str(store), POLICYKG_PORT=str(port), POLICYKG_HOST="127.0.0.1", **environment)
        self.started = time.monotonic()
        self.process = subprocess.Popen(
            [sys.executable, "-m", "policykg.cli", "serve"],
            cwd=ROOT,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
        )
        self._reader = threading.Thread(target=self._read_output, daemon=True)
        self._reader.start()
        self.ready = self._wait_for_an_answer()

    def _read_output(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            now = time.monotonic() - self.started
            self._log.write(line)
            text = line.decode("utf-8", "replace")
            for marker in START_LINES:
                if marker in text:
                    self.marks.setdefault(marker, now)

    def _wait_for_an_answer(self) -> float:
        """Seconds from starting the process until /sparql answered a query."""
        with httpx.Client(timeout=5) as client:
            while True:
                if self.process.poll() is not None:
                    raise SystemExit(f"policykg serve exited with {self.process.returncode}; see {self._log.name}")
                try:
                    if client.get(self.url, params=ASK, headers=JSON).status_code == 200:
                        return time.monotonic() - self.started
                except httpx.TransportError:
                    pass
                if time.monotonic() - self.started > 600:
                    raise SystemExit(f"policykg serve did not answer in 600 s; see {self._log.name}")
                time.sleep(0.01)

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self._reader.join(timeout=10)
        self._log.close()


def build_store(triples: int) -> Path:
    """The store of the model plus the generated graph, built once and kept in benchmarks/.work/."""
    store = WORK / f"service-store-{triples}"
    built = WORK / f"service-store-{triples}.built"
    if built.exists():
        return store
    data = synthetic_data(triples)
    shutil.rmtree(store, ignore_errors=True)
    # Into a new store, `policykg load` also loads the model (ontology, shapes, seed), as `serve` would.
    subprocess.run(
        [sys.executable, "-m", "policykg.cli", "load", str(data), "--store", str(store)], check=True, cwd=ROOT
    )
    built.touch()
    return store


def read_dump(url: str, rate: float | None) -> tuple[int, float]:
    """Read a dump to its end, at most `rate` bytes a second (None: as fast as possible); return bytes and seconds."""
    received = 0
    started = time.monotonic()
    with httpx.stream("GET", url, timeout=300) as response:
        response.raise_for_status()
        for chunk in response.iter_raw(64 * 1024):
            received += len(chunk)
            if rate is not None:
                ahead = received / rate - (time.monotonic() - started)
                if ahead > 0:
                    time.sleep(ahead)
    return received, time.monotonic() - started


STARTUP_STEPS = r"""
import json, sys, time
launched, location = float(sys.argv[1]), sys.argv[2]
steps = {"Python start-up": time.time() - launched}
mark = time.monotonic()
def step(name):
    global mark
    now = time.monotonic()
    steps[name] = now - mark
    mark = now
import policykg.cli
step("import policykg.cli (pydantic, pyoxigraph, rdflib, pyshacl)")
import uvicorn
from policykg.web.app import create_app
step("import uvicorn, FastAPI and the web app")
from policykg.config import load_settings
from policykg.model.files import initialise
from policykg.store import open_store
settings = load_settings(store=location)
store = open_store(settings.store, query_workers=settings.query_workers)
step(f"open the store, take a checkpoint, start {settings.query_workers} query workers")
initialise(store, settings)
step("initialise: count the quads (is the store empty?)")
app = create_app(settings, store)
step("create_app: parse the shapes and the ontology, build the routes")
store.query("ASK { ?s ?p ?o }", sink=lambda chunk: None, format_name="json")
step("first answer from a query worker (waits for its imports)")
store.close()
print(json.dumps(steps))
"""

WORKER_IMPORTS = r"""
import sys, time
start = time.monotonic()
__import__(sys.argv[1])
print(time.monotonic() - start)
"""


def startup_steps(store: Path) -> dict[str, float]:
    """Time the steps of `policykg serve` before uvicorn starts listening, in a fresh process."""
    shutil.rmtree(store.with_name(store.name + ".snapshots"), ignore_errors=True)
    run = subprocess.run(
        [sys.executable, "-c", STARTUP_STEPS, str(time.time()), str(store)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(run.stdout.splitlines()[-1])


def import_seconds(module: str) -> float:
    """Seconds a fresh interpreter takes to import a module (median of 3)."""
    times = []
    for _ in range(3):
        run = subprocess.run(
            [sys.executable, "-c", WORKER_IMPORTS, module], cwd=ROOT, capture_output=True, text=True, check=True
        )
        times.append(float(run.stdout))
    return statistics.median(times)


def summary(samples: list[tuple[float, float, int]]) -> tuple[float, float, float, float, int]:
    service = [s for s, _, _ in samples]
    workers = [w for _, w, _ in samples]
    return (
        statistics.median(service),
        max(service),
        statistics.median(workers),
        max(workers),
        max(n for _, _, n in samples),
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--triples", type=int, default=1_000_000)
    parser.add_argument("--starts", type=int, default=5, help="cold starts to time")
    parser.add_argument("--seconds", type=float, default=20.0, help="time under the query mix")
    parser.add_argument("--clients", type=int, default=8, help="concurrent clients of the query mix")
    parser.add_argument("--idle", type=float, default=5.0, help="seconds sampled at idle")
    parser.add_argument(
        "--slow-seconds",
        type=float,
        default=40.0,
        help="the slow client spreads each whole dump over this many seconds",
    )
    parser.add_argument(
        "--malloc-arena-max", type=int, help="run the service with MALLOC_ARENA_MAX set to this (glibc's malloc arenas)"
    )
    parser.add_argument("--results", action="store_true", help="append the tables to benchmarks/RESULTS.md")
    args = parser.parse_args()

    WORK.mkdir(exist_ok=True)
    log = WORK / "service-memory.log"
    store = build_store(args.triples)
    store_mb = sum(f.stat().st_size for f in store.rglob("*") if f.is_file()) / 1e6
    environment = {"MALLOC_ARENA_MAX": str(args.malloc_arena_max)} if args.malloc_arena_max else {}

    load_averages = [os.getloadavg()[0]]
    starts: list[Service] = []
    for _ in range(args.starts):
        service = Service(store, log, environment)
        service.stop()
        starts.append(service)
        time.sleep(1)
    print("cold starts (s): " + ", ".join(f"{s.ready:.2f}" for s in starts), file=sys.stderr)
    steps = startup_steps(store)
    imports = {module: import_seconds(module) for module in ("policykg.store.querypool", "policykg.cli")}

    load_averages.append(os.getloadavg()[0])
    mix = queries(args.triples)
    service = Service(store, log, environment)
    base = service.url.removesuffix("/sparql")
    sampler = Sampler(service.process.pid)
    sampler.start()
    phases: list[Phase] = []
    try:
        sampler.phase = "idle, after the first query"
        phases.append(Phase(sampler.phase))
        time.sleep(args.idle)

        system = System("policykg", service.url, service.process)
        sampler.phase = f"query mix, {args.clients} clients"
        asyncio.run(drive(system, mix, args.clients, args.seconds))
        phases.append(
            Phase(
                sampler.phase,
                f"{len(system.latencies) / args.seconds:.1f} queries/s, "
                f"p50 {percentile(system.latencies, 0.5):,.0f} ms, {system.errors} errors",
            )
        )

        for name in ("policykg.nq.gz", "policykg.nq"):
            sampler.phase = f"dump {name}, fast client"
            size, seconds = read_dump(f"{base}/dumps/{name}", None)
            phases.append(
                Phase(sampler.phase, f"{size / 1e6:,.1f} MB in {seconds:.1f} s ({size / 1e6 / seconds:,.1f} MB/s)")
            )
            sampler.phase = f"dump {name}, slow client"
            slow_size, seconds = read_dump(f"{base}/dumps/{name}", size / args.slow_seconds)
            phases.append(
                Phase(
                    sampler.phase,
                    f"{slow_size / 1e6:,.1f} MB in {seconds:.1f} s "
                    f"(read at {size / args.slow_seconds / 1e6:,.2f} MB/s)",
                )
            )

        sampler.phase = "dumps, 4 fast clients at once (2 × .nq, 2 × .nq.gz)"
        started = time.monotonic()
        with ThreadPoolExecutor(4) as clients:
            sizes = list(
                clients.map(
                    lambda name: read_dump(f"{base}/dumps/{name}", None)[0],
                    ["policykg.nq", "policykg.nq", "policykg.nq.gz", "policykg.nq.gz"],
                )
            )
        phases.append(Phase(sampler.phase, f"{sum(sizes) / 1e6:,.1f} MB in {time.monotonic() - started:.1f} s"))

        sampler.phase = "idle, after the dumps"
        phases.append(Phase(sampler.phase))
        time.sleep(args.idle)
    finally:
        sampler.stop()
        service.stop()
    load_averages.append(os.getloadavg()[0])

    ready = [s.ready for s in starts]
    median_start = statistics.median(ready)
    rows = {phase.name: summary(sampler.samples[phase.name]) for phase in phases}
    workers = max(n for *_, n in rows.values())
    dump_peak = max(peak for name, (_, peak, *_) in rows.items() if name.startswith("dump"))
    idle_median = rows[phases[0].name][0]
    settings = (
        f"Machine: {machine()}. `policykg serve` over an on-disk store of the model plus `policykg generate "
        f"--triples {args.triples} --seed 1` ({store_mb:,.0f} MB on disk, in the page cache), query workers at "
        f"their default ({workers}), as a real process on a loopback port. RSS is VmRSS from /proc, sampled every "
        "50 ms; the query workers' is the sum over the service's children started by multiprocessing. Query mix: "
        f"the {len(mix)} queries of sparql_throughput.py, {args.clients} clients for {args.seconds:g} s. The slow "
        f"client spreads each whole dump over {args.slow_seconds:g} s. 1-minute load average before the starts, "
        f"before the memory run and after it: {', '.join(f'{a:.1f}' for a in load_averages)} (other work shares "
        "the machine)."
        + (f" The service ran with MALLOC_ARENA_MAX={args.malloc_arena_max}." if args.malloc_arena_max else "")
    )
    cold = (
        f"Cold start, from starting the process until /sparql answers `ASK {{ ?s ?p ?o }}` ({args.starts} starts): "
        f"median **{median_start:.2f} s** (min {min(ready):.2f}, max {max(ready):.2f}; target < 1.5 s: "
        f"{'met' if median_start < 1.5 else 'not met'})."
    )
    dumped = (
        f"Peak RSS of the service process while streaming the dumps: **{dump_peak:,.0f} MB**, against "
        f"{idle_median:,.0f} MB at idle (target < 300 MB: {'met' if dump_peak < 300 else 'not met'})."
    )
    lines = [
        f"### Service cold start and memory, {args.triples:,}-triple store ({time.strftime('%Y-%m-%d')})",
        "",
        settings,
        "",
        cold,
        "",
        "| phase | service RSS median (MB) | service RSS peak (MB) | query workers RSS median (MB) "
        + "| query workers RSS peak (MB) | what the clients got |",
        "|---|---:|---:|---:|---:|---|",
    ]
    for phase in phases:
        service_median, service_peak, workers_median, workers_peak, _ = rows[phase.name]
        lines.append(
            f"| {phase.name} | {service_median:,.0f} | {service_peak:,.0f} | {workers_median:,.0f} | "
            f"{workers_peak:,.0f} | {phase.note} |"
        )
    lines += [
        "",
        dumped,
        "",
        "Cold start step by step: when `policykg serve` printed each line, in seconds after the process started "
        + "(median over the starts):",
        "",
        "| line | done by then | seconds |",
        "|---|---|---:|",
    ]
    for marker, meaning in START_LINES.items():
        times = [s.marks[marker] for s in starts if marker in s.marks]
        lines.append(f"| `{marker}…` | {meaning} | {statistics.median(times) if times else float('nan'):.2f} |")
    lines += [
        f"| (first answer from /sparql) | a query worker answered `ASK` | {median_start:.2f} |",
        "",
        "Start-up steps, timed in a fresh process doing what `policykg serve` does before uvicorn listens "
        + "(the query workers import in parallel with the steps after they start):",
        "",
        "| step | seconds |",
        "|---|---:|",
    ]
    lines += [f"| {name} | {seconds:.3f} |" for name, seconds in steps.items()]
    lines += [
        f"| (for comparison) a fresh interpreter importing `{module}` | {seconds:.3f} |"
        for module, seconds in imports.items()
    ]
    lines.append("")
    table = "\n".join(lines)
    publish(table, args.results)


if __name__ == "__main__":
    main()

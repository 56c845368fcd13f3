"""The query mix and entries at 1M and 10M triples: policykg over its embedded store, `oxigraph serve` and Virtuoso.

One command:  .venv/bin/python benchmarks/backend_scale.py --sizes 1000000 10000000 --results

For each size and each backend it loads the same generated file (benchmarks/.work/synthetic-N.nq) with
that backend's own bulk loader, adds the model (ontology, shapes, seed), starts `policykg serve` over it
as a real process, checks that the answers agree with the other backends (the rows of each kind's first
query, and for a query cut by LIMIT how many solutions it has before the cut), runs the query mix of
sparql_throughput.py from concurrent clients, then submits entries over
HTTP (POST /entries with the token, one after another: validate + commit as a client sees it), and stops
and removes everything it started. Backends:

- embedded: `policykg load` into a new on-disk store; `policykg serve` with a query worker per core;
- oxigraph serve: `oxigraph load`, then `oxigraph serve --union-default-graph` (the `oxigraph` command of
  the bench and test extras) with policykg's remote backend in front;
- Virtuoso: a new database (Debian's virtuoso-opensource, `virtuoso-t`, set up as the tests set it up),
  its bulk loader (`ld_dir` + `rdf_loader_run`, graphs as the N-Quads name them, then `checkpoint`).

It prints one table (rows: backend × size; ratios to the embedded store at the same size; growth from the
smallest size to the largest), the median latency of each kind of query, and the 1-minute load average at
each measurement (other work may share the machine). With --results it appends them to RESULTS.md.
Every server listens on 127.0.0.1 only.
"""

import argparse
import contextlib
import json
import math
import os
import random
import re
import shutil
import statistics
import subprocess
import sys
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import httpx
from entry_latency import entry
from sparql_throughput import (
    System,
    free_port,
    machine,
    measure,
    percentile,
    publish,
    queries,
    synthetic_data,
    wait_for,
)

from policykg.config import Settings
from policykg.model.files import load_model
from policykg.store import RemoteStore

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
WORK = HERE / ".work"
sys.path.insert(0, str(ROOT / "tests"))
from virtuoso_engine import Virtuoso, isql, start_virtuoso, stop_virtuoso  # the tests' set-up

TOKEN = "benchmark-token-for-writes"
PKG = "https://w3id.org/policykg/ontology#"
BACKENDS = ("embedded", "oxigraph serve", "Virtuoso")
SERVICE = WORK / "backend-service"  # what `policykg serve` keeps of a remote engine: index, sessions, dumps


@dataclass
class Run:
    """One backend at one size: what loading took, what the clients got, and whether the answers were right."""

    backend: str
    triples: int
    load_seconds: float = float("nan")
    system: System | None = None
    entry_seconds: list[float] = field(default_factory=list)
    entry_errors: list[str] = field(default_factory=list)
    entries_stored: str = ""
    load_averages: list[float] = field(default_factory=list)  # 1-minute, before the queries and after the entries
    failure: str = ""
    seconds: float = 30.0  # how long the query mix ran

    @property
    def rate(self) -> float:
        return len(self.system.latencies) / self.seconds if self.system else float("nan")


@dataclass
class Engine:
    """A backend made ready for `policykg serve`: its POLICYKG_ settings, and how to stop and remove it."""

    settings: dict[str, str]
    stop: Callable[[], None] = lambda: None
    folders: tuple[Path, ...] = ()

    def close(self, keep: bool = False) -> None:
        """Stop it, and delete its files unless told to keep them."""
        self.stop()
        for path in () if keep else self.folders:
            remove(path)


def remove(path: Path) -> None:
    """Delete a folder or a file, if there."""
    if path.is_dir():
        shutil.rmtree(path, ignore_errors=True)
    else:
        path.unlink(missing_ok=True)


def timed(command: list[str], log: Path, made: tuple[Path, ...]) -> float:
    """Run a loader to its end (its output to the log), within two hours; return its wall time.

    If it fails, the folders it was making are removed.
    """
    start = time.monotonic()
    try:
        with log.open("ab") as out:
            subprocess.run(command, check=True, cwd=ROOT, stdout=out, stderr=subprocess.STDOUT, timeout=7200)
    except BaseException:
        for folder in made:
            shutil.rmtree(folder, ignore_errors=True)
        raise
    return time.monotonic() - start


def add_model(store: RemoteStore) -> float:
    """Load the ontology, the shapes and the seed into a remote store (as `policykg load` does into a new one)."""
    start = time.monotonic()
    try:
        load_model(store, Settings(store="unused"))
    finally:
        store.close()
    return time.monotonic() - start


def embedded(data: Path, log: Path, workers: int) -> tuple[Engine, float]:
    """`policykg load` into a new on-disk store (it adds the model itself)."""
    store = WORK / "backend-embedded"
    beside = (".snapshots", ".search", ".sessions", ".dumps")  # what the service keeps beside its store
    folders = (store, *(store.with_name(store.name + suffix) for suffix in beside))
    for path in folders:
        remove(path)
    seconds = timed([sys.executable, "-m", "policykg.cli", "load", str(data), "--store", str(store)], log, folders)
    return Engine({"POLICYKG_STORE": str(store), "POLICYKG_QUERY_WORKERS": str(workers)}, folders=folders), seconds


def oxigraph(data: Path, log: Path, query_seconds: int) -> tuple[Engine, float]:
    """`oxigraph load` into a new store, then `oxigraph serve --union-default-graph` over it, then the model."""
    executable = shutil.which("oxigraph", path=str(Path(sys.executable).parent)) or "oxigraph"
    location = WORK / "backend-oxigraph"
    shutil.rmtree(location, ignore_errors=True)
    seconds = timed([executable, "load", "--location", str(location), "--file", str(data)], log, (location,))
    port = free_port()
    with log.open("ab") as out:
        process = subprocess.Popen(
            [
                executable,
                "serve",
                "--location",
                str(location),
                "--bind",
                f"127.0.0.1:{port}",
                "--union-default-graph",
                "--timeout-s",
                str(query_seconds),
            ],
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    engine = Engine({}, lambda: stop(process), (location, SERVICE))
    try:
        url = f"http://127.0.0.1:{port}"
        wait_for(url + "/query", process)
        seconds += add_model(RemoteStore(url + "/query", update_url=url + "/update", store_url=url + "/store"))
    except BaseException:
        engine.close()
        raise
    engine.settings = {
        "POLICYKG_STORE": url + "/query",
        "POLICYKG_REMOTE_UPDATE_URL": url + "/update",
        "POLICYKG_REMOTE_STORE_URL": url + "/store",
    }
    return engine, seconds


def virtuoso(data: Path, log: Path, memory_mb: int, query_seconds: int) -> tuple[Engine, float]:
    """A new Virtuoso database: its bulk loader over the file (graphs as the N-Quads name them), a checkpoint,
    the model."""
    folder = WORK / "backend-virtuoso"
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir()
    process, server = start_virtuoso(
        folder, free_port(), free_port(), dirs_allowed=(data.parent,), memory_mb=memory_mb, query_seconds=query_seconds
    )

    def stop_and_keep_log() -> None:
        stop_virtuoso(process)
        with log.open("ab") as out:  # its own log, kept when its folder is removed
            out.write((folder / "virtuoso.log").read_bytes())

    engine = Engine(server.settings(), stop_and_keep_log, (folder, SERVICE))
    try:
        seconds = bulk_load_virtuoso(server, folder, data) + add_model(server.open())
    except BaseException:
        engine.close()
        raise
    return engine, seconds


def bulk_load_virtuoso(server: Virtuoso, folder: Path, data: Path) -> float:
    """Virtuoso's bulk loader over one N-Quads file, then a checkpoint; raise if it reports an error."""
    # The third argument of ld_dir names the graph for triples; the quads of an N-Quads file keep their own.
    script = folder / "load.sql"
    script.write_text(
        f"ld_dir ('{data.parent}', '{data.name}', 'http://localhost:8000/graph/data');\n"
        "rdf_loader_run ();\ncheckpoint;\n"
    )
    start = time.monotonic()
    isql(server, script, timeout=7200)
    seconds = time.monotonic() - start
    report = folder / "load-report.sql"
    report.write_text("select ll_state, ll_error from DB.DBA.LOAD_LIST where ll_state <> 2 or ll_error is not null;\n")
    said = isql(server, report)
    if "0 Rows." not in said:
        raise RuntimeError(f"Virtuoso's bulk loader did not load {data.name}:\n{said[-1000:]}")
    return seconds


def stop(process: "subprocess.Popen[bytes]") -> None:
    """End a server: asked first, then killed if it has not ended within a minute."""
    process.terminate()
    with contextlib.suppress(subprocess.TimeoutExpired):
        process.wait(timeout=60)
    process.kill()  # nothing happens if it has ended
    process.wait()


def serve(engine: Engine, log: Path, query_seconds: int) -> tuple["subprocess.Popen[bytes]", str]:
    """Start `policykg serve` over the engine on a loopback port, writes allowed with the token."""
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("POLICYKG_")}
    env.update(
        POLICYKG_PORT=str(port),
        POLICYKG_HOST="127.0.0.1",
        POLICYKG_QUERY_TIMEOUT=str(query_seconds),
        POLICYKG_UPDATE_TOKEN=TOKEN,
        **engine.settings,
    )
    if env["POLICYKG_STORE"].startswith("http"):  # its index, sessions and dumps: this run's own, removed after it
        remove(SERVICE)
        SERVICE.mkdir()
        env.update(
            POLICYKG_SEARCH_INDEX=str(SERVICE / "search"),
            POLICYKG_SESSIONS_FILE=str(SERVICE / "sessions"),
            POLICYKG_DUMPS_FOLDER=str(SERVICE / "dumps"),
        )
    with log.open("ab") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "policykg.cli", "serve"], env=env, cwd=ROOT, stdout=out, stderr=subprocess.STDOUT
        )
    url = f"http://127.0.0.1:{port}"
    try:
        wait_for(url + "/sparql", process)
    except BaseException:
        stop(process)
        raise
    return process, url


def submit_entries(run: Run, url: str, count: int) -> None:
    """POST `count` entries one after another (the same ones on every backend); time each as the client sees it."""
    settings = Settings(store="unused")
    rng = random.Random(1)
    concepts = 40 * max(1, run.triples // 20_000)  # the generated concepts, as entry_latency.py picks them
    headers = {"Content-Type": "text/turtle", "Authorization": f"Bearer {TOKEN}"}
    sent: dict[int, int] = {}
    with httpx.Client(timeout=120) as client:
        for number in range(count):
            recommendations = rng.randint(1, 15)
            text = entry(number, recommendations, settings.base_iri, rng, concepts)
            start = time.perf_counter()
            try:
                response = client.post(url + "/entries", content=text.encode(), headers=headers)
            except httpx.HTTPError as error:
                run.entry_errors.append(f"entry {number}: {type(error).__name__}")
                continue
            if response.status_code != 201:
                run.entry_errors.append(f"entry {number}: {response.status_code} {response.text[:300]}")
                continue
            run.entry_seconds.append(time.perf_counter() - start)
            sent[number] = recommendations
        run.entries_stored = stored_recommendations(client, url, settings.base_iri, sent)


def stored_recommendations(client: httpx.Client, url: str, base: str, sent: dict[int, int]) -> str:
    """How many of the accepted entries' recommendations a query finds, against how many were sent."""
    if not sent:
        return "none accepted"
    conferences = " ".join(f"<{base}id/event/bench-conference-{number}>" for number in sent)
    query = (
        f"SELECT (COUNT(DISTINCT ?r) AS ?n) WHERE {{ VALUES ?c {{ {conferences} }} "
        f"?r <{PKG}issuedAt> ?c ; a <{PKG}Recommendation> }}"
    )
    response = client.get(
        url + "/sparql", params={"query": query}, headers={"Accept": "application/sparql-results+json"}
    )
    if response.status_code != 200:
        return f"not checked ({response.status_code})"
    found = int(response.json()["results"]["bindings"][0]["n"]["value"])
    return f"{found} of {sum(sent.values())}"


def measure_backend(run: Run, data: Path, log: Path, args: argparse.Namespace) -> None:
    """Load, serve, check, drive the mix, submit entries; stop and remove everything started."""
    print(f"{run.backend}, {run.triples:,} triples: loading", file=sys.stderr, flush=True)
    if run.backend == "embedded":
        engine, run.load_seconds = embedded(data, log, args.workers)
    elif run.backend == "oxigraph serve":
        engine, run.load_seconds = oxigraph(data, log, args.query_timeout)
    else:
        engine, run.load_seconds = virtuoso(data, log, args.virtuoso_memory_mb, args.query_timeout)
    try:
        process, url = serve(engine, log, args.query_timeout)
        try:
            run.system = System(run.backend, url + "/sparql", process)
            run.load_averages.append(os.getloadavg()[0])
            print(f"  loaded in {run.load_seconds:.1f} s; the query mix", file=sys.stderr, flush=True)
            measure(run.system, queries(run.triples), args.clients, args.seconds)
            print(
                f"  {len(run.system.latencies)} queries, {run.system.errors} errors; entries",
                file=sys.stderr,
                flush=True,
            )
            submit_entries(run, url, args.entries)
            run.load_averages.append(os.getloadavg()[0])
        finally:
            stop(process)
    finally:
        engine.close(args.keep)


def ratio(value: float, reference: float) -> str:
    return f"{value / reference:.2f}×" if reference and math.isfinite(reference) and math.isfinite(value) else "–"


def figures(run: Run) -> dict[str, float]:
    """The figures of a run that the table compares: load, queries/s, latencies, entry latencies."""
    system = run.system or System(run.backend, "")
    return {
        "load": run.load_seconds,
        "rate": run.rate if run.system else float("nan"),
        "p50": percentile(system.latencies, 0.5),
        "p95": percentile(system.latencies, 0.95),
        "entry50": statistics.median(run.entry_seconds) * 1000 if run.entry_seconds else float("nan"),
        "entry95": percentile(run.entry_seconds, 0.95),
    }


def table(runs: list[Run], args: argparse.Namespace) -> str:
    """The results as Markdown: the main table with ratios and growth, latency by kind, answers, load averages."""
    sizes = sorted({r.triples for r in runs})
    reference = {r.triples: figures(r) for r in runs if r.backend == "embedded"}
    lines = [
        f"### Backends at {' and '.join(f'{s:,}' for s in sizes)} triples: query mix and entries over HTTP "
        f"({time.strftime('%Y-%m-%d')})",
        "",
        f"Machine: {machine()}. Each backend loaded the same generated file (`policykg generate --triples N --seed 1`) "
        "with its own bulk loader, plus the model; load time is from the file to a store ready to serve (embedded: "
        "`policykg load`, which compacts at its end; oxigraph: `oxigraph load`, then the model over HTTP; Virtuoso: "
        f"`ld_dir` + `rdf_loader_run` + `checkpoint` with {args.virtuoso_memory_mb:,} MB of buffers, then the model). "
        f"`policykg serve` in front of each (embedded: {args.workers} query workers; remote: its remote backend), as a "
        f"real process on a loopback port, query time limit {args.query_timeout} s in the service and the engine. "
        f"Queries: the {len(queries(sizes[0]))} queries of sparql_throughput.py round-robin from {args.clients} "
        f"clients for {args.seconds:g} s, client timeout {max(args.seconds, 60):g} s (a timeout is an error). "
        f"Entries: {args.entries} entries of 1–15 recommendations, about 20–200 triples (entry_latency.py's), "
        "POST /entries one after another, timed at the client (validation against the stored graph, the atomic "
        "write, and for the embedded store the query workers' new snapshot). Ratios: to the embedded store at the "
        "same size (queries/s: higher is better; entry median: lower is better). Growth rows: the largest size's "
        "figure ÷ the smallest's. Load avg: the machine's 1-minute load average before the queries and after the "
        "entries (other work shares it).",
        "",
        "| backend | triples | load (s) | queries/s | p50 (ms) | p95 (ms) | entry median (ms) | entry p95 (ms) "
        "| errors (queries / entries) | queries/s ÷ embedded | entry median ÷ embedded | load avg |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for backend in BACKENDS:
        measured = [r for r in runs if r.backend == backend]
        for run in measured:
            f, ref = figures(run), reference.get(run.triples, {})
            errors = (
                f"{run.system.errors if run.system else '–'} / {len(run.entry_errors)}"
                if not run.failure
                else f"failed: {run.failure}"
            )
            lines.append(
                f"| {backend} | {run.triples:,} | {f['load']:,.1f} | {f['rate']:,.2f} | {f['p50']:,.0f} | "
                f"{f['p95']:,.0f} | {f['entry50']:,.0f} | {f['entry95']:,.0f} | {errors} | "
                f"{ratio(f['rate'], ref.get('rate', 0))} | {ratio(f['entry50'], ref.get('entry50', 0))} | "
                f"{'–'.join(f'{a:.1f}' for a in run.load_averages)} |"
            )
        if len(measured) > 1:
            first, last = figures(measured[0]), figures(measured[-1])
            cells = " | ".join(ratio(last[k], first[k]) for k in ("load", "rate", "p50", "p95", "entry50", "entry95"))
            lines.append(
                f"| *{backend}: growth* | *{measured[-1].triples // measured[0].triples}× data* | {cells} | | | | |"
            )
    lines += kinds_table(runs) + answers(runs)
    return "\n".join([*lines, ""])


def kinds_table(runs: list[Run]) -> list[str]:
    """Median latency of each kind of query (ms) under the same load, with the errors of each kind."""
    measured = [r for r in runs if r.system]
    kinds = sorted({kind for r in measured for kind in [*r.system.by_kind, *r.system.errors_by_kind]})  # type: ignore[union-attr]
    lines = [
        "",
        "Median latency by kind of query, ms (errors of that kind in brackets: timeouts and failures):",
        "",
        "| kind | " + " | ".join(f"{r.backend} {r.triples / 1e6:g}M" for r in measured) + " |",
        "|---|" + "---:|" * len(measured),
    ]
    for kind in kinds:
        cells = []
        for r in measured:
            errors = r.system.errors_by_kind.get(kind, 0)  # type: ignore[union-attr]
            cells.append(
                f"{percentile(r.system.by_kind.get(kind, []), 0.5):,.0f}"  # type: ignore[union-attr]
                + (f" ({errors})" if errors else "")
            )
        lines.append(f"| {kind} | " + " | ".join(cells) + " |")
    return lines


def answers(runs: list[Run]) -> list[str]:
    """At each size: whether the backends' answers agree, and whether the accepted entries were all stored."""
    lines = [""]
    for size in sorted({r.triples for r in runs}):
        at_size = [r for r in runs if r.triples == size and r.system]
        first = dict(reversed(queries(size)))  # each kind's first query (reversed: the first one wins)
        verdicts = [agreement(kind, first[kind], at_size) for kind in sorted(first)]
        lines.append(
            f"Answers to the first query of each kind at {size:,} triples, compared across the backends "
            f"({', '.join(r.backend for r in at_size)}): " + "; ".join(verdicts) + "."
        )
        stored = ", ".join(f"{r.backend} {r.entries_stored}" for r in at_size)
        lines.append(f"Recommendations of the accepted entries found by a query afterwards: {stored}.")
        errors = [f"{r.backend}: {e}" for r in at_size for e in r.entry_errors[:3]]
        if errors:
            lines.append("Entry errors (first three per backend): " + "; ".join(errors))
        lines.append("")
    return lines


def agreement(kind: str, query: str, runs: list[Run]) -> str:
    """The same rows on every backend; or, under ORDER BY … LIMIT, the same ordering values (ties cut alike); or not."""
    counts = {r.backend: r.system.rows.get(kind, -1) for r in runs}  # type: ignore[union-attr]
    if len(set(counts.values())) > 1 or -1 in counts.values():
        return f"{kind}: **the number of rows differs** {counts} (-1: failed)"
    totals = {r.backend: r.system.totals[kind] for r in runs if kind in r.system.totals}  # type: ignore[union-attr]
    if len(set(totals.values())) > 1 or -1 in totals.values():
        return f"{kind}: **the number of solutions before LIMIT differs** {totals} (-1: failed)"
    count = next(iter(counts.values()), 0)
    before = f" (of {next(iter(totals.values())):,} before LIMIT on each)" if totals else ""
    if len({rows(r, kind, None) for r in runs}) == 1:
        return f"{kind}: the same {count} rows{before}"
    ordered = re.search(r"ORDER BY (.*?)(?: LIMIT|$)", query)
    keys = re.findall(r"\?(\w+)", ordered.group(1)) if ordered and "LIMIT" in query else []
    if keys and len({rows(r, kind, keys) for r in runs}) == 1:
        return (
            f"{kind}: {count} rows each with the same {', '.join('?' + k for k in keys)}, other rows among ties{before}"
        )
    return f"{kind}: {count} rows each, **with different values**"


def rows(run: Run, kind: str, names: list[str] | None) -> tuple[str, ...]:
    """A run's rows for a kind (only the variables named, if any), in a form to compare, sorted."""
    answer = run.system.answers.get(kind, []) if run.system else []
    picked = answer if names is None else [{name: row.get(name) for name in names} for row in answer]
    return tuple(sorted(json.dumps(row, sort_keys=True) for row in picked))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1_000_000], help="triples: generated files to use")
    parser.add_argument("--backends", nargs="+", choices=BACKENDS, default=list(BACKENDS))
    parser.add_argument("--seconds", type=float, default=30.0, help="measuring time of the query mix per run")
    parser.add_argument("--clients", type=int, default=8, help="concurrent clients of the query mix")
    parser.add_argument("--entries", type=int, default=30, help="entries submitted per run")
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 2, help="query workers of the embedded store")
    parser.add_argument("--query-timeout", type=int, default=60, help="query time limit of the service and engines (s)")
    parser.add_argument("--virtuoso-memory-mb", type=int, default=4000, help="Virtuoso's page buffers (MB)")
    parser.add_argument("--keep", action="store_true", help="keep the stores in benchmarks/.work/ afterwards")
    parser.add_argument("--results", action="store_true", help="append the tables to benchmarks/RESULTS.md")
    args = parser.parse_args()

    WORK.mkdir(exist_ok=True)
    log = WORK / "backend-scale.log"
    runs: list[Run] = []
    for size in sorted(args.sizes):
        data = synthetic_data(size)
        for backend in args.backends:
            run = Run(backend, size, seconds=args.seconds)
            try:
                measure_backend(run, data, log, args)
            except (Exception, SystemExit) as error:  # one backend failing loses not the others' figures
                traceback.print_exc()
                run.failure = f"{type(error).__name__}: {str(error).splitlines()[0][:200] if str(error) else ''}"
            runs.append(run)
    publish(table(runs, args), args.results)


if __name__ == "__main__":
    main()

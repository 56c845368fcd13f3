"""Query throughput of policykg next to a raw `oxigraph serve` and rdflib-endpoint, on the same data.

One command:  .venv/bin/python benchmarks/sparql_throughput.py --triples 1000000

It generates a synthetic graph (`policykg generate`), loads it into each system, then runs the same
mix of competency-style queries over HTTP from concurrent clients for a fixed time against each, one
system at a time, and prints throughput and latency percentiles with the ratios to policykg. With
--results it also writes the table to benchmarks/RESULTS.md. Every server listens on 127.0.0.1 only.
"""

import argparse
import asyncio
import json
import os
import platform
import re
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
B = "http://localhost:8000/"
PKG = "https://w3id.org/policykg/ontology#"


def queries(triples: int) -> list[tuple[str, str]]:
    """The query mix: one kind per competency question, plus two analyst queries over everything.

    Parameters are picked from the generated world and spread over it. Some kinds start from one
    resource (selective), others join across the whole graph, as the competency questions do.
    """
    scale = max(1, triples // 20_000)
    prefixes = (
        f"PREFIX pkg: <{PKG}> PREFIX dcterms: <http://purl.org/dc/terms/> "
        "PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#> PREFIX schema: <https://schema.org/> "
        "PREFIX cv: <http://data.europa.eu/m8g/> PREFIX org: <http://www.w3.org/ns/org#> "
        "PREFIX skos: <http://www.w3.org/2004/02/skos/core#> PREFIX prov: <http://www.w3.org/ns/prov#> "
    )
    mix = []
    for i in range(8):
        concept = f"<{B}id/concept/gen-{(i * 7) % 20}>"
        conference = f"<{B}id/event/gen-conference-{i * 13}>"
        org = f"<{B}id/org/gen-{(i * 5) % (60 * scale)}>"
        meeting = f"<{B}id/event/gen-meeting-{i * 13 + 1}>"
        year = 2000 + i % 4
        mix += [
            (
                "1 recommendations-on-concept",
                prefixes + "SELECT DISTINCT ?r ?title WHERE { ?r pkg:concerns/skos:broader* "
                f"{concept} ; dcterms:title ?title }} ORDER BY ?title LIMIT 100",
            ),
            (
                "2 presentations-by-org",
                prefixes + "SELECT DISTINCT ?event ?start WHERE { ?pres pkg:presenter ?person ; "
                f"pkg:presentedAt ?event . ?person org:holds/org:postIn {org} . ?event schema:startDate ?start }} "
                "ORDER BY ?start",
            ),
            (
                "3 representatives-at-meeting",
                prefixes + f"SELECT DISTINCT ?person ?org WHERE {{ {meeting} cv:hasParticipation ?p . "
                "?p cv:hasParticipant ?person ; pkg:onBehalfOf ?org }",
            ),
            (
                "4 instruments-per-recommendation",
                prefixes + f"SELECT DISTINCT ?ordinal ?instrument WHERE {{ ?r pkg:issuedAt {conference} ; "
                "pkg:ordinal ?ordinal ; pkg:concerns ?c . ?instrument a pkg:PolicyInstrument ; skos:broader? ?c } "
                "ORDER BY ?ordinal",
            ),
            (
                "5 fact-provenance",
                prefixes + f"SELECT DISTINCT ?p ?o ?g ?source WHERE {{ GRAPH ?g {{ {conference} ?p ?o }} "
                "?g prov:wasDerivedFrom ?source }",
            ),
            (
                "6 recommendation-trail",
                prefixes + f"SELECT DISTINCT ?ordinal ?status ?date WHERE {{ ?r pkg:issuedAt {conference} ; "
                "pkg:ordinal ?ordinal . ?s pkg:recommendation ?r ; pkg:status ?status ; pkg:statusDate ?date } "
                "ORDER BY ?ordinal ?date",
            ),
            (
                "7 events-timeline",
                prefixes + "SELECT DISTINCT ?e ?label ?start WHERE { ?e schema:startDate ?start ; rdfs:label ?label . "
                f'FILTER (?start >= "{year}-01-01"^^<http://www.w3.org/2001/XMLSchema#date> && '
                f'?start < "{year}-03-01"^^<http://www.w3.org/2001/XMLSchema#date>) }} ORDER BY ?start',
            ),
            (
                "8 presented-recommendations",
                prefixes + "SELECT ?r ?meeting ?date WHERE { ?s pkg:status pkg:statusPresented ; "
                "pkg:recommendation ?r ; pkg:atEvent ?meeting . ?meeting schema:startDate ?date "
                f'FILTER (?date >= "{year}-01-01"^^<http://www.w3.org/2001/XMLSchema#date>) }} ORDER BY ?date LIMIT 50',
            ),
            (
                "9 concept-popularity",
                prefixes + "SELECT ?c (COUNT(DISTINCT ?r) AS ?n) WHERE { ?r pkg:concerns ?c } "
                f"GROUP BY ?c ORDER BY DESC(?n) LIMIT {5 + i}",
            ),
        ]
    return mix


@dataclass
class System:
    """A server under test: how to reach its query endpoint, and the process running it."""

    name: str
    url: str
    process: subprocess.Popen | None = None
    latencies: list[float] = field(default_factory=list)
    by_kind: dict[str, list[float]] = field(default_factory=dict)
    errors: int = 0
    errors_by_kind: dict[str, int] = field(default_factory=dict)
    rows: dict[str, int] = field(default_factory=dict)
    answers: dict[str, list[dict]] = field(default_factory=dict)  # the rows themselves, as SPARQL JSON bindings
    totals: dict[str, int] = field(default_factory=dict)  # of a query with LIMIT: its solutions before the cut


def free_port() -> int:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_for(url: str, process: subprocess.Popen, seconds: float = 900) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"{url}: the server exited with {process.returncode}")
        try:
            httpx.get(url, params={"query": "ASK {}"}, headers={"Accept": "application/sparql-results+json"}, timeout=2)
            return
        except httpx.TransportError:
            time.sleep(0.2)
    raise SystemExit(f"{url} did not answer in {seconds} s")


def run(command: list[str], **kwargs) -> float:
    start = time.monotonic()
    subprocess.run(command, check=True, **kwargs)
    return time.monotonic() - start


def start_policykg(work: Path, data: Path, workers: int) -> tuple[System, float]:
    store = work / "policykg-store"
    shutil.rmtree(store, ignore_errors=True)
    shutil.rmtree(work / "policykg-store.snapshots", ignore_errors=True)
    load = run(
        [sys.executable, "-m", "policykg.cli", "load", str(data), "--store", str(store)],
        cwd=ROOT,
        stderr=subprocess.DEVNULL,
    )
    port = free_port()
    env = {
        **os.environ,
        "POLICYKG_STORE": str(store),
        "POLICYKG_PORT": str(port),
        "POLICYKG_QUERY_WORKERS": str(workers),
        "POLICYKG_QUERY_TIMEOUT": "60",
    }
    process = subprocess.Popen(
        [sys.executable, "-m", "policykg.cli", "serve"],
        env=env,
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    system = System("policykg", f"http://127.0.0.1:{port}/sparql", process)
    wait_for(system.url, process)
    return system, load


def start_oxigraph(work: Path, data: Path) -> tuple[System, float]:
    executable = shutil.which("oxigraph", path=str(Path(sys.executable).parent)) or "oxigraph"
    location = work / "oxigraph-store"
    shutil.rmtree(location, ignore_errors=True)
    load = run([executable, "load", "--location", str(location), "--file", str(data)], stderr=subprocess.DEVNULL)
    port = free_port()
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
            "60",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    system = System("oxigraph serve", f"http://127.0.0.1:{port}/query", process)
    wait_for(system.url, process)
    return system, load


def start_rdflib_endpoint(data: Path) -> tuple[System, float]:
    port = free_port()
    start = time.monotonic()
    process = subprocess.Popen(
        [sys.executable, str(HERE / "rdflib_endpoint_server.py"), str(data), str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    system = System("rdflib-endpoint", f"http://127.0.0.1:{port}/", process)
    wait_for(system.url, process, seconds=3600)
    return system, time.monotonic() - start


async def drive(system: System, mix: list[tuple[str, str]], clients: int, seconds: float) -> None:
    """Send the mix round-robin from `clients` concurrent clients for `seconds`; record latencies."""
    deadline = time.monotonic() + seconds
    counter = iter(range(10**9))
    headers = {"Accept": "application/sparql-results+json"}

    async def client(http: httpx.AsyncClient) -> None:
        while time.monotonic() < deadline:
            name, query = mix[next(counter) % len(mix)]
            started = time.monotonic()
            try:
                response = await http.get(system.url, params={"query": query}, headers=headers)
                if response.status_code != 200:
                    failed(name)
                    continue
                elapsed = time.monotonic() - started
                system.latencies.append(elapsed)
                system.by_kind.setdefault(name, []).append(elapsed)
            except httpx.HTTPError:  # a timeout among them
                failed(name)

    def failed(name: str) -> None:
        system.errors += 1
        system.errors_by_kind[name] = system.errors_by_kind.get(name, 0) + 1

    limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients)
    async with httpx.AsyncClient(timeout=max(seconds, 60), limits=limits) as http:
        await asyncio.gather(*(client(http) for _ in range(clients)))


def synthetic_data(triples: int) -> Path:
    """The generated graph of that size (seed 1) in benchmarks/.work/, made once and kept."""
    work = HERE / ".work"
    work.mkdir(exist_ok=True)
    data = work / f"synthetic-{triples}.nq"
    if not data.exists():
        run(
            [
                sys.executable,
                "-m",
                "policykg.cli",
                "generate",
                "--triples",
                str(triples),
                "--seed",
                "1",
                "--output",
                str(data),
            ],
            cwd=ROOT,
        )
    return data


def measure(system: System, mix: list[tuple[str, str]], clients: int, seconds: float) -> None:
    """Check the answers, warm the system up (not counted), then drive the mix for the given time."""
    check_answers(system, mix)
    asyncio.run(drive(system, mix, min(clients, 8), 3))
    system.latencies.clear()
    system.by_kind.clear()
    system.errors = 0
    system.errors_by_kind.clear()
    asyncio.run(drive(system, mix, clients, seconds))


def publish(table: str, to_results: bool) -> None:
    """Print a section of figures, and add it to benchmarks/RESULTS.md when asked."""
    print(table)
    if to_results:
        append_results(table)


def append_results(table: str) -> None:
    """Add a section to benchmarks/RESULTS.md."""
    results = HERE / "RESULTS.md"
    existing = results.read_text(encoding="utf-8") if results.exists() else "# Benchmark results\n\n"
    results.write_text(existing.rstrip() + "\n\n" + table.rstrip() + "\n", encoding="utf-8")


def check_answers(system: System, mix: list[tuple[str, str]]) -> None:
    """Record the rows each distinct query returns (and how many), to compare the systems' answers; for a query
    cut by LIMIT, also how many solutions it has before the cut (the first rows alone can agree by chance)."""
    accept = {"Accept": "application/sparql-results+json"}
    for name, query in mix[:9]:
        response = httpx.get(system.url, params={"query": query}, headers=accept, timeout=600)
        system.answers[name] = response.json()["results"]["bindings"] if response.status_code == 200 else []
        system.rows[name] = len(system.answers[name]) if response.status_code == 200 else -1
        counting = count_before_limit(query)
        if counting is not None:
            response = httpx.get(system.url, params={"query": counting}, headers=accept, timeout=600)
            found = response.json()["results"]["bindings"] if response.status_code == 200 else []
            system.totals[name] = int(found[0]["solutionsBeforeLimit"]["value"]) if found else -1


def count_before_limit(query: str) -> str | None:
    """The query counting the solutions of a SELECT … LIMIT n before ORDER BY and LIMIT (None: it has no LIMIT)."""
    match = re.search(r"^(.*?)(SELECT .*?)(?: ORDER BY [^{}]*)? LIMIT \d+\s*$", query, re.S)
    if match is None:
        return None
    prologue, select = match.groups()
    return f"{prologue}SELECT (COUNT(*) AS ?solutionsBeforeLimit) WHERE {{ {select} }}"


def percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000


def machine() -> str:
    cpu = "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
        memory = int(Path("/proc/meminfo").read_text().split()[1]) / 1024 / 1024
    except OSError:
        memory = float("nan")
    return (
        f"{cpu}, {os.cpu_count()} cores, {memory:.0f} GiB, {platform.system()} {platform.release()}, "
        f"Python {platform.python_version()}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--triples", type=int, default=1_000_000)
    parser.add_argument("--seconds", type=float, default=30.0, help="measuring time per system")
    parser.add_argument("--clients", type=int, default=8, help="concurrent clients")
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 2, help="policykg query workers")
    parser.add_argument("--skip-rdflib", action="store_true", help="leave rdflib-endpoint out (it is very slow)")
    parser.add_argument("--results", action="store_true", help="append the table to benchmarks/RESULTS.md")
    args = parser.parse_args()

    work = HERE / ".work"
    work.mkdir(exist_ok=True)
    data = synthetic_data(args.triples)
    mix = queries(args.triples)
    starters = [lambda: start_policykg(work, data, args.workers), lambda: start_oxigraph(work, data)]
    if not args.skip_rdflib:
        starters.append(lambda: start_rdflib_endpoint(data))
    systems: list[tuple[System, float]] = []
    for start in starters:
        system, load_seconds = start()
        try:
            measure(system, mix, args.clients, args.seconds)
        finally:
            system.process.terminate()
            system.process.wait(timeout=60)
        systems.append((system, load_seconds))
        print(f"{system.name}: {len(system.latencies)} queries, {system.errors} errors", file=sys.stderr)

    ours = len(systems[0][0].latencies) / args.seconds
    lines = [
        f"### SPARQL query throughput, {args.triples:,} generated triples ({time.strftime('%Y-%m-%d')})",
        "",
        f"Machine: {machine()}. {args.clients} concurrent clients for {args.seconds:g} s per system, "
        f"{len(mix)} queries of 9 kinds (one per competency question, two over everything) sent round-robin; "
        f"policykg with {args.workers} query workers; per-request client timeout 60 s.",
        "",
        "| system | load (s) | queries/s | p50 (ms) | p95 (ms) | p99 (ms) | errors | policykg ÷ system |",
        "|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for system, load_seconds in systems:
        rate = len(system.latencies) / args.seconds
        ratio = ours / rate if rate else float("inf")
        lines.append(
            f"| {system.name} | {load_seconds:.1f} | {rate:,.1f} | {percentile(system.latencies, 0.5):,.1f} | "
            f"{percentile(system.latencies, 0.95):,.1f} | {percentile(system.latencies, 0.99):,.1f} | "
            f"{system.errors} | {ratio:,.2f} |"
        )
    kinds = sorted({kind for system, _ in systems for kind in system.by_kind})
    lines += [
        "",
        "Median latency by kind of query (ms; under the same concurrent load):",
        "",
        "| kind | " + " | ".join(s.name for s, _ in systems) + " |",
        "|---|" + "---:|" * len(systems),
    ]
    for kind in kinds:
        cells = [f"{percentile(s.by_kind.get(kind, []), 0.5):,.1f}" for s, _ in systems]
        lines.append(f"| {kind} | " + " | ".join(cells) + " |")
    lines += [
        "",
        "Rows returned by the first query of each kind (the systems must agree): "
        + json.dumps({s.name: s.rows for s, _ in systems}),
        "",
    ]
    table = "\n".join(lines)
    publish(table, args.results)


if __name__ == "__main__":
    main()

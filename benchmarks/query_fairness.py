"""Latency of simple queries while pathological ones run, and the memory the service holds meanwhile.

One command:  .venv/bin/python benchmarks/query_fairness.py --triples 1000000

It serves a generated graph (and the model) with `policykg serve --workers 2`, a 10 s time limit and a
1 GiB memory limit per query worker. One client sends selective queries (the competency kinds that
start from one resource) one after another; meanwhile 0, 2, 4 or 8 other clients send pathological
queries in a loop (a cross product, unbounded property paths, an ORDER BY over a join of everything, a
regular expression over every pair of literals), each of which the service must stop at a limit. It
reports the simple queries' latency, how the pathological ones ended, and the peak resident memory of
the server and its query workers. With --results it appends the table to RESULTS.md.
"""

import argparse
import os
import shutil
import sys
import threading
import time
from collections import Counter
from pathlib import Path

import httpx
from sparql_throughput import machine, percentile, publish, queries, synthetic_data
from worker_scaling import build_store, serve

HERE = Path(__file__).resolve().parent
SRJ = "application/sparql-results+json"
SIMPLE_KINDS = ("3 representatives-at-meeting", "5 fact-provenance", "6 recommendation-trail")
PATHOLOGICAL = [
    "SELECT (COUNT(*) AS ?n) WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i }",
    "SELECT (COUNT(*) AS ?n) WHERE { ?a (!<urn:x:none>)* ?b }",
    "SELECT ?c ?f WHERE { ?a ?b ?c . ?d ?e ?f } ORDER BY ?c ?f",
    'SELECT (COUNT(*) AS ?n) WHERE { ?a ?b ?c . ?d ?e ?f FILTER(REGEX(CONCAT(STR(?c), STR(?f)), "^(a|aa)*b$")) }',
]
TIMEOUT_SECONDS = 10
MEMORY_LIMIT = 2**30


def tree_memory(server: int) -> tuple[int, int]:
    """Resident bytes of the server process and of its biggest query worker, now."""
    page = os.sysconf("SC_PAGE_SIZE")
    own, biggest = 0, 0
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            resident = int(fields[21]) * page
            if int(entry.name) == server:
                own = resident
            elif int(fields[1]) == server:
                biggest = max(biggest, resident)
        except (OSError, IndexError, ValueError):
            continue
    return own, biggest


def run_setting(url: str, server: int, runaways: int, seconds: float, simple: list[str]) -> dict[str, object]:
    """Drive the simple client for `seconds` while `runaways` clients loop over the pathological queries."""
    stop = threading.Event()
    outcomes: Counter[str] = Counter()
    peaks = [0, 0]

    def runaway(offset: int) -> None:
        number = offset
        with httpx.Client(timeout=TIMEOUT_SECONDS * 6) as client:
            while not stop.is_set():
                query = PATHOLOGICAL[number % len(PATHOLOGICAL)]
                number += 1
                try:
                    response = client.post(url, data={"query": query}, headers={"Accept": SRJ})
                    kind = (
                        response.json().get("type", "").rsplit("/", 1)[-1]
                        if response.status_code != 200
                        else "answered"
                    )
                except (httpx.HTTPError, ValueError) as error:
                    kind = type(error).__name__
                outcomes[kind] += 1

    def watch() -> None:
        while not stop.is_set():
            own, worker = tree_memory(server)
            peaks[0], peaks[1] = max(peaks[0], own), max(peaks[1], worker)
            time.sleep(0.1)

    threads = [threading.Thread(target=runaway, args=(n,)) for n in range(runaways)] + [threading.Thread(target=watch)]
    for thread in threads:
        thread.start()
    time.sleep(1.0 if runaways else 0)  # let the pathological queries take the workers first
    latencies, errors, number = [], 0, 0
    deadline = time.monotonic() + seconds
    with httpx.Client(timeout=TIMEOUT_SECONDS * 6) as client:
        while time.monotonic() < deadline:
            started = time.perf_counter()
            response = client.get(url, params={"query": simple[number % len(simple)]}, headers={"Accept": SRJ})
            number += 1
            if response.status_code == 200:
                latencies.append(time.perf_counter() - started)
            else:
                errors += 1
    stop.set()
    for thread in threads:
        thread.join()
    return {
        "runaways": runaways,
        "latencies": latencies,
        "errors": errors,
        "outcomes": outcomes,
        "server_peak": peaks[0],
        "worker_peak": peaks[1],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--triples", type=int, default=1_000_000)
    parser.add_argument("--seconds", type=float, default=30.0, help="measuring time per setting")
    parser.add_argument("--runaways", type=int, nargs="+", default=[0, 2, 4, 8], help="pathological clients")
    parser.add_argument("--results", action="store_true", help="append the table to benchmarks/RESULTS.md")
    args = parser.parse_args()

    work = HERE / ".work"
    work.mkdir(exist_ok=True)
    store = work / f"fairness-store-{args.triples}"
    built = store.with_name(store.name + ".built")
    if not built.exists():
        shutil.rmtree(store, ignore_errors=True)
        build_store(store, synthetic_data(args.triples))
        built.touch()
    simple = [query for kind, query in queries(args.triples) if kind in SIMPLE_KINDS]
    load = os.getloadavg()[0]
    system = serve(store, 2, timeout=TIMEOUT_SECONDS, memory_limit=MEMORY_LIMIT)
    try:
        measured = [
            run_setting(system.url, system.process.pid, runaways, args.seconds, simple) for runaways in args.runaways
        ]
    finally:
        system.process.terminate()
        system.process.wait(timeout=60)

    lines = [
        f"### Simple queries beside pathological ones, {args.triples:,} generated triples "
        f"({time.strftime('%Y-%m-%d')})",
        "",
        f"Machine: {machine()}; 1-minute load average {load:.1f} before the run (other work shares the machine). "
        f"`policykg serve --workers 2`, time limit {TIMEOUT_SECONDS} s, memory limit {MEMORY_LIMIT // 2**20} MiB per "
        f"query worker. One client sends {len(simple)} selective queries (kinds 3, 5 and 6 of the query mix) one after "
        f"another for {args.seconds:g} s while N clients loop over {len(PATHOLOGICAL)} pathological queries.",
        "",
        "| pathological clients | simple queries | p50 (ms) | p95 (ms) | p99 (ms) | max (ms) | errors | "
        "how the pathological ones ended | server RSS peak (MB) | biggest worker RSS peak (MB) |",
        "|---:|---:|---:|---:|---:|---:|---:|---|---:|---:|",
    ]
    for row in measured:
        latencies = row["latencies"]
        ended = ", ".join(f"{kind} {count}" for kind, count in sorted(row["outcomes"].items())) or "—"
        lines.append(
            f"| {row['runaways']} | {len(latencies)} | {percentile(latencies, 0.5):,.1f} | "
            f"{percentile(latencies, 0.95):,.1f} | {percentile(latencies, 0.99):,.1f} | "
            f"{max(latencies, default=0) * 1000:,.1f} | {row['errors']} | {ended} | "
            f"{row['server_peak'] / 1e6:,.0f} | {row['worker_peak'] / 1e6:,.0f} |"
        )
    table = "\n".join([*lines, ""])
    publish(table, args.results)


if __name__ == "__main__":
    sys.exit(main())

"""Query throughput of `policykg serve --workers N` for N = 1, 2, … on the same store, and how soon readers see a write.

One command:  .venv/bin/python benchmarks/worker_scaling.py --triples 1000000

It loads a generated graph (and the model) into one on-disk store, then serves it with each number of
query worker processes in turn and drives the query mix of sparql_throughput.py from concurrent clients.
With the embedded store, queries run in worker processes over a RocksDB checkpoint that the server
refreshes after every write, before the write returns; the script also measures that refresh: the time
from sending an entry to the moment a query sees it. With --results it appends the table to RESULTS.md.
"""

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import time
import uuid
from pathlib import Path

import httpx
import pyoxigraph as ox
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
from policykg.model.files import data_graph_iri, load_model
from policykg.store import EmbeddedStore

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
B = "http://localhost:8000/"
TOKEN = "benchmark-token-for-writes"


def build_store(store: Path, data: Path) -> None:
    """The model (ontology, shapes, seed) and the generated graph, in one on-disk store, as the service keeps it."""
    settings = Settings(store=str(store))
    target = EmbeddedStore.on_disk(store)
    try:
        load_model(target, settings)
        with data.open("rb") as source:
            target.bulk_load_stream(source, ox.RdfFormat.N_QUADS, settings.base_iri, data_graph_iri(settings))
        target.optimize()
    finally:
        target.close()


def serve(store: Path, workers: int, timeout: float = 60, memory_limit: int | None = None) -> System:
    """Start `policykg serve --workers N` over the store, with writes allowed."""
    port = free_port()
    env = {
        **os.environ,
        "POLICYKG_STORE": str(store),
        "POLICYKG_PORT": str(port),
        "POLICYKG_QUERY_TIMEOUT": f"{timeout:g}",
        "POLICYKG_UPDATE_TOKEN": TOKEN,
    }
    if memory_limit is not None:
        env["POLICYKG_MAX_QUERY_MEMORY_BYTES"] = str(memory_limit)
    process = subprocess.Popen(
        [sys.executable, "-m", "policykg.cli", "serve", "--workers", str(workers)],
        env=env,
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    system = System(f"{workers} worker{'s' if workers != 1 else ''}", f"http://127.0.0.1:{port}/sparql", process)
    wait_for(system.url, process)
    return system


def visibility(system: System, times: int = 10) -> list[float]:
    """Seconds from sending an entry until a query sees it (the write returns after the workers' snapshot)."""
    base = system.url.removesuffix("/sparql")
    delays = []
    for number in range(times):
        iri = f"{B}id/event/visibility-{uuid.uuid4()}"
        entry = (
            f"<{iri}> a <https://w3id.org/policykg/ontology#Conference> ; "
            f'<http://www.w3.org/2000/01/rdf-schema#label> "Visibility {number}"@en ; '
            f'<http://purl.org/dc/terms/title> "Visibility {number}"@en ; '
            f'<https://schema.org/startDate> "2025-01-01"^^<http://www.w3.org/2001/XMLSchema#date> .'
        )
        start = time.perf_counter()
        created = httpx.post(
            base + "/entries",
            content=entry,
            timeout=120,
            headers={"Content-Type": "text/turtle", "Authorization": f"Bearer {TOKEN}"},
        )
        created.raise_for_status()
        while not httpx.get(
            system.url,
            params={"query": f"ASK {{ <{iri}> ?p ?o }}"},
            timeout=60,
            headers={"Accept": "application/sparql-results+json"},
        ).json()["boolean"]:
            time.sleep(0.005)
        delays.append(time.perf_counter() - start)
    return delays


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--triples", type=int, default=1_000_000)
    parser.add_argument("--seconds", type=float, default=30.0, help="measuring time per setting")
    parser.add_argument("--clients", type=int, default=8, help="concurrent clients")
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2], help="the numbers of workers to compare")
    parser.add_argument("--results", action="store_true", help="append the table to benchmarks/RESULTS.md")
    args = parser.parse_args()

    work = HERE / ".work"
    work.mkdir(exist_ok=True)
    data = synthetic_data(args.triples)
    store = work / "scaling-store"
    shutil.rmtree(store, ignore_errors=True)
    build_store(store, data)
    mix = queries(args.triples)
    measured: list[tuple[System, list[float]]] = []
    for workers in args.workers:
        shutil.rmtree(store.with_name(store.name + ".snapshots"), ignore_errors=True)
        system = serve(store, workers)
        try:
            measure(system, mix, args.clients, args.seconds)
            delays = visibility(system)
        finally:
            system.process.terminate()
            system.process.wait(timeout=60)
        measured.append((system, delays))
        print(f"{system.name}: {len(system.latencies)} queries, {system.errors} errors", file=sys.stderr)

    first = len(measured[0][0].latencies) / args.seconds
    lines = [
        f"### Query throughput by number of query workers, {args.triples:,} generated triples "
        f"({time.strftime('%Y-%m-%d')})",
        "",
        f"Machine: {machine()}. `policykg serve --workers N` over one on-disk store; {args.clients} concurrent clients "
        f"for {args.seconds:g} s per setting, the {len(mix)} queries of sparql_throughput.py round-robin. "
        "Write to read: an entry sent over HTTP until an ASK query sees it (10 entries, one after another).",
        "",
        "| workers | queries/s | × 1st setting | p50 (ms) | p95 (ms) | errors | write to read, median (ms) "
        "| max (ms) |",
        "|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for system, delays in measured:
        rate = len(system.latencies) / args.seconds
        lines.append(
            f"| {system.name} | {rate:,.1f} | {rate / first:.2f} | {percentile(system.latencies, 0.5):,.1f} | "
            f"{percentile(system.latencies, 0.95):,.1f} | {system.errors} | "
            f"{statistics.median(delays) * 1000:,.0f} | {max(delays) * 1000:,.0f} |"
        )
    table = "\n".join([*lines, ""])
    publish(table, args.results)


if __name__ == "__main__":
    main()

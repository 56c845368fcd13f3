"""Validate + commit time of typical entries on a large store, next to validating the whole graph with pySHACL.

One command:  .venv/bin/python benchmarks/entry_latency.py --triples 1000000

It loads a generated graph (and the model) into an embedded on-disk store, submits entries of 10 to 200
triples (new conferences with their recommendations, on the generated concepts) through the same code
the service uses, and times each validate + commit. Then it validates the whole store plus one entry
with pySHACL, as a write would have to without incremental validation. With --results it appends the
figures to benchmarks/RESULTS.md.
"""

import argparse
import random
import shutil
import statistics
import time
from pathlib import Path

import pyoxigraph as ox
from sparql_throughput import publish, synthetic_data

from policykg.config import Settings
from policykg.model.files import load_model
from policykg.rdf.input import to_rdflib_graph
from policykg.store import EmbeddedStore
from policykg.validation.shacl import load_model_graph, validate
from policykg.writing.entries import Entries
from policykg.writing.writer import make_writer

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
PKG = "https://w3id.org/policykg/ontology#"


def entry(number: int, recommendations: int, base: str, rng: random.Random, concepts: int) -> str:
    """A new conference with its recommendations and their proposed status: about 8 + 13 per recommendation."""
    conference = f"<{base}id/event/bench-conference-{number}>"
    lines = [
        f"""@prefix pkg: <{PKG}> . @prefix schema: <https://schema.org/> .
@prefix dcterms: <http://purl.org/dc/terms/> .
@prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> . @prefix xsd: <http://www.w3.org/2001/XMLSchema#> .
@prefix prov: <http://www.w3.org/ns/prov#> .
{conference} a pkg:Conference ; rdfs:label "Benchmark conference {number}"@en ;
    dcterms:title "Benchmark conference {number}"@en ; schema:startDate "2025-05-01"^^xsd:date ;
    pkg:organisedBy <{base}id/org/gen-{rng.randrange(60)}> .
<{base}id/source/bench-{number}> a pkg:SourceDocument ; rdfs:label "Source of benchmark conference {number}"@en ."""
    ]
    for ordinal in range(1, recommendations + 1):
        rec = f"<{base}id/recommendation/bench-{number}-{ordinal}>"
        lines.append(f"""{rec} a pkg:Recommendation ; rdfs:label "Recommendation {ordinal}"@en ;
    dcterms:title "Recommendation {ordinal}"@en ; pkg:ordinal {ordinal} ; pkg:fullText "Do it."@en ;
    dcterms:abstract "Do it."@en ; pkg:addressedTo <{base}id/audience/gen-policymakers> ;
    pkg:concerns <{base}id/concept/gen-{rng.randrange(concepts)}> ; pkg:issuedAt {conference} ;
    prov:hadPrimarySource <{base}id/source/bench-{number}> .
<{base}id/status/bench-{number}-{ordinal}> a pkg:StatusRecord ; pkg:recommendation {rec} ;
    pkg:status pkg:statusProposed ; pkg:statusDate "2025-05-01"^^xsd:date ; pkg:atEvent {conference} ;
    prov:wasDerivedFrom <{base}id/source/bench-{number}> .""")
    return "\n".join(lines)


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--triples", type=int, default=1_000_000)
    parser.add_argument("--entries", type=int, default=40)
    parser.add_argument("--results", action="store_true")
    parser.add_argument("--label", default="this revision", help="what the entry figures are of")
    parser.add_argument(
        "--no-whole", action="store_true", help="time the entries only, not the whole-graph pySHACL run beside them"
    )
    parser.add_argument(
        "--whole-timeout",
        type=float,
        default=1800.0,
        help="seconds the whole-graph pySHACL run may take before it is stopped",
    )
    args = parser.parse_args()

    settings = Settings(store="unused")
    work = HERE / ".work"
    work.mkdir(exist_ok=True)
    data = synthetic_data(args.triples)
    location = work / "entry-bench-store"
    shutil.rmtree(location, ignore_errors=True)
    store = EmbeddedStore.on_disk(location)
    load_model(store, settings)
    with data.open("rb") as source:
        store.bulk_load_stream(source, ox.RdfFormat.N_QUADS, settings.base_iri, settings.base_iri + "graph/data")
    entries = Entries(store, make_writer(settings, store), settings)
    agent = settings.base_iri + "id/agent/benchmark"
    rng = random.Random(1)
    concepts = 40 * max(1, args.triples // 20_000)

    timings: list[tuple[int, float]] = []
    for number in range(args.entries):
        text = entry(number, rng.randint(1, 15), settings.base_iri, rng, concepts)
        triples = entries.read(text.encode(), "turtle")
        start = time.perf_counter()
        entries.submit(triples, agent)
        timings.append((len(triples), time.perf_counter() - start))

    seconds = [t for _, t in timings]
    print(f"entries: median {statistics.median(seconds):.3f} s, p95 {percentile(seconds, 0.95):.3f} s", flush=True)
    if args.no_whole:
        store.close()
        sizes = [n for n, _ in timings]
        publish(
            f"| {args.label} | {store_size(args.triples)} | {len(timings)} | {min(sizes)}–{max(sizes)} | "
            f"{statistics.median(seconds) * 1000:.1f} | {percentile(seconds, 0.95) * 1000:.1f} |",
            args.results,
        )
        return
    sample = entry(10_000, 8, settings.base_iri, rng, concepts)
    quads = [q for q in ox.parse(sample.encode(), format=ox.RdfFormat.TURTLE, base_iri=settings.base_iri)]
    shapes = load_model_graph(settings.shapes_dir, settings.base_iri)
    ontology = load_model_graph(settings.ontology_dir, settings.base_iri)
    dumped: list[bytes] = []
    store.dump("nquads", dumped.append)
    store.close()
    stored = list(ox.parse(b"".join(dumped), format=ox.RdfFormat.N_QUADS))
    whole = to_rdflib_graph(stored + quads)  # every stored quad plus the entry, as one graph
    triples = len(whole)
    whole_seconds, conforms = _timed_whole_validation(whole, shapes, ontology, args.whole_timeout)

    sizes = [n for n, _ in timings]
    median, p95 = statistics.median(seconds), percentile(seconds, 0.95)
    lines = [
        f"### Entry validate + commit on a {store_size(args.triples)} store ({time.strftime('%Y-%m-%d')})",
        "",
        f"{len(timings)} entries of {min(sizes)} to {max(sizes)} triples (a conference, its recommendations and their "
        "status), each checked against the stored graph and written, in the service's code, one after another.",
        "",
        "| measure | seconds |",
        "|---|---:|",
        f"| entry validate + commit, median | {median:.3f} |",
        f"| entry validate + commit, p95 | {p95:.3f} |",
        f"| whole graph + one entry with pySHACL (one run, {triples:,} triples) | "
        + (f"{whole_seconds:.1f} |" if conforms is not None else f"> {whole_seconds:.0f} (stopped) |"),
        f"| speed-up of the median over whole-graph validation | {'' if conforms is not None else '> '}"
        f"{whole_seconds / median:,.0f}× |",
        "",
    ]
    table = "\n".join(lines)
    publish(table, args.results)


def _timed_whole_validation(graph, shapes, ontology, limit: float) -> tuple[float, bool | None]:  # type: ignore[no-untyped-def]
    """Validate the whole graph with pySHACL in a child process; stop it at the limit (None: stopped)."""
    import multiprocessing

    context = multiprocessing.get_context("fork")
    outcome = context.Queue()
    start = time.perf_counter()
    child = context.Process(target=lambda: outcome.put(validate(graph, shapes, ontology).conforms))
    child.start()
    child.join(limit)
    if child.is_alive():
        child.kill()
        child.join()
        return time.perf_counter() - start, None
    return time.perf_counter() - start, outcome.get()


def store_size(triples: int) -> str:
    return f"{triples:,}-triple"


if __name__ == "__main__":
    main()

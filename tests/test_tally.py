"""VoID's figures kept from each write (publish/tally.py): after random writes of every kind, equal to a full
recount (publish/statistics.py) of the revision they are published with; in memory and on disk."""

import contextlib
import random
import time
from concurrent.futures import ThreadPoolExecutor

import pyoxigraph as ox
import pytest
import rdflib

from policykg.errors import PolicyKGError
from policykg.model.files import load_model
from policykg.publish.statistics import statistics
from policykg.publish.tally import KeptStatistics
from policykg.store import EmbeddedStore
from policykg.validation.incremental import ChangeValidator
from policykg.writing.writer import Writer

B = "http://localhost:8000/"
EX = "http://example.org/"
PKG = "https://w3id.org/policykg/ontology#"
RDF_TYPE = "http://www.w3.org/1999/02/22-rdf-syntax-ns#type"
# Small pools of terms, so that random writes often share terms: a removal must then keep what others hold.
SUBJECTS = [f"{B}id/aaa-test/{n}" for n in range(5)] + [f"{EX}s{n}" for n in range(3)] + ["http://eurovoc.europa.eu/9"]
PROPERTIES = [RDF_TYPE, f"{EX}p", "http://www.w3.org/2004/02/skos/core#related", "http://purl.org/dc/terms/subject"]
CLASSES = [f"{PKG}Conference", f"{PKG}Recommendation", f"{PKG}PolicyConcept", f"{EX}Thing"]
OBJECTS = [
    *CLASSES,
    "http://eurovoc.europa.eu/2278",  # a link to EuroVoc
    "http://www.wikidata.org/entity/Q1",  # a link to Wikidata
    "http://data.europa.eu/eli/ontology#LegalResource",  # the ELI ontology's term: a vocabulary, not a link
    '"a label"',
    '"1"^^<http://www.w3.org/2001/XMLSchema#integer>',
    *SUBJECTS[:4],
]
GRAPHS = [f"{EX}g{n}" for n in range(4)]


def term(text: str) -> str:
    return text if text.startswith('"') else f"<{text}>"


def random_triples(rng: random.Random, count: int) -> list[tuple[str, str, str]]:
    found = []
    for _ in range(count):
        p = rng.choice(PROPERTIES)
        o = rng.choice(CLASSES) if p == RDF_TYPE else rng.choice(OBJECTS)
        found.append((rng.choice(SUBJECTS), p, o))
    return found


def random_write(writer: Writer, rng: random.Random) -> None:
    """One write of a random kind: SPARQL Update of several forms, Graph Store PUT, POST, DELETE, a group."""
    graph, other = rng.choice(GRAPHS), rng.choice(GRAPHS)
    triples = random_triples(rng, rng.randint(1, 6))
    text = " . ".join(f"<{s}> <{p}> {term(o)}" for s, p, o in triples)
    parsed = [ox.Triple(*(ox.NamedNode(x) for x in (s, p)), _object(o)) for s, p, o in triples]
    match rng.randrange(11):
        case 0 | 1:
            writer.update(f"INSERT DATA {{ GRAPH <{graph}> {{ {text} }} }}", B)
        case 2:
            writer.update(f"DELETE DATA {{ GRAPH <{graph}> {{ {text} }} }}", B)
        case 3:
            writer.update(f"DELETE WHERE {{ GRAPH <{graph}> {{ <{rng.choice(SUBJECTS)}> ?p ?o }} }}", B)
        case 4:  # a graph dropped; or the default graph cleared, a change the writer cannot list
            writer.update(rng.choice([f"DROP SILENT GRAPH <{graph}>", "CLEAR SILENT DEFAULT"]), B)
        case 5:
            writer.update(rng.choice(["COPY", "MOVE", "ADD"]) + f" SILENT <{graph}> TO <{other}>", B)
        case 6:
            writer.replace_graph(graph, parsed)
        case 7:
            writer.extend_graph(graph, parsed)
        case 8:
            with contextlib.suppress(PolicyKGError):  # no such graph
                writer.delete_graph(graph)
        case 9:  # several operations in one request
            writer.update(
                f"INSERT DATA {{ GRAPH <{graph}> {{ {text} }} }} ; "
                f"DELETE WHERE {{ GRAPH <{other}> {{ <{rng.choice(SUBJECTS)}> ?p ?o }} }}",
                B,
            )
        case _:  # writes committed as one group, as entries arriving together are
            writer.grouped(lambda: (writer.extend_graph(graph, parsed[:2]), writer.replace_graph(other, parsed[2:])))


def _object(text: str) -> ox.NamedNode | ox.Literal:
    if not text.startswith('"'):
        return ox.NamedNode(text)
    literal = rdflib.util.from_n3(text)
    return ox.Literal(str(literal), datatype=ox.NamedNode(str(literal.datatype)) if literal.datatype else None)


@pytest.fixture
def executor():
    with ThreadPoolExecutor(4) as pool:
        yield pool


def kept_writer(store: EmbeddedStore, ontology, executor, largest: int = 5000) -> tuple[Writer, KeptStatistics]:
    # No shapes: any write passes, so that random writes reach the figures (the shapes are tested elsewhere).
    writer = Writer(store, ChangeValidator(rdflib.Graph(), ontology), B)
    kept = KeptStatistics(store, writer.frozen, B, executor, largest=largest)
    writer.watch(kept)
    return writer, kept


def current(kept: KeptStatistics, writer: Writer, seconds: float = 60):
    """The figures published once they are of the writer's current revision (a full count may be under way)."""
    deadline = time.monotonic() + seconds
    while (published := kept.latest()) and published[0] != writer.revision:
        assert time.monotonic() < deadline, f"the figures are still of {published[0]}, not {writer.revision}"
        time.sleep(0.01)
    return published[1]


@pytest.mark.parametrize("seed", range(4))
def test_kept_figures_equal_a_full_recount_after_each_random_write_in_memory(settings, ontology, executor, seed):
    store = EmbeddedStore.in_memory()
    load_model(store, settings)
    writer, kept = kept_writer(store, ontology, executor)
    rng = random.Random(85_000 + seed)
    for step in range(60):
        random_write(writer, rng)
        revision, figures = kept.latest()
        assert revision == writer.revision  # published with the write, never lagging
        assert figures == statistics(store, B), f"step {step}"


def test_kept_figures_on_disk_follow_writes_made_while_the_first_count_runs(tmp_path, settings, ontology, executor):
    store = EmbeddedStore.on_disk(tmp_path / "store")
    try:
        load_model(store, settings)
        writer, kept = kept_writer(store, ontology, executor, largest=8)  # larger changes: counted anew
        rng = random.Random(85_100)
        for _ in range(40):  # the first writes come while the start's count runs on a frozen copy
            random_write(writer, rng)
        assert current(kept, writer) == statistics(store, B)
        for _ in range(40):
            random_write(writer, rng)
            assert current(kept, writer) == statistics(store, B)
        assert kept.counts >= 2  # the start's, and some after changes too large or unknown
    finally:
        store.close()


def test_kept_examples_follow_the_first_instance_in_and_out(settings, ontology, executor):
    store = EmbeddedStore.in_memory()
    load_model(store, settings)
    writer, kept = kept_writer(store, ontology, executor)
    before = kept.latest()[1].examples
    first = f"{B}id/aaa-first-event"
    writer.update(f"INSERT DATA {{ GRAPH <{EX}g> {{ <{first}> a <{PKG}Conference> }} }}", B)
    assert kept.latest()[1].examples[0] == first
    writer.update(f"DELETE DATA {{ GRAPH <{EX}g> {{ <{first}> a <{PKG}Conference> }} }}", B)
    assert kept.latest()[1].examples == before == statistics(store, B).examples

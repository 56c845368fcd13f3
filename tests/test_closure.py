"""The closure of skos:broader (skos:broaderTransitive) the writer keeps: always equal to its definition."""

import random
from collections import Counter

import pyoxigraph as ox
import pytest

from policykg.errors import ChangeRejected, ReadOnlyGraph
from policykg.iris import closure_graph_iri
from policykg.model.closure import closure_pairs, write_closure
from policykg.model.files import load_model
from policykg.model.questions import get_question
from policykg.rdf.input import parse_term, to_rdflib_graph
from policykg.store import EmbeddedStore, Store
from policykg.validation.incremental import Change
from policykg.validation.shacl import validate

B = "http://localhost:8000/"
SKOS = "http://www.w3.org/2004/02/skos/core#"
RDFS = "http://www.w3.org/2000/01/rdf-schema#"
CLOSURE = closure_graph_iri(B)
CONCEPTS = B + "graph/concepts"
MUSEUMS, HERITAGE = B + "id/concept/museums", B + "id/concept/cultural-heritage"
EXCERPT = B + "id/source/nemo-news-eg11/excerpt/03"


def kept(store: Store) -> set[tuple[str, str]]:
    """The pairs the closure graph holds."""
    rows = store.select(f"SELECT ?n ?b WHERE {{ GRAPH <{CLOSURE}> {{ ?n <{SKOS}broaderTransitive> ?b }} }}").values()
    return set(rows)  # type: ignore[arg-type]


def defined(store: Store) -> set[tuple[str, str]]:
    """The pairs skos:broader+ reaches over every graph: the closure's definition, as the engine reads it."""
    rows = store.select(f"SELECT DISTINCT ?n ?b WHERE {{ ?n <{SKOS}broader>+ ?b }}").values()
    return set(rows)  # type: ignore[arg-type]


def concepts(store: Store) -> list[str]:
    rows = store.select(f"SELECT DISTINCT ?c WHERE {{ GRAPH <{CONCEPTS}> {{ ?c a ?kind }} }} ORDER BY ?c").values()
    return [c for (c,) in rows if c and "/id/concept/" in c]


def answers(store: Store, name: str, concept: str, path: str) -> list[tuple[str | None, ...]]:
    """A competency question's rows about a concept, with its path to narrower concepts written as given."""
    question = get_question(name)
    sparql = question.sparql.replace("skos:broaderTransitive?", path)
    terms = {key: parse_term(value, B) for key, value in question.params.items()}
    if "concept" in terms:
        terms["concept"] = ox.NamedNode(concept)
    return store.select(sparql, base_iri=B, bindings=terms).values()


def test_pairs_follow_chains_and_a_concept_in_a_cycle_reaches_itself():
    a, b, c, d = (ox.NamedNode(f"http://example.org/{x}") for x in "abcd")
    assert closure_pairs([(a, b), (b, c)]) == {(a, b), (a, c), (b, c)}
    assert closure_pairs([(a, b), (b, a), (c, d)]) == {(a, b), (a, a), (b, a), (b, b), (c, d)}
    assert closure_pairs([]) == set()


def test_the_seed_closure_is_its_definition_and_conforms_to_the_shapes(writer, store, seed_graph, shapes, ontology):
    assert (
        kept(store)
        == defined(store)
        == {
            (B + "id/concept/ai-regulatory-framework", B + "id/concept/artificial-intelligence"),
            (B + "id/concept/ai-act", B + "id/concept/ai-regulatory-framework"),
            (B + "id/concept/ai-act", B + "id/concept/artificial-intelligence"),
        }
    )
    about = store.select(
        f"SELECT ?kind ?source WHERE {{ GRAPH <{CLOSURE}> {{ <{CLOSURE}> a ?kind ; "
        "<http://www.w3.org/ns/prov#wasDerivedFrom> ?source } }"
    ).values()
    assert {kind for kind, _ in about} == {"https://w3id.org/policykg/ontology#InferredAssertion"}
    assert {source for _, source in about} == {
        B + f"id/source/nemo-news-eg11/excerpt/{n:02}" for n in (3, 4, 6, 8, 10, 12)
    }  # the sources of the concepts' graph, which states every skos:broader of the seed
    report = validate(seed_graph + to_rdflib_graph(store.graph_quads(CLOSURE)), shapes, ontology)
    assert report.conforms, [r.message for r in report.results]


def test_the_closure_equals_its_definition_after_random_writes_and_retractions(writer, store):
    rng = random.Random(18)
    names = concepts(store)
    accepted: Counter[str] = Counter()
    added: list[tuple[ox.Quad, ...]] = []  # what each added change wrote, for its retraction
    for step in range(80):
        kind = rng.choice(["insert", "delete", "put", "drop", "multi", "add", "retract"])
        narrower, broader = rng.sample(names, 2)
        edge = f"<{narrower}> <{SKOS}broader> <{broader}>"
        graph = f"{B}graph/test-closure-{step}"
        try:
            if kind == "insert":
                writer.update(f"INSERT DATA {{ GRAPH <{CONCEPTS}> {{ {edge} }} }}", B)
            elif kind == "delete":
                stated = store.select(f"SELECT ?n ?b WHERE {{ GRAPH ?g {{ ?n <{SKOS}broader> ?b }} }}").values()
                if not stated:
                    continue
                n, b = rng.choice(sorted(stated))  # type: ignore[type-var]
                writer.update(f"DELETE WHERE {{ GRAPH ?g {{ <{n}> <{SKOS}broader> <{b}> }} }}", B)
            elif kind == "put":  # a graph of its own (Graph Store PUT) stating one more skos:broader
                writer.replace_graph(graph, list(ox.parse(own_graph(graph, edge), format=ox.RdfFormat.TURTLE)))
            elif kind == "drop":
                graphs = [g for g in store.graph_names() if "/graph/test-closure-" in g]
                if not graphs:
                    continue
                writer.delete_graph(rng.choice(graphs))
            elif kind == "add":  # as an entry is submitted
                quads = tuple(ox.parse(f"<{graph}> {{ {own_graph(graph, edge)} }}", format=ox.RdfFormat.TRIG))
                writer.add(Change(added=quads))
                added.append(quads)
            elif kind == "retract":  # as an entry is retracted: its quads removed in one change
                if not added:
                    continue
                writer.write(Change(removed=added.pop(rng.randrange(len(added)))))
            else:
                other, top = rng.sample(names, 2)
                writer.update(
                    f"DELETE WHERE {{ GRAPH <{CONCEPTS}> {{ <{narrower}> <{SKOS}broader> ?any }} }} ; "
                    f"INSERT DATA {{ GRAPH <{CONCEPTS}> {{ <{other}> <{SKOS}broader> <{top}> }} }}",
                    B,
                )
            accepted[kind] += 1
        except ChangeRejected:
            pass  # a write the shapes refuse changes nothing, the closure included
        assert kept(store) == defined(store), f"step {step}: {kind}"
    assert set(accepted) == {"insert", "delete", "put", "drop", "multi", "add", "retract"}, accepted
    assert len(kept(store)) > 3  # the walk made the closure grow beyond the seed's


def own_graph(graph: str, edge: str) -> str:
    return (
        f'<{graph}> a <https://w3id.org/policykg/ontology#StatedAssertion> ; <{RDFS}label> "a test graph" ; '
        f"<http://www.w3.org/ns/prov#wasDerivedFrom> <{EXCERPT}> . {edge} ."
    )


def test_questions_read_from_the_closure_answer_as_the_path_does(writer, store):
    rng = random.Random(7)
    names = concepts(store)
    space = B + "id/concept/common-european-data-space-for-cultural-heritage"
    for step in range(16):
        narrower, broader = rng.sample(names, 2)
        broader = space if step % 4 == 0 else broader  # some narrower concepts of the data space's question
        try:
            writer.update(f"INSERT DATA {{ GRAPH <{CONCEPTS}> {{ <{narrower}> <{SKOS}broader> <{broader}> }} }}", B)
        except ChangeRejected:
            continue
    assert len(kept(store)) > 6
    compared = 0
    for concept in names:
        closure = answers(store, "recommendations-asking-for", concept, "skos:broaderTransitive?")
        assert closure == answers(store, "recommendations-asking-for", concept, "skos:broader*"), concept
        compared += bool(closure)
    assert compared >= 2  # some concepts had answers to compare
    on_space = answers(store, "recommendations-on-data-space", space, "skos:broaderTransitive?")
    assert on_space == answers(store, "recommendations-on-data-space", space, "skos:broader*")
    assert len(on_space) > 1  # more than the seed's one, through the narrower concepts added


@pytest.mark.parametrize(
    "update",
    [
        f"INSERT DATA {{ GRAPH <{CLOSURE}> {{ <{MUSEUMS}> <{SKOS}broaderTransitive> <{B}id/concept/copyright> }} }}",
        f"DROP GRAPH <{CLOSURE}>",
        f"DELETE WHERE {{ GRAPH <{CLOSURE}> {{ ?n <{SKOS}broaderTransitive> ?b }} }}",
    ],
)
def test_a_write_to_the_closure_itself_is_refused_and_changes_nothing(writer, store, update):
    before = kept(store)
    with pytest.raises(ReadOnlyGraph, match="closure of skos:broader"):
        writer.update(update, B)
    assert kept(store) == before
    with pytest.raises(ReadOnlyGraph):
        writer.delete_graph(CLOSURE)
    assert kept(store) == before


def test_a_start_mends_a_closure_a_bulk_load_or_a_crash_left_behind(writer, store):
    revision = writer.revision
    writer.keep_closure()
    assert writer.revision == revision  # nothing to mend: no write, the same revision
    store.update(f"DROP GRAPH <{CLOSURE}>")  # as a crash between a write and its closure would leave it
    store.update(f"INSERT DATA {{ GRAPH <{CONCEPTS}> {{ <{MUSEUMS}> <{SKOS}broader> <{HERITAGE}> }} }}")
    assert kept(store) == set()
    writer.keep_closure()
    assert writer.revision != revision
    assert kept(store) == defined(store)
    assert (MUSEUMS, HERITAGE) in kept(store)


def test_the_models_load_writes_the_closure_and_write_closure_mends_it(writer, store, settings):
    loaded = EmbeddedStore.in_memory()
    load_model(loaded, settings)  # as a first start and `policykg load` do
    assert set(loaded.graph_quads(CLOSURE)) == set(store.graph_quads(CLOSURE)) != set()
    loaded.update(f"DROP GRAPH <{CLOSURE}>")  # as a kill between the model's write and the closure's leaves it
    write_closure(loaded, B)
    assert set(loaded.graph_quads(CLOSURE)) == set(store.graph_quads(CLOSURE))
    count = loaded.count()
    write_closure(loaded, B)  # a second time: nothing to change
    assert loaded.count() == count

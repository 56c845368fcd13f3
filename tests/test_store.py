"""The store: quads land in their graphs, queries see the union, errors are typed."""

import json

import pyoxigraph as ox
import pytest

from policykg.errors import QueryError
from policykg.namespaces import ONTOLOGY_IRI, SHAPES_IRI
from policykg.store import Store

B = "http://localhost:8000/"
P = ox.NamedNode("http://example.org/p")


def quad(s: str, o: str, graph: str | None = None) -> ox.Quad:
    g = ox.NamedNode(graph) if graph else ox.DefaultGraph()
    return ox.Quad(ox.NamedNode(s), P, ox.Literal(o), g)


def test_default_graph_triples_go_into_the_graph_named_on_add():
    store = Store.in_memory()
    store.add([quad("http://example.org/a", "x"), quad("http://example.org/b", "y", "http://example.org/g")], B + "graph/data")
    rows = store.select("SELECT ?g ?o WHERE { GRAPH ?g { ?s ?p ?o } } ORDER BY ?o", B).values()
    assert rows == [(B + "graph/data", "x"), ("http://example.org/g", "y")]


def test_queries_see_the_union_of_named_graphs_as_default_graph():
    store = Store.in_memory()
    store.add([quad("http://example.org/a", "x", "http://example.org/g1"), quad("http://example.org/a", "y", "http://example.org/g2")], B)
    assert store.select("SELECT ?o WHERE { ?s ?p ?o } ORDER BY ?o", B).values() == [("x",), ("y",)]


def test_relative_iris_in_queries_resolve_against_the_base():
    store = Store.in_memory()
    store.add([quad(B + "id/thing/a", "x")], B + "graph/data")
    assert store.ask("ASK { <id/thing/a> ?p ?o }", B)


def test_the_model_is_loaded_into_graphs_named_by_their_iris(seed_store):
    rows = seed_store.select("SELECT DISTINCT ?g WHERE { GRAPH ?g { ?s a ?type } } ORDER BY ?g", B).values()
    names = {row[0] for row in rows}
    assert {ONTOLOGY_IRI, SHAPES_IRI, B + "graph/concepts", B + "graph/seed/attendance"} <= names


def test_serialize_writes_select_results_as_sparql_json(seed_store):
    body = seed_store.serialize("SELECT (COUNT(*) AS ?n) WHERE { ?r a pkg:Recommendation }", B, "json")
    assert json.loads(body)["results"]["bindings"][0]["n"]["value"] == "3"


def test_a_malformed_query_raises_query_error_with_its_position(seed_store):
    with pytest.raises(QueryError, match="error at 1:"):
        seed_store.select("SELECT WHERE", B)


def test_a_graph_answer_in_a_results_format_is_refused(seed_store):
    with pytest.raises(QueryError, match="a graph answer can be written as"):
        seed_store.serialize("CONSTRUCT WHERE { ?s ?p ?o }", B, "csv")

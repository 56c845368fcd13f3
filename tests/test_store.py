"""The store interface, one suite run against each backend: in memory, on disk, and a real `oxigraph serve`."""

import json

import pyoxigraph as ox
import pytest
import rdflib

from policykg.errors import GraphNotFound, QueryError, QueryTimeout, ResultTooLarge, StoreError
from policykg.model import load_model
from policykg.namespaces import ONTOLOGY_IRI, SHAPES_IRI
from policykg.store import Dataset, EmbeddedStore, RemoteStore, Store
from policykg.store.base import Limits

B = "http://localhost:8000/"
P = ox.NamedNode("http://example.org/p")
G1, G2 = "http://example.org/g1", "http://example.org/g2"


def quad(s: str, o: str, graph: str | None = None) -> ox.Quad:
    return ox.Quad(ox.NamedNode(s), P, ox.Literal(o), ox.NamedNode(graph) if graph else ox.DefaultGraph())


def triple(s: str, o: str) -> ox.Triple:
    return ox.Triple(ox.NamedNode(s), P, ox.Literal(o))


@pytest.fixture(params=["memory", "disk", "disk-workers", "remote"])
def store(request, tmp_path, oxigraph_server) -> Store:
    """An empty store of each backend (on disk: queried in this process, or by worker processes)."""
    if request.param == "memory":
        backend: Store = EmbeddedStore.in_memory()
    elif request.param == "disk":
        backend = EmbeddedStore.on_disk(tmp_path / "store")
    elif request.param == "disk-workers":
        backend = EmbeddedStore.on_disk(tmp_path / "store", query_workers=2)
    else:
        backend = RemoteStore(oxigraph_server + "/query", update_url=oxigraph_server + "/update",
                              store_url=oxigraph_server + "/store")
        backend.update("DROP SILENT ALL")
    yield backend
    backend.close()


def answer(store: Store, sparql: str, format_name: str = "json", **kwargs) -> bytes:
    chunks: list[bytes] = []
    store.query(sparql, sink=chunks.append, format_name=format_name, **kwargs)
    return b"".join(chunks)


def test_default_graph_triples_go_into_the_graph_named_on_add(store):
    store.add([quad("http://example.org/a", "x"), quad("http://example.org/b", "y", G2)], G1)
    rows = store.select("SELECT ?g ?o WHERE { GRAPH ?g { ?s ?p ?o } } ORDER BY ?o").values()
    assert rows == [(G1, "x"), (G2, "y")]


def test_queries_see_the_union_of_named_graphs_as_default_graph(store):
    store.add([quad("http://example.org/a", "x", G1), quad("http://example.org/a", "y", G2)], B)
    assert store.select("SELECT ?o WHERE { ?s ?p ?o } ORDER BY ?o").values() == [("x",), ("y",)]


def test_default_graph_uri_restricts_the_default_graph(store):
    store.add([quad("http://example.org/a", "x", G1), quad("http://example.org/a", "y", G2)], B)
    body = answer(store, "SELECT ?o WHERE { ?s ?p ?o }", dataset=Dataset(default_graphs=(G2,)))
    assert [b["o"]["value"] for b in json.loads(body)["results"]["bindings"]] == ["y"]


def test_named_graph_uri_restricts_the_graphs_reached_by_graph(store):
    store.add([quad("http://example.org/a", "x", G1), quad("http://example.org/a", "y", G2)], B)
    body = answer(store, "SELECT ?g WHERE { GRAPH ?g { ?s ?p ?o } }", dataset=Dataset(named_graphs=(G1,)))
    assert [b["g"]["value"] for b in json.loads(body)["results"]["bindings"]] == [G1]


def test_relative_iris_in_queries_resolve_against_the_base(store):
    store.add([quad(B + "id/thing/a", "x")], B + "graph/data")
    assert store.ask("ASK { <id/thing/a> ?p ?o }", base_iri=B)


@pytest.mark.parametrize(("format_name", "check"), [
    ("csv", lambda body: body.decode().splitlines() == ["o", "x"]),
    ("tsv", lambda body: body.decode().splitlines() == ["?o", '"x"']),
    ("xml", lambda body: b"<literal>x</literal>" in body),
])
def test_select_answers_in_each_results_syntax(store, format_name, check):
    store.add([quad("http://example.org/a", "x", G1)], B)
    assert check(answer(store, "SELECT ?o WHERE { ?s ?p ?o }", format_name))


def test_construct_answers_as_turtle(store):
    store.add([quad("http://example.org/a", "x", G1)], B)
    graph = rdflib.Graph().parse(data=answer(store, "CONSTRUCT WHERE { ?s ?p ?o }", "turtle"), format="turtle")
    assert set(graph) == {(rdflib.URIRef("http://example.org/a"), rdflib.URIRef(P.value), rdflib.Literal("x"))}


def test_a_malformed_query_raises_query_error(store):
    with pytest.raises(QueryError):
        store.select("SELECT WHERE")


def test_a_failing_update_writes_nothing(store):
    store.add([quad("http://example.org/a", "x", G1)], B)
    # Oxigraph in process calls this a request error; oxigraph serve answers 500 (a store error).
    with pytest.raises((QueryError, StoreError)):
        store.update(f"INSERT DATA {{ GRAPH <{G1}> {{ <http://example.org/b> <http://example.org/p> 'y' }} }} ; DROP GRAPH <http://example.org/none>")
    assert store.select("SELECT ?s WHERE { ?s ?p ?o }").values() == [("http://example.org/a",)]


def test_graphs_are_listed_replaced_extended_and_deleted(store):
    store.add([quad("http://example.org/a", "x", G1)], B)
    assert store.graph_names() == [G1]
    assert store.replace_graph(G2, [triple("http://example.org/b", "y")]) is False
    assert store.extend_graph(G2, [triple("http://example.org/c", "z")]) is True
    assert store.replace_graph(G1, [triple("http://example.org/d", "w")]) is True
    rows = store.select("SELECT ?g ?o WHERE { GRAPH ?g { ?s ?p ?o } } ORDER BY ?g ?o").values()
    assert rows == [(G1, "w"), (G2, "y"), (G2, "z")]
    store.delete_graph(G1)
    assert store.graph_names() == [G2]
    with pytest.raises(GraphNotFound):
        store.delete_graph(G1)


def test_write_graph_sends_one_graph_and_refuses_a_missing_one(store):
    store.add([quad("http://example.org/a", "x", G1), quad("http://example.org/b", "y", G2)], B)
    chunks: list[bytes] = []
    store.write_graph(G1, "ntriples", chunks.append)
    assert b"".join(chunks).decode().strip() == '<http://example.org/a> <http://example.org/p> "x" .'
    with pytest.raises(GraphNotFound):
        store.write_graph("http://example.org/none", "turtle", chunks.append)


def test_dump_round_trips_every_quad(store):
    quads = [quad("http://example.org/a", "x", G1), quad("http://example.org/b", "y", G2)]
    store.add(quads, B)
    chunks: list[bytes] = []
    store.dump("nquads", chunks.append)
    assert set(ox.parse(b"".join(chunks), format=ox.RdfFormat.N_QUADS)) == set(quads)
    assert store.count() == 2


def test_an_answer_past_the_size_limit_is_cut_off(store):
    store.add([quad(f"http://example.org/s{i}", "x" * 100, G1) for i in range(2000)], B)
    with pytest.raises(ResultTooLarge):
        answer(store, "SELECT * WHERE { ?s ?p ?o }", limits=Limits(None, 10_000))


def test_a_long_query_is_stopped_at_its_deadline(store):
    store.add([quad(f"http://example.org/s{i}", str(i), G1) for i in range(400)], B)
    with pytest.raises(QueryTimeout):
        answer(store, "SELECT * WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i }", limits=Limits(0.5, None))


def test_the_model_is_loaded_into_graphs_named_by_their_iris(seed_store):
    names = set(seed_store.graph_names())
    assert {ONTOLOGY_IRI, SHAPES_IRI, B + "graph/concepts", B + "graph/seed/attendance"} <= names


def test_the_whole_model_loads_into_a_remote_store(oxigraph_server, settings):
    remote = RemoteStore(oxigraph_server + "/query", update_url=oxigraph_server + "/update",
                         store_url=oxigraph_server + "/store")
    remote.update("DROP SILENT ALL")
    load_model(remote, settings)
    rows = remote.select("SELECT (COUNT(DISTINCT ?r) AS ?n) WHERE { ?r a <https://w3id.org/policykg/ontology#Recommendation> }")
    assert rows.values() == [("3",)]
    remote.close()


def test_a_worker_stuck_in_an_aggregate_is_killed_and_replaced(tmp_path):
    # COUNT over a cross product writes nothing until it is done: only killing its process stops it.
    store = EmbeddedStore.on_disk(tmp_path / "store", query_workers=1)
    store.add([quad(f"http://example.org/s{i}", str(i), G1) for i in range(500)], B)
    with pytest.raises(QueryTimeout):
        answer(store, "SELECT (COUNT(*) AS ?n) WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i }", limits=Limits(0.5, None))
    # The single worker was replaced: the next query is answered, from a fresh process.
    body = answer(store, "SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }", limits=Limits(30, None))
    assert json.loads(body)["results"]["bindings"][0]["n"]["value"] == "500"
    store.close()


def test_workers_see_a_write_as_soon_as_it_returns(tmp_path):
    store = EmbeddedStore.on_disk(tmp_path / "store", query_workers=2)
    for i in range(5):
        store.extend_graph(G1, [triple(f"http://example.org/s{i}", str(i))])
        body = answer(store, "SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }")
        assert json.loads(body)["results"]["bindings"][0]["n"]["value"] == str(i + 1)
    store.close()


def test_named_graph_uri_alone_leaves_the_default_graph_empty(store):
    # SPARQL 1.1 Protocol §2.1.4: named-graph-uri without default-graph-uri, like FROM NAMED without FROM.
    store.add([quad("http://example.org/a", "x", G1), quad("http://example.org/b", "y", G2)], B)
    body = answer(store, "ASK { ?s ?p ?o }", dataset=Dataset(named_graphs=(G1,)))
    assert json.loads(body)["boolean"] is False

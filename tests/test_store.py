"""The store interface, one suite run against each backend: in memory, on disk, a real `oxigraph serve`, and a real
Virtuoso (the remote backend in its Virtuoso dialect)."""

import json

import httpx
import pyoxigraph as ox
import pytest
import rdflib

from policykg.errors import (
    ConfigError,
    DefaultGraphWrite,
    GraphNotFound,
    QueryError,
    QueryTimeout,
    ReadOnlyGraph,
    ResultTooLarge,
    StoreError,
)
from policykg.model.files import load_model
from policykg.rdf.namespaces import ONTOLOGY_IRI, SHAPES_IRI
from policykg.store import Dataset, EmbeddedStore, RemoteStore, Store
from policykg.store.base import Limits
from policykg.store.virtuoso import VirtuosoStore

B = "http://localhost:8000/"
EX = "http://example.org/"
P = ox.NamedNode(EX + "p")
G1, G2 = "http://example.org/g1", "http://example.org/g2"
XSD = "http://www.w3.org/2001/XMLSchema#"
PKG = "https://w3id.org/policykg/ontology#"


def quad(s: str, o: str, graph: str | None = None) -> ox.Quad:
    return ox.Quad(ox.NamedNode(s), P, ox.Literal(o), ox.NamedNode(graph) if graph else ox.DefaultGraph())


def triple(s: str, o: str) -> ox.Triple:
    return ox.Triple(ox.NamedNode(s), P, ox.Literal(o))


def remote(request, engine: str) -> RemoteStore:
    """An emptied remote store: a real `oxigraph serve` ('remote', 'remote-union': one whose default graph is the
    union), or a real Virtuoso (dialect told by its answers)."""
    if engine == "virtuoso":
        backend = request.getfixturevalue("virtuoso_server").open()  # the server starts only when a test needs it
    else:
        url = request.getfixturevalue("oxigraph_union_server" if engine == "remote-union" else "oxigraph_server")
        backend = RemoteStore(url + "/query", update_url=url + "/update", store_url=url + "/store")
    backend.update("DROP SILENT ALL")
    return backend


@pytest.fixture(params=["memory", "disk", "disk-workers", "remote", "remote-union", "virtuoso"])
def store(request, tmp_path) -> Store:
    """An empty store of each backend (on disk: queried in this process, or by worker processes)."""
    if request.param == "memory":
        backend: Store = EmbeddedStore.in_memory()
    elif request.param == "disk":
        backend = EmbeddedStore.on_disk(tmp_path / "store")
    elif request.param == "disk-workers":
        backend = EmbeddedStore.on_disk(tmp_path / "store", query_workers=2)
    else:
        backend = remote(request, request.param)
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


def test_holds_tells_whether_a_named_graph_has_a_quad_matching_a_pattern(store):
    store.add([quad(EX + "a", "x")], G1)
    a, x, g1, g2 = ox.NamedNode(EX + "a"), ox.Literal("x"), ox.NamedNode(G1), ox.NamedNode(G2)
    found = [(a, None, None, None), (None, None, x, None), (None, P, None, g1), (a, P, x, g1), (None,) * 4]
    assert all(store.holds(pattern) for pattern in found)
    missing = [(ox.NamedNode(EX + "b"), None, None, None), (None, None, ox.Literal("y"), None), (a, P, x, g2)]
    assert not any(store.holds(pattern) for pattern in missing)


def test_find_gives_the_quads_of_named_graphs_matching_a_pattern_up_to_a_limit(store):
    a, b, g1, g2 = ox.NamedNode(EX + "a"), ox.NamedNode(EX + "b"), ox.NamedNode(G1), ox.NamedNode(G2)
    store.add([quad(EX + "a", "x"), ox.Quad(a, P, b, ox.DefaultGraph()), quad(EX + "c", "z")], G1)
    store.add([ox.Quad(a, P, b, g2), quad(EX + "a", "y", G2)], G1)
    key = str  # the order of the quads is the backend's: compare them as sets, and counts as counts
    assert sorted(store.find((a, None, None, None)), key=key) == sorted(
        [quad(EX + "a", "x", G1), ox.Quad(a, P, b, g1), ox.Quad(a, P, b, g2), quad(EX + "a", "y", G2)], key=key
    )
    assert sorted(store.find((None, None, b, None)), key=key) == sorted(
        [ox.Quad(a, P, b, g1), ox.Quad(a, P, b, g2)], key=key
    )
    assert store.find((a, P, b, g2)) == [ox.Quad(a, P, b, g2)]
    assert sorted(store.find((None, None, None, g2)), key=key) == sorted(
        [ox.Quad(a, P, b, g2), quad(EX + "a", "y", G2)], key=key
    )
    assert len(store.find((None, P, None, None), 3)) == 3
    assert set(store.find((a, None, None, None), 2)) < set(store.find((a, None, None, None)))
    assert store.find((b, None, None, None)) == [] and store.find((a, P, b, ox.NamedNode(EX + "none"))) == []
    assert sorted(store.about([a, ox.NamedNode(EX + "c"), b]), key=key) == sorted(
        [*store.find((a, None, None, None)), quad(EX + "c", "z", G1)], key=key
    )
    assert store.about([]) == [] and store.about([b]) == []


def test_find_and_about_leave_out_the_default_graph(tmp_path):
    store = EmbeddedStore.on_disk(tmp_path / "store")  # only the embedded store writes to its default graph
    a = ox.NamedNode(EX + "a")
    store.update(f"INSERT DATA {{ {a} {P} 'default' . GRAPH <{G1}> {{ {a} {P} 'named' }} }}")
    assert store.find((a, None, None, None)) == [quad(EX + "a", "named", G1)] == store.about([a])
    assert store.find((None, None, ox.Literal("default"), None)) == []
    store.close()


def test_mentions_finds_an_iri_as_subject_object_or_graph_name(store):
    a, b, g1 = ox.NamedNode(EX + "a"), ox.NamedNode(EX + "b"), ox.NamedNode(G1)
    store.add([ox.Quad(a, P, b, ox.DefaultGraph())], G1)
    assert store.mentions(a) and store.mentions(b) and store.mentions(g1)
    assert not store.mentions(ox.NamedNode(EX + "c"))


def test_a_pattern_sent_as_sparql_refuses_what_a_query_cannot_name(request):
    backend = remote(request, "remote")
    blank, triple = ox.BlankNode("b"), ox.Triple(ox.NamedNode(EX + "a"), P, ox.Literal("x"))
    for pattern in [(blank, None, None, None), (triple, None, None, None), (None, None, None, ox.DefaultGraph())]:
        with pytest.raises(TypeError, match="IRIs and literals only"):
            backend.find(pattern)
        with pytest.raises(TypeError, match="IRIs and literals only"):
            backend.holds(pattern)
    backend.close()


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


@pytest.mark.parametrize(
    ("format_name", "check"),
    [
        ("csv", lambda body: body.decode().splitlines() == ["o", "x"]),
        ("tsv", lambda body: body.decode().splitlines() == ["?o", '"x"']),
        ("xml", lambda body: b"<literal>x</literal>" in body),
    ],
)
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
        store.update(
            f"INSERT DATA {{ GRAPH <{G1}> {{ <http://example.org/b> <http://example.org/p> 'y' }} }} ; DROP GRAPH <http://example.org/none>"
        )
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


def test_count_and_the_default_graph_hold_each_quad_once(store):
    store.add([quad(EX + "a", "1", EX + "g1"), quad(EX + "b", "2", EX + "g2")], EX + "g1")
    try:
        store.replace_graph(None, [triple(EX + "c", "3")])
        own_default = {triple(EX + "c", "3")}
    except DefaultGraphWrite:  # Virtuoso keeps no default graph of its own
        own_default = set()
    assert store.count() == 2 + len(own_default)
    chunks: list[bytes] = []
    store.write_graph(None, "ntriples", chunks.append)
    assert {q.triple for q in ox.parse(b"".join(chunks), format=ox.RdfFormat.N_TRIPLES)} == own_default


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


@pytest.mark.parametrize("engine", ["remote", "virtuoso"])
def test_the_whole_model_loads_into_a_remote_store(request, engine, settings, seed_store):
    backend = remote(request, engine)
    load_model(backend, settings)
    recommendations = "SELECT (COUNT(DISTINCT ?r) AS ?n) WHERE { ?r a pkg:Recommendation }"
    assert backend.select(recommendations, prefixes={"pkg": PKG}).values() == [("3",)]
    # Every quad arrives, the shapes' blank nodes still linking their parts.
    assert backend.count() == seed_store.count() and backend.graph_names() == seed_store.graph_names()
    listed = (
        "SELECT ?shape ?class WHERE { ?shape sh:or ?list . ?list rdf:first ?first . ?first sh:class ?class } "
        "ORDER BY ?shape ?class"
    )
    prefixes = {"sh": "http://www.w3.org/ns/shacl#", "rdf": "http://www.w3.org/1999/02/22-rdf-syntax-ns#"}
    expected = seed_store.select(listed, prefixes=prefixes).values()
    assert backend.select(listed, prefixes=prefixes).values() == expected != []
    backend.close()


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


def typed(value: str, datatype: str) -> ox.Literal:
    return ox.Literal(value, datatype=ox.NamedNode(datatype if ":" in datatype else XSD + datatype))


LITERALS = [
    ox.Literal("chat", language="en-gb"),
    ox.Literal('text with "quotes",\na new line and 😀'),
    typed("2024-04-09", "date"),
    typed("--04-09", "gMonthDay"),
    typed("2024-04-09T10:00:00.123456Z", "dateTime"),
    typed("11", "integer"),
    typed("1.5", "decimal"),
    typed("true", "boolean"),
    typed("https://example.org/", "anyURI"),
    typed("x", "http://example.org/dt"),
]


def test_literals_keep_their_language_and_datatype(store):
    # Canonical forms only: Virtuoso stores numbers as values ("01" comes back as "1").
    store.add([ox.Quad(ox.NamedNode("http://example.org/a"), P, literal, ox.NamedNode(G1)) for literal in LITERALS], B)
    assert {row[0] for row in store.select("SELECT ?o WHERE { ?s ?p ?o }").rows} == set(LITERALS)
    for format_name, syntax in (("json", ox.QueryResultsFormat.JSON), ("xml", ox.QueryResultsFormat.XML)):
        body = answer(store, "SELECT ?o WHERE { ?s ?p ?o }", format_name)
        assert {solution["o"] for solution in ox.parse_query_results(body, syntax)} == set(LITERALS)
    chunks: list[bytes] = []
    store.dump("nquads", chunks.append)
    assert {q.object for q in ox.parse(b"".join(chunks), format=ox.RdfFormat.N_QUADS)} == set(LITERALS)


def test_blank_nodes_keep_linking_what_they_link(store):
    node = ox.BlankNode()
    store.add(
        [
            ox.Quad(ox.NamedNode("http://example.org/a"), P, node, ox.NamedNode(G1)),
            ox.Quad(node, P, ox.Literal("inside"), ox.NamedNode(G1)),
        ],
        B,
    )
    rows = store.select(f"SELECT ?o WHERE {{ <http://example.org/a> {P} ?b . ?b {P} ?o }}")
    assert rows.values() == [("inside",)]
    graph = rdflib.Graph().parse(data=answer(store, "CONSTRUCT WHERE { ?s ?p ?o }", "turtle"), format="turtle")
    assert len(graph) == 2 and len({o for o in graph.objects() if isinstance(o, rdflib.BNode)}) == 1


def test_a_change_that_deletes_and_inserts_is_one_update(store):
    store.add([quad("http://example.org/a", "old", G1)], B)
    store.update(
        f"DELETE DATA {{ GRAPH <{G1}> {{ <http://example.org/a> <{P.value}> 'old' }} }} ;\n"
        f"INSERT DATA {{ GRAPH <{G1}> {{ <http://example.org/a> <{P.value}> 'new' }} }}"
    )
    assert store.select("SELECT ?o WHERE { ?s ?p ?o }").values() == [("new",)]


def test_drop_graph_removes_a_graph_inserted_by_data_and_refuses_a_missing_one(store):
    store.update(f"INSERT DATA {{ GRAPH <{G1}> {{ <id/a> <{P.value}> 'x' }} }}", base_iri=B)
    assert store.ask(f"ASK {{ GRAPH <{G1}> {{ <{B}id/a> ?p ?o }} }}")
    store.update(f"DROP GRAPH <{G1}>")
    assert store.graph_names() == [] and store.count() == 0
    with pytest.raises((QueryError, StoreError)):
        store.update(f"DROP GRAPH <{G1}>")


def test_select_binds_variables(store):
    store.add([quad("http://example.org/a", "x", G1), quad("http://example.org/b", "y", G1)], B)
    rows = store.select("SELECT ?s ?o WHERE { ?s ?p ?o }", bindings={"s": ox.NamedNode("http://example.org/b")})
    assert rows.values() == [("http://example.org/b", "y")]


def test_virtuoso_shows_and_gives_up_none_of_its_own_graphs(request):
    backend = remote(request, "virtuoso")
    assert isinstance(backend, VirtuosoStore)
    assert (backend.count(), backend.graph_names(), backend.ask("ASK { ?s ?p ?o }")) == (0, [], False)
    with pytest.raises(ReadOnlyGraph):
        backend.update("DROP SILENT GRAPH <http://www.openlinksw.com/schemas/virtrdf#>")
    backend.close()
    with pytest.raises(ConfigError, match="union"):  # its default graph is always the union of all graphs
        request.getfixturevalue("virtuoso_server").open(union_default_graph=False)


def test_virtuoso_gets_an_entry_and_a_change_each_as_one_request(request):
    # Virtuoso commits each operation of a request on its own: one request of one operation is one transaction.
    backend = remote(request, "virtuoso")
    sent: list[httpx.Request] = []
    backend._client.event_hooks["request"].append(sent.append)
    entry, registry = "http://example.org/entries/1", "http://example.org/graph/entries"
    backend.add(
        [quad(f"http://example.org/s{i}", str(i), entry) for i in range(50)] + [quad(entry, "recorded", registry)], B
    )
    backend.update(
        f"DELETE DATA {{ GRAPH <{entry}> {{ <http://example.org/s1> {P} '1' }} }} ;\n"
        f"INSERT DATA {{ GRAPH <{entry}> {{ <http://example.org/s1> {P} 'one' }} }}"
    )
    writes = [r for r in sent if str(r.url).startswith(backend.update_url)]
    assert len({r.content for r in writes}) == 2 and backend.count() == 51
    backend.close()

"""Writes over HTTP: SPARQL Update and the Graph Store Protocol, with the bearer token, and what they leave."""

import uuid

import httpx
import pyoxigraph as ox
import pytest
import rdflib
from rdflib.plugins.stores.sparqlstore import SPARQLStore
from SPARQLWrapper import JSON, SPARQLWrapper

SRJ = "application/sparql-results+json"
EX = "http://example.org/"


def fresh_graph() -> str:
    return f"{EX}graph/{uuid.uuid4()}"


def count_in(service, graph: str) -> int:
    query = f"SELECT (COUNT(*) AS ?n) WHERE {{ GRAPH <{graph}> {{ ?s ?p ?o }} }}"
    response = httpx.get(service.sparql, params={"query": query}, headers={"Accept": SRJ})
    return int(response.json()["results"]["bindings"][0]["n"]["value"])


def update(service, text: str, headers: dict | None = None, **params) -> httpx.Response:
    return httpx.post(
        service.sparql, data={"update": text, **params}, headers=service.auth() if headers is None else headers
    )


def test_update_with_the_token_writes(service):
    graph = fresh_graph()
    response = update(service, f"INSERT DATA {{ GRAPH <{graph}> {{ <{EX}a> <{EX}p> 'x' }} }}")
    assert response.status_code == 204
    assert count_in(service, graph) == 1


def test_update_by_direct_post(service):
    graph = fresh_graph()
    response = httpx.post(
        service.sparql,
        content=f"INSERT DATA {{ GRAPH <{graph}> {{ <{EX}a> <{EX}p> 1 }} }}",
        headers={**service.auth(), "Content-Type": "application/sparql-update"},
    )
    assert response.status_code == 204 and count_in(service, graph) == 1


@pytest.mark.parametrize("headers", [{}, {"Authorization": "Bearer wrong"}, {"Authorization": "Basic dXNlcjpwdw=="}])
def test_update_without_the_right_token_is_401_and_writes_nothing(service, headers):
    graph = fresh_graph()
    response = update(service, f"INSERT DATA {{ GRAPH <{graph}> {{ <{EX}a> <{EX}p> 'x' }} }}", headers=headers)
    assert response.status_code == 401
    assert response.headers["www-authenticate"].startswith("Bearer")
    assert count_in(service, graph) == 0


def test_writes_are_403_when_no_token_is_configured(read_only_service):
    response = update(
        read_only_service, f"INSERT DATA {{ <{EX}a> <{EX}p> 'x' }}", headers={"Authorization": "Bearer x"}
    )
    assert response.status_code == 403 and "POLICYKG_UPDATE_TOKEN" in response.json()["detail"]
    put = httpx.put(
        read_only_service.url + "/store",
        params={"graph": fresh_graph()},
        content=b"",
        headers={"Content-Type": "text/turtle"},
    )
    assert put.status_code == 403


def test_using_graph_uri_sets_the_graph_an_update_reads(service):
    source, target = fresh_graph(), fresh_graph()
    update(service, f"INSERT DATA {{ GRAPH <{source}> {{ <{EX}a> <{EX}p> 'from source' }} }}")
    response = update(
        service, f"INSERT {{ GRAPH <{target}> {{ ?s ?p ?o }} }} WHERE {{ ?s ?p ?o }}", **{"using-graph-uri": source}
    )
    assert response.status_code == 204
    assert count_in(service, target) == 1


def test_a_malformed_update_is_400_and_a_failing_one_writes_nothing(service):
    assert update(service, "INSERT DATA { oops }").status_code == 400
    graph = fresh_graph()
    response = update(service, f"INSERT DATA {{ GRAPH <{graph}> {{ <{EX}a> <{EX}p> 1 }} }} ; DROP GRAPH <{EX}none>")
    assert response.status_code == 400
    assert count_in(service, graph) == 0


def test_graph_store_put_get_post_head_delete(service):
    graph = fresh_graph()
    store = service.url + "/store"
    created = httpx.put(
        store,
        params={"graph": graph},
        content=f"<{EX}a> <{EX}p> 'one' .",
        headers={**service.auth(), "Content-Type": "text/turtle"},
    )
    assert created.status_code == 201
    replaced = httpx.put(
        store,
        params={"graph": graph},
        content=f'<{EX}b> <{EX}p> "two" .',
        headers={**service.auth(), "Content-Type": "application/n-triples"},
    )
    assert replaced.status_code == 204
    added = httpx.post(
        store,
        params={"graph": graph},
        content=f'[{{"@id": "{EX}c", "{EX}p": "three"}}]',
        headers={**service.auth(), "Content-Type": "application/ld+json"},
    )
    assert added.status_code == 204, added.text
    got = httpx.get(store, params={"graph": graph}, headers={"Accept": "text/turtle"})
    triples = {(str(s), str(o)) for s, _, o in rdflib.Graph().parse(data=got.text, format="turtle")}
    assert triples == {(f"{EX}b", "two"), (f"{EX}c", "three")}
    assert httpx.head(store, params={"graph": graph}).status_code == 200
    assert httpx.delete(store, params={"graph": graph}, headers=service.auth()).status_code == 204
    assert httpx.get(store, params={"graph": graph}).status_code == 404
    assert httpx.delete(store, params={"graph": graph}, headers=service.auth()).status_code == 404


def test_graph_store_post_without_a_graph_creates_one(service):
    response = httpx.post(
        service.url + "/store",
        content=f"<{EX}new> <{EX}p> 'made' .",
        headers={**service.auth(), "Content-Type": "text/turtle"},
    )
    assert response.status_code == 201
    graph = response.headers["location"].split("graph=", 1)[1]
    assert graph.startswith("http://localhost:8000/graph/") and count_in(service, graph) == 1


def test_graph_store_get_without_a_graph_is_the_whole_dataset(service):
    response = httpx.get(service.url + "/store", headers={"Accept": "application/n-quads"})
    quads = list(ox.parse(response.content, format=ox.RdfFormat.N_QUADS))
    total = httpx.get(
        service.sparql,
        headers={"Accept": SRJ},
        params={"query": "SELECT (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } }"},
    )
    assert len(quads) == int(total.json()["results"]["bindings"][0]["n"]["value"])
    assert any(q.graph_name.value == "https://w3id.org/policykg/ontology" for q in quads)


def test_graph_store_refuses_bad_bodies_and_writes_nothing(service):
    graph, store = fresh_graph(), service.url + "/store"
    broken = httpx.put(
        store,
        params={"graph": graph},
        content=b"<a> <b> .\n<c> <d> 'e .",
        headers={**service.auth(), "Content-Type": "text/turtle"},
    )
    assert broken.status_code == 400 and "request body:" in broken.json()["detail"]
    wrong_type = httpx.put(
        store, params={"graph": graph}, content=b"x", headers={**service.auth(), "Content-Type": "text/csv"}
    )
    assert wrong_type.status_code == 415
    too_big = httpx.put(
        store,
        params={"graph": graph},
        content=b"#" * 2_100_000,
        headers={**service.auth(), "Content-Type": "text/turtle"},
    )
    assert too_big.status_code == 413
    unauthorised = httpx.put(
        store, params={"graph": graph}, content=f"<{EX}a> <{EX}p> 1 .", headers={"Content-Type": "text/turtle"}
    )
    assert unauthorised.status_code == 401
    assert count_in(service, graph) == 0


def test_sparqlwrapper_reads_the_endpoint(service):
    client = SPARQLWrapper(service.sparql)
    client.setQuery(
        "SELECT ?name WHERE { ?p a <https://w3id.org/policykg/ontology#Person> ; "
        "<http://www.w3.org/2000/01/rdf-schema#label> ?name }"
    )
    client.setReturnFormat(JSON)
    bindings = client.queryAndConvert()["results"]["bindings"]
    assert {b["name"]["value"] for b in bindings} == {"Julia Pagel"}


def test_rdflib_sparqlstore_reads_the_endpoint(service):
    graph = rdflib.Graph(SPARQLStore(service.sparql, returnFormat="json"))
    rows = list(
        graph.query(
            "SELECT DISTINCT ?title WHERE { <http://localhost:8000/id/event/innovation-and-integrity-conference> "
            "<http://purl.org/dc/terms/title> ?title }"
        )
    )
    assert [str(r[0]) for r in rows] == ["Innovation and Integrity: Museums paving the way in an AI-driven society"]

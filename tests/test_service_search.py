"""/search over HTTP against the running service: seed text, facets, pages, and every write path kept in step."""

import itertools
import uuid

import httpx
import pytest

pytestmark = pytest.mark.service

B = "http://localhost:8000/"
PKG = "https://w3id.org/policykg/ontology#"
DATA_SPACE = f"{B}id/concept/common-european-data-space-for-cultural-heritage"
NUMBERS = itertools.count(60_000)  # meeting series numbers no other test uses


def search(service, **params) -> httpx.Response:
    return httpx.get(service.url + "/search", params={"format": "json", **params}, timeout=60)


def found(service, q: str) -> list[str]:
    response = search(service, q=q)
    assert response.status_code == 200, response.text
    return [hit["iri"] for hit in response.json()["hits"]]


def test_search_json_ranks_the_seed_phrase_first_with_a_marked_snippet_and_a_link(service):
    body = search(service, q='"data space"').json()
    first = body["hits"][0]
    assert first["iri"] == DATA_SPACE
    assert "<mark>data</mark> <mark>space</mark>" in first["snippet"].lower()
    assert first["page"] == "/doc/id/concept/common-european-data-space-for-cultural-heritage.html"
    assert httpx.get(service.url + first["page"]).status_code == 200


def test_search_page_shows_hits_facets_and_links_that_narrow(service):
    response = httpx.get(service.url + "/search", params={"q": "AI"}, headers={"Accept": "text/html"})
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/html")
    assert "<mark>AI</mark>" in response.text and "<script" not in response.text
    narrow = search(service, q="AI").json()["facets"]["type"]
    recommendation = next(f for f in narrow if f["value"] == PKG + "Recommendation")
    assert recommendation["narrow"] in response.text.replace("&amp;", "&")
    narrowed = httpx.get(service.url + recommendation["narrow"] + "&format=json").json()
    assert narrowed["total"] == recommendation["count"] == 3
    assert {tuple(h["types"]) for h in narrowed["hits"]} == {(PKG + "Recommendation",)}


def test_search_without_words_shows_the_form_to_people_and_is_400_for_programs(service):
    page = httpx.get(service.url + "/search", headers={"Accept": "text/html"})
    assert page.status_code == 200 and 'name="q"' in page.text
    for params in ({}, {"q": " "}, {"q": "data AND ("}, {"q": "data", "page": "49"}, {"q": "x", "year": "soon"}):
        response = search(service, **params)
        assert response.status_code == 400, params
        assert response.headers["content-type"].startswith("application/problem+json")


def test_an_entry_is_searchable_when_its_post_returns_and_gone_after_its_retraction(service):
    word = f"zephyrquill{uuid.uuid4().hex[:8]}"
    iri = f"{B}id/event/test-search-meeting-{uuid.uuid4()}"
    turtle = f"""@prefix pkg: <{PKG}> . @prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .
<{iri}> a pkg:ExpertGroupMeeting ; rdfs:label "Meeting on {word}"@en ;
    pkg:partOfSeries <{B}id/series/cultural-heritage-expert-group-meetings> ; pkg:seriesNumber {next(NUMBERS)} ;
    <https://schema.org/startDate> "2025-02-03"^^<http://www.w3.org/2001/XMLSchema#date> ."""
    created = httpx.post(
        service.url + "/entries",
        content=turtle.encode(),
        timeout=60,
        headers={"Content-Type": "text/turtle", **service.auth()},
    )
    assert created.status_code == 201, created.text
    assert found(service, word) == [iri]
    assert httpx.delete(service.url + created.headers["location"], headers=service.auth()).status_code == 204
    assert found(service, word) == []


def test_raw_sparql_update_and_graph_store_writes_are_searchable_at_once(service):
    word, graph = f"marshwick{uuid.uuid4().hex[:8]}", f"http://example.org/graph/{uuid.uuid4()}"
    label = "<http://www.w3.org/2000/01/rdf-schema#label>"
    update = f'INSERT DATA {{ GRAPH <{graph}> {{ <http://example.org/s-{word}> {label} "the {word} file" }} }}'
    assert httpx.post(service.sparql, data={"update": update}, headers=service.auth()).status_code == 204
    assert found(service, word) == [f"http://example.org/s-{word}"]
    put = httpx.put(
        service.url + "/store",
        params={"graph": graph},
        headers={**service.auth(), "Content-Type": "text/turtle"},
        content=f'<http://example.org/t-{word}> {label} "another {word}" .'.encode(),
    )
    assert put.status_code in (200, 204)
    assert found(service, word) == [f"http://example.org/t-{word}"]
    assert httpx.delete(service.url + "/store", params={"graph": graph}, headers=service.auth()).status_code == 204
    assert found(service, word) == []


SEARCH_QUERY = """PREFIX pkg: <https://w3id.org/policykg/ontology#>
PREFIX dcterms: <http://purl.org/dc/terms/>
SELECT DISTINCT ?hit ?score ?title ?snippet WHERE {
  SERVICE <https://w3id.org/policykg/search> { ?hit pkg:matches "AI" ; pkg:score ?score ; pkg:snippet ?snippet . }
  ?hit a pkg:Recommendation ; dcterms:title ?title .
} ORDER BY DESC(?score)"""


def sparql_rows(service, query: str) -> list[dict]:
    response = httpx.get(service.sparql, params={"query": query}, headers={"Accept": "application/sparql-results+json"})
    assert response.status_code == 200, response.text
    return response.json()["results"]["bindings"]


def test_the_sparql_search_service_joins_with_the_query_and_gives_the_hits_of_search(service):
    rows = sparql_rows(service, SEARCH_QUERY)
    by_search = search(service, q="AI", type=PKG + "Recommendation").json()["hits"]
    assert [r["hit"]["value"] for r in rows] == [h["iri"] for h in by_search]
    assert len(rows) == 3 and all(r["title"]["value"] for r in rows)
    assert [float(r["score"]["value"]) for r in rows] == pytest.approx([h["score"] for h in by_search])
    assert all("<mark>AI</mark>" in r["snippet"]["value"] for r in rows)


def test_the_sparql_search_service_takes_a_limit_and_other_services_stay_refused(service):
    query = (
        "SELECT ?hit WHERE { SERVICE <https://w3id.org/policykg/search> { "
        f'?hit <{PKG}matches> "data space" ; <{PKG}limit> 2 }} }}'
    )
    assert len(sparql_rows(service, query)) == 2
    elsewhere = httpx.get(
        service.sparql, params={"query": "SELECT * { SERVICE <http://example.org/sparql> { ?s ?p ?o } }"}
    )
    assert elsewhere.status_code == 403
    bad = f"SELECT ?hit {{ SERVICE <https://w3id.org/policykg/search> {{ ?hit <{PKG}score> ?s }} }}"
    assert httpx.get(service.sparql, params={"query": bad}).status_code == 400

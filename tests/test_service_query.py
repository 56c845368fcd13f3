"""The SPARQL 1.1 Protocol for queries, over HTTP against a running service."""

import csv
import io
import threading
import time
import xml.etree.ElementTree as ET
from urllib.parse import urlencode

import httpx
import pytest
import rdflib

# The seed's recommendations: other suites of the shared service add recommendations of their own.
COUNT = (
    "SELECT (COUNT(DISTINCT ?r) AS ?n) WHERE { GRAPH ?g { ?r a <https://w3id.org/policykg/ontology#Recommendation> } "
    'FILTER (STRSTARTS(STR(?g), "http://localhost:8000/graph/seed/")) }'
)
TITLES = (
    "SELECT ?o ?t WHERE { GRAPH ?g { ?r <https://w3id.org/policykg/ontology#ordinal> ?o } "
    "?r <http://purl.org/dc/terms/title> ?t "
    'FILTER (STRSTARTS(STR(?g), "http://localhost:8000/graph/seed/")) } ORDER BY ?o'
)
B = "http://localhost:8000/"
G_ATTENDANCE = B + "graph/seed/attendance"
SRJ = "application/sparql-results+json"


def n(response: httpx.Response) -> str:
    return response.json()["results"]["bindings"][0]["n"]["value"]


def test_query_by_get(service):
    response = httpx.get(service.sparql, params={"query": COUNT}, headers={"Accept": SRJ})
    assert response.status_code == 200 and response.headers["content-type"].startswith(SRJ)
    assert n(response) == "3"


def test_query_by_post_form(service):
    response = httpx.post(service.sparql, data={"query": COUNT}, headers={"Accept": SRJ})
    assert n(response) == "3"


def test_query_by_post_direct(service):
    response = httpx.post(
        service.sparql, content=COUNT.encode(), headers={"Content-Type": "application/sparql-query", "Accept": SRJ}
    )
    assert n(response) == "3"


def test_default_graph_uri_makes_one_graph_the_default(service):
    query = "SELECT DISTINCT ?type WHERE { ?s a ?type } ORDER BY ?type"
    response = httpx.get(
        service.sparql, params={"query": query, "default-graph-uri": G_ATTENDANCE}, headers={"Accept": SRJ}
    )
    types = [b["type"]["value"] for b in response.json()["results"]["bindings"]]
    assert types == sorted(
        [
            "http://www.w3.org/ns/org#Post",
            "https://w3id.org/policykg/ontology#EventSeries",
            "https://w3id.org/policykg/ontology#ExpertGroup",
            "https://w3id.org/policykg/ontology#ExpertGroupMeeting",
            "https://w3id.org/policykg/ontology#Organisation",
            "https://w3id.org/policykg/ontology#Participation",
            "https://w3id.org/policykg/ontology#Person",
            "https://w3id.org/policykg/ontology#Place",
        ]
    )


def test_default_graph_uri_without_named_graph_uri_leaves_graph_patterns_nothing_to_match(service):
    # SPARQL 1.1 §13.2: a dataset of default graphs only has no named graph.
    query = "SELECT ?g WHERE { GRAPH ?g { ?s ?p ?o } } LIMIT 1"
    response = httpx.get(
        service.sparql, params={"query": query, "default-graph-uri": G_ATTENDANCE}, headers={"Accept": SRJ}
    )
    assert response.status_code == 200 and response.json()["results"]["bindings"] == []
    everything = httpx.get(service.sparql, params={"query": query}, headers={"Accept": SRJ}).json()
    assert len(everything["results"]["bindings"]) == 1


def test_named_graph_uri_limits_the_graphs_graph_can_reach(service):
    query = "SELECT DISTINCT ?g WHERE { GRAPH ?g { ?s ?p ?o } }"
    response = httpx.post(
        service.sparql,
        data={"query": query, "named-graph-uri": [G_ATTENDANCE, B + "graph/concepts"]},
        headers={"Accept": SRJ},
    )
    assert {b["g"]["value"] for b in response.json()["results"]["bindings"]} == {G_ATTENDANCE, B + "graph/concepts"}


def test_select_as_csv_tsv_and_xml(service):
    csv_rows = list(
        csv.reader(
            io.StringIO(httpx.get(service.sparql, params={"query": TITLES}, headers={"Accept": "text/csv"}).text)
        )
    )
    assert csv_rows[0] == ["o", "t"] and [r[0] for r in csv_rows[1:]] == ["1", "2", "3"]
    tsv = httpx.get(service.sparql, params={"query": TITLES}, headers={"Accept": "text/tab-separated-values"})
    assert tsv.text.splitlines()[1].startswith('1\t"A political vision for museums')
    xml = httpx.get(service.sparql, params={"query": TITLES}, headers={"Accept": "application/sparql-results+xml"})
    ns = {"r": "http://www.w3.org/2005/sparql-results#"}
    results = ET.fromstring(xml.content).findall("r:results/r:result", ns)
    assert len(results) == 3


def test_accept_q_values_choose_the_answer_syntax(service):
    response = httpx.get(
        service.sparql,
        params={"query": COUNT},
        headers={"Accept": "application/sparql-results+json;q=0.4, text/csv;q=0.9, */*;q=0.1"},
    )
    assert response.headers["content-type"].startswith("text/csv")
    assert "Accept" in response.headers["vary"]


def test_format_parameter_overrides_accept(service):
    response = httpx.get(service.sparql, params={"query": COUNT, "format": "tsv"}, headers={"Accept": SRJ})
    assert response.headers["content-type"].startswith("text/tab-separated-values")
    assert response.text.splitlines() == ["?n", "3"]


def test_nothing_acceptable_is_406_with_the_choices(service):
    response = httpx.get(service.sparql, params={"query": COUNT}, headers={"Accept": "image/png"})
    assert response.status_code == 406
    assert response.headers["content-type"] == "application/problem+json"
    assert "application/sparql-results+json" in response.json()["detail"]


@pytest.mark.parametrize(
    ("media_type", "rdflib_format"),
    [
        ("text/turtle", "turtle"),
        ("application/n-triples", "nt"),
        ("application/ld+json", "json-ld"),
        ("application/rdf+xml", "xml"),
        ("application/n-quads", "nquads"),
        ("application/trig", "trig"),
    ],
)
def test_construct_in_each_graph_syntax(service, media_type, rdflib_format):
    query = (
        "CONSTRUCT { ?p <http://www.w3.org/2000/01/rdf-schema#label> ?l } "
        "WHERE { ?p a <https://w3id.org/policykg/ontology#Person> ; <http://www.w3.org/2000/01/rdf-schema#label> ?l }"
    )
    response = httpx.get(service.sparql, params={"query": query}, headers={"Accept": media_type})
    assert response.headers["content-type"].startswith(media_type)
    graph = rdflib.Dataset() if rdflib_format in ("nquads", "trig") else rdflib.Graph()
    graph.parse(data=response.text, format=rdflib_format)
    triples = {(str(s), str(o)) for s, _, o, *rest in (graph.quads() if isinstance(graph, rdflib.Dataset) else graph)}
    assert triples == {(B + "id/person/julia-pagel", "Julia Pagel")}


def test_ask_answers_a_boolean(service):
    response = httpx.get(
        service.sparql,
        params={"query": "ASK { ?s a <https://w3id.org/policykg/ontology#Conference> }"},
        headers={"Accept": SRJ},
    )
    assert response.json()["boolean"] is True


def test_describe_answers_a_graph(service):
    response = httpx.get(
        service.sparql, params={"query": f"DESCRIBE <{B}id/person/julia-pagel>"}, headers={"Accept": "text/turtle"}
    )
    graph = rdflib.Graph().parse(data=response.text, format="turtle")
    assert (
        rdflib.URIRef(B + "id/person/julia-pagel"),
        rdflib.URIRef("https://schema.org/familyName"),
        rdflib.Literal("Pagel"),
    ) in graph


def test_relative_iris_in_a_query_resolve_against_the_base(service):
    response = httpx.get(service.sparql, params={"query": "ASK { <id/org/nemo> ?p ?o }"}, headers={"Accept": SRJ})
    assert response.json()["boolean"] is True


def test_large_answers_are_streamed_in_chunks(service):
    total = httpx.get(
        service.sparql, params={"query": "SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }"}, headers={"Accept": SRJ}
    )
    response = httpx.get(
        service.sparql, params={"query": "SELECT * WHERE { ?s ?p ?o }"}, headers={"Accept": "text/csv"}
    )
    assert response.headers.get("transfer-encoding") == "chunked" and "content-length" not in response.headers
    assert len(response.content) > 64 * 1024
    assert len(list(csv.reader(io.StringIO(response.text)))) == int(n(total)) + 1


def test_service_description_at_the_endpoint(service):
    response = httpx.get(service.sparql, headers={"Accept": "text/turtle"})
    graph = rdflib.Graph().parse(data=response.text, format="turtle")
    sd = rdflib.Namespace("http://www.w3.org/ns/sparql-service-description#")
    (svc,) = graph.subjects(rdflib.RDF.type, sd.Service)
    assert graph.value(svc, sd.endpoint) == rdflib.URIRef(service.sparql)
    assert set(graph.objects(svc, sd.supportedLanguage)) == {sd.SPARQL11Query, sd.SPARQL11Update}
    assert rdflib.URIRef("http://www.w3.org/ns/formats/SPARQL_Results_JSON") in set(graph.objects(svc, sd.resultFormat))
    assert (svc, sd.feature, sd.UnionDefaultGraph) in graph
    names = {str(o) for o in graph.objects(None, sd.name)}
    assert {"https://w3id.org/policykg/ontology", "https://w3id.org/policykg/shapes", G_ATTENDANCE} <= names


def test_a_malformed_query_is_400_with_the_parsers_position(service):
    response = httpx.get(service.sparql, params={"query": "SELECT ?x WHERE { ?x ?y }"}, headers={"Accept": SRJ})
    assert response.status_code == 400
    problem = response.json()
    assert problem["type"].endswith("/malformed-request") and "error at 1:" in problem["detail"]


def test_a_post_in_another_media_type_is_415(service):
    response = httpx.post(service.sparql, content=b"{}", headers={"Content-Type": "application/json"})
    assert response.status_code == 415 and "application/sparql-query" in response.json()["detail"]


def test_other_methods_are_405_with_allow(service):
    response = httpx.put(service.sparql, content=b"x")
    assert response.status_code == 405
    assert set(response.headers["allow"].replace(" ", "").split(",")) >= {"GET", "POST"}


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        ({"query": COUNT, "update": "CLEAR ALL"}, "not both"),
        ({}, "neither a query nor an update"),
        ({"query": [COUNT, COUNT]}, "given once"),
        ({"query": COUNT, "default-graph-uri": "not an iri"}, "not an absolute IRI"),
        ({"query": COUNT, "using-graph-uri": G_ATTENDANCE}, "go with updates"),
    ],
)
def test_protocol_mistakes_are_400_with_a_reason(service, data, expected):
    response = httpx.post(
        service.sparql,
        content=urlencode(data, doseq=True),
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert response.status_code == 400 and expected in response.json()["detail"]


def test_cors_allows_reads_from_any_origin(service):
    response = httpx.get(service.sparql, params={"query": COUNT}, headers={"Origin": "https://portal.example"})
    assert response.headers["access-control-allow-origin"] == "*"
    preflight = httpx.options(
        service.sparql, headers={"Origin": "https://portal.example", "Access-Control-Request-Method": "POST"}
    )
    assert preflight.status_code == 200 and "POST" in preflight.headers["access-control-allow-methods"]


@pytest.mark.parametrize("params", [{"query": COUNT}, {"query": COUNT, "format": "html"}])
@pytest.mark.parametrize("origin", [{}, {"Origin": "https://portal.example"}])
def test_queries_answered_on_the_fast_path_carry_the_headers_of_the_routed_application(service, params, origin):
    # HEAD goes through the application's middlewares and routes; GET is answered by web/fastpath.py.
    added = (
        "access-control-allow-origin",
        "access-control-expose-headers",
        "vary",
        "content-security-policy",
        "x-content-type-options",
        "content-type",
    )
    routed = httpx.head(service.sparql, params=params, headers=origin)
    fast = httpx.get(service.sparql, params=params, headers=origin)
    assert routed.status_code == fast.status_code == 200
    # The query page brings its own policy (stricter than the one HEAD's empty answer gets): each has one.
    assert {name: fast.headers.get(name) for name in added if name != "content-security-policy"} == {
        name: routed.headers.get(name) for name in added if name != "content-security-policy"
    }
    assert fast.headers["vary"] == "Accept, Origin"
    assert ("access-control-allow-origin" in fast.headers) == bool(origin)
    assert ("content-security-policy" in fast.headers) == ("content-security-policy" in routed.headers)
    assert ("content-security-policy" in fast.headers) == ("format" in params)
    assert fast.headers["x-request-id"] and fast.headers["x-request-id"] != routed.headers["x-request-id"]


def test_openapi_documents_the_routes(service):
    paths = httpx.get(service.url + "/openapi.json").json()["paths"]
    assert {"/sparql", "/store"} <= set(paths)
    assert "<title>" in httpx.get(service.url + "/docs").text


def test_a_browser_gets_the_query_page_with_the_competency_questions(service):
    page = httpx.get(service.sparql, headers={"Accept": "text/html,application/xhtml+xml,*/*;q=0.8"})
    assert page.headers["content-type"].startswith("text/html")
    assert "<title>SPARQL query – policykg</title>" in page.text
    assert "Who represented NEMO at the 11th Expert Group meeting, and in which role?" in page.text


def test_the_query_page_shows_results_as_a_table(service):
    page = httpx.get(service.sparql, params={"query": TITLES, "format": "html"})
    assert '<th scope="col">?t</th>' in page.text
    assert "Establishment of a European AI innovation hub for cultural heritage" in page.text
    assert "format=csv" in page.text


def test_a_runaway_query_is_stopped_while_a_simple_one_is_answered(service):
    runaway = "SELECT (COUNT(*) AS ?n) WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i }"
    outcome: dict[str, object] = {}

    def run_runaway() -> None:
        outcome["runaway"] = httpx.get(service.sparql, params={"query": runaway}, headers={"Accept": SRJ}, timeout=60)
        outcome["runaway_done"] = time.monotonic()

    thread = threading.Thread(target=run_runaway)
    thread.start()
    time.sleep(0.3)
    simple = httpx.get(service.sparql, params={"query": COUNT}, headers={"Accept": SRJ}, timeout=60)
    simple_done = time.monotonic()
    thread.join()
    assert n(simple) == "3"
    runaway_response = outcome["runaway"]
    assert runaway_response.status_code == 503
    assert runaway_response.json()["type"].endswith("/query-timeout")
    # The simple query was answered while the runaway one was still running.
    assert simple_done < outcome["runaway_done"]
    # And the worker that ran it was replaced: the service still answers.
    assert n(httpx.get(service.sparql, params={"query": COUNT}, headers={"Accept": SRJ})) == "3"


@pytest.mark.parametrize(
    "params", [{"query": COUNT, "default-graph-uri": "http://["}, {"query": COUNT, "named-graph-uri": "http://x/%zz"}]
)
def test_a_malformed_graph_iri_is_400(service, params):
    response = httpx.get(service.sparql, params=params, headers={"Accept": SRJ})
    assert response.status_code == 400 and "not an absolute IRI" in response.json()["detail"]


def test_head_answers_headers_without_running_the_query(service):
    heavy = "SELECT * WHERE { ?a ?b ?c . ?d ?e ?f }"
    for _ in range(20):
        response = httpx.head(service.sparql, params={"query": heavy}, headers={"Accept": "text/csv"})
        assert response.status_code == 200 and response.headers["content-type"] == "text/csv; charset=utf-8"
    assert n(httpx.get(service.sparql, params={"query": COUNT}, headers={"Accept": SRJ})) == "3"


def test_the_query_page_links_no_script_iri_and_allows_no_script(service):
    query = 'SELECT (IRI("javascript:alert(1)") AS ?x) WHERE {}'
    page = httpx.get(service.sparql, params={"query": query, "format": "html"})
    assert 'href="javascript:' not in page.text and "javascript:alert(1)" in page.text
    assert "default-src 'none'" in page.headers["content-security-policy"]

"""Linked data on the live service: dereferenceable IRIs in every syntax, pages, the model, dumps, crawlers' files."""

import datetime as dt
import gzip
import re
import uuid
from email.utils import format_datetime, parsedate_to_datetime

import httpx
import pyoxigraph as ox
import pytest
import rdflib
from consistency import current_dump
from rdflib.namespace import RDF, SH
from test_service_entries import PREFIXES, post

from policykg.rdf.input import parse_bytes
from policykg.validation.shacl import load_model_graph

B = "http://localhost:8000/"
REC = B + "id/recommendation/innovation-and-integrity-1"
MEETING = B + "id/event/cultural-heritage-expert-group-meeting-11"
PKG = "https://w3id.org/policykg/ontology#"
SYNTAXES = {
    "text/turtle": ("ttl", "turtle"),
    "application/ld+json": ("jsonld", "jsonld"),
    "application/n-triples": ("nt", "ntriples"),
    "application/rdf+xml": ("rdf", "rdfxml"),
    "application/trig": ("trig", "trig"),
    "application/n-quads": ("nq", "nquads"),
}


def triples_of(response: httpx.Response, syntax: str) -> set[ox.Triple]:
    """Parse an answer; JSON-LD gets the service's context locally, never over the network."""
    quads = parse_bytes(response.content, syntax, B, service_base=B)
    return {ox.Triple(q.subject, q.predicate, q.object) for q in quads}


def conference(label: str, start: str) -> tuple[str, str]:
    """A new conference (its IRI, and an entry that describes it)."""
    iri = f"{B}id/event/linked-data-test-{uuid.uuid4()}"
    return (
        iri,
        PREFIXES
        + f"""<{iri}> a pkg:Conference ; rdfs:label "{label}"@en ;
        <http://purl.org/dc/terms/title> "{label}"@en ; schema:startDate "{start}"^^xsd:date .""",
    )


def dereference(service, iri: str, accept: str) -> httpx.Response:
    return httpx.get(service.url + "/" + iri.removeprefix(B), headers={"Accept": accept}, follow_redirects=True)


@pytest.mark.parametrize("media_type", list(SYNTAXES))
def test_a_resource_iri_answers_303_to_a_document_in_the_asked_syntax(service, media_type):
    ending, syntax = SYNTAXES[media_type]
    first = httpx.get(service.url + "/id/recommendation/innovation-and-integrity-1", headers={"Accept": media_type})
    assert first.status_code == 303
    assert first.headers["location"] == f"/doc/id/recommendation/innovation-and-integrity-1.{ending}"
    assert "Accept" in first.headers["vary"]
    document = httpx.get(service.url + first.headers["location"])
    assert document.status_code == 200 and document.headers["content-type"].startswith(media_type)
    triples = triples_of(document, syntax)
    rec, concerns = ox.NamedNode(REC), ox.NamedNode(PKG + "concerns")
    assert {t.object.value for t in triples if t.subject == rec and t.predicate == concerns} == {
        B + "id/concept/" + c
        for c in (
            "ai-regulatory-framework",
            "ethics-of-emerging-technologies",
            "museums",
            "artificial-intelligence",
            "cultural-heritage",
        )
    }
    # incoming links, and the labels of what it links to
    assert (
        ox.Triple(ox.NamedNode(B + "id/presentation/eg11-conference-outcomes"), ox.NamedNode(PKG + "presents"), rec)
        in triples
    )
    # the label as the graph states it (a concept's skos:prefLabel), not restated under another property
    assert (
        ox.Triple(
            ox.NamedNode(B + "id/concept/museums"),
            ox.NamedNode("http://www.w3.org/2004/02/skos/core#prefLabel"),
            ox.Literal("museums", language="en"),
        )
        in triples
    )


def test_every_syntax_says_the_same(service):
    graphs = {
        media: triples_of(dereference(service, REC, media), syntax)
        for media, (_, syntax) in SYNTAXES.items()
        if syntax not in ("trig", "nquads")
    }
    turtle = graphs.pop("text/turtle")
    assert len(turtle) > 30
    for media_type, triples in graphs.items():
        assert triples == turtle, media_type


def test_the_dataset_syntaxes_keep_each_statement_in_its_graph(service):
    quads = parse_bytes(dereference(service, MEETING, "application/n-quads").content, "nquads", B)
    inferred = [q for q in quads if q.predicate.value == "https://schema.org/startDate"]
    assert [(q.object.value, q.graph_name.value) for q in inferred] == [
        ("2024-04-09", B + "graph/seed/inferred-meeting-year")
    ]


def test_the_document_without_an_ending_negotiates_and_names_what_it_sent(service):
    response = httpx.get(
        service.url + "/doc/id/recommendation/innovation-and-integrity-1",
        headers={"Accept": "application/n-triples;q=0.9, text/turtle;q=0.5"},
    )
    assert response.headers["content-type"].startswith("application/n-triples")
    assert response.headers["content-location"] == "/doc/id/recommendation/innovation-and-integrity-1.nt"
    assert "Accept" in response.headers["vary"]
    assert (
        httpx.get(
            service.url + "/doc/id/recommendation/innovation-and-integrity-1", headers={"Accept": "image/png"}
        ).status_code
        == 406
    )


def test_unknown_iris_are_404_and_a_known_document_can_be_revalidated(service):
    missing = httpx.get(service.url + "/id/event/no-such-event", headers={"Accept": "text/turtle"})
    assert missing.status_code == 404 and missing.json()["type"].endswith("/resource-not-found")
    assert httpx.get(service.url + "/doc/id/event/no-such-event.ttl").status_code == 404
    assert httpx.get(service.url + "/doc/elsewhere/x.ttl").status_code == 404
    first = httpx.get(service.url + "/doc/id/recommendation/innovation-and-integrity-1.ttl")
    again = httpx.get(
        service.url + "/doc/id/recommendation/innovation-and-integrity-1.ttl",
        headers={"If-None-Match": first.headers["etag"]},
    )
    assert again.status_code == 304 and again.content == b""


def test_a_resource_whose_entry_was_retracted_is_410_and_the_entry_says_why(service):
    iri, body = conference("A conference to retract", "2025-02-02")
    created = post(service, "/entries", body)
    assert created.status_code == 201, created.text
    assert dereference(service, iri, "text/turtle").status_code == 200
    assert httpx.delete(service.url + created.headers["location"], headers=service.auth()).status_code == 204
    gone = httpx.get(service.url + "/" + iri.removeprefix(B), headers={"Accept": "text/turtle"})
    assert gone.status_code == 410 and gone.json()["type"].endswith("/resource-gone")
    entry = httpx.get(service.url + created.headers["location"], headers={"Accept": "application/trig"})
    assert entry.status_code == 410  # the record stays readable: who retracted it, when, and what it held
    quads = parse_bytes(entry.content, "trig", B)
    assert any(q.predicate.value == PKG + "retractedBy" for q in quads)
    assert any(
        q.subject.value == iri and q.object == ox.Literal("A conference to retract", language="en") for q in quads
    )


def test_an_entry_is_offered_in_every_syntax_and_as_a_page(service):
    iri, body = conference("Entry page test", "2025-03-03")
    created = post(service, "/entries", body)
    assert created.status_code == 201, created.text
    location = service.url + created.headers["location"]
    turtle = triples_of(httpx.get(location, headers={"Accept": "text/turtle"}), "turtle")
    assert (
        ox.Triple(
            ox.NamedNode(iri),
            ox.NamedNode("http://www.w3.org/2000/01/rdf-schema#label"),
            ox.Literal("Entry page test", language="en"),
        )
        in turtle
    )
    assert triples_of(httpx.get(location, params={"format": "jsonld"}), "jsonld") == turtle
    html = httpx.get(location, headers={"Accept": "text/html"})
    assert html.headers["content-type"].startswith("text/html")
    assert "Entry page test" in html.text and "<strong>Current.</strong>" in html.text
    listing = httpx.get(service.url + "/entries", headers={"Accept": "text/html"})
    assert created.json()["entry"].rsplit("/", 1)[-1] in listing.text


def test_the_page_of_a_resource_shows_its_statements_links_and_provenance(service):
    response = httpx.get(
        service.url + "/id/event/cultural-heritage-expert-group-meeting-11",
        headers={"Accept": "text/html,application/xhtml+xml;q=0.9,*/*;q=0.8"},
        follow_redirects=True,
    )
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/html")
    html = response.text
    assert "<h1>11th meeting of the Cultural Heritage Expert Group</h1>" in html
    # the year of the meeting is inferred, and the page says so next to that statement and why
    row = re.search(r"<tr>\s*<td>[^<]*<span[^>]*>[^<]*</span></td>\s*<td>2024-04-09.*?</tr>", html, re.S)
    assert row and "inferred" in row.group(0)
    assert "Why inferred:" in html and "9-10 April is the first such date" in html
    assert 'href="/doc/id/presentation/eg11-conference-outcomes.html"' in html  # a backlink
    assert "default-src 'none'" in response.headers["content-security-policy"]  # no script, nothing from elsewhere
    links = response.headers["link"]
    assert 'rel="describedby"' in links and '.ttl>; rel="describedby"' in links and 'rel="alternate"' in links


def test_a_statement_made_in_two_graphs_shows_once_with_both_sources(service):
    html = dereference(service, REC, "text/html").text
    statements = html.split('id="statements"', 1)[1].split("</table>", 1)[0]
    rows = re.findall(r"<tr>.*?</tr>", statements, re.S)
    typed = [row for row in rows if 'title="http://www.w3.org/1999/02/22-rdf-syntax-ns#type"' in row]
    assert len(typed) == 1  # pkg:Recommendation is stated by the conference's sentence and by the recommendation's
    sources = re.findall(r'<a class="badge [a-z]+" href="/doc/graph/seed/([a-z0-9-]+)\.html"', typed[0])
    assert sorted(sources) == ["conference-recommendations", "recommendation-1"]
    assert len(rows) == len(set(re.sub(r"<td>(?:(?!</td>).)*badge.*?</td>", "", row, flags=re.S) for row in rows))


def test_a_recommendation_page_shows_its_trail_in_time_order(service):
    html = dereference(service, REC, "text/html").text
    trail = html[html.index('id="trail"') : html.index('id="statements"')]
    steps = re.findall(r"<strong>([^<]+)</strong>(.*?)</li>", trail, re.S)
    assert [date for date, _ in steps] == ["2024-03-20"] * 3 + ["2024-04-09"] * 2
    assert "proposed" in steps[2][1] and "date inferred" in steps[3][1] and "11th meeting" in steps[3][1]


def test_a_concept_page_lists_the_recommendations_that_concern_it(service):
    html = dereference(service, B + "id/concept/artificial-intelligence", "text/html").text
    section = html[html.index('id="touching"') : html.index('id="statements"')]
    steps = re.findall(r"<strong>([^<]+)</strong>(.*?)</li>", section, re.S)
    # three recommendations, each issued and presented at the conference, then presented at the 11th meeting
    assert [date for date, _ in steps] == ["2024-03-20"] * 6 + ["2024-04-09"] * 3
    assert sum("issued:" in text for _, text in steps) == 3 and all("date inferred" in text for _, text in steps[6:])
    assert "A political vision for museums" in section and "Financial investments to apply AI" in section


def test_the_timeline_draws_every_event_in_time_order(service):
    html = httpx.get(service.url + "/timeline").text
    svg = html[html.index('<svg id="timeline"') :]
    svg = svg[: svg.index("</svg>")]
    labels = re.findall(r'<text x="150"[^>]*fill="#0b5cad">([^<]+)</text>', svg)
    seed = [
        "1st meeting of the Cultural Heritage Expert Group",
        "Innovation and Integrity: Museums paving the way in an AI-driven society",
        "11th meeting of the Cultural Heritage Expert Group",
    ]
    assert [label for label in labels if label in seed] == seed
    assert svg.count('stroke-dasharray="4 3"') >= 1  # the inferred date of the 11th meeting
    assert '<title id="timeline-title">' in svg
    assert "3 recommendations issued · 3 presented" in svg and ">3 presented<" in svg
    # the index of years links to each year's page, which shows that year's events only
    assert re.findall(r'<a href="/timeline\?year=(\d{4})"', html)[:2] == ["2019", "2024"]
    year = httpx.get(service.url + "/timeline", params={"year": "2019"}).text
    assert "1st meeting of the Cultural Heritage Expert Group" in year and "11th meeting" not in year
    assert httpx.get(service.url + "/timeline", params={"year": "20x9"}).status_code == 400


def test_the_ontology_and_the_shapes_answer_at_their_documents(service, settings):
    ontology, shapes = (load_model_graph(folder, B) for folder in (settings.ontology_dir, settings.shapes_dir))
    turtle = httpx.get(service.url + "/ontology", headers={"Accept": "text/turtle"})
    assert turtle.headers["content-location"] == "/ontology.ttl"
    assert len(triples_of(turtle, "turtle")) == len(ontology)
    assert len(triples_of(httpx.get(service.url + "/shapes.nt"), "ntriples")) == len(shapes)
    page = httpx.get(service.url + "/ontology", headers={"Accept": "text/html"}).text
    assert 'id="Recommendation"' in page and 'id="concerns"' in page
    shapes_page = httpx.get(service.url + "/shapes", headers={"Accept": "text/html"}).text
    node_shapes = {
        str(s).rsplit("#", 1)[-1] for s in shapes.subjects(RDF.type, SH.NodeShape) if isinstance(s, rdflib.URIRef)
    }
    assert len(node_shapes) > 30 and all(f'id="{name}"' in shapes_page for name in node_shapes)


def test_the_published_context_is_the_one_json_ld_answers_use(service):
    context = httpx.get(service.url + "/context.jsonld")
    assert context.headers["content-type"].startswith("application/ld+json")
    assert context.json()["@context"]["pkg"] == PKG
    document = httpx.get(service.url + "/doc/id/recommendation/innovation-and-integrity-1.jsonld").json()
    assert document["@context"] == B + "context.jsonld"


def test_the_home_page_counts_policy_concepts_not_every_concept_of_every_scheme(read_only_service):
    home = httpx.get(read_only_service.url + "/", headers={"Accept": "text/html"}).text
    shown = int(re.search(r'<span class="count">(\d+)</span> policy concepts', home).group(1))
    response = httpx.post(
        read_only_service.sparql,
        headers={"Accept": "application/sparql-results+json"},
        data={
            "query": f"SELECT (COUNT(DISTINCT ?c) AS ?policy) (COUNT(DISTINCT ?any) AS ?all) WHERE {{ "
            f"{{ ?c a/<http://www.w3.org/2000/01/rdf-schema#subClassOf>* <{PKG}PolicyConcept> }} UNION "
            f"{{ ?any a/<http://www.w3.org/2000/01/rdf-schema#subClassOf>* "
            f"<http://www.w3.org/2004/02/skos/core#Concept> }} }}"
        },
    )
    row = response.json()["results"]["bindings"][0]
    assert shown == int(row["policy"]["value"]) < int(row["all"]["value"])  # aims, means, values … are not counted


def test_home_page_shows_counts_and_points_harvesters_to_the_descriptions(service):
    home = httpx.get(service.url + "/", headers={"Accept": "text/html"})
    assert 'rel="describedby"' in home.headers["link"] and "</.well-known/void>" in home.headers["link"]
    assert re.search(r'<span class="count">\d+</span> recommendations', home.text)
    assert re.search(r'<span class="count">\d+</span> events — <a href="/timeline">', home.text)
    machine = httpx.get(service.url + "/", headers={"Accept": "text/turtle"})
    assert machine.status_code == 303 and machine.headers["location"] == "/.well-known/void"


def test_dumps_hold_every_quad_and_support_conditional_requests(service):
    count = int(
        httpx.get(
            service.sparql,
            params={"query": "SELECT (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } }"},
            headers={"Accept": "application/sparql-results+json"},
        ).json()["results"]["bindings"][0]["n"]["value"]
    )
    packed = current_dump(service.url, "policykg.nq.gz")
    assert packed.headers["content-type"] == "application/gzip"
    lines = gzip.decompress(packed.content).decode("utf-8").splitlines()
    assert len([line for line in lines if line.strip()]) == count
    plain = set(parse_bytes(httpx.get(service.url + "/dumps/policykg.nq").content, "nquads", B))
    trig = set(parse_bytes(httpx.get(service.url + "/dumps/policykg.trig").content, "trig", B))
    assert plain == trig == set(parse_bytes("\n".join(lines).encode(), "nquads", B))
    tag, modified = packed.headers["etag"], packed.headers["last-modified"]
    assert httpx.get(service.url + "/dumps/policykg.nq.gz", headers={"If-None-Match": tag}).status_code == 304
    a_second_later = format_datetime(parsedate_to_datetime(modified) + dt.timedelta(seconds=1), usegmt=True)
    assert (
        httpx.get(service.url + "/dumps/policykg.nq.gz", headers={"If-Modified-Since": a_second_later}).status_code
        == 304
    )
    head = httpx.head(service.url + "/dumps/policykg.nq.gz")
    assert head.status_code == 200 and head.headers["etag"] == tag and head.content == b""
    assert {d["url"].rsplit("/", 1)[-1]: d["etag"] for d in httpx.get(service.url + "/dumps").json()["dumps"]}[
        "policykg.nq.gz"
    ] == tag
    # A refused write leaves the store as it was, and so the dump's validators: nothing to fetch again.
    assert post(service, "/entries", conference("Refused", "2025-13-45")[1]).status_code == 422
    assert httpx.get(service.url + "/dumps/policykg.nq.gz", headers={"If-None-Match": tag}).status_code == 304
    assert post(service, "/entries", conference("Changes the dump", "2025-04-04")[1]).status_code == 201
    changed = current_dump(service.url, "policykg.nq.gz", headers={"If-None-Match": tag})
    assert changed.status_code == 200 and changed.headers["etag"] != tag
    assert parsedate_to_datetime(changed.headers["last-modified"]) >= parsedate_to_datetime(modified)
    assert httpx.get(service.url + "/dumps/policykg.ttl").status_code == 404


def test_crawlers_find_every_resource_page_through_robots_and_the_sitemaps(service):
    robots = httpx.get(service.url + "/robots.txt").text
    assert f"Sitemap: {B}sitemap.xml" in robots and "Disallow: /sparql" in robots
    index = httpx.get(service.url + "/sitemap.xml").text
    files = re.findall(r"<loc>([^<]+)</loc>", index)
    assert files[0] == B + "sitemaps/pages.xml"
    pages = [
        url
        for file in files
        for url in re.findall(r"<loc>([^<]+)</loc>", httpx.get(service.url + "/" + file.removeprefix(B)).text)
    ]
    assert (
        B + "doc/id/recommendation/innovation-and-integrity-1.html" in pages
        and B + "timeline" in pages
        and B + "ontology.html" in pages
    )
    for url in pages[:5] + [p for p in pages if "/doc/id/" in p][:5]:
        assert httpx.get(service.url + "/" + url.removeprefix(B)).status_code == 200, url


def test_a_json_ld_entry_may_name_the_published_context(service):
    iri = f"{B}id/event/jsonld-test-{uuid.uuid4()}"
    body = {
        "@context": B + "context.jsonld",
        "@id": iri,
        "@type": "pkg:Conference",
        "rdfs:label": {"@value": "Named by the published context", "@language": "en"},
        "dcterms:title": {"@value": "Named by the published context", "@language": "en"},
        "schema:startDate": {"@value": "2025-05-05", "@type": "xsd:date"},
    }
    created = httpx.post(
        service.url + "/entries", json=body, headers={"Content-Type": "application/ld+json", **service.auth()}
    )
    assert created.status_code == 201, created.text
    assert dereference(service, iri, "text/turtle").status_code == 200


def test_if_modified_since_uses_http_dates(service):
    later = format_datetime(parsedate_to_datetime("Wed, 01 Jan 2120 00:00:00 GMT"), usegmt=True)
    assert httpx.get(service.url + "/dumps/policykg.nq", headers={"If-Modified-Since": later}).status_code == 304
    assert httpx.get(service.url + "/dumps/policykg.nq", headers={"If-Modified-Since": "not a date"}).status_code == 200


def test_a_browser_gets_errors_as_pages_and_a_client_as_problem_details(service):
    browser = httpx.get(
        service.url + "/id/event/no-such-event",
        headers={"Accept": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"},
    )
    assert browser.status_code == 404 and browser.headers["content-type"].startswith("text/html")
    assert "<h1>404: No such resource</h1>" in browser.text and "/id/event/no-such-event" in browser.text
    client = httpx.get(service.url + "/id/event/no-such-event", headers={"Accept": "*/*"})
    assert client.status_code == 404 and client.headers["content-type"] == "application/problem+json"
    assert httpx.get(service.url + "/no/such/page", headers={"Accept": "text/html"}).text.count("<h1>404") == 1


def test_an_assertion_graph_page_shows_what_it_states_and_where_it_comes_from(service):
    html = httpx.get(
        service.url + "/graph/seed/inferred-meeting-year", headers={"Accept": "text/html"}, follow_redirects=True
    ).text
    states = html[html.index('id="contents"') : html.index('id="provenance"')]
    assert "2024-04-09" in states and "11th meeting of the Cultural Heritage Expert Group" in states
    assert ">Inferred assertion</a>" in html  # the graph's type, named by the ontology's label


@pytest.mark.parametrize(
    "path",
    [
        "/doc/id/event/x%3E%20%7D%20SERVICE%20%3Chttp%3A%2F%2F127.0.0.1%3A{port}%2F%3E%20%7B%20%3Fa%20%3Fb%20%3Fc%20%7D%20"
        "VALUES%20%3Fz%20%7B%20%3Curn%3Ay.ttl",
        "/id/event/x%3E%20%7D%20SERVICE%20%3Chttp%3A%2F%2F127.0.0.1%3A{port}%2F%3E%20%7B%20%3Fa%20%3Fb%20%3Fc%20%7D%20%23",
        "/entries/x%3E%20%7D%20SERVICE%20%3Chttp%3A%2F%2F127.0.0.1%3A{port}%2F%3E%20%7B%20%3Fa%20%3Fb%20%3Fc%20%7D%20%23",
    ],
)
def test_a_path_is_never_read_as_sparql(service, listener, path):
    response = httpx.get(service.url + path.format(port=listener.port), headers={"Accept": "text/turtle"})
    assert response.status_code == 404 and response.headers["content-type"] == "application/problem+json"
    assert listener.connections == 0


@pytest.mark.parametrize(
    "path",
    [
        "/id/%00",
        "/doc/id/a%20b.ttl",
        "/doc/",
        "/doc/id/",
        "/doc/id/x.unknown",
        "/sitemaps/%C2%B2.xml",
        "/sitemaps/" + "9" * 5000 + ".xml",
        "/ldes/" + "9" * 30,
    ],
)
def test_odd_paths_are_client_errors(service, path):
    response = httpx.get(service.url + path, headers={"Accept": "text/turtle"})
    assert response.status_code in (400, 404, 422) and response.headers["content-type"] == "application/problem+json"


def test_iris_with_letters_beyond_ascii_dereference(service):
    iri = f"{B}id/event/café-€-{uuid.uuid4().hex[:6]}"
    body = (
        PREFIXES
        + f"""<{iri}> a pkg:Conference ; rdfs:label "Café"@fr ; <http://purl.org/dc/terms/title> "Café"@fr ;
        schema:startDate "2025-07-07"^^xsd:date ."""
    )
    assert post(service, "/entries", body).status_code == 201
    path = "/" + iri.removeprefix(B)
    first = httpx.get(service.url + path, headers={"Accept": "text/turtle"})
    assert first.status_code == 303 and first.headers["location"].isascii()
    document = httpx.get(service.url + first.headers["location"])
    assert ox.NamedNode(iri) in {t.subject for t in triples_of(document, "turtle")}
    page = httpx.get(service.url + first.headers["location"].replace(".ttl", ".html")).text
    assert "<h1>Café</h1>" in page


def test_the_year_is_four_ascii_digits(service):
    assert httpx.get(service.url + "/timeline", params={"year": "١٢٣٤"}).status_code == 400


def test_a_change_within_the_same_second_is_not_taken_for_no_change(service):
    first = current_dump(service.url, "policykg.nq")
    assert post(service, "/entries", conference("Same second", "2025-08-08")[1]).status_code == 201
    again = current_dump(service.url, "policykg.nq", headers={"If-Modified-Since": first.headers["last-modified"]})
    assert again.status_code == 200 and len(again.content) > len(first.content)


def test_head_answers_every_page_with_the_headers_of_get_and_no_length_for_a_stream(service):
    for path in ["/timeline", "/context.jsonld", "/robots.txt", "/sitemap.xml", "/entries", "/dumps", "/"]:
        head, get = httpx.head(service.url + path), httpx.get(service.url + path)
        assert head.status_code == get.status_code == 200, path
        assert head.headers["content-type"] == get.headers["content-type"], path
    # A dump is a file written once per revision: HEAD says its length, as GET sends it.
    dump = current_dump(service.url, "policykg.nq")
    head = httpx.head(service.url + "/dumps/policykg.nq")
    assert head.headers["etag"] == dump.headers["etag"] and head.headers["content-length"] == str(len(dump.content))


def test_the_class_hierarchy_cannot_be_changed_by_data(service):
    update = (
        f"INSERT DATA {{ GRAPH <{B}graph/subclass-test> {{ <{B}id/class/workshop> "
        f"<http://www.w3.org/2000/01/rdf-schema#subClassOf> <{PKG}Event> }} }}"
    )
    refused = httpx.post(service.sparql, data={"update": update}, headers=service.auth())
    assert refused.status_code == 403 and "class hierarchy" in refused.json()["detail"]
    assert not httpx.get(
        service.sparql,
        params={"query": f"ASK {{ GRAPH ?g {{ <{B}id/class/workshop> ?p ?o }} }}"},
        headers={"Accept": "application/sparql-results+json"},
    ).json()["boolean"]


@pytest.mark.parametrize("media_type", ["text/turtle", "text/html"])
def test_a_document_read_before_a_revision_shows_the_revision_right_after_it(service, media_type):
    # Documents are kept between writes (per revision): a write must never leave a kept one behind.
    iri, body = conference("Before the revision", "2025-10-10")
    created = post(service, "/entries", body)
    assert created.status_code == 201, created.text
    before = dereference(service, iri, media_type)
    assert "Before the revision" in before.text and dereference(service, iri, media_type).text == before.text
    revised = httpx.put(
        service.url + created.headers["location"],
        headers={**service.auth(), "Content-Type": "text/turtle"},
        content=body.replace("Before the revision", "After the revision").encode(),
    )
    assert revised.status_code == 201, revised.text
    after = dereference(service, iri, media_type)
    assert "After the revision" in after.text and "Before the revision" not in after.text

"""A harvester that knows only the service's root URL finds and fetches everything, by the standards alone.

The service runs with its base IRI equal to its own address, as in a deployment, so every IRI it
publishes can be fetched as it is: Link headers (RFC 8288) lead to VoID and DCAT-AP, those name the
SPARQL endpoint, the dumps, the change stream and example resources, and the figures agree.
"""

import gzip
import re
from collections.abc import Iterator

import httpx
import pyoxigraph as ox
import pytest
from conftest import TOKEN, Service, free_port, start_service, stop

from policykg.rdf.input import parse_bytes

VOID = "http://rdfs.org/ns/void#"
DCAT = "http://www.w3.org/ns/dcat#"
DCTERMS = "http://purl.org/dc/terms/"
RDF_TYPE = "http://www.w3.org/1999/02/22-rdf-syntax-ns#type"
TREE = "https://w3id.org/tree#"
LDES = "https://w3id.org/ldes#"
SYNTAXES = {
    "text/turtle": "turtle",
    "application/ld+json": "jsonld",
    "application/n-triples": "ntriples",
    "application/rdf+xml": "rdfxml",
}


@pytest.fixture(scope="module")
def deployed(tmp_path_factory) -> Iterator[Service]:
    """A service whose base IRI is its own address, with one accepted entry."""
    folder = tmp_path_factory.mktemp("harvested")
    port = free_port()
    process, url = start_service(
        folder,
        port=port,
        POLICYKG_BASE_IRI=f"http://127.0.0.1:{port}/",
        POLICYKG_STORE="memory",
        POLICYKG_UPDATE_TOKEN=TOKEN,
        POLICYKG_QUERY_WORKERS="0",
    )
    try:
        entry = f"""@prefix pkg: <https://w3id.org/policykg/ontology#> .
            @prefix xsd: <http://www.w3.org/2001/XMLSchema#> .
            <id/event/harvest-conference> a pkg:Conference ; <http://www.w3.org/2000/01/rdf-schema#label> "Harvest"@en ;
              <{DCTERMS}title> "Harvest"@en ; <https://schema.org/startDate> "2025-06-01"^^xsd:date ."""
        created = httpx.post(
            url + "/entries", content=entry, headers={"Content-Type": "text/turtle", "Authorization": f"Bearer {TOKEN}"}
        )
        assert created.status_code == 201, created.text
        yield Service(url, TOKEN)
    finally:
        stop(process)


def links(response: httpx.Response, rel: str) -> list[str]:
    """The targets of a Link header with the given relation type (RFC 8288)."""
    found = []
    for part in re.findall(r"<([^>]*)>((?:\s*;\s*[^,;]+)*)", response.headers.get("link", "")):
        target, parameters = part
        if re.search(rf'rel="?[^";,]*\b{re.escape(rel)}\b', parameters):
            found.append(str(response.url.join(target)))
    return found


def fetch_graph(url: str, accept: str = "text/turtle") -> tuple[set[ox.Triple], httpx.Response]:
    response = httpx.get(url, headers={"Accept": accept}, follow_redirects=True)
    assert response.status_code == 200, (url, response.status_code)
    syntax = SYNTAXES[response.headers["content-type"].split(";")[0]]
    # The service's own JSON-LD context is resolved locally; any other remote context would be refused.
    root = str(response.url.join("/"))
    quads = parse_bytes(response.content, syntax, url, service_base=root)
    return {ox.Triple(q.subject, q.predicate, q.object) for q in quads}, response


def objects(triples: set[ox.Triple], subject: ox.NamedNode | None, predicate: str) -> list[str]:
    return sorted(
        t.object.value for t in triples if (subject is None or t.subject == subject) and t.predicate.value == predicate
    )


def subjects_of_type(triples: set[ox.Triple], cls: str) -> list[ox.NamedNode]:
    return [t.subject for t in triples if t.predicate.value == RDF_TYPE and t.object.value == cls]


def test_a_harvester_starting_at_the_root_finds_and_fetches_everything(deployed):
    root = httpx.get(deployed.url + "/", headers={"Accept": "text/html"})
    descriptions = links(root, "describedby")
    void_url = next(u for u in descriptions if u.endswith("/.well-known/void"))
    catalog_url = next(u for u in descriptions if u != void_url)
    # A client that asks the root for RDF is sent to the VoID description too.
    assert str(httpx.get(deployed.url + "/", headers={"Accept": "text/turtle"}, follow_redirects=True).url) == void_url

    void, _ = fetch_graph(void_url)
    dataset = next(d for d in subjects_of_type(void, VOID + "Dataset") if objects(void, d, VOID + "sparqlEndpoint"))
    endpoint = objects(void, dataset, VOID + "sparqlEndpoint")[0]
    dumps = objects(void, dataset, VOID + "dataDump")
    examples = objects(void, dataset, VOID + "exampleResource")
    announced = int(objects(void, dataset, VOID + "triples")[0])
    assert objects(void, dataset, VOID + "uriSpace") == [deployed.url + "/id/"]
    assert len(examples) >= 3 and len(dumps) == 3

    catalog, _ = fetch_graph(catalog_url)
    (catalogue,) = subjects_of_type(catalog, DCAT + "Catalog")
    assert [ox.NamedNode(d) for d in objects(catalog, catalogue, DCAT + "dataset")] == [dataset]
    downloads = sorted(
        u
        for d in objects(catalog, dataset, DCAT + "distribution")
        for u in objects(catalog, ox.NamedNode(d), DCAT + "downloadURL")
    )
    assert downloads == dumps
    services = {
        s: objects(catalog, ox.NamedNode(s), DCAT + "endpointURL")[0]
        for s in objects(catalog, catalogue, DCAT + "service")
    }
    assert endpoint in services.values()
    stream_url = next(
        url
        for s, url in services.items()
        if "https://w3id.org/ldes/specification" in objects(catalog, ox.NamedNode(s), DCTERMS + "conformsTo")
    )

    # The figures agree: VoID, the dump, and a SPARQL count at the endpoint VoID names.
    dump_url = next(u for u in dumps if u.endswith(".nq.gz"))
    dumped = [
        line for line in gzip.decompress(httpx.get(dump_url).content).decode("utf-8").splitlines() if line.strip()
    ]
    counted = httpx.get(
        endpoint,
        params={"query": "SELECT (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } }"},
        headers={"Accept": "application/sparql-results+json"},
    ).json()
    assert announced == len(dumped) == int(counted["results"]["bindings"][0]["n"]["value"])

    # The change stream is an LDES whose view leads to the entry written above.
    stream, _ = fetch_graph(stream_url)
    streams = subjects_of_type(stream, LDES + "EventStream")
    assert streams and objects(stream, streams[0], TREE + "view")
    members = [t.object.value for t in stream if t.predicate.value == TREE + "member"]
    pages = objects(stream, streams[0], TREE + "view")
    while not members and pages:
        page, _ = fetch_graph(pages.pop())
        members += [t.object.value for t in page if t.predicate.value == TREE + "member"]
        pages += [t.object.value for t in page if t.predicate.value == TREE + "node"]
    assert members

    # Every example resource dereferences, in every syntax, to statements about it.
    for example in examples:
        described = None
        for accept in SYNTAXES:
            triples, response = fetch_graph(example, accept)
            assert response.history and response.history[0].status_code == 303
            about = {t for t in triples if t.subject == ox.NamedNode(example)}
            assert about and objects(triples, ox.NamedNode(example), RDF_TYPE)
            described = described or about
            assert about == described, (example, accept)


def test_crawlers_learn_the_sitemap_from_robots_txt_and_every_listed_page_answers(deployed):
    robots = httpx.get(deployed.url + "/robots.txt").text
    (sitemap,) = re.findall(r"^Sitemap:\s*(\S+)", robots, re.M)
    files = re.findall(r"<loc>([^<]+)</loc>", httpx.get(sitemap).text)
    pages = [url for file in files for url in re.findall(r"<loc>([^<]+)</loc>", httpx.get(file).text)]
    assert deployed.url + "/doc/id/event/harvest-conference.html" in pages
    for url in pages:
        response = httpx.get(url)
        assert response.status_code == 200 and response.headers["content-type"].startswith("text/html"), url

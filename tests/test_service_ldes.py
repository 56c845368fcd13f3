"""The change stream over HTTP, read by a small LDES client that follows the specification step by step."""

import datetime as dt
import itertools
import time
from collections.abc import Iterator
from dataclasses import dataclass, field

import httpx
import pytest
import rdflib
import rdflib.compare
from conftest import TOKEN, Service, start_service, stop
from rdflib.namespace import DCTERMS, PROV, RDF
from test_service_entries import SRJ, B, meeting, post

from policykg.rdf.jsonld import inline_own_context

PAGE_SIZE = 3
LDES = rdflib.Namespace("https://w3id.org/ldes#")
TREE = rdflib.Namespace("https://w3id.org/tree#")
SYNTAXES = {
    "text/turtle": "turtle",
    "application/ld+json": "json-ld",
    "application/n-triples": "nt",
    "application/trig": "trig",
    "application/n-quads": "nquads",
}
IMMUTABLE = "public, max-age=31536000, immutable"
_numbers = itertools.count(2000)


@pytest.fixture(scope="module")
def ldes_service(tmp_path_factory) -> Iterator[Service]:
    """The service over an on-disk store with pages of three members."""
    folder = tmp_path_factory.mktemp("ldes")
    process, url = start_service(
        folder,
        POLICYKG_STORE=str(folder / "store"),
        POLICYKG_UPDATE_TOKEN=TOKEN,
        POLICYKG_QUERY_WORKERS="1",
        POLICYKG_LDES_PAGE_SIZE=str(PAGE_SIZE),
    )
    try:
        yield Service(url, TOKEN)
    finally:
        stop(process)


# --- A reader of Linked Data Event Streams, after the LDES specification (https://w3id.org/ldes/specification).


@dataclass
class Member:
    """A member as a client sees it: its IRI, timestamp, the entity it is a version of, whether it deletes."""

    iri: str
    time: dt.datetime
    version_of: str
    deleted: bool
    types: set[str]


@dataclass
class Stream:
    """What one synchronisation run found: the stream, its members in the order emitted, and each page's count."""

    iri: str
    members: list[Member] = field(default_factory=list)
    pages: dict[str, int] = field(default_factory=dict)


def dereference(service: Service, iri: str) -> rdflib.Graph:
    """GET an IRI of the stream (they are under the base, served at the service's address) and parse it."""
    response = httpx.get(service.url + "/" + iri.removeprefix(B), headers={"Accept": "text/turtle"})
    assert response.status_code == 200, response.text
    return rdflib.Graph().parse(data=response.text, format="turtle", publicID=iri)


def read_stream(service: Service, start: str) -> Stream:
    """Replicate the stream from `start` (the stream or its root node), in ordered ascending mode."""
    graph = dereference(service, start)
    # Initialization run: `?s tree:view <>` names the stream when `start` is the root node, else
    # `<start> tree:view ?o` names the root node, which is dereferenced in turn.
    streams = list(graph.subjects(TREE.view, rdflib.URIRef(start)))
    if streams:
        assert len(streams) == 1
        stream, root = streams[0], rdflib.URIRef(start)
    else:
        (root,) = graph.objects(rdflib.URIRef(start), TREE.view)
        stream, graph = rdflib.URIRef(start), dereference(service, str(root))
        assert list(graph.subjects(TREE.view, root)) == [stream]
    # Context information, from the root node.
    timestamp = graph.value(stream, LDES.timestampPath)
    version_of = graph.value(stream, LDES.versionOfPath)
    delete_path = graph.value(stream, LDES.versionDeletePath) or RDF.type
    delete_object = graph.value(stream, LDES.versionDeleteObject)
    assert isinstance(timestamp, rdflib.URIRef) and isinstance(version_of, rdflib.URIRef)
    found = Stream(str(stream))
    pending, seen = [root], {root}
    while pending:
        node = pending.pop(0)
        if node != root:
            graph = dereference(service, str(node))
        # Members: `<ES> tree:member ?m` and the star pattern of each, ordered by the timestamp path.
        members = [
            Member(
                str(m),
                graph.value(m, timestamp).toPython(),
                str(graph.value(m, version_of)),
                (m, delete_path, delete_object) in graph,
                {str(t) for t in graph.objects(m, RDF.type)},
            )
            for m in graph.objects(stream, TREE.member)
        ]
        found.pages[str(node)] = len(members)
        emitted = {m.iri for m in found.members}
        found.members += sorted((m for m in members if m.iri not in emitted), key=lambda m: (m.time, m.iri))
        # Relations: `<> tree:relation ?r . ?r tree:node ?n`; each new node is visited once.
        for relation in graph.objects(node, TREE.relation):
            following = graph.value(relation, TREE.node)
            if following not in seen:
                seen.add(following)
                pending.append(following)
    return found


# --- Writing entries, and what the registry says about them.


def submit(service: Service) -> tuple[str, str]:
    """Submit a new meeting; its entry IRI and the Turtle sent."""
    _, body = meeting(next(_numbers))
    response = post(service, "/entries", body)
    assert response.status_code == 201, response.text
    return response.json()["entry"], body


def revise(service: Service, entry: str, body: str) -> str:
    """Send a new version of an entry (the meeting a day later); the new entry's IRI."""
    response = httpx.put(
        service.url + "/" + entry.removeprefix(B),
        content=body.replace('-01"', '-02"').encode(),
        headers={"Content-Type": "text/turtle", **service.auth()},
        timeout=60,
    )
    assert response.status_code == 201, response.text
    return response.json()["entry"]


def retract(service: Service, entry: str) -> None:
    """Retract an entry."""
    assert httpx.delete(service.url + "/" + entry.removeprefix(B), headers=service.auth()).status_code == 204


def recorded_changes(service: Service) -> dict[str, dt.datetime]:
    """Every change the registry records, as the member it should be: entries and retractions, with their times."""
    query = f"""SELECT ?member ?time WHERE {{ GRAPH <{B}graph/entries> {{
        {{ ?member a <https://w3id.org/policykg/ontology#Entry> ; <{PROV.generatedAtTime}> ?time }} UNION
        {{ ?entry <https://w3id.org/policykg/ontology#retractedBy> ?who ; <{PROV.invalidatedAtTime}> ?time
           BIND(IRI(CONCAT(STR(?entry), "/retraction")) AS ?member) }} }} }}"""
    rows = httpx.get(service.sparql, params={"query": query}, headers={"Accept": SRJ}).json()["results"]["bindings"]
    return {
        row["member"]["value"]: rdflib.Literal(row["time"]["value"], datatype=rdflib.XSD.dateTime).toPython()
        for row in rows
    }


def fill(service: Service, pages: int) -> None:
    """Make sure the first `pages` pages are full and some member is a second later than all of them."""
    while len(recorded_changes(service)) < pages * PAGE_SIZE:
        submit(service)
    time.sleep(1.1)  # timestamps have whole seconds
    submit(service)


def fetch(service: Service, path: str, accept: str = "text/turtle", **headers: str) -> httpx.Response:
    return httpx.get(service.url + path, headers={"Accept": accept, **headers})


def varies_by_accept(response: httpx.Response) -> bool:
    return "accept" in [name.strip().lower() for name in response.headers.get("vary", "").split(",")]


# --- The specification of the stream.


def test_the_stream_names_its_context_and_one_view_the_root_page(ldes_service):
    response = fetch(ldes_service, "/ldes")
    assert response.status_code == 200 and varies_by_accept(response)
    assert response.headers["cache-control"] == "max-age=5" and response.headers["etag"].startswith('"')
    graph = rdflib.Graph().parse(data=response.text, format="turtle")
    stream = rdflib.URIRef(B + "ldes")
    assert (stream, RDF.type, LDES.EventStream) in graph
    assert list(graph.objects(stream, TREE.view)) == [rdflib.URIRef(B + "ldes/0")]
    assert graph.value(stream, LDES.timestampPath) == PROV.generatedAtTime
    assert graph.value(stream, LDES.versionOfPath) == DCTERMS.isVersionOf
    assert graph.value(stream, LDES.versionDeletePath) == RDF.type
    assert graph.value(stream, LDES.versionDeleteObject) == rdflib.URIRef(
        "https://www.w3.org/ns/activitystreams#Delete"
    )


def test_a_reader_collects_one_member_per_entry_revision_and_retraction_in_time_order(ldes_service):
    first, body = submit(ldes_service)
    second = revise(ldes_service, first, body)
    third = revise(ldes_service, second, body)
    gone, _ = submit(ldes_service)
    retract(ldes_service, gone)
    kept, _ = submit(ldes_service)
    stream = read_stream(ldes_service, B + "ldes")
    recorded = recorded_changes(ldes_service)
    assert stream.iri == B + "ldes"
    assert len(stream.members) == len({m.iri for m in stream.members}) == len(recorded)
    assert {m.iri: m.time for m in stream.members} == recorded
    times = [m.time for m in stream.members]
    assert times == sorted(times)
    found = {m.iri: m for m in stream.members}
    assert {iri: found[iri].version_of for iri in (first, second, third, gone, gone + "/retraction", kept)} == {
        first: first,
        second: first,
        third: first,
        gone: gone,
        gone + "/retraction": gone,
        kept: kept,
    }
    assert [iri for iri in (first, second, third, gone, gone + "/retraction", kept) if found[iri].deleted] == [
        gone + "/retraction"
    ]
    activity = "https://www.w3.org/ns/activitystreams#"
    assert [activity + "Create" in found[iri].types for iri in (first, second, third, gone, kept)] == [
        True,
        False,
        False,
        True,
        True,
    ]
    assert all(activity + "Update" in found[iri].types for iri in (second, third))


def test_pages_hold_the_configured_number_of_members(ldes_service):
    fill(ldes_service, 2)
    stream = read_stream(ldes_service, B + "ldes/0")
    counts = list(stream.pages.values())
    assert list(stream.pages) == [f"{B}ldes/{n}" for n in range(len(counts))]
    assert len(counts) >= 3 and set(counts[:-1]) == {PAGE_SIZE} and 1 <= counts[-1] <= PAGE_SIZE


def test_full_pages_are_immutable_and_cached_for_a_year(ldes_service):
    fill(ldes_service, 2)
    for path in ("/ldes/0", "/ldes/1"):
        first, again = fetch(ldes_service, path), fetch(ldes_service, path)
        assert first.headers["cache-control"] == IMMUTABLE
        assert first.headers["etag"] == again.headers["etag"] and not first.headers["etag"].startswith("W/")
        assert first.content == again.content
        graph = rdflib.Graph().parse(data=first.text, format="turtle")
        assert (rdflib.URIRef(B + path[1:]), LDES.immutable, rdflib.Literal(True)) in graph


def test_the_newest_page_is_short_cached_and_changes_with_a_new_entry(ldes_service):
    submit(ldes_service)
    last = list(read_stream(ldes_service, B + "ldes").pages)[-1].removeprefix(B)
    before = fetch(ldes_service, "/" + last)
    assert before.headers["cache-control"] == "max-age=5"
    entry, _ = submit(ldes_service)
    after = fetch(ldes_service, "/" + last)
    assert after.headers["etag"] != before.headers["etag"]
    assert entry in {m.iri for m in read_stream(ldes_service, B + "ldes").members}


def test_a_client_copy_that_is_current_gets_304(ldes_service):
    fill(ldes_service, 1)
    for path in ("/ldes", "/ldes/0"):
        tag = fetch(ldes_service, path).headers["etag"]
        again = fetch(ldes_service, path, **{"If-None-Match": tag})
        assert again.status_code == 304 and again.content == b"" and again.headers["etag"] == tag
        assert "cache-control" in again.headers
        assert fetch(ldes_service, path, **{"If-None-Match": '"another"'}).status_code == 200


def test_head_sends_the_headers_of_get_without_the_body(ldes_service):
    got = fetch(ldes_service, "/ldes/0")
    head = httpx.head(ldes_service.url + "/ldes/0", headers={"Accept": "text/turtle"})
    assert head.status_code == 200 and head.content == b""
    assert head.headers["etag"] == got.headers["etag"]


def test_a_page_past_the_end_is_a_404_problem(ldes_service):
    response = fetch(ldes_service, "/ldes/100000")
    assert response.status_code == 404
    assert response.headers["content-type"] == "application/problem+json"
    assert "there is no page 100000" in response.json()["detail"]
    assert fetch(ldes_service, "/ldes/-1").status_code == 400


def test_every_syntax_of_a_page_is_the_same_graph(ldes_service):
    fill(ldes_service, 1)
    graphs = []
    for media_type, syntax in SYNTAXES.items():
        response = fetch(ldes_service, "/ldes/0", media_type)
        assert response.headers["content-type"].split(";")[0] == media_type
        assert varies_by_accept(response)
        # The JSON-LD names the service's own context, which the project resolves without a request.
        data = inline_own_context(response.content, B) if syntax == "json-ld" else response.content
        dataset = rdflib.Dataset()
        dataset.parse(data=data, format=syntax)
        graph = rdflib.Graph()
        for s, p, o, _ in dataset.quads():
            graph.add((s, p, o))
        graphs.append(graph)
    assert len(graphs[0]) > 20
    assert all(rdflib.compare.isomorphic(graphs[0], other) for other in graphs[1:])
    assert fetch(ldes_service, "/ldes/0", "text/csv").status_code == 406

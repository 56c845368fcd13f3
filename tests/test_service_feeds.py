"""Atom feeds of what changed, over HTTP, read as a feed reader reads them (feedparser) and as XML."""

import datetime as dt
import itertools
import uuid
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from html.parser import HTMLParser
from urllib.parse import urlencode

import feedparser
import httpx
import pytest
from conftest import TOKEN, Service, start_service, stop
from test_service_entries import NUMBERS, PREFIXES, SRJ, B, meeting, post

ATOM = "{http://www.w3.org/2005/Atom}"
AS = "https://www.w3.org/ns/activitystreams#"
PKG = "https://w3id.org/policykg/ontology#"
PROV = "http://www.w3.org/ns/prov#"
CONCEPT, ORG, REC = B + "id/concept/", B + "id/org/", B + "id/recommendation/"
PAGE_POLICY = "default-src 'none'; style-src 'unsafe-inline'; img-src 'self' data:; form-action 'self'; base-uri 'none'"
_paged_numbers = itertools.count(3000)  # the paged service's own store: numbers apart from the shared one's


def feed_url(kind: str, iri: str, **more: object) -> str:
    return f"/feeds/{kind}.atom?" + urlencode({"iri": iri, **more})


def read(service: Service, path: str, **headers: str) -> tuple[httpx.Response, feedparser.FeedParserDict]:
    """GET a feed (a path, or an IRI under the base) and parse it as a feed reader does; it must be well formed."""
    response = httpx.get(service.url + "/" + path.removeprefix(B).lstrip("/"), headers=headers, timeout=60)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/atom+xml; charset=utf-8"
    parsed = feedparser.parse(response.content)
    assert not parsed.bozo, parsed.get("bozo_exception")
    assert parsed.version == "atom10"
    return response, parsed


def ids(parsed: feedparser.FeedParserDict) -> list[str]:
    return [item.id for item in parsed.entries]


def submit(service: Service, turtle: str) -> str:
    response = post(service, "/entries", turtle)
    assert response.status_code == 201, response.text
    return response.json()["entry"]


def registry_time(service: Service, entry: str, prop: str) -> str:
    """When the registry says an entry was generated (or invalidated), as written there."""
    rows = httpx.get(
        service.sparql,
        params={"query": f"SELECT ?t WHERE {{ GRAPH <{B}graph/entries> {{ <{entry}> <{PROV}{prop}> ?t }} }}"},
        headers={"Accept": SRJ},
    ).json()["results"]["bindings"]
    return rows[0]["t"]["value"]


def meeting_on(number: int, extra: str) -> tuple[str, str]:
    """A meeting entry that also states `extra` about the meeting (predicate-object pairs)."""
    iri, body = meeting(number)
    return iri, body.rstrip(" .") + f" ; {extra} ."


def status_record(recommendation: str, day: str) -> tuple[str, str]:
    """An entry recording that a recommendation was taken up on a day, citing the seed's news item."""
    iri = f"{B}id/status/test-{uuid.uuid4()}"
    return iri, PREFIXES + (
        f"""<{iri}> a pkg:StatusRecord ; rdfs:label "Taken up, test {uuid.uuid4().hex[:6]}"@en ;
        pkg:recommendation <{recommendation}> ; pkg:status pkg:statusTakenUp ; pkg:statusDate "{day}"^^xsd:date ;
        <http://www.w3.org/ns/prov#wasDerivedFrom> <{B}id/source/nemo-news-eg11> ."""
    )


def test_the_feed_of_every_change_shows_an_entry_its_revision_and_its_retraction_newest_first(service):
    number = next(NUMBERS)
    iri, body = meeting(number, start="2024-11-01")
    first = submit(service, body)
    name = "/entries/" + first.rsplit("/", 1)[-1]
    revised = httpx.put(
        service.url + name,
        content=body.replace("2024-11-01", "2024-11-02").encode(),
        headers={"Content-Type": "text/turtle", **service.auth()},
    )
    assert revised.status_code == 201
    second = revised.json()["entry"]
    gone = httpx.delete(service.url + "/entries/" + second.rsplit("/", 1)[-1], headers=service.auth())
    assert gone.status_code == 204

    _, parsed = read(service, "/feeds/entries.atom")
    found = {item.id: item for item in parsed.entries}
    order = ids(parsed)
    mine = [second + "/retraction", second, first]
    assert set(mine) <= set(found) and [order.index(i) for i in mine] == sorted(order.index(i) for i in mine)
    times = [
        registry_time(service, second, "invalidatedAtTime"),
        registry_time(service, second, "generatedAtTime"),
        registry_time(service, first, "generatedAtTime"),
    ]
    for ident, verb, entry, time in zip(
        mine, ("Retracted", "Revised", "Added"), (second, second, first), times, strict=True
    ):
        item = found[ident]
        assert item.title == f"{verb}: Meeting {number}"
        assert item.link == entry  # the entry's page
        assert (item.updated, item.published) == (time, time)
        assert item.author == "operator"
        terms = {tag.term for tag in item.tags}
        assert f"{PKG}ExpertGroupMeeting" in terms
        assert {AS + "Create", AS + "Update", AS + "Delete"} & terms == {
            AS + {"Added": "Create", "Revised": "Update", "Retracted": "Delete"}[verb]
        }
        assert item.content[0].type == "text/html"
        assert f'href="{B}doc/id/event/{iri.rsplit("/", 1)[-1]}.html"' in item.content[0].value
    assert f'href="{first}"' in found[second].content[0].value  # the revision names the version it revises
    assert parsed.feed.id == B + "feeds/entries.atom"
    assert parsed.feed.title == "policykg: every change to the graph"
    links = {(link.rel, link.href) for link in parsed.feed.links}
    assert {("self", B + "feeds/entries.atom"), ("alternate", B + "entries?format=html")} <= links
    newest = max(dt.datetime.fromisoformat(item.updated) for item in parsed.entries)
    assert dt.datetime.fromisoformat(parsed.feed.updated) == newest


def test_a_feed_is_atom_that_xml_reads_with_every_required_element(service):
    submit(service, meeting(next(NUMBERS))[1])
    response = httpx.get(service.url + "/feeds/entries.atom")
    root = ET.fromstring(response.content)
    assert root.tag == ATOM + "feed"
    for name in ("id", "title", "updated", "author"):
        assert root.find(ATOM + name) is not None, name
    entries = root.findall(ATOM + "entry")
    assert entries
    for entry in entries:
        for name in ("id", "title", "updated", "published", "link", "category", "author"):
            assert entry.find(ATOM + name) is not None, name
        content = entry.find(ATOM + "content")
        assert content is not None and content.get("type") == "html"
        # Escaped HTML: the element holds text only, which is itself a fragment of HTML.
        assert len(content) == 0 and content.text and content.text.startswith("<div><p>")


def test_an_entry_with_markup_in_its_labels_is_escaped_not_pasted(service):
    number = next(NUMBERS)
    _, body = meeting(number)
    body = body.replace(f'"Meeting {number}"@en', f'"Meeting {number} <script>x</script> & co"@en')
    entry = submit(service, body)
    _, parsed = read(service, "/feeds/entries.atom")
    item = {item.id: item for item in parsed.entries}[entry]
    assert item.title == f"Added: Meeting {number} <script>x</script> & co"
    assert "<script>" not in item.content[0].value  # feedparser sanitises; the text survives escaped
    assert f"Meeting {number}" in item.content[0].value


def test_a_concept_feed_includes_entries_about_a_narrower_concept_and_leaves_out_the_others(service):
    # The regulatory framework for AI is narrower than artificial intelligence (data/concepts.trig).
    _, about = meeting_on(next(NUMBERS), f"<http://purl.org/dc/terms/subject> <{CONCEPT}ai-regulatory-framework>")
    narrower = submit(service, about)
    unrelated = submit(service, meeting(next(NUMBERS))[1])
    _, broad = read(service, feed_url("concept", CONCEPT + "artificial-intelligence"))
    assert narrower in ids(broad) and unrelated not in ids(broad)
    concepts = {tag.term for tag in {i.id: i for i in broad.entries}[narrower].tags}
    assert CONCEPT + "ai-regulatory-framework" in concepts
    assert broad.feed.title == "policykg: changes to the concept artificial intelligence or a narrower one"
    assert ("alternate", B + "doc/id/concept/artificial-intelligence.html") in {
        (link.rel, link.href) for link in broad.feed.links
    }
    _, itself = read(service, feed_url("concept", CONCEPT + "ai-regulatory-framework"))
    assert narrower in ids(itself)
    _, other = read(service, feed_url("concept", CONCEPT + "museums"))
    assert narrower not in ids(other) and unrelated not in ids(other)


def test_an_organisation_feed_includes_the_entries_naming_it_and_their_retraction(service):
    _, body = meeting_on(next(NUMBERS), f"pkg:organisedBy <{ORG}faro>")
    entry = submit(service, body)
    unrelated = submit(service, meeting(next(NUMBERS))[1])
    assert httpx.delete(service.url + "/entries/" + entry.rsplit("/", 1)[-1], headers=service.auth()).status_code == 204
    _, faro = read(service, feed_url("organisation", ORG + "faro"))
    # The retraction touches what the retracted entry named, though its triples are out of the graph now.
    assert ids(faro).index(entry + "/retraction") < ids(faro).index(entry)
    assert unrelated not in ids(faro)
    assert faro.feed.title == "policykg: changes to the organisation FARO"
    _, flanders = read(service, feed_url("organisation", ORG + "icom-flanders"))
    assert entry not in ids(flanders) and entry + "/retraction" not in ids(flanders)


def test_a_recommendation_feed_holds_its_trail_and_the_entries_that_add_to_it(service):
    record, body = status_record(REC + "innovation-and-integrity-2", "2025-01-15")
    entry = submit(service, body)
    _, parsed = read(service, feed_url("recommendation", REC + "innovation-and-integrity-2"))
    found = {item.id: item for item in parsed.entries}
    assert entry in found and found[entry].title.startswith("Added: Taken up, test")
    # The trail: the seed's steps, and the status record the entry added, each dated by its day.
    assert found[B + "id/status/innovation-and-integrity-2-proposed"].updated == "2024-03-20T00:00:00Z"
    assert found[record].updated == "2025-01-15T00:00:00Z" and found[record].title == "Taken up"
    assert found[REC + "innovation-and-integrity-2#issued"].title.startswith("Issued at Innovation and Integrity")
    dates = [item.updated_parsed for item in parsed.entries]
    assert dates == sorted(dates, reverse=True)
    _, other = read(service, feed_url("recommendation", REC + "innovation-and-integrity-3"))
    assert entry not in ids(other) and record not in ids(other)


def test_a_feed_answers_304_to_a_current_copy_and_200_with_a_new_etag_after_a_write(service):
    path = feed_url("concept", CONCEPT + "artificial-intelligence")
    response, _ = read(service, path)
    etag, modified = response.headers["etag"], response.headers["last-modified"]
    for headers in ({"If-None-Match": etag}, {"If-Modified-Since": modified}):
        again = httpx.get(service.url + path, headers=headers)
        assert again.status_code == 304 and again.content == b"" and again.headers["etag"] == etag
    head = httpx.head(service.url + path, headers={"If-None-Match": etag})
    assert head.status_code == 304
    _, about = meeting_on(next(NUMBERS), f"<http://purl.org/dc/terms/subject> <{CONCEPT}ai-regulatory-framework>")
    entry = submit(service, about)
    fresh, parsed = read(service, path, **{"If-None-Match": etag})
    assert fresh.headers["etag"] != etag and entry in ids(parsed)


class _Head(HTMLParser):
    """The feed links of a page's head (rel=alternate, type Atom) and its visible links marked as feeds."""

    def __init__(self) -> None:
        super().__init__()
        self.alternates: list[dict[str, str | None]] = []
        self.visible: list[str | None] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        if tag == "link" and found.get("rel") == "alternate" and found.get("type") == "application/atom+xml":
            self.alternates.append(found)
        if tag == "a" and found.get("class") == "feed":
            self.visible.append(found.get("href"))


@pytest.mark.parametrize(
    ("page", "feed"),
    [
        ("/", "/feeds/entries.atom"),
        ("/entries?format=html", "/feeds/entries.atom"),
        ("/doc/id/concept/artificial-intelligence.html", feed_url("concept", CONCEPT + "artificial-intelligence")),
        ("/doc/id/org/faro.html", feed_url("organisation", ORG + "faro")),
        (
            "/doc/id/recommendation/innovation-and-integrity-1.html",
            feed_url("recommendation", REC + "innovation-and-integrity-1"),
        ),
    ],
)
def test_a_page_names_its_feed_in_its_head_and_shows_it_under_its_policy(service, page, feed):
    response = httpx.get(service.url + page, headers={"Accept": "text/html"})
    assert response.status_code == 200
    assert response.headers["content-security-policy"] == PAGE_POLICY
    head = _Head()
    head.feed(response.text)
    assert [link["href"] for link in head.alternates] == [feed] and head.alternates[0]["title"]
    assert head.visible == [feed]
    _, parsed = read(service, feed)  # the link a reader discovers leads to a feed it reads
    assert parsed.feed.id == B + feed.lstrip("/")


def test_a_page_of_another_kind_names_no_feed(service):
    response = httpx.get(service.url + "/doc/id/event/cultural-heritage-expert-group-meeting-11.html")
    head = _Head()
    head.feed(response.text)
    assert head.alternates == [] and head.visible == []


@pytest.mark.parametrize(
    ("path", "status"),
    [
        ("/feeds/concept.atom", 400),  # no iri
        ("/feeds/concept.atom?iri=not-an-iri", 400),
        ("/feeds/concept.atom?iri=" + "http://x/%3Cscript%3E", 400),
        ("/feeds/entries.atom?page=0", 400),
        ("/feeds/entries.atom?page=first", 400),
        (feed_url("concept", CONCEPT + "no-such-concept"), 404),
        (feed_url("concept", ORG + "faro"), 404),  # an organisation is no concept
        (feed_url("organisation", CONCEPT + "museums"), 404),
        (feed_url("recommendation", B + "id/event/cultural-heritage-expert-group-meeting-11"), 404),
        ("/feeds/entries.atom?page=1000000", 404),  # past the last page
        ("/feeds/person.atom?iri=" + B + "id/person/julia-pagel", 404),  # no such kind of feed
    ],
)
def test_a_bad_or_unknown_feed_parameter_is_a_problem_not_a_fault(service, path, status):
    response = httpx.get(service.url + path)
    assert response.status_code == status
    assert response.headers["content-type"] == "application/problem+json"


@pytest.fixture(scope="module")
def paged_service(tmp_path_factory) -> Iterator[Service]:
    """The service over a store of its own, with feeds of two items a page."""
    folder = tmp_path_factory.mktemp("feeds")
    process, url = start_service(
        folder, POLICYKG_STORE="memory", POLICYKG_UPDATE_TOKEN=TOKEN, POLICYKG_FEED_PAGE_SIZE="2"
    )
    try:
        yield Service(url, TOKEN)
    finally:
        stop(process)


def test_a_long_feed_comes_in_pages_linked_first_next_and_previous(paged_service):
    written = [submit(paged_service, meeting(next(_paged_numbers))[1]) for _ in range(5)]
    seen, pages, address = [], [], B + "feeds/entries.atom"
    while address:
        _, parsed = read(paged_service, address)
        links = {link.rel: link.href for link in parsed.feed.links}
        pages.append(links)
        assert links["first"] == B + "feeds/entries.atom" and links["self"] == address
        seen += ids(parsed)
        address = links.get("next", "")
    assert seen == written[::-1]  # every change once, newest first
    assert len(pages) == 3 and "previous" not in pages[0]
    assert pages[1]["previous"] == B + "feeds/entries.atom" and pages[2]["previous"] == pages[1]["self"]
    assert httpx.get(paged_service.url + "/feeds/entries.atom?page=4").status_code == 404

"""The pictures over HTTP: a recommendation's trail and a concept's neighbourhood as SVG, read with an XML parser,
drawing exactly the graph's facts, each mark a link; the same facts as text beside them on the pages; problems
for a picture of nothing."""

import re
import uuid
import xml.etree.ElementTree as ET
from html.parser import HTMLParser

import httpx
import pytest
from conftest import Service
from test_service_entries import NUMBERS, PREFIXES, B, meeting, post

SVG = "{http://www.w3.org/2000/svg}"
REC = B + "id/recommendation/innovation-and-integrity-1"
CONCEPT = B + "id/concept/"
PAGE_POLICY = "default-src 'none'; style-src 'unsafe-inline'; img-src 'self' data:; form-action 'self'; base-uri 'none'"
CONFERENCE = "Innovation and Integrity: Museums paving the way in an AI-driven society"
MEETING_11 = "11th meeting of the Cultural Heritage Expert Group"


def picture(service: Service, name: str, iri: str) -> ET.Element:
    """The picture alone, parsed as XML: it must be an SVG document."""
    response = httpx.get(service.url + f"/pictures/{name}.svg", params={"iri": iri}, timeout=60)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "image/svg+xml"
    svg = ET.fromstring(response.content)
    assert svg.tag == SVG + "svg" and svg.get("role") == "img"
    assert svg.find(SVG + "title") is not None and svg.find(SVG + "desc") is not None
    return svg


def marks(svg: ET.Element) -> list[tuple[str, str]]:
    """Each mark of a picture, in the order drawn: where it links, and its label in full (its <title>)."""
    found = []
    for link in svg.iter(SVG + "a"):
        title = link.find(SVG + "title")
        if title is not None:
            found.append((link.get("href") or "", title.text or ""))
    return found


def page(service: Service, iri: str) -> str:
    response = httpx.get(service.url + "/doc/" + iri.removeprefix(B) + ".html", timeout=60)
    assert response.status_code == 200
    assert response.headers["content-security-policy"] == PAGE_POLICY  # as strict with the picture as without
    return response.text


def inline(html: str, ident: str) -> ET.Element:
    """The SVG drawn in a page, parsed as XML."""
    start = html.index(f'<svg xmlns="http://www.w3.org/2000/svg" id="{ident}"')
    return ET.fromstring(html[start : html.index("</svg>", start) + len("</svg>")])


class _Links(HTMLParser):
    """The links (href, text) inside the element of a page with the given id."""

    VOID = frozenset({"br", "img", "input", "link", "meta", "hr"})

    def __init__(self, ident: str) -> None:
        super().__init__()
        self.ident, self.depth, self.links, self.href = ident, 0, list[tuple[str, str]](), None
        self.text = ""

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in self.VOID:
            return
        if self.depth or dict(attrs).get("id") == self.ident:
            self.depth += 1
        if self.depth and tag == "a":
            self.href, self.text = dict(attrs).get("href"), ""

    def handle_endtag(self, tag: str) -> None:
        if tag in self.VOID or not self.depth:
            return
        if tag == "a" and self.href is not None:
            self.links.append((self.href, self.text))
            self.href = None
        self.depth -= 1

    def handle_data(self, data: str) -> None:
        if self.href is not None:
            self.text += data


def listed(html: str, ident: str) -> list[tuple[str, str]]:
    parser = _Links(ident)
    parser.feed(html)
    return parser.links


def submit(service: Service, turtle: str) -> str:
    response = post(service, "/entries", turtle)
    assert response.status_code == 201, response.text
    return response.json()["entry"]


def concept(name: str, extra: str = "") -> tuple[str, str]:
    """A new policy concept in the seed's scheme (its IRI, and its Turtle)."""
    iri = f"{CONCEPT}test-{uuid.uuid4()}"
    return iri, (
        f"""<{iri}> a pkg:PolicyConcept ; rdfs:label "{name}"@en ; skos:prefLabel "{name}"@en ;
        skos:definition "A concept made by a test."@en ;
        skos:inScheme <{B}id/scheme/eu-cultural-heritage-policy> {extra} .
        """
    )


SKOS = "@prefix skos: <http://www.w3.org/2004/02/skos/core#> .\n"


def test_the_trail_of_a_seed_recommendation_draws_exactly_its_steps_in_time_order(service):
    svg = picture(service, "trail", REC)
    assert marks(svg) == [
        ("/doc/id/event/innovation-and-integrity-conference.html", f"Issued at {CONFERENCE}. 2024-03-20"),
        (
            "/doc/id/presentation/conference-closing-recommendations.html",
            f"Presented at {CONFERENCE}. 2024-03-20 · "
            "Presentation of three recommendations for policymakers at the close of the conference",
        ),
        ("/doc/id/status/innovation-and-integrity-1-proposed.html", f"Status proposed at {CONFERENCE}. 2024-03-20"),
        (
            "/doc/id/presentation/eg11-conference-outcomes.html",
            f"Presented at {MEETING_11}. 2024-04-09 · date inferred · Julia Pagel presents the recommendations and "
            "outcomes of the conference 'Innovation and Integrity'",
        ),
        (
            "/doc/id/status/innovation-and-integrity-1-presented.html",
            f"Status presented at {MEETING_11}. 2024-04-09 · date inferred",
        ),
    ]
    dots = [float(link.find(SVG + "circle").get("cx")) for link in svg.iter(SVG + "a")]
    assert dots[0] == dots[1] == dots[2] < dots[3] == dots[4]  # three steps on 20 March, two on 9 April
    assert (
        svg.find(SVG + "title").text
        == "Trail of A political vision for museums and cultural heritage in an AI-driven society"
    )
    assert {t.text for t in svg.iter(SVG + "text")} >= {"issued", "presented", "status"}  # the legend


def test_a_recommendation_page_draws_its_trail_beside_a_table_of_the_same_steps(service):
    html = page(service, REC)
    drawn = marks(inline(html, "trail-svg"))
    assert drawn == marks(picture(service, "trail", REC))
    table = listed(html, "trail-steps")
    assert [href for href, _ in table] == [href for href, _ in drawn]
    assert all(title.startswith(text + ".") for (_, text), (_, title) in zip(table, drawn, strict=True))
    assert f'href="/pictures/trail.svg?iri={REC.replace(":", "%3A").replace("/", "%2F")}"' in html


def test_the_trail_shows_the_entries_that_added_to_a_recommendation_and_revised_it(service):
    number = next(NUMBERS)
    event, body = meeting(number, start="2024-10-01")
    subject, about = concept(f"Subject {number}")
    rec = f"{B}id/recommendation/test-{uuid.uuid4()}"
    first = submit(
        service,
        SKOS
        + body
        + about
        + f"""<{rec}> a pkg:Recommendation ; rdfs:label "Recommendation {number}"@en ;
        <http://purl.org/dc/terms/title> "Recommendation {number}"@en ; pkg:ordinal 1 ;
        pkg:fullText "Do it."@en ; <http://purl.org/dc/terms/abstract> "Do it."@en ;
        pkg:addressedTo <{B}id/audience/policymakers> ; pkg:concerns <{subject}> ; pkg:issuedAt <{event}> ;
        <http://www.w3.org/ns/prov#hadPrimarySource> <{B}id/source/nemo-news-eg11> .""",
    )
    record = f"{B}id/status/test-{uuid.uuid4()}"
    status = PREFIXES + (
        f"""<{record}> a pkg:StatusRecord ; rdfs:label "Taken up, test {number}"@en ; pkg:recommendation <{rec}> ;
        pkg:status pkg:statusTakenUp ; pkg:statusDate "2024-11-15"^^xsd:date ;
        <http://www.w3.org/ns/prov#wasDerivedFrom> <{B}id/source/nemo-news-eg11> ."""
    )
    second = submit(service, status)
    revised = httpx.put(
        service.url + "/entries/" + second.rsplit("/", 1)[-1],
        content=status.replace("2024-11-15", "2024-11-20").encode(),
        headers={"Content-Type": "text/turtle", **service.auth()},
    )
    assert revised.status_code == 201
    third = revised.json()["entry"]

    drawn = marks(picture(service, "trail", rec))
    assert [href for href, _ in drawn] == [
        "/doc/" + event.removeprefix(B) + ".html",
        "/doc/" + record.removeprefix(B) + ".html",
        *("/" + entry.removeprefix(B) for entry in (first, second, third)),
    ]
    assert drawn[0][1] == f"Issued at Meeting {number}. 2024-10-01"
    assert drawn[1][1] == f"Status taken up. 2024-11-20 · Taken up, test {number}"  # as revised
    assert [title.split(".")[0] for _, title in drawn[2:]] == ["Entry added", "Entry added", "Entry revised"]
    assert listed(page(service, rec), "trail-steps") == [(href, title.split(". ")[0]) for href, title in drawn]
    # the recommendation is beside the concept it concerns, with the day it was issued
    assert marks(picture(service, "neighbourhood", subject))[1:] == [
        ("/doc/" + rec.removeprefix(B) + ".html", f"Recommendation {number} (concerns it · issued 2024-10-01)")
    ]


def geometry(svg: ET.Element) -> dict[str, tuple[float, float, float, float]]:
    """Each box of a neighbourhood by the page it links to: x, y, width, height."""
    found = {}
    for link in svg.iter(SVG + "a"):
        rect = link.find(SVG + "rect")
        if rect is not None:
            found[link.get("href") or ""] = tuple(float(rect.get(k) or 0) for k in ("x", "y", "width", "height"))
    return found


def test_the_neighbourhood_of_a_seed_concept_draws_exactly_its_neighbours_around_it(service):
    iri = CONCEPT + "ai-regulatory-framework"
    svg = picture(service, "neighbourhood", iri)
    assert sorted(marks(svg)) == sorted(
        [
            (
                "/doc/id/concept/ai-regulatory-framework.html",
                "regulatory framework for artificial intelligence (concept)",
            ),
            ("/doc/id/concept/artificial-intelligence.html", "artificial intelligence (broader)"),
            ("/doc/id/concept/ai-act.html", "Artificial Intelligence Act (narrower)"),
            (
                "/doc/id/recommendation/innovation-and-integrity-1.html",
                "A political vision for museums and cultural heritage in an AI-driven society "
                "(concerns it · issued 2024-03-20)",
            ),
            (
                "/doc/id/means/integration-into-a-regulatory-framework.html",
                "integration of museums and cultural heritage into a regulatory framework (related)",
            ),
        ]
    )
    boxes = geometry(svg)
    x, y, w, h = boxes.pop("/doc/id/concept/ai-regulatory-framework.html")
    broader, narrower = boxes["/doc/id/concept/artificial-intelligence.html"], boxes["/doc/id/concept/ai-act.html"]
    rec, means = (
        boxes["/doc/id/recommendation/innovation-and-integrity-1.html"],
        boxes["/doc/id/means/integration-into-a-regulatory-framework.html"],
    )
    assert broader[1] + broader[3] < y and narrower[1] > y + h  # above and below
    assert rec[0] + rec[2] < x and means[0] > x + w  # on the left and on the right
    width, height = (float(v) for v in svg.get("viewBox", "").split()[2:])
    assert all(bx >= 0 and bx + bw <= width and by >= 0 and by + bh <= height for bx, by, bw, bh in boxes.values())
    assert len(svg.findall(SVG + "line")) == 4  # a line from the concept to each neighbour


def test_a_concept_page_draws_its_neighbourhood_beside_a_list_of_the_same_neighbours(service):
    iri = CONCEPT + "ai-regulatory-framework"
    html = page(service, iri)
    drawn = marks(inline(html, "neighbourhood-svg"))
    assert drawn == marks(picture(service, "neighbourhood", iri))
    assert listed(html, "neighbours") == [(href, title.rsplit(" (", 1)[0]) for href, title in drawn[1:]]


def test_a_narrower_concept_added_by_an_entry_is_drawn_below_its_broader_one(service):
    broad, about_broad = concept("Broad test concept")
    narrow, about_narrow = concept("Narrow test concept", f"; skos:broader <{broad}>")
    submit(service, SKOS + PREFIXES + about_broad + about_narrow)
    above = picture(service, "neighbourhood", broad)
    page_of = "/doc/" + narrow.removeprefix(B) + ".html"
    assert marks(above)[1:] == [(page_of, "Narrow test concept (narrower)")]
    boxes = geometry(above)
    assert boxes[page_of][1] > boxes["/doc/" + broad.removeprefix(B) + ".html"][1]
    assert marks(picture(service, "neighbourhood", narrow))[1:] == [
        ("/doc/" + broad.removeprefix(B) + ".html", "Broad test concept (broader)")
    ]
    assert listed(page(service, broad), "neighbours") == [(page_of, "Narrow test concept")]


def test_a_concept_with_nothing_around_it_is_drawn_alone_and_says_so(service):
    lonely, about = concept("Lonely test concept")
    submit(service, SKOS + PREFIXES + about)
    svg = picture(service, "neighbourhood", lonely)
    assert marks(svg) == [("/doc/" + lonely.removeprefix(B) + ".html", "Lonely test concept (concept)")]
    assert "Nothing is linked to this concept yet." in {t.text for t in svg.iter(SVG + "text")}
    html = page(service, lonely)
    assert re.search(r'<p id="neighbours">Nothing is linked to this concept yet.</p>', html)


def test_a_crowded_concept_draws_twelve_of_a_kind_and_links_to_the_list_of_all(service):
    broad, about = concept("Crowded test concept")
    narrower = [concept(f"Part {n:02d} of the crowd", f"; skos:broader <{broad}>") for n in range(14)]
    submit(service, SKOS + PREFIXES + about + "".join(body for _, body in narrower))
    svg = picture(service, "neighbourhood", broad)
    drawn = marks(svg)[1:]
    assert [title for _, title in drawn] == [f"Part {n:02d} of the crowd (narrower)" for n in range(12)]
    more = [link for link in svg.iter(SVG + "a") if link.find(SVG + "title") is None]
    assert [(a.get("href"), a.find(SVG + "text").text) for a in more] == [
        ("/doc/" + broad.removeprefix(B) + ".html#neighbours-narrower", "and 2 more")
    ]
    html = page(service, broad)
    assert 'id="neighbours-narrower"' in html
    assert [text for _, text in listed(html, "neighbours")] == [f"Part {n:02d} of the crowd" for n in range(14)]


@pytest.mark.parametrize(
    ("path", "status"),
    [
        ("/pictures/neighbourhood.svg?iri=" + CONCEPT + "no-such-concept", 404),
        ("/pictures/trail.svg?iri=" + B + "id/recommendation/no-such-recommendation", 404),
        ("/pictures/neighbourhood.svg?iri=" + B + "id/org/faro", 404),  # an organisation is no concept
        ("/pictures/trail.svg?iri=" + CONCEPT + "museums", 404),  # a concept has no trail
        ("/pictures/portrait.svg?iri=" + REC, 404),
        ("/pictures/trail.svg", 400),
        ("/pictures/trail.svg?iri=not-an-iri", 400),
    ],
)
def test_a_picture_of_nothing_is_a_problem_not_a_fault(service, path, status):
    response = httpx.get(service.url + path)
    assert response.status_code == status
    assert response.headers["content-type"].startswith("application/problem+json")
    assert response.json()["status"] == status


def test_a_picture_alone_fetches_nothing_and_answers_304_to_a_current_copy(service):
    url = service.url + "/pictures/trail.svg"
    first = httpx.get(url, params={"iri": REC})
    assert first.headers["content-security-policy"].startswith("default-src 'none'")
    assert first.headers["x-content-type-options"] == "nosniff"
    assert b"<script" not in first.content and b"style=" not in first.content
    again = httpx.get(url, params={"iri": REC}, headers={"If-None-Match": first.headers["etag"]})
    assert again.status_code == 304
    head = httpx.head(url, params={"iri": REC})
    assert head.status_code == 200 and head.headers["content-type"] == "image/svg+xml"

"""The lists for people over HTTP: each filter narrows to exactly the expected items, sorting and paging hold,
CSV and JSON carry the same rows as the page, the SPARQL shown gives them again, and bad input is a 400."""

import csv
import html
import io
import itertools
import re
import uuid

import httpx
import pytest
from test_service_entries import PREFIXES, post

B = "http://localhost:8000/"
PKG = "https://w3id.org/policykg/ontology#"
SEED_RECOMMENDATIONS = {f"{B}id/recommendation/innovation-and-integrity-{n}" for n in (1, 2, 3)}
CONFERENCE = B + "id/event/innovation-and-integrity-conference"
NUMBERS = itertools.count(90_000)  # far from the series numbers of the other suites of the shared service


def listed(service, path: str, **params: str) -> dict:
    response = httpx.get(service.url + path, params={**params, "format": "json"}, timeout=60)
    assert response.status_code == 200, response.text
    return response.json()


def items(answer: dict) -> list[str]:
    return [row["item"] for row in answer["rows"]]


def test_the_recommendations_list_holds_the_seed_with_title_event_date_and_statuses(service):
    rows = {row["item"]: row for row in listed(service, "/recommendations", event=CONFERENCE)["rows"]}
    assert set(rows) == SEED_RECOMMENDATIONS
    first = rows[f"{B}id/recommendation/innovation-and-integrity-1"]
    assert first["title"] == "A political vision for museums and cultural heritage in an AI-driven society"
    assert first["event"] == CONFERENCE and first["date"] == "2024-03-20"
    assert set(first["statuses"].split(", ")) >= {"proposed", "presented"}


def test_a_concept_filter_takes_in_the_narrower_concepts(service):
    # A new concept under one no recommendation of the seed concerns, and a recommendation about the new one.
    slug = uuid.uuid4().hex[:10]
    broader, narrower = f"{B}id/concept/digital-europe-programme", f"{B}id/concept/list-test-{slug}"
    concept = (
        f'<{narrower}> a pkg:PolicyConcept ; rdfs:label "List test {slug}"@en ; skos:prefLabel "List test {slug}"@en ;'
        f' skos:definition "A concept made by a test."@en ; skos:inScheme <{B}id/scheme/eu-cultural-heritage-policy> ;'
        f" skos:broader <{broader}> ."
    )
    body = PREFIXES + "@prefix skos: <http://www.w3.org/2004/02/skos/core#> .\n" + concept
    assert post(service, "/entries", body).status_code == 201, body
    under_broader = listed(service, "/concepts", concept=broader)
    assert set(items(under_broader)) >= {broader, narrower}
    assert all(row["item"] in (broader, narrower) or row["broader"] for row in under_broader["rows"])
    none = listed(service, "/recommendations", concept=narrower)
    assert items(none) == []
    ai = listed(service, "/recommendations", concept=f"{B}id/concept/artificial-intelligence")
    assert set(items(ai)) >= SEED_RECOMMENDATIONS
    # regulatory framework for AI is narrower than artificial intelligence, and only recommendation 1 concerns it
    assert f"{B}id/recommendation/innovation-and-integrity-1" in items(
        listed(service, "/recommendations", concept=f"{B}id/concept/artificial-intelligence")
    )
    assert set(items(listed(service, "/recommendations", concept=f"{B}id/concept/ai-regulatory-framework"))) == {
        f"{B}id/recommendation/innovation-and-integrity-1"
    }


def test_status_year_and_organisation_filters_narrow_the_recommendations(service):
    presented = listed(service, "/recommendations", status=PKG + "statusPresented", event=CONFERENCE)
    assert set(items(presented)) == SEED_RECOMMENDATIONS
    assert items(listed(service, "/recommendations", status=PKG + "statusImplemented", event=CONFERENCE)) == []
    in_2024 = listed(service, "/recommendations", **{"from": "2024", "to": "2024", "event": CONFERENCE})
    assert set(items(in_2024)) == SEED_RECOMMENDATIONS
    assert items(listed(service, "/recommendations", **{"from": "2025", "event": CONFERENCE})) == []
    by_nemo = listed(service, "/recommendations", organisation=B + "id/org/nemo")
    assert set(items(by_nemo)) >= SEED_RECOMMENDATIONS
    assert items(listed(service, "/recommendations", organisation=B + "id/org/dg-eac")) == []


def test_events_and_organisations_filter_each_other(service):
    organisers = set(items(listed(service, "/organisations", event=CONFERENCE)))
    assert {B + "id/org/nemo", B + "id/org/faro", B + "id/org/icom-flanders"} <= organisers
    assert B + "id/org/dg-eac" not in organisers
    assert CONFERENCE in items(listed(service, "/events", organisation=B + "id/org/faro"))
    old = listed(service, "/events", **{"to": "2020"})
    assert B + "id/event/cultural-heritage-expert-group-meeting-1" in items(old) and CONFERENCE not in items(old)


def test_sorting_orders_the_rows_and_a_descending_sort_reverses_them(service):
    up = [row["label"].lower() for row in listed(service, "/organisations", sort="label")["rows"]]
    down = [row["label"].lower() for row in listed(service, "/organisations", sort="-label")["rows"]]
    assert up == sorted(up) and down == sorted(down, reverse=True)
    dates = [row["date"] for row in listed(service, "/events", sort="date")["rows"] if row["date"]]
    assert dates == sorted(dates)


def test_csv_and_json_hold_the_rows_of_the_page_and_the_shown_query_gives_them_again(service):
    page = httpx.get(service.url + "/recommendations", params={"event": CONFERENCE}, headers={"Accept": "text/html"})
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    answer = listed(service, "/recommendations", event=CONFERENCE)
    for row in answer["rows"]:
        assert row["title"] in page.text
    download = httpx.get(service.url + "/recommendations", params={"event": CONFERENCE, "format": "csv"})
    assert download.headers["content-type"].startswith("text/csv")
    assert 'filename="policykg-recommendations.csv"' in download.headers["content-disposition"]
    table = list(csv.DictReader(io.StringIO(download.text)))
    assert table == answer["rows"]
    shown = re.search(r"<pre>(.*?)</pre>", page.text, re.S)
    assert shown is not None
    query = html.unescape(shown.group(1))
    assert query == answer["query"]
    again = httpx.post(service.sparql, data={"query": query}, headers={"Accept": "application/sparql-results+json"})
    bindings = again.json()["results"]["bindings"]
    assert [b["item"]["value"] for b in bindings] == items(answer)
    assert "/sparql?query=" in page.text


def test_paging_splits_a_long_list(service):
    whole = listed(service, "/concepts")
    assert len(whole["rows"]) > 50
    first = httpx.get(service.url + "/concepts", headers={"Accept": "text/html"})
    assert 'rel="next"' in first.text and "Page 1 of" in first.text
    second = httpx.get(service.url + "/concepts", params={"page": "2"}, headers={"Accept": "text/html"})
    assert second.status_code == 200 and 'rel="prev"' in second.text


@pytest.mark.parametrize(
    ("path", "params", "says"),
    [
        ("/recommendations", {"concept": B + "id/concept/no-such-concept"}, "is not a concept of this graph"),
        ("/recommendations", {"concept": "not an iri"}, "is not an absolute IRI"),
        ("/recommendations", {"from": "twenty"}, "is not a year"),
        ("/recommendations", {"from": "2025", "to": "2020"}, "the years run backwards"),
        ("/recommendations", {"sort": "colour"}, "sorts by"),
        ("/recommendations", {"page": "999"}, "page(s)"),
        ("/organisations", {"status": PKG + "statusProposed"}, "takes no filter 'status'"),
        ("/events", {"colour": "red"}, "takes no parameter 'colour'"),
        ("/recommendations", {"event": B + "id/org/nemo"}, "is not an event of this graph"),
    ],
)
def test_bad_filters_are_a_specific_400(service, path, params, says):
    response = httpx.get(service.url + path, params=params)
    assert response.status_code == 400, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert says in response.json()["detail"]

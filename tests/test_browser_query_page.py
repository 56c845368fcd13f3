"""The SPARQL query page in a real headless Chromium, served by the real service on loopback."""

from urllib.parse import urldefrag, urljoin

import httpx
import pytest
from browser import read_png, tab_to
from playwright.sync_api import Error as PlaywrightError

# What the seed says the "Innovation and Integrity" conference issued (as in test_competency.py).
BROWSER_ACCEPT = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"
RECOMMENDATIONS = """PREFIX pkg: <https://w3id.org/policykg/ontology#>
PREFIX dcterms: <http://purl.org/dc/terms/>
SELECT DISTINCT ?ordinal ?title WHERE {
  ?recommendation pkg:issuedAt <id/event/innovation-and-integrity-conference> ;
      pkg:ordinal ?ordinal ;
      dcterms:title ?title .
}
ORDER BY ?ordinal"""
EXPECTED_ROWS = [  # the page shows a literal's language after it
    ["1", "A political vision for museums and cultural heritage in an AI-driven society @en"],
    ["2", "Financial investments to apply AI successfully in the Public Cultural Domain @en"],
    ["3", "Establishment of a European AI innovation hub for cultural heritage @en"],
]


@pytest.fixture
def query_page(page, service):
    """The query page as a browser asks for it: GET /sparql, Accept: text/html."""
    response = page.goto(service.sparql)
    assert response is not None and response.status == 200
    assert response.headers["content-type"].startswith("text/html")
    return page


def results_table(page) -> tuple[list[str], list[list[str]]]:
    """The head and the rows of the results table (the table whose head cells name variables, ?x)."""
    table = page.locator("table").filter(has=page.locator("thead th", has_text="?"))
    headers = table.locator("thead th").all_inner_texts()
    rows = [row.locator("td").all_inner_texts() for row in table.locator("tbody tr").all()]
    return headers, rows


def query_form(page):
    """The form that holds the query box."""
    return page.locator("form").filter(has=page.get_by_label("Query"))


def test_it_has_a_title_and_one_h1(query_page):
    assert query_page.title().strip()
    assert query_page.locator("h1").count() == 1
    assert query_page.locator("h1").inner_text().strip()


def test_every_image_has_alt_text(query_page):
    images = query_page.locator("img")
    for index in range(images.count()):
        assert (images.nth(index).get_attribute("alt") or "").strip(), images.nth(index).evaluate("e => e.outerHTML")


def test_every_link_answers(query_page, service):
    hrefs = query_page.locator("a[href]").evaluate_all("links => links.map(a => a.getAttribute('href'))")
    assert len(hrefs) >= 2  # the API documentation and the competency questions
    # Each link of this server, once (without its fragment); links elsewhere cannot be fetched offline.
    urls = {urldefrag(urljoin(query_page.url, href)).url for href in hrefs}
    local = sorted(url for url in urls if url.startswith(service.url + "/"))
    assert local
    with httpx.Client(timeout=10) as client:
        for url in local:
            # What Chromium sends when it follows a link: HTML first, anything else (a Turtle file) after.
            with client.stream("GET", url, headers={"Accept": BROWSER_ACCEPT}, follow_redirects=True) as response:
                assert response.status_code < 400, (url, response.status_code)


def test_without_javascript_the_form_is_there(page_without_js, service, outbound_requests):
    response = page_without_js.goto(service.sparql)
    assert response is not None and response.status == 200
    form = query_form(page_without_js)
    assert form.count() == 1
    assert form.get_attribute("method") == "get" and form.get_attribute("action") == "/sparql"
    assert page_without_js.get_by_label("Query").is_visible()
    assert page_without_js.get_by_role("button", name="Run query").is_visible()
    assert "SELECT" in page_without_js.get_by_label("Query").input_value()
    assert outbound_requests == []


def test_a_query_typed_into_the_form_shows_its_rows(query_page, outbound_requests, console_errors):
    query_page.get_by_label("Query").fill(RECOMMENDATIONS)
    with query_page.expect_navigation():
        query_page.get_by_role("button", name="Run query").click()
    assert "format=html" in query_page.url
    assert query_page.get_by_role("heading", name="Results").is_visible()
    assert "3 rows." in query_page.locator("main").inner_text()
    assert results_table(query_page) == (["?ordinal", "?title"], EXPECTED_ROWS)
    assert query_page.get_by_label("Query").input_value() == RECOMMENDATIONS  # the form keeps the query
    assert outbound_requests == [] and console_errors == []


def test_a_full_page_screenshot_is_a_png_with_content(query_page):
    image = read_png(query_page.screenshot(full_page=True))
    assert image.width == 1280 and image.height >= 900
    assert len(image.colours()) > 50  # text, borders and backgrounds; a blank page has one colour


def test_the_keyboard_reaches_the_submit_button(query_page):
    tab_to(query_page, query_page.get_by_label("Query"))
    tab_to(query_page, query_page.get_by_role("button", name="Run query"), presses=3)  # next after the query box


def test_no_request_leaves_loopback(query_page, outbound_requests, console_errors):
    query_page.wait_for_load_state("networkidle")
    with query_page.expect_navigation():
        query_page.get_by_role("link", name="At which events did NEMO present, in order?").click()
    assert len(results_table(query_page)[1]) == 1
    query_page.wait_for_load_state("networkidle")
    assert outbound_requests == []
    assert console_errors == []


def test_the_guard_blocks_and_records_an_outbound_request(page, outbound_requests):
    with pytest.raises(PlaywrightError, match="ERR_BLOCKED_BY_CLIENT"):
        page.goto("https://example.org/elsewhere")
    assert outbound_requests == ["https://example.org/elsewhere"]

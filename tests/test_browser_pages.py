"""The pages for people, looked at in a real headless Chromium: the timeline drawn, pages readable without
JavaScript, headings, titles and links that work, the keyboard, every page the site links to, and no request
off loopback."""

import re
from itertools import pairwise
from urllib.parse import urldefrag, urljoin

import httpx
import pytest
from browser import read_png, record_csp_violations, tab_to

PAGES = [
    "/",
    "/timeline",
    "/ontology.html",
    "/shapes.html",
    "/entries?format=html",
    "/doc/id/recommendation/innovation-and-integrity-1.html",
    "/doc/id/event/cultural-heritage-expert-group-meeting-11.html",
    "/doc/id/concept/artificial-intelligence.html",
]
BROWSER_ACCEPT = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"
CRAWL_LIMIT = 40  # pages looked at in the browser, at most


@pytest.mark.parametrize("path", PAGES)
def test_every_page_reads_without_javascript_with_a_title_one_h1_and_ordered_headings(page_without_js, service, path):
    response = page_without_js.goto(service.url + path)
    assert response is not None and response.status == 200
    assert page_without_js.title().strip().endswith("– policykg") and len(page_without_js.title()) > len("– policykg")
    assert page_without_js.locator("h1").count() == 1
    levels = [
        int(tag[1]) for tag in page_without_js.locator("h1, h2, h3").evaluate_all("els => els.map(e => e.tagName)")
    ]
    assert levels[0] == 1 and all(b - a <= 1 for a, b in pairwise(levels))  # no heading level skipped
    assert all(alt.strip() for alt in page_without_js.locator("img").evaluate_all("els => els.map(e => e.alt || '')"))
    assert page_without_js.locator("html").get_attribute("lang") == "en"


@pytest.mark.parametrize("path", PAGES[:2] + PAGES[5:])
def test_every_link_to_the_service_on_a_page_answers(page, service, path, outbound_requests, console_errors):
    page.goto(service.url + path)
    page.wait_for_load_state("networkidle")
    hrefs = {
        urldefrag(urljoin(service.url + path, h))[0]
        for h in page.locator("a[href]").evaluate_all("els => els.map(e => e.getAttribute('href'))")
    }
    local = sorted(h for h in hrefs if h.startswith(service.url))
    assert len(local) > 5
    for href in local:
        assert httpx.get(href, follow_redirects=True, timeout=30).status_code < 400, href
    assert outbound_requests == [] and console_errors == []


def test_the_timeline_renders_as_a_picture_with_every_event(page, service):
    page.goto(service.url + "/timeline")
    svg = page.locator("svg#timeline")
    assert svg.get_attribute("role") == "img" and "events" in svg.locator("title").text_content()
    box = svg.bounding_box()
    assert box is not None and box["width"] > 400 and box["height"] > 150
    assert svg.locator("circle").count() >= 3
    picture = read_png(svg.screenshot())
    assert picture.width >= 400 and len(picture.colours()) > 20  # drawn, not blank
    whole = read_png(page.screenshot(full_page=True))
    assert len(whole.colours()) > 50
    # the SVG's own labels are links a reader can follow to the event
    first = svg.locator("a").first
    with page.expect_navigation():
        first.click()
    assert page.url.startswith(service.url + "/doc/id/event/") and page.locator("h1").inner_text()


def test_the_keyboard_reaches_the_content_first_and_the_navigation(page, service):
    page.goto(service.url + "/doc/id/recommendation/innovation-and-integrity-1.html")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.textContent") == "Skip to content"
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r"#content$"))  # the jump to the fragment lands after the key is handled
    page.keyboard.press("Tab")  # the next stop is inside the content, past the navigation
    assert page.evaluate("document.activeElement.closest('main') !== null")
    page.goto(service.url + "/doc/id/recommendation/innovation-and-integrity-1.html")
    presses = tab_to(page, page.get_by_role("link", name="Timeline"))
    assert presses > 0
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert page.url == service.url + "/timeline"


def test_a_reader_goes_from_the_home_page_to_a_concept_and_its_recommendations(page, service):
    page.goto(service.url + "/")
    assert page.get_by_text("recommendations").first.is_visible()
    with page.expect_navigation():
        page.get_by_role("link", name="EU cultural-heritage policy concepts").click()
    with page.expect_navigation():
        page.get_by_role("link", name="artificial intelligence").first.click()
    touching = page.locator("section[aria-labelledby=touching] li")
    assert touching.count() == 9  # three recommendations: issued, presented, presented again
    with page.expect_navigation():
        touching.first.get_by_role("link").first.click()
    assert page.locator("#trail").is_visible()


def test_every_page_the_site_links_to_renders_and_asks_nothing_of_elsewhere(
    page, service, outbound_requests, console_errors
):
    """From the home page, breadth first: each same-origin link answers; each that is a page is drawn in the
    browser with no request off loopback, no console error and no Content-Security-Policy violation."""
    violations: list[str] = []
    record_csp_violations(page, violations)
    start = service.url + "/"
    queue, seen, visited = [start], {start}, []
    while queue and len(visited) < CRAWL_LIMIT:
        url = queue.pop(0)
        with httpx.stream("GET", url, headers={"Accept": BROWSER_ACCEPT}, follow_redirects=True, timeout=30) as answer:
            # A retracted entry is still listed (its record stays), and its page says it is gone: 410 is its answer.
            if answer.status_code == 410 and "/entries/" in url:
                continue
            assert answer.status_code < 400, url
            if not answer.headers.get("content-type", "").startswith("text/html"):
                continue  # a download, RDF, a query's results as data: checked that it answers, not drawn
        response = page.goto(url)
        assert response is not None and response.status == 200, url
        page.wait_for_load_state("networkidle")
        assert len(page.locator("body").inner_text().strip()) > 50, url
        assert len(read_png(page.screenshot()).colours()) > 20, url  # drawn, not blank
        assert outbound_requests == [] and console_errors == [] and violations == [], url
        visited.append(url)
        for href in page.locator("a[href]").evaluate_all(  # HTML's and SVG's links, resolved
            "links => links.map(link => new URL(link.getAttribute('href'), document.baseURI).href)"
        ):
            link = urldefrag(href)[0]
            if link.startswith(start) and link not in seen:
                seen.add(link)
                queue.append(link)
    assert service.url + "/docs" in visited and service.url + "/sparql" in visited
    assert len(visited) >= 15

"""The pictures in a real headless Chromium: drawn with a size, their links followed, nothing fetched from
elsewhere and nothing the page policy refuses."""

from browser import read_png, record_csp_violations

REC_PAGE = "/doc/id/recommendation/innovation-and-integrity-1.html"
CONCEPT_PAGE = "/doc/id/concept/ai-regulatory-framework.html"


def test_a_recommendation_page_draws_its_trail_and_its_marks_lead_to_their_pages(
    page, service, outbound_requests, console_errors
):
    violations: list[str] = []
    record_csp_violations(page, violations)
    page.goto(service.url + REC_PAGE)
    svg = page.locator("svg#trail-svg")
    box = svg.bounding_box()
    assert box is not None and box["width"] > 400 and box["height"] > 150
    assert svg.get_attribute("role") == "img" and svg.locator("circle").count() >= 5
    picture = read_png(svg.screenshot())
    assert len(picture.colours()) > 20  # drawn, not blank
    marks = svg.locator("a")
    assert marks.count() == page.locator("#trail-steps a").count() == 5
    with page.expect_navigation():
        marks.first.click()
    assert page.url == service.url + "/doc/id/event/innovation-and-integrity-conference.html"
    assert page.locator("h1").inner_text() == "Innovation and Integrity: Museums paving the way in an AI-driven society"
    assert outbound_requests == [] and console_errors == [] and violations == []


def test_a_concept_page_draws_its_neighbourhood_and_the_picture_alone_opens(
    page, service, outbound_requests, console_errors
):
    violations: list[str] = []
    record_csp_violations(page, violations)
    page.goto(service.url + CONCEPT_PAGE)
    svg = page.locator("svg#neighbourhood-svg")
    box = svg.bounding_box()
    assert box is not None and box["width"] > 400 and box["height"] > 150
    with page.expect_navigation():
        svg.locator("a[href='/doc/id/concept/ai-act.html']").click()
    assert page.locator("h1").inner_text() == "Artificial Intelligence Act"
    page.go_back()
    with page.expect_navigation():
        page.locator("figure.picture a[type='image/svg+xml']").click()
    alone = page.locator("svg")
    assert alone.get_attribute("role") == "img" and (alone.bounding_box() or {}).get("width", 0) > 400
    assert outbound_requests == [] and console_errors == [] and violations == []

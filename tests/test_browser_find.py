"""Finding things as a person in a real Chromium: search for "data space", narrow by year, open a
recommendation, follow its feed; filter a list by a concept and open a row. Nothing leaves the site."""

import feedparser
import httpx

B = "http://localhost:8000/"
RECOMMENDATION_2 = "Financial investments to apply AI successfully in the Public Cultural Domain"


def test_a_person_searches_narrows_by_year_opens_a_recommendation_and_follows_its_feed(
    page, service, outbound_requests, console_errors
):
    page.goto(service.url + "/")
    page.get_by_role("navigation", name="Site").get_by_role("link", name="Search").click()
    page.get_by_label('Words, "a phrase" or a prefix*').fill("data space")
    page.get_by_role("button", name="Search").click()
    hits = page.get_by_role("region", name="Hits")
    assert hits.locator(".hits li").count() > 0
    page.get_by_role("complementary", name="Narrow the search").get_by_role("link", name="2024").click()
    assert "year=2024" in page.url and "Narrowed to:" in page.inner_text("main")
    with page.expect_navigation():
        hits.get_by_role("link", name=RECOMMENDATION_2).first.click()
    assert page.get_by_role("heading", level=1).inner_text().startswith(RECOMMENDATION_2)
    feed_link = page.locator('head link[rel="alternate"][type="application/atom+xml"]')
    href = feed_link.get_attribute("href")
    assert href and href.startswith("/feeds/recommendation.atom?iri=")
    page.get_by_role("link", name="Feed").first.click()
    feed = feedparser.parse(httpx.get(service.url + href).content)
    assert not feed.bozo and feed.feed.title and feed.entries
    assert outbound_requests == [] and console_errors == []


def test_a_person_filters_the_recommendations_by_a_concept_and_opens_one(page, service, outbound_requests):
    page.goto(service.url + "/")
    page.get_by_role("navigation", name="Site").get_by_role("link", name="Recommendations").click()
    page.get_by_label("Concept (with narrower ones)").select_option(
        label="regulatory framework for artificial intelligence"
    )
    page.get_by_role("button", name="Show").click()
    rows = page.locator("table tbody tr")
    assert rows.count() == 1
    assert "concept=" in page.url
    with page.expect_navigation():
        rows.first.get_by_role("link").first.click()
    assert "innovation-and-integrity-1" in page.url
    assert outbound_requests == []

"""Contributing as a person in a real Chromium: sign in, register a source, file a meeting from a ticked sentence,
meet a duplicate number by its field, fix it, submit, and find the entry. The screenshots go to a temporary
folder, or to docs/contribute/ with POLICYKG_SCREENSHOTS=docs (so that a test run leaves the tracked pictures alone)."""

import itertools
import os
import re
import tempfile
import uuid
from pathlib import Path

import httpx

DOCS = (
    Path(__file__).parents[1] / "docs" / "contribute"
    if os.environ.get("POLICYKG_SCREENSHOTS") == "docs"
    else Path(tempfile.gettempdir()) / "policykg-contribute-screenshots"
)
NEWS_TEXT = (Path(__file__).parents[1] / "data" / "sources" / "nemo-news-eg11.txt").read_text(encoding="utf-8")
NUMBERS = itertools.count(80_000)  # far from the numbers of the other tests of the shared service


def shot(page, name: str) -> None:
    DOCS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(DOCS / f"{name}.png"), full_page=True)


def test_a_contributor_files_a_meeting_from_a_ticked_sentence_without_writing_rdf(page, service, outbound_requests):
    page.goto(service.url + "/contribute")
    page.get_by_role("link", name="sign in").click()
    page.get_by_label("Your token").fill("contributor-token-alice")
    shot(page, "1-sign-in")
    page.get_by_role("button", name="Sign in").click()
    assert page.url == service.url + "/contribute"
    assert "contributor-token-alice" not in page.content()

    # A source with its text: the service keeps the text and offers its sentences.
    title = f"NEMO attends Cultural Heritage Expert Group meeting ({uuid.uuid4().hex[:6]})"
    page.get_by_role("link", name="Source document").click()
    page.get_by_label(re.compile(r"^Name\b")).fill(title)
    page.get_by_label("Text", exact=True).fill(NEWS_TEXT)
    shot(page, "2-register-source")
    page.get_by_role("button", name="Submit").click()
    assert re.search(r"/entries/[A-Za-z0-9._-]+$", page.url)

    # A new meeting, stated in one ticked sentence of that source; first with a number already taken.
    page.goto(service.url + "/contribute/new?type=ExpertGroupMeeting")
    walk = f"walkthrough{uuid.uuid4().hex[:8]}"  # one word, searched for at the end
    page.get_by_label(re.compile(r"^Name\b")).fill(f"12th meeting of the Cultural Heritage Expert Group ({walk})")
    page.get_by_label("Series", exact=True).select_option(label="Meetings of the Cultural Heritage Expert Group")
    page.get_by_label("Number in the series").fill("11")
    page.get_by_label("Start day and month").fill("--04-09")
    page.get_by_label(re.compile(r"^Source\b")).select_option(label=title)
    page.get_by_role("button", name="Show its sentences").click()
    page.get_by_label(re.compile(r"^From 9-10 April, NEMO Secretary General Julia Pagel")).check()
    page.get_by_role("button", name="Check").click()
    error = page.locator("#seriesNumber-error")
    assert "has the same number 11" in error.inner_text()
    assert page.get_by_label("Number in the series").get_attribute("aria-describedby") == (
        "seriesNumber-help seriesNumber-error"
    )
    shot(page, "3-duplicate-number")

    number = str(next(NUMBERS))
    page.get_by_label("Number in the series").fill(number)
    page.get_by_role("button", name="Check").click()
    assert "No problems found" in page.locator("#notice").inner_text()
    assert page.get_by_label(re.compile(r"^From 9-10 April")).is_checked()
    page.get_by_role("button", name="Submit").click()
    assert re.search(r"/entries/[A-Za-z0-9._-]+$", page.url)
    entry = page.url.rsplit("/", 1)[-1]
    assert "Current." in page.content() and number in page.content()
    shot(page, "4-entry")

    page.goto(service.url + "/entries?format=html")
    assert page.get_by_role("link", name=entry).count() == 1
    # The change stream is paged oldest first: the newest entry is on its last page.
    root = httpx.get(service.url + "/ldes", headers={"Accept": "text/turtle"}, timeout=60)
    last = max(int(n) for n in re.findall(r"/ldes/(\d+)", root.text))
    changes = httpx.get(f"{service.url}/ldes/{last}", headers={"Accept": "text/turtle"}, timeout=60)
    assert entry in changes.text
    # ... and search finds the new meeting by a word of its name, linking to its page.
    page.goto(service.url + "/search")
    page.get_by_label('Words, "a phrase" or a prefix*').fill(walk)
    page.get_by_role("button", name="Search").click()
    hit = page.get_by_role("region", name="Hits").locator("a[href^='/doc/id/event/']", has_text=walk)
    assert hit.count() == 1
    hit.click()
    assert page.get_by_role("heading", level=1).inner_text().endswith(f"({walk})")
    assert outbound_requests == []


def test_a_form_post_without_the_csrf_token_is_refused_in_the_browser(page, service):
    page.goto(service.url + "/contribute/new?type=Organisation")
    name = f"Org {uuid.uuid4()}"
    answer = page.request.post(
        service.url + "/contribute/new", multipart={"type": "Organisation", "action": "submit", "label": name}
    )
    assert answer.status == 403
    query = f'ASK {{ ?o <http://www.w3.org/2000/01/rdf-schema#label> "{name}"@en }}'
    ask = httpx.get(
        service.url + "/sparql", params={"query": query}, headers={"Accept": "application/sparql-results+json"}
    )
    assert ask.json()["boolean"] is False

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
B = "http://localhost:8000/"
PKG = "https://w3id.org/policykg/ontology#"
NUMBERS = itertools.count(80_000)  # far from the numbers of the other tests of the shared service


def shot(page, name: str) -> None:
    DOCS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(DOCS / f"{name}.png"), full_page=True)


def test_a_contributor_files_a_meeting_from_a_ticked_sentence_without_writing_rdf(
    page_without_js, service, outbound_requests
):
    page = page_without_js  # the forms as they work everywhere; test_browser_pickers.py walks what our script adds
    page.goto(service.url + "/contribute")
    page.get_by_role("link", name="sign in").click()
    page.get_by_label("Your token").fill("contributor-token-alice")
    shot(page, "1-sign-in")
    page.get_by_role("button", name="Sign in").click()
    assert page.url == service.url + "/contribute"
    assert "Signed in as alice" in main_text(page) and "contributor-token-alice" not in page.content()

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
    meeting = f"12th meeting of the Cultural Heritage Expert Group ({walk})"
    page.get_by_label(re.compile(r"^Name\b")).fill(meeting)
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
    # Shown once, by its field; the summary at the top links to the field without saying it again.
    assert page.get_by_text(re.compile("has the same number 11")).count() == 1
    assert page.locator("#problems a").evaluate_all("links => links.map(a => [a.hash, a.textContent])") == [
        ["#seriesNumber-0", "Number in the series"]
    ]
    shot(page, "3-duplicate-number")

    number = next(NUMBERS)
    page.get_by_label("Number in the series").fill(str(number))
    page.get_by_role("button", name="Check").click()
    assert "No problems found" in page.locator("#notice").inner_text()
    assert page.get_by_label(re.compile(r"^From 9-10 April")).is_checked()
    page.get_by_role("button", name="Submit").click()
    assert re.search(r"/entries/[A-Za-z0-9._-]+$", page.url)
    entry = page.url.rsplit("/", 1)[-1]
    shown = main_text(page)  # waits for the entry's page, as page.content() right after the click would not
    assert "Current." in shown and str(number) in shown
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

    # A follow-up from a recommendation's page: presented at the new meeting (found by a word of its name), stated
    # in a ticked sentence of the same source.
    recommendation = "id/recommendation/innovation-and-integrity-2"
    page.goto(f"{service.url}/doc/{recommendation}.html")
    page.get_by_role("link", name="Add a follow-up (a status record) to this recommendation").click()
    page.get_by_label("Status *").select_option(label="presented")
    page.get_by_label("At event: find by words of its name").fill(walk)
    page.locator("button[value='find:atEvent']").click()
    assert page.locator("#atEvent-found").inner_text().startswith(f"1 match for “{walk}”")
    page.get_by_label("At event", exact=True).select_option(label=meeting)
    page.get_by_label(re.compile(r"^Source\b")).select_option(label=title)
    page.get_by_role("button", name="Show its sentences").click()
    ticked = page.get_by_label(re.compile(r"^Pagel also had the chance to present recommendations"))
    sentence = page.locator(f"label[for='{ticked.get_attribute('id')}']").inner_text()
    ticked.check()
    page.get_by_role("button", name="Check").click()
    assert "No problems found" in page.locator("#notice").inner_text()
    shot(page, "5-follow-up")
    page.get_by_role("button", name="Submit").click()
    assert re.search(r"/entries/[A-Za-z0-9._-]+$", page.url)
    follow_up = page.url.rsplit("/", 1)[-1]
    rows = select(
        service,
        f"""SELECT ?record ?start ?end ?quote ?text WHERE {{ GRAPH ?entry {{
          ?record a <{PKG}StatusRecord> ; <{PKG}recommendation> <{B}{recommendation}> ;
            <{PKG}status> <{PKG}statusPresented> ; <{PKG}atEvent> ?meeting .
          ?entry <http://www.w3.org/ns/prov#wasDerivedFrom> ?excerpt .
          ?excerpt <{PKG}startOffset> ?start ; <{PKG}endOffset> ?end ; <http://www.w3.org/ns/prov#value> ?quote ;
            <http://purl.org/dc/terms/isPartOf> ?source }}
          FILTER(STRENDS(STR(?entry), "/{follow_up}"))
          ?meeting <{PKG}seriesNumber> {number} . ?source <https://schema.org/text> ?text }}""",
    )
    assert len(rows) == 1
    start, end, quote, text = int(rows[0]["start"]), int(rows[0]["end"]), rows[0]["quote"], rows[0]["text"]
    # The excerpt is the sentence ticked, as the page showed it, where it stands in the registered text.
    assert text == NEWS_TEXT and quote == sentence == text[start:end]  # the text area's CRLF kept as LF
    assert (start, end) == (NEWS_TEXT.index(sentence), NEWS_TEXT.index(sentence) + len(sentence))
    # The recommendation's trail now holds the follow-up: presented at the new meeting.
    page.goto(f"{service.url}/doc/{recommendation}.html")
    record = "/doc/" + rows[0]["record"].removeprefix(B) + ".html"
    trail = page.get_by_role("region", name="Trail of this recommendation")
    step = trail.locator("li", has=page.locator(f"a[href='{record}']"))
    assert step.count() == 1
    assert f"presented: status record at {meeting}" in " ".join(step.inner_text().split())

    # The meeting revised from its entry's page: another day, through the same form, filled in.
    page.goto(f"{service.url}/entries/{entry}")
    page.get_by_role("link", name="Revise or retract it").click()
    page.get_by_role("link", name="Revise this entry").click()
    assert page.get_by_label("Start day and month").input_value() == "--04-09"
    assert page.get_by_label(re.compile(r"^From 9-10 April")).is_checked()
    page.get_by_label("Start day and month").fill("--04-10")
    page.get_by_role("button", name="Submit").click()
    assert re.search(r"/entries/[A-Za-z0-9._-]+$", page.url) and page.url.rsplit("/", 1)[-1] != entry
    triples = page.get_by_role("table").inner_text()
    assert "--04-10" in triples and "--04-09" not in triples and "Current." in main_text(page)
    assert page.get_by_role("link", name=entry).count() == 1  # "It revises <the old version>"
    assert outbound_requests == []


def main_text(page) -> str:
    """The text of the page's main part, once the page has it (a locator waits for it)."""
    return page.locator("main").inner_text()


def select(service, query: str) -> list[dict[str, str]]:
    answer = httpx.get(
        service.url + "/sparql", params={"query": query}, headers={"Accept": "application/sparql-results+json"}
    )
    return [{k: v["value"] for k, v in row.items()} for row in answer.json()["results"]["bindings"]]


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


def test_a_contributor_signs_in_and_checks_a_form_with_the_keyboard_alone(page, service):
    page.goto(service.url + "/signin")
    focus_by_tabbing(page, "token")
    page.keyboard.type("contributor-token-alice")
    page.keyboard.press("Enter")  # the form's own button
    page.wait_for_url(re.compile(r"/contribute$"))
    assert "Signed in as" in page.content()

    page.goto(service.url + "/contribute/new?type=Organisation")
    focus_by_tabbing(page, "label-0")
    page.keyboard.type("An organisation typed by keyboard")
    with page.expect_navigation():
        page.keyboard.press("Enter")  # in a text box, Enter checks the form (its first, unseen, button)
    assert page.locator("#label-0").input_value() == "An organisation typed by keyboard"
    assert page.locator("#problems, #notice").count() == 1  # the form was checked, and says so
    focus_by_tabbing(page, "label-0")
    assert page.evaluate("document.activeElement.id") == "label-0"


def focus_by_tabbing(page, element_id: str, most: int = 200) -> None:
    """Press Tab until the element has the focus, as a person without a mouse does."""
    for _ in range(most):
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement && document.activeElement.id") == element_id:
            return
    raise AssertionError(f"#{element_id} is never reached with Tab")

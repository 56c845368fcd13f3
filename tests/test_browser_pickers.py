"""The forms' own script in a real Chromium: a picker searched by the words of a name and chosen with the keyboard,
and "Add another" in place; without script, the same form by round trips. No console error, no refusal of the
page's policy, nothing fetched from elsewhere. Screenshots of the picker go to a temporary folder, or to
docs/contribute/ with POLICYKG_SCREENSHOTS=docs."""

import itertools
import os
import re
import tempfile
import uuid
from pathlib import Path

import httpx
from browser import tab_to

B = "http://localhost:8000/"
PKG = "https://w3id.org/policykg/ontology#"
ORG = "http://www.w3.org/ns/org#"
RDFS = "http://www.w3.org/2000/01/rdf-schema#"
NUMBERS = itertools.count(76_000)  # series numbers no other test of the shared service uses
SHOTS = (
    Path(__file__).parents[1] / "docs" / "contribute"
    if os.environ.get("POLICYKG_SCREENSHOTS") == "docs"
    else Path(tempfile.gettempdir()) / "policykg-contribute-screenshots"
)


def sign_in(page, service) -> None:
    page.goto(service.url + "/signin")
    page.get_by_label("Your token").fill("contributor-token-alice")
    page.get_by_role("button", name="Sign in").click()
    assert "Signed in as" in page.content()


def rows(service, query: str) -> list[tuple[str, ...]]:
    answer = httpx.get(service.sparql, params={"query": query}, headers={"Accept": "application/sparql-results+json"})
    names = answer.json()["head"]["vars"]
    return [tuple(row[n]["value"] for n in names) for row in answer.json()["results"]["bindings"]]


def pick(page, box, words: str, label: str) -> None:
    """Type words into a picker's box, go down its list to the thing named label, and choose it with Enter."""
    box.focus()
    page.keyboard.type(words, delay=20)
    listbox = page.locator("#" + box.get_attribute("aria-controls"))
    listbox.get_by_role("option", name=re.compile("^" + re.escape(label) + " ")).wait_for()
    for _ in range(listbox.get_by_role("option").count()):
        page.keyboard.press("ArrowDown")
        active = page.locator("#" + box.get_attribute("aria-activedescendant"))
        if active.inner_text().startswith(label + " "):
            page.keyboard.press("Enter")
            return
    raise AssertionError(f"{label} is not in the list for {words!r}")


def test_a_picker_finds_an_organisation_as_one_types_and_the_keyboard_chooses_it(
    page, service, outbound_requests, console_errors, csp_violations
):
    sign_in(page, service)
    page.goto(service.url + "/contribute/new?type=Post")
    name = f"Picker post {next(NUMBERS)} ({uuid.uuid4().hex[:6]})"
    page.get_by_label(re.compile(r"^Name\b")).fill(name)
    box = page.get_by_role("combobox", name="In organisation")
    assert box.get_attribute("id") == "postIn-0"  # the label's and the problems' links' target
    tab_to(page, box)  # the keyboard reaches it; the hidden list it replaces is out of the way
    page.keyboard.type("eana fou", delay=30)
    listbox = page.get_by_role("listbox", name="In organisation: things that match")
    option = listbox.get_by_role("option", name=re.compile(r"^Europeana Foundation "))
    option.wait_for()
    assert box.get_attribute("aria-expanded") == "true" and listbox.get_by_role("option").count() == 1
    assert "1 match for “eana fou”" in page.get_by_role("status").filter(has_text="eana fou").inner_text()
    page.keyboard.press("Escape")  # closes the list, keeps the words
    assert listbox.is_hidden() and box.get_attribute("aria-expanded") == "false" and box.input_value() == "eana fou"
    page.keyboard.press("ArrowDown")  # opens it again, on its first thing
    assert box.get_attribute("aria-activedescendant") == option.get_attribute("id")
    assert option.get_attribute("aria-selected") == "true"
    shot(page, "picker-search")
    page.keyboard.press("Enter")  # chooses: it does not send the form
    assert page.url.endswith("/contribute/new?type=Post")
    assert box.input_value() == "Europeana Foundation" and box.get_attribute("aria-expanded") == "false"
    assert listbox.is_hidden()
    assert page.locator("select[name='postIn']").input_value() == B + "id/org/europeana-foundation"

    page.get_by_label(re.compile(r"^Source\b")).select_option(label="Wikidata")
    page.get_by_role("radio", name=re.compile(r"^Editorial")).check()
    page.get_by_role("button", name="Submit").click()
    assert re.search(r"/entries/[A-Za-z0-9._-]+$", page.url)
    entry = page.url.rsplit("/", 1)[-1]
    found = rows(
        service,
        f"SELECT ?org WHERE {{ GRAPH ?e {{ ?post <{ORG}postIn> ?org ; <{RDFS}label> ?name }} "
        f'FILTER(STR(?name) = "{name}" && STRENDS(STR(?e), "/{entry}")) }}',
    )
    assert found == [(B + "id/org/europeana-foundation",)]
    assert outbound_requests == [] and console_errors == [] and csp_violations == []


def test_add_another_adds_a_box_in_place_and_every_value_is_written(
    page, service, outbound_requests, console_errors, csp_violations
):
    sign_in(page, service)
    page.goto(service.url + "/contribute/new?type=ExpertGroupMeeting")
    page.evaluate("window.policykgSamePage = true")  # gone if the page is loaded again
    number = next(NUMBERS)
    names = (f"Meeting {number} with two organisers", f"Réunion {number} à deux organisateurs")
    page.locator("#label-0").fill(names[0])
    page.get_by_role("button", name="Add another: Name").click()
    second = page.get_by_role("textbox", name="Name, value 2")
    assert second.get_attribute("id") == "label-1" and second.evaluate("e => e === document.activeElement")
    page.keyboard.type(names[1])
    page.get_by_label("language").nth(1).fill("fr")
    pick(page, page.get_by_role("combobox", name="Series"), "cultural heritage expert", "Meetings of the Cultural")
    page.get_by_label("Number in the series").fill(str(number))
    page.get_by_label("Start day and month").fill("--04-09")

    pick(page, page.get_by_role("combobox", name="Organised by"), "nemo", "NEMO")
    page.get_by_role("button", name="Add another: Organised by").click()
    another = page.get_by_role("combobox", name="Organised by, value 2")
    assert another.get_attribute("id") == "organisedBy-1" and another.evaluate("e => e === document.activeElement")
    pick(page, another, "commission", "European Commission")
    assert page.evaluate("window.policykgSamePage") is True  # no round trip
    assert page.locator(".slot").filter(has=page.locator("[name='organisedBy']")).count() == 2

    page.get_by_label(re.compile(r"^Source\b")).select_option(label="Wikidata")
    page.get_by_role("radio", name=re.compile(r"^Editorial")).check()
    page.get_by_role("button", name="Submit").click()
    assert re.search(r"/entries/[A-Za-z0-9._-]+$", page.url), page.locator("#problems").all_inner_texts()
    entry = page.url.rsplit("/", 1)[-1]
    written = rows(
        service,
        f"SELECT ?p ?o WHERE {{ GRAPH ?e {{ ?m <{PKG}seriesNumber> {number} ; ?p ?o }} "
        f'FILTER(STRENDS(STR(?e), "/{entry}")) }}',
    )
    assert {o for p, o in written if p == PKG + "organisedBy"} == {B + "id/org/nemo", B + "id/org/european-commission"}
    assert {o for p, o in written if p == RDFS + "label"} == set(names)
    assert outbound_requests == [] and console_errors == [] and csp_violations == []


def test_without_script_a_picker_is_a_list_found_by_words_and_add_another_asks_the_server(page_without_js, service):
    page = page_without_js
    page.goto(service.url + "/contribute/new?type=Post")
    page.get_by_label("Held by: find by words of its name").fill("pagel")
    page.locator("button[value='find:heldBy']").click()
    held_by = page.get_by_label("Held by", exact=True)
    assert [o for o in held_by.locator("option").all_inner_texts() if o != "— none —"] == ["Julia Pagel"]
    held_by.select_option(label="Julia Pagel")
    page.get_by_role("button", name="Add another: Held by").click()
    assert page.locator("#heldBy-0").input_value() == B + "id/person/julia-pagel"
    assert page.get_by_label("Held by, value 2").input_value() == ""


def shot(page, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"))

"""Revising and retracting one's own entry through forms over HTTP: the form filled in with what the entry says,
a revision written as PUT /entries/{id} writes it, refusals to anyone but its contributor, the entry's actions."""

import html
import itertools
import re
import uuid
from html.parser import HTMLParser

import httpx
import pytest
from contributing import (
    PKG,
    PROV,
    SERIES,
    SRJ,
    B,
    ask,
    browser_like,
    close_clients,
    csrf_of,
    input_value,
    meeting_form,
    register_source,
    signed_in,
    source_of,
)

# Series numbers no other test of the shared service uses (70,000 to 74,999 are the revision tests').
NUMBERS = itertools.count(70_000)


@pytest.fixture(autouse=True)
def _close_clients():
    yield
    close_clients()


def test_retracting_ones_own_entry_from_its_page_takes_it_out(service):
    client = signed_in(service)
    number = next(NUMBERS)
    csrf = csrf_of(client.get("/contribute/new", params={"type": "ExpertGroupMeeting"}))
    data = {**meeting_form(csrf, number, B + "id/source/nemo-news-eg11", 1), "kind": "editorial", "action": "submit"}
    location = client.post("/contribute/new", data=data).headers["location"]
    entry_id = location.rsplit("/", 1)[-1]
    csrf = csrf_of(client.get(f"/contribute/entry/{entry_id}"))
    answer = client.post(f"/contribute/entry/{entry_id}/retract", data={"csrf": csrf})
    assert answer.status_code == 303 and answer.headers["location"] == location
    assert not ask(service, f"ASK {{ ?e <{PKG}seriesNumber> {number} }}")


def filed_meeting(service, client: httpx.Client) -> tuple[int, str, str]:
    """A meeting filed through the form, stated in sentence 1 of a newly registered source: number, source, entry id."""
    title = f"News item {uuid.uuid4()}"
    register_source(client, title)
    source = source_of(service, title)
    number = next(NUMBERS)
    csrf = csrf_of(client.get("/contribute/new", params={"type": "ExpertGroupMeeting"}))
    answer = client.post("/contribute/new", data={**meeting_form(csrf, number, source, 1), "action": "submit"})
    assert answer.status_code == 303, answer.text
    return number, source, answer.headers["location"].rsplit("/", 1)[-1]


class _Filled(HTMLParser):
    """What a form page has filled in, as a browser would send it: each input's name -> its values."""

    def __init__(self) -> None:
        super().__init__()
        self.values: dict[str, list[str]] = {}
        self._select: str | None = None
        self._textarea: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        name, kind = a.get("name") or "", a.get("type") or "text"
        if tag == "input" and name and kind not in ("submit", "button", "file"):
            if kind not in ("radio", "checkbox") or "checked" in a:
                self._keep(name, a.get("value") or "")
        elif tag == "select":
            self._select = name
        elif tag == "option" and self._select and "selected" in a:
            self._keep(self._select, a.get("value") or "")
        elif tag == "textarea":
            self._textarea = name
            self._keep(name, "")

    def handle_data(self, data: str) -> None:
        if self._textarea:
            self.values[self._textarea][-1] += data

    def handle_endtag(self, tag: str) -> None:
        if tag == "select":
            self._select = None
        elif tag == "textarea":
            self._textarea = None

    def _keep(self, name: str, value: str) -> None:
        self.values.setdefault(name, []).append(value)


def filled_in(page: str) -> dict[str, list[str]]:
    """Every input of the form with a value (languages and the session's CSRF token aside)."""
    parser = _Filled()
    parser.feed(page)
    return {
        name: [v for v in values if v]
        for name, values in parser.values.items()
        if any(values) and name != "csrf" and not name.endswith(".lang")
    }


def test_revising_ones_own_entry_opens_its_form_filled_with_exactly_what_it_says(service):
    client = signed_in(service)
    number, source, entry_id = filed_meeting(service, client)
    form = client.get(f"/contribute/entry/{entry_id}/revise")
    assert form.status_code == 200 and f"Revise entry {entry_id}" in form.text
    # What the entry holds, each in its field, and nothing else: no other field has a value.
    assert filled_in(form.text) == {
        "type": ["ExpertGroupMeeting"],
        "revises": [entry_id],
        "label": [f"Meeting number {number}"],
        "partOfSeries": [SERIES],
        "seriesNumber": [str(number)],
        "startMonthDay": ["--04-09"],
        "source": [source],
        "kind": ["stated"],
        "sentence": ["1"],
    }


def facts_of(service, number: int) -> set[tuple[str, str]]:
    """What the graph says of the meeting with this number: (property's local name, value) pairs."""
    rows = httpx.get(
        service.sparql,
        params={"query": f"SELECT ?p ?o WHERE {{ ?m <{PKG}seriesNumber> {number} ; ?p ?o }}"},
        headers={"Accept": SRJ},
    ).json()["results"]["bindings"]
    return {(r["p"]["value"].rsplit("#", 1)[-1].rsplit("/", 1)[-1], r["o"]["value"]) for r in rows}


def provenance_of(page: str) -> tuple[list[str], str, str]:
    """The provenance part of a form as filled in: the kinds checked, the sentences ticked, the reason."""
    kinds = re.findall(r'name="kind" value="(\w+)" checked', page)
    ticked = re.findall(r'name="sentence" value="(\d+)" id="sentence-\d+" checked', page)
    reason = re.search(r'<textarea id="reason" name="reason"[^>]*>([^<]*)</textarea>', page)
    assert reason, "the form has no reason box"
    return kinds, ",".join(ticked), html.unescape(reason.group(1))


def test_the_revise_form_gives_back_every_value_with_its_language_and_an_inference_with_its_reason(service):
    client = signed_in(service)
    number = next(NUMBERS)
    source = B + "id/source/nemo-news-eg11"
    csrf = csrf_of(client.get("/contribute/new", params={"type": "ExpertGroupMeeting"}))
    reason = "The news item's date is the day after the meeting's first day."
    data = {
        **meeting_form(csrf, number, source, 1),
        "label": [f"Meeting number {number}", f"Réunion numéro {number}"],
        "label.lang": ["en", "fr"],
        "organisedBy": [B + "id/org/european-commission"],
        "kind": "inferred",
        "reason": reason,
        "sentence": [],
        "action": "submit",
    }
    answer = client.post("/contribute/new", data=data)
    assert answer.status_code == 303, answer.text
    form = client.get(f"/contribute/entry/{answer.headers['location'].rsplit('/', 1)[-1]}/revise").text
    labels = re.findall(r'<input id="label-\d+" name="label"[^>]*value="([^"]*)"', form)
    languages = re.findall(r'name="label.lang" value="([^"]*)"', form)
    # The stored values, then the empty box a repeatable field always gets after them.
    assert list(zip(labels, languages, strict=True)) == [
        (f"Meeting number {number}", "en"),
        (f"Réunion numéro {number}", "fr"),
        ("", "en"),
    ]
    assert re.findall(r'<option value="([^"]+)" selected>', form) == [SERIES, B + "id/org/european-commission", source]
    assert provenance_of(form) == (["inferred"], "", reason)
    assert input_value(form, "seriesNumber") == str(number) and input_value(form, "startMonthDay") == "--04-09"


def test_the_revise_form_of_an_editorial_entry_says_it_is_editorial(service):
    client = signed_in(service)
    number = next(NUMBERS)
    csrf = csrf_of(client.get("/contribute/new", params={"type": "ExpertGroupMeeting"}))
    data = {**meeting_form(csrf, number, B + "id/source/nemo-news-eg11", 1), "kind": "editorial", "action": "submit"}
    location = client.post("/contribute/new", data=data).headers["location"]
    form = client.get(f"/contribute/entry/{location.rsplit('/', 1)[-1]}/revise").text
    assert provenance_of(form) == (["editorial"], "", "")


def test_a_follow_up_is_revised_through_its_form_with_its_ticked_sentence_kept(service):
    client = signed_in(service)
    title = f"News item {uuid.uuid4()}"
    register_source(client, title)
    source = source_of(service, title)
    rec = B + "id/recommendation/innovation-and-integrity-3"
    csrf = csrf_of(client.get("/contribute/new", params={"type": "StatusRecord", "recommendation": rec}))
    data = {
        "csrf": csrf,
        "type": "StatusRecord",
        "action": "submit",
        "recommendation": rec,
        "status": PKG + "statusPresented",
        "statusDate": "2024-04-09",
        "source": source,
        "kind": "stated",
        "sentence": "3",
    }
    answer = client.post("/contribute/new", data=data)
    assert answer.status_code == 303, answer.text
    entry_id = answer.headers["location"].rsplit("/", 1)[-1]
    form = client.get(f"/contribute/entry/{entry_id}/revise").text
    assert re.findall(r'<option value="([^"]+)" selected>', form) == [rec, PKG + "statusPresented", source]
    assert input_value(form, "statusDate") == "2024-04-09"
    assert provenance_of(form) == (["stated"], "3", "")
    assert input_value(form, "wasDerivedFrom") is None  # the evidence is the ticked sentence, given again
    revised = client.post("/contribute/new", data={**data, "statusDate": "2024-04-10", "revises": entry_id})
    assert revised.status_code == 303, revised.text
    new = B + revised.headers["location"][1:]
    rows = httpx.get(
        service.sparql,
        params={
            "query": f"""SELECT ?p ?o WHERE {{ GRAPH <{new}> {{ ?r a <{PKG}StatusRecord> ; ?p ?o }} }}""",
        },
        headers={"Accept": SRJ},
    ).json()["results"]["bindings"]
    excerpt = f"{source}/excerpt/327-698"
    assert {(r["p"]["value"], r["o"]["value"]) for r in rows} == {
        ("http://www.w3.org/1999/02/22-rdf-syntax-ns#type", PKG + "StatusRecord"),
        (PKG + "recommendation", rec),
        (PKG + "status", PKG + "statusPresented"),
        (PKG + "statusDate", "2024-04-10"),
        (PROV + "wasDerivedFrom", excerpt),
    }


def test_a_revision_through_the_form_changes_exactly_the_field_changed(service):
    client = signed_in(service)
    number, source, entry_id = filed_meeting(service, client)
    before = facts_of(service, number)
    assert ("startMonthDay", "--04-09") in before and ("label", f"Meeting number {number}") in before
    csrf = csrf_of(client.get(f"/contribute/entry/{entry_id}/revise"))
    data = {**meeting_form(csrf, number, source, 1), "startMonthDay": "--04-10", "revises": entry_id}
    checked = client.post("/contribute/new", data=data)
    assert checked.status_code == 200 and "No problems found" in checked.text, checked.text
    answer = client.post("/contribute/new", data={**data, "action": "submit"})
    assert answer.status_code == 303 and answer.headers["location"].startswith("/entries/")
    new = B + answer.headers["location"][1:]
    old = B + "entries/" + entry_id
    after = facts_of(service, number)
    assert after == before - {("startMonthDay", "--04-09")} | {("startMonthDay", "--04-10")}
    shown = client.get(answer.headers["location"])  # the new version's page, as the browser is sent on to
    assert shown.status_code == 200 and "--04-10" in shown.text and "--04-09" not in shown.text
    assert ask(
        service,
        f"""ASK {{ GRAPH <{B}graph/entries> {{ <{new}> <http://www.w3.org/ns/prov#wasRevisionOf> <{old}> .
        <{old}> <http://www.w3.org/ns/prov#invalidatedAtTime> ?t }}
        GRAPH <{new}> {{ <{new}> a <{PKG}StatedAssertion> ; <http://www.w3.org/ns/prov#wasDerivedFrom> ?x .
        ?x <{PKG}startOffset> 53 ; <{PKG}endOffset> 212 }} }}""",
    )


def test_an_invalid_revision_writes_nothing_and_shows_the_problem_by_its_field(service):
    client = signed_in(service)
    number, source, entry_id = filed_meeting(service, client)
    csrf = csrf_of(client.get(f"/contribute/entry/{entry_id}/revise"))
    data = {**meeting_form(csrf, 11, source, 1), "revises": entry_id, "action": "submit"}
    answer = client.post("/contribute/new", data=data)
    assert answer.status_code == 422
    error = re.search(r'<p class="error" id="seriesNumber-error">([^<]*)</p>', answer.text)
    assert error and "has the same number 11" in error.group(1)
    assert ask(service, f"ASK {{ ?m <{PKG}seriesNumber> {number} }}")
    assert not ask(
        service,
        f"ASK {{ GRAPH <{B}graph/entries> {{ <{B}entries/{entry_id}> <{PROV}invalidatedAtTime> ?t }} }}",
    )


def test_a_revision_sent_twice_is_written_once_and_the_second_gets_its_form_back(service):
    client = signed_in(service)
    number, source, entry_id = filed_meeting(service, client)
    csrf = csrf_of(client.get(f"/contribute/entry/{entry_id}/revise"))
    data = {
        **meeting_form(csrf, number, source, 1),
        "startMonthDay": "--04-13",
        "revises": entry_id,
        "action": "submit",
    }
    first = client.post("/contribute/new", data=data)
    assert first.status_code == 303
    newer = first.headers["location"].rsplit("/", 1)[-1]
    again = client.post("/contribute/new", data=data)  # a second press of Submit, or another tab
    assert again.status_code == 410
    assert input_value(again.text, "startMonthDay") == "--04-13"  # what was sent is kept
    message = [html.unescape(m) for m in re.findall(r'<li class="error">([^<]*)</li>', again.text)]
    assert len(message) == 1 and message[0].startswith(
        f"Entry {entry_id} was revised (its newer version is {newer}) at "
    )
    assert message[0].endswith("nothing was written. Open the entry's page to start again from what it says now.")
    rows = httpx.get(
        service.sparql,
        params={"query": f"SELECT ?e WHERE {{ GRAPH ?e {{ ?m <{PKG}seriesNumber> {number} }} }}"},
        headers={"Accept": SRJ},
    ).json()["results"]["bindings"]
    assert [r["e"]["value"] for r in rows] == [B + "entries/" + newer]
    assert not ask(
        service, f"ASK {{ GRAPH <{B}graph/entries> {{ <{B}entries/{newer}> <{PROV}invalidatedAtTime> ?t }} }}"
    )


def test_another_contributor_may_not_revise_an_entry(service):
    number, source, entry_id = filed_meeting(service, signed_in(service))
    other = signed_in(service, "contributor-token-bob")
    refused = other.get(f"/contribute/entry/{entry_id}/revise", headers={"Accept": "application/json"})
    assert refused.status_code == 403 and refused.json()["type"].endswith("/not-your-entry")
    # A browser gets a page that says why, and no form.
    page = other.get(f"/contribute/entry/{entry_id}/revise", headers={"Accept": "text/html"})
    assert page.status_code == 403 and page.headers["content-type"].startswith("text/html")
    said = html.unescape(page.text)
    assert "<h1>403: Only an entry's contributor or the operator may change it</h1>" in said
    assert f"was written by <{B}id/agent/alice>" in said and 'name="revises"' not in said
    csrf = csrf_of(other.get("/contribute/new", params={"type": "ExpertGroupMeeting"}))
    data = {**meeting_form(csrf, number, source, 1), "startMonthDay": "--05-01", "revises": entry_id}
    answer = other.post("/contribute/new", data={**data, "action": "submit"}, headers={"Accept": "application/json"})
    assert answer.status_code == 403
    assert not ask(
        service, f'ASK {{ ?m <{PKG}seriesNumber> {number} ; <{PKG}startMonthDay> ?d FILTER(STR(?d) = "--05-01") }}'
    )


def test_a_revision_without_the_csrf_token_is_refused_and_writes_nothing(service):
    client = signed_in(service)
    number, source, entry_id = filed_meeting(service, client)
    data = {**meeting_form("", number, source, 1), "startMonthDay": "--06-01", "revises": entry_id}
    del data["csrf"]
    answer = client.post("/contribute/new", data={**data, "action": "submit"}, headers={"Accept": "application/json"})
    assert answer.status_code == 403 and answer.json()["type"].endswith("/form-refused")
    assert ask(
        service, f'ASK {{ ?m <{PKG}seriesNumber> {number} ; <{PKG}startMonthDay> ?d FILTER(STR(?d) = "--04-09") }}'
    )


def actions_of(page: str) -> tuple[bool, bool]:
    """What an entry's page of actions offers: (a link to revise it, a form to retract it)."""
    return '/revise">Revise this entry</a>' in page, 'action="/contribute/entry/' in page


def test_an_entrys_actions_are_offered_to_its_contributor_alone(service):
    alice = signed_in(service)
    _, _, entry_id = filed_meeting(service, alice)
    mine = alice.get(f"/contribute/entry/{entry_id}")
    assert mine.status_code == 200 and actions_of(mine.text) == (True, True)
    assert "Contributed by <strong>alice</strong>" in mine.text
    theirs = signed_in(service, "contributor-token-bob").get(f"/contribute/entry/{entry_id}")
    assert theirs.status_code == 200 and actions_of(theirs.text) == (False, False)
    assert "You are signed in as <strong>bob</strong>: this entry is alice's" in theirs.text
    anyone = browser_like(service).get(f"/contribute/entry/{entry_id}")
    assert actions_of(anyone.text) == (False, False)
    assert f'href="/signin?next=/contribute/entry/{entry_id}">Sign in</a>' in anyone.text
    missing = alice.get("/contribute/entry/20000101T000000-000000000000", headers={"Accept": "application/json"})
    assert missing.status_code == 404 and missing.json()["type"].endswith("/graph-not-found")


def test_a_revised_entrys_actions_lead_to_its_newer_version_and_a_retracted_ones_to_none(service):
    client = signed_in(service)
    number, source, entry_id = filed_meeting(service, client)
    csrf = csrf_of(client.get(f"/contribute/entry/{entry_id}/revise"))
    data = {**meeting_form(csrf, number, source, 1), "startMonthDay": "--04-12", "revises": entry_id}
    newer = client.post("/contribute/new", data={**data, "action": "submit"}).headers["location"].rsplit("/", 1)[-1]
    old = client.get(f"/contribute/entry/{entry_id}")
    assert actions_of(old.text) == (False, False) and "This version was revised" in old.text
    assert f'<a href="/contribute/entry/{newer}">its newer version, {newer}</a>' in old.text
    csrf = csrf_of(client.get(f"/contribute/entry/{newer}"))
    assert client.post(f"/contribute/entry/{newer}/retract", data={"csrf": csrf}).status_code == 303
    gone = client.get(f"/contribute/entry/{newer}")
    assert actions_of(gone.text) == (False, False) and "This entry was retracted" in gone.text
    again = client.get(f"/contribute/entry/{entry_id}/revise", headers={"Accept": "application/json"})
    assert again.status_code == 410 and again.json()["type"].endswith("/entry-gone")

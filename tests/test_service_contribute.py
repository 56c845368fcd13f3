"""Contributing through forms over HTTP: sign-in sessions, CSRF, checks next to fields, and writes as /entries."""

import html
import itertools
import re
import uuid
from pathlib import Path

import httpx
import pytest

B = "http://localhost:8000/"
PKG = "https://w3id.org/policykg/ontology#"
SRJ = "application/sparql-results+json"
PROV = "http://www.w3.org/ns/prov#"
SERIES = B + "id/series/cultural-heritage-expert-group-meetings"
NEWS_TEXT = (Path(__file__).parents[1] / "data" / "sources" / "nemo-news-eg11.txt").read_text(encoding="utf-8")
TOKEN = "contributor-token-alice"
# Series numbers no other test of the shared service uses.
NUMBERS = itertools.count(50_000)


_OPEN: list[httpx.Client] = []


@pytest.fixture(autouse=True)
def _close_clients():
    yield
    while _OPEN:
        _OPEN.pop().close()


def browser_like(service, **options) -> httpx.Client:
    """A client that keeps cookies, as a browser does (closed after the test)."""
    client = httpx.Client(base_url=service.url, timeout=60, **options)
    _OPEN.append(client)
    return client


def ask(service, query: str) -> bool:
    return httpx.get(service.sparql, params={"query": query}, headers={"Accept": SRJ}).json()["boolean"]


def csrf_of(page: httpx.Response) -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', page.text)
    assert found, "the page has no CSRF field"
    return found.group(1)


def signed_in(service, token: str = TOKEN) -> httpx.Client:
    client = browser_like(service)
    csrf = csrf_of(client.get("/signin"))
    answer = client.post("/signin", data={"csrf": csrf, "token": token, "next": "/contribute"})
    assert answer.status_code == 303 and answer.headers["location"] == "/contribute"
    return client


def register_source(client: httpx.Client, title: str) -> str:
    csrf = csrf_of(client.get("/contribute/new", params={"type": "SourceDocument"}))
    answer = client.post(
        "/contribute/new",
        data={"csrf": csrf, "type": "SourceDocument", "action": "submit", "label": title, "label.lang": "en"},
        files={"text.file": ("news.txt", NEWS_TEXT.encode("utf-8"), "text/plain")},
    )
    assert answer.status_code == 303, answer.text
    return answer.headers["location"]


def meeting_form(csrf: str, number: int, source: str, sentence: int) -> dict[str, object]:
    return {
        "csrf": csrf,
        "type": "ExpertGroupMeeting",
        "action": "check",
        "label": f"Meeting number {number}",
        "label.lang": "en",
        "partOfSeries": SERIES,
        "seriesNumber": str(number),
        "startMonthDay": "--04-09",
        "source": source,
        "kind": "stated",
        "sentence": str(sentence),
    }


def source_of(service, title: str) -> str:
    rows = httpx.get(
        service.sparql,
        params={
            "query": f"SELECT ?s WHERE {{ ?s a <{PKG}SourceDocument> ; "
            f'<http://www.w3.org/2000/01/rdf-schema#label> "{title}"@en }}'
        },
        headers={"Accept": SRJ},
    ).json()["results"]["bindings"]
    return rows[0]["s"]["value"]


def test_signin_gives_an_httponly_strict_cookie_that_holds_no_token(service):
    client = browser_like(service)
    form = client.get("/signin")
    assert "SameSite=strict" in form.headers["set-cookie"] and "HttpOnly" in form.headers["set-cookie"]
    answer = client.post("/signin", data={"csrf": csrf_of(form), "token": TOKEN, "next": "/contribute"})
    cookie = answer.headers["set-cookie"]
    assert answer.status_code == 303
    assert "HttpOnly" in cookie and "SameSite=strict" in cookie and "Path=/" in cookie and "Max-Age=" in cookie
    assert "Secure" not in cookie and TOKEN not in cookie
    page = client.get("/contribute")
    assert "Signed in as <strong>alice</strong>" in page.text and TOKEN not in page.text


def test_signin_behind_an_https_proxy_makes_the_cookie_secure(service):
    client = browser_like(service, headers={"X-Forwarded-Proto": "https"})
    # The proxy's X-Forwarded-Proto is trusted from loopback (uvicorn's proxy headers).
    assert "Secure" in client.get("/signin").headers["set-cookie"]
    assert "Secure" not in httpx.get(service.url + "/signin").headers["set-cookie"]


def test_signin_with_an_unknown_token_is_refused_and_opens_no_session(service):
    client = browser_like(service)
    answer = client.post("/signin", data={"csrf": csrf_of(client.get("/signin")), "token": "not-a-token-at-all"})
    assert answer.status_code == 401 and "not-a-token-at-all" not in answer.text
    assert "Signed in as" not in client.get("/contribute").text


def test_signout_ends_the_session_on_the_server(service):
    client = signed_in(service)
    old = client.cookies["policykg_session"]
    answer = client.post("/signout", data={"csrf": csrf_of(client.get("/contribute"))})
    assert answer.status_code == 303
    stale = browser_like(service, cookies={"policykg_session": old})
    assert "Signed in as" not in stale.get("/contribute").text


def test_a_form_post_without_the_csrf_token_is_refused_and_writes_nothing(service):
    client = signed_in(service)
    number = next(NUMBERS)
    data = meeting_form("", number, B + "id/source/nemo-news-eg11", 1)
    del data["csrf"]
    answer = client.post("/contribute/new", data={**data, "action": "submit"}, headers={"Accept": "application/json"})
    assert answer.status_code == 403 and answer.json()["type"].endswith("/form-refused")
    assert not ask(service, f"ASK {{ ?e <{PKG}seriesNumber> {number} }}")


def test_a_submit_without_signing_in_writes_nothing(service):
    client = browser_like(service)
    number = next(NUMBERS)
    csrf = csrf_of(client.get("/contribute/new", params={"type": "ExpertGroupMeeting"}))
    answer = client.post(
        "/contribute/new",
        data={**meeting_form(csrf, number, B + "id/source/nemo-news-eg11", 1), "kind": "editorial", "action": "submit"},
    )
    assert answer.status_code == 401 and "Sign in" in answer.text
    assert not ask(service, f"ASK {{ ?e <{PKG}seriesNumber> {number} }}")


def test_check_puts_a_duplicate_series_number_next_to_its_field(service):
    client = signed_in(service)
    csrf = csrf_of(client.get("/contribute/new", params={"type": "ExpertGroupMeeting"}))
    answer = client.post(
        "/contribute/new", data={**meeting_form(csrf, 11, B + "id/source/nemo-news-eg11", 1), "kind": "editorial"}
    )
    assert answer.status_code == 422
    error = re.search(r'<p class="error" id="seriesNumber-error">([^<]*)</p>', answer.text)
    assert error and "has the same number 11" in error.group(1)
    assert re.search(r'id="seriesNumber-0"[^>]*aria-describedby="seriesNumber-help seriesNumber-error"', answer.text)
    # Once, by its field: the summary links to the field without saying it again, nor is it said from meeting
    # 11's side.
    assert answer.text.count("has the same number 11") == 1
    assert summary_links(answer.text) == [("seriesNumber-0", "Number in the series")]
    assert not ask(
        service,
        f'ASK {{ ?e <{PKG}seriesNumber> 11 ; <http://www.w3.org/2000/01/rdf-schema#label> "Meeting number 11"@en }}',
    )


def summary_links(page: str) -> list[tuple[str, str]]:
    """The fields the summary of problems at the top of a form links to (target, link text)."""
    summary = re.search(r'<div id="problems"[^>]*>(.*?)</div>', page, re.S)
    assert summary, "the page has no summary of problems"
    return re.findall(r'<a href="#([^"]+)">([^<]*)</a>', summary.group(1))


def test_a_problem_about_where_the_facts_come_from_is_shown_once_by_the_source(service):
    client = browser_like(service)
    csrf = csrf_of(client.get("/contribute/new", params={"type": "ExpertGroupMeeting"}))
    data = {**meeting_form(csrf, next(NUMBERS), B + "id/source/nemo-news-eg11", 1), "sentence": []}
    answer = client.post("/contribute/new", data=data)
    assert answer.status_code == 422
    message = "Tick the sentence or sentences of the source that state these facts"
    assert answer.text.count(message) == 1
    error = re.search(r'<p class="error" id="provenance-error">([^<]*)</p>', answer.text)
    assert error and error.group(1).startswith(message)
    assert summary_links(answer.text) == [("provenance-0", "Source")]


def test_a_problem_with_no_field_is_shown_once_in_the_form_wide_list(service):
    client = browser_like(service)
    csrf = csrf_of(client.get("/contribute/new", params={"type": "ExpertGroupMeeting"}))
    data = {**meeting_form(csrf, next(NUMBERS), B + "id/source/nemo-news-eg11", 1), "kind": "editorial"}
    answer = client.post("/contribute/new", data={**data, "action": "submit"})
    assert answer.status_code == 401
    summary = re.search(r'<div id="problems"[^>]*>(.*?)</div>', answer.text, re.S)
    assert summary and re.findall(r'<li class="error">([^<]*)</li>', summary.group(1)) == [
        "Sign in with your token before you submit: nothing was written."
    ]
    assert answer.text.count("Sign in with your token before you submit") == 1
    assert summary_links(answer.text) == [] and 'class="error" id="' not in answer.text


def test_a_meeting_stated_in_a_ticked_sentence_is_written_with_its_excerpt(service):
    client = signed_in(service)
    title = f"News item {uuid.uuid4()}"
    register_source(client, title)
    source = source_of(service, title)
    number = next(NUMBERS)
    csrf = csrf_of(client.get("/contribute/new", params={"type": "ExpertGroupMeeting", "source": source}))
    # Sentence 1 of the news item: "From 9-10 April, NEMO Secretary General Julia Pagel attended …"
    checked = client.post("/contribute/new", data=meeting_form(csrf, number, source, 1))
    assert checked.status_code == 200 and "No problems found" in checked.text
    answer = client.post("/contribute/new", data={**meeting_form(csrf, number, source, 1), "action": "submit"})
    assert answer.status_code == 303 and answer.headers["location"].startswith("/entries/")
    entry = B + answer.headers["location"][1:]
    assert ask(
        service,
        f"""ASK {{ GRAPH <{entry}> {{ ?m a <{PKG}ExpertGroupMeeting> ; <{PKG}seriesNumber> {number} .
        <{entry}> a <{PKG}StatedAssertion> ; <http://www.w3.org/ns/prov#wasDerivedFrom> ?x .
        ?x <{PKG}startOffset> 53 ; <{PKG}endOffset> 212 ; <http://purl.org/dc/terms/isPartOf> <{source}> ;
           <http://www.w3.org/ns/prov#value> ?quote FILTER (STRSTARTS(?quote, "From 9-10 April")) }}
        GRAPH <{B}graph/entries> {{ <{entry}> <http://www.w3.org/ns/prov#wasAttributedTo> <{B}id/agent/alice> }} }}""",
    )
    assert client.get(answer.headers["location"]).status_code == 200


def test_a_text_typed_in_the_form_is_kept_with_the_line_breaks_of_the_file_and_excerpts_fit_it(service):
    client = signed_in(service)
    title = f"News item typed {uuid.uuid4()}"
    csrf = csrf_of(client.get("/contribute/new", params={"type": "SourceDocument"}))
    # A browser sends a text area's line breaks as CRLF.
    typed = {"label": title, "label.lang": "en", "text": NEWS_TEXT.replace("\n", "\r\n")}
    answer = client.post("/contribute/new", data={"csrf": csrf, "type": "SourceDocument", "action": "submit", **typed})
    assert answer.status_code == 303, answer.text
    source = source_of(service, title)
    rows = httpx.get(
        service.sparql,
        params={"query": f"SELECT ?text WHERE {{ <{source}> <https://schema.org/text> ?text }}"},
        headers={"Accept": SRJ},
    ).json()["results"]["bindings"]
    assert [r["text"]["value"] for r in rows] == [NEWS_TEXT]
    csrf = csrf_of(client.get("/contribute/new", params={"type": "ExpertGroupMeeting"}))
    written = client.post("/contribute/new", data={**meeting_form(csrf, next(NUMBERS), source, 1), "action": "submit"})
    entry = B + written.headers["location"][1:]
    # The same offsets as in the file (and as for the uploaded text above): 53 to 212.
    assert ask(service, f"ASK {{ GRAPH <{entry}> {{ <{source}/excerpt/53-212> <{PKG}startOffset> 53 }} }}")


def test_a_follow_up_form_is_pre_filled_from_the_recommendation(service):
    rec = B + "id/recommendation/innovation-and-integrity-1"
    page = httpx.get(service.url + "/doc/id/recommendation/innovation-and-integrity-1.html")
    link = re.search(r'href="(/contribute/new\?type=StatusRecord&amp;recommendation=[^"]+)"', page.text)
    assert link
    form = httpx.get(service.url + link.group(1).replace("&amp;", "&"))
    assert re.search(rf'<option value="{re.escape(rec)}" selected>', form.text)


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


@pytest.mark.parametrize("path", ["/signin", "/signout", "/contribute/new", "/contribute/entry/no-such-entry/retract"])
def test_every_form_post_without_the_csrf_token_is_refused(service, path):
    client = signed_in(service)
    answer = client.post(path, data={"type": "Organisation", "token": TOKEN}, headers={"Accept": "application/json"})
    assert answer.status_code == 403 and answer.json()["type"].endswith("/form-refused")
    assert "Signed in as" in client.get("/contribute").text  # not even sign-out happened


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


def input_value(page: str, name: str) -> str | None:
    found = re.search(rf'<input id="{re.escape(name)}-0" name="{re.escape(name)}"[^>]*value="([^"]*)"', page)
    return found.group(1) if found else None


def test_revising_ones_own_entry_opens_its_form_filled_with_what_it_says(service):
    client = signed_in(service)
    number, source, entry_id = filed_meeting(service, client)
    form = client.get(f"/contribute/entry/{entry_id}/revise")
    assert form.status_code == 200 and f"Revise entry {entry_id}" in form.text
    page = form.text
    assert input_value(page, "label") == f"Meeting number {number}"
    assert input_value(page, "seriesNumber") == str(number)
    assert input_value(page, "startMonthDay") == "--04-09"
    assert re.search(rf'<option value="{re.escape(SERIES)}" selected>', page)
    assert re.search(rf'<option value="{re.escape(source)}" selected>', page)
    assert re.findall(r'name="sentence" value="(\d+)" id="sentence-\d+" checked', page) == ["1"]
    assert re.search(r'name="kind" value="stated" checked', page)
    assert f'name="revises" value="{entry_id}"' in page


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


def options_of(page: str, key: str) -> dict[str, str]:
    """The choices a picker offers (IRI -> label), none included."""
    select = re.search(rf'<select id="{re.escape(key)}-0" [^>]*>(.*?)</select>', page, re.S)
    assert select, f"no picker {key}"
    return {iri: label for iri, label in re.findall(r'<option value="([^"]+)"[^>]*>([^<]*)</option>', select.group(1))}


def test_a_picker_finds_things_by_the_words_of_their_names_without_script(service):
    client = browser_like(service)
    form = client.get("/contribute/new", params={"type": "ExpertGroupMeeting"})
    page = form.text
    every = options_of(page, "organisedBy")
    assert len(every) > 2
    words = "european COMMISSION"
    expected = {iri: label for iri, label in every.items() if all(w.lower() in label.lower() for w in words.split())}
    assert 0 < len(expected) < len(every)
    data = {
        "csrf": csrf_of(form),
        "type": "ExpertGroupMeeting",
        "action": "find:organisedBy",
        "organisedBy.find": words,
    }
    found = client.post("/contribute/new", data=data)
    assert found.status_code == 200
    assert options_of(found.text, "organisedBy") == expected
    assert options_of(found.text, "heldIn") == options_of(page, "heldIn")  # the other pickers keep every choice
    n = len(expected)
    assert f"{n} {'match' if n == 1 else 'matches'} for “{words}”" in found.text
    assert re.search(r'id="organisedBy-find" name="organisedBy.find" value="european COMMISSION"', found.text)


def test_a_picker_search_is_words_only_and_never_part_of_a_query(service):
    client = browser_like(service)
    form = client.get("/contribute/new", params={"type": "ExpertGroupMeeting"})
    words = '" ) } } DELETE WHERE { ?s ?p ?o } #'
    data = {
        "csrf": csrf_of(form),
        "type": "ExpertGroupMeeting",
        "action": "find:organisedBy",
        "organisedBy.find": words,
    }
    found = client.post("/contribute/new", data=data)
    assert found.status_code == 200 and options_of(found.text, "organisedBy") == {}
    assert "0 matches for" in found.text
    assert ask(service, f"ASK {{ <{B}id/recommendation/innovation-and-integrity-1> ?p ?o }}")


def test_add_another_gives_a_repeatable_field_one_more_box_and_keeps_the_values(service):
    client = browser_like(service)
    form = client.get("/contribute/new", params={"type": "ExpertGroupMeeting"})
    page = form.text
    assert 'value="more:organisedBy"' in page and 'value="more:seriesNumber"' not in page  # at most one number
    data = {
        "csrf": csrf_of(form),
        "type": "ExpertGroupMeeting",
        "action": "more:label",
        "label": "A first name",
        "label.lang": "en",
        "seriesNumber": "77",
    }
    more = client.post("/contribute/new", data=data)
    assert more.status_code == 200
    boxes = re.findall(r'<input id="label-(\d+)" name="label"[^>]*value="([^"]*)"', more.text)
    # The value kept, the box the value always gets after it, and the one asked for.
    assert boxes == [("0", "A first name"), ("1", ""), ("2", "")]
    assert input_value(more.text, "seriesNumber") == "77"

"""Contributing through forms over HTTP: sign-in sessions, CSRF, checks next to fields, and writes as /entries."""

import itertools
import re
import uuid

import httpx
import pytest
from contributing import (
    NEWS_TEXT,
    PKG,
    SRJ,
    TOKEN,
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

# Series numbers no other test of the shared service uses.
NUMBERS = itertools.count(50_000)


@pytest.fixture(autouse=True)
def _close_clients():
    yield
    close_clients()


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


@pytest.mark.parametrize("path", ["/signin", "/signout", "/contribute/new", "/contribute/entry/no-such-entry/retract"])
def test_every_form_post_without_the_csrf_token_is_refused(service, path):
    client = signed_in(service)
    answer = client.post(path, data={"type": "Organisation", "token": TOKEN}, headers={"Accept": "application/json"})
    assert answer.status_code == 403 and answer.json()["type"].endswith("/form-refused")
    assert "Signed in as" in client.get("/contribute").text  # not even sign-out happened


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


def test_a_csrf_token_that_is_not_ascii_is_refused_not_a_fault(service):
    client = signed_in(service)
    answer = client.post(
        "/contribute/new",
        data={"csrf": "jeton-é", "type": "Organisation", "action": "check"},
        headers={"Accept": "application/json"},
    )
    assert answer.status_code == 403 and answer.json()["type"].endswith("/form-refused")

"""Helpers for the tests of the contribution forms over HTTP: clients that keep cookies as a browser does,
signing in, a form's CSRF field and filled-in values, a source registered with the news item, a meeting's
form, and ASK queries. Each test module that opens clients closes them after each test (close_clients)."""

import re
from pathlib import Path

import httpx

B = "http://localhost:8000/"
PKG = "https://w3id.org/policykg/ontology#"
SRJ = "application/sparql-results+json"
PROV = "http://www.w3.org/ns/prov#"
SERIES = B + "id/series/cultural-heritage-expert-group-meetings"
NEWS_TEXT = (Path(__file__).parents[1] / "data" / "sources" / "nemo-news-eg11.txt").read_text(encoding="utf-8")
TOKEN = "contributor-token-alice"

_OPEN: list[httpx.Client] = []


def browser_like(service, **options) -> httpx.Client:
    """A client that keeps cookies, as a browser does (closed by close_clients)."""
    client = httpx.Client(base_url=service.url, timeout=60, **options)
    _OPEN.append(client)
    return client


def close_clients() -> None:
    """Close every client browser_like opened."""
    while _OPEN:
        _OPEN.pop().close()


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


def input_value(page: str, name: str) -> str | None:
    found = re.search(rf'<input id="{re.escape(name)}-0" name="{re.escape(name)}"[^>]*value="([^"]*)"', page)
    return found.group(1) if found else None

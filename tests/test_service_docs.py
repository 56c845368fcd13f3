"""/docs over HTTP: Swagger UI from the service's own files, under a policy that lets in only those; every
other page keeps the policy of no script at all."""

import base64
import hashlib
from html.parser import HTMLParser
from urllib.parse import urlsplit

import httpx
import pytest

MEDIA_TYPES = {"script": "text/javascript", "stylesheet": "text/css"}


class Loads(HTMLParser):
    """What a page loads: its scripts (src, or inline text), its style sheets and its <style> elements."""

    def __init__(self) -> None:
        super().__init__()
        self.scripts: list[str | None] = []  # None: an inline script
        self.inline_scripts: list[str] = []
        self.stylesheets: list[str] = []
        self.styles: list[str] = []
        self._in: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        if tag == "script":
            self.scripts.append(values.get("src"))
            self._in = "script"
        elif tag == "style":
            self.styles.append("")
            self._in = "style"
        elif tag == "link" and values.get("rel") == "stylesheet":
            self.stylesheets.append(values.get("href") or "")

    def handle_data(self, data: str) -> None:
        if self._in == "script" and data.strip():
            self.inline_scripts.append(data)
        elif self._in == "style":
            self.styles[-1] += data

    def handle_endtag(self, tag: str) -> None:
        self._in = None


def directives(policy: str) -> dict[str, list[str]]:
    """A Content-Security-Policy as directive -> its sources."""
    found = {}
    for part in policy.split(";"):
        name, *sources = part.split()
        found[name] = sources
    return found


@pytest.fixture(scope="module")
def docs(service) -> tuple[httpx.Response, Loads]:
    """The /docs page as a browser gets it, and what it loads."""
    response = httpx.get(service.url + "/docs", headers={"Accept": "text/html"})
    loads = Loads()
    loads.feed(response.text)
    return response, loads


def test_docs_is_a_page_that_loads_scripts_from_the_service_only(docs):
    response, loads = docs
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/html")
    assert len(loads.scripts) == 2 and loads.inline_scripts == []
    for src in loads.scripts + loads.stylesheets:
        assert src and src.startswith("/docs/assets/"), src
        assert not urlsplit(src).scheme and not urlsplit(src).netloc
    assert 'data-openapi-url="/openapi.json"' in response.text


def test_the_docs_policy_allows_its_own_scripts_and_styles_and_nothing_inline(docs):
    response, loads = docs
    policy = directives(response.headers["content-security-policy"])
    assert policy["default-src"] == ["'none'"]
    assert policy["script-src"] == ["'self'"]
    assert policy["connect-src"] == ["'self'"]
    assert set(policy["img-src"]) == {"'self'", "data:"}
    assert policy["base-uri"] == ["'none'"]
    # style sheets from the service, and the page's own <style> elements by their hash: nothing else inline
    hashes = {
        "'sha256-" + base64.b64encode(hashlib.sha256(css.encode()).digest()).decode() + "'" for css in loads.styles
    }
    assert loads.styles and set(policy["style-src"]) == {"'self'"} | hashes
    assert "unsafe" not in response.headers["content-security-policy"]


def test_each_file_the_page_loads_is_served_with_its_media_type_and_kept_long(service, docs):
    _, loads = docs
    served = {src: "script" for src in loads.scripts if src} | {href: "stylesheet" for href in loads.stylesheets}
    for path, kind in served.items():
        response = httpx.get(service.url + path)
        assert response.status_code == 200, path
        assert response.headers["content-type"].split(";")[0] == MEDIA_TYPES[kind], path
        assert response.headers["x-content-type-options"] == "nosniff"
        assert (
            "immutable" in response.headers["cache-control"] and "max-age=31536000" in response.headers["cache-control"]
        )
        assert len(response.content) > 500
        assert "content-security-policy" not in response.headers
    bundle = next(src for src in loads.scripts if src and "swagger-ui-bundle" in src)
    assert b"SwaggerUIBundle" in httpx.get(service.url + bundle).content


@pytest.mark.parametrize(
    "name",
    [
        "swagger-ui-bundle.js",
        "swagger-ui.css",
        "index.html",
        "swagger-initializer.js",
        "swagger-ui.js.map",
        "__init__.py",
        "..%2F__init__.py",
        "%2E%2E%2F..%2Fapp.py",
        "docs.html",
    ],
)
def test_a_name_outside_the_allow_list_is_not_found(service, name):
    response = httpx.get(service.url + "/docs/assets/" + name)
    assert response.status_code == 404
    assert not response.headers["content-type"].startswith(("text/javascript", "text/css"))


def test_the_description_stays_where_it_was_and_redoc_is_gone(service):
    assert httpx.get(service.url + "/openapi.json").json()["openapi"].startswith("3.")
    assert httpx.get(service.url + "/redoc").status_code == 404
    assert httpx.get(service.url + "/docs/oauth2-redirect").status_code == 404


@pytest.mark.parametrize(
    "path", ["/", "/timeline", "/sparql", "/ontology.html", "/entries?format=html", "/no-such-page"]
)
def test_every_other_page_keeps_the_policy_of_no_script(service, path):
    response = httpx.get(service.url + path, headers={"Accept": "text/html"})
    assert response.headers["content-type"].startswith("text/html")
    policy = directives(response.headers["content-security-policy"])
    assert policy["default-src"] == ["'none'"] and "script-src" not in policy and "connect-src" not in policy

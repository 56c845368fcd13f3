"""/query/editor over HTTP: YASGUI from the service's own files, under a policy that lets in only scripts from
the service, with the graph's own prefixes and the competency questions; /sparql stays the form without script."""

import html
import re

import httpx
import pytest
from test_service_docs import Loads, directives

from policykg.model.questions import list_questions
from policykg.rdf.namespaces import PREFIXES

MEDIA_TYPES = {"script": "text/javascript", "stylesheet": "text/css"}


@pytest.fixture(scope="module")
def editor(service) -> tuple[httpx.Response, Loads]:
    """The editor page as a browser gets it, and what it loads."""
    response = httpx.get(service.url + "/query/editor", headers={"Accept": "text/html"})
    loads = Loads()
    loads.feed(response.text)
    return response, loads


def test_the_editor_page_loads_its_scripts_from_the_service_only(editor):
    response, loads = editor
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/html")
    assert loads.inline_scripts == [] and len(loads.scripts) == 2
    assert all(src and src.startswith("/query/editor/assets/") for src in loads.scripts + loads.stylesheets)
    assert any("yasgui.min." in src for src in loads.scripts if src)
    assert 'data-endpoint="/sparql"' in response.text
    assert 'data-prefixes-url="/query/editor/prefixes.json"' in response.text
    assert '<a href="/sparql">plain query form</a>' in response.text


def test_the_editor_policy_allows_scripts_from_the_service_alone(editor):
    response, _ = editor
    assert response.headers["content-security-policy"] == (
        "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
        "connect-src 'self'; form-action 'self'; base-uri 'none'"
    )


@pytest.mark.parametrize("path", ["/sparql", "/", "/search", "/timeline"])
def test_the_other_pages_keep_the_policy_of_no_script(service, path):
    response = httpx.get(service.url + path, headers={"Accept": "text/html"})
    policy = directives(response.headers["content-security-policy"])
    assert "script-src" not in policy and policy["default-src"] == ["'none'"]


def test_each_file_of_the_editor_is_served_with_its_media_type_and_kept_long(service, editor):
    _, loads = editor
    served = {src: "script" for src in loads.scripts if src} | {href: "stylesheet" for href in loads.stylesheets}
    assert len(served) == 3
    for path, kind in served.items():
        response = httpx.get(service.url + path)
        assert response.status_code == 200, path
        assert response.headers["content-type"].split(";")[0] == MEDIA_TYPES[kind], path
        assert response.headers["x-content-type-options"] == "nosniff"
        assert "immutable" in response.headers["cache-control"]
        assert httpx.get(service.url + path, headers={"If-None-Match": response.headers["etag"]}).status_code == 304
    vendored = next(src for src in served if "yasgui.min." in src and src.endswith(".js"))
    assert b"Yasgui" in httpx.get(service.url + vendored).content


@pytest.mark.parametrize("name", ["yasgui.min.js", "editor.js", "README.md", "LICENSE", "..%2Fdocs.js"])
def test_a_name_outside_the_editors_files_is_not_found(service, name):
    assert httpx.get(service.url + "/query/editor/assets/" + name).status_code == 404


def test_prefix_completion_reads_the_graphs_own_prefixes(service):
    response = httpx.get(service.url + "/query/editor/prefixes.json")
    assert response.headers["content-type"].startswith("application/json")
    assert response.json() == PREFIXES


def test_every_competency_question_is_offered_as_an_example(editor):
    response, _ = editor
    offered = {
        name: html.unescape(sparql)
        for sparql, name in re.findall(r'data-sparql="([^"]*)" data-name="([^"]*)"', response.text)
    }
    assert offered == {question.name: question.inline_sparql() for question in list_questions()}

"""/query/editor in a real headless Chromium: YASGUI, from the service's own files, runs a competency question
and shows its answer as a table, with no request off loopback, no console error and no policy violation."""

import httpx

from policykg.model.questions import get_question

QUESTION = "representatives-at-meeting"


def expected_cells(service, sparql: str) -> list[list[str]]:
    """The answer the endpoint itself gives, as the text of each cell (IRIs and literals' values)."""
    answer = httpx.post(service.sparql, data={"query": sparql}, headers={"Accept": "application/sparql-results+json"})
    names = answer.json()["head"]["vars"]
    return [
        [row[name]["value"] if name in row else "" for name in names] for row in answer.json()["results"]["bindings"]
    ]


def test_the_editor_runs_a_competency_question_and_shows_its_answer_as_a_table(
    page, service, outbound_requests, console_errors, csp_violations
):
    response = page.goto(service.url + "/query/editor")
    assert response is not None and response.status == 200
    page.locator(".yasqe .CodeMirror").first.wait_for()
    question = get_question(QUESTION)
    with page.expect_response(lambda r: r.url == service.sparql and r.request.method == "POST") as answer:
        page.locator(f"#examples button[data-name='{QUESTION}']").click()
    assert answer.value.status == 200
    table = page.locator(".yasr .dataTable tbody tr")
    table.first.wait_for()
    shown = table.evaluate_all("rows => rows.map(r => [...r.querySelectorAll('td')].slice(1).map(c => c.innerText))")
    expected = expected_cells(service, question.inline_sparql())
    assert expected and len(shown) == len(expected)
    for cells, values in zip(shown, expected, strict=True):
        for cell, value in zip(cells, values, strict=True):
            assert value.rsplit("/", 1)[-1] in cell, (cell, value)
    assert page.locator(".yasqe .cm-keyword").count() > 0  # highlighted
    page.wait_for_load_state("networkidle")
    assert outbound_requests == [] and console_errors == [] and csp_violations == []


def test_prefix_completion_offers_the_graphs_own_prefixes(
    page, service, outbound_requests, console_errors, csp_violations
):
    page.goto(service.url + "/query/editor")
    page.locator(".yasqe .CodeMirror").first.wait_for()
    page.evaluate("() => { window.policykgEditor.getTab().setQuery(''); }")
    page.locator(".yasqe .CodeMirror").first.click()
    page.keyboard.type("PREFIX pk")
    page.keyboard.press("Control+Space")
    hints = page.locator(".CodeMirror-hints li")
    hints.first.wait_for()
    assert "pkg: <https://w3id.org/policykg/ontology#>" in hints.all_inner_texts()
    assert outbound_requests == [] and console_errors == [] and csp_violations == []


def test_without_script_the_plain_query_form_still_answers(page_without_js, service):
    page_without_js.goto(service.url + "/query/editor")
    page_without_js.get_by_role("link", name="plain query form").first.click()
    page_without_js.locator("#query").fill("SELECT (COUNT(*) AS ?n) WHERE { ?s a ?type }")
    page_without_js.get_by_role("button", name="Run query").click()
    assert int(page_without_js.locator("table tbody td").first.inner_text()) > 0

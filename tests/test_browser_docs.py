"""/docs in a real headless Chromium: Swagger UI, from the service's own files, lists every operation, under
the page's policy, with no request off loopback and no console error."""

from browser import read_png


def operations(page) -> list[str]:
    """The operations Swagger UI shows, as 'METHOD /path'."""
    return page.locator(".opblock-summary").evaluate_all(
        "blocks => blocks.map(b => b.querySelector('.opblock-summary-method').textContent + ' '"
        " + b.querySelector('.opblock-summary-path').dataset.path)"
    )


def test_the_docs_page_lists_every_operation_drawn_and_asks_nothing_of_elsewhere(
    page, service, outbound_requests, console_errors, csp_violations
):
    response = page.goto(service.url + "/docs")
    assert response is not None and response.status == 200
    page.locator(".opblock").first.wait_for()
    page.wait_for_load_state("networkidle")
    shown = operations(page)
    assert {
        "GET /sparql",
        "POST /sparql",
        "GET /store",
        "POST /entries",
        "GET /entries",
        "GET /entries/{entry_id}",
        "PUT /entries/{entry_id}",
        "DELETE /entries/{entry_id}",
        "POST /validate",
        "GET /health",
    } <= set(shown)
    assert len(shown) >= 20
    assert page.locator(".swagger-ui .info .title").inner_text().startswith("policykg")
    ui = page.locator("#swagger-ui")
    box = ui.bounding_box()
    assert box is not None and box["height"] > 1000  # the operations take room: Swagger UI rendered them
    picture = read_png(ui.screenshot())
    assert picture.width > 800 and len(picture.colours()) > 100  # drawn in colour, not a blank box
    whole = read_png(page.screenshot())
    assert len(whole.colours()) > 100
    assert outbound_requests == [] and console_errors == [] and csp_violations == []


def test_try_it_out_calls_the_service_from_the_page(page, service, outbound_requests, console_errors, csp_violations):
    page.goto(service.url + "/docs")
    health = page.locator(".opblock-get").filter(has=page.locator(".opblock-summary-path[data-path='/health']"))
    health.locator(".opblock-summary").click()
    health.get_by_role("button", name="Try it out").click()
    with page.expect_response(service.url + "/health") as answer:
        health.get_by_role("button", name="Execute").click()
    assert answer.value.status == 200
    assert health.locator(".live-responses-table tbody .response-col_status").first.inner_text().strip() == "200"
    assert outbound_requests == [] and console_errors == [] and csp_violations == []


def test_the_violation_recorder_sees_a_refused_load(page, service, csp_violations):
    page.goto(service.url + "/")
    page.evaluate(
        "() => { const img = document.createElement('img'); img.src = 'https://elsewhere.example/x.png';"
        " document.body.append(img); }"
    )
    for _ in range(50):  # the event comes a little later
        if csp_violations:
            break
        page.wait_for_timeout(100)
    assert any(v.startswith("img-src https://elsewhere.example/x.png") for v in csp_violations), csp_violations

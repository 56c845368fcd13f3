"""Auth and limits: every write route refuses a missing or wrong token and writes nothing; body, answer and time
limits hold where they apply; each request is logged once, with its id, and no token ever reaches the log."""

import asyncio
import base64
import json
import time
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from string import Template
from urllib.parse import urlencode

import httpx
import pytest
from conftest import SERVICE_SETTINGS, TOKEN, Service, start_service, stop

from policykg.config import Settings
from policykg.store import EmbeddedStore
from policykg.web.app import create_app
from policykg.web.problems import routes_of

PROBLEM = "https://w3id.org/policykg/problems/"
CONTRIBUTOR = next(iter(json.loads(SERVICE_SETTINGS["POLICYKG_CONTRIBUTOR_TOKENS"])))
MAX_BODY, MAX_RESULT = 50_000, 100_000
FORM, TURTLE = "application/x-www-form-urlencoded", "text/turtle"
EX, B = "http://example.org/", "http://localhost:8000/"

TRIPLE = f'<{EX}a> <{EX}p> "written" .'
INSERT = f'INSERT DATA {{ GRAPH <$new> {{ <{EX}a> <{EX}p> "written" }} }}'
ORGANISATION = """@prefix pkg: <https://w3id.org/policykg/ontology#> .
@prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .
<$subject> a pkg:Organisation ; rdfs:label "Organisation $label"@en ."""


@dataclass(frozen=True)
class Call:
    """One request through a route: $graph, $entry and $subject name what exists, $new and $label what does not yet."""

    name: str
    method: str
    route: str  # the route's path as the app declares it
    path: str
    params: dict[str, str] = field(default_factory=dict)
    body: str = ""
    media_type: str | None = None
    accepted: int = 204  # the status the right token gets
    changes: bool = True  # whether that accepted request changes the store
    contributors: bool = False  # a contributor's token is right here too, not only the operator's

    def send(
        self,
        service: Service,
        names: dict[str, str],
        headers: dict[str, str],
        body: "bytes | Iterator[bytes] | None" = None,
    ) -> httpx.Response:
        """Send it with the placeholders filled in (body: another body instead of its own)."""
        text = Template(self.body).substitute(names)
        content = (
            body if body is not None else (urlencode({"update": text}) if self.media_type == FORM else text).encode()
        )
        kind = {"Content-Type": self.media_type} if self.media_type else {}
        return httpx.request(
            self.method,
            service.url + Template(self.path).substitute(names),
            content=content or None,
            params={k: Template(v).substitute(names) for k, v in self.params.items()},
            headers={**kind, **headers},
            timeout=60,
        )

    def padded(self, size: int) -> bytes:
        """Its body behind a comment of size bytes: what it says is unchanged, only longer."""
        text = "#" + "x" * size + "\n" + self.body
        return (urlencode({"update": text}) if self.media_type == FORM else text).encode()


WRITES = [
    Call("sparql-update-form", "POST", "/sparql", "/sparql", body=INSERT, media_type=FORM),
    Call("sparql-update-direct", "POST", "/sparql", "/sparql", body=INSERT, media_type="application/sparql-update"),
    Call("store-put-new-graph", "PUT", "/store", "/store", {"graph": "$new"}, TRIPLE, TURTLE, accepted=201),
    Call("store-put-graph", "PUT", "/store", "/store", {"graph": "$graph"}, TRIPLE, TURTLE),
    Call("store-put-default", "PUT", "/store", "/store", {"default": ""}, TRIPLE, TURTLE, accepted=422, changes=False),
    Call("store-post-graph", "POST", "/store", "/store", {"graph": "$graph"}, TRIPLE, TURTLE),
    Call(
        "store-post-default", "POST", "/store", "/store", {"default": ""}, TRIPLE, TURTLE, accepted=422, changes=False
    ),
    Call("store-post-new-graph", "POST", "/store", "/store", {}, TRIPLE, TURTLE, accepted=201),
    Call("store-post-quads", "POST", "/store", "/store", {}, TRIPLE[:-1] + "<$new> .", "application/n-quads"),
    Call("store-delete-graph", "DELETE", "/store", "/store", {"graph": "$graph"}),
    Call("store-delete-default", "DELETE", "/store", "/store", {"default": ""}, changes=False),
    Call(
        "entry-submit",
        "POST",
        "/entries",
        "/entries",
        {},
        ORGANISATION.replace("$subject", "$new"),
        TURTLE,
        accepted=201,
        contributors=True,
    ),
    Call(
        "entry-revise",
        "PUT",
        "/entries/{entry_id}",
        "/entries/$entry",
        {},
        ORGANISATION,
        TURTLE,
        accepted=201,
        contributors=True,
    ),
    Call("entry-retract", "DELETE", "/entries/{entry_id}", "/entries/$entry", contributors=True),
]
# Routes that take a body and write nothing: the dry run, and queries sent by POST.
READS_BY_POST = [
    Call("validate", "POST", "/validate", "/validate", {}, ORGANISATION.replace("$subject", "$new"), TURTLE, 200),
    Call("sparql-query-direct", "POST", "/sparql", "/sparql", {}, "ASK { ?s ?p ?o }", "application/sparql-query", 200),
]


# Form posts are guarded by a session and its CSRF token, not a bearer token: tests/test_service_contribute.py
# and tests/test_service_revise.py.
FORM_POSTS = {
    ("POST", "/signin"),
    ("POST", "/signout"),
    ("POST", "/contribute/new"),
    ("POST", "/contribute/entry/{entry_id}/retract"),
}


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def refusals(call: Call) -> list[tuple[str, dict[str, str]]]:
    """Each way to send a write without the right token."""
    basic = base64.b64encode(f"operator:{TOKEN}".encode()).decode()
    wrong = [
        ("no-authorization", {}),
        ("wrong-token", bearer("not-the-token-at-all")),
        ("token-under-basic", {"Authorization": f"Basic {basic}"}),
        ("empty-bearer", {"Authorization": "Bearer"}),
        ("token-cut-short", bearer(TOKEN[:-1])),
    ]
    return wrong if call.contributors else [*wrong, ("contributor-token", bearer(CONTRIBUTOR))]


def dump(service: Service) -> bytes:
    """The whole store as N-Quads."""
    answer = httpx.get(service.url + "/store", headers={"Accept": "application/n-quads"}, timeout=60)
    assert answer.status_code == 200
    return answer.content


def fresh_names() -> dict[str, str]:
    """Names nothing in the store has yet."""
    return {
        "graph": f"{EX}graph/{uuid.uuid4()}",
        "new": f"{B}id/agent/test-{uuid.uuid4()}",
        "entry": "no-such-entry",
        "subject": f"{B}id/agent/test-{uuid.uuid4()}",
        "label": uuid.uuid4().hex,
    }


def existing_names(service: Service) -> dict[str, str]:
    """A graph and an entry written with the tokens, and names that are new: what the placeholders stand for."""
    names = fresh_names()
    graph = httpx.put(
        service.url + "/store",
        params={"graph": names["graph"]},
        content=TRIPLE.replace("written", "present"),
        headers={**service.auth(), "Content-Type": TURTLE},
    )
    entry = httpx.post(
        service.url + "/entries",
        content=Template(ORGANISATION).substitute(names),
        timeout=60,
        headers={**bearer(CONTRIBUTOR), "Content-Type": TURTLE},
    )
    assert (graph.status_code, entry.status_code) == (201, 201), entry.text
    return {**names, "entry": entry.headers["location"].rsplit("/", 1)[-1], "label": uuid.uuid4().hex}


def assert_problem(answer: httpx.Response, status: int, slug: str) -> dict[str, object]:
    """A problem of that type, quoting the request's id."""
    assert answer.status_code == status, answer.text
    problem = answer.json()
    assert problem["type"] == PROBLEM + slug and problem["status"] == status
    assert problem["request_id"] == answer.headers["x-request-id"]
    return problem  # type: ignore[no-any-return]


@pytest.fixture(scope="module")
def guarded_folder(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("guarded")


@pytest.fixture(scope="module")
def guarded(guarded_folder) -> Iterator[Service]:
    """A service of its own (these tests write) over an in-memory store, with the tokens and small limits."""
    process, url = start_service(
        guarded_folder,
        POLICYKG_STORE="memory",
        **{**SERVICE_SETTINGS, "POLICYKG_MAX_BODY_BYTES": str(MAX_BODY), "POLICYKG_MAX_RESULT_BYTES": str(MAX_RESULT)},
    )
    try:
        yield Service(url, TOKEN)
    finally:
        stop(process)


@pytest.fixture(scope="module")
def present(guarded) -> dict[str, str]:
    """A graph and an entry in the guarded store, for the refused writes to aim at."""
    return existing_names(guarded)


def test_every_route_that_can_write_is_in_the_table():
    # A new write route fails here until it is in WRITES, and so tested below.
    app = create_app(Settings(store="memory"), EmbeddedStore.in_memory())
    unsafe = {(method, path) for path, methods in routes_of(app) for method in methods - {"GET", "HEAD", "OPTIONS"}}
    assert unsafe == {(call.method, call.route) for call in WRITES + READS_BY_POST} | FORM_POSTS


@pytest.mark.parametrize(
    ("call", "headers"),
    [pytest.param(call, headers, id=f"{call.name}-{how}") for call in WRITES for how, headers in refusals(call)],
)
def test_write_without_the_right_token_is_401_and_writes_nothing(guarded, present, call, headers):
    before = dump(guarded)
    answer = call.send(guarded, present, headers)
    assert_problem(answer, 401, "unauthorized")
    assert answer.headers["www-authenticate"].startswith("Bearer ")
    assert dump(guarded) == before


@pytest.mark.parametrize("call", WRITES, ids=lambda call: call.name)
def test_write_with_the_right_token_is_let_through(guarded, call):
    # The same requests as above: what refused them was the token alone.
    names = existing_names(guarded)
    before = dump(guarded)
    answer = call.send(guarded, names, bearer(CONTRIBUTOR if call.contributors else TOKEN))
    assert answer.status_code == call.accepted, answer.text
    assert (dump(guarded) != before) == call.changes


@pytest.mark.parametrize("call", WRITES, ids=lambda call: call.name)
def test_write_is_403_when_no_token_is_configured(read_only_service, call):
    before = dump(read_only_service)
    answer = call.send(read_only_service, fresh_names(), bearer(TOKEN))
    assert "POLICYKG_UPDATE_TOKEN" in assert_problem(answer, 403, "writes-disabled")["detail"]
    assert dump(read_only_service) == before


BODIES = [call for call in WRITES + READS_BY_POST if call.body]


# A body declared too large to the PUT of a new graph is proven in test_service_write.
@pytest.mark.parametrize(
    ("call", "chunked"),
    [
        pytest.param(call, chunked, id=f"{call.name}-{how}")
        for call in BODIES
        for chunked, how in ((True, "chunked"), (False, "declared"))
        if chunked or call.name != "store-put-new-graph"
    ],
)
def test_a_body_over_the_limit_is_413_and_writes_nothing(guarded, present, call, chunked):
    body = call.padded(MAX_BODY)
    before = dump(guarded)
    sent = iter([body[i : i + 8192] for i in range(0, len(body), 8192)]) if chunked else body
    answer = call.send(guarded, present, bearer(CONTRIBUTOR if call.contributors else TOKEN), body=sent)
    assert ("content-length" in answer.request.headers) is not chunked
    # Read up to the limit when sent in chunks; refused by its declared length before any of it is read otherwise.
    said = (
        "the body is larger than the limit of 50000 bytes"
        if chunked
        else f"the body has {len(body)} bytes; this service takes at most 50000"
    )
    assert assert_problem(answer, 413, "payload-too-large")["detail"] == said
    assert dump(guarded) == before


ALL_TRIPLES = "SELECT * WHERE { ?s ?p ?o }"  # some 300 kB of JSON results here


@pytest.mark.parametrize("method", ["GET", "POST"])
def test_an_answer_over_the_limit_is_cut_off_where_the_client_sees_it(guarded, method):
    # Past the first chunks the status is sent: the answer is ended without HTTP's last chunk, so that no
    # client takes a cut-off answer for a whole one.
    received = b""
    query = {"params" if method == "GET" else "data": {"query": ALL_TRIPLES}}
    with (
        pytest.raises(httpx.RemoteProtocolError, match="incomplete chunked read"),
        httpx.stream(method, guarded.sparql, headers={"Accept": "application/sparql-results+json"}, **query) as answer,
    ):
        assert answer.status_code == 200 and answer.headers["transfer-encoding"] == "chunked"
        for chunk in answer.iter_raw():
            received += chunk
    assert 0 < len(received) <= MAX_RESULT and received.startswith(b'{"head":')


def test_a_query_page_over_the_limit_is_a_400_problem(guarded):
    # A page is made whole before it is sent, so it can still say what went wrong.
    answer = httpx.get(
        guarded.sparql, params={"query": ALL_TRIPLES, "format": "html"}, headers={"Accept": "application/problem+json"}
    )
    problem = assert_problem(answer, 400, "result-too-large")
    assert problem["detail"] == f"the answer grew past the limit of {MAX_RESULT} bytes and was cut off"


def test_queries_by_post_and_as_a_page_are_stopped_at_the_time_limit(service):
    # GET is proven in test_service_query; these two ways share the limit, each ends at the service's 3 s.
    runaway = "SELECT (COUNT(*) AS ?n) WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i }"
    ways = [
        lambda: httpx.post(service.sparql, data={"query": runaway}, timeout=60),
        lambda: httpx.get(
            service.sparql,
            params={"query": runaway, "format": "html"},
            timeout=60,
            headers={"Accept": "application/problem+json"},
        ),
    ]
    with ThreadPoolExecutor(len(ways)) as pool:
        answers = list(pool.map(lambda way: way(), ways))
    for answer in answers:
        assert (
            assert_problem(answer, 503, "query-timeout")["detail"]
            == "the query ran longer than the limit of 3 s and was stopped"
        )


@pytest.mark.parametrize(
    ("given", "kept"),
    [
        ("client-id-42", True),
        ("a.b:c/d+e=f_g-1", True),
        ("x" * 128, True),
        ("x" * 129, False),
        ("has space", False),
        ('quote"d', False),
        ("semi;colon", False),
    ],
)
def test_a_well_formed_request_id_is_kept_and_any_other_replaced(guarded, given, kept):
    answer = httpx.get(guarded.url + "/no-such-page", headers={"X-Request-ID": given, "Accept": "application/json"})
    assert_problem(answer, 404, "not-found")
    if kept:
        assert answer.headers["x-request-id"] == given
    else:
        assert str(uuid.UUID(answer.headers["x-request-id"])) == answer.headers["x-request-id"]


def access_lines(log: Path, ids: set[str], seconds: float = 15.0) -> dict[str, dict[str, object]]:
    """The request log's lines for those ids, by id, once all are written (a line follows its answer)."""
    deadline = time.monotonic() + seconds
    while True:
        lines = [json.loads(line) for line in log.read_text().splitlines() if line.startswith("{")]
        found = {line["request_id"]: line for line in lines if line["request_id"] in ids}
        if set(found) == ids or time.monotonic() > deadline:
            return found
        time.sleep(0.1)


def test_the_request_log_has_one_line_per_request_with_its_id_and_no_token(guarded, guarded_folder):
    wrong = f"wrong-secret-{uuid.uuid4()}"
    in_query = f"query-secret-{uuid.uuid4()}"
    update = {"update": f'INSERT DATA {{ GRAPH <{EX}graph/{uuid.uuid4()}> {{ <{EX}a> <{EX}p> "logged" }} }}'}
    sent = {
        "log-refused": lambda h: httpx.post(guarded.sparql, data=update, headers={**h, **bearer(wrong)}),
        "log-written": lambda h: httpx.post(guarded.sparql, data=update, headers={**h, **bearer(TOKEN)}),
        "log-contributor": lambda h: httpx.post(
            guarded.url + "/entries", content=b"x", headers={**h, **bearer(CONTRIBUTOR), "Content-Type": "text/csv"}
        ),
        "log-query-string": lambda h: httpx.get(guarded.url + "/health", params={"access_token": in_query}, headers=h),
    }
    answers = {name: send({"X-Request-ID": name}) for name, send in sent.items()}
    assert {name: a.status_code for name, a in answers.items()} == {
        "log-refused": 401,
        "log-written": 204,
        "log-contributor": 415,
        "log-query-string": 200,
    }
    lines = access_lines(guarded_folder / "serve.log", set(sent))
    for name, answer in answers.items():
        line = lines[name]
        assert answer.headers["x-request-id"] == name
        assert (line["method"], line["path"], line["status"]) == (
            answer.request.method,
            answer.request.url.path,
            answer.status_code,
        )
        assert line["bytes_sent"] == len(answer.content) and line["client"] == "127.0.0.1"
        # The body of the refused entry was never read (its media type said enough).
        assert line["bytes_read"] == (0 if name == "log-contributor" else len(answer.request.content))
        assert line["duration_ms"] >= 0
    log = (guarded_folder / "serve.log").read_text()
    for secret in (TOKEN, CONTRIBUTOR, wrong, in_query):
        assert secret not in log
    assert "HTTP/1.1" not in log  # uvicorn's own access lines are off: each request is logged once


def test_an_unexpected_failure_is_a_500_problem_with_the_request_id_and_a_log_line(caplog):
    app = create_app(Settings(store="memory"), EmbeddedStore.in_memory())

    def fail() -> None:
        raise ValueError("an internal detail")

    app.add_api_route("/fail", fail)

    async def ask() -> httpx.Response:
        transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
        async with httpx.AsyncClient(transport=transport, base_url="http://policykg.test") as client:
            return await client.get("/fail", headers={"X-Request-ID": "failing-request", "Accept": "application/json"})

    # On an event loop of its own thread: the browser tests' loop may still be set in this one.
    with caplog.at_level("INFO", logger="policykg.access"), ThreadPoolExecutor(1) as thread:
        answer = thread.submit(asyncio.run, ask()).result()
    assert answer.headers["x-request-id"] == "failing-request"
    assert assert_problem(answer, 500, "internal-error")["instance"] == "/fail"
    assert "internal detail" not in answer.text
    [line] = [json.loads(r.getMessage()) for r in caplog.records if r.name == "policykg.access"]
    assert (line["request_id"], line["status"], line["error"]) == ("failing-request", 500, "ValueError")


@pytest.mark.parametrize(
    ("content_type", "body"),
    [
        ("application/sparql-update", b"INSERT DATA { <urn:x:a> <urn:x:b> "),
        ("application/x-www-form-urlencoded", b"update=INSERT+DATA+%7B+%3C"),
    ],
    ids=["direct", "form"],
)
def test_an_update_without_the_token_is_401_before_its_text_is_read(guarded, content_type, body):
    # Malformed on purpose: a stranger learns nothing of the parser, only that a token is needed.
    before = dump(guarded)
    answer = httpx.post(guarded.sparql, content=body, headers={"Content-Type": content_type})
    assert_problem(answer, 401, "unauthorized")
    assert dump(guarded) == before

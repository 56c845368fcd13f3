"""Pathological queries end at the configured limits with a clear error; simple ones keep being answered."""

import os
import threading
import time
from pathlib import Path

import httpx
import pytest
from conftest import SERVICE_SETTINGS, oxigraph_serve, start_service, stop

from policykg.errors import StoreError
from policykg.store import RemoteStore

SRJ = "application/sparql-results+json"
COUNT_SEED = (
    "SELECT (COUNT(DISTINCT ?s) AS ?n) WHERE { GRAPH ?g { ?s a <https://w3id.org/policykg/ontology#Recommendation> } }"
)
WORKERS = 2
MEMORY_LIMIT = 256 * 2**20

# Each runs far past the 3 s limit over the seed graph (a few thousand triples), or asks for far more memory.
SLOW = {
    "cross product": "SELECT (COUNT(*) AS ?n) WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i }",
    "unbounded property paths": "SELECT (COUNT(*) AS ?n) WHERE { ?a (!<urn:x:none>)* ?b . ?c (!<urn:x:none>)* ?d }",
    "regex over a cross product": "SELECT (COUNT(*) AS ?n) WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i "
    'FILTER(REGEX(CONCAT(STR(?c), STR(?f), STR(?i)), "^(a|aa)*b$")) }',
    "enormous VALUES": "SELECT (COUNT(*) AS ?n) WHERE { VALUES ?x { "
    + " ".join(str(i) for i in range(60_000))
    + " } VALUES ?y { "
    + " ".join(str(i) for i in range(60_000))
    + " } }",
    "deep but allowed nesting over a join": "SELECT (COUNT(*) AS ?n) WHERE "
    + "{ " * 150
    + "?a ?b ?c . ?d ?e ?f . ?g ?h ?i"
    + " }" * 150,
}
HUGE_ORDER_BY = "SELECT ?c ?f ?i WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i } ORDER BY ?c ?f ?i"


@pytest.fixture(scope="module")
def limited(tmp_path_factory):
    """A service with 2 query workers, a 3 s time limit and a 256 MiB memory limit per worker."""
    folder = tmp_path_factory.mktemp("limits")
    process, url = start_service(
        folder,
        POLICYKG_STORE=str(folder / "store"),
        POLICYKG_QUERY_WORKERS=str(WORKERS),
        POLICYKG_MAX_QUERY_MEMORY_BYTES=str(MEMORY_LIMIT),
        **SERVICE_SETTINGS,
    )
    try:
        yield process, url + "/sparql"
    finally:
        stop(process)


def ask(url: str, query: str, timeout: float = 60) -> httpx.Response:
    return httpx.post(url, data={"query": query}, headers={"Accept": SRJ}, timeout=timeout)


def seed_count(url: str) -> str:
    response = ask(url, COUNT_SEED)
    assert response.status_code == 200, response.text
    return response.json()["results"]["bindings"][0]["n"]["value"]


def query_workers(server: int) -> dict[int, int]:
    """The server's query worker processes: pid -> resident bytes."""
    found = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            command = (entry / "cmdline").read_bytes()
            if int(fields[1]) == server and b"spawn_main" in command:  # its children, not the resource tracker
                found[int(entry.name)] = int(fields[21]) * os.sysconf("SC_PAGE_SIZE")
        except (OSError, IndexError, ValueError):
            continue
    return found


@pytest.mark.parametrize("name", sorted(SLOW))
def test_a_pathological_query_is_stopped_at_the_time_limit_with_a_clear_error(limited, name):
    _, url = limited
    response = ask(url, SLOW[name])
    assert response.status_code == 503, response.text
    problem = response.json()
    assert problem["type"].endswith("/query-timeout")
    assert problem["detail"] == "the query ran longer than the limit of 3 s and was stopped"
    assert seed_count(url) == "3"


@pytest.mark.parametrize("field", ["query", "update"])
def test_brackets_nested_past_the_limit_are_refused_before_any_engine_reads_them(limited, field):
    # Thousands of levels overflow the engine's parser stack: refused up front, the server stays up.
    _, url = limited
    nested = "{ " * 5000 + "?s ?p ?o" + " }" * 5000
    text = f"SELECT * WHERE {nested}" if field == "query" else f"INSERT {{ <urn:x:a> <urn:x:b> 1 }} WHERE {nested}"
    headers = {"Accept": SRJ, "Authorization": f"Bearer {SERVICE_SETTINGS['POLICYKG_UPDATE_TOKEN']}"}
    response = httpx.post(url, data={field: text}, headers=headers, timeout=60)
    assert response.status_code == 400, response.text
    problem = response.json()
    assert problem["type"].endswith("/query-too-complex")
    assert "more than 200 levels deep" in problem["detail"]
    assert seed_count(url) == "3"
    assert ask(url, "ASK { <urn:x:a> <urn:x:b> 1 }").json()["boolean"] is False


@pytest.mark.parametrize(
    ("text", "said"),
    [
        pytest.param(
            "SELECT * WHERE { BIND(" + "+".join(["1"] * 20_000) + " AS ?x) }", "chains 20000 operators", id="sum"
        ),
        pytest.param(
            "SELECT * WHERE { " + " UNION ".join(["{ ?s ?p ?o }"] * 5_000) + " }", "chains 5000 operators", id="unions"
        ),
        # An escaped character in a local name (ex:a\) is a name, not a closing bracket: it cannot hide the depth.
        pytest.param(
            "PREFIX ex: <http://example.org/> SELECT * WHERE { ?s ?p ex:a"
            + "\\)" * 300
            + " "
            + "{ " * 5_000
            + "}" * 5_000
            + " }",
            "more than 200 levels deep",
            id="escapes",
        ),
    ],
)
def test_long_operator_chains_and_disguised_nesting_are_refused(limited, text, said):
    _, url = limited
    response = ask(url, text)
    assert response.status_code == 400, response.text
    assert response.json()["type"].endswith("/query-too-complex") and said in response.json()["detail"]
    assert seed_count(url) == "3"


def test_a_query_past_the_memory_limit_is_stopped_and_memory_stays_bounded(limited):
    process, url = limited
    peak = {"worker": 0}
    done = threading.Event()

    def watch() -> None:
        while not done.is_set():
            peak["worker"] = max([peak["worker"], *query_workers(process.pid).values()])
            time.sleep(0.02)

    watcher = threading.Thread(target=watch)
    watcher.start()
    try:
        response = ask(url, HUGE_ORDER_BY)
    finally:
        done.set()
        watcher.join()
    assert response.status_code == 503, (response.headers, len(response.content), response.text[-500:])
    assert response.json()["type"].endswith("/query-memory-limit")
    assert response.json()["detail"] == "the query needed more than the limit of 256 MiB of memory and was stopped"
    # Checked every 0.1 s: the worker is stopped soon after it passes the limit.
    assert 0 < peak["worker"] < MEMORY_LIMIT + 768 * 2**20
    assert seed_count(url) == "3"


def test_simple_queries_are_answered_while_more_runaways_than_workers_run(limited):
    process, url = limited
    runaways: list[httpx.Response] = []
    finished: list[float] = []

    def runaway() -> None:
        runaways.append(ask(url, SLOW["cross product"]))
        finished.append(time.monotonic())

    threads = [threading.Thread(target=runaway) for _ in range(2 * WORKERS)]
    for thread in threads:
        thread.start()
    time.sleep(0.5)
    answers = [seed_count(url) for _ in range(5)]
    answered = time.monotonic()
    workers = len(query_workers(process.pid))
    for thread in threads:
        thread.join()
    assert answers == ["3"] * 5
    assert all(r.status_code == 503 and r.json()["type"].endswith("/query-timeout") for r in runaways)
    # The five simple queries were answered while every runaway was still running ...
    assert answered < min(finished)
    # ... by the same worker processes, on threads beside the runaways: none was started for them (the
    # pool's processes are its workers and one warm spare).
    assert workers == WORKERS + 1


def pool_statistics(url: str) -> dict[str, int]:
    """The query workers' figures as /ready reports them."""
    return httpx.get(url.removesuffix("/sparql") + "/ready", timeout=10).json()["query_workers"]  # type: ignore[no-any-return]


def settled_statistics(url: str) -> dict[str, int]:
    """The figures once no query runs and no worker is being replaced (the tests before may have stopped some)."""
    deadline = time.monotonic() + 10
    last, now = None, pool_statistics(url)
    while (now != last or now["running"]) and time.monotonic() < deadline:
        time.sleep(0.5)
        last, now = now, pool_statistics(url)
    return now


def test_a_client_that_goes_away_mid_answer_stops_its_query_and_harms_no_other(limited):
    _, url = limited
    before = settled_statistics(url)
    endless = "CONSTRUCT { ?a ?b ?f } WHERE { ?a ?b ?c . ?d ?e ?f }"  # millions of triples, streamed as they come
    with httpx.stream("POST", url, data={"query": endless}, headers={"Accept": "application/n-triples"}) as answer:
        assert answer.status_code == 200
        chunks = answer.iter_bytes()  # kept: a dropped iterator closes the connection
        assert next(chunks).count(b"\n") > 10
        assert pool_statistics(url)["running"] == 1
    # The connection is closed: the query stops at its next write, long before its 3 s limit, in its own thread.
    deadline = time.monotonic() + 2
    while pool_statistics(url)["running"] and time.monotonic() < deadline:
        time.sleep(0.05)
    after = pool_statistics(url)
    assert after["running"] == 0
    assert after["started"] == before["started"]  # stopped without killing its worker
    assert seed_count(url) == "3"


def test_a_remote_engine_that_cuts_its_answer_at_its_own_limit_is_reported_with_what_it_said(tmp_path):
    server = oxigraph_serve(tmp_path / "engine", "--timeout-s", "1")
    url = next(server)
    try:
        engine = RemoteStore(url + "/query", update_url=url + "/update", store_url=url + "/store")
        engine.update("INSERT DATA { " + " ".join(f"<urn:x:{i}> <urn:x:p> {i} ." for i in range(300)) + " }")
        with pytest.raises(StoreError) as raised:  # 300³ rows: far past the engine's 1 s, sent as they come
            engine.select("SELECT ?a ?b ?c WHERE { ?a ?p ?x . ?b ?q ?y . ?c ?r ?z }")
        said = str(raised.value)
        assert said.startswith(f"the store at {url}/query answered something that is not SPARQL JSON, ending with ")
        assert "The SPARQL operation has been cancelled" in said and "time limit" in said
        engine.close()
    finally:
        server.close()

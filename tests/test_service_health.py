"""Liveness (/health) and readiness (/ready): what each checks, over real stores that answer, are busy or are gone."""

import contextlib
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from conftest import free_port, start_service, stop, wait_until_answering

PROBLEM = "https://w3id.org/policykg/problems/"


class Engine:
    """An `oxigraph serve` on a loopback port that a test can stop and start again over the same folder."""

    def __init__(self, location: Path) -> None:
        self.location = location
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        executable = shutil.which("oxigraph", path=str(Path(sys.executable).parent)) or shutil.which("oxigraph")
        assert executable, "the oxigraph server is installed with the test extra (pip install oxigraph)"
        self.process = subprocess.Popen(
            [executable, "serve", "--location", str(self.location), "--bind", f"127.0.0.1:{self.port}"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        wait_until_answering(self.url + "/query?query=ASK%7B%7D", self.process)

    def stop(self) -> None:
        if self.process is not None:
            stop(self.process)
            self.process = None


def query_workers(server: int) -> list[int]:
    """The query worker processes of a server (multiprocessing's spawned children, not its resource tracker)."""
    found = []
    for children in Path(f"/proc/{server}/task").glob("*/children"):
        for child in children.read_text().split():
            with contextlib.suppress(OSError):
                if b"spawn_main" in Path(f"/proc/{child}/cmdline").read_bytes():
                    found.append(int(child))
    return found


def ready_again(url: str, seconds: float = 30.0) -> httpx.Response:
    """Ask /ready until it answers 200 (or time runs out: then the last answer)."""
    deadline = time.monotonic() + seconds
    answer = httpx.get(url + "/ready", timeout=10)
    while answer.status_code != 200 and time.monotonic() < deadline:
        time.sleep(0.2)
        answer = httpx.get(url + "/ready", timeout=10)
    return answer


def assert_not_ready(answer: httpx.Response, detail_start: str) -> None:
    """A 503 problem that names the failed check, is not cached, and carries the request's id."""
    assert answer.status_code == 503
    assert answer.headers["content-type"] == "application/problem+json"
    assert answer.headers["cache-control"] == "no-store"
    problem = answer.json()
    assert problem["type"] == PROBLEM + "not-ready" and problem["instance"] == "/ready"
    assert problem["detail"].startswith(detail_start), problem["detail"]
    assert problem["request_id"] == answer.headers["x-request-id"]


@pytest.fixture
def engine(tmp_path) -> Iterator[Engine]:
    """An `oxigraph serve` of its own, as the remote store of a service the test starts."""
    engine = Engine(tmp_path / "oxigraph")
    engine.start()
    try:
        yield engine
    finally:
        engine.stop()


def test_health_says_ok_and_is_not_cached(service):
    answer = httpx.get(service.url + "/health")
    assert answer.status_code == 200 and answer.json() == {"status": "ok"}
    assert answer.headers["content-type"] == "application/json"
    assert answer.headers["cache-control"] == "no-store"


def test_ready_says_what_it_checked(service):
    answer = httpx.get(service.url + "/ready")
    assert answer.status_code == 200 and answer.headers["cache-control"] == "no-store"
    body = answer.json()
    assert body["status"] == "ok" and list(body["checks"]) == ["store"]
    check = body["checks"]["store"]
    assert (check["status"], check["probe"], check["within_seconds"]) == ("ok", "ASK {}", 2.0)
    assert check["duration_ms"] >= 0
    # The service's two query workers and their spare; none answering anything but the probe, which is done.
    workers = body["query_workers"]
    assert (workers["workers"], workers["running"], workers["waiting"]) == (2, 0, 0) and workers["started"] >= 3


@pytest.mark.parametrize("path", ["/health", "/ready"])
def test_head_answers_as_get_without_a_body(service, path):
    answer = httpx.head(service.url + path)
    assert answer.status_code == 200 and answer.content == b""
    assert answer.headers["content-type"] == "application/json" and answer.headers["cache-control"] == "no-store"


def test_openapi_documents_health_and_ready(service):
    paths = httpx.get(service.url + "/openapi.json").json()["paths"]
    assert set(paths["/health"]) == {"get"} and set(paths["/ready"]) == {"get"}
    assert "application/problem+json" in paths["/ready"]["get"]["responses"]["503"]["content"]
    schemas = httpx.get(service.url + "/openapi.json").json()["components"]["schemas"]
    assert set(schemas["Readiness"]["properties"]) == {"status", "checks", "query_workers"}


def test_ready_fails_while_the_query_workers_hang_and_passes_once_they_are_replaced(tmp_path):
    # The probe goes the way queries go, through a worker process: when the worker and its warm spare hang
    # (stopped here), the probe cannot answer within its bound, and the pool replaces each hung worker it
    # meets, as it does a query's worker past its time limit.
    process, url = start_service(tmp_path, POLICYKG_STORE=str(tmp_path / "store"), POLICYKG_QUERY_WORKERS="1")
    hung = query_workers(process.pid)
    try:
        assert len(hung) == 2  # the worker and the spare
        for pid in hung:
            os.kill(pid, signal.SIGSTOP)
        assert_not_ready(httpx.get(url + "/ready", timeout=10), "store: ASK {} got no answer within 2 s")
        assert httpx.get(url + "/health").json() == {"status": "ok"}
        assert ready_again(url).json()["checks"]["store"]["status"] == "ok"
        # Both were replaced: each killed and reaped off the request path, which may take a moment on a busy machine.
        deadline = time.monotonic() + 20
        while set(hung) & set(query_workers(process.pid)) and time.monotonic() < deadline:
            time.sleep(0.2)
        assert not set(hung) & set(query_workers(process.pid))
    finally:
        for pid in hung:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGCONT)
        stop(process)


def serve_over(engine: Engine, folder: Path):  # type: ignore[no-untyped-def]
    """A service whose store is the engine."""
    return start_service(
        folder,
        POLICYKG_STORE=engine.url + "/query",
        POLICYKG_REMOTE_UPDATE_URL=engine.url + "/update",
        POLICYKG_REMOTE_STORE_URL=engine.url + "/store",
    )


def test_ready_fails_naming_the_store_while_the_engine_is_gone_and_health_does_not(engine, tmp_path):
    process, url = serve_over(engine, tmp_path)
    try:
        assert httpx.get(url + "/ready", timeout=10).status_code == 200
        engine.stop()
        assert_not_ready(httpx.get(url + "/ready", timeout=10), "store: ASK {} got no answer within 2 s")
        assert httpx.get(url + "/health").json() == {"status": "ok"}
        engine.start()
        assert ready_again(url).json()["checks"]["store"]["status"] == "ok"
    finally:
        stop(process)


def test_a_query_while_the_engine_is_gone_is_502_without_the_engines_address(engine, tmp_path):
    process, url = serve_over(engine, tmp_path)
    try:
        engine.stop()
        answer = httpx.get(url + "/sparql", params={"query": "ASK { ?s ?p ?o }"}, timeout=30)
    finally:
        stop(process)
    assert answer.status_code == 502
    problem = answer.json()
    assert problem["type"] == PROBLEM + "store-error"
    assert problem["detail"] == (
        "the store behind this service failed to answer; the operator's log has the details under the request id"
    )
    assert engine.url.split("//")[1] not in answer.text
    # The operator's log has what happened, under the id the client was given.
    logged = [line for line in (tmp_path / "serve.log").read_text().splitlines() if problem["request_id"] in line]
    assert any(engine.url in line for line in logged), logged

"""Shared fixtures: settings, the model graphs and the seed data, each read once per session."""

import os
import shutil
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
import rdflib
from virtuoso_engine import Virtuoso, start_virtuoso, stop_virtuoso

from policykg.config import Settings
from policykg.model.files import load_model
from policykg.rdf.input import read_files, to_rdflib_graph
from policykg.store import EmbeddedStore, Store
from policykg.validation.incremental import ChangeValidator
from policykg.validation.shacl import load_model_graph
from policykg.writing.writer import Writer

FIXTURES = Path(__file__).parent / "fixtures"

# What a test needs beyond Python, as a marker (`make check` leaves these out): told by the fixtures it uses,
# or by its module when the test starts what it needs itself.
_NEEDS_BY_FIXTURE = {
    "browser": {"browser", "new_page", "page", "page_without_js"},
    "virtuoso": {"virtuoso_server"},
    "service": {"service", "read_only_service", "oxigraph_server", "oxigraph_union_server", "listener"},
}
_NEEDS_BY_MODULE = {
    "test_ldes_client": "node",
    "test_service_virtuoso": "virtuoso",
    "test_crash": "service",
    "test_skolem": "service",
    "test_query_limits": "service",
    "test_harvester": "service",
    "test_fuzz_openapi": "service",
    "test_no_outbound": "service",
    "test_query_pool": "service",
    "test_backup": "service",
    "test_hostile_input": "service",
    "test_client_sparqlwrapper": "service",
    "test_w3c_protocol": "service",
    "test_generate": "service",
}
_SLOW = {"test_invalid_fixture_trips_exactly_its_constraint"}  # one pySHACL run per fixture: about 100 s in all


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark each test with what it needs: a real server, Chromium, Virtuoso or Node; and the slow ones."""
    for item in items:
        fixtures = set(getattr(item, "fixturenames", ()))
        for marker, names in _NEEDS_BY_FIXTURE.items():
            if fixtures & names:
                item.add_marker(marker)
        module = item.module.__name__ if item.module else ""
        needed = "service" if module.startswith("test_service_") else _NEEDS_BY_MODULE.get(module)
        if needed:
            item.add_marker(needed)
        if "virtuoso" in item.name:  # a backend parameter
            item.add_marker("virtuoso")
        if item.name.split("[")[0] in _SLOW:
            item.add_marker("slow")


@pytest.fixture(scope="session")
def settings() -> Settings:
    """Default settings: the repository's model and the default base IRI."""
    return Settings()


@pytest.fixture(scope="session")
def shapes(settings: Settings) -> rdflib.Graph:
    """The SHACL shapes graph."""
    return load_model_graph(settings.shapes_dir, settings.base_iri)


@pytest.fixture(scope="session")
def ontology(settings: Settings) -> rdflib.Graph:
    """The OWL ontology graph."""
    return load_model_graph(settings.ontology_dir, settings.base_iri)


@pytest.fixture(scope="session")
def seed_graph(settings: Settings) -> rdflib.Graph:
    """The union of every graph of the seed data."""
    return to_rdflib_graph(read_files([settings.data_dir], settings.base_iri))


@pytest.fixture
def store(settings: Settings) -> Store:
    """A new in-memory store holding the model (ontology, shapes, seed), for a test that writes to it."""
    backend = EmbeddedStore.in_memory()
    load_model(backend, settings)
    return backend


@pytest.fixture
def writer(store: Store, shapes: rdflib.Graph, ontology: rdflib.Graph) -> Writer:
    """The writer of that store, checking against the model's shapes."""
    return Writer(store, ChangeValidator(shapes, ontology), "http://localhost:8000/")


@pytest.fixture(scope="session")
def seed_store(settings: Settings) -> Store:
    """An in-memory Oxigraph store holding the ontology, the shapes and the seed data."""
    store = EmbeddedStore.in_memory()
    load_model(store, settings)
    return store


class Listener:
    """A TCP listener on a loopback port that counts the connections made to it."""

    def __init__(self) -> None:
        self.socket = socket.create_server(("127.0.0.1", 0))
        self.socket.settimeout(0.2)
        self.port = self.socket.getsockname()[1]
        self.connections = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._accept, daemon=True)
        self._thread.start()

    def _accept(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self.socket.accept()
            except OSError:
                continue
            self.connections += 1
            conn.close()

    def close(self) -> None:
        self._stop.set()
        self._thread.join()
        self.socket.close()


@pytest.fixture
def listener():
    server = Listener()
    yield server
    server.close()


def free_port() -> int:
    """A TCP port on the loopback interface that nothing listens on now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_until_answering(url: str, process: "subprocess.Popen[bytes]", seconds: float = 30.0) -> None:
    """Poll url until it answers (any status), or fail if the process died or time ran out."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the server exited with status {process.returncode} before answering")
        try:
            httpx.get(url, timeout=1.0)
            return
        except httpx.TransportError:
            time.sleep(0.05)
    raise RuntimeError(f"{url} did not answer within {seconds} s")


@pytest.fixture(scope="session")
def oxigraph_server(tmp_path_factory) -> Iterator[str]:
    """A real `oxigraph serve` process on a loopback port; yields its base URL."""
    yield from oxigraph_serve(tmp_path_factory.mktemp("oxigraph-serve"))


@pytest.fixture(scope="session")
def oxigraph_union_server(tmp_path_factory) -> Iterator[str]:
    """A real `oxigraph serve --union-default-graph`: its default graph is every named graph, whatever a query asks."""
    yield from oxigraph_serve(tmp_path_factory.mktemp("oxigraph-union"), "--union-default-graph")


def oxigraph_serve(location: Path, *flags: str) -> Iterator[str]:
    """Run `oxigraph serve` over a folder on a free loopback port while the generator is alive; yield its URL."""
    executable = shutil.which("oxigraph", path=str(Path(sys.executable).parent)) or shutil.which("oxigraph")
    assert executable, "the oxigraph server is installed with the test extra (pip install oxigraph)"
    port = free_port()
    process = subprocess.Popen(
        [executable, "serve", "--location", str(location), "--bind", f"127.0.0.1:{port}", *flags],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        wait_until_answering(url + "/query?query=ASK%7B%7D", process)
        yield url
    finally:
        process.terminate()
        process.wait(timeout=10)


TOKEN = "test-token-for-writes"


@dataclass(frozen=True)
class Service:
    """A running `policykg serve` process: its base URL and the token that lets writes through."""

    url: str
    token: str | None

    @property
    def sparql(self) -> str:
        return self.url + "/sparql"

    def auth(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}


def start_service(folder: Path, port: int | None = None, **env: str) -> tuple["subprocess.Popen[bytes]", str]:
    """Start `policykg serve` on a loopback port (a free one unless given) with the given POLICYKG_ settings."""
    process, url = launch_service(folder, port, **env)
    wait_until_answering(url + "/sparql", process, seconds=60)
    return process, url


def launch_service(folder: Path, port: int | None = None, **env: str) -> tuple["subprocess.Popen[bytes]", str]:
    """Start `policykg serve` as start_service does, without waiting for it to answer.

    Its output goes to folder/serve.log.
    """
    port = port or free_port()
    environment = {k: v for k, v in os.environ.items() if not k.startswith("POLICYKG_")}
    environment.update({"POLICYKG_PORT": str(port), "POLICYKG_HOST": "127.0.0.1", **env})
    with open(folder / "serve.log", "wb") as log:
        # A process group of its own: a crash test kills the server and its query workers at once (os.killpg).
        process = subprocess.Popen(
            [sys.executable, "-m", "policykg.cli", "serve"],
            env=environment,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    return process, f"http://127.0.0.1:{port}"


def stop(process: "subprocess.Popen[bytes]") -> None:
    process.terminate()
    try:
        process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


# The settings of the service the service suites run against, whatever keeps its graph.
SERVICE_SETTINGS = {
    "POLICYKG_UPDATE_TOKEN": TOKEN,
    "POLICYKG_QUERY_TIMEOUT": "3",
    "POLICYKG_MAX_BODY_BYTES": "2000000",
    "POLICYKG_CONTRIBUTOR_TOKENS": '{"contributor-token-alice": "alice", "contributor-token-bob": "bob"}',
}


@pytest.fixture(scope="session")
def service(tmp_path_factory) -> Iterator[Service]:
    """The service over an on-disk store with query workers, a 3 s query limit and writes allowed."""
    folder = tmp_path_factory.mktemp("service")
    process, url = start_service(
        folder, POLICYKG_STORE=str(folder / "store"), POLICYKG_QUERY_WORKERS="2", **SERVICE_SETTINGS
    )
    try:
        yield Service(url, TOKEN)
    finally:
        stop(process)


@pytest.fixture(scope="session")
def read_only_service(tmp_path_factory) -> Iterator[Service]:
    """The service over an in-memory store with no update token: writes are disabled."""
    folder = tmp_path_factory.mktemp("read-only")
    process, url = start_service(folder, POLICYKG_STORE="memory")
    try:
        yield Service(url, None)
    finally:
        stop(process)


# Browser tests: Debian's Chromium (installed by `make test`) driven by Playwright's sync API. See tests/browser.py.


@pytest.fixture(scope="session")
def browser():
    """A headless Chromium (/usr/bin/chromium, Playwright's sync API) for the whole session; closed at the end."""
    from browser import CHROMIUM, CHROMIUM_ARGS
    from playwright.sync_api import sync_playwright

    assert Path(CHROMIUM).exists(), "the browser tests need Debian's chromium: `make test` installs it"
    playwright = sync_playwright().start()
    try:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        try:
            yield chromium
        finally:
            chromium.close()
    finally:
        playwright.stop()


@pytest.fixture
def outbound_requests() -> list[str]:
    """The URLs the test's pages tried to fetch off loopback; each was aborted. Assert it stays empty."""
    return []


@pytest.fixture
def console_errors() -> list[str]:
    """The test's pages' console errors and uncaught exceptions (a Content-Security-Policy refusal is one)."""
    return []


@pytest.fixture
def new_page(browser, outbound_requests, console_errors):
    """Make pages, each in a fresh context: new_page(java_script_enabled=True, **context_options) -> Page.

    The viewport is 1280×900 unless context_options say otherwise; requests off loopback are aborted and
    recorded in outbound_requests; console errors and page errors go to console_errors. Closed at the end."""
    from browser import VIEWPORT, guard_context

    contexts = []

    def make(java_script_enabled: bool = True, **context_options):
        context = browser.new_context(
            **{
                "viewport": VIEWPORT,
                "service_workers": "block",
                "java_script_enabled": java_script_enabled,
                **context_options,
            }
        )
        contexts.append(context)
        guard_context(context, outbound_requests)
        page = context.new_page()
        page.set_default_timeout(10_000)
        page.on("console", lambda message: console_errors.append(message.text) if message.type == "error" else None)
        page.on("pageerror", lambda error: console_errors.append(str(error)))
        return page

    yield make
    for context in contexts:
        context.close()


@pytest.fixture
def csp_violations(page) -> list[str]:
    """The Content-Security-Policy violations page reports, recorded from the start (tests/browser.py)."""
    from browser import record_csp_violations

    found: list[str] = []
    record_csp_violations(page, found)
    return found


@pytest.fixture
def page(new_page):
    """A page with JavaScript, in a fresh 1280×900 context that can reach loopback only."""
    return new_page()


@pytest.fixture
def page_without_js(new_page):
    """A page with JavaScript disabled (what a crawler or a script-blocking reader sees), otherwise as page."""
    return new_page(java_script_enabled=False)


# OpenLink Virtuoso 7 (Debian's virtuoso-opensource, installed by `make test`) as a real remote engine.


@pytest.fixture(scope="session")
def virtuoso_server(tmp_path_factory) -> Iterator[Virtuoso]:
    """A real Virtuoso server (virtuoso-t in the foreground) on loopback ports, readied as for a deployment.

    setup_sql() gives policykg an account with Virtuoso's SPARQL_UPDATE role, used on the authenticated
    endpoints (/sparql-auth, /sparql-graph-crud-auth, HTTP Digest): granting that role to the anonymous
    SPARQL user instead would let anyone who reaches the engine write, and drop Virtuoso's own graphs. It
    also makes those graphs private, so that no answer shows them. See tests/virtuoso_engine.py.
    """
    for command in ("virtuoso-t", "isql-vt"):
        assert shutil.which(command), "the Virtuoso tests need Debian's virtuoso-opensource: `make test` installs it"
    process, server = start_virtuoso(tmp_path_factory.mktemp("virtuoso"), free_port(), free_port())
    try:
        yield server
    finally:
        stop_virtuoso(process)

"""Shared fixtures: settings, the model graphs and the seed data, each read once per session."""

import socket
import threading
from pathlib import Path

import pytest
import rdflib

from policykg.config import Settings
from policykg.model import load_model
from policykg.rdfinput import read_files, to_rdflib_graph
from policykg.store import Store
from policykg.validation import load_model_graph

FIXTURES = Path(__file__).parent / "fixtures"


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


@pytest.fixture(scope="session")
def seed_store(settings: Settings) -> Store:
    """An in-memory Oxigraph store holding the ontology, the shapes and the seed data."""
    store = Store.in_memory()
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

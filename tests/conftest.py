"""Shared fixtures: settings, the model graphs and the seed data, each read once per session."""

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

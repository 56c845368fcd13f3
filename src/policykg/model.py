"""The model on disk (ontology/, shapes/, data/) and the named graphs each part is loaded into."""

from pathlib import Path

from policykg.config import Settings
from policykg.namespaces import ONTOLOGY_IRI, SHAPES_IRI
from policykg.rdfinput import read_files
from policykg.store import Store


def data_graph_iri(settings: Settings) -> str:
    """The graph that receives data triples a file puts in no named graph of its own."""
    return settings.base_iri + "graph/data"


def load_data_files(store: Store, paths: list[Path], settings: Settings, format_name: str | None = None) -> int:
    """Load data files into the store (their own named graphs kept); return the number of quads read."""
    quads = read_files(paths, settings.base_iri, format_name)
    store.add(quads, data_graph_iri(settings))
    return len(quads)


def load_model(store: Store, settings: Settings, with_data: bool = True) -> None:
    """Load the ontology and the shapes into graphs named by their IRIs, and the seed data."""
    store.add(read_files([settings.ontology_dir], settings.base_iri), ONTOLOGY_IRI)
    store.add(read_files([settings.shapes_dir], settings.base_iri), SHAPES_IRI)
    if with_data:
        load_data_files(store, [settings.data_dir], settings)


def initialise(store: Store, settings: Settings) -> bool:
    """Load the model into an empty store (first start); return True if it was loaded now."""
    if not store.is_empty():
        return False
    load_model(store, settings)
    return True

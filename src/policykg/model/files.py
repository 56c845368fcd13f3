"""The model on disk (ontology/, shapes/, data/) and the named graphs each part is loaded into.

Its blank nodes are skolemised from the files' content (skolem.canonical), so the same files always give
the same IRIs: a start compares the ontology and shapes graphs with the files and replaces them when the
files changed.
"""

from pathlib import Path

import pyoxigraph as ox

from policykg import iris
from policykg.config import Settings
from policykg.iris import genid_prefix
from policykg.model.closure import write_closure
from policykg.rdf.input import read_files
from policykg.rdf.namespaces import ONTOLOGY_IRI, SHAPES_IRI
from policykg.rdf.skolem import canonical, fresh
from policykg.rdf.terms import quad_of
from policykg.sparql.syntax import quads_text
from policykg.store import Store

MODEL_GRAPHS = (ONTOLOGY_IRI, SHAPES_IRI)


def data_graph_iri(settings: Settings) -> str:
    """The graph that receives data triples a file puts in no named graph of its own."""
    return iris.data_graph_iri(settings.base_iri)


def load_data_files(store: Store, paths: list[Path], settings: Settings, format_name: str | None = None) -> int:
    """Load data files into the store (their own named graphs kept); return the number of quads read."""
    quads = fresh(read_files(paths, settings.base_iri, format_name), genid_prefix(settings.base_iri))
    store.add(quads, data_graph_iri(settings))
    return len(quads)


def load_model(store: Store, settings: Settings, with_data: bool = True) -> None:
    """Load the ontology and the shapes into graphs named by their IRIs, and the seed data, in one write.

    One write, so that a start stopped part-way (killed, or a file it cannot read) leaves none of the model
    rather than some of it: initialise() loads a store whose ontology graph is missing, and would never
    complete a partial one.
    """
    quads = model_quads(settings)
    if with_data:
        quads += canonical(read_files([settings.data_dir], settings.base_iri), genid_prefix(settings.base_iri))
    store.add(quads, data_graph_iri(settings))
    # The closure of skos:broader in a write of its own: a start mends it if a kill comes in between.
    write_closure(store, settings.base_iri)


def model_quads(settings: Settings) -> list[ox.Quad]:
    """The ontology and the shapes as their graphs hold them: read from the files, blank nodes skolemised."""
    quads = _placed(read_files([settings.ontology_dir], settings.base_iri), ONTOLOGY_IRI) + _placed(
        read_files([settings.shapes_dir], settings.base_iri), SHAPES_IRI
    )
    return canonical(quads, genid_prefix(settings.base_iri))


def _placed(quads: list[ox.Quad], graph: str) -> list[ox.Quad]:
    """The quads, those of the default graph moved into the named graph given."""
    target = ox.NamedNode(graph)
    return [
        q if not isinstance(q.graph_name, ox.DefaultGraph) else ox.Quad(q.subject, q.predicate, q.object, target)
        for q in quads
    ]


def initialise(store: Store, settings: Settings) -> bool:
    """Load the model into a store that lacks it (a first start, or a `policykg load` cut short before it)."""
    if store.ask(f"ASK {{ GRAPH <{ONTOLOGY_IRI}> {{ ?s ?p ?o }} }}"):
        return False
    load_model(store, settings)
    return True


def refresh_model(store: Store, settings: Settings) -> bool:
    """Replace the ontology and shapes graphs, in one write, if they differ from the files; say if they did.

    After a replacement, blank nodes a store kept from before skolemisation are named too (where the store
    can name them: see Store.skolemise_blank_nodes).
    """
    expected = model_quads(settings)
    graphs = " ".join(f"<{graph}>" for graph in MODEL_GRAPHS)
    rows = store.select(f"SELECT ?s ?p ?o ?g WHERE {{ VALUES ?g {{ {graphs} }} GRAPH ?g {{ ?s ?p ?o }} }}").rows
    if {quad_of(*row) for row in rows} == set(expected):
        return False
    drops = " ".join(f"DROP SILENT GRAPH <{graph}> ;" for graph in MODEL_GRAPHS)
    store.update(f"{drops} INSERT DATA {{ {quads_text(expected)} }}")
    store.skolemise_blank_nodes(genid_prefix(settings.base_iri))
    return True

"""The syntaxes a store writes answers in, by short name."""

from typing import TypedDict

import pyoxigraph as ox

RESULT_FORMATS: dict[str, ox.QueryResultsFormat] = {
    "json": ox.QueryResultsFormat.JSON,
    "xml": ox.QueryResultsFormat.XML,
    "csv": ox.QueryResultsFormat.CSV,
    "tsv": ox.QueryResultsFormat.TSV,
}
GRAPH_FORMATS: dict[str, ox.RdfFormat] = {
    "turtle": ox.RdfFormat.TURTLE,
    "ntriples": ox.RdfFormat.N_TRIPLES,
    "jsonld": ox.RdfFormat.JSON_LD,
    "rdfxml": ox.RdfFormat.RDF_XML,
    "nquads": ox.RdfFormat.N_QUADS,
    "trig": ox.RdfFormat.TRIG,
}
DATASET_FORMATS: dict[str, ox.RdfFormat] = {
    "nquads": ox.RdfFormat.N_QUADS,
    "trig": ox.RdfFormat.TRIG,
}


# A graph no one can write to (the IRI is not under any base): queried as the empty default graph.
_EMPTY_GRAPH = ox.NamedNode("urn:x-policykg:empty-default-graph")


class DatasetArguments(TypedDict, total=False):
    """The keyword arguments of pyoxigraph's Store.query that name the dataset."""

    use_default_graph_as_union: bool
    default_graph: list[ox.NamedNode | ox.BlankNode | ox.DefaultGraph]
    named_graphs: list[ox.NamedNode | ox.BlankNode]


def dataset_arguments(default_graphs: tuple[str, ...], named_graphs: tuple[str, ...], union: bool) -> DatasetArguments:
    """Oxigraph query options for a protocol dataset (SPARQL 1.1 Protocol §2.1.4).

    No graphs named: the store's dataset, its default graph the union of all graphs if asked.
    Named graphs only: those named graphs and an empty default graph, as FROM NAMED without FROM.
    Default graphs only: no named graph at all, as FROM without FROM NAMED (SPARQL 1.1 §13.2).
    """
    if not default_graphs and not named_graphs:
        return {"use_default_graph_as_union": union}
    defaults: list[ox.NamedNode | ox.BlankNode | ox.DefaultGraph] = [ox.NamedNode(g) for g in default_graphs]
    named: list[ox.NamedNode | ox.BlankNode] = [ox.NamedNode(g) for g in named_graphs]
    return {"default_graph": defaults or [_EMPTY_GRAPH], "named_graphs": named}

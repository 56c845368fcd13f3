"""The syntaxes a store writes answers in, by short name."""

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


def dataset_arguments(default_graphs: tuple[str, ...], named_graphs: tuple[str, ...], union: bool) -> dict[str, object]:
    """Oxigraph query options for a protocol dataset (SPARQL 1.1 Protocol §2.1.4).

    No graphs named: the store's dataset, its default graph the union of all graphs if asked.
    Named graphs only: those named graphs and an empty default graph, as FROM NAMED without FROM.
    """
    if not default_graphs and not named_graphs:
        return {"use_default_graph_as_union": union}
    defaults = [ox.NamedNode(g) for g in default_graphs] or [_EMPTY_GRAPH]
    return {"default_graph": defaults, "named_graphs": [ox.NamedNode(g) for g in named_graphs] or None}

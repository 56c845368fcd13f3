"""The dataset a SPARQL request names (SPARQL 1.1 Protocol §2.1.4): a leaf, so that query workers import little."""

from dataclasses import dataclass


@dataclass(frozen=True)
class Dataset:
    """The RDF dataset a request names (default-graph-uri, named-graph-uri); empty means the store's own."""

    default_graphs: tuple[str, ...] = ()
    named_graphs: tuple[str, ...] = ()


# The dataset a request that names no graphs asks for: the store's own. Frozen, so one value serves as every default.
NO_DATASET = Dataset()

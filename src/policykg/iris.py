"""The service's own IRI scheme: where each kind of thing it names lives under the deployment's base IRI.

Every IRI the service mints is spelled here, once: things (`id/…`: events, people, agents, concepts),
assertion graphs (`graph/…`), entries (`entries/…`, each a named graph), skolemised blank nodes
(`.well-known/genid/…`), the change stream and the dumps. The rest of the code asks this module.
"""

THINGS = "id/"  # events, organisations, people, recommendations, concepts, agents …
GRAPHS = "graph/"  # assertion graphs: the seed's, the reference graphs, the registry of entries
ENTRIES = "entries/"  # each entry's graph
GENID = ".well-known/genid/"  # skolemised blank nodes (RDF 1.1 Concepts §3.5)
THING_SPACES = (THINGS, GRAPHS, GENID)  # what a resource's IRI starts with
THIS_ENTRY_IRI = "urn:x-policykg:this-entry"  # stands for an entry's own IRI in the triples sent (see Entries)
LDES = "ldes"  # the change stream (an LDES), below the base
DUMPS = "dumps/"  # the whole dataset as files
DUMP = DUMPS + "policykg.nq.gz"  # the whole dataset, the dump every client can rely on


def agent_iri(base_iri: str, name: str) -> str:
    """The agent of that name: a contributor, or one of the service's own (operator, policykg, anonymous)."""
    return f"{base_iri}{THINGS}agent/{name}"


def operator_iri(base_iri: str) -> str:
    """The agent the operator's token writes as; it may revise and retract any entry."""
    return agent_iri(base_iri, "operator")


def registry_iri(base_iri: str) -> str:
    """The graph that records every entry: who, when, against which shapes, and what became of it."""
    return f"{base_iri}{GRAPHS}entries"


def entry_iri(base_iri: str, name: str = "") -> str:
    """The IRI of the entry of that name (its graph); without a name, what every entry's IRI starts with."""
    return f"{base_iri}{ENTRIES}{name}"


def data_graph_iri(base_iri: str) -> str:
    """The graph that receives data triples a file puts in no named graph of its own."""
    return f"{base_iri}{GRAPHS}data"


def closure_graph_iri(base_iri: str) -> str:
    """The inferred graph of skos:broaderTransitive, which the service keeps (model/closure.py)."""
    return f"{base_iri}{GRAPHS}inferred/broader-transitive"


def genid_prefix(base_iri: str) -> str:
    """Where a deployment's skolem IRIs live."""
    return base_iri + GENID

"""skos:broaderTransitive kept as the closure of skos:broader, in an inferred graph the service writes.

A question about a concept and every narrower one (`?c skos:broader* <x>`) makes Oxigraph follow the path
from every concept a recommendation concerns: 3.5 s alone at 10,000,000 triples for a concept with 24,000
recommendations below it. With the closure stored, the same question is a join on one property
(`?c skos:broaderTransitive? <x>`: <x> itself or a concept below it), 0.64 s (benchmarks/RESULTS.md).
SKOS defines skos:broaderTransitive as the transitive super-property of skos:broader (SKOS Reference
§8.6.5), so a reader who knows SKOS knows what the graph holds.

The graph is an inference like any other: a pkg:InferredAssertion with its reason, derived from the sources
of the assertions whose skos:broader statements it follows. The writer brings it up to date in every write
that touches a skos:broader statement (or whose change it cannot list), before the write's call returns
and before readers see the write (one snapshot); the model's load, `policykg load` and every start bring it
up to date too (a restore, or a kill between a write and its closure). It is recomputed whole, which is
cheap: concepts are few (20,000 in the generated 10,000,000-triple graph), and only the difference is
written.
"""

from collections import defaultdict
from collections.abc import Iterable

import pyoxigraph as ox

from policykg.iris import closure_graph_iri
from policykg.rdf.namespaces import PREFIXES
from policykg.sparql.syntax import quads_text
from policykg.store import Store

BROADER = ox.NamedNode(PREFIXES["skos"] + "broader")
BROADER_TRANSITIVE = ox.NamedNode(PREFIXES["skos"] + "broaderTransitive")
_TYPE = ox.NamedNode(PREFIXES["rdf"] + "type")
_INFERRED = ox.NamedNode(PREFIXES["pkg"] + "InferredAssertion")
_LABEL = ox.NamedNode(PREFIXES["rdfs"] + "label")
_REASON = ox.NamedNode(PREFIXES["pkg"] + "inferenceReason")
_DERIVED_FROM = ox.NamedNode(PREFIXES["prov"] + "wasDerivedFrom")
LABEL = ox.Literal("Every broader concept of each concept (skos:broaderTransitive)", language="en")
REASON = ox.Literal(
    "skos:broaderTransitive is the transitive closure of skos:broader (SKOS Reference, section 8.6.5): each "
    "concept's broader concepts, theirs, and so on, as the skos:broader statements of the graph's assertions "
    "state them. The service keeps it in step with every write.",
    language="en",
)

_EDGES = f"""PREFIX skos: <{PREFIXES["skos"]}>
SELECT DISTINCT ?narrower ?broader WHERE {{
  GRAPH ?g {{ ?narrower skos:broader ?broader }}
  FILTER (isIRI(?narrower) && isIRI(?broader))
}}"""
# The sources of the assertions that state skos:broader: what the closure is derived from.
_SOURCES = f"""PREFIX skos: <{PREFIXES["skos"]}> PREFIX prov: <{PREFIXES["prov"]}> PREFIX pkg: <{PREFIXES["pkg"]}>
SELECT DISTINCT ?source WHERE {{
  {{ SELECT DISTINCT ?g WHERE {{ GRAPH ?g {{ ?narrower skos:broader ?broader }} }} }}
  GRAPH ?g {{ ?g prov:wasDerivedFrom ?source }}
  VALUES ?kind {{ pkg:SourceExcerpt pkg:SourceDocument }}
  GRAPH ?h {{ ?source a ?kind }}
}}"""


def touches_broader(quads: Iterable[ox.Quad]) -> bool:
    """Whether writing or removing these quads may alter the closure."""
    return any(q.predicate == BROADER for q in quads)


def closure_difference(store: Store, base_iri: str) -> tuple[tuple[ox.Quad, ...], tuple[ox.Quad, ...]]:
    """What to add and what to remove so that the closure graph holds the closure of the store's skos:broader."""
    graph = closure_graph_iri(base_iri)
    wanted = set(_closure_quads(store, ox.NamedNode(graph)))
    held = set(store.graph_quads(graph))
    return tuple(sorted(wanted - held, key=str)), tuple(sorted(held - wanted, key=str))


def write_closure(store: Store, base_iri: str) -> None:
    """Bring the closure graph up to date in one write (after the model's load, a bulk load, over files)."""
    added, removed = closure_difference(store, base_iri)
    parts = [f"DELETE DATA {{ {quads_text(removed)} }}"] * bool(removed)
    parts += [f"INSERT DATA {{ {quads_text(added)} }}"] * bool(added)
    if parts:
        store.update(" ;\n".join(parts))


def closure_pairs(edges: list[tuple[ox.NamedNode, ox.NamedNode]]) -> set[tuple[ox.NamedNode, ox.NamedNode]]:
    """Every (narrower, broader) pair the edges reach in one step or more (a concept in a cycle reaches itself)."""
    up: dict[ox.NamedNode, set[ox.NamedNode]] = defaultdict(set)
    for narrower, broader in edges:
        up[narrower].add(broader)
    pairs = set()
    for start in up:
        seen: set[ox.NamedNode] = set()
        todo = list(up[start])
        while todo:
            node = todo.pop()
            if node not in seen:
                seen.add(node)
                todo.extend(up.get(node, ()))
        pairs |= {(start, node) for node in seen}
    return pairs


def _closure_quads(store: Store, graph: ox.NamedNode) -> list[ox.Quad]:
    pairs = closure_pairs(store.select(_EDGES).rows)  # type: ignore[arg-type]  # IRIs both (the query's FILTER)
    if not pairs:
        return []
    sources = [row[0] for row in store.select(_SOURCES).rows]
    about = [
        ox.Quad(graph, _TYPE, _INFERRED, graph),
        ox.Quad(graph, _LABEL, LABEL, graph),
        ox.Quad(graph, _REASON, REASON, graph),
        *(ox.Quad(graph, _DERIVED_FROM, source, graph) for source in sources),  # type: ignore[arg-type]
    ]
    return about + [ox.Quad(n, BROADER_TRANSITIVE, b, graph) for n, b in pairs]

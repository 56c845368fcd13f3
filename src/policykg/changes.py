"""Validating a change to the store before it is committed, without re-validating the whole store.

A change is quads to add and quads to remove. Only some nodes can change their verdict: the subjects
and objects of the changed triples, and every node whose shapes reach a changed triple (found by
walking the shapes' routes backwards from it). Those nodes are validated with pySHACL over the part of
the changed graph their shapes reach (walking the routes forwards), with the ontology mixed in. If the
store conformed before, the changed store conforms exactly when these nodes do. Only named graphs
are read: all of policykg's data lives in them.
"""

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

import pyoxigraph as ox
import rdflib

from rdflib.namespace import RDF, RDFS, SH

from policykg.reach import FORWARD, Route, Step, routes_of
from policykg.rdfinput import to_oxigraph_term, to_rdflib_term
from policykg.store import EmbeddedStore, Store
from policykg.validation import SEVERITY_ORDER, Report, Result, split_shapes, validate

Triple = tuple[rdflib.term.Node, rdflib.term.Node, rdflib.term.Node]
_BATCH = 500


@dataclass(frozen=True)
class Change:
    """Quads to add and quads to remove, as one atomic change."""

    added: tuple[ox.Quad, ...] = ()
    removed: tuple[ox.Quad, ...] = ()


class _View:
    """The union of the store's named graphs with a change laid over it, read one step at a time."""

    def __init__(self, store: Store, overlay: Change) -> None:
        self._store = store
        self._added: dict[tuple[str, rdflib.term.Node], set[rdflib.term.Node]] = defaultdict(set)
        self._added_inverse: dict[tuple[str, rdflib.term.Node], set[rdflib.term.Node]] = defaultdict(set)
        self._removed = {(q.subject, q.predicate, q.object, q.graph_name) for q in overlay.removed}
        if overlay.added:
            for quad in overlay.added:
                s, p, o = (to_rdflib_term(t) for t in (quad.subject, quad.predicate, quad.object))
                self._added[(str(p), s)].add(o)
                self._added_inverse[(str(p), o)].add(s)

    def follow(self, nodes: set[rdflib.term.Node], step: Step) -> dict[rdflib.term.Node, set[rdflib.term.Node]]:
        """For each node, the nodes one step away from it in this view."""
        found: dict[rdflib.term.Node, set[rdflib.term.Node]] = defaultdict(set)
        addressable = sorted(n for n in nodes if isinstance(n, rdflib.URIRef))
        for start in range(0, len(addressable), _BATCH):
            batch = addressable[start:start + _BATCH]
            values = " ".join(f"<{n}>" for n in batch)
            pattern = "?n <{p}> ?x" if step.direction == FORWARD else "?x <{p}> ?n"
            sparql = (f"SELECT ?n ?x ?g WHERE {{ VALUES ?n {{ {values} }} GRAPH ?g {{ "
                      + pattern.format(p=step.predicate) + " } }")
            for n, x, g in self._store.select(sparql).rows:
                subject, obj = (n, x) if step.direction == FORWARD else (x, n)
                if (subject, ox.NamedNode(step.predicate), obj, g) not in self._removed:
                    found[to_rdflib_term(n)].add(to_rdflib_term(x))
        added = self._added if step.direction == FORWARD else self._added_inverse
        for node in nodes:
            found[node] |= added.get((step.predicate, node), set())
        return found


class ChangeValidator:
    """Validates changes against the shapes, reading from the store only what the shapes reach."""

    def __init__(self, shapes: rdflib.Graph, ontology: rdflib.Graph) -> None:
        self._core, self._sparql = split_shapes(shapes)
        self._ontology = ontology
        self._routes = routes_of(shapes)
        self._trie = _trie(self._routes)
        self._superclasses = {str(c): {str(s) for s in ontology.transitive_objects(c, RDFS.subClassOf)}
                              for c in set(ontology.subjects(RDFS.subClassOf, None))}
        self._ontology_quads = [ox.Quad(*(to_oxigraph_term(t) for t in triple)) for triple in ontology]
        targeted = {str(c) for c in shapes.objects(None, SH.targetClass)}
        #: The classes some shape checks: targeted, or below a targeted class.
        self.checked_classes = frozenset(targeted | {c for c, above in self._superclasses.items() if above & targeted})

    def validate(self, store: Store, change: Change, applied: bool = False) -> Report:
        """The verdict on the store after the change, for every node the change can affect.

        applied: the store already holds the change (it is judged, and undone by the caller if need be).
        """
        inverse = Change(added=change.removed, removed=change.added)
        after = _View(store, Change() if applied else change)
        before = _View(store, inverse if applied else Change())
        focus = self._affected(change, [after, before])
        graph = rdflib.Graph()
        self._collect(after, focus, self._trie, graph)
        # SHACL Core by pySHACL; the SPARQL constraints by Oxigraph, which answers them far faster.
        core = validate(graph, self._core, self._ontology, focus_nodes=sorted(focus, key=str))
        results = list(core.results) + self._sparql_results(graph, focus)
        results.sort(key=lambda r: (SEVERITY_ORDER.get(r.severity, 9), r.focus, r.shape, r.path or ""))
        return Report(results=tuple(results), graph=core.graph)

    def _sparql_results(self, graph: rdflib.Graph, focus: set[rdflib.term.Node]) -> list[Result]:
        """Run each SPARQL-based constraint for the focus nodes its shape targets, in an Oxigraph store."""
        types: dict[rdflib.term.Node, set[str]] = defaultdict(set)
        for node in focus:
            for cls in graph.objects(node, RDF.type):
                types[node] |= self._superclasses.get(str(cls), {str(cls)})
        scratch = EmbeddedStore.in_memory()
        # The ontology too, as pySHACL mixes it in: constraints may follow rdfs:subClassOf.
        scratch.add(self._ontology_quads, "urn:x-policykg:ontology")
        scratch.add((ox.Quad(*(to_oxigraph_term(t) for t in triple)) for triple in graph), "urn:x-policykg:scratch")
        results: list[Result] = []
        for constraint in self._sparql:
            targeted = sorted(str(n) for n in focus if isinstance(n, rdflib.URIRef) and types[n] & set(constraint.targets))
            if not targeted:
                continue
            values = "VALUES ?this { " + " ".join(f"<{n}>" for n in targeted) + " }"
            where = constraint.select.index("{") + 1  # our constraints: SELECT … WHERE { …
            sparql = constraint.select[:where] + values + constraint.select[where:]
            rows = scratch.select(sparql, prefixes=dict(constraint.prefixes))
            results += constraint.results([{name: term.value for name, term in zip(rows.variables, row) if term is not None}
                                           for row in rows.rows])
        return results

    def _affected(self, change: Change, views: list[_View]) -> set[rdflib.term.Node]:
        """Nodes whose verdict the change can alter: those it touches, and those whose routes reach it."""
        touched: list[Triple] = [tuple(to_rdflib_term(t) for t in (q.subject, q.predicate, q.object))  # type: ignore[misc]
                                 for q in (*change.added, *change.removed)]
        focus: set[rdflib.term.Node] = {s for s, _, _ in touched}
        focus |= {o for _, _, o in touched if not isinstance(o, rdflib.Literal)}
        for route in self._routes:
            for index, step in enumerate(route):
                ends = {s if step.direction == FORWARD else o for s, p, o in touched if str(p) == step.predicate}
                if not ends:
                    continue
                back = tuple(s.reversed() for s in reversed(route[:index]))
                for view in views:
                    focus |= _walk(view, ends, back)
        return {node for node in focus if not isinstance(node, rdflib.Literal)}

    def _collect(self, view: _View, nodes: set[rdflib.term.Node], trie: "_Trie", graph: rdflib.Graph) -> None:
        """Add to graph every triple the routes reach from nodes (forwards through the trie)."""
        for step, child in trie.children.items():
            found = view.follow({n for n in nodes if not isinstance(n, rdflib.Literal)}, step)
            reached: set[rdflib.term.Node] = set()
            for node, others in found.items():
                for other in others:
                    triple = (node, rdflib.URIRef(step.predicate), other) if step.direction == FORWARD \
                        else (other, rdflib.URIRef(step.predicate), node)
                    graph.add(triple)
                    reached.add(other)
            if reached and child.children:
                self._collect(view, reached, child, graph)


@dataclass
class _Trie:
    children: dict[Step, "_Trie"]


def _trie(routes: Iterable[Route]) -> _Trie:
    root = _Trie({})
    for route in routes:
        node = root
        for step in route:
            node = node.children.setdefault(step, _Trie({}))
    return root


def _walk(view: _View, starts: set[rdflib.term.Node], steps: Route) -> set[rdflib.term.Node]:
    nodes = set(starts)
    for step in steps:
        found = view.follow(nodes, step)
        nodes = {other for others in found.values() for other in others}
        if not nodes:
            break
    return nodes

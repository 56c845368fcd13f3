"""Validating a change to the store before it is committed, without re-validating the whole store.

A change is quads to add and quads to remove. Only some nodes can change their verdict: those whose
shapes reach a changed triple, found by walking the shapes' routes backwards from it (a route's first
step ends at the changed triple's own subject or object, so touched nodes are found where a shape looks
at them). Those nodes are validated with pySHACL over the part of the changed graph their shapes reach
(walking the routes forwards), with the ontology's class hierarchy mixed in. If the store conformed
before, the changed store conforms exactly when these nodes do. Only named graphs are read: all of
policykg's data lives in them.
"""

from collections import defaultdict
from collections.abc import Iterable, Sequence
from collections.abc import Set as AbstractSet
from dataclasses import dataclass

import pyoxigraph as ox
import rdflib
from rdflib.namespace import RDF, RDFS, SH

from policykg.rdf.input import to_oxigraph_term, to_rdflib_term
from policykg.rdf.terms import quad_of
from policykg.store import EmbeddedStore, Store
from policykg.validation.reach import FORWARD, INVERSE, Route, Step, routes_of
from policykg.validation.shacl import SEVERITY_ORDER, FocusedValidation, Report, Result, split_shapes

Node = rdflib.term.Node
Triple = tuple[Node, Node, Node]
_BATCH = 500
_NONE: frozenset[Node] = frozenset()


@dataclass(frozen=True)
class Change:
    """Quads to add and quads to remove, as one atomic change."""

    added: tuple[ox.Quad, ...] = ()
    removed: tuple[ox.Quad, ...] = ()


class _View:
    """The union of the store's named graphs with a change laid over it, read a step at a time and remembered."""

    def __init__(self, store: Store, overlay: Change) -> None:
        self._store = store
        self._added: dict[Step, dict[Node, set[Node]]] = defaultdict(lambda: defaultdict(set))
        self._removed = {(q.subject, q.predicate, q.object, q.graph_name) for q in overlay.removed}
        self._known: dict[Step, dict[Node, set[Node]]] = defaultdict(lambda: defaultdict(set))  # read from the store
        self._described: set[Node] = set()  # nodes whose every forward step has been read
        self._asked: dict[Step, set[Node]] = defaultdict(set)  # nodes an inverse step has been read for
        self._probed: set[Node] = set()  # nodes known to have incoming links in the store (_linked) or not
        self._linked: set[Node] = set()
        for quad in overlay.added:
            s, p, o = (to_rdflib_term(t) for t in (quad.subject, quad.predicate, quad.object))
            self._added[Step(str(p), FORWARD)][s].add(o)
            self._added[Step(str(p), INVERSE)][o].add(s)

    def follow(self, wanted: dict[Step, set[Node]]) -> dict[Step, dict[Node, AbstractSet[Node]]]:
        """For each step and each of its nodes, the nodes one step away in this view.

        All the steps are read together and each answer is kept for the next call: the walks of one
        validation cross the same nodes many times. Forwards, a node's whole description is read at
        once (it is small); backwards, only the predicates asked for (a concept may have thousands).
        """
        undescribed = {
            node
            for step, nodes in wanted.items()
            if step.direction == FORWARD
            for node in nodes
            if node not in self._described
        }
        self._described |= undescribed
        self._read_forward(sorted(n for n in undescribed if isinstance(n, rdflib.URIRef)))
        missing: list[tuple[rdflib.URIRef, Step]] = []
        for step, nodes in wanted.items():
            if step.direction == INVERSE:
                asked = self._asked[step]
                missing += [(node, step) for node in nodes - asked if isinstance(node, rdflib.URIRef)]
                asked |= nodes
        self._probe({node for node, _ in missing})
        self._read_inverse([(node, step) for node, step in missing if node in self._linked])
        found: dict[Step, dict[Node, AbstractSet[Node]]] = {}
        for step, nodes in wanted.items():
            known, added = self._known.get(step, {}), self._added.get(step, {})
            found[step] = {node: known.get(node, _NONE) | added.get(node, _NONE) for node in nodes}
        return found

    def _read_forward(self, nodes: Sequence[Node]) -> None:
        for start in range(0, len(nodes), _BATCH):
            values = " ".join(f"<{node}>" for node in nodes[start : start + _BATCH])
            self._keep(f"SELECT ?n ?p ?x ?g WHERE {{ VALUES ?n {{ {values} }} GRAPH ?g {{ ?n ?p ?x }} }}", FORWARD)

    def _probe(self, nodes: set[rdflib.URIRef]) -> None:
        """Learn which of the nodes have any incoming link in the store: most of an entry's nodes are new."""
        unprobed = sorted(nodes - self._probed)
        self._probed |= nodes
        for start in range(0, len(unprobed), _BATCH):
            values = " ".join(f"<{node}>" for node in unprobed[start : start + _BATCH])
            sparql = f"SELECT ?n WHERE {{ VALUES ?n {{ {values} }} FILTER EXISTS {{ GRAPH ?g {{ ?x ?p ?n }} }} }}"
            for (n,) in self._store.select(sparql).rows:
                assert n is not None  # ?n from VALUES
                self._linked.add(to_rdflib_term(n))

    def _read_inverse(self, pairs: Sequence[tuple[Node, Step]]) -> None:
        for start in range(0, len(pairs), _BATCH):
            values = " ".join(f"(<{node}> <{step.predicate}>)" for node, step in pairs[start : start + _BATCH])
            self._keep(f"SELECT ?n ?p ?x ?g WHERE {{ VALUES (?n ?p) {{ {values} }} GRAPH ?g {{ ?x ?p ?n }} }}", INVERSE)

    def _keep(self, sparql: str, direction: str) -> None:
        for n, p, x, g in self._store.select(sparql).rows:
            assert n is not None and p is not None and x is not None  # bound by the pattern
            subject, obj = (n, x) if direction == FORWARD else (x, n)
            if (subject, p, obj, g) not in self._removed:
                self._known[Step(p.value, direction)][to_rdflib_term(n)].add(to_rdflib_term(x))


class ChangeValidator:
    """Validates changes against the shapes, reading from the store only what the shapes reach."""

    def __init__(self, shapes: rdflib.Graph, ontology: rdflib.Graph) -> None:
        core, self._sparql = split_shapes(shapes)
        self._focused = FocusedValidation(core)
        # Of the ontology, the validation of a change needs only the class hierarchy (for sh:targetClass,
        # sh:class and rdfs:subClassOf* in constraints): what the shapes reach in it, such as the types of
        # the status concepts, is read from the store's ontology graph like any other triple.
        self._hierarchy = rdflib.Graph()
        for triple in ontology.triples((None, RDFS.subClassOf, None)):
            self._hierarchy.add(triple)
        self._routes = routes_of(shapes)
        self._trie = _trie(self._routes)
        self._superclasses = {
            str(c): {str(s) for s in ontology.transitive_objects(c, RDFS.subClassOf)}
            for c in set(ontology.subjects(RDFS.subClassOf, None))
        }
        self._hierarchy_quads = [quad_of(*(to_oxigraph_term(t) for t in triple)) for triple in self._hierarchy]
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
        # A walk back in the graph with more triples finds every node the other would: when the change
        # only adds (or only removes), one view is enough.
        views = [view for view, needed in ((after, change.added), (before, change.removed)) if needed]
        focus = self._affected(change, views)
        graph = rdflib.Graph()
        self._collect(after, focus, graph)
        # SHACL Core by pySHACL; the SPARQL constraints by Oxigraph, which answers them far faster.
        core = self._focused.validate(graph, self._hierarchy, focus)
        results = list(core.results) + self._sparql_results(graph, focus)
        results.sort(key=lambda r: (SEVERITY_ORDER.get(r.severity, 9), r.focus, r.shape, r.path or ""))
        return Report(results=tuple(results), graph=core.graph)

    def _sparql_results(self, graph: rdflib.Graph, focus: set[Node]) -> list[Result]:
        """Run each SPARQL-based constraint for the focus nodes its shape targets, in an Oxigraph store."""
        types: dict[Node, set[str]] = defaultdict(set)
        for node in focus:
            for cls in graph.objects(node, RDF.type):
                types[node] |= self._superclasses.get(str(cls), {str(cls)})
        scratch = EmbeddedStore.in_memory()
        # The class hierarchy too, as pySHACL mixes it in: constraints may follow rdfs:subClassOf.
        scratch.add(self._hierarchy_quads, "urn:x-policykg:ontology")
        scratch.add((quad_of(*(to_oxigraph_term(t) for t in triple)) for triple in graph), "urn:x-policykg:scratch")
        results: list[Result] = []
        for constraint in self._sparql:
            targeted = sorted(
                str(n) for n in focus if isinstance(n, rdflib.URIRef) and types[n] & set(constraint.targets)
            )
            if not targeted:
                continue
            values = "VALUES ?this { " + " ".join(f"<{n}>" for n in targeted) + " }"
            where = constraint.select.index("{") + 1  # our constraints: SELECT … WHERE { …
            sparql = constraint.select[:where] + values + constraint.select[where:]
            rows = scratch.select(sparql, prefixes=dict(constraint.prefixes))
            results += constraint.results(
                [
                    {name: term.value for name, term in zip(rows.variables, row, strict=True) if term is not None}
                    for row in rows.rows
                ]
            )
        return results

    def _affected(self, change: Change, views: list[_View]) -> set[Node]:
        """Nodes whose verdict the change can alter: those it touches, and those whose routes reach it."""
        touched: list[Triple] = [
            (to_rdflib_term(q.subject), to_rdflib_term(q.predicate), to_rdflib_term(q.object))
            for q in (*change.added, *change.removed)
        ]
        # A node's verdict rests only on the triples its routes reach, its own types included: the walks
        # back find the touched nodes too (a route's first step ends at them), but only where a shape looks.
        focus: set[Node] = set()
        by_predicate: dict[str, list[Triple]] = defaultdict(list)
        for triple in touched:
            by_predicate[str(triple[1])].append(triple)
        walks: dict[Route, set[Node]] = defaultdict(set)  # the steps back still to walk -> where the walk stands
        for route in self._routes:
            for index, step in enumerate(route):
                ends = {s if step.direction == FORWARD else o for s, _, o in by_predicate.get(step.predicate, ())}
                if ends:
                    walks[tuple(s.reversed() for s in reversed(route[:index]))] |= ends
        for view in views:
            focus |= _walk(view, walks)
        return {node for node in focus if not isinstance(node, rdflib.Literal)}

    def _collect(self, view: _View, nodes: set[Node], graph: rdflib.Graph) -> None:
        """Add to graph every triple the routes reach from nodes, forwards through the trie, a level at a time."""
        level = [(self._trie, {n for n in nodes if not isinstance(n, rdflib.Literal)})]
        while level:
            wanted: dict[Step, set[Node]] = defaultdict(set)
            for trie, starts in level:
                for step in trie.children:
                    wanted[step] |= starts
            found = view.follow(wanted)
            following = []
            for trie, starts in level:
                for step, child in trie.children.items():
                    reached: set[Node] = set()
                    for node in starts:
                        for other in found[step][node]:
                            graph.add(
                                (node, rdflib.URIRef(step.predicate), other)
                                if step.direction == FORWARD
                                else (other, rdflib.URIRef(step.predicate), node)
                            )
                            reached.add(other)
                    reached = {n for n in reached if not isinstance(n, rdflib.Literal)}
                    if reached and child.children:
                        following.append((child, reached))
            level = following


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


def _walk(view: _View, walks: dict[Route, set[Node]]) -> set[Node]:
    """Where walks end: each walks its steps from its nodes; walks with the same steps left go together."""
    ended: set[Node] = set()
    while walks:
        ended |= walks.pop((), set())
        if not walks:
            break
        found = view.follow(_first_steps(walks))
        following: dict[Route, set[Node]] = defaultdict(set)
        for steps, nodes in walks.items():
            reached = {other for node in nodes for other in found[steps[0]][node]}
            if reached:
                following[steps[1:]] |= reached
        walks = following
    return ended


def _first_steps(walks: dict[Route, set[Node]]) -> dict[Step, set[Node]]:
    wanted: dict[Step, set[Node]] = defaultdict(set)
    for steps, nodes in walks.items():
        wanted[steps[0]] |= nodes
    return wanted

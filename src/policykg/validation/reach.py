"""How far the shapes look from a focus node: the property paths they follow, read from the shapes.

Judging one node needs only the triples the shapes reach from it: the values of each property shape's
path (and their types, for class checks), and the triple patterns of each SPARQL constraint, followed
from $this. Reading those paths from the shapes graph, rather than writing them down by hand, keeps
the validation of a change in step with the shapes when they change.
"""

from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass

import rdflib
from rdflib.namespace import RDF, RDFS, SH
from rdflib.paths import AlternativePath, InvPath, MulPath, Path, SequencePath
from rdflib.plugins.sparql import prepareQuery
from rdflib.plugins.sparql.parserutils import CompValue

FORWARD, INVERSE = "forward", "inverse"


@dataclass(frozen=True)
class Step:
    """One hop along a predicate, forward (subject to object) or inverse (object to subject)."""

    predicate: str
    direction: str

    def reversed(self) -> "Step":
        """The same hop walked the other way."""
        return Step(self.predicate, INVERSE if self.direction == FORWARD else FORWARD)


Route = tuple[Step, ...]
TYPE_STEP = Step(str(RDF.type), FORWARD)


# What the routes below do not follow: shapes applied to values (their own paths would have to be composed),
# targets other than classes and nodes, and constraints that compare two properties.
UNSUPPORTED = (
    SH.node,
    SH.qualifiedValueShape,
    SH.targetSubjectsOf,
    SH.targetObjectsOf,
    SH.equals,
    SH.disjoint,
    SH.lessThan,
    SH.lessThanOrEquals,
    SH.closed,
)


def routes_of(shapes: rdflib.Graph) -> frozenset[Route]:
    """Every route (sequence of steps) a shape may follow from a focus node, types included.

    Raises ValueError for shapes whose reach these routes would miss (see UNSUPPORTED).
    """
    used = sorted(str(p) for p in UNSUPPORTED if (None, p, None) in shapes)
    if used:
        raise ValueError(f"the change validator does not follow {', '.join(used)}; validate whole graphs instead")
    routes: set[Route] = {(TYPE_STEP,)}
    for path in shapes.objects(None, SH.path):
        for route in _path_routes(shapes, path):
            routes.add(route)
            routes.add((*route, TYPE_STEP))  # class checks read the types of the values
    literal_valued = {
        str(p)
        for shape in shapes.subjects(SH.datatype, None)
        for p in shapes.objects(shape, SH.path)
        if isinstance(p, rdflib.URIRef)
    }
    for select in shapes.objects(None, SH.select):
        routes |= _sparql_routes(str(select), _prefixes(shapes), literal_valued)
    return frozenset(r for r in routes if r)


def _path_routes(shapes: rdflib.Graph, path: rdflib.term.Node) -> list[Route]:
    """The routes of a SHACL property path (predicate, inverse, alternative or sequence)."""
    if isinstance(path, rdflib.URIRef):
        return [(Step(str(path), FORWARD),)]
    inverse = shapes.value(path, SH.inversePath)
    if inverse is not None:
        return [tuple(s.reversed() for s in reversed(route)) for route in _path_routes(shapes, inverse)]
    alternatives = shapes.value(path, SH.alternativePath)
    if alternatives is not None:
        return [
            route
            for member in rdflib.collection.Collection(shapes, alternatives)
            for route in _path_routes(shapes, member)
        ]
    if (path, RDF.first, None) in shapes:
        routes: list[Route] = [()]
        for member in rdflib.collection.Collection(shapes, path):
            routes = [head + tail for head in routes for tail in _path_routes(shapes, member)]
        return routes
    raise ValueError(f"a property path this validator does not follow: {path!r}")


def _prefixes(shapes: rdflib.Graph) -> dict[str, str]:
    return {
        str(shapes.value(d, SH.prefix)): str(shapes.value(d, SH.namespace)) for d in shapes.objects(None, SH.declare)
    }


def _sparql_routes(select: str, prefixes: dict[str, str], literal_valued: set[str]) -> set[Route]:
    """Routes from $this through the triple patterns of a SPARQL constraint (EXISTS parts included).

    A walk never turns back from a literal (the value of a datatype property): joining on a value
    such as an ordinal would reach every node that shares it, which no constraint here means to do.
    """
    patterns = list(_patterns(prepareQuery(select, initNs=prefixes).algebra))
    this = rdflib.Variable("this")
    routes: set[Route] = set()
    frontier: deque[tuple[rdflib.term.Node, Route]] = deque([(this, ())])
    seen = {this}
    while frontier:
        node, route = frontier.popleft()
        for subject, predicate, obj in patterns:
            steps = _steps(predicate)
            if steps is None:
                continue
            if subject == node:
                walks = [(obj, steps)]
            elif obj == node:
                walks = [(subject, [r for r in _reverse(steps) or [] if r[0].predicate not in literal_valued])]
            else:
                continue
            for end, options in walks:
                for extra in options:
                    extended = route + extra
                    routes.add(extended)
                    routes.add((*extended, TYPE_STEP))
                    if isinstance(end, rdflib.Variable) and end not in seen:
                        seen.add(end)
                        frontier.append((end, extended))
    return routes


def _patterns(node: object) -> Iterator[tuple[rdflib.term.Node, object, rdflib.term.Node]]:
    """Every triple pattern anywhere in a query's algebra, filters' EXISTS graphs included."""
    if isinstance(node, CompValue):
        if node.name in ("BGP", "TriplesBlock"):  # EXISTS graphs stay untranslated TriplesBlocks
            for triple in node["triples"]:
                yield tuple(triple)
        for value in node.values():
            yield from _patterns(value)
    elif isinstance(node, (list, tuple)):
        for item in node:
            yield from _patterns(item)


def _steps(predicate: object) -> list[Route] | None:
    """The routes of a predicate or SPARQL property path; subclass closures are left to the ontology."""
    if isinstance(predicate, rdflib.URIRef):
        return [(Step(str(predicate), FORWARD),)]
    if isinstance(predicate, InvPath):
        inner = _steps(predicate.arg)
        return None if inner is None else _reverse(inner)
    if isinstance(predicate, SequencePath):
        routes: list[Route] = [()]
        for part in predicate.args:
            inner = _steps(part)
            if inner is None:
                continue
            routes = [head + tail for head in routes for tail in inner]
        return routes
    if isinstance(predicate, AlternativePath):
        return [route for part in predicate.args for route in (_steps(part) or [])]
    if isinstance(predicate, MulPath) and predicate.path == RDFS.subClassOf:
        return None  # rdfs:subClassOf* runs over the ontology, which every validation includes
    if isinstance(predicate, Path | rdflib.Variable):
        raise ValueError(f"a SPARQL path this validator does not follow: {predicate!r}")
    return None


def _reverse(routes: list[Route] | None) -> list[Route] | None:
    if routes is None:
        return None
    return [tuple(s.reversed() for s in reversed(route)) for route in routes]

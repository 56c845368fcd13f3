"""SHACL validation of RDF against the policykg shapes and ontology; pySHACL lives here only."""

import functools
import re
import threading
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyshacl.shape
import rdflib
from pyshacl import validate as shacl_validate
from pyshacl.constraints import ALL_CONSTRAINT_PARAMETERS, CONSTRAINT_PARAMETERS_MAP
from rdflib.namespace import RDF, RDFS, SH
from rdflib.plugins.sparql import prepareQuery
from rdflib.plugins.sparql.sparql import Query
from rdflib.util import from_n3

from policykg.rdf.input import read_files, to_rdflib_graph

SEVERITY_ORDER = {"Violation": 0, "Warning": 1, "Info": 2}


@dataclass(frozen=True)
class Result:
    """One validation result: which node broke which rule, where and how badly."""

    focus: str
    path: str | None
    value: str | None
    message: str
    severity: str
    shape: str
    component: str

    def as_dict(self) -> dict[str, object]:
        """The result with the names of the SHACL report vocabulary, for JSON."""
        return {
            "focusNode": self.focus,
            "resultPath": self.path,
            "value": self.value,
            "message": self.message,
            "severity": self.severity,
            "sourceShape": self.shape,
            "sourceConstraintComponent": self.component,
        }


@dataclass(frozen=True)
class Report:
    """The outcome of validating a graph; conforms means no result of severity Violation."""

    results: tuple[Result, ...]
    graph: rdflib.Graph

    @property
    def conforms(self) -> bool:
        """True when no result is a violation (warnings and infos do not block)."""
        return not any(result.severity == "Violation" for result in self.results)

    def count(self, severity: str) -> int:
        """Return how many results have the given severity."""
        return sum(1 for result in self.results if result.severity == severity)


def report_graph(results: tuple[Result, ...] | list[Result], conforms: bool) -> rdflib.Graph:
    """The results as a SHACL sh:ValidationReport graph (SHACL §3.6)."""
    graph = rdflib.Graph()
    graph.bind("sh", SH)
    report = rdflib.BNode()
    graph.add((report, RDF.type, SH.ValidationReport))
    graph.add((report, SH.conforms, rdflib.Literal(conforms)))
    for result in results:
        node = rdflib.BNode()
        graph.add((report, SH.result, node))
        graph.add((node, RDF.type, SH.ValidationResult))
        graph.add((node, SH.focusNode, rdflib.URIRef(result.focus)))
        graph.add((node, SH.resultSeverity, SH[result.severity]))
        graph.add((node, SH.sourceShape, rdflib.URIRef(result.shape)))
        graph.add((node, SH.sourceConstraintComponent, rdflib.URIRef(result.component)))
        graph.add((node, SH.resultMessage, rdflib.Literal(result.message)))
        if result.path and not result.path.startswith(("^", "(")):
            graph.add((node, SH.resultPath, rdflib.URIRef(result.path)))
        if result.value is not None:
            value = from_n3(result.value) if result.value.startswith('"') else rdflib.URIRef(result.value)
            assert isinstance(value, rdflib.term.Node)  # from_n3 reads a quoted text as a Literal
            graph.add((node, SH.value, value))
    return graph


class _ParsedOnce(rdflib.Graph):
    """A graph that parses each SPARQL text once: pySHACL sends a constraint's text again for every
    focus node, and parsing (not evaluating) would otherwise be nine tenths of the work."""

    def query(self, query_object: str | Query, *args: Any, **kwargs: Any) -> rdflib.query.Result:
        """Run a query, reusing the parse of a text seen before."""
        if isinstance(query_object, str):
            query_object = _parsed(query_object)
        return super().query(query_object, *args, **kwargs)


@functools.lru_cache(maxsize=256)
def _parsed(text: str) -> Query:
    # A memo of a pure function: the same text always parses to the same query.
    return prepareQuery(text)


@dataclass(frozen=True)
class SparqlConstraint:
    """A SPARQL-based constraint (SHACL §5) of a shape: what it targets, its query, how it reports."""

    shape: str
    targets: tuple[str, ...]
    select: str
    message: str
    severity: str
    prefixes: tuple[tuple[str, str], ...]

    def results(self, rows: list[dict[str, str]]) -> list[Result]:
        """The results for the solutions of the query: one per solution, as pySHACL reports them."""
        found = []
        for row in rows:
            message = _fill(self.message, row)
            focus = row["this"]
            found.append(
                Result(
                    focus=focus,
                    path=row.get("path"),  # a solution's ?path is the result's path (SHACL §5.3.2)
                    value=focus,
                    message=message,
                    severity=self.severity,
                    shape=self.shape,
                    component=str(SH.SPARQLConstraintComponent),
                )
            )
        return found


def split_shapes(shapes: rdflib.Graph) -> tuple[rdflib.Graph, tuple[SparqlConstraint, ...]]:
    """The shapes without their SPARQL-based constraints, and those constraints on their own.

    SHACL Core is checked by pySHACL; the SPARQL constraints can then run in a faster engine, which
    reports them as pySHACL would (the shapes tests hold both to the same fixtures).
    """
    core = rdflib.Graph()
    for triple in shapes:
        if triple[1] != SH.sparql:
            core.add(triple)
    prefixes = tuple(
        sorted(
            (str(shapes.value(d, SH.prefix)), str(shapes.value(d, SH.namespace)))
            for d in shapes.objects(None, SH.declare)
        )
    )
    constraints = []
    for shape, node in shapes.subject_objects(SH.sparql):
        severity = shapes.value(node, SH.severity) or shapes.value(shape, SH.severity) or SH.Violation
        message = shapes.value(node, SH.message) or shapes.value(shape, SH.message) or ""
        constraints.append(
            SparqlConstraint(
                shape=str(shape),
                targets=tuple(sorted(str(c) for c in shapes.objects(shape, SH.targetClass))),
                select=str(shapes.value(node, SH.select)),
                message=str(message),
                severity=str(severity).rsplit("#", 1)[-1],
                prefixes=prefixes,
            )
        )
    return core, tuple(sorted(constraints, key=lambda c: c.shape))


def load_model_graph(directory: Path, base_iri: str) -> rdflib.Graph:
    """Read every RDF file of a model folder (ontology/ or shapes/) into one graph."""
    return to_rdflib_graph(read_files([directory], base_iri))


def validate(data: rdflib.Graph, shapes: rdflib.Graph, ontology: rdflib.Graph) -> Report:
    """Validate data (with the ontology mixed in for its class hierarchy) against the shapes."""
    report = _run(_merged(data, ontology), shapes)
    return Report(results=_results(report), graph=report)


class FocusedValidation:
    """Validation of chosen focus nodes only, each by the shapes that target it.

    The shapes' targets are replaced, for each run, by node targets (sh:targetNode) for those focus nodes
    that they target. pySHACL's own options do not fit: focus_nodes also filters the values nested
    shapes (sh:or, sh:node …) are applied to, so such a check on a value outside the list passes unseen,
    and use_shapes leaves out the named property shapes of the shapes it is given.
    """

    def __init__(self, shapes: rdflib.Graph) -> None:
        self._targets = _Targets(shapes)
        self._untargeted = rdflib.Graph()
        for triple in shapes:
            if triple[1] not in _TARGET_PREDICATES:
                self._untargeted.add(triple)
        # Cut-down shapes graphs by the shapes they keep, each lent to one run at a time (the run lays its
        # node targets over it and takes them off again); runs in parallel get copies of their own.
        self._lock = threading.Lock()
        self._idle: dict[frozenset[rdflib.term.Node], list[rdflib.Graph]] = {}

    def validate(self, data: rdflib.Graph, ontology: rdflib.Graph, focus_nodes: Iterable[rdflib.term.Node]) -> Report:
        """Validate the focus nodes of data (with the ontology mixed in) against the shapes that target them."""
        merged = _merged(data, ontology)
        aims = {(shape, SH.targetNode, node) for node in focus_nodes for shape in self._targets.shapes_of(merged, node)}
        aimed = frozenset(shape for shape, _, _ in aims)
        shapes = self._borrow(aimed)
        for aim in aims:
            shapes.add(aim)
        try:
            report = _run(merged, shapes)
        finally:
            for aim in aims:
                shapes.remove(aim)
            self._give_back(aimed, shapes)
        return Report(results=_results(report), graph=report)

    def _borrow(self, aimed: frozenset[rdflib.term.Node]) -> rdflib.Graph:
        """A shapes graph cut down to the aimed shapes and what they refer to, for this run alone."""
        with self._lock:
            idle = self._idle.get(aimed)
            if idle:
                return idle.pop()
        cut = rdflib.Graph(store="SimpleMemory")  # no contexts to keep: pySHACL's many lookups in it cost less
        todo, seen = list(aimed), set(aimed)
        while todo:
            for triple in self._untargeted.triples((todo.pop(), None, None)):
                cut.add(triple)
                if triple[2] not in seen and (triple[2], None, None) in self._untargeted:
                    seen.add(triple[2])
                    todo.append(triple[2])
        return cut

    def _give_back(self, aimed: frozenset[rdflib.term.Node], shapes: rdflib.Graph) -> None:
        with self._lock:
            if aimed not in self._idle and len(self._idle) >= _KEPT_SHAPE_SETS:
                self._idle.pop(next(iter(self._idle)))
            idle = self._idle.setdefault(aimed, [])
            if len(idle) < _COPIES:
                idle.append(shapes)


_KEPT_SHAPE_SETS = 64  # kinds of entries (sets of shapes) whose graphs are kept
_COPIES = 4  # graphs kept of each, for runs in parallel


def _merged(data: rdflib.Graph, ontology: rdflib.Graph) -> rdflib.Graph:
    # The ontology is merged in here rather than passed as ont_graph (pySHACL then clones
    # every graph, eight times slower): sh:targetClass and sh:class follow its rdfs:subClassOf.
    merged = _ParsedOnce()
    for graph in (data, ontology):
        for triple in graph:
            merged.add(triple)
    return merged


def _run(data: rdflib.Graph, shapes: rdflib.Graph) -> rdflib.Graph:
    # inference="none" and do_owl_imports=False: nothing is fetched, nothing is guessed.
    _, report, _ = shacl_validate(
        data,
        shacl_graph=shapes,
        inference="none",
        advanced=False,  # no SHACL-AF rules here; advanced mode would also copy the graph first
        allow_warnings=True,
        allow_infos=True,
        do_owl_imports=False,
    )
    return report


class _Parameters(list[Any]):
    """pySHACL's list of constraint parameters, answering `in` from a set (it stays a list for pySHACL's copies)."""

    def __init__(self, parameters: Iterable[Any]) -> None:
        super().__init__(parameters)
        self._members = frozenset(self)

    def __contains__(self, item: object) -> bool:
        return item in self._members


# pySHACL looks each predicate of a shape up in its list of constraint parameters (`p in list`, ~40 equality
# tests of rdflib terms): on an entry's validation that was a sixth of the time (cProfile, 200 entries: 8.6 million
# comparisons). It keeps the list in a cache of its shape module, CONSTRAINT_PARAMS, filled on first use; filling it
# first with the same parameters, in the same order, changes nothing but the cost of `in`. (A pySHACL that no
# longer reads the cache simply ignores it.)
if getattr(pyshacl.shape, "CONSTRAINT_PARAMS", None) is None:
    pyshacl.shape.CONSTRAINT_PARAMS = (  # type: ignore[attr-defined]  # the cache pySHACL sets itself
        _Parameters(ALL_CONSTRAINT_PARAMETERS),
        CONSTRAINT_PARAMETERS_MAP,
    )


_TARGET_PREDICATES = (SH.targetClass, SH.targetNode, SH.targetSubjectsOf, SH.targetObjectsOf)


class _Targets:
    """The shapes' target declarations (SHACL §2.1.3): which shapes a node is a focus of."""

    def __init__(self, shapes: rdflib.Graph) -> None:
        if any(shapes.triples((None, RDF.type, RDFS.Class))):
            raise ValueError("implicit class targets (a shape that is also a class) are not supported here")
        self._by: dict[rdflib.URIRef, dict[rdflib.term.Node, set[rdflib.term.Node]]] = {
            predicate: defaultdict(set) for predicate in _TARGET_PREDICATES
        }
        for predicate in _TARGET_PREDICATES:
            for shape, value in shapes.subject_objects(predicate):
                self._by[predicate][value].add(shape)

    def shapes_of(self, graph: rdflib.Graph, node: rdflib.term.Node) -> set[rdflib.term.Node]:
        """The shapes whose targets include node in graph."""
        by_class, by_subject, by_object = (
            self._by[p] for p in (SH.targetClass, SH.targetSubjectsOf, SH.targetObjectsOf)
        )
        found = set(self._by[SH.targetNode].get(node, ()))
        classes = graph.objects(node, RDF.type)
        for cls in {c for t in classes for c in graph.transitive_objects(t, RDFS.subClassOf) if c is not None}:
            found |= by_class.get(cls, set())
        found |= {shape for p, shapes in by_subject.items() if (node, p, None) in graph for shape in shapes}
        found |= {shape for p, shapes in by_object.items() if (None, p, node) in graph for shape in shapes}
        return found


def _results(report: rdflib.Graph) -> tuple[Result, ...]:
    results = [_result(report, node) for node in report.subjects(RDF.type, SH.ValidationResult)]
    results.sort(key=_order)
    return tuple(results)


def _order(result: Result) -> tuple[int, str, str, str]:
    return SEVERITY_ORDER.get(result.severity, 9), result.focus, result.shape, result.path or ""


def _result(report: rdflib.Graph, node: rdflib.term.Node) -> Result:
    def one(predicate: rdflib.URIRef) -> rdflib.term.Node | None:
        return report.value(node, predicate)

    severity = one(SH.resultSeverity)
    path = one(SH.resultPath)
    value = one(SH.value)
    messages = sorted(str(m) for m in report.objects(node, SH.resultMessage))
    return Result(
        focus=_text(one(SH.focusNode)) or "",
        path=_path_text(report, path),
        value=_text(value),
        message=messages[0] if messages else "",
        severity=str(severity).rsplit("#", 1)[-1] if severity else "Violation",
        shape=_text(one(SH.sourceShape)) or "",
        component=str(one(SH.sourceConstraintComponent) or ""),
    )


def _text(term: rdflib.term.Node | None) -> str | None:
    if term is None:
        return None
    if isinstance(term, rdflib.Literal):
        return term.n3()
    return str(term)


def _path_text(report: rdflib.Graph, path: rdflib.term.Node | None) -> str | None:
    """Name a result path: an IRI as is, an inverse path as ^IRI, other complex paths as SHACL terms."""
    if path is None:
        return None
    if isinstance(path, rdflib.URIRef):
        return str(path)
    inverse = report.value(path, SH.inversePath)
    if inverse is not None:
        return f"^{inverse}"
    return "(complex path)"


def _fill(message: str, row: dict[str, str]) -> str:
    """A constraint's message with its {?name} placeholders replaced by the solution's values."""
    return re.sub(r"\{[?$](\w+)\}", lambda m: row.get(m.group(1), ""), message)

"""Blank nodes replaced by IRIs (skolemisation, RDF 1.1 Concepts §3.5): the service publishes none.

A blank node cannot be named in a later query or dereferenced, and clients such as rdflib's SPARQLStore
refuse them. So every blank node that enters the store becomes an IRI under `<base>.well-known/genid/` (iris.py):
new data (a write, a loaded file) gets a fresh random name per blank node; the model's files get names
derived from their content (RDF canonicalisation of each graph), so that loading the same files again
gives the same IRIs, and a changed model replaces its graphs statement by statement.
"""

import hashlib
import uuid
from collections import defaultdict
from collections.abc import Iterable, MutableMapping
from typing import TypeVar

import pyoxigraph as ox
import rdflib
from rdflib.compare import to_canonical_graph

from policykg.rdf.input import to_oxigraph_term, to_rdflib_term
from policykg.rdf.terms import quad_of

Object = ox.NamedNode | ox.BlankNode | ox.Literal
T = TypeVar("T")


def fresh(
    quads: Iterable[ox.Quad], prefix: str, names: MutableMapping[str, ox.NamedNode] | None = None
) -> list[ox.Quad]:
    """The quads with each blank node replaced by a new random IRI (the same IRI for the same blank node).

    names, if given, carries the IRIs given so far: pass the same one for the batches of one file.
    """
    given: MutableMapping[str, ox.NamedNode] = {} if names is None else names

    def named(term: T) -> T | ox.NamedNode:
        if isinstance(term, ox.BlankNode):
            iri = given.get(term.value)
            if iri is None:
                iri = given[term.value] = ox.NamedNode(prefix + uuid.uuid4().hex)
            return iri
        return term

    return [
        ox.Quad(named(q.subject), q.predicate, named(q.object), named(q.graph_name)) if _blank(q) else q for q in quads
    ]


def _blank(quad: ox.Quad) -> bool:
    return (
        isinstance(quad.subject, ox.BlankNode)
        or isinstance(quad.object, ox.BlankNode)
        or isinstance(quad.graph_name, ox.BlankNode)
    )


def canonical(quads: list[ox.Quad], prefix: str) -> list[ox.Quad]:
    """The quads with each blank node replaced by an IRI derived from its graph's content and name.

    The same statements give the same IRIs, whatever the blank nodes were called in the files; quads
    without blank nodes are passed through as they are.
    """
    blank: dict[ox.NamedNode | ox.BlankNode | ox.DefaultGraph, list[ox.Quad]] = defaultdict(list)
    result: list[ox.Quad] = []
    for quad in quads:
        if _blank(quad):
            blank[quad.graph_name].append(quad)
        else:
            result.append(quad)
    for graph, found in blank.items():
        result += _canonical_graph(found, graph, prefix)
    return result


def _canonical_graph(
    quads: list[ox.Quad], graph: ox.NamedNode | ox.BlankNode | ox.DefaultGraph, prefix: str
) -> list[ox.Quad]:
    """The statements of one graph that have blank nodes, those named by their canonical labels."""
    seed = str(graph).encode("utf-8")

    def named(term: Object) -> Object:
        if isinstance(term, ox.BlankNode):  # a canonical label, made unique to the graph it sits in
            return ox.NamedNode(prefix + hashlib.sha256(seed + b"\n" + term.value.encode()).hexdigest()[:32])
        return term

    statements = rdflib.Graph()
    for quad in quads:
        statements.add(
            (
                to_rdflib_term(quad.subject, exact=True),
                to_rdflib_term(quad.predicate),
                to_rdflib_term(quad.object, exact=True),
            )
        )
    place = named(graph) if isinstance(graph, ox.BlankNode) else graph
    return [
        quad_of(named(to_oxigraph_term(s)), to_oxigraph_term(p), named(to_oxigraph_term(o)), place)
        for s, p, o in to_canonical_graph(statements)
    ]

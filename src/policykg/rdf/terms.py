"""pyoxigraph's terms by the place they take, and quads built from terms a query or a parser gave."""

import pyoxigraph as ox

Term = ox.NamedNode | ox.BlankNode | ox.Literal
Node = Term | ox.Triple | ox.DefaultGraph  # anything a quad holds (a triple term: RDF 1.2, as an object)


def quad_of(subject: Node | None, predicate: Node | None, obj: Node | None, graph: Node | None = None) -> ox.Quad:
    """The quad of the terms given (graph None: the default graph); TypeError, as pyoxigraph's, for one out of place."""
    if (
        isinstance(subject, ox.NamedNode | ox.BlankNode | ox.Triple)
        and isinstance(predicate, ox.NamedNode)
        and isinstance(obj, ox.NamedNode | ox.BlankNode | ox.Literal | ox.Triple)
        and (graph is None or isinstance(graph, ox.NamedNode | ox.BlankNode | ox.DefaultGraph))
    ):
        return ox.Quad(subject, predicate, obj, graph)
    raise TypeError(f"not a quad: {subject!r} {predicate!r} {obj!r} {graph!r}")


def value_of(term: Node) -> str:
    """An IRI's text, a blank node's label or a literal's lexical form; TypeError for what has none."""
    if isinstance(term, ox.Triple | ox.DefaultGraph):
        raise TypeError(f"{term!r} has no value")
    return term.value

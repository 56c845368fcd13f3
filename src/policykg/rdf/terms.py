"""pyoxigraph's terms by the place they take, and quads built from terms a query or a parser gave."""

import datetime as dt
import re

import pyoxigraph as ox

from policykg.rdf.namespaces import PREFIXES

Term = ox.NamedNode | ox.BlankNode | ox.Literal
Node = Term | ox.Triple | ox.DefaultGraph  # anything a quad holds (a triple term: RDF 1.2, as an object)
XSD = PREFIXES["xsd"]
# Lexical forms of the XSD types the model uses (XML Schema 1.1 Part 2), checked before anything else.
_LEXICAL = {
    XSD + "integer": re.compile(r"[+-]?\d+"),
    XSD + "decimal": re.compile(r"[+-]?(\d+(\.\d*)?|\.\d+)"),
    XSD + "boolean": re.compile(r"true|false|1|0"),
    XSD + "gYear": re.compile(r"-?\d{4,}(Z|[+-]\d{2}:\d{2})?"),
    XSD + "gMonthDay": re.compile(r"--(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])(Z|[+-]\d{2}:\d{2})?"),
}


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


def well_typed(literal: ox.Literal) -> bool:
    """Whether a literal's text is a valid value of its XSD datatype (types the model does not use pass)."""
    datatype = literal.datatype.value
    try:
        if datatype == XSD + "date":
            dt.date.fromisoformat(literal.value[:10])
            return bool(re.fullmatch(r"-?\d{4}-\d{2}-\d{2}(Z|[+-]\d{2}:\d{2})?", literal.value))
        if datatype == XSD + "dateTime":
            dt.datetime.fromisoformat(literal.value.replace("Z", "+00:00"))
            return "T" in literal.value
    except ValueError:
        return False
    pattern = _LEXICAL.get(datatype)
    return pattern is None or bool(pattern.fullmatch(literal.value))

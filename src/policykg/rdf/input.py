"""Reading RDF files: the syntax from the file name, parsing with error positions, no network."""

from collections.abc import Iterable, Iterator
from pathlib import Path
from urllib.parse import urljoin

import pyoxigraph as ox
import rdflib
from rdflib.term import Node

from policykg.errors import InputNotFoundError, RdfInputRefused, RdfSyntaxError, UnknownFormatError
from policykg.rdf.jsonld import context_url, inline_own_context
from policykg.rdf.namespaces import PREFIXES
from policykg.rdf.screening import screen
from policykg.rdf.terms import Node as OxNode

_XSD_STRING = PREFIXES["xsd"] + "string"

# File endings and --format names, one table: name -> (pyoxigraph format, endings).
FORMATS: dict[str, tuple[ox.RdfFormat, tuple[str, ...]]] = {
    "turtle": (ox.RdfFormat.TURTLE, (".ttl",)),
    "trig": (ox.RdfFormat.TRIG, (".trig",)),
    "ntriples": (ox.RdfFormat.N_TRIPLES, (".nt",)),
    "nquads": (ox.RdfFormat.N_QUADS, (".nq",)),
    "jsonld": (ox.RdfFormat.JSON_LD, (".jsonld", ".json")),
    "rdfxml": (ox.RdfFormat.RDF_XML, (".rdf", ".owl", ".xml")),
}
_REMOTE_CONTEXT = "LoadDocumentCallback"  # oxigraph's words when a JSON-LD document names a remote context


def format_of(path: Path, name: str | None = None) -> ox.RdfFormat:
    """Return the RDF syntax of a file: the named one, else the one its ending says."""
    if name is not None:
        if name not in FORMATS:
            raise UnknownFormatError(str(path), sorted(FORMATS))
        return FORMATS[name][0]
    suffixes = [s.lower() for s in path.suffixes]
    ending = suffixes[-2] if len(suffixes) > 1 and suffixes[-1] == ".gz" else (suffixes[-1] if suffixes else "")
    for rdf_format, endings in FORMATS.values():
        if ending in endings:
            return rdf_format
    raise UnknownFormatError(str(path), sorted(FORMATS))


def expand_paths(paths: Iterable[Path]) -> list[Path]:
    """Return the RDF files named, with folders replaced by the RDF files they hold, sorted."""
    endings = {ending for _, names in FORMATS.values() for ending in names}
    files: list[Path] = []
    for path in paths:
        if path.is_dir():
            files.extend(sorted(p for p in path.rglob("*") if p.is_file() and p.suffix.lower() in endings))
        elif path.is_file():
            files.append(path)
        else:
            raise InputNotFoundError(path, "no such file or folder")
    return files


def read_quads(path: Path, base_iri: str, format_name: str | None = None) -> list[ox.Quad]:
    """Parse one file into quads, resolving relative IRIs against base_iri; nothing is fetched."""
    rdf_format = format_of(path, format_name)
    try:
        # JSON-LD remote contexts and XML external entities are refused by the parser itself:
        # no document loader is set, so nothing leaves the machine.
        return list(ox.parse(path=path, format=rdf_format, base_iri=base_iri))
    except SyntaxError as error:
        line, column = error.lineno, error.offset
        raise RdfSyntaxError(str(path), _first_line(str(error)), line, column) from None
    except (OSError, ValueError) as error:
        raise RdfSyntaxError(str(path), str(error)) from None


def read_files(paths: Iterable[Path], base_iri: str, format_name: str | None = None) -> list[ox.Quad]:
    """Parse every file (folders expanded) into one list of quads."""
    quads: list[ox.Quad] = []
    for path in expand_paths(paths):
        quads.extend(read_quads(path, base_iri, format_name))
    return quads


def to_rdflib_term(term: OxNode, exact: bool = False) -> Node:
    """Convert one pyoxigraph term to the equal rdflib term; exact keeps a literal's lexical form as it is.

    A triple term and the default graph have none: TypeError.
    """
    if isinstance(term, ox.NamedNode):
        return rdflib.URIRef(term.value)
    if isinstance(term, ox.BlankNode):
        return rdflib.BNode(term.value)
    if isinstance(term, ox.Literal):
        if term.language:
            return rdflib.Literal(term.value, lang=term.language)
        if term.datatype.value == _XSD_STRING:
            return rdflib.Literal(term.value)
        return rdflib.Literal(term.value, datatype=rdflib.URIRef(term.datatype.value), normalize=not exact)
    raise TypeError(f"cannot convert {term!r}")


def to_rdflib_graph(quads: Iterable[ox.Quad]) -> rdflib.Graph:
    """Merge the quads of every graph into one rdflib graph (the union the shapes apply to)."""
    graph = rdflib.Graph()
    for subject, predicate, obj in _triples(quads):
        graph.add((subject, predicate, obj))
    return graph


def _triples(quads: Iterable[ox.Quad]) -> Iterator[tuple[Node, Node, Node]]:
    for quad in quads:
        yield to_rdflib_term(quad.subject), to_rdflib_term(quad.predicate), to_rdflib_term(quad.object)


def _first_line(message: str) -> str:
    return message.splitlines()[0] if message else "syntax error"


def parse_term(text: str, base_iri: str) -> ox.NamedNode | ox.Literal:
    """Read a term written as <IRI> (relative to base_iri) or as a "literal"."""
    text = text.strip()
    if text.startswith("<") and text.endswith(">"):
        return ox.NamedNode(urljoin(base_iri, text[1:-1]))
    if len(text) >= 2 and text.startswith('"') and text.endswith('"'):
        return ox.Literal(text[1:-1])
    raise RdfSyntaxError("binding", f'write a value as <IRI> or as "literal", not {text!r}')


def parse_bytes(
    data: bytes, format_name: str, base_iri: str, source: str = "request body", service_base: str | None = None
) -> list[ox.Quad]:
    """Parse RDF sent over the network (never fetching anything); errors carry line and column.

    service_base: the service's base IRI; JSON-LD that names the service's own context gets it locally.
    What would make the parser fetch, overflow its stack or expand the input manifold is refused first.
    """
    screen(data, format_name, source)
    if format_name == "jsonld" and service_base is not None:
        data = inline_own_context(data, service_base)
    try:
        return list(ox.parse(data, format=FORMATS[format_name][0], base_iri=base_iri))
    except SyntaxError as error:
        if _REMOTE_CONTEXT in str(error):
            raise RdfInputRefused(
                "the JSON-LD names a remote @context, which this service never fetches: put the "
                "context in the document" + (f", or name {context_url(service_base)}" if service_base else "")
            ) from None
        line, column = error.lineno, error.offset
        raise RdfSyntaxError(source, _first_line(str(error)), line, column) from None
    except (OSError, ValueError) as error:
        raise RdfSyntaxError(source, str(error)) from None


def to_oxigraph_term(term: Node) -> ox.NamedNode | ox.BlankNode | ox.Literal:
    """Convert one rdflib term to the equal pyoxigraph term."""
    if isinstance(term, rdflib.URIRef):
        return ox.NamedNode(str(term))
    if isinstance(term, rdflib.BNode):
        return ox.BlankNode(str(term))
    if isinstance(term, rdflib.Literal):
        if term.language:
            return ox.Literal(str(term), language=term.language)
        if term.datatype is not None:
            return ox.Literal(str(term), datatype=ox.NamedNode(str(term.datatype)))
        return ox.Literal(str(term))
    raise TypeError(f"cannot convert {term!r}")

"""The SPARQL 1.1 Protocol, framework-free: read a request, pick the answer's syntax, describe the service."""

from dataclasses import dataclass, field
from urllib.parse import parse_qsl, urlsplit

import pyoxigraph as ox
import rdflib
from rdflib.namespace import RDF, XSD

from policykg.errors import NotAcceptable, ProtocolError, UnsupportedMediaType
from policykg.rdf.mediatypes import GRAPH_TYPES, RESULT_TYPES, base_type, from_format_parameter, negotiate
from policykg.sparql.dataset import Dataset

SD = rdflib.Namespace("http://www.w3.org/ns/sparql-service-description#")
FORMATS = rdflib.Namespace("http://www.w3.org/ns/formats/")
VOID = rdflib.Namespace("http://rdfs.org/ns/void#")
FORM = "application/x-www-form-urlencoded"
QUERY_BODY = "application/sparql-query"
UPDATE_BODY = "application/sparql-update"

# W3C format IRIs (http://www.w3.org/ns/formats/) of the syntaxes the endpoint writes.
_FORMAT_IRIS = {
    "application/sparql-results+json": FORMATS.SPARQL_Results_JSON,
    "application/sparql-results+xml": FORMATS.SPARQL_Results_XML,
    "text/csv": FORMATS.SPARQL_Results_CSV,
    "text/tab-separated-values": FORMATS.SPARQL_Results_TSV,
    "text/turtle": FORMATS.Turtle,
    "application/n-triples": FORMATS["N-Triples"],
    "application/ld+json": FORMATS["JSON-LD"],
    "application/rdf+xml": FORMATS.RDF_XML,
    "application/n-quads": FORMATS["N-Quads"],
    "application/trig": FORMATS.TriG,
}


@dataclass(frozen=True)
class ProtocolRequest:
    """A query or an update as the protocol delivered it, with the dataset it names."""

    query: str | None = None
    update: str | None = None
    dataset: Dataset = field(default_factory=Dataset)
    using_graphs: tuple[str, ...] = ()
    using_named_graphs: tuple[str, ...] = ()
    format: str | None = None


def parse_request(method: str, content_type: str | None, url_query: str, body: bytes) -> ProtocolRequest:
    """Read a protocol request (§2.1 query, §2.2 update operations) from its parts."""
    params = _pairs(url_query)
    media = base_type(content_type)
    if method in ("GET", "HEAD"):
        if _values(params, "update"):
            raise ProtocolError("an update must be sent with POST")
        return _build(params, query=_single(params, "query"), update=None)
    if media == FORM:
        params += _pairs(_text(body))
        return _build(params, query=_single(params, "query"), update=_single(params, "update"))
    if media == QUERY_BODY:
        return _build(params, query=_text(body), update=None)
    if media == UPDATE_BODY:
        return _build(params, query=None, update=_text(body))
    raise UnsupportedMediaType(
        f"a POST to the SPARQL endpoint takes {FORM}, {QUERY_BODY} or {UPDATE_BODY}, not {media or 'no Content-Type'}"
    )


def answer_type(form: str | None, accept: str | None, format_parameter: str | None) -> str:
    """Choose the media type of a query's answer: the `format` parameter if it can carry it, else Accept.

    A format the form cannot take (turtle for a SELECT, csv for a CONSTRUCT) or that names no syntax the
    endpoint writes (n3) is ignored, as Oxigraph ignores them all: SPARQLWrapper sends one whatever the form
    and relies on Accept. 406 only when Accept offers nothing either."""
    table = GRAPH_TYPES if form in ("CONSTRUCT", "DESCRIBE") else RESULT_TYPES
    chosen = from_format_parameter(format_parameter, table) if format_parameter else None
    if chosen is None:
        chosen = negotiate(accept, list(table))
    if chosen is None:
        ignored = f"format={format_parameter!r} cannot carry this answer and " if format_parameter else ""
        raise NotAcceptable(
            f"{ignored}none of the accepted types ({accept}) can carry this answer; available: " + ", ".join(table)
        )
    return chosen


def service_description(
    endpoint: str, graph_names: list[str], union_default_graph: bool, triples: int | None = None
) -> rdflib.Graph:
    """Describe the endpoint (SPARQL 1.1 Service Description): languages, formats, dataset."""
    graph = rdflib.Graph()
    graph.bind("sd", SD)
    graph.bind("void", VOID)
    service = rdflib.URIRef(endpoint + "#service")
    graph.add((service, RDF.type, SD.Service))
    graph.add((service, SD.endpoint, rdflib.URIRef(endpoint)))
    for language in (SD.SPARQL11Query, SD.SPARQL11Update):
        graph.add((service, SD.supportedLanguage, language))
    for iri in _FORMAT_IRIS.values():
        graph.add((service, SD.resultFormat, iri))
    if union_default_graph:
        graph.add((service, SD.feature, SD.UnionDefaultGraph))
    dataset = rdflib.URIRef(endpoint + "#dataset")
    default = rdflib.URIRef(endpoint + "#default-graph")
    graph.add((service, SD.defaultDataset, dataset))
    graph.add((dataset, RDF.type, SD.Dataset))
    graph.add((dataset, SD.defaultGraph, default))
    graph.add((default, RDF.type, SD.Graph))
    if triples is not None:
        graph.add((default, VOID.triples, rdflib.Literal(triples, datatype=XSD.integer)))
    for name in graph_names:
        node = rdflib.BNode()
        graph.add((dataset, SD.namedGraph, node))
        graph.add((node, RDF.type, SD.NamedGraph))
        graph.add((node, SD.name, rdflib.URIRef(name)))
    return graph


def _build(params: list[tuple[str, str]], query: str | None, update: str | None) -> ProtocolRequest:
    if query is not None and update is not None:
        raise ProtocolError("a request carries a query or an update, not both")
    if query is None and update is None:
        raise ProtocolError("the request has neither a query nor an update parameter")
    if update is not None and (_values(params, "default-graph-uri") or _values(params, "named-graph-uri")):
        raise ProtocolError("default-graph-uri and named-graph-uri go with queries; updates use using-graph-uri")
    if query is not None and (_values(params, "using-graph-uri") or _values(params, "using-named-graph-uri")):
        raise ProtocolError("using-graph-uri and using-named-graph-uri go with updates; queries use default-graph-uri")
    return ProtocolRequest(
        query=query,
        update=update,
        dataset=Dataset(_iris(params, "default-graph-uri"), _iris(params, "named-graph-uri")),
        using_graphs=_iris(params, "using-graph-uri"),
        using_named_graphs=_iris(params, "using-named-graph-uri"),
        format=_format(params),
    )


def _pairs(text: str) -> list[tuple[str, str]]:
    try:
        return parse_qsl(text, keep_blank_values=True, strict_parsing=False, errors="strict")
    except (UnicodeDecodeError, ValueError):
        raise ProtocolError("the parameters are not valid UTF-8 percent-encoding") from None


def _text(body: bytes) -> str:
    try:
        return body.decode("utf-8")
    except UnicodeDecodeError as error:
        raise ProtocolError(f"the request body is not UTF-8 (byte {error.start})") from None


def _values(params: list[tuple[str, str]], name: str) -> list[str]:
    return [value for key, value in params if key == name]


def _single(params: list[tuple[str, str]], name: str) -> str | None:
    values = _values(params, name)
    if len(values) > 1:
        raise ProtocolError(f"the parameter {name} may be given once, not {len(values)} times")
    return values[0] if values else None


def _format(params: list[tuple[str, str]]) -> str | None:
    """The `format` parameter's one choice: its values (blank ones left out) when all name the same media type,
    else None, and Accept decides. SPARQLWrapper repeats it, with a name and a media type (tsv,
    text/tab-separated-values); its `output` and `results` copies are not read, as they never were."""
    values = [value.strip() for value in _values(params, "format") if value.strip()]
    named = {
        from_format_parameter(value, RESULT_TYPES) or from_format_parameter(value, GRAPH_TYPES) or value.lower()
        for value in values
    }
    return values[0] if len(named) == 1 else None


def check_iri(iri: str, name: str) -> str:
    """Return the value if it is an absolute IRI a store accepts; else a protocol error naming it."""
    try:
        absolute = bool(urlsplit(iri).scheme)
        ox.NamedNode(iri)
    except ValueError:
        absolute = False
    if not absolute or any(c in iri for c in ' <>"{}|^`\\') or any(ord(c) < 0x21 for c in iri):
        raise ProtocolError(f"{name}={iri!r} is not an absolute IRI")
    return iri


def _iris(params: list[tuple[str, str]], name: str) -> tuple[str, ...]:
    return tuple(check_iri(iri, name) for iri in _values(params, name))

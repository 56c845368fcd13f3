"""SPARQLWrapper 2.0, unchanged, against the running service: every return format, query form and method.

What SPARQLWrapper sends (Wrapper.py, _getRequestEncodedParameters and _getAcceptHeader): its return format
as `format`, `output` and `results`, each repeated with the media type for tsv, json-ld and rdf+xml
(format=rdf+xml&format=application/rdf+xml …) or with a blank value when it knows none for the form
(format=tsv&format= for a CONSTRUCT); in the URL for GET and for a direct POST, in the body for a form POST.
Its Accept header names the syntax when the format fits the form and is */* when it does not (turtle, n3,
rdf+xml or json-ld for SELECT and ASK; json, csv or tsv for CONSTRUCT and DESCRIBE), with a RuntimeWarning.

The service reads `format` only: values naming one media type are one choice, and a choice the form cannot
take falls back to Accept, as Oxigraph, which reads no `format` at all, always does. So a format that fits
comes back in that syntax (n3 as Turtle, which N3 includes; xml for a graph as RDF/XML, which is what
SPARQLWrapper's Accept asks for), and one that does not comes back as */* gets it: SPARQL results JSON for
SELECT and ASK, Turtle for a graph, each with SPARQLWrapper's warning that it is not what was requested.
Fuseki, which takes the first of output, format, results, answers 400 to several of these.
"""

import csv
import io
import re
from xml.dom.minidom import Document, Element

import pytest
import rdflib
from rdflib.namespace import DCTERMS, RDFS, XSD
from rdflib.query import Result
from SPARQLWrapper import (
    CSV,
    GET,
    JSON,
    JSONLD,
    N3,
    POST,
    POSTDIRECTLY,
    RDFXML,
    TSV,
    TURTLE,
    URLENCODED,
    XML,
    SPARQLWrapper,
)
from SPARQLWrapper.Wrapper import QueryResult

B = "http://localhost:8000/"
PKG = rdflib.Namespace("https://w3id.org/policykg/ontology#")
CONFERENCE = rdflib.URIRef(B + "id/event/innovation-and-integrity-conference")
REC = [rdflib.URIRef(f"{B}id/recommendation/innovation-and-integrity-{n}") for n in (1, 2, 3)]
TITLES = [
    "A political vision for museums and cultural heritage in an AI-driven society",
    "Financial investments to apply AI successfully in the Public Cultural Domain",
    "Establishment of a European AI innovation hub for cultural heritage",
]
PREFIXES = f"PREFIX pkg: <{PKG}>\nPREFIX dcterms: <{DCTERMS}>\n"
QUERIES = {
    "SELECT": PREFIXES
    + f"SELECT ?recommendation ?ordinal ?title WHERE {{ ?recommendation pkg:issuedAt <{CONFERENCE}> ;"
    " pkg:ordinal ?ordinal ; dcterms:title ?title } ORDER BY ?ordinal",
    "ASK": PREFIXES + f'ASK {{ <{REC[2]}> pkg:issuedAt <{CONFERENCE}> ; dcterms:title "{TITLES[2]}"@en }}',
    "CONSTRUCT": PREFIXES + "CONSTRUCT { ?recommendation dcterms:title ?title ; pkg:ordinal ?ordinal } WHERE {"
    f" ?recommendation pkg:issuedAt <{CONFERENCE}> ; pkg:ordinal ?ordinal ; dcterms:title ?title }}",
    "DESCRIBE": f"DESCRIBE <{REC[2]}>",
}
VARIABLES = ["recommendation", "ordinal", "title"]
ROWS = [(REC[n], rdflib.Literal(n + 1), rdflib.Literal(TITLES[n], lang="en")) for n in range(3)]
CONSTRUCTED = {
    (REC[n], p, o)
    for n in range(3)
    for p, o in ((DCTERMS.title, rdflib.Literal(TITLES[n], lang="en")), (PKG.ordinal, rdflib.Literal(n + 1)))
}
DESCRIBED = {  # what the seed data says of the third recommendation, for the properties checked
    DCTERMS.title: {rdflib.Literal(TITLES[2], lang="en")},
    RDFS.label: {rdflib.Literal(TITLES[2], lang="en")},
    PKG.ordinal: {rdflib.Literal("3", datatype=XSD.integer)},
    PKG.issuedAt: {CONFERENCE},
    PKG.addressedTo: {rdflib.URIRef(B + "id/audience/policymakers")},
}
METHODS = {"GET": (GET, URLENCODED), "POST-urlencoded": (POST, URLENCODED), "POST-directly": (POST, POSTDIRECTLY)}

SRJ = "application/sparql-results+json"
SRX = "application/sparql-results+xml"
# The syntax of the answer for each return format whose Accept header names one the form takes.
FITTING = {
    ("SELECT", JSON): SRJ,
    ("SELECT", XML): SRX,
    ("SELECT", CSV): "text/csv",
    ("SELECT", TSV): "text/tab-separated-values",
    ("CONSTRUCT", TURTLE): "text/turtle",
    ("CONSTRUCT", N3): "text/turtle",
    ("CONSTRUCT", XML): "application/rdf+xml",
    ("CONSTRUCT", RDFXML): "application/rdf+xml",
    ("CONSTRUCT", JSONLD): "application/ld+json",
}
# And for the return formats the form cannot take: SPARQLWrapper sends Accept: */*, the service's first choice.
MISFITS = {("SELECT", f): SRJ for f in (TURTLE, N3, RDFXML, JSONLD)} | {
    ("CONSTRUCT", f): "text/turtle" for f in (JSON, CSV, TSV)
}
KIND = {"SELECT": "SELECT", "ASK": "SELECT", "CONSTRUCT": "CONSTRUCT", "DESCRIBE": "CONSTRUCT"}
# What SPARQLWrapper's convert() calls the syntax it got, in its warning.
WARNED_AS = {SRJ: "JSON", "text/turtle": "N3"}


def cases(table: dict[tuple[str, str], str]) -> list[tuple[str, str, str]]:
    """(return format, form, media type of the answer) for every form of each kind in the table."""
    return [
        (return_format, form, media_type)
        for (kind, return_format), media_type in table.items()
        for form in KIND
        if KIND[form] == kind
    ]


def query(service, return_format: str, form: str, method: str) -> QueryResult:
    """Send the form's query with SPARQLWrapper as a user would: return format, HTTP method, request method."""
    client = SPARQLWrapper(service.sparql, returnFormat=return_format)
    client.setQuery(QUERIES[form])
    client.setMethod(METHODS[method][0])
    client.setRequestMethod(METHODS[method][1])
    client.setTimeout(30)
    return client.query()


def term(binding: dict[str, str]) -> rdflib.term.Identifier:
    """The RDF term of a binding of SPARQL results JSON."""
    if binding["type"] == "uri":
        return rdflib.URIRef(binding["value"])
    return rdflib.Literal(binding["value"], lang=binding.get("xml:lang"), datatype=binding.get("datatype"))


def xml_term(binding: Element) -> rdflib.term.Identifier:
    """The RDF term of a <binding> of SPARQL results XML, as SPARQLWrapper's DOM gives it."""
    node = next(child for child in binding.childNodes if isinstance(child, Element))
    text = node.firstChild.data if node.firstChild else ""
    if node.tagName == "uri":
        return rdflib.URIRef(text)
    return rdflib.Literal(
        text, lang=node.getAttribute("xml:lang") or None, datatype=node.getAttribute("datatype") or None
    )


def results_of(converted: object, media_type: str) -> tuple[list[str], list[tuple]] | bool:
    """The variables and rows (or the boolean) of a SELECT or ASK answer, read from what convert() gave."""
    if media_type == SRJ:
        assert isinstance(converted, dict)
        if "boolean" in converted:
            return converted["boolean"]
        variables = converted["head"]["vars"]
        return variables, [tuple(term(row[v]) for v in variables) for row in converted["results"]["bindings"]]
    if media_type == SRX:
        assert isinstance(converted, Document)
        booleans = converted.getElementsByTagName("boolean")
        if booleans:
            return {"true": True, "false": False}[booleans[0].firstChild.data]
        variables = [v.getAttribute("name") for v in converted.getElementsByTagName("variable")]
        rows = []
        for result in converted.getElementsByTagName("result"):
            bound = {b.getAttribute("name"): xml_term(b) for b in result.getElementsByTagName("binding")}
            rows.append(tuple(bound[v] for v in variables))
        return variables, rows
    assert isinstance(converted, bytes)
    if converted in (b"true", b"false"):  # CSV and TSV have no boolean form; Oxigraph writes the word
        return converted == b"true"
    if media_type == "text/csv":
        header, *rows = csv.reader(io.StringIO(converted.decode("utf-8")))
        return header, [tuple(row) for row in rows]
    parsed = Result.parse(io.BytesIO(converted), format="tsv")
    return [str(v) for v in parsed.vars], [tuple(row) for row in parsed]


def graph_of(converted: object, media_type: str) -> rdflib.Graph:
    """The triples of a CONSTRUCT or DESCRIBE answer, read from what convert() gave."""
    if isinstance(converted, rdflib.Graph):  # RDF/XML and JSON-LD: SPARQLWrapper parses them with rdflib
        graph = rdflib.Graph()
        for triple in converted.triples((None, None, None)):
            graph.add(triple)
        return graph
    assert isinstance(converted, bytes) and media_type == "text/turtle"
    return rdflib.Graph().parse(data=converted, format="turtle")


def check_answer(result: QueryResult, form: str, media_type: str) -> None:
    """The answer is in the media type and, parsed, says exactly what the seed data says."""
    assert result.info()["content-type"].split(";")[0] == media_type
    converted = result.convert()
    if form == "SELECT":
        expected_rows = [tuple(map(str, row)) for row in ROWS] if media_type == "text/csv" else ROWS
        assert results_of(converted, media_type) == (VARIABLES, expected_rows)
    elif form == "ASK":
        assert results_of(converted, media_type) is True
    elif form == "CONSTRUCT":
        assert set(graph_of(converted, media_type)) == CONSTRUCTED
    else:
        graph = graph_of(converted, media_type)
        assert set(graph.subjects()) == {REC[2]}
        assert {p: set(graph.objects(REC[2], p)) for p in DESCRIBED} == DESCRIBED


@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize(("return_format", "form", "media_type"), cases(FITTING))
def test_sparqlwrapper_gets_the_answer_in_the_syntax_it_asks_for(service, return_format, form, method, media_type):
    check_answer(query(service, return_format, form, method), form, media_type)


@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize(("return_format", "form", "media_type"), cases(MISFITS))
def test_a_return_format_the_form_cannot_take_gets_the_answer_accept_allows(
    service, return_format, form, method, media_type
):
    sent = (
        f"Sending Accept header '*/*' because unexpected returned format '{return_format}' in a '{form}' "
        "SPARQL query form"
    )
    with pytest.warns(RuntimeWarning, match=f"^{re.escape(sent)}$"):
        result = query(service, return_format, form, method)
    got = (
        f"Format requested was {return_format.upper()}, but {WARNED_AS[media_type]} ({media_type}; charset=utf-8) "
        "has been returned by the endpoint"
    )
    with pytest.warns(RuntimeWarning, match=f"^{re.escape(got)}$"):
        check_answer(result, form, media_type)

"""The protocol's parameters read without a server: the `format` rule and the answer's media type."""

from urllib.parse import urlencode

import pytest

from policykg.errors import NotAcceptable, ProtocolError
from policykg.sparql.protocol import FORM, QUERY_BODY, answer_type, parse_request

ASK = "ASK {}"
SRJ = "application/sparql-results+json"
TSV = "text/tab-separated-values"
RDFXML = "application/rdf+xml"
# What SPARQLWrapper 2.0 sends besides the query, for return format RDFXML and a CONSTRUCT or DESCRIBE.
SPARQLWRAPPER_RDFXML = (
    "format=rdf%2Bxml&format=application/rdf%2Bxml&output=rdf%2Bxml&output=application/rdf%2Bxml"
    "&results=rdf%2Bxml&results=application/rdf%2Bxml"
)


def parsed_format(parameters: str, method: str = "GET") -> str | None:
    """The `format` a request carrying these parameters (besides an ASK query) ends with, sent by the method."""
    query = urlencode({"query": ASK})
    if method == "GET":
        request = parse_request("GET", None, f"{query}&{parameters}", b"")
    elif method == "form":
        request = parse_request("POST", FORM, "", f"{query}&{parameters}".encode())
    else:
        request = parse_request("POST", QUERY_BODY, parameters, ASK.encode())
    return request.format


@pytest.mark.parametrize("method", ["GET", "form", "direct"])
@pytest.mark.parametrize(
    ("parameters", "expected"),
    [
        ("format=csv&format=csv", "csv"),
        ("format=tsv&format=text/tab-separated-values", "tsv"),
        ("format=application/rdf%2Bxml&format=rdfxml", "application/rdf+xml"),
        ("format=JSON&format=%20json", "JSON"),
        ("format=n3&format=n3", "n3"),
        ("format=tsv&format=", "tsv"),
    ],
)
def test_repeated_format_values_that_name_one_media_type_are_one_choice(method, parameters, expected):
    assert parsed_format(parameters, method) == expected


@pytest.mark.parametrize("method", ["GET", "form", "direct"])
@pytest.mark.parametrize(
    "parameters",
    [
        "format=json&format=csv",
        "format=rdf%2Bxml&format=application/rdf%2Bxml",
        "format=json-ld&format=application/ld%2Bjson",
        "format=xml&format=application/xml",
        "format=html&format=json",
        "format=&format=",
        "",
    ],
)
def test_format_values_that_disagree_or_say_nothing_leave_the_choice_to_accept(method, parameters):
    assert parsed_format(parameters, method) is None


def test_disagreeing_format_values_in_the_url_and_the_form_leave_the_choice_to_accept():
    request = parse_request("POST", FORM, "format=csv", urlencode({"query": ASK, "format": "json"}).encode())
    assert request.format is None


@pytest.mark.parametrize(
    ("parameters", "expected"),
    [
        ("format=json&output=csv&results=xml", "json"),
        ("output=csv&results=csv", None),
        (SPARQLWRAPPER_RDFXML, None),
        (
            (
                "format=tsv&format=text/tab-separated-values&output=tsv&output=text/tab-separated-values&results=tsv"
                "&results=text/tab-separated-values"
            ),
            "tsv",
        ),
    ],
)
def test_the_output_and_results_aliases_are_not_read(parameters, expected):
    assert parsed_format(parameters) == expected


def test_a_repeated_query_is_still_a_protocol_error():
    with pytest.raises(ProtocolError, match="the parameter query may be given once, not 2 times"):
        parse_request("GET", None, urlencode({"query": [ASK, ASK]}, doseq=True), b"")


@pytest.mark.parametrize(
    ("form", "accept", "format_parameter", "expected"),
    [
        ("SELECT", SRJ, "csv", "text/csv"),
        ("ASK", None, "tsv", TSV),
        ("SELECT", SRJ, "text/csv", "text/csv"),
        ("CONSTRUCT", "text/turtle", "rdfxml", RDFXML),
        ("DESCRIBE", None, "application/ld+json", "application/ld+json"),
    ],
)
def test_a_format_the_form_can_take_overrides_accept(form, accept, format_parameter, expected):
    assert answer_type(form, accept, format_parameter) == expected


@pytest.mark.parametrize(
    ("form", "accept", "format_parameter", "expected"),
    [
        ("SELECT", "*/*", "turtle", SRJ),
        ("ASK", "*/*", "rdf+xml", SRJ),
        ("SELECT", "*/*", "json-ld", SRJ),
        ("SELECT", "text/csv", "n3", "text/csv"),
        ("CONSTRUCT", "*/*", "csv", "text/turtle"),
        ("CONSTRUCT", "*/*", "json", "text/turtle"),
        ("CONSTRUCT", RDFXML, "xml", RDFXML),
        (
            "DESCRIBE",
            "application/turtle,text/turtle,text/rdf+n3,application/n-triples,application/n3,text/n3",
            "n3",
            "text/turtle",
        ),
        ("CONSTRUCT", None, "tsv", "text/turtle"),
        ("SELECT", "application/sparql-results+xml", None, "application/sparql-results+xml"),
    ],
)
def test_a_format_the_form_cannot_take_falls_back_to_accept(form, accept, format_parameter, expected):
    assert answer_type(form, accept, format_parameter) == expected


def test_an_unusable_format_and_an_unacceptable_accept_are_406_naming_both():
    with pytest.raises(
        NotAcceptable,
        match=r"format='turtle' cannot carry this answer and none of the accepted "
        r"types \(image/png\) can carry this answer; available: "
        r"application/sparql-results\+json",
    ):
        answer_type("SELECT", "image/png", "turtle")


def test_nothing_acceptable_without_a_format_is_406_listing_the_choices():
    with pytest.raises(
        NotAcceptable,
        match=r"^none of the accepted types \(text/csv\) can carry this answer; "
        r"available: text/turtle, ",
    ):
        answer_type("CONSTRUCT", "text/csv", None)

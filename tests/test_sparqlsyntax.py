"""The lexical checks made before a store sees a request: query form, and SERVICE/LOAD refused."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from policykg.errors import RemoteAccessRefused
from policykg.sparql.syntax import check_remote_access, check_request, query_form


@pytest.mark.parametrize(
    ("text", "form"),
    [
        ("PREFIX ex: <http://e/> BASE <http://b/> select * {}", "SELECT"),
        ("# SELECT in a comment\nINSERT DATA {}", None),
        ("PREFIX select: <x> CONSTRUCT WHERE {}", "CONSTRUCT"),
        ("ask{}", "ASK"),
    ],
)
def test_query_form_skips_the_prologue(text, form):
    assert query_form(text) == form
    assert check_request(text) == form


# Pieces of prologues, usual and odd: each a declaration the fast reading takes, or one it must leave to the tokens.
_PROLOGUE_PIECES = [
    "PREFIX pkg: <https://w3id.org/policykg/ontology#> ",
    "prefix : <http://e/>",
    "PREFIX a.b-c_d: <x>\n",
    "BASE <http://b/> ",
    "base<http://b/>",
    "PREFIX a=b: <x> ",
    "PREFIX p#: <x>\n",
    "PREFIX#comment\n q: <y> ",
    "# a comment\n",
    "PREFIX sélect: <x> ",
    "PREFIX \\u0073: <x> ",
    "PREFIX x: <a b> ",
    "PREFIX x:<y>",
    "PREFIXES x: <y> ",
    "PREFIX ask: <z> ",
    "\u00a0",
    " ",
]
_BODIES = ["SELECT * {}", "ask {}", "CONSTRUCT WHERE {}", "describe <x>", "INSERT DATA {}", ": <y> SELECT * {}", ""]


@given(st.lists(st.sampled_from(_PROLOGUE_PIECES), max_size=6), st.sampled_from(_BODIES))
def test_the_quick_prologue_reading_finds_the_form_the_token_reading_does(pieces, body):
    text = "".join(pieces) + body
    assert check_request(text) == query_form(text)  # query_form reads every token from the start


@pytest.mark.parametrize(
    "text",
    [
        "SELECT * { SERVICE <http://a/> {} }",
        "select * { service silent ?endpoint {} }",
        "SELECT * { \\u0053ERVICE <http://a/> {} }",
        "SELECT * { ?s ?p ?o.SERVICE <http://a/> {} }",
        'SELECT * { ?s ?p "x"@en.SERVICE <http://a/> {} }',
        "SELECT * { ?s ?p 1.SERVICE <http://a/> {} }",
        "SELECT * { ?s ?p true.SERVICE <http://a/> {} }",
        "LOAD <http://a/data.ttl>",
        "load silent <http://a/data.ttl> into graph <http://g/>",
    ],
)
def test_every_spelling_of_service_and_load_is_refused(text):
    with pytest.raises(RemoteAccessRefused):
        check_remote_access(text)


@pytest.mark.parametrize(
    "text",
    [
        "SELECT * { ?s ex:service ?o }",
        "SELECT * { ?service ?p 'SERVICE <http://a/>' } # SERVICE <http://a/>",
        "SELECT * { ?s <http://x/LOAD> ?o }",
        "SELECT * { ?s ?p ?o. ?o a ex:Thing }",
    ],
)
def test_the_words_in_names_strings_and_comments_are_not_refused(text):
    check_remote_access(text)


def test_an_allowed_endpoint_may_be_called():
    check_remote_access("SELECT * { SERVICE <http://a/sparql> { ?s ?p ?o } }", ("http://a/sparql",))
    with pytest.raises(RemoteAccessRefused):
        check_remote_access("SELECT * { SERVICE <http://b/sparql> { ?s ?p ?o } }", ("http://a/sparql",))

"""The lexical checks made before a store sees a request: query form, and SERVICE/LOAD refused."""

import pytest

from policykg.errors import RemoteAccessRefused
from policykg.sparql.syntax import check_remote_access, query_form


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

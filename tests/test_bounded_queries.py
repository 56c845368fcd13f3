"""Bounded queries (one triple pattern anchored on a constant) answered at once on the event loop: which queries
are, that their answers are the usual ones, and that one outgrowing its budget is answered the usual way."""

import asyncio
import json
from concurrent.futures import ThreadPoolExecutor

import pyoxigraph as ox
import pytest

from policykg.errors import ResultTooLarge
from policykg.sparql.bounded import is_bounded
from policykg.store import EmbeddedStore, Limits, atonce, embedded

EX = "http://example.org/"
GRAPH = EX + "g"
HUB_LINKS = 3000  # about 200 KiB of answer: past the budget's bytes


@pytest.mark.parametrize(
    "query",
    [
        "SELECT ?p ?o WHERE { <http://a> ?p ?o }",
        "PREFIX ex: <http://e/> SELECT * { ex:a ?p ?o . } LIMIT 10",
        "select ?s where { ?s a <http://C> }",
        'ASK { <http://a> <http://p> "x"@en }',
        'ASK { ?s <http://p> "5"^^<http://www.w3.org/2001/XMLSchema#int> }',
        "BASE <http://e/> SELECT ?o WHERE { <a> <p> ?o }",
        "CONSTRUCT { <http://a> ?p ?o } WHERE { <http://a> ?p ?o }",
        "CONSTRUCT WHERE { <http://a> ?p ?o }",
        "SELECT $o WHERE { <http://a> <http://p> $o } LIMIT 5",
        "# a comment in the prologue\nPREFIX ex: <http://e/>\nprefix : <http://f/> SELECT ?o WHERE { ex:a :p ?o }",
    ],
)
def test_one_pattern_anchored_on_a_constant_is_bounded(query):
    assert is_bounded(query) is True


@pytest.mark.parametrize(
    "query",
    [
        "SELECT ?s ?p ?o WHERE { ?s ?p ?o }",  # nothing constant: a scan of everything
        "SELECT ?p ?o WHERE { <http://a> ?p ?o FILTER(isIRI(?o)) }",  # a step may scan all the rows it refuses
        "SELECT DISTINCT ?p WHERE { <http://a> ?p ?o }",
        "SELECT ?p WHERE { <http://a> ?p ?o } ORDER BY ?p",
        "SELECT ?p WHERE { <http://a> ?p ?o } LIMIT 1 OFFSET 5",  # skipped rows are steps without output
        "SELECT ?p WHERE { <http://a> ?p ?o . ?o ?q ?r }",  # a join: the engine may scan the second pattern first
        "SELECT ?o ?r WHERE { <http://a> <http://p> ?o ; <http://q> ?r }",
        "SELECT ?o WHERE { <http://a> <http://p> ?o , ?r }",
        "SELECT ?p WHERE { <http://a> <http://p>/<http://q> ?o }",
        "SELECT ?o WHERE { <http://a> <http://p>* ?o }",
        "SELECT (COUNT(*) AS ?n) WHERE { <http://a> ?p ?o }",
        "SELECT ?p FROM <http://g> WHERE { <http://a> ?p ?o }",
        "SELECT ?p WHERE { GRAPH ?g { <http://a> ?p ?o } }",
        "SELECT ?p WHERE { _:b ?p ?o }",
        "SELECT ?p WHERE { [] ?p <http://a> }",
        "DESCRIBE <http://a>",
        "SELECT ?p WHERE { <http://a> ?p",
        "INSERT DATA { <http://a> <http://b> <http://c> }",
        "SELECT ?p WHERE { <http://a> ?p ?o } VALUES ?p { <http://x> }",
        "SELECT ?p WHERE { SERVICE <http://x> { <http://a> ?p ?o } }",
        'ASK { <http://a> <http://p> "x"^^ }',
    ],
)
def test_anything_more_is_not_bounded(query):
    assert is_bounded(query) is False


@pytest.fixture
def store():  # type: ignore[no-untyped-def]
    store = EmbeddedStore.in_memory()
    store.add(
        [
            ox.Quad(ox.NamedNode(EX + "a"), ox.NamedNode(EX + "p"), ox.Literal(str(i)), ox.NamedNode(GRAPH))
            for i in range(3)
        ]
        + [
            ox.Quad(ox.NamedNode(EX + "hub"), ox.NamedNode(EX + "link"), ox.NamedNode(f"{EX}thing/{i:05d}/{'x' * 40}"))
            for i in range(HUB_LINKS)
        ],
        GRAPH,
    )
    return store


def answer(store: EmbeddedStore, sparql: str, format_name: str, limits: Limits | None = None) -> bytes:
    async def read() -> bytes:
        with ThreadPoolExecutor(max_workers=2) as threads:
            found = await store.answer(sparql, format_name=format_name, executor=threads, limits=limits)
            return await found.read()

    return asyncio.run(read())


def usual(store: EmbeddedStore, sparql: str, format_name: str) -> bytes:
    """The same query's answer as the blocking path writes it (on this thread, no budget)."""
    pieces: list[bytes] = []
    store.query(sparql, sink=pieces.append, format_name=format_name)
    return b"".join(pieces)


def spy_on_small_answers(monkeypatch: pytest.MonkeyPatch) -> list[bytes | None]:
    """What each try at once gave: the answer, or None when it outgrew the budget."""
    seen: list[bytes | None] = []

    def recorded(*arguments: object) -> bytes | None:
        seen.append(atonce.answer_at_once(*arguments))  # type: ignore[arg-type]
        return seen[-1]

    monkeypatch.setattr(embedded, "answer_at_once", recorded)
    return seen


@pytest.mark.parametrize(
    ("sparql", "format_name"),
    [
        (f"SELECT ?p ?o WHERE {{ <{EX}a> ?p ?o }}", "json"),
        (f"SELECT ?p ?o WHERE {{ <{EX}a> ?p ?o }}", "csv"),
        (f"SELECT ?p ?o WHERE {{ <{EX}a> ?p ?o }}", "xml"),
        (f"CONSTRUCT WHERE {{ <{EX}a> ?p ?o }}", "ntriples"),
        (f"CONSTRUCT WHERE {{ <{EX}a> ?p ?o }}", "turtle"),
        (f'ASK {{ <{EX}a> <{EX}p> "2" }}', "json"),
    ],
)
def test_a_bounded_query_is_answered_at_once_with_the_usual_answer(store, monkeypatch, sparql, format_name):
    monkeypatch.setattr(atonce, "SMALL_SECONDS", 60.0)  # the path taken, not the 2 ms budget (a loaded machine)
    seen = spy_on_small_answers(monkeypatch)
    assert answer(store, sparql, format_name) == usual(store, sparql, format_name)
    assert len(seen) == 1 and seen[0] is not None


def test_a_bounded_query_with_an_answer_past_the_budget_is_answered_whole_the_usual_way(store, monkeypatch):
    seen = spy_on_small_answers(monkeypatch)
    sparql = f"SELECT ?o WHERE {{ <{EX}hub> <{EX}link> ?o }}"
    found = json.loads(answer(store, sparql, "json"))["results"]["bindings"]
    assert seen == [None]  # tried at once, outgrew the budget
    assert sorted(row["o"]["value"] for row in found) == [f"{EX}thing/{i:05d}/{'x' * 40}" for i in range(HUB_LINKS)]


def test_a_bounded_query_past_the_budget_of_time_is_answered_the_usual_way(store, monkeypatch):
    seen = spy_on_small_answers(monkeypatch)
    monkeypatch.setattr(atonce, "SMALL_SECONDS", -1.0)  # every answer is late
    sparql = f"SELECT ?o WHERE {{ <{EX}a> <{EX}p> ?o }}"
    found = answer(store, sparql, "csv")
    assert seen == [None]
    assert found == usual(store, sparql, "csv") and sorted(found.split(b"\r\n")) == [b"", b"0", b"1", b"2", b"o"]


def test_a_bounded_answer_keeps_the_size_limit(store):
    with pytest.raises(ResultTooLarge):
        answer(store, f"SELECT ?p ?o WHERE {{ <{EX}a> ?p ?o }}", "json", Limits(None, 50))


def test_a_write_is_seen_by_the_next_bounded_query_with_query_workers(tmp_path):
    store = EmbeddedStore.on_disk(tmp_path / "store", query_workers=1)
    try:
        sparql = f"SELECT ?o WHERE {{ <{EX}new> <{EX}p> ?o }}"
        assert answer(store, sparql, "csv") == b"o\r\n"
        store.add([ox.Quad(ox.NamedNode(EX + "new"), ox.NamedNode(EX + "p"), ox.Literal("written"))], GRAPH)
        assert answer(store, sparql, "csv") == b"o\r\nwritten\r\n"
    finally:
        store.close()

"""The full-text index over the seed: what a search finds, how facets narrow it, and a crash between the store
and the index (a subprocess killed at that point) mended on the next start."""

import io
import os
import signal
import subprocess
import sys
import textwrap

import pyoxigraph as ox
import pytest

from policykg.config import Settings
from policykg.errors import SearchError
from policykg.model.files import load_model
from policykg.model.synthetic import generate
from policykg.search import documents
from policykg.search.documents import NAME_PROPERTIES, TEXT_PROPERTIES, read_documents
from policykg.search.finding import find, narrower_concepts
from policykg.search.index import SearchIndex
from policykg.store import EmbeddedStore
from policykg.writing.writer import make_writer

B = "http://localhost:8000/"
PKG = "https://w3id.org/policykg/ontology#"
DATA_SPACE = f"{B}id/concept/common-european-data-space-for-cultural-heritage"


@pytest.fixture(scope="module")
def seeded(settings: Settings) -> tuple[SearchIndex, EmbeddedStore]:
    store = EmbeddedStore.in_memory()
    load_model(store, settings)
    index = SearchIndex(None)
    index.rebuild(store)
    return index, store


def iris(results) -> list[str]:
    return [hit.iri for hit in results.hits]


def test_search_finds_a_phrase_of_the_seed_with_its_words_marked(seeded):
    index, store = seeded
    results = find(index, store, '"data space"')
    assert iris(results)[0] == DATA_SPACE
    assert "<mark>data</mark> <mark>space</mark>" in results.hits[0].snippet_html.lower()
    assert results.hits[0].title == "Common European Data Space for Cultural Heritage"


def test_search_stems_english_words_and_folds_accents(seeded):
    index, store = seeded
    # "spaces" finds "space" (stemming); the query's accent is folded as the text's is.
    assert DATA_SPACE in iris(find(index, store, "dàta spaces", limit=100))


def test_search_finds_words_by_their_prefix(seeded):
    index, store = seeded
    found = iris(find(index, store, "interoperab*", limit=100))
    assert f"{B}id/concept/interoperable-data-and-metadata" in found
    assert set(found) >= set(iris(find(index, store, "interoperable", limit=100)))
    assert DATA_SPACE not in iris(find(index, store, "interoperab*", {"type": PKG + "Recommendation"}, limit=100))


def test_search_escapes_the_text_of_snippets(seeded):
    index, store = seeded
    hit = next(h for h in find(index, store, "diverse", limit=50).hits if "'" in "".join(t for t, _ in h.snippet))
    assert "&#x27;" in hit.snippet_html and "<mark>diverse</mark>" in hit.snippet_html


def _comparable(document: documents.Document) -> tuple:
    return (
        sorted(document.names),
        sorted(document.texts),
        *(sorted(getattr(document, name)) for name in ("types", "concepts", "events", "organisations", "statuses")),
        sorted(document.years),
    )


def test_the_whole_store_is_read_in_small_batches_with_the_same_documents(seeded, monkeypatch):
    _, store = seeded
    readable = " ".join(f"<{p}>" for p in (*NAME_PROPERTIES, *TEXT_PROPERTIES))
    rows = store.select(f"SELECT DISTINCT ?s WHERE {{ VALUES ?p {{ {readable} }} GRAPH ?g {{ ?s ?p ?o }} }}").values()
    expected = {s for (s,) in rows if s and not s.startswith("_:")}
    at_once = {d.iri: _comparable(d) for d in read_documents(store)}  # the seed is one batch
    assert set(at_once) == expected and len(expected) > 40

    asked: list[int] = []
    select = store.select

    def counting(sparql: str, **options):
        if "VALUES ?s" in sparql:
            asked.append(sparql.split("VALUES ?s", 1)[1].split("}", 1)[0].count("<"))
        return select(sparql, **options)

    monkeypatch.setattr(documents, "BATCH", 7)
    monkeypatch.setattr(store, "select", counting)
    batched = {d.iri: _comparable(d) for d in read_documents(store)}
    assert batched == at_once
    assert max(asked) == 7 and sum(asked) >= 2 * len(expected)  # each batch: its texts, then its facets


_EVENT = "pkg:issuedAt|pkg:atEvent|pkg:presentedAt"
_FACETS = {  # each facet as its definition in SPARQL: ?s the resource, ?v a value
    "types": "?s a ?v",
    "concepts": "?s pkg:concerns|pkg:mainTopic|dcterms:subject ?v",
    "events": f"?s {_EVENT} ?v",
    "statuses": "?r pkg:recommendation ?s ; pkg:status ?v",
    "organisations": f"{{ ?s ?p ?v }} UNION {{ ?s {_EVENT} ?e . ?e pkg:organisedBy ?v }} "
    "?v a ?c . ?c rdfs:subClassOf* pkg:Organisation",
    "own_years": "?s schema:startDate|pkg:statusDate|dcterms:issued|dcterms:date ?d BIND (YEAR(?d) AS ?v)",
    "event_years": f"?s {_EVENT} ?e . ?e schema:startDate ?d BIND (YEAR(?d) AS ?v)",
}


def test_each_document_of_a_generated_world_has_the_facets_their_definition_gives(settings, monkeypatch):
    store = EmbeddedStore.in_memory()
    text = io.StringIO()
    generate(text, 20_000, 5, B)
    store.add(ox.parse(text.getvalue(), format=ox.RdfFormat.N_QUADS), B + "graph/data")
    load_model(store, settings)
    monkeypatch.setattr(documents, "BATCH", 150)  # several batches, and values shared across them
    found = {d.iri: d for d in read_documents(store)}
    assert len(found) > 1000
    prefixes = (
        f"PREFIX pkg: <{PKG}> PREFIX schema: <https://schema.org/> PREFIX dcterms: <http://purl.org/dc/terms/> "
        "PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#> "
    )
    for facet, pattern in _FACETS.items():
        expected: dict[str, set] = {iri: set() for iri in found}
        for s, v in store.select(f"{prefixes} SELECT DISTINCT ?s ?v WHERE {{ {pattern} }}").values():
            if s in expected and v is not None:
                expected[s].add(int(v) if facet.endswith("years") else v)
        got = {iri: set(getattr(document, facet)) for iri, document in found.items()}
        assert got == expected, facet
        assert sum(1 for values in got.values() if values) > 50, facet  # the facet is there, not empty everywhere


def test_the_concept_facet_includes_narrower_concepts(seeded):
    index, store = seeded
    narrower = narrower_concepts(store, f"{B}id/concept/artificial-intelligence")
    concept = f"{B}id/concept/"  # the AI Act is below the framework, which is below AI: two steps are followed
    assert narrower == [concept + "ai-act", concept + "ai-regulatory-framework", concept + "artificial-intelligence"]
    by_parent = set(iris(find(index, store, "AI", {"concept": f"{B}id/concept/artificial-intelligence"}, limit=20)))
    children = [c for c in narrower if c != f"{B}id/concept/artificial-intelligence"]
    by_children = set().union(*(iris(find(index, store, "AI", {"concept": c}, limit=20)) for c in children))
    assert by_children and by_children <= by_parent


def test_facets_count_the_hits_and_filters_narrow_them(seeded):
    index, store = seeded
    results = find(index, store, "AI", limit=100)
    recommendations = dict(results.facets["type"])[PKG + "Recommendation"]
    narrowed = find(index, store, "AI", {"type": PKG + "Recommendation"}, limit=100)
    assert narrowed.total == recommendations == 3
    assert dict(narrowed.facets["year"]) == {"2024": 3}
    proposed = find(index, store, "AI", {"status": PKG + "statusProposed", "year": "2024"}, limit=100)
    assert set(iris(proposed)) == set(iris(narrowed))
    assert find(index, store, "AI", {"year": "1999"}).total == 0


@pytest.mark.parametrize(
    ("text", "filters", "offset"),
    [
        ("   ", {}, 0),
        ("data AND (", {}, 0),
        ("data", {"colour": "x"}, 0),
        ("data", {"year": "soon"}, 0),
        ("data", {"concept": "not an iri"}, 0),
        ("data", {}, 5000),
        ("data", {}, 1000),
    ],
)
def test_search_refuses_what_it_cannot_run_with_a_search_error(seeded, text, filters, offset):
    index, store = seeded
    with pytest.raises(SearchError):
        find(index, store, text, filters, offset)


def test_a_write_through_the_writer_is_searchable_when_it_returns_and_gone_when_deleted(settings):
    store = EmbeddedStore.in_memory()
    load_model(store, settings)
    index = SearchIndex(None)
    index.rebuild(store)
    writer = make_writer(settings, store, index)
    graph = "http://example.org/graph/search-writer"
    writer.extend_graph(
        graph,
        [
            ox.Triple(
                ox.NamedNode("http://example.org/w"),
                ox.NamedNode("http://www.w3.org/2000/01/rdf-schema#label"),
                ox.Literal("quillwort meadow", language="en"),
            )
        ],
    )
    assert iris(find(index, store, "quillwort")) == ["http://example.org/w"]
    writer.delete_graph(graph)
    assert find(index, store, "quillwort").total == 0


_CRASHING_WRITE = """
import os, signal, sys
import pyoxigraph as ox
from policykg.config import Settings
from policykg.model.files import load_model
from policykg.model.synthetic import generate
from policykg.search.index import SearchIndex
from policykg.store import EmbeddedStore
from policykg.writing.writer import make_writer

folder = sys.argv[1]
settings = Settings(store=folder + "/store")
store = EmbeddedStore.on_disk(folder + "/store")
if sys.argv[2] == "build":
    load_model(store, settings)
    index = SearchIndex(__import__("pathlib").Path(folder + "/store.search"))
    index.open_for(store)
    index.close(store)
    store.close()
    sys.exit(0)
index = SearchIndex(__import__("pathlib").Path(folder + "/store.search"))
index.open_for(store)
# The crash point: the store has committed the write, the index has not taken it in.
index.refresh = lambda *args: os.kill(os.getpid(), signal.SIGKILL)
make_writer(settings, store, index).extend_graph(
    "http://example.org/graph/crash",
    [ox.Triple(ox.NamedNode("http://example.org/c"), ox.NamedNode("http://www.w3.org/2000/01/rdf-schema#label"),
               ox.Literal("bramblewick lantern"))],
)
"""


@pytest.mark.service
def test_a_sigkill_between_the_store_and_the_index_commit_leaves_a_correct_index_after_restart(tmp_path, settings):
    script = tmp_path / "write.py"
    script.write_text(textwrap.dedent(_CRASHING_WRITE))
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    run = [sys.executable, str(script), str(tmp_path)]
    assert subprocess.run([*run, "build"], env=env, timeout=300).returncode == 0
    killed = subprocess.run([*run, "crash"], env=env, timeout=300)
    assert killed.returncode == -signal.SIGKILL
    store = EmbeddedStore.on_disk(str(tmp_path / "store"))
    try:
        assert store.ask('ASK { GRAPH ?g { <http://example.org/c> ?p "bramblewick lantern" } }')
        index = SearchIndex(tmp_path / "store.search")
        assert index.needs_rebuild(store) == "a write was cut short between the store and the index"
        index.open_for(store)
        assert iris(find(index, store, "bramblewick")) == ["http://example.org/c"]
        index.close(store)
        assert SearchIndex(tmp_path / "store.search").needs_rebuild(store) is None
    finally:
        store.close()

"""The seed data: every fact has provenance, excerpts quote the source exactly, inferences are marked."""

import re
from collections import defaultdict
from pathlib import Path

import pytest
import rdflib
from rdflib.namespace import RDF, RDFS

from policykg.config import Settings
from policykg.rdf.input import read_files, read_quads, to_rdflib_graph
from policykg.rdf.namespaces import PKG, SCHEMA

ROOT = Path(__file__).resolve().parents[1]
PROV = rdflib.Namespace("http://www.w3.org/ns/prov#")
ASSERTION_KINDS = {PKG.StatedAssertion, PKG.InferredAssertion, PKG.EditorialAssertion}
# Namespaces of standard vocabularies and of the project itself: IRIs here need no verification.
STANDARD = (
    "https://w3id.org/policykg/",
    "http://www.w3.org/",
    "http://purl.org/dc/terms/",
    "https://schema.org/",
    "http://data.europa.eu/m8g/",
    "http://data.europa.eu/eli/ontology#",
    "http://xmlns.com/foaf/0.1/",
)


@pytest.fixture(scope="module")
def graphs(settings: Settings) -> dict[str, rdflib.Graph]:
    """The seed data's named graphs kept apart, by name ("" for the default graph)."""
    by_name: dict[str, list] = defaultdict(list)
    for quad in read_files([settings.data_dir], settings.base_iri):
        by_name[getattr(quad.graph_name, "value", "")].append(quad)
    return {name: to_rdflib_graph(quads) for name, quads in by_name.items()}


def test_every_triple_is_in_a_named_graph(graphs):
    assert "" not in graphs
    assert sum(len(g) for g in graphs.values()) > 500


def test_every_graph_is_an_assertion_of_one_kind_with_a_derivation(graphs, seed_graph):
    for name in map(rdflib.URIRef, graphs):
        kinds = set(seed_graph.objects(name, RDF.type)) & ASSERTION_KINDS
        assert len(kinds) == 1, f"{name} is not exactly one kind of assertion: {kinds}"
        assert list(seed_graph.objects(name, PROV.wasDerivedFrom)), f"{name} names no source"


def test_inferred_assertions_give_their_reason(seed_graph):
    inferred = set(seed_graph.subjects(RDF.type, PKG.InferredAssertion))
    assert {str(n).rsplit("/", 1)[-1] for n in inferred} == {"inferred-meeting-year", "inferred-publisher"}
    for node in inferred:
        reason = seed_graph.value(node, PKG.inferenceReason)
        assert reason is not None and reason.language == "en" and len(reason) > 40


def test_the_meetings_year_is_inferred_and_its_days_are_stated(graphs, settings: Settings):
    meeting = rdflib.URIRef(settings.base_iri + "id/event/cultural-heritage-expert-group-meeting-11")
    inferred_name = settings.base_iri + "graph/seed/inferred-meeting-year"
    inferred = graphs[inferred_name]
    stated = graphs[settings.base_iri + "graph/seed/attendance"]
    assert set(inferred.predicate_objects(meeting)) == {
        (SCHEMA.startDate, rdflib.Literal("2024-04-09", datatype=rdflib.XSD.date)),
        (SCHEMA.endDate, rdflib.Literal("2024-04-10", datatype=rdflib.XSD.date)),
    }
    assert stated.value(meeting, PKG.startMonthDay) == rdflib.Literal("--04-09", datatype=rdflib.XSD.gMonthDay)
    # No other graph asserts a full date for the meeting: its year is never presented as stated.
    for name, graph in graphs.items():
        if name != inferred_name:
            assert (meeting, SCHEMA.startDate, None) not in graph, name


def test_every_excerpt_quotes_the_source_text_at_its_offsets(seed_graph, settings: Settings):
    text = (settings.data_dir / "sources" / "nemo-news-eg11.txt").read_text(encoding="utf-8")
    excerpts = list(seed_graph.subjects(RDF.type, PKG.SourceExcerpt))
    assert len(excerpts) == 22  # 12 passages of the item, and the 10 sentences of its three recommendations
    for excerpt in excerpts:
        start = int(seed_graph.value(excerpt, PKG.startOffset))
        end = int(seed_graph.value(excerpt, PKG.endOffset))
        assert text[start:end] == str(seed_graph.value(excerpt, PROV.value)), excerpt


def test_every_statement_of_the_seed_item_has_an_excerpt(seed_graph, settings: Settings):
    text = (settings.data_dir / "sources" / "nemo-news-eg11.txt").read_text(encoding="utf-8")
    quoted = " ".join(str(v) for v in seed_graph.objects(None, PROV.value))
    sentences = [s.strip() for s in re.split(r"(?<=[.:])\s+|\n+", text) if len(s.strip()) > 20]
    missing = [s for s in sentences if s not in quoted]
    assert not missing


def test_recommendations_are_traceable_to_the_news_item(seed_graph, settings: Settings):
    news = rdflib.URIRef(settings.base_iri + "id/source/nemo-news-eg11")
    recommendations = set(seed_graph.subjects(RDF.type, PKG.Recommendation))
    assert len(recommendations) == 3
    assert all((r, PROV.hadPrimarySource, news) in seed_graph for r in recommendations)


def test_instance_iris_follow_the_configured_base(tmp_path):
    base = "https://kg.example.org/policy/"
    quads = read_quads(Settings().data_dir / "seed.trig", base)
    subjects = {q.subject.value for q in quads if hasattr(q.subject, "value")}
    local = {s for s in subjects if not s.startswith("http://data.europa.eu/eli/")}
    assert local and all(s.startswith(base) for s in local)


def test_external_iris_are_verified_or_standard(settings: Settings):
    reference = settings.data_dir / "sources" / "verified-identifiers.md"  # the list kept with the data
    verified = set(re.findall(r"https?://[^\s|`<>)]+", reference.read_text(encoding="utf-8")))
    quads = read_files([settings.data_dir, settings.ontology_dir], settings.base_iri)
    iris = {
        term.value
        for quad in quads
        for term in (quad.subject, quad.predicate, quad.object, quad.graph_name)
        if term.__class__.__name__ == "NamedNode"
    }
    unverified = {
        iri
        for iri in iris
        if not iri.startswith(settings.base_iri) and not iri.startswith(STANDARD) and iri not in verified
    }
    assert not unverified


def test_labels_of_seed_people_and_organisations_are_as_the_item_writes_them(seed_graph, settings: Settings):
    def label(path: str) -> str:
        return str(seed_graph.value(rdflib.URIRef(settings.base_iri + path), RDFS.label))

    assert label("id/person/julia-pagel") == "Julia Pagel"
    assert label("id/org/nemo") == "NEMO"
    assert label("id/post/nemo-secretary-general") == "Secretary General of NEMO"

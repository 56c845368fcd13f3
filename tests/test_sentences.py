"""Sentences with offsets: ticking a source's sentences reproduces the seed's own excerpts exactly."""

from pathlib import Path

import rdflib

from policykg.views.sentences import Excerpt, excerpts_of, split_sentences

NEWS = Path(__file__).parents[1] / "data" / "sources" / "nemo-news-eg11.txt"
PKG = "https://w3id.org/policykg/ontology#"


def seed_excerpts(seed_graph: rdflib.Graph) -> list[Excerpt]:
    rows = seed_graph.query(
        f"""SELECT ?start ?end ?value WHERE {{ ?x a <{PKG}SourceExcerpt> ; <{PKG}startOffset> ?start ;
        <{PKG}endOffset> ?end ; <http://www.w3.org/ns/prov#value> ?value ;
        <http://purl.org/dc/terms/isPartOf> <http://localhost:8000/id/source/nemo-news-eg11> }} ORDER BY ?start"""
    )
    return [Excerpt(int(s), int(e), str(v)) for s, e, v in rows]  # type: ignore[misc]


def test_ticking_the_sentences_of_each_seed_excerpt_gives_its_offsets_and_quote(seed_graph):
    text = NEWS.read_text(encoding="utf-8")
    sentences = split_sentences(text)
    expected = seed_excerpts(seed_graph)
    assert len(expected) == 22  # the seed's passages and the provisions' sentences
    for excerpt in expected:
        ticked = {i for i, s in enumerate(sentences) if excerpt.start <= s.start and s.end <= excerpt.end}
        assert excerpts_of(text, sentences, ticked) == [excerpt]


def test_split_sentences_counts_offsets_in_code_points():
    text = "Der Vorschlag „Kulturerbe“ wurde angenommen. Zweiter Satz 😀 hier! Dritter"
    sentences = split_sentences(text)
    assert [s.text for s in sentences] == [
        "Der Vorschlag „Kulturerbe“ wurde angenommen.",
        "Zweiter Satz 😀 hier!",
        "Dritter",
    ]
    assert all(text[s.start : s.end] == s.text for s in sentences)
    assert sentences[2].start == len("Der Vorschlag „Kulturerbe“ wurde angenommen. Zweiter Satz 😀 hier! ")


def test_split_sentences_leaves_out_list_markers_and_surrounding_space():
    sentences = split_sentences("Intro:\n  1. First point \n  2. Second point.\n")
    assert [s.text for s in sentences] == ["Intro:", "First point", "Second point."]
    assert [s.line for s in sentences] == [0, 1, 2]


def test_excerpts_of_keeps_runs_on_one_line_and_splits_across_lines_and_gaps():
    text = "One. Two. Three.\nFour."
    sentences = split_sentences(text)
    excerpts = excerpts_of(text, sentences, {0, 1, 3})
    assert excerpts == [Excerpt(0, 9, "One. Two."), Excerpt(17, 22, "Four.")]
    assert excerpts_of(text, sentences, {0, 2}) == [Excerpt(0, 4, "One."), Excerpt(10, 16, "Three.")]
    assert excerpts_of(text, sentences, {2, 3}) == [Excerpt(10, 16, "Three."), Excerpt(17, 22, "Four.")]

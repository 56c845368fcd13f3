"""Competency questions: each one's exact answer on the seed data."""

import pyoxigraph as ox
import pytest

from policykg.errors import UnknownQuestionError
from policykg.model.questions import get_question, list_questions
from policykg.rdf.input import parse_term
from policykg.store import EmbeddedStore, Store

B = "http://localhost:8000/"


def answer(store: Store, name: str, **params: str) -> list[tuple[str | None, ...]]:
    """Run a named question with its default parameters (overridden by params); rows as strings."""
    question = get_question(name)
    bindings = {**question.params, **params}
    terms = {key: parse_term(value, B) for key, value in bindings.items()}
    return store.select(question.sparql, base_iri=B, bindings=terms).values()


def test_questions_are_documented_and_named_after_their_files():
    questions = list_questions()
    assert [q.name for q in questions] == [
        "events-timeline",
        "fact-provenance",
        "instruments-per-recommendation",
        "nemo-presentations",
        "recommendation-aims",
        "recommendation-provisions",
        "recommendation-trail",
        "recommendations-asking-for",
        "recommendations-by-value",
        "recommendations-calling-on",
        "recommendations-on-data-space",
        "representatives-at-meeting",
    ]
    for question in questions:
        assert question.title.endswith("?") and question.description


def test_unknown_question_names_the_known_ones():
    with pytest.raises(UnknownQuestionError, match="events-timeline"):
        get_question("no-such-question")


def test_recommendations_on_the_data_space_is_recommendation_2(seed_store):
    assert answer(seed_store, "recommendations-on-data-space") == [
        (
            B + "id/recommendation/innovation-and-integrity-2",
            "2",
            "Financial investments to apply AI successfully in the Public Cultural Domain",
            "Innovation and Integrity: Museums paving the way in an AI-driven society",
        )
    ]


def test_nemo_presented_at_the_11th_meeting_through_its_secretary_general(seed_store):
    assert answer(seed_store, "nemo-presentations") == [
        (
            B + "id/event/cultural-heritage-expert-group-meeting-11",
            "11th meeting of the Cultural Heritage Expert Group",
            "2024-04-09",
            "Julia Pagel",
            B + "id/presentation/eg11-conference-outcomes",
        )
    ]


def test_julia_pagel_represented_nemo_as_attendee_and_presenter(seed_store):
    meeting = B + "id/event/cultural-heritage-expert-group-meeting-11"
    person = B + "id/person/julia-pagel"
    assert answer(seed_store, "representatives-at-meeting") == [
        (meeting, person, "Julia Pagel", "attendee", "Secretary General of NEMO"),
        (meeting, person, "Julia Pagel", "presenter", "Secretary General of NEMO"),
    ]


def test_nobody_represented_nemo_at_the_1st_meeting(seed_store):
    assert (
        answer(seed_store, "representatives-at-meeting", event="<id/event/cultural-heritage-expert-group-meeting-1>")
        == []
    )


def test_instruments_each_recommendation_touches(seed_store):
    rows = [(row[0], row[3], row[4]) for row in answer(seed_store, "instruments-per-recommendation")]
    assert rows == [
        ("1", "Artificial Intelligence Act", "regulatory framework for artificial intelligence"),
        ("2", "Common European Data Space for Cultural Heritage", None),
        ("2", "European Collaborative Cloud for Cultural Heritage", None),
        ("3", "European AI innovation hub for cultural heritage", None),
    ]


def test_recommendation_trail_is_proposed_then_presented(seed_store):
    conference = "Innovation and Integrity: Museums paving the way in an AI-driven society"
    meeting = "11th meeting of the Cultural Heritage Expert Group"
    expected = []
    for ordinal in ("1", "2", "3"):
        expected += [(ordinal, "proposed", conference, "2024-03-20"), (ordinal, "presented", meeting, "2024-04-09")]
    assert answer(seed_store, "recommendation-trail") == expected


def test_events_timeline_marks_the_11th_meetings_year_as_inferred(seed_store):
    rows = [(row[0][len(B) :], row[2], row[3], row[4], row[5]) for row in answer(seed_store, "events-timeline")]
    assert rows == [
        (
            "id/event/cultural-heritage-expert-group-meeting-1",
            "Expert group meeting",
            "2019-10-15",
            "2019-10-16",
            "stated",
        ),
        ("id/event/innovation-and-integrity-conference", "Conference", "2024-03-20", "2024-03-20", "stated"),
        (
            "id/event/cultural-heritage-expert-group-meeting-11",
            "Expert group meeting",
            "2024-04-09",
            "2024-04-10",
            "inferred",
        ),
    ]


def test_provenance_of_the_meetings_start_date_is_the_inference_and_its_sources(seed_store):
    rows = [r for r in answer(seed_store, "fact-provenance") if r[1] == "https://schema.org/startDate"]
    assert {(r[2], r[3][len(B) :], r[4], r[5][len(B) :]) for r in rows} == {
        ("2024-04-09", "graph/seed/inferred-meeting-year", "inferred", "id/source/nemo-news-eg11/excerpt/02"),
        ("2024-04-09", "graph/seed/inferred-meeting-year", "inferred", "id/source/nemo-news-eg11/excerpt/04"),
        ("2024-04-09", "graph/seed/inferred-meeting-year", "inferred", "id/source/nemo-conference-summary"),
    }
    assert all(r[7] and "no year" in r[7] for r in rows)


def test_provenance_of_the_meetings_place_is_the_sentence_that_states_it(seed_store):
    rows = [r for r in answer(seed_store, "fact-provenance") if r[1].endswith("#heldIn")]
    assert rows == [
        (
            B + "id/event/cultural-heritage-expert-group-meeting-11",
            "https://w3id.org/policykg/ontology#heldIn",
            B + "id/place/brussels",
            B + "graph/seed/attendance",
            "stated",
            B + "id/source/nemo-news-eg11/excerpt/02",
            "From 9-10 April, NEMO Secretary General Julia Pagel attended the 11th meeting of the European "
            "Commission's Cultural Heritage Expert Group in Brussels, Belgium.",
            None,
        )
    ]


def test_provenance_question_takes_another_subject(seed_store):
    rows = answer(seed_store, "fact-provenance", subject="<id/recommendation/innovation-and-integrity-3>")
    ordinal = [r for r in rows if r[1].endswith("#ordinal")]
    assert {(r[2], r[3][len(B) :], r[4]) for r in ordinal} == {("3", "graph/seed/recommendation-3", "stated")}
    assert {r[5][len(B) :] for r in ordinal} == {
        "id/source/nemo-news-eg11/excerpt/11",
        "id/source/nemo-news-eg11/excerpt/12",
    }


_PROVISIONS = """
@prefix pkg: <https://w3id.org/policykg/ontology#> . @prefix prov: <http://www.w3.org/ns/prov#> .
@prefix skos: <http://www.w3.org/2004/02/skos/core#> .
<http://g/stated> { <http://r> pkg:aimsAt <http://v1> }
<http://g/stated> prov:wasDerivedFrom <http://e1> . <http://e1> prov:value "q1" ; pkg:startOffset 5 .
<http://g/two> { <http://r> pkg:proposes <http://v4> }
<http://g/two> prov:wasDerivedFrom <http://e2>, <http://e3> .
<http://e2> prov:value "q2" ; pkg:startOffset 9 . <http://e3> prov:value "q3" ; pkg:startOffset 1 .
<http://g/inferred> { <http://r> pkg:callsOn <http://v2> }
<http://g/incomplete> { <http://r> pkg:asksFor <http://v3> }
<http://g/incomplete> prov:wasDerivedFrom <http://e9> . <http://e9> prov:value "no offset" .
<http://v1> skos:prefLabel "one" . <http://v2> skos:prefLabel "two" . <http://v3> skos:prefLabel "three" .
<http://v4> skos:prefLabel "four" .
"""


def test_provisions_keep_assertions_without_a_whole_excerpt_and_pair_each_excerpt_with_its_start():
    # The question looks excerpts up with a UNION and a filter instead of OPTIONAL (fast at scale): same answers.
    store = EmbeddedStore.in_memory()
    store.add(list(ox.parse(_PROVISIONS.encode(), ox.RdfFormat.TRIG)), "http://g/default")
    rows = store.select(
        get_question("recommendation-provisions").sparql, bindings={"recommendation": ox.NamedNode("http://r")}
    ).values()
    assert rows == [
        ("http://r", "calls on", "http://v2", "two", None, None),
        ("http://r", "asks for", "http://v3", "three", None, None),
        ("http://r", "aims at", "http://v1", "one", "q1", "5"),
        ("http://r", "proposes", "http://v4", "four", "q3", "1"),
        ("http://r", "proposes", "http://v4", "four", "q2", "9"),
    ]

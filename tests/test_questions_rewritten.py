"""Competency questions and lists written for speed at scale answer exactly as their earlier texts did.

Each rewritten question is compared with its text before the rewrite (tests/fixtures/questions-before/) over
the seed and a generated world, for the default parameter and for generated resources of the same kind; the
list of recommendations likewise, with and without filters.
"""

import io
import random
import re
from collections import Counter
from pathlib import Path

import pyoxigraph as ox
import pytest

from policykg.model.closure import write_closure
from policykg.model.files import load_model
from policykg.model.questions import get_question
from policykg.model.synthetic import generate
from policykg.rdf.input import parse_term
from policykg.store import EmbeddedStore
from policykg.views import lists

B = "http://localhost:8000/"
PKG = "https://w3id.org/policykg/ontology#"
BEFORE = Path(__file__).parent / "fixtures" / "questions-before"


@pytest.fixture(scope="module")
def world(settings) -> EmbeddedStore:
    """The model, the seed and a generated world of 40,000 quads, with the closure a start makes."""
    store = EmbeddedStore.in_memory()
    text = io.StringIO()
    generate(text, 40_000, 3, B)
    store.add(ox.parse(text.getvalue(), format=ox.RdfFormat.N_QUADS), B + "graph/data")
    load_model(store, settings)
    # An event stated to be of a kind and of a narrower one: the timeline names it once, by the narrower kind.
    store.add(
        ox.parse(
            f"""<{B}id/event/two-kinds> a <{PKG}Meeting>, <{PKG}ExpertGroupMeeting> ;
                <http://www.w3.org/2000/01/rdf-schema#label> "A meeting of two kinds"@en .""",
            format=ox.RdfFormat.TURTLE,
        ),
        B + "graph/data",
    )
    # Status records a list must read as before: one whose status has no label, one with no status at all,
    # beside a labelled one of the same recommendation.
    recommendation = of_kind(store, "Recommendation", 1)[0]
    store.add(
        ox.parse(
            f"""PREFIX pkg: <{PKG}>
                <{B}id/status/unlabelled> pkg:recommendation <{recommendation}> ; pkg:status <{B}id/nameless> .
                <{B}id/status/statusless> pkg:recommendation <{recommendation}> .
                <{B}id/status/labelled> pkg:recommendation <{recommendation}> ; pkg:status pkg:statusPresented .""",
            format=ox.RdfFormat.TURTLE,
        ),
        B + "graph/data",
    )
    write_closure(store, B)
    return store


def of_kind(store: EmbeddedStore, cls: str, count: int) -> list[str]:
    """Some generated resources of a class, spread over the world."""
    rows = store.select(f"SELECT DISTINCT ?x WHERE {{ ?x a <https://w3id.org/policykg/ontology#{cls}> }}").values()
    found = sorted(x for (x,) in rows if x)
    return random.Random(cls).sample(found, min(count, len(found)))


def rows(store: EmbeddedStore, sparql: str, params: dict[str, ox.NamedNode]) -> list[tuple[str | None, ...]]:
    return store.select(sparql, base_iri=B, bindings=params).values()  # type: ignore[arg-type]


def in_order(found: list[tuple[str | None, ...]], sparql: str, variables: list[str]) -> list[tuple[str | None, ...]]:
    """What ORDER BY fixes of an answer: its rows' values of the ordering variables it shows, in the answer's order.

    Rows that tie on them may come in any order (SPARQL leaves it to the engine), and two texts of one
    question may well tie them differently."""
    ordering = re.findall(r"\?(\w+)", sparql[sparql.rindex("ORDER BY") :])
    columns = [variables.index(name) for name in ordering if name in variables]
    return [tuple(row[column] for column in columns) for row in found]


CASES = {
    "nemo-presentations": None,
    "recommendation-provisions": ("recommendation", "Recommendation"),
    "recommendations-on-data-space": None,
    "recommendations-asking-for": ("concept", "PolicyConcept"),
    "events-timeline": None,
    "instruments-per-recommendation": None,
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_a_rewritten_question_answers_as_its_earlier_text(world, name):
    question = get_question(name)
    before = (BEFORE / f"{name}.rq").read_text()
    assert before != question.sparql  # the fixture is the earlier text, not today's
    defaults = {key: parse_term(value, B) for key, value in question.params.items()}
    settings = [defaults]
    if CASES[name] is not None:
        param, cls = CASES[name]
        settings += [{**defaults, param: ox.NamedNode(iri)} for iri in of_kind(world, cls, 12)]
    variables = list(world.select(question.sparql, base_iri=B, bindings=defaults).variables)  # type: ignore[arg-type]
    answered = 0
    for params in settings:
        now = rows(world, question.sparql, params)  # type: ignore[arg-type]
        earlier = rows(world, before, params)  # type: ignore[arg-type]
        assert Counter(now) == Counter(earlier), params  # the same rows, each as often
        assert in_order(now, question.sparql, variables) == in_order(earlier, before, variables), params
        answered += bool(now)
    assert answered >= 1  # not only empty answers compared


# The recommendations' statuses before the list read each record's status row by row (views/lists.py).
_STATUSES_BEFORE = "  OPTIONAL { ?record pkg:recommendation ?item ; pkg:status/rdfs:label ?statusLabel }"


def test_the_recommendations_list_answers_as_its_earlier_text(world):
    kind = lists.KINDS["recommendations"]
    concept, status = of_kind(world, "PolicyConcept", 1)[0], PKG + "statusPresented"
    for params in ({}, {"concept": concept}, {"status": status}, {"concept": concept, "status": status}):
        query = lists.build_query(kind, lists.read_choice(kind, params, None, 1))
        start = query.index("  OPTIONAL {\n    ?record")
        earlier = query[:start] + _STATUSES_BEFORE + query[query.index("  }", start) + 3 :]
        assert earlier != query
        now, before = world.select(query).values(), world.select(earlier).values()
        assert [_statuses_apart(row) for row in now] == [_statuses_apart(row) for row in before], params
        assert now, params  # not only empty answers compared
    unfiltered = world.select(lists.build_query(kind, lists.read_choice(kind, {}, None, 1))).values()
    assert any(statuses for *_, statuses in unfiltered)  # some recommendations show statuses


def _statuses_apart(row: tuple[str | None, ...]) -> tuple[object, ...]:
    """A list row with its statuses as a set: GROUP_CONCAT joins them in no order SPARQL fixes."""
    *rest, statuses = row
    return (*rest, frozenset((statuses or "").split(", ")))

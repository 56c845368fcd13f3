"""Competency questions written for speed at scale answer exactly as their earlier texts did.

Each rewritten question is compared with its text before the rewrite (tests/fixtures/questions-before/) over
the seed and a generated world, for the default parameter and for generated resources of the same kind.
"""

import io
import random
from pathlib import Path

import pyoxigraph as ox
import pytest

from policykg.model.closure import write_closure
from policykg.model.files import load_model
from policykg.model.questions import get_question
from policykg.model.synthetic import generate
from policykg.rdf.input import parse_term
from policykg.store import EmbeddedStore

B = "http://localhost:8000/"
BEFORE = Path(__file__).parent / "fixtures" / "questions-before"


@pytest.fixture(scope="module")
def world(settings) -> EmbeddedStore:
    """The model, the seed and a generated world of 40,000 quads, with the closure a start makes."""
    store = EmbeddedStore.in_memory()
    text = io.StringIO()
    generate(text, 40_000, 3, B)
    store.add(ox.parse(text.getvalue(), format=ox.RdfFormat.N_QUADS), B + "graph/data")
    load_model(store, settings)
    write_closure(store, B)
    return store


def of_kind(store: EmbeddedStore, cls: str, count: int) -> list[str]:
    """Some generated resources of a class, spread over the world."""
    rows = store.select(f"SELECT DISTINCT ?x WHERE {{ ?x a <https://w3id.org/policykg/ontology#{cls}> }}").values()
    found = sorted(x for (x,) in rows if x)
    return random.Random(cls).sample(found, min(count, len(found)))


def rows(store: EmbeddedStore, sparql: str, params: dict[str, ox.NamedNode]) -> list[tuple[str | None, ...]]:
    return store.select(sparql, base_iri=B, bindings=params).values()  # type: ignore[arg-type]


CASES = {
    "nemo-presentations": None,
    "recommendation-provisions": ("recommendation", "Recommendation"),
    "recommendations-on-data-space": None,
    "recommendations-asking-for": ("concept", "PolicyConcept"),
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
    answered = 0
    for params in settings:
        now = rows(world, question.sparql, params)  # type: ignore[arg-type]
        assert now == rows(world, before, params), params  # type: ignore[arg-type]
        answered += bool(now)
    assert answered >= 1  # not only empty answers compared

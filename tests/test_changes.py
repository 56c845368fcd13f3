"""Validating a change against the stored graph gives the verdict of validating the whole changed graph."""

from pathlib import Path

import pyoxigraph as ox
import pytest
import rdflib

from policykg.model.files import load_model
from policykg.rdf.input import read_files, read_quads, to_rdflib_graph
from policykg.store import EmbeddedStore
from policykg.validation.incremental import Change, ChangeValidator
from policykg.validation.shacl import FocusedValidation, split_shapes, validate

INVALID = sorted((Path(__file__).parent / "fixtures" / "invalid").glob("*.ttl"))
B = "http://localhost:8000/"


@pytest.fixture(scope="module")
def validator(shapes, ontology) -> ChangeValidator:
    return ChangeValidator(shapes, ontology)


@pytest.fixture(scope="module")
def store(settings) -> EmbeddedStore:
    backend = EmbeddedStore.in_memory()
    load_model(backend, settings)
    return backend


def in_graph(quads: list[ox.Quad], graph: str) -> tuple[ox.Quad, ...]:
    target = ox.NamedNode(graph)
    return tuple(ox.Quad(q.subject, q.predicate, q.object, target) for q in quads)


def whole(store: EmbeddedStore, change: Change, settings, shapes, ontology):
    quads = set(read_files([settings.data_dir], settings.base_iri))
    quads -= set(change.removed)
    quads |= set(change.added)
    return validate(to_rdflib_graph(quads), shapes, ontology)


def results(report) -> set[tuple[str, str, str]]:
    return {(r.shape, r.component, r.focus) for r in report.results}


@pytest.mark.parametrize("fixture", INVALID, ids=lambda p: p.stem)
def test_adding_an_invalid_fixture_gives_the_whole_graph_results(fixture, validator, store, settings, shapes, ontology):
    change = Change(added=in_graph(read_quads(fixture, B), B + "graph/fixture"))
    assert results(validator.validate(store, change)) == results(whole(store, change, settings, shapes, ontology))


@pytest.mark.parametrize(
    "graph",
    [
        "graph/seed/attendance",
        "graph/seed/presentation-at-meeting",
        "graph/seed/recommendation-2",
        "graph/concepts",
        "graph/reference/expert-group",
    ],
)
def test_removing_a_seed_graph_gives_the_whole_graph_results(graph, validator, store, settings, shapes, ontology):
    name = ox.NamedNode(B + graph)
    removed = tuple(q for q in read_files([settings.data_dir], B) if q.graph_name == name)
    change = Change(removed=removed)
    assert results(validator.validate(store, change)) == results(whole(store, change, settings, shapes, ontology))


def test_removing_the_attendance_breaks_the_presentation_of_a_node_the_change_does_not_name(validator, store, settings):
    # The presentation's presenter loses her participation: the presentation, untouched, now fails.
    name = ox.NamedNode(B + "graph/seed/attendance")
    change = Change(removed=tuple(q for q in read_files([settings.data_dir], B) if q.graph_name == name))
    focus = {(r.shape.rsplit("#", 1)[-1], r.focus[len(B) :]) for r in validator.validate(store, change).results}
    assert ("PresenterParticipated", "id/presentation/eg11-conference-outcomes") in focus


def test_a_focused_validation_checks_nested_shapes_on_values_outside_the_focus(shapes, ontology):
    # The assertion's sh:or ([sh:class SourceExcerpt] [sh:class SourceDocument]) is applied to the place,
    # which is not a focus node; the place itself (no label) is not judged.
    fixture = Path(__file__).parent / "fixtures" / "invalid" / "Assertion-derivedFrom--or.ttl"
    data = to_rdflib_graph(read_quads(fixture, B))
    data.parse(data=f"<{B}id/place/brussels> a <https://w3id.org/policykg/ontology#Place> .", format="turtle")
    focused = FocusedValidation(split_shapes(shapes)[0])
    report = focused.validate(data, ontology, [rdflib.URIRef(B + "graph/fixture")])
    assert {(r.shape, r.component, r.focus, r.value) for r in report.results} == {
        (
            "https://w3id.org/policykg/shapes#Assertion-derivedFrom",
            "http://www.w3.org/ns/shacl#OrConstraintComponent",
            B + "graph/fixture",
            B + "id/place/brussels",
        )
    }
    whole = validate(data, shapes, ontology)
    assert {r.focus for r in whole.results} == {B + "graph/fixture", B + "id/place/brussels"}


@pytest.mark.parametrize(
    "construct",
    [
        "sh:node ex:Other",
        "sh:closed true",
        "sh:lessThan ex:end",
        "sh:qualifiedValueShape [ sh:class ex:C ] ; sh:qualifiedMinCount 1",
    ],
)
def test_shapes_the_change_validator_cannot_follow_are_refused_up_front(ontology, construct):
    extra = rdflib.Graph().parse(
        data=f"""@prefix sh: <http://www.w3.org/ns/shacl#> . @prefix ex: <http://example.org/> .
        ex:Shape a sh:NodeShape ; sh:targetClass ex:C ; sh:property [ sh:path ex:p ; {construct} ] .""",
        format="turtle",
    )
    with pytest.raises(ValueError, match="does not follow"):
        ChangeValidator(extra, ontology)

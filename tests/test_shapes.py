"""The shapes: the seed conforms, and every constraint is tripped by a fixture made to break it alone."""

import re
from pathlib import Path

import pytest
import rdflib
from rdflib.namespace import SH

from policykg.config import Settings
from policykg.namespaces import PKGSH
from policykg.rdfinput import read_files, to_rdflib_graph
from policykg.validation import validate

INVALID = Path(__file__).parent / "fixtures" / "invalid"
FIXTURE_FILES = sorted(INVALID.glob("*.ttl"))

# The constraint parameters the shapes use, and the component a result names for each.
PARAMETER_COMPONENTS = {
    SH.minCount: "MinCountConstraintComponent",
    SH.maxCount: "MaxCountConstraintComponent",
    SH.datatype: "DatatypeConstraintComponent",
    SH["class"]: "ClassConstraintComponent",
    SH.nodeKind: "NodeKindConstraintComponent",
    SH.minInclusive: "MinInclusiveConstraintComponent",
    SH.pattern: "PatternConstraintComponent",
    SH.uniqueLang: "UniqueLangConstraintComponent",
    SH["or"]: "OrConstraintComponent",
    SH.xone: "XoneConstraintComponent",
    SH.sparql: "SPARQLConstraintComponent",
}


def fixture_header(path: Path, base_iri: str) -> tuple[str, str, str]:
    """Read the shape, component and focus node a fixture declares in its header comments."""
    text = path.read_text(encoding="utf-8")
    fields = dict(re.findall(r"^# (shape|component|focus): (\S+)$", text, flags=re.MULTILINE))
    shape = fields["shape"].replace("pkgsh:", str(PKGSH))
    component = fields["component"].replace("sh:", str(SH))
    focus = fields["focus"].strip("<>")
    return shape, component, str(rdflib.URIRef(focus, base=base_iri))


def constraints_in(shapes: rdflib.Graph) -> set[tuple[str, str]]:
    """List every (shape, constraint component) pair the shapes graph declares on a named shape."""
    pairs = set()
    for parameter, component in PARAMETER_COMPONENTS.items():
        for shape in shapes.subjects(parameter, None):
            if isinstance(shape, rdflib.URIRef) and shape.startswith(str(PKGSH)):
                pairs.add((str(shape), str(SH) + component))
    return pairs


def test_seed_data_conforms_with_no_result_at_all(seed_graph, shapes, ontology):
    report = validate(seed_graph, shapes, ontology)
    assert report.results == ()
    assert report.conforms


@pytest.mark.parametrize("fixture", FIXTURE_FILES, ids=lambda p: p.stem)
def test_invalid_fixture_trips_exactly_its_constraint(fixture, seed_graph, shapes, ontology, settings: Settings):
    shape, component, focus = fixture_header(fixture, settings.base_iri)
    data = seed_graph + to_rdflib_graph(read_files([fixture], settings.base_iri))
    report = validate(data, shapes, ontology)
    assert {(r.shape, r.component, r.focus) for r in report.results} == {(shape, component, focus)}


def test_every_constraint_has_an_invalid_fixture(shapes, settings: Settings):
    covered = {fixture_header(path, settings.base_iri)[:2] for path in FIXTURE_FILES}
    missing = constraints_in(shapes) - covered
    assert not missing, "constraints without a fixture: " + ", ".join(sorted(f"{s} {c}" for s, c in missing))


def test_every_constraint_has_a_message_and_a_severity(shapes):
    for shape, _ in constraints_in(shapes):
        node = rdflib.URIRef(shape)
        messages = list(shapes.objects(node, SH.message)) + list(shapes.objects(node, SH.sparql / SH.message))
        assert messages, f"{shape} has no sh:message"
        assert shapes.value(node, SH.severity) in (SH.Violation, SH.Warning, SH.Info), f"{shape} has no severity"

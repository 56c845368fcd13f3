"""The shapes: the seed conforms, and every constraint is tripped by a fixture made to break it alone."""

import json
import re
from pathlib import Path

import pyshacl.shape
import pytest
import rdflib
from pyshacl.constraints import ALL_CONSTRAINT_PARAMETERS, CONSTRAINT_PARAMETERS_MAP
from rdflib.namespace import SH

from policykg.cli import main
from policykg.config import Settings
from policykg.rdf.namespaces import PKGSH
from policykg.validation.shacl import validate

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


def fixture_header(path: Path, base_iri: str) -> tuple[str, str, frozenset[str]]:
    """Read the shape, component and focus nodes (one or more `# focus:` lines) a fixture declares."""
    text = path.read_text(encoding="utf-8")
    fields = dict(re.findall(r"^# (shape|component): (\S+)$", text, flags=re.MULTILINE))
    shape = fields["shape"].replace("pkgsh:", str(PKGSH))
    component = fields["component"].replace("sh:", str(SH))
    foci = re.findall(r"^# focus: <(\S+)>$", text, flags=re.MULTILINE)
    return shape, component, frozenset(str(rdflib.URIRef(focus, base=base_iri)) for focus in foci)


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
def test_invalid_fixture_trips_exactly_its_constraint(fixture, settings: Settings, capsys):
    # Through the command a user runs: `policykg validate data/ FIXTURE --format json`.
    shape, component, foci = fixture_header(fixture, settings.base_iri)
    assert foci, f"{fixture.name} declares no focus node"
    status = main(["validate", str(settings.data_dir), str(fixture), "--format", "json"])
    report = json.loads(capsys.readouterr().out)
    found = {(r["sourceShape"], r["sourceConstraintComponent"], r["focusNode"]) for r in report["results"]}
    assert found == {(shape, component, focus) for focus in foci}
    blocking = any(r["severity"] == "Violation" for r in report["results"])
    assert (status, report["conforms"]) == ((1, False) if blocking else (0, True))


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


def test_every_class_of_the_model_is_the_target_of_a_shape(shapes, ontology, seed_graph):
    targets = set(shapes.objects(None, SH.targetClass))
    own = {
        c for c in ontology.subjects(rdflib.RDF.type, rdflib.OWL.Class) if c.startswith("https://w3id.org/policykg/")
    }
    used = set(seed_graph.objects(None, rdflib.RDF.type)) - {c for c in own}
    for cls in own | used:
        ancestors = set(ontology.transitive_objects(cls, rdflib.RDFS.subClassOf))
        assert ancestors & targets, f"no shape targets {cls} or a class above it"


def test_split_shapes_takes_every_sparql_constraint_out_of_the_core(shapes):
    from policykg.validation.shacl import split_shapes

    core, constraints = split_shapes(shapes)
    assert not list(core.triples((None, SH.sparql, None)))
    assert {c.shape.rsplit("#", 1)[-1] for c in constraints} == {
        "EventDatesInOrder",
        "SeriesNumberNeedsSeries",
        "UniqueSeriesNumber",
        "PresenterParticipated",
        "UniqueRecommendationOrdinal",
        "RecommendationTracked",
        "StatusNotBeforeIssue",
        "TopConceptInScheme",
        "LegalResourceDatesInOrder",
        "ExcerptOffsetsMatchText",
    }
    tracked = next(c for c in constraints if c.shape.endswith("RecommendationTracked"))
    assert (tracked.severity, tracked.targets) == ("Info", ("https://w3id.org/policykg/ontology#Recommendation",))


def test_pyshacls_constraint_parameters_are_its_own_list_answering_membership_from_a_set():
    # filled on importing policykg.validation.shacl (above), before pySHACL fills it itself
    parameters, by_parameter = pyshacl.shape.CONSTRAINT_PARAMS
    assert type(parameters) is not list  # ours, not the plain list pySHACL would have put there
    assert list(parameters) == ALL_CONSTRAINT_PARAMETERS and by_parameter is CONSTRAINT_PARAMETERS_MAP
    assert all(parameter in parameters for parameter in ALL_CONSTRAINT_PARAMETERS)
    assert SH.minCount in parameters and SH.targetClass not in parameters and SH.path not in parameters
    assert parameters.copy() == ALL_CONSTRAINT_PARAMETERS  # pySHACL copies and extends it in advanced mode

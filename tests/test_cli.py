"""The policykg command as a user runs it: a real process, its exit status and its output."""

import csv
import io
import json
import subprocess
import sys
from pathlib import Path

import rdflib
from rdflib.namespace import SH

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = Path(__file__).parent / "fixtures" / "invalid"


def policykg(*args: str) -> subprocess.CompletedProcess[str]:
    """Run the installed command in a fresh Python process from the repository root."""
    return subprocess.run(
        [sys.executable, "-m", "policykg.cli", *args], cwd=ROOT, capture_output=True, text=True, timeout=120
    )


def test_validate_without_arguments_checks_the_seed_data_and_exits_0():
    run = policykg("validate")
    assert run.returncode == 0, run.stderr
    assert "0 violations, 0 warnings, 0 infos. Conforms." in run.stdout


def test_validate_an_invalid_fixture_exits_1_and_names_shape_focus_and_message():
    run = policykg("validate", "data", str(FIXTURES / "Recommendation-concerns--minCount.ttl"))
    assert run.returncode == 1
    assert "1 violations, 0 warnings, 0 infos. Does not conform." in run.stdout
    assert "[Violation] <id/recommendation/fixture>" in run.stdout
    assert "path:    pkg:concerns" in run.stdout
    assert "shape:   pkgsh:Recommendation-concerns (MinCount)" in run.stdout
    assert "message: A recommendation concerns at least one pkg:PolicyConcept." in run.stdout


def test_validate_reports_the_offending_value():
    run = policykg("validate", "data", str(FIXTURES / "Recommendation-ordinal--minInclusive.ttl"))
    assert run.returncode == 1
    assert 'value:   "0"^^<xsd:integer>' in run.stdout


def test_validate_json_report_lists_each_result_with_its_fields():
    run = policykg("validate", "data", str(FIXTURES / "EventDatesInOrder--sparql.ttl"), "--format", "json")
    report = json.loads(run.stdout)
    assert run.returncode == 1 and report["conforms"] is False
    assert report["counts"] == {"Violation": 1, "Warning": 0, "Info": 0}
    (result,) = report["results"]
    assert result["sourceShape"] == "https://w3id.org/policykg/shapes#EventDatesInOrder"
    assert result["focusNode"] == "http://localhost:8000/id/event/fixture"
    assert result["message"].startswith("The event ends (")


def test_validate_turtle_report_is_a_shacl_validation_report():
    run = policykg("validate", "data", str(FIXTURES / "Recommendation-summary--minCount.ttl"), "--format", "turtle")
    graph = rdflib.Graph().parse(data=run.stdout, format="turtle")
    (result,) = graph.subjects(rdflib.RDF.type, SH.ValidationResult)
    assert graph.value(result, SH.resultSeverity) == SH.Warning
    # A warning alone does not make the data non-conforming for policykg.
    assert run.returncode == 0


def test_validate_unreadable_turtle_exits_2_with_file_line_and_column(tmp_path):
    broken = tmp_path / "broken.ttl"
    broken.write_text('@prefix ex: <http://example.org/> .\nex:a ex:b ex:c .\nex:a ex:b "open .\n')
    run = policykg("validate", str(broken))
    assert run.returncode == 2
    assert f"{broken}:3:11:" in run.stderr


def test_validate_an_unknown_file_ending_exits_2_and_asks_for_a_format(tmp_path):
    notes = tmp_path / "notes.txt"
    notes.write_text("<http://example.org/a> <http://example.org/b> <http://example.org/c> .\n")
    run = policykg("validate", str(notes))
    assert run.returncode == 2
    assert "cannot tell the RDF syntax from the file name; name it with --input-format" in run.stderr


def test_validate_input_format_reads_a_file_whatever_its_ending(tmp_path):
    notes = tmp_path / "seed.txt"
    notes.write_bytes((ROOT / "data" / "seed.trig").read_bytes())
    plain = policykg("validate", str(notes), str(ROOT / "data" / "concepts.trig"), "--input-format", "trig")
    assert plain.returncode == 0, plain.stdout + plain.stderr


def test_validate_a_missing_file_exits_2():
    run = policykg("validate", "no/such/file.ttl")
    assert run.returncode == 2 and "no such file or folder" in run.stderr


def test_validate_makes_no_connection_for_a_remote_jsonld_context(listener, tmp_path):
    entry = tmp_path / "entry.jsonld"
    entry.write_text(f'{{"@context": "http://127.0.0.1:{listener.port}/ctx", "@id": "http://example.org/a"}}')
    run = policykg("validate", str(entry))
    assert run.returncode == 2 and "remote context" in run.stderr
    assert listener.connections == 0


def test_query_prints_csv_answers():
    run = policykg(
        "query",
        "SELECT ?ordinal ?title WHERE { ?r pkg:ordinal ?ordinal ; dcterms:title ?title } ORDER BY ?ordinal",
        "--format",
        "csv",
    )
    rows = list(csv.reader(io.StringIO(run.stdout)))
    assert rows[0] == ["ordinal", "title"]
    assert [r[0] for r in rows[1:]] == ["1", "2", "3"]
    assert rows[3][1] == "Establishment of a European AI innovation hub for cultural heritage"


def test_query_runs_a_named_question_as_json():
    run = policykg("query", "--question", "recommendations-on-data-space", "--format", "json")
    bindings = json.loads(run.stdout)["results"]["bindings"]
    assert [b["ordinal"]["value"] for b in bindings] == ["2"]


def test_query_table_is_aligned_with_a_row_count():
    run = policykg("query", "--question", "representatives-at-meeting")
    lines = run.stdout.splitlines()
    assert lines[0].split() == ["?event", "?person", "?name", "?role", "?post"]
    assert lines[-1] == "(2 rows)"
    assert "Julia Pagel" in lines[2] and "attendee" in lines[2] and "presenter" in lines[3]


def test_query_over_given_files_only(tmp_path):
    path = tmp_path / "one.ttl"
    path.write_text('<http://example.org/a> <http://www.w3.org/2000/01/rdf-schema#label> "only" .\n')
    run = policykg(
        "query",
        "SELECT ?l WHERE { ?s rdfs:label ?l . FILTER(?s = <http://example.org/a>) }",
        str(path),
        "--format",
        "tsv",
    )
    assert run.stdout.splitlines() == ["?l", '"only"']


def test_query_construct_prints_turtle():
    run = policykg("query", "CONSTRUCT { ?s a pkg:Audience } WHERE { ?s a pkg:Audience }")
    graph = rdflib.Graph().parse(data=run.stdout, format="turtle")
    audiences = ("policymakers", "governments", "regulatory-bodies", "museum-professionals")
    assert set(graph.subjects()) == {rdflib.URIRef(f"http://localhost:8000/id/audience/{name}") for name in audiences}


def test_query_with_a_syntax_error_exits_2_with_the_position():
    run = policykg("query", "SELECT ?x WHERE { ?x ?y }")
    assert run.returncode == 2 and "error at 1:" in run.stderr


def test_questions_lists_every_question():
    run = policykg("questions")
    assert run.returncode == 0
    assert (
        run.stdout.count("\n  Which ")
        + run.stdout.count("\n  Who ")
        + run.stdout.count("\n  What ")
        + run.stdout.count("\n  At ")
        == 12
    )


def test_a_base_iri_that_is_not_absolute_is_refused():
    run = policykg("validate", "--base", "id/")
    assert run.returncode == 2 and "base_iri: Value error, must be an absolute http(s) IRI" in run.stderr


def test_validate_does_not_follow_owl_imports(listener, tmp_path):
    ontology = tmp_path / "imports.ttl"
    ontology.write_text(
        "@prefix owl: <http://www.w3.org/2002/07/owl#> .\n"
        f"<http://example.org/o> a owl:Ontology ; owl:imports <http://127.0.0.1:{listener.port}/other.ttl> .\n"
    )
    run = policykg("validate", "data", str(ontology))
    assert run.returncode == 0, run.stdout + run.stderr
    assert listener.connections == 0


def test_the_version_is_written_once_in_pyproject_and_shown_by_the_command_and_the_api(settings):
    import tomllib

    from policykg.store import EmbeddedStore
    from policykg.web.app import create_app

    written = tomllib.loads((settings.root / "pyproject.toml").read_text(encoding="utf-8"))["project"]["version"]
    run = policykg("--version")
    assert run.returncode == 0 and run.stdout.strip() == f"policykg {written}"
    store = EmbeddedStore.in_memory()
    try:
        assert create_app(settings, store).openapi()["info"]["version"] == written
    finally:
        store.close()

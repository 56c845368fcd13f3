"""Reading RDF: six syntaxes by file ending, parse errors with their position, nothing fetched."""

from pathlib import Path

import pyoxigraph as ox
import pytest

from policykg.errors import RdfSyntaxError, UnknownFormatError
from policykg.rdf.input import FORMATS, format_of, read_files, read_quads, to_rdflib_graph

B = "http://localhost:8000/"


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("a.ttl", ox.RdfFormat.TURTLE),
        ("a.trig", ox.RdfFormat.TRIG),
        ("a.nt", ox.RdfFormat.N_TRIPLES),
        ("a.nq", ox.RdfFormat.N_QUADS),
        ("a.jsonld", ox.RdfFormat.JSON_LD),
        ("a.rdf", ox.RdfFormat.RDF_XML),
    ],
)
def test_format_of_follows_the_file_ending(name, expected):
    assert format_of(Path(name)) == expected


def test_format_of_an_unknown_ending_names_the_known_formats():
    with pytest.raises(UnknownFormatError, match="jsonld, nquads, ntriples, rdfxml, trig, turtle"):
        format_of(Path("data.csv"))


@pytest.mark.parametrize("syntax", ["nquads", "trig", "jsonld"])
def test_the_seed_reads_the_same_in_every_dataset_syntax(syntax, settings, tmp_path):
    original = read_files([settings.data_dir], B)
    rdf_format = FORMATS[syntax][0]
    path = tmp_path / f"seed{FORMATS[syntax][1][0]}"
    path.write_bytes(ox.serialize(original, format=rdf_format))
    assert set(read_quads(path, B)) == set(original)


@pytest.mark.parametrize("syntax", ["turtle", "ntriples", "rdfxml"])
def test_the_seed_reads_the_same_in_every_graph_syntax(syntax, seed_graph, settings, tmp_path):
    triples = [ox.Triple(q.subject, q.predicate, q.object) for q in read_files([settings.data_dir], B)]
    path = tmp_path / f"seed{FORMATS[syntax][1][0]}"
    path.write_bytes(ox.serialize(triples, format=FORMATS[syntax][0]))
    assert set(to_rdflib_graph(read_quads(path, B))) == set(seed_graph)


def test_a_turtle_error_reports_file_line_and_column(tmp_path):
    path = tmp_path / "broken.ttl"
    path.write_text('@prefix ex: <http://example.org/> .\nex:a ex:b ex:c .\nex:a ex:b "open .\n')
    with pytest.raises(RdfSyntaxError) as caught:
        read_quads(path, B)
    assert (caught.value.source, caught.value.line, caught.value.column) == (str(path), 3, 11)


def test_relative_iris_resolve_against_the_base(tmp_path):
    path = tmp_path / "relative.ttl"
    path.write_text("<id/thing/a> <http://example.org/p> <id/thing/b> .\n")
    (quad,) = read_quads(path, "https://kg.example.org/")
    assert (quad.subject.value, quad.object.value) == (
        "https://kg.example.org/id/thing/a",
        "https://kg.example.org/id/thing/b",
    )


def test_a_remote_jsonld_context_is_refused_without_a_connection(listener, tmp_path):
    path = tmp_path / "remote.jsonld"
    path.write_text(
        f'{{"@context": "http://127.0.0.1:{listener.port}/context.jsonld", "@id": "http://example.org/a", "name": "x"}}'
    )
    with pytest.raises(RdfSyntaxError, match="remote context"):
        read_quads(path, B)
    assert listener.connections == 0


def test_an_rdfxml_external_entity_is_refused_without_a_connection(listener, tmp_path):
    path = tmp_path / "entity.rdf"
    path.write_text(
        '<?xml version="1.0"?>\n'
        f'<!DOCTYPE r [<!ENTITY x SYSTEM "http://127.0.0.1:{listener.port}/x">]>\n'
        '<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">'
        '<rdf:Description rdf:about="http://example.org/a"><rdf:value>&x;</rdf:value></rdf:Description></rdf:RDF>\n'
    )
    with pytest.raises(RdfSyntaxError):
        read_quads(path, B)
    assert listener.connections == 0

"""The API fuzzed from its own description (schemathesis): every route answers as /openapi.json says, never 5xx.

A throw-away service with the operator's token, so that the fuzzer reaches the write paths too: examples,
boundary values (coverage) and random requests, valid and not, for every operation. Each answer must have a
documented status, media type and body, and honour the protocol (405 with Allow, 401 without the token).
Afterwards the store must hold only valid data: it still conforms to the shapes, and it changed only if some
write was acknowledged.
"""

import os
from collections.abc import Iterator
from dataclasses import dataclass, field

import httpx
import pyoxigraph as ox
import pytest
import schemathesis
from conftest import SERVICE_SETTINGS, TOKEN, start_service, stop
from schemathesis.checks import not_a_server_error
from schemathesis.core.parameters import ParameterLocation
from schemathesis.specs.openapi.checks import (
    allow_header_conformance,
    content_type_conformance,
    ignored_auth,
    negative_data_rejection,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
    unsupported_method,
)

from policykg.config import Settings
from policykg.rdf.input import parse_bytes, to_rdflib_graph
from policykg.rdf.namespaces import ONTOLOGY_IRI, SHAPES_IRI
from policykg.store import EmbeddedStore
from policykg.validation.shacl import validate
from policykg.web.app import create_app

B = "http://localhost:8000/"
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
    response_headers_conformance,
    negative_data_rejection,
    unsupported_method,
    allow_header_conformance,
    ignored_auth,
]
# Bounded for CI: a few dozen requests per operation and phase, the same ones every run (FUZZ_EXAMPLES=500
# explores further).
FUZZING = {
    "seed": 1,
    "generation": {
        "mode": "all",
        "max-examples": int(os.environ.get("FUZZ_EXAMPLES", "25")),
        "deterministic": True,
        "database": "none",
    },
}
MODEL_GRAPHS = {ONTOLOGY_IRI, SHAPES_IRI}
# Bodies of these types go as the text generated for them (JSON-LD and RDF/XML have serializers of their own).
schemathesis.serializer.alias(
    [
        "application/sparql-query",
        "application/sparql-update",
        "application/n-triples",
        "application/n-quads",
        "application/trig",
        "application/x-turtle",
    ],
    "text/plain",
)


@dataclass
class Fuzzed:
    """The service being fuzzed, the store as it was before, and the writes it acknowledged since."""

    url: str
    before: set[ox.Quad]
    acknowledged: list[str] = field(default_factory=list)


def dump(url: str) -> set[ox.Quad]:
    """Every quad of the service's store."""
    response = httpx.get(url + "/store", headers={"Accept": "application/n-quads"}, timeout=60)
    return set(parse_bytes(response.content, "nquads", B))


@pytest.fixture(scope="module")
def fuzzed(tmp_path_factory) -> Iterator[Fuzzed]:
    folder = tmp_path_factory.mktemp("fuzzed")
    process, url = start_service(
        folder, POLICYKG_STORE=str(folder / "store"), POLICYKG_QUERY_WORKERS="1", **SERVICE_SETTINGS
    )
    try:
        yield Fuzzed(url, dump(url))
    finally:
        stop(process)


def api_description() -> dict[str, object]:
    """The service's OpenAPI description, as create_app builds it (the served one is the same: a test says so)."""
    return create_app(Settings(store="memory"), EmbeddedStore.in_memory()).openapi()


# Built when the tests are collected, to make one test per operation; the requests go to the served instance.
schema = schemathesis.openapi.from_dict(api_description(), config=schemathesis.Config.from_dict(FUZZING))


def test_api_description_served_is_the_one_fuzzed(fuzzed):
    assert httpx.get(fuzzed.url + "/openapi.json").json() == schema.raw_schema


@schema.parametrize()
def test_api_answers_as_documented(case, fuzzed):
    # The token makes writes possible; but a case whose headers were made to break the description (a required
    # Authorization left out, say) goes as it was made, or the token would mend it and the check would fail.
    headers_made_wrong = case.meta is not None and (
        (info := case.meta.components.get(ParameterLocation.HEADER)) is not None and info.mode.is_negative
    )
    token = {} if headers_made_wrong else {"Authorization": f"Bearer {TOKEN}"}
    response = case.call(base_url=fuzzed.url, headers=token, timeout=30)  # never a hang
    if response.status_code in (201, 204):
        fuzzed.acknowledged.append(f"{case.method} {case.formatted_path}")
    case.validate_response(response, checks=CHECKS)


def test_api_fuzzing_changes_the_store_by_acknowledged_writes_only(fuzzed):
    assert fuzzed.acknowledged or dump(fuzzed.url) == fuzzed.before


def test_api_fuzzing_leaves_a_store_that_conforms_to_the_shapes(fuzzed, shapes, ontology):
    data = [q for q in dump(fuzzed.url) if q.graph_name.value not in MODEL_GRAPHS]
    report = validate(to_rdflib_graph(data), shapes, ontology)
    assert report.conforms, [r.as_dict() for r in report.results if r.severity == "Violation"]


# What the fuzzer found, each kept as a test of its own.


@pytest.mark.parametrize(
    ("path", "methods"),
    [("/doc/id/org/nemo", {"GET", "HEAD"}), ("/entries/some-entry", {"GET", "HEAD", "PUT", "DELETE"})],
)
def test_method_not_allowed_on_a_templated_path_names_the_methods_it_takes(fuzzed, path, methods):
    answer = httpx.request("PATCH", fuzzed.url + path)
    assert answer.status_code == 405
    assert set(answer.headers["allow"].split(", ")) == methods | {"OPTIONS"}


@pytest.mark.parametrize("params", [{"default-graph-uri": B + "graph/concepts"}, {"format": ["json", "csv"]}])
def test_protocol_parameters_without_a_query_are_400(fuzzed, params):
    # Without any parameter, a GET asks for the service description; with some but no query, it is malformed.
    answer = httpx.get(fuzzed.url + "/sparql", params=params)
    assert answer.status_code == 400
    assert answer.json()["detail"] == "the request has neither a query nor an update parameter"

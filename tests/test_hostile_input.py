"""Hostile RDF at every input that takes RDF: each a 4xx with a specific problem, nothing written, the service sane.

The doors: entries (submit, check, revise), the Graph Store (a named graph, the default graph, the dataset)
and SPARQL Update's INSERT DATA, each in the syntaxes it takes. Thrown at them: documents cut short, IRIs
that are none (drawn by hypothesis), nesting thousands of levels deep, remote JSON-LD contexts, XML external
entities and entity expansion, huge literals just under the body limit (a body over it is refused by every
route in test_service_security), and quads for the graphs the service keeps.
"""

import hashlib
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from xml.sax.saxutils import quoteattr

import httpx
import pytest
from conftest import SERVICE_SETTINGS, TOKEN, free_port, start_service, stop
from hypothesis import given, settings
from hypothesis import strategies as st

from policykg.rdf.namespaces import ONTOLOGY_IRI, SHAPES_IRI

B = "http://localhost:8000/"
PROBLEM = "https://w3id.org/policykg/problems/"
RDF, RDFS = "http://www.w3.org/1999/02/22-rdf-syntax-ns#", "http://www.w3.org/2000/01/rdf-schema#"
ORGANISATION, LABEL = "https://w3id.org/policykg/ontology#Organisation", RDFS + "label"
SUBJECT, GRAPH = B + "id/org/hostile", B + "graph/hostile"
REGISTRY, ENTRY_GRAPH, SEED_GRAPH = (
    B + "graph/entries",
    B + "entries/20250101T000000-000000000000",
    B + "graph/seed/attendance",
)
LIMIT = int(SERVICE_SETTINGS["POLICYKG_MAX_BODY_BYTES"])
MEDIA_TYPES = {
    "turtle": "text/turtle",
    "ntriples": "application/n-triples",
    "nquads": "application/n-quads",
    "trig": "application/trig",
    "jsonld": "application/ld+json",
    "rdfxml": "application/rdf+xml",
    "sparql": "application/sparql-update",
}
TRIPLES, DATASETS = ("turtle", "ntriples", "jsonld", "rdfxml"), ("nquads", "trig")


@dataclass(frozen=True)
class Door:
    """One way RDF gets in: a route, its parameters, and the syntaxes it takes."""

    name: str
    method: str
    path: str
    syntaxes: tuple[str, ...]
    params: dict[str, str] = field(default_factory=dict)

    def send(self, url: str, body: bytes, syntax: str) -> httpx.Response:
        return httpx.request(
            self.method,
            url + self.path,
            params=self.params,
            content=body,
            timeout=60,
            headers={
                "Authorization": f"Bearer {TOKEN}",
                "Content-Type": MEDIA_TYPES[syntax],
                "Accept": "application/problem+json",
            },
        )


DOORS = [
    Door("entry", "POST", "/entries", TRIPLES + DATASETS),
    Door("entry-check", "POST", "/validate", TRIPLES + DATASETS),
    Door("entry-revision", "PUT", "/entries/20250101T000000-000000000000", TRIPLES + DATASETS),
    Door("graph-replace", "PUT", "/store", TRIPLES, {"graph": GRAPH}),
    Door("graph-add", "POST", "/store", TRIPLES, {"graph": GRAPH}),
    Door("default-replace", "PUT", "/store", TRIPLES, {"default": ""}),
    Door("default-add", "POST", "/store", TRIPLES, {"default": ""}),
    Door("dataset-add", "POST", "/store", TRIPLES + DATASETS),
    Door("update", "POST", "/sparql", ("sparql",)),
]
DOOR = {door.name: door for door in DOORS}


def doors_for(syntax: str) -> list[Door]:
    return [door for door in DOORS if syntax in door.syntaxes]


def document(syntax: str, subject: str = SUBJECT) -> str:
    """A small valid document in a syntax (one statement, so that any shorter prefix of it is invalid)."""
    node = f"<{subject}>"
    return {
        "turtle": f'{node} a <{ORGANISATION}> ; <{LABEL}> "Hostile"@en .',
        "ntriples": f'{node} <{LABEL}> "Hostile"@en .',
        "nquads": f'{node} <{LABEL}> "Hostile"@en <{GRAPH}> .',
        "trig": f'<{GRAPH}> {{ {node} a <{ORGANISATION}> ; <{LABEL}> "Hostile"@en . }}',
        "jsonld": json.dumps({"@id": subject, "@type": ORGANISATION, LABEL: {"@value": "Hostile", "@language": "en"}}),
        "rdfxml": f'<rdf:RDF xmlns:rdf="{RDF}" xmlns:rdfs="{RDFS}"><rdf:Description rdf:about={quoteattr(subject)}>'
        f'<rdf:type rdf:resource="{ORGANISATION}"/><rdfs:label xml:lang="en">Hostile</rdfs:label>'
        "</rdf:Description></rdf:RDF>",
        "sparql": f'INSERT DATA {{ GRAPH <{GRAPH}> {{ {node} a <{ORGANISATION}> ; <{LABEL}> "Hostile"@en }} }}',
    }[syntax]


def malformed(syntax: str) -> str:
    return "malformed-request" if syntax == "sparql" else "malformed-rdf"


@dataclass(frozen=True)
class Hostile:
    """The service under attack: its address and its process."""

    url: str
    pid: int

    def fingerprint(self) -> str:
        """A digest of every quad the store holds (its N-Quads dump is in a stable order)."""
        dump = httpx.get(self.url + "/store", headers={"Accept": "application/n-quads"}, timeout=60)
        assert dump.status_code == 200
        return hashlib.sha256(dump.content).hexdigest()

    def resident_bytes(self) -> int:
        status = Path(f"/proc/{self.pid}/status").read_text()
        return int(re.search(r"VmRSS:\s+(\d+) kB", status).group(1)) * 1024  # type: ignore[union-attr]


@pytest.fixture(scope="module")
def hostile(tmp_path_factory) -> Iterator[Hostile]:
    """A service of its own, over an in-memory store, with the tokens, a 2 MB body limit and an entry."""
    folder = tmp_path_factory.mktemp("hostile")
    process, url = start_service(folder, POLICYKG_STORE="memory", **SERVICE_SETTINGS)
    try:
        entry = DOOR["entry"].send(url, document("turtle", B + "id/org/welcome").encode(), "turtle")
        assert entry.status_code == 201, entry.text  # so that the registry of entries has something to lose
        yield Hostile(url, process.pid)
    finally:
        stop(process)


def assert_refused(
    service: Hostile, door: Door, body: bytes, syntax: str, status: int, kind: str, said: str = ""
) -> dict[str, object]:
    """The door answers a problem of the kind and status given, whose detail says what it was told.

    Nothing is written.
    """
    before = service.fingerprint()
    answer = door.send(service.url, body, syntax)
    assert answer.status_code == status, answer.text[:500]
    assert answer.headers["content-type"] == "application/problem+json"
    problem = answer.json()
    assert problem["type"] == PROBLEM + kind and said in problem["detail"], problem
    assert service.fingerprint() == before
    return problem  # type: ignore[no-any-return]


def assert_malformed(service: Hostile, door: Door, body: bytes, syntax: str) -> None:
    """400, and the detail points at the body (RDF: by its name, with the parser's position where it has one)."""
    problem = assert_refused(service, door, body, syntax, 400, malformed(syntax))
    if syntax != "sparql":
        assert str(problem["detail"]).startswith(("entry", "request body")), problem


# --- Documents cut short, and IRIs that are none: drawn for every syntax and door.


@pytest.mark.parametrize("syntax", MEDIA_TYPES)
@settings(max_examples=8, deadline=None, derandomize=True)
@given(data=st.data())
def test_a_document_cut_short_is_400_and_writes_nothing(hostile, syntax, data):
    text = document(syntax)
    door = data.draw(st.sampled_from(doors_for(syntax)), label="door")
    cut = data.draw(st.integers(1, len(text) - 1), label="cut")
    assert_malformed(hostile, door, text[:cut].encode(), syntax)


NOT_IN_IRIS = st.sampled_from(
    [" ", "<", ">", '"', "{", "}", "|", "^", "`", "\\", "\x00", "\x01", "\t", "\n", "\x7f", "\x85"]
)
ESCAPED = st.sampled_from(
    ["\\u0020", "\\u003C", "\\u003E", "\\u0022", "\\u007B", "\\u007C", "\\u005C", "\\u0000", "\\U0000007D"]
)  # Turtle and SPARQL read these as the character itself
PATH = st.text("abcXYZ019-._~/", max_size=6)
BAD_IRIS = st.one_of(
    st.builds(lambda before, bad, after: f"{B}id/{before}{bad}{after}", PATH, st.one_of(NOT_IN_IRIS, ESCAPED), PATH),
    st.sampled_from(["http://[::1/a", B + "id/a%zzb", "http://a b/", "id/a b"]),
)


@pytest.mark.parametrize("syntax", MEDIA_TYPES)
@settings(max_examples=8, deadline=None, derandomize=True)
@given(data=st.data())
def test_an_iri_that_is_none_is_400_and_writes_nothing(hostile, syntax, data):
    door = data.draw(st.sampled_from(doors_for(syntax)), label="door")
    iri = data.draw(BAD_IRIS, label="iri")
    assert_malformed(hostile, door, document(syntax, iri).encode(), syntax)


# --- Bodies built to crash, stall or fool a parser: each at every door that takes its syntax.


def nested_jsonld(levels: int) -> str:
    return f'{{"@id": "{SUBJECT}", "{LABEL}": ' * levels + '"deep"' + "}" * levels


def rdfxml(inside: str, doctype: str = "") -> str:
    return (
        f'{doctype}<rdf:RDF xmlns:rdf="{RDF}" xmlns:rdfs="{RDFS}"><rdf:Description rdf:about="{SUBJECT}">'
        f"{inside}</rdf:Description></rdf:RDF>"
    )


def entities(*declarations: str) -> str:
    return "<!DOCTYPE rdf:RDF [" + "".join(declarations) + "]>"


LAUGHS = entities('<!ENTITY l0 "lol">', *(f'<!ENTITY l{i} "{f"&l{i - 1};" * 10}">' for i in range(1, 10)))
CLOSED_PORT = free_port()  # nothing listens there; test_no_outbound counts connections to a listener instead
HUGE = LIMIT - 1000  # a literal just under the body limit

HOSTILE = [  # (name, syntax, body, status, problem type, what the detail says)
    ("jsonld-5000-levels", "jsonld", nested_jsonld(5000), 400, "rdf-refused", "more than 100 levels deep"),
    (
        "jsonld-arrays-100000-levels",
        "jsonld",
        f'{{"@id": "{SUBJECT}", "{LABEL}": ' + "[" * 100_000 + "]" * 100_000 + "}",
        400,
        "rdf-refused",
        "more than 100 levels deep",
    ),
    (
        "jsonld-remote-context",
        "jsonld",
        json.dumps({"@context": f"http://127.0.0.1:{CLOSED_PORT}/context.jsonld", "@id": SUBJECT, "name": "x"}),
        400,
        "rdf-refused",
        "names a remote @context, which this service never fetches",
    ),
    (
        "jsonld-remote-context-import",
        "jsonld",
        json.dumps({"@context": {"@import": f"http://127.0.0.1:{CLOSED_PORT}/c"}, "@id": SUBJECT, "name": "x"}),
        400,
        "rdf-refused",
        "remote @context",
    ),
    ("jsonld-bare-value", "jsonld", '"hostile"', 400, "malformed-rdf", "a JSON-LD document is an object or an array"),
    (
        "rdfxml-20000-levels",
        "rdfxml",
        rdfxml("<rdfs:seeAlso><rdf:Description>" * 10_000 + "</rdf:Description></rdfs:seeAlso>" * 10_000),
        400,
        "rdf-refused",
        "levels deep",
    ),
    (
        "rdfxml-billion-laughs",
        "rdfxml",
        rdfxml("<rdfs:label>&l9;</rdfs:label>", LAUGHS),
        400,
        "rdf-refused",
        "entities within entities",
    ),
    (
        "rdfxml-entity-amplification",
        "rdfxml",
        rdfxml("<rdfs:label>" + "&big;" * 5000 + "</rdfs:label>", entities(f'<!ENTITY big "{"x" * 1000}">')),
        400,
        "rdf-refused",
        "at most twice the document's size",
    ),
    (
        "rdfxml-external-entity-file",
        "rdfxml",
        rdfxml("<rdfs:label>&x;</rdfs:label>", entities('<!ENTITY x SYSTEM "file:///etc/passwd">')),
        400,
        "rdf-refused",
        "it fetches nothing",
    ),
    (
        "rdfxml-external-entity-http",
        "rdfxml",
        rdfxml("<rdfs:label>&x;</rdfs:label>", entities(f'<!ENTITY x SYSTEM "http://127.0.0.1:{CLOSED_PORT}/">')),
        400,
        "rdf-refused",
        "it fetches nothing",
    ),
    (
        "rdfxml-parameter-entity",
        "rdfxml",
        rdfxml("", entities(f'<!ENTITY % p SYSTEM "http://127.0.0.1:{CLOSED_PORT}/p.dtd"> %p;')),
        400,
        "rdf-refused",
        "it fetches nothing",
    ),
    (
        "rdfxml-cut-after-an-element",
        "rdfxml",
        rdfxml(f'<rdf:type rdf:resource="{ORGANISATION}"/>')[: -len("</rdf:Description></rdf:RDF>")],
        400,
        "malformed-rdf",
        "not closed: it was cut short",
    ),
    (
        "turtle-huge-literal-unterminated",
        "turtle",
        f'<{SUBJECT}> <{LABEL}> "' + "x" * HUGE,
        400,
        "malformed-rdf",
        "Unexpected end of file",
    ),
    (
        "jsonld-huge-literal-unterminated",
        "jsonld",
        f'{{"@id": "{SUBJECT}", "{LABEL}": "' + "x" * HUGE,
        400,
        "malformed-rdf",
        "not JSON: Unterminated string",
    ),
    # Deep, then one byte that is not JSON: the JSON-LD parser would recurse through every level before it.
    (
        "jsonld-20000-levels-then-not-utf8",
        "jsonld",
        (f'{{"{LABEL}": ' * 20_000 + "1" + "}" * 20_000).encode() + b"\xff",
        400,
        "malformed-rdf",
        "not JSON: 'utf-8' codec can't decode byte 0xff",
    ),
    (
        "rdfxml-huge-literal-unclosed",
        "rdfxml",
        rdfxml("<rdfs:label>" + "x" * HUGE)[: -len("</rdf:Description></rdf:RDF>")],
        400,
        "malformed-rdf",
        "not closed: it was cut short",
    ),
]


@pytest.mark.parametrize(
    ("name", "syntax", "body", "status", "kind", "said", "door"),
    [
        pytest.param(name, syntax, body, status, kind, said, door, id=f"{name}-{door.name}")
        for name, syntax, body, status, kind, said in HOSTILE
        for door in doors_for(syntax)
    ],
)
def test_a_hostile_body_is_refused_and_writes_nothing(hostile, name, syntax, body, status, kind, said, door):
    assert_refused(hostile, door, encoded(body), syntax, status, kind, said)


def encoded(body: str | bytes) -> bytes:
    """The body as sent: text in UTF-8, bytes as they are."""
    return body if isinstance(body, bytes) else body.encode()


# --- Quads for the graphs the service keeps: the model's (read-only), the entries' (written by /entries
# only), and the seed (the operator's data, under the shapes like any other).


def quad(graph: str, triple: str = f'<{SUBJECT}> <{LABEL}> "Hostile"@en') -> str:
    return f"{triple} <{graph}> ."


BREAKING = f'<{B}id/event/cultural-heritage-expert-group-meeting-11> <https://schema.org/startDate> "2099-01-01"^^<http://www.w3.org/2001/XMLSchema#date>'
READ_ONLY, KEPT = "the ontology and shapes graphs change only", "is written through /entries only"

RESERVED = [  # (name, door, syntax, params, body, status, problem type, what the detail says)
    ("ontology-as-quads", "dataset-add", "nquads", {}, quad(ONTOLOGY_IRI), 403, "read-only-graph", READ_ONLY),
    (
        "shapes-as-trig",
        "dataset-add",
        "trig",
        {},
        f'<{SHAPES_IRI}> {{ <{SUBJECT}> <{LABEL}> "x" }}',
        403,
        "read-only-graph",
        READ_ONLY,
    ),
    ("registry-as-quads", "dataset-add", "nquads", {}, quad(REGISTRY), 403, "read-only-graph", KEPT),
    ("entry-graph-as-quads", "dataset-add", "nquads", {}, quad(ENTRY_GRAPH), 403, "read-only-graph", KEPT),
    (
        "seed-as-quads-breaking-the-shapes",
        "dataset-add",
        "nquads",
        {},
        quad(SEED_GRAPH, BREAKING),
        422,
        "shapes-violated",
        "nothing was written",
    ),
    (
        "ontology-replaced",
        "graph-replace",
        "turtle",
        {"graph": ONTOLOGY_IRI},
        document("turtle"),
        403,
        "read-only-graph",
        READ_ONLY,
    ),
    (
        "shapes-added-to",
        "graph-add",
        "turtle",
        {"graph": SHAPES_IRI},
        document("turtle"),
        403,
        "read-only-graph",
        READ_ONLY,
    ),
    (
        "registry-replaced",
        "graph-replace",
        "turtle",
        {"graph": REGISTRY},
        document("turtle"),
        403,
        "read-only-graph",
        KEPT,
    ),
    ("registry-emptied", "graph-replace", "turtle", {"graph": REGISTRY}, "", 403, "read-only-graph", KEPT),
    ("registry-added-to", "graph-add", "jsonld", {"graph": REGISTRY}, document("jsonld"), 403, "read-only-graph", KEPT),
    (
        "entry-graph-added-to",
        "graph-add",
        "ntriples",
        {"graph": ENTRY_GRAPH},
        document("ntriples"),
        403,
        "read-only-graph",
        KEPT,
    ),
    (
        "ontology-inserted-into",
        "update",
        "sparql",
        {},
        f"INSERT DATA {{ GRAPH <{ONTOLOGY_IRI}> {{ <{SUBJECT}> <{LABEL}> 'x' }} }}",
        403,
        "read-only-graph",
        READ_ONLY,
    ),
    (
        "registry-inserted-into",
        "update",
        "sparql",
        {},
        f"INSERT DATA {{ GRAPH <{REGISTRY}> {{ <{SUBJECT}> <{LABEL}> 'x' }} }}",
        403,
        "read-only-graph",
        KEPT,
    ),
    ("registry-dropped", "update", "sparql", {}, f"DROP GRAPH <{REGISTRY}>", 403, "read-only-graph", KEPT),
    (
        "seed-inserted-into-breaking-the-shapes",
        "update",
        "sparql",
        {},
        f"INSERT DATA {{ GRAPH <{SEED_GRAPH}> {{ {BREAKING} }} }}",
        422,
        "shapes-violated",
        "nothing was written",
    ),
    (
        "entry-naming-the-registry",
        "entry",
        "trig",
        {},
        f"<{REGISTRY}> {{ <{SUBJECT}> a <{ORGANISATION}> }}",
        422,
        "entry-rejected",
        "are not written by entries",
    ),
    (
        "entry-naming-the-shapes",
        "entry",
        "nquads",
        {},
        quad(SHAPES_IRI, f"<{SUBJECT}> <{RDF}type> <{ORGANISATION}>"),
        422,
        "entry-rejected",
        "are not written by entries",
    ),
]


@pytest.mark.parametrize(
    ("name", "door", "syntax", "params", "body", "status", "kind", "said"), RESERVED, ids=[case[0] for case in RESERVED]
)
def test_quads_for_a_graph_the_service_keeps_are_refused_and_write_nothing(
    hostile, name, door, syntax, params, body, status, kind, said
):
    aimed = Door(name, DOOR[door].method, DOOR[door].path, (syntax,), params or DOOR[door].params)
    assert_refused(hostile, aimed, body.encode(), syntax, status, kind, said)


def test_the_registry_cannot_be_deleted(hostile):
    before = hostile.fingerprint()
    answer = httpx.delete(
        hostile.url + "/store", params={"graph": REGISTRY}, headers={"Authorization": f"Bearer {TOKEN}"}
    )
    assert answer.status_code == 403 and KEPT in answer.json()["detail"]
    assert hostile.fingerprint() == before


# --- What stays allowed, and what the service keeps to meanwhile.

ALLOWED = [  # documents that look like the refused ones, and are fine: namespace entities, the service's own context
    (
        "rdfxml",
        rdfxml(
            '<rdf:type rdf:resource="&pkg;Organisation"/><rdfs:label xml:lang="en">Allowed</rdfs:label>',
            entities(
                '<!ENTITY pkg "https://w3id.org/policykg/ontology#">',
                '<!ENTITY xsd "http://www.w3.org/2001/XMLSchema#">',
            ),
        ),
    ),
    (
        "jsonld",
        json.dumps(
            {
                "@context": B + "context.jsonld",
                "@id": SUBJECT,
                "@type": "pkg:Organisation",
                "rdfs:label": {"@value": "Allowed", "@language": "en"},
            }
        ),
    ),
]


@pytest.mark.parametrize(("syntax", "body"), ALLOWED, ids=[syntax for syntax, _ in ALLOWED])
def test_a_document_like_the_refused_ones_is_read(hostile, syntax, body):
    answer = DOOR["entry-check"].send(hostile.url, body.encode(), syntax)
    assert answer.status_code == 200 and answer.json()["conforms"] is True, answer.text


def test_hostile_bodies_leave_the_service_answering_within_bounded_memory(hostile):
    resident = hostile.resident_bytes()
    expanding = [
        (name, syntax, encoded(body)) for name, syntax, body, *_ in HOSTILE if "levels" in name or "entit" in name
    ]
    for name, syntax, body in expanding:
        assert DOOR["entry"].send(hostile.url, body, syntax).status_code == 400, name
    # Unguarded, the billion laughs alone grows the process by gigabytes, and 5000 levels of JSON-LD end it.
    assert hostile.resident_bytes() - resident < 256 * 1024 * 1024
    ask = httpx.get(
        hostile.url + "/sparql", params={"query": "ASK {}"}, headers={"Accept": "application/sparql-results+json"}
    )
    assert ask.json()["boolean"] is True

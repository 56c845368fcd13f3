"""No client-controlled input makes the service connect elsewhere: every way to name a remote address, one table.

A listener on a loopback port counts the connections made to it; each request below names it, as SPARQL's
SERVICE, LOAD, FROM or USING, as a protocol parameter, as a JSON-LD context, as an XML entity or DTD, as
owl:imports, sh:shapesGraph or rdfs:seeAlso in submitted data, or as a path to dereference. None may
reach it. With the listener named in POLICYKG_ALLOWED_REMOTE_ENDPOINTS, SERVICE to it is tried, and
nothing else is.
"""

import hashlib
import json
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from urllib.parse import urlencode

import httpx
import pytest
from conftest import Listener, Service, start_service, stop

B = "http://localhost:8000/"
PROBLEM = "https://w3id.org/policykg/problems/"
RDF, RDFS = "http://www.w3.org/1999/02/22-rdf-syntax-ns#", "http://www.w3.org/2000/01/rdf-schema#"
OWL, SH = "http://www.w3.org/2002/07/owl#", "http://www.w3.org/ns/shacl#"
ORGANISATION = "https://w3id.org/policykg/ontology#Organisation"
SRJ, FORM = "application/sparql-results+json", "application/x-www-form-urlencoded"
REMOTE = "http://127.0.0.1:{port}/data"  # the listener, as each request names it


@dataclass(frozen=True)
class Reach:
    """A request that names a remote address ({remote} in any part), and the answer it must get."""

    name: str
    method: str
    path: str
    status: int
    kind: str | None = None  # the problem type of a refusal
    params: dict[str, str] = field(default_factory=dict)
    body: str = ""
    media_type: str | None = None

    def send(self, service: Service, remote: str) -> httpx.Response:
        """Send it with {remote} standing for the remote address, and {fresh} for a graph of its own."""
        names = {"{remote}": remote, "{fresh}": f"{B}graph/{uuid.uuid4()}"}

        def fill(text: str) -> str:
            for name, value in names.items():
                text = text.replace(name, value)
            return text

        headers = {
            **service.auth(),
            "Accept": "application/problem+json, application/sparql-results+json;q=0.9, */*;q=0.1",
        }
        if self.media_type:
            headers["Content-Type"] = self.media_type
        body = urlencode({"query": fill(self.body)}) if self.media_type == FORM else fill(self.body)
        return httpx.request(
            self.method,
            service.url + fill(self.path),
            params={k: fill(v) for k, v in self.params.items()},
            content=body.encode() or None,
            headers=headers,
            timeout=60,
        )


def query(name: str, text: str, status: int = 200, kind: str | None = None, **params: str) -> list[Reach]:
    """A query sent each way the protocol allows: GET, HEAD, a form POST and a direct POST."""
    return [
        Reach(f"{name}-get", "GET", "/sparql", status, kind, {"query": text, **params}),
        Reach(f"{name}-head", "HEAD", "/sparql", status, None, {"query": text, **params}),
        Reach(f"{name}-form", "POST", "/sparql", status, kind, params, text, FORM),
        Reach(f"{name}-direct", "POST", "/sparql", status, kind, params, text, "application/sparql-query"),
    ]


def update(name: str, text: str, status: int, kind: str | None = None, **params: str) -> Reach:
    return Reach(name, "POST", "/sparql", status, kind, params, text, "application/sparql-update")


def rdf(
    name: str, method: str, path: str, body: str, media_type: str, status: int, kind: str | None = None, **params: str
) -> Reach:
    return Reach(name, method, path, status, kind, params, body, media_type)


ORG = f'<{B}id/org/outbound> a <{ORGANISATION}> ; <{RDFS}label> "Outbound"@en'
JSONLD_CONTEXTS = {"context": "{remote}", "context-list": ["{remote}"], "context-import": {"@import": "{remote}"}}
XML_BODY = (
    f'<rdf:RDF xmlns:rdf="{RDF}" xmlns:rdfs="{RDFS}"><rdf:Description rdf:about="{B}id/org/outbound">'
    f'<rdf:type rdf:resource="{ORGANISATION}"/><rdfs:label xml:lang="en">Outbound$x</rdfs:label>'
    "</rdf:Description></rdf:RDF>"
)
XML_DOCTYPES = {  # (declaration, what stands in the label, whether the document is refused)
    "external-entity": ('<!DOCTYPE rdf:RDF [<!ENTITY x SYSTEM "{remote}">]>', "&x;", True),
    "external-entity-public": ('<!DOCTYPE rdf:RDF [<!ENTITY x PUBLIC "-//x//EN" "{remote}">]>', "&x;", True),
    "parameter-entity": ('<!DOCTYPE rdf:RDF [<!ENTITY % p SYSTEM "{remote}"> %p;]>', "", True),
    "doctype-system": ('<!DOCTYPE rdf:RDF SYSTEM "{remote}">', "", False),  # read, the DTD never fetched
    "doctype-public": ('<!DOCTYPE rdf:RDF PUBLIC "-//x//EN" "{remote}">', "", False),
}
XML_DOORS = {
    "check": ("POST", "/validate", {}, 200),
    "entry": ("POST", "/entries", {}, 201),
    "graph": ("PUT", "/store", {"graph": "{fresh}"}, 201),
}  # (method, path, parameters, the answer when read)

REACHES = [
    *query("service", "SELECT * WHERE { SERVICE <{remote}> { ?s ?p ?o } }", 403, "remote-access-refused"),
    *query("service-silent", "SELECT * WHERE { SERVICE SILENT <{remote}> { ?s ?p ?o } }", 403, "remote-access-refused"),
    *query("service-escaped", "SELECT * WHERE { \\u0053ERVICE <{remote}> { ?s ?p ?o } }", 403, "remote-access-refused"),
    # A quote escaped in a local name (ex:a\') is part of the name: it must not make the rest look like a string.
    *query(
        "service-after-an-escaped-quote",
        "PREFIX ex: <http://example.org/> SELECT * WHERE { BIND(ex:a\\' AS ?b) "
        'SERVICE <{remote}> { ?s ?p ?o } FILTER(?b != "\'") }',
        403,
        "remote-access-refused",
    ),
    *query(
        "service-by-variable",
        "SELECT * WHERE { VALUES ?at { <{remote}> } SERVICE ?at { ?s ?p ?o } }",
        403,
        "remote-access-refused",
    ),
    *query("from", "SELECT * FROM <{remote}> WHERE { ?s ?p ?o }"),
    *query("from-named", "SELECT * FROM NAMED <{remote}> WHERE { GRAPH ?g { ?s ?p ?o } }"),
    *query("default-graph-uri", "SELECT * WHERE { ?s ?p ?o }", **{"default-graph-uri": "{remote}"}),
    *query("named-graph-uri", "SELECT * WHERE { GRAPH ?g { ?s ?p ?o } }", **{"named-graph-uri": "{remote}"}),
    *query("describe", "DESCRIBE <{remote}>"),
    update("load", "LOAD <{remote}>", 403, "remote-access-refused"),
    update("load-into-graph", "LOAD <{remote}> INTO GRAPH <{fresh}>", 403, "remote-access-refused"),
    update("load-silent-into-graph", "LOAD SILENT <{remote}> INTO GRAPH <{fresh}>", 403, "remote-access-refused"),
    update(
        "service-in-update",
        "INSERT { GRAPH <{fresh}> { ?s ?p ?o } } WHERE { SERVICE <{remote}> { ?s ?p ?o } }",
        403,
        "remote-access-refused",
    ),
    update("using", "INSERT { GRAPH <{fresh}> { ?s ?p ?o } } USING <{remote}> WHERE { ?s ?p ?o }", 204),
    update(
        "using-named",
        "INSERT { GRAPH <{fresh}> { ?s ?p ?o } } USING NAMED <{remote}> WHERE { GRAPH ?g { ?s ?p ?o } }",
        204,
    ),
    update("with", "WITH <{remote}> DELETE { ?s ?p ?o } WHERE { ?s ?p ?o }", 204),
    update(
        "using-graph-uri",
        "INSERT { GRAPH <{fresh}> { ?s ?p ?o } } WHERE { ?s ?p ?o }",
        204,
        **{"using-graph-uri": "{remote}"},
    ),
    update(
        "using-named-graph-uri",
        "INSERT { GRAPH <{fresh}> { ?s ?p ?o } } WHERE { GRAPH ?g { ?s ?p ?o } }",
        204,
        **{"using-named-graph-uri": "{remote}"},
    ),
    update("add-from", "ADD SILENT <{remote}> TO <{fresh}>", 204),
    *(
        rdf(
            f"jsonld-{name}-{where}",
            method,
            path,
            json.dumps({"@context": context, "@id": f"{B}id/org/outbound", "@type": ORGANISATION, "name": "Outbound"}),
            "application/ld+json",
            400,
            "rdf-refused",
            **params,
        )
        for name, context in JSONLD_CONTEXTS.items()
        for where, method, path, params in (
            ("entry", "POST", "/entries", {}),
            ("check", "POST", "/validate", {}),
            ("graph", "PUT", "/store", {"graph": "{fresh}"}),
            ("dataset", "POST", "/store", {}),
        )
    ),
    rdf(
        "jsonld-scoped-context-entry",
        "POST",
        "/entries",
        json.dumps(
            {
                "@context": {"p": {"@id": "http://example.org/p", "@context": "{remote}"}},
                "@id": f"{B}id/org/outbound",
                "@type": ORGANISATION,
                "p": {"@id": f"{B}id/org/other"},
            }
        ),
        "application/ld+json",
        400,
        "rdf-refused",
    ),
    *(
        rdf(
            f"rdfxml-{name}-{where}",
            method,
            path,
            declaration + XML_BODY.replace("$x", inside),
            "application/rdf+xml",
            400 if refused else read,
            "rdf-refused" if refused else None,
            **params,
        )
        for name, (declaration, inside, refused) in XML_DOCTYPES.items()
        for where, (method, path, params, read) in XML_DOORS.items()
    ),
    rdf("owl-imports-check", "POST", "/validate", f"{ORG} ; <{OWL}imports> <{{remote}}> .", "text/turtle", 200),
    rdf(
        "owl-imports-graph",
        "PUT",
        "/store",
        f"<{{fresh}}> a <{OWL}Ontology> ; <{OWL}imports> <{{remote}}> .",
        "text/turtle",
        201,
        graph="{fresh}",
    ),
    rdf("shapes-graph-check", "POST", "/validate", f"{ORG} ; <{SH}shapesGraph> <{{remote}}> .", "text/turtle", 200),
    rdf(
        "shapes-graph-graph",
        "PUT",
        "/store",
        f"<{{fresh}}> <{SH}shapesGraph> <{{remote}}> .",
        "text/turtle",
        201,
        graph="{fresh}",
    ),
    rdf("see-also-entry", "POST", "/entries", f"{ORG} ; <{RDFS}seeAlso> <{{remote}}> .", "text/turtle", 201),
    Reach("dereference-id", "GET", "/id/{remote}", 404, "resource-not-found"),
    Reach("dereference-doc", "GET", "/doc/{remote}.ttl", 404, "resource-not-found"),
    Reach("graph-of-the-store", "GET", "/store", 404, "graph-not-found", {"graph": "{remote}"}),
    Reach("entries-about", "GET", "/entries", 200, None, {"resource": "{remote}"}),
]


def fingerprint(service: Service) -> str:
    dump = httpx.get(service.url + "/store", headers={"Accept": "application/n-quads"}, timeout=60)
    return hashlib.sha256(dump.content).hexdigest()


@pytest.fixture(scope="module")
def remote() -> Iterator[Listener]:
    """One listener for the whole table (conftest's listener is made anew for each test)."""
    listener = Listener()
    yield listener
    listener.close()


@pytest.mark.parametrize("reach", REACHES, ids=lambda reach: reach.name)
def test_no_request_makes_the_service_connect_elsewhere(service, remote, reach):
    before = fingerprint(service) if reach.status >= 400 else None
    answer = reach.send(service, REMOTE.format(port=remote.port))
    assert answer.status_code == reach.status, answer.text[:500]
    if reach.kind is not None:
        assert answer.json()["type"] == PROBLEM + reach.kind
    assert remote.connections == 0
    if before is not None:
        assert fingerprint(service) == before


@dataclass(frozen=True)
class Allowing:
    """A service whose operator allows SERVICE to one endpoint: a listener of its own."""

    service: Service
    allowed: Listener
    endpoint: str


@pytest.fixture(scope="module")
def allowing(tmp_path_factory) -> Iterator[Allowing]:
    allowed = Listener()
    endpoint = f"http://127.0.0.1:{allowed.port}/sparql"
    folder = tmp_path_factory.mktemp("allowing")
    process, url = start_service(
        folder,
        POLICYKG_STORE="memory",
        POLICYKG_UPDATE_TOKEN="allowing-token",
        POLICYKG_ALLOWED_REMOTE_ENDPOINTS=json.dumps([endpoint]),
    )
    try:
        yield Allowing(Service(url, "allowing-token"), allowed, endpoint)
    finally:
        stop(process)
        allowed.close()


def test_service_to_an_allowed_endpoint_is_tried(allowing):
    before = allowing.allowed.connections
    answer = httpx.get(
        allowing.service.sparql,
        params={"query": f"SELECT * WHERE {{ SERVICE <{allowing.endpoint}> {{ ?s ?p ?o }} }}"},
        headers={"Accept": SRJ},
        timeout=60,
    )
    # The listener hangs up at once: the engine's call fails, and says so as the store's failure.
    assert answer.status_code == 502 and answer.json()["type"] == PROBLEM + "store-error"
    assert allowing.allowed.connections > before


def test_service_elsewhere_is_refused_though_another_endpoint_is_allowed(allowing, listener):
    answer = httpx.get(
        allowing.service.sparql,
        headers={"Accept": SRJ},
        params={"query": f"SELECT * WHERE {{ SERVICE <{REMOTE.format(port=listener.port)}> {{ ?s ?p ?o }} }}"},
    )
    assert answer.status_code == 403 and answer.json()["type"] == PROBLEM + "remote-access-refused"
    assert listener.connections == 0


def test_load_is_refused_even_from_an_allowed_endpoint(allowing):
    before = allowing.allowed.connections
    answer = httpx.post(
        allowing.service.sparql, data={"update": f"LOAD <{allowing.endpoint}>"}, headers=allowing.service.auth()
    )
    assert answer.status_code == 400 and "LOAD is not supported" in answer.json()["detail"]
    assert allowing.allowed.connections == before

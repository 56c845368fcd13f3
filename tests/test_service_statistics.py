"""VoID's and DCAT's figures (kept from each write over the embedded store, counted in full in the background over
Virtuoso, where test_service_virtuoso runs these tests again): after random writes of every kind, the documents
served equal those made from a full recount (publish/statistics.py, over the service's SPARQL endpoint), and
under steady writes each answer counts exactly the revision its ETag names."""

import itertools
import random
import threading
import time

import httpx
import rdflib
from consistency import meeting_entry
from rdflib.compare import isomorphic
from rdflib.namespace import DCTERMS, VOID

from policykg.publish.catalogue import dcat_graph, void_graph
from policykg.publish.statistics import statistics
from policykg.store import RemoteStore

B = "http://localhost:8000/"
SRJ = "application/sparql-results+json"
LABEL = "http://www.w3.org/2000/01/rdf-schema#label"
SEE_ALSO = "http://www.w3.org/2000/01/rdf-schema#seeAlso"
FIGURES = {
    VOID.triples: "SELECT (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } }",
    VOID.distinctSubjects: "SELECT (COUNT(DISTINCT ?s) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } }",
    VOID.distinctObjects: "SELECT (COUNT(DISTINCT ?o) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } }",
    VOID.properties: "SELECT (COUNT(DISTINCT ?p) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } }",
}


NUMBERS = itertools.count(85_200)  # meetings of the seed's series, numbered in this suite's own range


def revision_of(etag: str) -> tuple[str, int]:
    """The revision an ETag names: the run's tag and how many writes it had seen ('"<run>-<writes>-<syntax>"')."""
    run, writes = etag.strip('"').split("-")[:2]
    return run, int(writes)


def current_revision(service) -> tuple[str, int]:
    return revision_of(httpx.get(service.url + "/ready").json()["revision"]["tag"])


def void_at(service, revision: tuple[str, int], seconds: float = 120, path: str = "/.well-known/void") -> rdflib.Graph:
    """VoID (or another document) once it describes that revision (polled: it is made in the background)."""
    deadline = time.monotonic() + seconds
    while True:
        answer = httpx.get(service.url + path, timeout=60)
        if revision_of(answer.headers["etag"]) == revision:
            return rdflib.Graph().parse(data=answer.text, format="turtle")
        assert time.monotonic() < deadline, f"{path} still describes {answer.headers['etag']}, not {revision}"
        time.sleep(0.05)


def assert_documents_equal_a_full_recount(service, settings) -> None:
    """VoID and DCAT of the current revision are those made from the figures counted anew, in full."""
    revision = current_revision(service)
    recount = RemoteStore(service.sparql)
    try:
        stats = statistics(recount, settings.base_iri)
    finally:
        recount.close()
    assert revision == current_revision(service)  # nothing was written meanwhile
    for path, build in (("/.well-known/void", void_graph), ("/catalog", dcat_graph)):
        served = void_at(service, revision, path=path)
        modified = served.value(rdflib.URIRef(B + "dataset"), DCTERMS.modified).toPython()
        assert isomorphic(served, build(settings, stats, modified)), path


def figure(void: rdflib.Graph, predicate: rdflib.URIRef) -> int:
    return int(void.value(rdflib.URIRef(B + "dataset"), predicate))


def recount(service, sparql: str) -> int:
    answer = httpx.post(service.sparql, data={"query": sparql}, headers={"Accept": SRJ}, timeout=60)
    return int(answer.json()["results"]["bindings"][0]["n"]["value"])


def put(service, graph: str, lines: list[str]) -> None:
    answer = httpx.put(
        service.url + "/store",
        params={"graph": graph},
        content="\n".join(lines),
        headers={**service.auth(), "Content-Type": "application/n-triples"},
    )
    assert answer.status_code in (201, 204), answer.text


def update(service, text: str) -> None:
    answer = httpx.post(service.sparql, data={"update": text}, headers=service.auth())
    assert answer.status_code in (200, 204), answer.text


def test_after_random_writes_the_figures_equal_a_full_recount(service):
    rng = random.Random(18)
    graphs = [f"{B}graph/test-statistics-{n}" for n in range(4)]
    things = [f"{B}id/test/statistics-{n}" for n in range(12)]
    try:
        for _ in range(25):
            graph, subject, other = rng.choice(graphs), rng.choice(things), rng.choice(things)
            kind = rng.randrange(4)
            if kind == 0:  # a graph replaced (Graph Store PUT)
                put(
                    service,
                    graph,
                    [f'<{subject}> <{LABEL}> "label {rng.randrange(5)}" .', f"<{subject}> <{SEE_ALSO}> <{other}> ."],
                )
            elif kind == 1:  # triples added by SPARQL Update
                update(service, f"INSERT DATA {{ GRAPH <{graph}> {{ <{subject}> <{SEE_ALSO}> <{other}> }} }}")
            elif kind == 2:  # triples taken away by SPARQL Update (whether there or not)
                update(service, f"DELETE WHERE {{ GRAPH <{graph}> {{ <{subject}> ?p ?o }} }}")
            else:  # a graph dropped (Graph Store DELETE), if it is there
                answer = httpx.delete(service.url + "/store", params={"graph": graph}, headers=service.auth())
                assert answer.status_code in (204, 404)
        void = void_at(service, current_revision(service))
        for predicate, sparql in FIGURES.items():
            assert figure(void, predicate) == recount(service, sparql), predicate
    finally:
        for graph in graphs:
            httpx.delete(service.url + "/store", params={"graph": graph}, headers=service.auth())


def test_under_steady_writes_each_answer_counts_exactly_the_revision_its_etag_names(service):
    graph = f"{B}graph/test-statistics-steady"
    void = void_at(service, current_revision(service))
    run, first = current_revision(service)
    base = figure(void, VOID.triples)
    seen: list[tuple[tuple[str, int], int]] = []
    writing = threading.Event()
    writing.set()

    def read() -> None:
        while writing.is_set():
            answer = httpx.get(service.url + "/.well-known/void", timeout=60)
            graph_read = rdflib.Graph().parse(data=answer.text, format="turtle")
            seen.append((revision_of(answer.headers["etag"]), figure(graph_read, VOID.triples)))

    reader = threading.Thread(target=read)
    reader.start()
    try:
        for n in range(1, 31):  # each write adds one triple: revision first + n holds base + n triples
            update(service, f'INSERT DATA {{ GRAPH <{graph}> {{ <{B}id/test/steady> <{LABEL}> "{n}" }} }}')
    finally:
        writing.clear()
        reader.join()
    last = void_at(service, (run, first + 30))
    assert figure(last, VOID.triples) == base + 30
    assert seen and all(tag == run and triples == base + (writes - first) for (tag, writes), triples in seen), seen
    httpx.delete(service.url + "/store", params={"graph": graph}, headers=service.auth())


def submit_entry(service) -> tuple[str, str]:
    """A new meeting sent as an entry: its entry's address and the Turtle sent."""
    body = meeting_entry(B, next(NUMBERS), participants=2)
    answer = httpx.post(
        service.url + "/entries",
        content=body.encode(),
        headers={"Content-Type": "text/turtle", **service.auth()},
        timeout=60,
    )
    assert answer.status_code == 201, answer.text
    return answer.headers["location"], body


def test_after_random_entries_updates_and_graph_writes_void_and_dcat_equal_a_full_recount(service, settings):
    rng = random.Random(85_018)
    graphs = [f"{B}graph/test-recount-{n}" for n in range(3)]
    things = [f"{B}id/test/recount-{n}" for n in range(6)]
    links = ["http://www.wikidata.org/entity/Q1", "http://eurovoc.europa.eu/2278", f"{B}id/org/nemo"]
    entries: list[tuple[str, str]] = []
    try:
        for _ in range(30):
            graph, subject = rng.choice(graphs), rng.choice(things)
            triple = f"<{subject}> <{SEE_ALSO}> <{rng.choice(links + things)}>"
            kind = rng.randrange(8)
            if kind < 2 or not entries:  # an entry: new resources, types, a record in the registry
                entries.append(submit_entry(service))
            elif kind == 2:  # an entry revised: its triples replaced, the old version kept
                where, body = entries.pop(rng.randrange(len(entries)))
                answer = httpx.put(
                    service.url + where,
                    content=body.replace("2025-01-01", "2025-01-02").encode(),
                    headers={"Content-Type": "text/turtle", **service.auth()},
                    timeout=60,
                )
                assert answer.status_code == 201, answer.text
                entries.append((answer.headers["location"], body.replace("2025-01-01", "2025-01-02")))
            elif kind == 3:  # an entry retracted: its triples taken out
                where, _ = entries.pop(rng.randrange(len(entries)))
                assert httpx.delete(service.url + where, headers=service.auth(), timeout=60).status_code == 204
            elif kind == 4:
                update(service, f'INSERT DATA {{ GRAPH <{graph}> {{ {triple} . <{subject}> <{LABEL}> "x" }} }}')
            elif kind == 5:
                update(service, f"DELETE WHERE {{ GRAPH <{graph}> {{ <{subject}> ?p ?o }} }}")
            elif kind == 6:
                put(service, graph, [f"{triple} ."])
            else:
                answer = httpx.delete(service.url + "/store", params={"graph": graph}, headers=service.auth())
                assert answer.status_code in (204, 404)
        assert_documents_equal_a_full_recount(service, settings)
    finally:
        for graph in graphs:
            httpx.delete(service.url + "/store", params={"graph": graph}, headers=service.auth())

"""Crash safety: a server killed (SIGKILL) amid submissions keeps every acknowledged entry whole, and no other."""

import os
import signal
import threading
import time
import uuid

import httpx

from conftest import start_service, stop

B = "http://localhost:8000/"
PKG = "https://w3id.org/policykg/ontology#"
SRJ = "application/sparql-results+json"
TOKEN = "crash-test-token"


def entry(number: int) -> tuple[str, str]:
    iri = f"{B}id/event/crash-{uuid.uuid4()}"
    return iri, (f"""@prefix pkg: <{PKG}> . @prefix schema: <https://schema.org/> .
@prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> . @prefix xsd: <http://www.w3.org/2001/XMLSchema#> .
<{iri}> a pkg:ExpertGroupMeeting ; rdfs:label "Meeting {number}"@en ;
    pkg:partOfSeries <id/series/cultural-heritage-expert-group-meetings> ; pkg:seriesNumber {number} ;
    schema:startDate "2025-01-01"^^xsd:date .""")


def test_acknowledged_entries_survive_a_sigkill_and_nothing_half_written_does(tmp_path):
    env = {"POLICYKG_STORE": str(tmp_path / "store"), "POLICYKG_UPDATE_TOKEN": TOKEN, "POLICYKG_QUERY_WORKERS": "1"}
    process, url = start_service(tmp_path, **env)
    acknowledged: list[tuple[str, str]] = []
    stop_sending = threading.Event()

    def submit_stream() -> None:
        number = 2000
        with httpx.Client(timeout=10) as client:
            while not stop_sending.is_set():
                number += 1
                iri, body = entry(number)
                try:
                    response = client.post(url + "/entries", content=body.encode(),
                                           headers={"Content-Type": "text/turtle", "Authorization": f"Bearer {TOKEN}"})
                except httpx.HTTPError:
                    return
                if response.status_code == 201:
                    acknowledged.append((response.json()["entry"], iri))

    senders = [threading.Thread(target=submit_stream) for _ in range(2)]
    for sender in senders:
        sender.start()
    deadline = time.monotonic() + 20
    while len(acknowledged) < 8 and time.monotonic() < deadline:
        time.sleep(0.05)
    os.kill(process.pid, signal.SIGKILL)
    process.wait()
    stop_sending.set()
    for sender in senders:
        sender.join()
    assert acknowledged, "no entry was acknowledged before the kill"

    process, url = start_service(tmp_path, **env)
    try:
        def select(query: str) -> list[dict]:
            response = httpx.get(url + "/sparql", params={"query": query}, headers={"Accept": SRJ}, timeout=30)
            return response.json()["results"]["bindings"]

        for entry_iri, event in acknowledged:
            rows = select(f"SELECT ?p WHERE {{ GRAPH <{entry_iri}> {{ <{event}> ?p ?o }} }}")
            assert len(rows) == 5, entry_iri  # type, label, series, number, start date: all of it
            assert select(f"SELECT ?t WHERE {{ GRAPH <{B}graph/entries> {{ <{entry_iri}> <http://www.w3.org/ns/prov#generatedAtTime> ?t }} }}")
        # No entry is there without its provenance, and none lacks any of its triples.
        entries = select(f"SELECT ?e (COUNT(*) AS ?n) WHERE {{ GRAPH ?e {{ ?s ?p ?o }} FILTER(STRSTARTS(STR(?e), '{B}entries/')) }} GROUP BY ?e")
        assert all(row["n"]["value"] == "5" for row in entries)
        recorded = select(f"SELECT ?e WHERE {{ GRAPH <{B}graph/entries> {{ ?e a <{PKG}Entry> }} }}")
        assert {r["e"]["value"] for r in recorded} == {r["e"]["value"] for r in entries}
        assert {e for e, _ in acknowledged} <= {r["e"]["value"] for r in recorded}
    finally:
        stop(process)

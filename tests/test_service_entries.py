"""Entries over HTTP: checked against the shapes and the stored graph, written with provenance, or refused."""

import itertools
import threading
import uuid

import httpx
import pyoxigraph as ox

B = "http://localhost:8000/"
SRJ = "application/sparql-results+json"
PKG = "https://w3id.org/policykg/ontology#"
PREFIXES = """@prefix pkg: <https://w3id.org/policykg/ontology#> .
@prefix schema: <https://schema.org/> .
@prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .
@prefix xsd: <http://www.w3.org/2001/XMLSchema#> .
"""
# Series numbers no other test of the shared service uses: a meeting must not clash by chance with another one.
NUMBERS = itertools.count(10_000)


def meeting(number: int, start: str = "2024-10-01") -> tuple[str, str]:
    iri = f"{B}id/event/test-meeting-{uuid.uuid4()}"
    return (
        iri,
        PREFIXES
        + f"""<{iri}> a pkg:ExpertGroupMeeting ; rdfs:label "Meeting {number}"@en ;
    pkg:partOfSeries <id/series/cultural-heritage-expert-group-meetings> ; pkg:seriesNumber {number} ;
    schema:startDate "{start}"^^xsd:date .""",
    )


def post(service, path: str, turtle: str, auth: bool = True) -> httpx.Response:
    headers = {"Content-Type": "text/turtle", **(service.auth() if auth else {})}
    return httpx.post(service.url + path, content=turtle.encode(), headers=headers, timeout=60)


def ask(service, query: str) -> bool:
    return httpx.get(service.sparql, params={"query": query}, headers={"Accept": SRJ}).json()["boolean"]


def test_a_valid_entry_is_written_into_its_own_graph_with_provenance(service):
    iri, body = meeting(next(NUMBERS))
    response = post(service, "/entries", body)
    assert response.status_code == 201
    entry = response.json()["entry"]
    assert response.headers["location"] == "/entries/" + entry.rsplit("/", 1)[-1]
    assert ask(service, f"ASK {{ GRAPH <{entry}> {{ <{iri}> a <{PKG}ExpertGroupMeeting> }} }}")
    assert ask(
        service,
        f"""ASK {{ GRAPH <{B}graph/entries> {{ <{entry}> a <{PKG}Entry> ;
        <http://www.w3.org/ns/prov#wasAttributedTo> <{B}id/agent/operator> ;
        <http://www.w3.org/ns/prov#generatedAtTime> ?t ;
        <{PKG}validatedAgainst> <https://w3id.org/policykg/shapes/0.1.0> }} }}""",
    )
    got = httpx.get(service.url + response.headers["location"], headers={"Accept": "application/n-quads"})
    quads = list(ox.parse(got.content, format=ox.RdfFormat.N_QUADS))
    assert {q.graph_name.value for q in quads} == {entry, B + "graph/entries"}
    listed = httpx.get(service.url + "/entries", params={"limit": 5}).json()["entries"]
    assert listed[0]["entry"] == entry


def test_an_entry_that_clashes_with_the_stored_graph_is_refused(service):
    # The 11th meeting of the series is in the store: a second "11th" breaks the unique number.
    iri, body = meeting(11)
    response = post(service, "/entries", body)
    assert response.status_code == 422
    shapes = {(r["sourceShape"].rsplit("#", 1)[-1], r["focusNode"]) for r in response.json()["results"]}
    assert ("UniqueSeriesNumber", iri) in shapes
    assert not ask(service, f"ASK {{ <{iri}> ?p ?o }}")


def test_the_dry_run_reports_without_writing(service):
    iri, body = meeting(11)
    response = post(service, "/validate", body, auth=False)
    assert response.status_code == 200 and response.json()["conforms"] is False
    assert not ask(service, f"ASK {{ <{iri}> ?p ?o }}")


def test_subjects_no_shape_checks_are_refused(service):
    untyped = f"<{B}id/thing/{uuid.uuid4()}> <http://example.org/p> 1 ."
    response = post(service, "/entries", untyped)
    assert response.status_code == 422 and "no shape checks" in response.json()["detail"]
    unknown = f"<{B}id/thing/{uuid.uuid4()}> a <http://example.org/Thing> ."
    assert "http://example.org/Thing" in post(service, "/entries", unknown).json()["detail"]


def test_new_resources_outside_the_base_and_blank_subjects_are_refused(service):
    foreign = PREFIXES + '<http://example.org/event> a pkg:Conference ; rdfs:label "x"@en .'
    assert "must have IRIs under" in post(service, "/entries", foreign).json()["detail"]
    blank = PREFIXES + '[] a pkg:Conference ; rdfs:label "x"@en .'
    assert "blank nodes" in post(service, "/entries", blank).json()["detail"]


def test_bad_entries_get_a_specific_4xx(service):
    assert post(service, "/entries", "").status_code == 400
    broken = post(service, "/entries", "<a> <b> .")
    assert broken.status_code == 400 and "entry:1:" in broken.json()["detail"]
    wrong = httpx.post(service.url + "/entries", content=b"x", headers={**service.auth(), "Content-Type": "text/csv"})
    assert wrong.status_code == 415
    _, body = meeting(999)
    assert post(service, "/entries", body, auth=False).status_code == 401


def test_an_entry_is_attributed_to_the_contributor_of_the_token(service):
    _, body = meeting(next(NUMBERS))
    response = httpx.post(
        service.url + "/entries",
        content=body.encode(),
        headers={"Content-Type": "text/turtle", "Authorization": "Bearer contributor-token-alice"},
    )
    assert response.status_code == 201
    entry = response.json()["entry"]
    assert ask(service, f"ASK {{ <{entry}> <http://www.w3.org/ns/prov#wasAttributedTo> <{B}id/agent/alice> }}")
    # A contributor's token is not the operator's: raw writes stay closed to it.
    update = httpx.post(
        service.sparql,
        data={"update": "CLEAR GRAPH <http://example.org/x>"},
        headers={"Authorization": "Bearer contributor-token-alice"},
    )
    assert update.status_code == 401


def test_a_retry_with_the_same_idempotency_key_writes_nothing_new(service):
    _, body = meeting(next(NUMBERS))
    key = str(uuid.uuid4())
    headers = {"Content-Type": "text/turtle", "Idempotency-Key": key, **service.auth()}
    first = httpx.post(service.url + "/entries", content=body.encode(), headers=headers)
    again = httpx.post(service.url + "/entries", content=body.encode(), headers=headers)
    assert (first.status_code, again.status_code) == (201, 200)
    assert first.json()["entry"] == again.json()["entry"]
    count = httpx.get(
        service.sparql,
        headers={"Accept": SRJ},
        params={"query": (f'SELECT (COUNT(*) AS ?n) WHERE {{ ?e <{PKG}idempotencyKey> "{key}" }}')},
    ).json()
    assert count["results"]["bindings"][0]["n"]["value"] == "1"
    _, other = meeting(next(NUMBERS))
    conflict = httpx.post(service.url + "/entries", content=other.encode(), headers=headers)
    assert conflict.status_code == 409


def test_a_literal_that_is_not_a_value_of_its_datatype_is_refused(service):
    iri, body = meeting(450)
    response = post(service, "/entries", body.replace("2024-10-01", "2024-13-45"))
    assert response.status_code == 422 and "is not a valid date" in response.json()["detail"]
    assert not ask(service, f"ASK {{ <{iri}> ?p ?o }}")


def test_a_revision_replaces_the_triples_and_keeps_the_old_version(service):
    iri, body = meeting(next(NUMBERS), start="2024-10-01")
    first = post(service, "/entries", body)
    old = first.json()["entry"]
    revised = httpx.put(
        service.url + first.headers["location"],
        content=body.replace("2024-10-01", "2024-10-02").encode(),
        headers={"Content-Type": "text/turtle", **service.auth()},
    )
    assert revised.status_code == 201
    new = revised.json()["entry"]
    dates = httpx.get(
        service.sparql,
        headers={"Accept": SRJ},
        params={"query": f"SELECT DISTINCT ?d WHERE {{ <{iri}> <https://schema.org/startDate> ?d }}"},
    ).json()["results"]["bindings"]
    assert [d["d"]["value"] for d in dates] == ["2024-10-02"]
    assert ask(
        service,
        f"ASK {{ <{new}> <http://www.w3.org/ns/prov#wasRevisionOf> <{old}> . <{old}> <{PKG}supersededBy> <{new}> ;"
        " <http://www.w3.org/ns/prov#invalidatedAtTime> ?t }",
    )
    # The old version is still retrievable, with its own triples.
    archived = httpx.get(service.url + first.headers["location"], headers={"Accept": "application/n-quads"})
    quads = list(ox.parse(archived.content, format=ox.RdfFormat.N_QUADS))
    assert any(q.graph_name.value == old and q.object.value == "2024-10-01" for q in quads)
    # Revising it again is refused: it is no longer current.
    again = httpx.put(
        service.url + first.headers["location"],
        content=body.encode(),
        headers={"Content-Type": "text/turtle", **service.auth()},
    )
    assert again.status_code == 410


def test_a_retraction_is_recorded_and_takes_the_triples_out(service):
    iri, body = meeting(next(NUMBERS))
    created = post(service, "/entries", body)
    entry = created.json()["entry"]
    assert httpx.delete(service.url + created.headers["location"], headers=service.auth()).status_code == 204
    assert not ask(service, f"ASK {{ GRAPH ?g {{ <{iri}> ?p ?o }} FILTER(?g != <{B}graph/entries>) }}")
    assert ask(
        service,
        f"ASK {{ <{entry}> <{PKG}retractedBy> <{B}id/agent/operator> ; "
        "<http://www.w3.org/ns/prov#invalidatedAtTime> ?t }",
    )
    assert httpx.delete(service.url + created.headers["location"], headers=service.auth()).status_code == 410
    assert httpx.delete(service.url + "/entries/no-such-entry", headers=service.auth()).status_code == 404


def test_only_an_entrys_contributor_or_the_operator_may_revise_or_retract_it(service):
    alice = {"Authorization": "Bearer contributor-token-alice"}
    iri, body = meeting(next(NUMBERS))
    by_operator = post(service, "/entries", body)
    where = service.url + by_operator.headers["location"]
    _, other = meeting(next(NUMBERS))
    for answer in (
        httpx.put(where, content=other.encode(), headers={**alice, "Content-Type": "text/turtle"}, timeout=60),
        httpx.delete(where, headers=alice),
    ):
        assert answer.status_code == 403, answer.text
        assert answer.json()["type"].endswith("/not-your-entry")
        assert f"written by <{B}id/agent/operator>" in answer.json()["detail"]
    assert ask(service, f"ASK {{ GRAPH <{by_operator.json()['entry']}> {{ <{iri}> a <{PKG}ExpertGroupMeeting> }} }}")
    assert not ask(
        service, f"ASK {{ <{by_operator.json()['entry']}> <http://www.w3.org/ns/prov#invalidatedAtTime> ?t }}"
    )
    # Alice changes what she wrote; the operator may change anyone's entry.
    _, mine = meeting(next(NUMBERS))
    by_alice = httpx.post(
        service.url + "/entries", content=mine.encode(), timeout=60, headers={**alice, "Content-Type": "text/turtle"}
    )
    revised = httpx.put(
        service.url + by_alice.headers["location"],
        content=other.encode(),
        timeout=60,
        headers={**alice, "Content-Type": "text/turtle"},
    )
    assert revised.status_code == 201, revised.text
    assert httpx.delete(service.url + revised.headers["location"], headers=service.auth()).status_code == 204
    assert httpx.delete(where, headers=service.auth()).status_code == 204


def test_retracting_an_entry_others_depend_on_is_refused(service):
    iri, body = meeting(next(NUMBERS))
    created = post(service, "/entries", body)
    presentation = (
        PREFIXES
        + f"""<id/presentation/test-{uuid.uuid4()}> a pkg:Presentation ;
        rdfs:label "A presentation at the new meeting"@en ; pkg:presentedAt <{iri}> ;
        pkg:reportsOn <id/event/innovation-and-integrity-conference> ."""
    )
    assert post(service, "/entries", presentation).status_code == 201
    refused = httpx.delete(service.url + created.headers["location"], headers=service.auth())
    assert refused.status_code == 422
    assert {r["sourceShape"].rsplit("#", 1)[-1] for r in refused.json()["results"]} >= {"Presentation-presentedAt"}
    assert ask(service, f"ASK {{ <{iri}> a <{PKG}ExpertGroupMeeting> }}")


def cli(*args: str, env: dict | None = None):
    import os
    import subprocess
    import sys
    from pathlib import Path

    return subprocess.run(
        [sys.executable, "-m", "policykg.cli", *args],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=Path(__file__).resolve().parents[1],
        env={**os.environ, **(env or {})},
    )


def test_policykg_submit_sends_an_entry_and_shows_a_refusal(service, tmp_path):
    good, bad = tmp_path / "good.ttl", tmp_path / "bad.ttl"
    good.write_text(meeting(next(NUMBERS))[1])
    bad.write_text(meeting(11)[1])
    accepted = cli("submit", str(good), "--url", service.url, env={"POLICYKG_TOKEN": service.token})
    assert accepted.returncode == 0 and accepted.stdout.startswith(f"accepted: {B}entries/")
    refused = cli("submit", str(bad), "--url", service.url, env={"POLICYKG_TOKEN": service.token})
    assert refused.returncode == 1
    assert "shape:   pkgsh:UniqueSeriesNumber (SPARQL)" in refused.stdout
    unauthorised = cli("submit", str(good), "--url", service.url, env={"POLICYKG_TOKEN": "wrong-token"})
    assert unauthorised.returncode == 2 and "401" in unauthorised.stderr


def test_policykg_validate_against_a_store(settings, tmp_path):
    from policykg.model.files import load_model
    from policykg.store import EmbeddedStore

    store = EmbeddedStore.on_disk(tmp_path / "store")
    load_model(store, settings)
    store.close()
    del store
    clash, fine = tmp_path / "clash.ttl", tmp_path / "fine.ttl"
    clash.write_text(meeting(11)[1])
    fine.write_text(meeting(12)[1])
    refused = cli("validate", str(clash), "--against-store", "--store", str(tmp_path / "store"))
    assert refused.returncode == 1 and "pkgsh:UniqueSeriesNumber" in refused.stdout
    # Without the store, the same file is fine: only the stored 11th meeting makes it clash.
    alone = cli("validate", str(clash))
    assert alone.returncode == 1 and "UniqueSeriesNumber" not in alone.stdout
    accepted = cli("validate", str(fine), "--against-store", "--store", str(tmp_path / "store"))
    assert accepted.returncode == 0, accepted.stdout


def test_two_entries_that_clash_only_together_cannot_both_come_in(service):
    import threading

    number = next(NUMBERS)
    bodies = [meeting(number)[1], meeting(number)[1]]
    statuses: list[int] = []

    def send(body: str) -> None:
        statuses.append(post(service, "/entries", body).status_code)

    threads = [threading.Thread(target=send, args=(body,)) for body in bodies]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(statuses) == [201, 422]
    count = httpx.get(
        service.sparql,
        headers={"Accept": SRJ},
        params={"query": (f"SELECT (COUNT(DISTINCT ?e) AS ?n) WHERE {{ ?e <{PKG}seriesNumber> {number} }}")},
    ).json()
    assert count["results"]["bindings"][0]["n"]["value"] == "1"


def test_a_refusal_comes_as_a_full_shacl_report_when_asked_for_turtle(service):
    import rdflib
    from rdflib.namespace import SH

    iri, body = meeting(11)
    response = httpx.post(
        service.url + "/entries",
        content=body.encode(),
        headers={"Content-Type": "text/turtle", "Accept": "text/turtle", **service.auth()},
    )
    assert response.status_code == 422 and response.headers["content-type"].startswith("text/turtle")
    graph = rdflib.Graph().parse(data=response.text, format="turtle")
    (report,) = graph.subjects(rdflib.RDF.type, SH.ValidationReport)
    assert graph.value(report, SH.conforms) == rdflib.Literal(False)
    focus = {str(graph.value(r, SH.focusNode)) for r in graph.objects(report, SH.result)}
    assert iri in focus


def test_entries_can_be_listed_by_resource_and_time(service):
    iri, body = meeting(next(NUMBERS))
    entry = post(service, "/entries", body).json()["entry"]
    found = httpx.get(service.url + "/entries", params={"resource": iri}).json()["entries"]
    assert [e["entry"] for e in found] == [entry] and found[0]["current"] is True
    future = httpx.get(service.url + "/entries", params={"since": "2999-01-01T00:00:00Z"}).json()["entries"]
    assert future == []
    assert httpx.get(service.url + "/entries", params={"since": "yesterday"}).status_code == 400


def test_entries_sent_together_are_committed_in_groups_each_with_its_own_verdict(service):
    numbers = [next(NUMBERS) for _ in range(12)]
    # Twelve new meetings, two of them sharing a number (so at most one of those two may come in), and four
    # invalid ones (a date that is none): all sent at once, from as many clients.
    bodies = [meeting(n)[1] for n in numbers] + [meeting(numbers[0])[1]]
    bodies += [meeting(next(NUMBERS), start="2024-13-45")[1] for _ in range(4)]
    before = httpx.get(service.url + "/ready").json()["writes"]
    start = threading.Barrier(len(bodies))
    answers: dict[int, httpx.Response] = {}

    def send(index: int) -> None:
        start.wait(30)
        answers[index] = post(service, "/entries", bodies[index])

    threads = [threading.Thread(target=send, args=(i,)) for i in range(len(bodies))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    statuses = [answers[i].status_code for i in range(len(bodies))]
    assert statuses[1:12] == [201] * 11 and statuses[13:] == [422] * 4
    assert sorted(statuses[i] for i in (0, 12)) == [201, 422]  # the same number twice: the second is refused
    for number in numbers:  # each accepted meeting is in the graph exactly once, in its own entry's graph
        rows = httpx.get(
            service.sparql,
            params={"query": f"SELECT ?g WHERE {{ GRAPH ?g {{ ?m <{PKG}seriesNumber> {number} }} }}"},
            headers={"Accept": "application/sparql-results+json"},
        ).json()["results"]["bindings"]
        assert len(rows) == 1 and rows[0]["g"]["value"].startswith(B + "entries/")
    accepted = {answers[i].json()["entry"] for i in range(len(bodies)) if statuses[i] == 201}
    assert len(accepted) == 12
    after = httpx.get(service.url + "/ready").json()["writes"]
    judged = 13  # the ill-typed dates are refused as they are read, before any write
    assert after["writes"] - before["writes"] == judged
    assert after["groups"] - before["groups"] < judged  # some entries shared a group (and its snapshot)

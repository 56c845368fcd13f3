"""Raw writes are checked against the shapes before they take effect: a breaking write changes nothing."""

import uuid
from pathlib import Path

import httpx

B = "http://localhost:8000/"
SRJ = "application/sparql-results+json"
PKG = "https://w3id.org/policykg/ontology#"
FIXTURES = Path(__file__).parent / "fixtures" / "invalid"
PARTICIPATION = B + "id/participation/eg11-julia-pagel"
ATTENDANCE = B + "graph/seed/attendance"


def ask(service, query: str) -> bool:
    return httpx.get(service.sparql, params={"query": query}, headers={"Accept": SRJ}).json()["boolean"]


def put_graph(service, graph: str, turtle: str) -> httpx.Response:
    return httpx.put(
        service.url + "/store",
        params={"graph": graph},
        content=turtle.encode(),
        headers={**service.auth(), "Content-Type": "text/turtle"},
        timeout=120,
    )


def valid_event(iri: str) -> str:
    return (
        f'<{iri}> a <{PKG}Conference> ; <http://www.w3.org/2000/01/rdf-schema#label> "A new conference"@en ; '
        f'<http://purl.org/dc/terms/title> "A new conference"@en ; <https://schema.org/startDate> "2025-05-01"^^'
        "<http://www.w3.org/2001/XMLSchema#date> ."
    )


def test_a_graph_that_breaks_the_shapes_is_refused_with_the_report(service):
    graph = f"{B}graph/test/{uuid.uuid4()}"
    fixture = (FIXTURES / "Recommendation-concerns--minCount.ttl").read_text()
    response = put_graph(service, graph, fixture.replace("<id/", f"<{B}id/"))
    assert response.status_code == 422
    problem = response.json()
    assert problem["type"].endswith("/shapes-violated")
    assert [(r["sourceShape"], r["focusNode"]) for r in problem["results"]] == [
        ("https://w3id.org/policykg/shapes#Recommendation-concerns", B + "id/recommendation/fixture")
    ]
    assert httpx.get(service.url + "/store", params={"graph": graph}).status_code == 404


def test_a_graph_that_conforms_is_written(service):
    graph, event = f"{B}graph/test/{uuid.uuid4()}", f"{B}id/event/test-{uuid.uuid4()}"
    assert put_graph(service, graph, valid_event(event)).status_code == 201
    assert ask(service, f"ASK {{ GRAPH <{graph}> {{ <{event}> a <{PKG}Conference> }} }}")


def test_an_update_that_removes_what_another_node_needs_is_refused(service):
    # Without her participation, the presenter of the presentation at the meeting took no part in it.
    update = (
        f"DELETE DATA {{ GRAPH <{ATTENDANCE}> {{ <{PARTICIPATION}> <http://data.europa.eu/m8g/role> "
        f"<{PKG}roleAttendee> }} }}"
    )
    harmless = httpx.post(
        service.sparql, data={"update": update.replace("roleAttendee", "roleMember")}, headers=service.auth()
    )
    assert harmless.status_code == 204  # deleting a triple that is not there changes nothing
    breaking = (
        f"DELETE DATA {{ GRAPH <{B}graph/seed/headline> {{ <{B}id/event/cultural-heritage-expert-group-meeting-11> "
        f"<http://data.europa.eu/m8g/hasParticipation> <{B}id/participation/eg11-nemo> }} }} ;"
        f" DELETE WHERE {{ GRAPH <{ATTENDANCE}> {{ <{B}id/event/cultural-heritage-expert-group-meeting-11> "
        f"<http://data.europa.eu/m8g/hasParticipation> ?p }} }}"
    )
    response = httpx.post(service.sparql, data={"update": breaking}, headers=service.auth())
    assert response.status_code == 422
    shapes = {(r["sourceShape"].rsplit("#", 1)[-1], r["focusNode"][len(B) :]) for r in response.json()["results"]}
    assert ("PresenterParticipated", "id/presentation/eg11-conference-outcomes") in shapes
    # Both operations were undone: the participations are still linked from the meeting.
    assert ask(
        service,
        f"ASK {{ GRAPH <{ATTENDANCE}> {{ ?e <http://data.europa.eu/m8g/hasParticipation> <{PARTICIPATION}> }} }}",
    )
    assert ask(
        service, f"ASK {{ GRAPH <{B}graph/seed/headline> {{ ?e <http://data.europa.eu/m8g/hasParticipation> ?p }} }}"
    )


def test_an_insert_where_is_checked_on_what_it_would_write(service):
    target = f"{B}graph/test/{uuid.uuid4()}"
    # Copies every recommendation's type without the rest of it into a new graph: fine, nothing breaks.
    ok = f"INSERT {{ GRAPH <{target}> {{ ?r a <{PKG}Recommendation> }} }} WHERE {{ ?r a <{PKG}Recommendation> }}"
    assert httpx.post(service.sparql, data={"update": ok}, headers=service.auth()).status_code == 204
    # Gives every recommendation a second ordinal: each breaks pkgsh:Recommendation-ordinal.
    bad = f"INSERT {{ GRAPH <{target}> {{ ?r <{PKG}ordinal> 99 }} }} WHERE {{ ?r a <{PKG}Recommendation> }}"
    response = httpx.post(service.sparql, data={"update": bad}, headers=service.auth())
    assert response.status_code == 422
    assert {r["sourceShape"].rsplit("#", 1)[-1] for r in response.json()["results"]} >= {"Recommendation-ordinal"}
    assert not ask(service, f"ASK {{ ?r <{PKG}ordinal> 99 }}")


def test_deleting_a_graph_others_depend_on_is_refused(service):
    response = httpx.delete(service.url + "/store", params={"graph": ATTENDANCE}, headers=service.auth())
    assert response.status_code == 422
    assert ask(service, f"ASK {{ GRAPH <{ATTENDANCE}> {{ <{PARTICIPATION}> ?p ?o }} }}")


def test_writing_into_the_default_graph_is_refused(service):
    response = httpx.post(
        service.sparql, data={"update": f"INSERT DATA {{ <{B}id/x> <{B}id/p> 1 }}"}, headers=service.auth()
    )
    assert response.status_code == 422 and response.json()["type"].endswith("/default-graph-write")
    assert not ask(service, f"ASK {{ <{B}id/x> ?p ?o }}")


def test_queries_are_answered_while_a_large_write_is_checked(service):
    import threading
    import time

    graph = f"{B}graph/test/{uuid.uuid4()}"
    events = "\n".join(valid_event(f"{B}id/event/bulk-{uuid.uuid4()}") for _ in range(300))
    finished: dict[str, float] = {}

    def write() -> None:
        finished["status"] = put_graph(service, graph, events).status_code
        finished["write"] = time.monotonic()

    writer = threading.Thread(target=write)
    writer.start()
    time.sleep(0.2)
    answered = []
    while writer.is_alive() and len(answered) < 5:
        response = httpx.get(service.sparql, params={"query": "ASK { ?s ?p ?o }"}, headers={"Accept": SRJ}, timeout=60)
        answered.append((time.monotonic(), response.json()["boolean"]))
    writer.join()
    assert finished["status"] == 201
    # Reads went on while the write was being checked and committed.
    assert answered and all(ok for _, ok in answered) and answered[0][0] < finished["write"]
    assert ask(service, f"ASK {{ GRAPH <{graph}> {{ ?e a <{PKG}Conference> }} }}")

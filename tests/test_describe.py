"""A resource's description, read from an embedded store and from a remote one alike."""

from collections.abc import Iterator

import pyoxigraph as ox
import pytest

from policykg.errors import ResourceNotFound
from policykg.iris import genid_prefix, registry_iri
from policykg.store import EmbeddedStore, RemoteStore, Store
from policykg.views.describe import INCOMING_LIMIT, describe, exists

B = "http://localhost:8000/"
P = ox.NamedNode("http://example.org/p")
LABEL = ox.NamedNode("http://www.w3.org/2000/01/rdf-schema#label")
THING = ox.NamedNode(B + "id/thing")
NODE, DEEPER = ox.NamedNode(genid_prefix(B) + "n1"), ox.NamedNode(genid_prefix(B) + "n2")
GRAPH, OTHER = ox.NamedNode(B + "graph/one"), ox.NamedNode(B + "graph/two")
NEIGHBOUR, ONLY_OBJECT = ox.NamedNode(B + "id/neighbour"), ox.NamedNode(B + "id/only-an-object")


@pytest.fixture(params=["embedded", "remote"])
def store(request) -> Iterator[Store]:
    """An empty embedded store (read along its indexes), or a real `oxigraph serve` (read with queries)."""
    if request.param == "embedded":
        backend: Store = EmbeddedStore.in_memory()
    else:
        url = request.getfixturevalue("oxigraph_server")
        backend = RemoteStore(url + "/query", update_url=url + "/update", store_url=url + "/store")
        backend.update("DROP SILENT ALL")
    yield backend
    backend.close()


def linkers(count: int) -> list[ox.Quad]:
    return [ox.Quad(ox.NamedNode(f"{B}id/linker{n:04}"), P, THING, OTHER) for n in range(count)]


def fill(store: Store, links: int) -> None:
    store.add(
        [
            ox.Quad(THING, LABEL, ox.Literal("The thing"), GRAPH),
            ox.Quad(THING, P, NODE, GRAPH),
            ox.Quad(NODE, P, DEEPER, GRAPH),
            ox.Quad(DEEPER, P, ox.Literal("deep"), GRAPH),
            ox.Quad(THING, P, NEIGHBOUR, GRAPH),  # an IRI that is no skolem node: its statements are its own
            ox.Quad(NEIGHBOUR, P, ONLY_OBJECT, GRAPH),
            ox.Quad(GRAPH, P, ox.Literal("said of the graph"), OTHER),
            *linkers(links),
        ],
        GRAPH.value,
    )


def test_a_description_follows_skolem_nodes_and_keeps_each_statement_in_its_graph(store):
    fill(store, 3)
    found = describe(store, THING, genid_prefix(B), registry_iri(B))
    assert set(found.statements) == {
        ox.Quad(THING, LABEL, ox.Literal("The thing"), GRAPH),
        ox.Quad(THING, P, NODE, GRAPH),
        ox.Quad(NODE, P, DEEPER, GRAPH),
        ox.Quad(DEEPER, P, ox.Literal("deep"), GRAPH),
        ox.Quad(THING, P, NEIGHBOUR, GRAPH),
    }
    assert found.statements[:3] == tuple(sorted(found.statements[:3], key=str))  # its own statements first
    assert {q.subject for q in found.statements[:3]} == {THING}
    assert set(found.incoming) == set(linkers(3)) and not found.incoming_truncated
    assert found.label == "The thing" and found.contents == ()


def test_the_links_to_a_resource_stop_at_the_limit_and_say_so(store):
    fill(store, INCOMING_LIMIT + 1)
    found = describe(store, THING, genid_prefix(B), registry_iri(B))
    assert len(found.incoming) == INCOMING_LIMIT and found.incoming_truncated
    assert set(found.incoming) < set(linkers(INCOMING_LIMIT + 1))


def test_as_many_links_as_the_limit_are_all_shown(store):
    fill(store, INCOMING_LIMIT)
    found = describe(store, THING, genid_prefix(B), registry_iri(B))
    assert set(found.incoming) == set(linkers(INCOMING_LIMIT)) and not found.incoming_truncated


def test_a_graph_is_described_by_what_it_states_and_what_is_said_of_it(store):
    fill(store, 0)
    found = describe(store, GRAPH, genid_prefix(B), registry_iri(B))
    assert found.statements == (ox.Quad(GRAPH, P, ox.Literal("said of the graph"), OTHER),)
    assert len(found.contents) == 6 and all(q.graph_name == GRAPH for q in found.contents)


def test_a_resource_exists_by_being_a_subject_an_object_or_a_graph(store):
    fill(store, 1)
    for named in (THING, ONLY_OBJECT, OTHER, ox.NamedNode(f"{B}id/linker0000")):  # subject, object, graph
        exists(store, named, registry_iri(B))  # raises nothing
    with pytest.raises(ResourceNotFound):
        exists(store, ox.NamedNode(B + "id/nothing"), registry_iri(B))
    with pytest.raises(ResourceNotFound):
        describe(store, ox.NamedNode(B + "id/nothing"), genid_prefix(B), registry_iri(B))

"""The writer: updates read as changes with SPARQL's meaning, skolemised, refused when they break the shapes."""

import datetime as dt

import pytest

from policykg.errors import ChangeRejected, QueryError, ReadOnlyGraph
from policykg.rdf.namespaces import ONTOLOGY_IRI
from policykg.store import EmbeddedStore, RemoteStore
from policykg.validation.incremental import ChangeValidator
from policykg.writing.writer import Writer

B = "http://localhost:8000/"
EX = "http://example.org/"


def triples(store: EmbeddedStore, graph: str) -> set[tuple[str, str, str]]:
    rows = store.select(f"SELECT ?s ?p ?o WHERE {{ GRAPH <{graph}> {{ ?s ?p ?o }} }}").values()
    return set(rows)  # type: ignore[arg-type]


def test_copy_onto_a_graph_that_shares_quads_keeps_them(writer, store):
    writer.update(
        f"INSERT DATA {{ GRAPH <{EX}a> {{ <{EX}s> <{EX}p> 1 , 2 }} GRAPH <{EX}b> {{ <{EX}s> <{EX}p> 2 , 3 }} }}", B
    )
    writer.update(f"COPY <{EX}a> TO <{EX}b>", B)
    assert triples(store, EX + "b") == {(EX + "s", EX + "p", "1"), (EX + "s", EX + "p", "2")}
    writer.update(f"COPY <{EX}a> TO <{EX}a>", B)
    assert len(triples(store, EX + "a")) == 2


def test_delete_and_insert_of_the_same_triple_keeps_it(writer, store):
    writer.update(f"INSERT DATA {{ GRAPH <{EX}a> {{ <{EX}s> <{EX}p> 1 }} }}", B)
    writer.update(
        f"DELETE {{ GRAPH <{EX}a> {{ ?s ?p ?o }} }} INSERT {{ GRAPH <{EX}a> {{ ?s ?p ?o }} }} "
        f"WHERE {{ GRAPH <{EX}a> {{ ?s ?p ?o }} }}",
        B,
    )
    assert triples(store, EX + "a") == {(EX + "s", EX + "p", "1")}


@pytest.mark.parametrize("update", ["DROP ALL", "CLEAR ALL", "DROP SILENT NAMED", "CLEAR NAMED"])
def test_emptying_every_graph_is_refused_and_leaves_the_model(writer, store, update):
    before = store.count()
    with pytest.raises(ReadOnlyGraph, match="one by one"):
        writer.update(update, B)
    assert store.count() == before


def test_drop_default_runs_as_sent_and_alone(writer, store):
    with pytest.raises(QueryError, match="of its own"):
        writer.update(f"INSERT DATA {{ GRAPH <{EX}a> {{ <{EX}s> <{EX}p> 1 }} }} ; DROP DEFAULT", B)
    before = store.count()
    writer.update("DROP DEFAULT", B)
    assert store.count() == before  # the model keeps nothing in the default graph


def test_template_variables_before_a_dot_are_filled(writer, store):
    writer.update(f"INSERT DATA {{ GRAPH <{EX}a> {{ <{EX}s> <{EX}p> 1 }} }}", B)
    writer.update(f"INSERT {{ GRAPH <{EX}b> {{ ?s <{EX}q> ?o. }} }} WHERE {{ GRAPH <{EX}a> {{ ?s <{EX}p> ?o. }} }}", B)
    assert triples(store, EX + "b") == {(EX + "s", EX + "q", "1")}


def test_blank_nodes_of_new_data_get_iris(writer, store):
    writer.update(f"INSERT DATA {{ GRAPH <{EX}a> {{ _:x <{EX}p> _:y . _:y <{EX}p> 1 }} }}", B)
    rows = triples(store, EX + "a")
    assert len(rows) == 2 and all(s.startswith(B + ".well-known/genid/") for s, _, _ in rows)
    (link,) = [(s, o) for s, _, o in rows if o.startswith(B)]
    assert (link[1], EX + "p", "1") in rows


def test_with_takes_a_full_iri(writer):
    with pytest.raises(QueryError, match="WITH takes a full IRI"):
        writer.update(f"PREFIX ex: <{EX}> WITH ex:g INSERT {{ ?s ?p ?o }} WHERE {{ ?s ?p ?o }}", B)


@pytest.mark.parametrize("update", ["DELETE", "WITH", f"INSERT {{ <{EX}a> <{EX}b> 1 }} USING"])
def test_a_cut_short_update_is_a_query_error(writer, update):
    with pytest.raises(QueryError):
        writer.update(update, B)


def test_the_ontology_graph_is_read_only(writer):
    with pytest.raises(ReadOnlyGraph):
        writer.update(f"DELETE WHERE {{ GRAPH <{ONTOLOGY_IRI}> {{ ?s ?p ?o }} }}", B)
    with pytest.raises(ReadOnlyGraph):
        writer.delete_graph(ONTOLOGY_IRI)


def test_a_rejected_multi_operation_update_leaves_nothing(writer, store):
    before = store.count()
    participation = B + "id/participation/eg11-julia-pagel"
    with pytest.raises(ChangeRejected):
        writer.update(
            f"INSERT DATA {{ GRAPH <{EX}a> {{ _:n <{EX}p> 1 }} }} ; "
            f"DELETE WHERE {{ GRAPH ?g {{ ?e <http://data.europa.eu/m8g/hasParticipation> <{participation}> }} }}",
            B,
        )
    assert store.count() == before
    assert store.ask(f"ASK {{ ?e <http://data.europa.eu/m8g/hasParticipation> <{participation}> }}")


def test_a_write_refused_before_the_store_keeps_the_revision_and_any_other_renews_it(writer, store):
    before = writer.revision
    with pytest.raises(ReadOnlyGraph):
        writer.update(
            f"INSERT DATA {{ GRAPH <{B}graph/x> {{ <{EX}a> <http://www.w3.org/2000/01/rdf-schema#subClassOf> "
            f"<{EX}b> }} }}",
            B,
        )
    assert writer.revision == before and triples(store, B + "graph/x") == set()
    # Several operations are written, then judged and undone: the content is as before, the tag is not.
    with pytest.raises(ChangeRejected):
        writer.update(
            f"INSERT DATA {{ GRAPH <{B}graph/x> {{ <{EX}a> <{EX}b> <{EX}c> }} }} ; "
            f"INSERT DATA {{ GRAPH <{B}graph/x> {{ <{B}id/org/nemo> a <https://w3id.org/policykg/ontology#Event> }} }}",
            B,
        )
    undone = writer.revision
    assert undone.tag != before.tag and triples(store, B + "graph/x") == set()
    writer.update(f"INSERT DATA {{ GRAPH <{B}graph/x> {{ <{EX}a> <{EX}b> <{EX}c> }} }}", B)
    assert writer.revision.tag not in (before.tag, undone.tag) and writer.revision.modified >= undone.modified


def test_a_remote_store_renews_its_revision_at_least_every_minute(oxigraph_server, shapes, ontology):
    remote = Writer(RemoteStore(oxigraph_server + "/query"), ChangeValidator(shapes, ontology), B)
    revision = remote.revision
    minute = dt.datetime.now(dt.UTC).replace(second=0, microsecond=0)
    assert revision.tag.endswith(f"{minute:%Y%m%d%H%M}") or revision.tag.endswith(
        f"{minute - dt.timedelta(minutes=1):%Y%m%d%H%M}"
    )  # the minute may turn between the two readings
    assert revision.modified >= minute - dt.timedelta(minutes=1)

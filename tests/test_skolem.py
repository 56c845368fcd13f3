"""No blank node is published: the model, loaded files, stores from before and every write name theirs with IRIs.

Each test runs a real `policykg serve` and asks it over HTTP, as a client that cannot name blank nodes
(rdflib's SPARQLStore, a follow-up query) would.
"""

import shutil
import subprocess
import sys

import httpx
import pyoxigraph as ox
import pytest
import rdflib
from conftest import start_service, stop
from rdflib.plugins.stores.sparqlstore import SPARQLStore

B = "http://localhost:8000/"
GENID = B + ".well-known/genid/"
SHAPES = "https://w3id.org/policykg/shapes"
BLANK = "ASK { { ?s ?p ?o } UNION { GRAPH ?g { ?s ?p ?o } } FILTER (isBlank(?s) || isBlank(?o) || isBlank(?g)) }"


def ask(url: str, query: str) -> bool:
    response = httpx.post(url + "/sparql", data={"query": query}, headers={"Accept": "application/sparql-results+json"})
    assert response.status_code == 200, response.text
    return response.json()["boolean"]


def rows(url: str, query: str) -> list[dict[str, str]]:
    response = httpx.post(url + "/sparql", data={"query": query}, headers={"Accept": "application/sparql-results+json"})
    assert response.status_code == 200, response.text
    return [{k: v["value"] for k, v in row.items()} for row in response.json()["results"]["bindings"]]


def dereferenced(url: str, iri: str) -> rdflib.Graph:
    """The Turtle document the service gives for one of its IRIs, after the 303."""
    response = httpx.get(url + "/" + iri.removeprefix(B), headers={"Accept": "text/turtle"}, follow_redirects=True)
    assert response.status_code == 200, (iri, response.status_code)
    return rdflib.Graph().parse(data=response.text, format="turtle", publicID=B)


def test_rdflib_sparqlstore_walks_the_whole_dataset_and_every_skolem_iri_dereferences(read_only_service):
    graph = rdflib.Graph(SPARQLStore(read_only_service.sparql, returnFormat="json"))
    triples = set(graph.triples((None, None, None)))  # raised "SPARQLStore does not support BNodes" before
    total = rows(read_only_service.url, "SELECT (COUNT(*) AS ?n) WHERE { SELECT DISTINCT ?s ?p ?o { ?s ?p ?o } }")
    assert len(triples) == int(total[0]["n"]) > 1000
    assert not [t for triple in triples for t in triple if isinstance(t, rdflib.BNode)]
    # a client can ask about every subject it met, skolem IRIs included, and gets the same statements back
    by_subject: dict[rdflib.term.Node, set] = {}
    for triple in triples:
        by_subject.setdefault(triple[0], set()).add(triple)
    for subject, statements in by_subject.items():
        assert set(graph.triples((subject, None, None))) == statements, subject
    skolems = {t for triple in triples for t in triple if isinstance(t, rdflib.URIRef) and t.startswith(GENID)}
    assert len(skolems) > 50  # the shapes' property shapes and lists
    for iri in skolems:
        document = dereferenced(read_only_service.url, str(iri))
        assert by_subject.get(iri, set()) <= set(document), iri


def test_the_model_is_skolemised_the_same_way_on_every_load_and_replaced_when_its_files_change(tmp_path, settings):
    root = tmp_path / "model"
    for part in ("ontology", "shapes", "data"):
        shutil.copytree(settings.root / part, root / part)
    env = {"POLICYKG_STORE": str(tmp_path / "store"), "POLICYKG_ROOT": str(root), "POLICYKG_QUERY_WORKERS": "1"}
    query = f"SELECT ?s ?p ?o WHERE {{ GRAPH <{SHAPES}> {{ ?s ?p ?o }} }}"
    process, url = start_service(tmp_path, **env)
    try:
        before = {(r["s"], r["p"], r["o"]) for r in rows(url, query)}
        assert not ask(url, BLANK)
    finally:
        stop(process)
    # The same files on another store give the same skolem IRIs.
    other = {**env, "POLICYKG_STORE": str(tmp_path / "other-store")}
    process, url = start_service(tmp_path, **other)
    try:
        assert {(r["s"], r["p"], r["o"]) for r in rows(url, query)} == before
    finally:
        stop(process)
    # A shapes upgrade: one message changed, one shape added. The next start replaces the graph cleanly.
    shapes = root / "shapes" / "policykg.ttl"
    text = shapes.read_text(encoding="utf-8")
    old_message = "A source document has at most one web address, given as an IRI."
    assert old_message in text
    shapes.write_text(
        text.replace(old_message, "A source document has one web address at most.")
        + "\npkgsh:Upgraded a sh:NodeShape ; sh:targetClass pkg:Place ;\n"
        "    sh:property [ sh:path rdfs:label ; sh:minCount 1 ] .\n",
        encoding="utf-8",
    )
    process, url = start_service(tmp_path, **env)
    try:
        after = {(r["s"], r["p"], r["o"]) for r in rows(url, query)}
        assert not ask(url, BLANK)
        messages = {o for _, p, o in after if p.endswith("#message")}
        assert "A source document has one web address at most." in messages and old_message not in messages
        # exactly the file's statements; the blank nodes the change did not touch keep their IRIs
        assert len(after) == len(rdflib.Graph().parse(shapes, format="turtle", publicID=B))
        assert len(before - after) == 1  # the old message
        added = after - before  # the new message, and the new shape: 3 statements and 2 of its property shape
        assert len(added) == 6 and sum(1 for s, _, _ in added if s.startswith(GENID)) == 2
    finally:
        stop(process)
    assert "their graphs were replaced" in (tmp_path / "serve.log").read_text()


def test_a_store_written_before_skolemisation_has_its_blank_nodes_named_on_the_next_start(tmp_path, settings):
    store = tmp_path / "store"
    env = {"POLICYKG_STORE": str(store), "POLICYKG_QUERY_WORKERS": "1"}
    process, url = start_service(tmp_path, **env)
    stop(process)
    # As an earlier version left it: the shapes with blank nodes, and data with a blank node.
    old = ox.Store(str(store))
    shapes = ox.NamedNode(SHAPES)
    old.update(f"DROP GRAPH <{SHAPES}>")
    old.bulk_load(
        path=str(settings.shapes_dir / "policykg.ttl"), format=ox.RdfFormat.TURTLE, base_iri=B, to_graph=shapes
    )
    data = ox.NamedNode(B + "graph/data")
    old.add(
        ox.Quad(
            ox.NamedNode(B + "id/place/brussels"),
            ox.NamedNode("https://schema.org/address"),
            ox.BlankNode("old0"),
            data,
        )
    )
    old.add(ox.Quad(ox.BlankNode("old0"), ox.NamedNode("https://schema.org/postalCode"), ox.Literal("1000"), data))
    assert old.query(BLANK)
    old.flush()
    del old
    process, url = start_service(tmp_path, **env)
    try:
        assert not ask(url, BLANK)
        found = rows(
            url,
            "SELECT ?a ?code WHERE { <http://localhost:8000/id/place/brussels> <https://schema.org/address> "
            "?a . ?a <https://schema.org/postalCode> ?code }",
        )
        assert len(found) == 1 and found[0]["code"] == "1000" and found[0]["a"].startswith(GENID)
        document = dereferenced(url, found[0]["a"])
        assert (
            rdflib.URIRef(found[0]["a"]),
            rdflib.URIRef("https://schema.org/postalCode"),
            rdflib.Literal("1000"),
        ) in document
    finally:
        stop(process)


@pytest.mark.parametrize(
    "ending, body",
    [
        (
            "nt",
            '_:b0 <https://schema.org/name> "{n}" .\n'
            "<http://localhost:8000/id/place/p{n}> <https://schema.org/address> _:b0 .\n",
        ),
        (
            "ttl",
            "<http://localhost:8000/id/place/p{n}> <https://schema.org/address> "
            '[ <https://schema.org/name> "{n}" ] .\n',
        ),
    ],
)
def test_loaded_files_have_their_blank_nodes_named_each_file_its_own(tmp_path, ending, body):
    files = []
    for n in (1, 2):  # the same blank-node label in two files names two things
        path = tmp_path / f"part{n}.{ending}"
        path.write_text(body.format(n=n), encoding="utf-8")
        files.append(str(path))
    store = tmp_path / "store"
    loaded = subprocess.run(
        [sys.executable, "-m", "policykg.cli", "load", *files, "--store", str(store)],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert loaded.returncode == 0, loaded.stderr
    process, url = start_service(tmp_path, POLICYKG_STORE=str(store), POLICYKG_QUERY_WORKERS="1")
    try:
        assert not ask(url, BLANK)
        found = rows(
            url,
            "SELECT ?place ?a ?name WHERE { ?place <https://schema.org/address> ?a . "
            "?a <https://schema.org/name> ?name } ORDER BY ?name",
        )
        assert [(r["place"], r["name"]) for r in found] == [(B + "id/place/p1", "1"), (B + "id/place/p2", "2")]
        assert found[0]["a"] != found[1]["a"] and all(r["a"].startswith(GENID) for r in found)
    finally:
        stop(process)


def test_a_written_blank_node_comes_back_as_an_iri_a_client_can_name(service):
    place = B + "id/place/skolem-test"
    graph = B + "graph/skolem-test"
    response = httpx.put(
        service.url + "/store",
        params={"graph": graph},
        headers={**service.auth(), "Content-Type": "text/turtle"},
        content=f"<{place}> a <https://w3id.org/policykg/ontology#Place> ; "
        f'<http://www.w3.org/2000/01/rdf-schema#label> "Skolem test"@en ; '
        f'<https://schema.org/address> [ <https://schema.org/postalCode> "1040" ] .',
    )
    assert response.status_code in (200, 201, 204), response.text
    found = rows(service.url, f"SELECT ?a WHERE {{ <{place}> <https://schema.org/address> ?a }}")
    assert len(found) == 1 and found[0]["a"].startswith(GENID)
    follow_up = rows(service.url, f"SELECT ?code WHERE {{ <{found[0]['a']}> <https://schema.org/postalCode> ?code }}")
    assert follow_up == [{"code": "1040"}]
    assert httpx.delete(service.url + "/store", params={"graph": graph}, headers=service.auth()).status_code in (
        200,
        204,
    )

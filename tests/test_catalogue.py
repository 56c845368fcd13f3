"""VoID and DCAT-AP: exact figures, conformance to the official DCAT-AP 3.0.1 shapes, and the routes over HTTP."""

import time
from collections import Counter, defaultdict
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime, parsedate_to_datetime
from pathlib import Path

import httpx
import pyoxigraph as ox
import pyshacl
import pytest
import rdflib
from rdflib.compare import isomorphic
from rdflib.namespace import DCAT, DCTERMS, RDF, SH, VOID

from policykg.config import Settings
from policykg.publish.catalogue import DUMPS, dcat_graph, void_graph
from policykg.publish.statistics import EXAMPLE_CLASSES, EXTERNAL_DATASETS, VOCABULARIES, Statistics, statistics
from policykg.store import Store

# The official SEMIC DCAT-AP 3.0.1 shapes, kept in the repository (CC-BY 4.0; source and licence in SOURCE.md beside).
DCAT_AP_SHAPES = Path(__file__).resolve().parent / "fixtures" / "dcat-ap" / "dcat-ap-SHACL.ttl"
MODIFIED = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
RDF_TYPE = str(RDF.type)


@pytest.fixture(scope="module")
def stats(seed_store: Store, settings: Settings) -> Statistics:
    return statistics(seed_store, settings.base_iri)


@pytest.fixture(scope="module")
def void(settings: Settings, stats: Statistics) -> rdflib.Graph:
    return void_graph(settings, stats, MODIFIED)


@pytest.fixture(scope="module")
def record(settings: Settings, stats: Statistics) -> rdflib.Graph:
    return dcat_graph(settings, stats, MODIFIED)


@pytest.fixture(scope="module")
def quads(seed_store: Store) -> list[ox.Quad]:
    """The store's content read back from its N-Quads dump: the figures are checked against it, not SPARQL."""
    chunks: list[bytes] = []
    seed_store.dump("nquads", chunks.append)
    return list(ox.parse(b"".join(chunks), format=ox.RdfFormat.N_QUADS))


@pytest.fixture(scope="module")
def dcat_ap_shapes() -> rdflib.Graph:
    """The DCAT-AP 3.0.1 shapes, without the two sh:property links to shapes that have no sh:path.

    SOURCE.md beside the file: those shapes are defined only in the upstream ranges.ttl, and pySHACL refuses
    a shapes graph with such dangling links; every other constraint keeps its upstream severity.
    """
    shapes = rdflib.Graph().parse(DCAT_AP_SHAPES, format="turtle")
    dangling = [
        (shape, link) for shape, link in shapes.subject_objects(SH.property) if shapes.value(link, SH.path) is None
    ]
    assert len(dangling) == 2, "SOURCE.md names two dangling links; the file has changed"
    for shape, link in dangling:
        shapes.remove((shape, SH.property, link))
    return shapes


def dataset(settings: Settings) -> rdflib.URIRef:
    return rdflib.URIRef(settings.base_iri + "dataset")


def integer(graph: rdflib.Graph, subject: rdflib.term.Node, predicate: rdflib.URIRef) -> int:
    value = graph.value(subject, predicate)
    assert isinstance(value, rdflib.Literal), f"no {predicate} on {subject}"
    return int(value)


def validate(record: rdflib.Graph, shapes: rdflib.Graph) -> tuple[bool, rdflib.Graph, Counter[str]]:
    conforms, report, _ = pyshacl.validate(record, shacl_graph=shapes, inference="none", do_owl_imports=False)
    assert isinstance(report, rdflib.Graph)
    severities = Counter(str(s).rsplit("#", 1)[-1] for s in report.objects(None, SH.resultSeverity))
    return bool(conforms), report, severities


def expected_links(quads: list[ox.Quad]) -> dict[tuple[str, str], int]:
    """Links counted in Python, by the rule catalogue states: distinct triples whose object is an IRI of an
    external dataset but no vocabulary term, and whose subject is not in that same dataset."""
    counts: dict[tuple[str, str], set[tuple[str, str, str]]] = defaultdict(set)
    for quad in quads:
        if not isinstance(quad.object, ox.NamedNode) or quad.object.value.startswith(VOCABULARIES):
            continue
        triple = (str(quad.subject), str(quad.predicate), str(quad.object))
        for external in EXTERNAL_DATASETS:
            space = external.uri_space
            if quad.object.value.startswith(space) and not quad.subject.value.startswith(space):
                counts[external.key, quad.predicate.value].add(triple)
    return {key: len(triples) for key, triples in counts.items()}


# --- VoID: exact figures ---------------------------------------------------------------------------------------


def test_void_triples_equal_store_count_sparql_count_and_dump(void, settings, seed_store, quads) -> None:
    sparql = seed_store.select("SELECT (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } }").values()[0][0]
    assert integer(void, dataset(settings), VOID.triples) == seed_store.count() == int(sparql or 0) == len(quads)


def test_void_distinct_figures_match_the_dump(void, settings, quads) -> None:
    subject = dataset(settings)
    entities = {
        q.subject
        for q in quads
        if isinstance(q.subject, ox.NamedNode) and q.subject.value.startswith(settings.base_iri + "id/")
    }
    assert integer(void, subject, VOID.distinctSubjects) == len({q.subject for q in quads})
    assert integer(void, subject, VOID.distinctObjects) == len({q.object for q in quads})
    assert integer(void, subject, VOID.properties) == len({q.predicate for q in quads})
    assert integer(void, subject, VOID.entities) == len(entities) > 0
    assert void.value(subject, VOID.uriSpace) == rdflib.Literal(settings.base_iri + "id/")


def test_statistics_count_the_named_graphs(stats, seed_store) -> None:
    assert stats.graphs == len(seed_store.graph_names())


def test_void_class_partitions_match_instances_in_the_dump(void, settings, quads) -> None:
    instances: dict[str, set[object]] = defaultdict(set)
    for q in quads:
        if q.predicate.value == RDF_TYPE and isinstance(q.object, ox.NamedNode):
            instances[q.object.value].add(q.subject)
    partitions = {
        str(void.value(p, VOID["class"])): integer(void, p, VOID.entities)
        for p in void.objects(dataset(settings), VOID.classPartition)
    }
    assert partitions == {cls: len(members) for cls, members in instances.items()}
    assert integer(void, dataset(settings), VOID.classes) == len(partitions)


def test_void_linksets_count_the_links_to_each_external_dataset(void, settings, quads) -> None:
    subject = dataset(settings)
    found: dict[tuple[str, str], int] = {}
    for linkset in void.objects(subject, VOID.subset):
        assert (linkset, RDF.type, VOID.Linkset) in void
        targets = set(void.objects(linkset, VOID.target))
        assert subject in targets and len(targets) == 2
        (external,) = targets - {subject}
        assert (external, RDF.type, VOID.Dataset) in void and void.value(external, DCTERMS.title) is not None
        key = str(external).rsplit("#", 1)[-1]
        found[key, str(void.value(linkset, VOID.linkPredicate))] = integer(void, linkset, VOID.triples)
    assert found == expected_links(quads)
    assert {key for key, _ in found} == {"eurovoc", "wikidata", "eli", "authority-tables"}


def test_void_eli_linkset_leaves_out_terms_of_the_eli_ontology(void, settings) -> None:
    # rdf:type eli:LegalResource, sh:path eli:… sit in the ELI URI space but are vocabulary, not links.
    eli = rdflib.URIRef(f"{dataset(settings)}#eli")
    predicates = {void.value(s, VOID.linkPredicate) for s in void.subjects(VOID.target, eli)}
    assert predicates and RDF.type not in predicates and not any(str(p).startswith(str(SH)) for p in predicates)


def test_void_example_resources_are_the_first_instances_of_the_example_classes(void, settings, ontology, quads) -> None:
    # An event, a recommendation, a concept: for each, the instance under <base>id/ with the smallest IRI,
    # counting instances of subclasses (as the ontology defines them).
    examples = {str(e) for e in void.objects(dataset(settings), VOID.exampleResource)}
    expected = set()
    for root in EXAMPLE_CLASSES:
        classes = {str(c) for c in ontology.transitive_subjects(rdflib.RDFS.subClassOf, rdflib.URIRef(root))}
        instances = {
            q.subject.value
            for q in quads
            if q.predicate.value == RDF_TYPE
            and q.object.value in classes
            and q.subject.value.startswith(settings.base_iri + "id/")
        }
        assert instances, f"the seed has no instance of {root}"
        expected.add(min(instances))
    assert examples == expected


def test_void_vocabularies_are_those_whose_terms_the_data_uses(void, settings, quads) -> None:
    used = {q.predicate.value for q in quads} | {q.object.value for q in quads if q.predicate.value == RDF_TYPE}
    expected = {ns for ns in VOCABULARIES if any(term.startswith(ns) for term in used)}
    assert {str(v) for v in void.objects(dataset(settings), VOID.vocabulary)} == expected
    assert {"https://w3id.org/policykg/ontology#", "http://www.w3.org/ns/prov#", "https://schema.org/"} <= expected


def test_void_points_to_the_dumps_the_endpoint_and_the_change_stream(void, settings) -> None:
    subject, base = dataset(settings), settings.base_iri
    assert {str(d) for d in void.objects(subject, VOID.dataDump)} == {dump.url(base) for dump in DUMPS}
    assert void.value(subject, VOID.sparqlEndpoint) == rdflib.URIRef(base + "sparql")
    assert (subject, rdflib.RDFS.seeAlso, rdflib.URIRef(base + "ldes")) in void
    assert void.value(subject, DCTERMS.modified).toPython() == MODIFIED


# --- DCAT-AP 3.0.1 ------------------------------------------------------------------------------------------------


def test_dcat_record_conforms_to_the_dcat_ap_3_shapes(record, dcat_ap_shapes) -> None:
    conforms, report, severities = validate(record, dcat_ap_shapes)
    assert conforms and severities["Violation"] == 0, (
        f"{severities['Violation']} violations, {severities['Warning']} warnings, {severities['Info']} infos:\n"
        + report.serialize(format="turtle")
    )
    assert severities["Warning"] == 0 and severities["Info"] == 0, f"warnings/infos: {dict(severities)}"


def test_dcat_ap_shapes_catch_a_catalogue_without_title(record, dcat_ap_shapes, settings) -> None:
    catalogue = rdflib.URIRef(settings.base_iri + "catalog")
    broken = rdflib.Graph()
    for triple in record:
        broken.add(triple)
    broken.remove((catalogue, DCTERMS.title, None))
    conforms, report, severities = validate(broken, dcat_ap_shapes)
    assert not conforms and severities["Violation"] == 1
    result = next(report.subjects(RDF.type, SH.ValidationResult))
    assert report.value(result, SH.focusNode) == catalogue and report.value(result, SH.resultPath) == DCTERMS.title


def test_dcat_distributions_are_the_dumps_with_iana_media_types(record, settings) -> None:
    distributions = list(record.objects(dataset(settings), DCAT.distribution))
    assert len(distributions) == len(DUMPS)
    for dump in DUMPS:
        (node,) = record.subjects(DCAT.downloadURL, rdflib.URIRef(dump.url(settings.base_iri)))
        media_type = rdflib.URIRef("http://www.iana.org/assignments/media-types/" + dump.media_type)
        assert record.value(node, DCAT.accessURL) == rdflib.URIRef(dump.url(settings.base_iri))
        assert record.value(node, DCAT.mediaType) == media_type == record.value(node, DCTERMS.format)
        gzip = rdflib.URIRef("http://www.iana.org/assignments/media-types/application/gzip")
        assert record.value(node, DCAT.compressFormat) == (gzip if dump.compressed else None)


def test_dcat_services_serve_the_dataset_at_sparql_and_ldes(record, settings) -> None:
    base = settings.base_iri
    services = set(record.objects(rdflib.URIRef(base + "catalog"), DCAT.service))
    assert {str(record.value(s, DCAT.endpointURL)) for s in services} == {base + "sparql", base + "ldes"}
    assert all(record.value(s, DCAT.servesDataset) == dataset(settings) for s in services)
    sparql = rdflib.URIRef(base + "sparql#service")
    assert record.value(sparql, DCAT.endpointDescription) == rdflib.URIRef(base + "sparql")
    ldes = rdflib.URIRef(base + "ldes#service")
    assert record.value(ldes, DCTERMS.conformsTo) == rdflib.URIRef("https://w3id.org/ldes/specification")


def test_void_and_dcat_describe_one_dataset_with_the_configured_publisher(void, record, settings) -> None:
    for graph in (void, record):
        assert {DCAT.Dataset, VOID.Dataset} <= set(graph.objects(dataset(settings), RDF.type))
        publisher = graph.value(dataset(settings), DCTERMS.publisher)
        assert publisher == rdflib.URIRef(settings.publisher_iri)
        assert str(graph.value(publisher, rdflib.FOAF.name)) == settings.publisher_name


# --- over HTTP ----------------------------------------------------------------------------------------------------

PATHS = ["/.well-known/void", "/catalog"]


@pytest.fixture
def settled(service) -> None:
    """VoID and the catalogue made for the current revision (after another test's writes, they follow a moment
    later): two requests in a row then see the same one."""
    current = httpx.get(service.url + "/ready").json()["revision"]["tag"].split("-")[:2]
    deadline = time.monotonic() + 120
    for path in PATHS:
        while httpx.get(service.url + path).headers["etag"].strip('"').split("-")[:2] != current:
            assert time.monotonic() < deadline, f"{path} does not follow the revision {current}"
            time.sleep(0.05)


@pytest.mark.parametrize("path", PATHS)
def test_route_turtle_and_json_ld_give_the_same_graph(service, settled, path) -> None:
    turtle = httpx.get(service.url + path, headers={"Accept": "text/turtle"})
    jsonld = httpx.get(service.url + path, headers={"Accept": "application/ld+json"})
    assert turtle.status_code == jsonld.status_code == 200
    assert turtle.headers["content-type"].startswith("text/turtle")
    assert jsonld.headers["content-type"].startswith("application/ld+json")
    from_turtle = rdflib.Graph().parse(data=turtle.text, format="turtle")
    assert len(from_turtle) > 50
    assert isomorphic(from_turtle, rdflib.Graph().parse(data=jsonld.text, format="json-ld"))


@pytest.mark.parametrize("path", PATHS)
def test_route_sends_validators_vary_and_cache_control(service, path) -> None:
    response = httpx.get(service.url + path)
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/turtle")
    assert "accept" in [v.strip().lower() for v in response.headers["vary"].split(",")]
    assert response.headers["cache-control"] == "max-age=60"
    assert response.headers["etag"].startswith('"') and response.headers["last-modified"].endswith("GMT")


@pytest.mark.parametrize("path", PATHS)
def test_route_answers_304_when_the_client_copy_is_current(service, settled, path) -> None:
    first = httpx.get(service.url + path)
    again = httpx.get(service.url + path, headers={"If-None-Match": first.headers["etag"]})
    assert again.status_code == 304 and again.content == b"" and again.headers["etag"] == first.headers["etag"]
    # Last-Modified has whole seconds: a date a second past it is one the last write came before.
    later = format_datetime(parsedate_to_datetime(first.headers["last-modified"]) + timedelta(seconds=1), usegmt=True)
    since = httpx.get(service.url + path, headers={"If-Modified-Since": later})
    assert since.status_code == 304
    other = httpx.get(service.url + path, headers={"If-None-Match": '"another"'})
    assert other.status_code == 200 and other.content == first.content


def test_route_etag_differs_per_syntax(service) -> None:
    turtle = httpx.get(service.url + "/catalog", headers={"Accept": "text/turtle"})
    ntriples = httpx.get(service.url + "/catalog", headers={"Accept": "application/n-triples"})
    assert ntriples.status_code == 200 and turtle.headers["etag"] != ntriples.headers["etag"]
    stale = httpx.get(
        service.url + "/catalog", headers={"Accept": "application/n-triples", "If-None-Match": turtle.headers["etag"]}
    )
    assert stale.status_code == 200


def test_route_head_sends_the_headers_without_body(service, settled) -> None:
    get = httpx.get(service.url + "/.well-known/void")
    head = httpx.head(service.url + "/.well-known/void")
    assert head.status_code == 200 and head.content == b""
    assert head.headers["etag"] == get.headers["etag"] and head.headers["content-type"] == get.headers["content-type"]


def test_route_refuses_an_unacceptable_syntax_with_406(service) -> None:
    response = httpx.get(service.url + "/catalog", headers={"Accept": "image/png"})
    assert response.status_code == 406
    assert response.headers["content-type"] == "application/problem+json"


def test_route_void_follows_a_write_and_matches_the_sparql_count(service, settings) -> None:
    # The service runs with the default base IRI, as the settings fixture does.
    graph = settings.base_iri + "graph/test-catalogue-probe"
    before = httpx.get(service.url + "/.well-known/void")
    count = httpx.post(
        service.sparql,
        data={"query": "SELECT (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } }"},
        headers={"Accept": "application/sparql-results+json"},
    )
    triples_before = _void_triples(before.text, settings)
    assert triples_before == int(count.json()["results"]["bindings"][0]["n"]["value"])
    body = f'<{settings.base_iri}id/test/catalogue-probe> <http://www.w3.org/2000/01/rdf-schema#label> "probe" .'
    written = httpx.put(
        service.url + "/store",
        params={"graph": graph},
        content=body,
        headers={**service.auth(), "Content-Type": "text/turtle"},
    )
    assert written.status_code == 201, written.text
    try:
        after = _void_of_the_current_revision(service)
        assert after.headers["etag"] != before.headers["etag"]
        assert _void_triples(after.text, settings) == triples_before + 1
    finally:
        assert httpx.delete(service.url + "/store", params={"graph": graph}, headers=service.auth()).status_code == 204
    assert _void_triples(_void_of_the_current_revision(service).text, settings) == triples_before


def _void_of_the_current_revision(service, seconds: float = 120) -> httpx.Response:
    """VoID once it describes the store's current revision (it is remade in the background after a write)."""
    current = ('"' + httpx.get(service.url + "/ready").json()["revision"]["tag"]).split("-")[:2]
    deadline = time.monotonic() + seconds
    while True:
        answer = httpx.get(service.url + "/.well-known/void")
        if answer.headers["etag"].split("-")[:2] == current or time.monotonic() > deadline:
            return answer
        time.sleep(0.05)


def _void_triples(turtle: str, settings: Settings) -> int:
    return integer(rdflib.Graph().parse(data=turtle, format="turtle"), dataset(settings), VOID.triples)

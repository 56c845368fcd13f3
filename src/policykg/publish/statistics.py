"""The figures VoID and DCAT-AP report about the dataset, counted in full in the store by SPARQL.

statistics() is the full count: at a start and after changes publish/tally.py cannot follow, over a remote
store in the background, and in the tests, which compare the figures kept from each write with it.

Also what the counting needs to know: the external datasets the graph links to, the vocabularies it may
use, and the classes its example resources are taken from.
"""

import json
import re
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from rdflib.namespace import DCAT, DCTERMS, FOAF, ORG, OWL, PROV, RDF, RDFS, SH, SKOS, TIME, VOID

from policykg import iris
from policykg.rdf.namespaces import CV, ELI, ONTOLOGY_IRI, PKG, SCHEMA
from policykg.store import Store


@dataclass(frozen=True)
class ExternalDataset:
    """A dataset the graph links to, known by the IRIs of its resources."""

    key: str
    title: str
    uri_space: str


EXTERNAL_DATASETS: tuple[ExternalDataset, ...] = (
    ExternalDataset("eurovoc", "EuroVoc", "http://eurovoc.europa.eu/"),
    ExternalDataset("wikidata", "Wikidata", "http://www.wikidata.org/entity/"),
    ExternalDataset("eli", "EU legal acts identified by ELI", "http://data.europa.eu/eli/"),
    ExternalDataset(
        "authority-tables",
        "EU authority tables (Publications Office)",
        "http://publications.europa.eu/resource/authority/",
    ),
)

# Vocabularies void:vocabulary may name: a term of the data in one of these namespaces counts as a use.
VOCABULARIES: tuple[str, ...] = (
    str(SCHEMA),
    str(PROV),
    str(SKOS),
    str(ORG),
    str(DCTERMS),
    str(ELI),
    str(CV),
    str(PKG),
    str(RDF),
    str(RDFS),
    str(OWL),
    str(SH),
    str(FOAF),
    str(DCAT),
    str(VOID),
    str(TIME),
    "http://www.w3.org/ns/locn#",
    "http://www.w3.org/ns/oa#",
)
# Examples of what the dataset is about: an instance of each class (or one of its subclasses), in this order.
EXAMPLE_CLASSES: tuple[str, ...] = (str(PKG.Event), str(PKG.Recommendation), str(PKG.PolicyConcept))


@dataclass(frozen=True)
class LinkCount:
    """How many distinct triples link the dataset to an external dataset through one predicate."""

    target: str  # key of an ExternalDataset
    predicate: str
    triples: int


@dataclass(frozen=True)
class Statistics:
    """Figures of the store's content, as VoID reports them."""

    quads: int
    distinct_subjects: int
    distinct_objects: int
    properties: int
    graphs: int
    class_partition: tuple[tuple[str, int], ...]  # class IRI -> distinct instances, sorted by class
    entities: int
    vocabularies: tuple[str, ...]
    links: tuple[LinkCount, ...]
    examples: tuple[str, ...]

    @property
    def classes(self) -> int:
        """The number of distinct classes (IRIs that are objects of rdf:type)."""
        return len(self.class_partition)


def statistics(store: Store, base_iri: str) -> Statistics:
    """Compute the figures by SPARQL (entities: subjects under <base_iri>id/); every pattern names its graph.

    The queries are independent and each scans much of the store: they run side by side, one per thread
    (Oxigraph lets go of the interpreter while it evaluates, so they use every core).
    """
    # Every resource has a type (the entries and the shapes see to it): the type index finds them all,
    # twice as fast as a scan of every statement.
    entities = f"""SELECT (COUNT(DISTINCT ?s) AS ?n) WHERE {{
        GRAPH ?g {{ ?s a ?type }} FILTER(isIRI(?s) && STRSTARTS(STR(?s), {_string(base_iri + iris.THINGS)})) }}"""
    totals_query = """SELECT (COUNT(DISTINCT ?s) AS ?subjects) (COUNT(DISTINCT ?o) AS ?objects)
            (COUNT(DISTINCT ?p) AS ?properties) (COUNT(DISTINCT ?g) AS ?graphs) WHERE { GRAPH ?g { ?s ?p ?o } }"""
    with ThreadPoolExecutor(max_workers=7, thread_name_prefix="policykg-statistics") as pool:  # one per figure
        totals = pool.submit(_integers, store, totals_query)
        entity_count = pool.submit(_integers, store, entities)
        classes = pool.submit(_class_partition, store)
        vocabularies = pool.submit(_vocabularies, store)
        links = pool.submit(_links, store)
        examples = pool.submit(_examples, store, base_iri)
        quads = pool.submit(store.count)
        counts = totals.result()
        return Statistics(
            distinct_subjects=counts[0],
            distinct_objects=counts[1],
            properties=counts[2],
            graphs=counts[3],
            entities=entity_count.result()[0],
            class_partition=classes.result(),
            vocabularies=vocabularies.result(),
            links=links.result(),
            examples=examples.result(),
            quads=quads.result(),
        )


def _string(text: str) -> str:
    """A SPARQL string literal (JSON's escapes are SPARQL's, \\uXXXX included)."""
    return json.dumps(text)


def _regex_escape(text: str) -> str:
    """Text matched literally by an XPath regular expression (SPARQL REGEX): its metacharacters escaped."""
    return re.sub(r"([\\.?*+{}()\[\]|^$-])", r"\\\1", text)


def _integers(store: Store, sparql: str) -> list[int]:
    row = store.select(sparql).values()[0]
    return [int(value or 0) for value in row]


def _class_partition(store: Store) -> tuple[tuple[str, int], ...]:
    rows = store.select("""SELECT ?class (COUNT(DISTINCT ?s) AS ?n) WHERE {
        GRAPH ?g { ?s a ?class } FILTER(isIRI(?class)) } GROUP BY ?class ORDER BY ?class""").values()
    return tuple((str(class_iri), int(count or 0)) for class_iri, count in rows)


def _vocabularies(store: Store) -> tuple[str, ...]:
    """The known vocabularies that have a property or a class in the store."""
    values = " ".join(_string(namespace) for namespace in VOCABULARIES)
    rows = store.select(f"""SELECT DISTINCT ?vocabulary WHERE {{
        {{ SELECT DISTINCT ?term WHERE {{ {{ GRAPH ?g {{ ?s ?term ?o }} }} UNION {{ GRAPH ?g {{ ?s a ?term }} }} }} }}
        VALUES ?vocabulary {{ {values} }}
        FILTER(isIRI(?term) && STRSTARTS(STR(?term), ?vocabulary))
    }} ORDER BY ?vocabulary""").values()
    return tuple(str(vocabulary) for (vocabulary,) in rows)


def _links(store: Store) -> tuple[LinkCount, ...]:
    """Distinct triples whose object is a resource of an external dataset, per dataset and predicate.

    A term of a vocabulary is not a link (the ELI ontology sits inside the ELI URI space), nor is a triple
    whose subject is in the same external dataset as its object.
    """
    # One anchored regular expression per quad costs about half of four STRSTARTS (measured on 300k quads).
    spaces = "^(" + "|".join(_regex_escape(e.uri_space) for e in EXTERNAL_DATASETS) + ")"
    terms = " || ".join(f"STRSTARTS(STR(?o), {_string(namespace)})" for namespace in VOCABULARIES)
    values = " ".join(f"({_string(e.key)} {_string(e.uri_space)})" for e in EXTERNAL_DATASETS)
    rows = store.select(f"""SELECT ?target ?p (COUNT(*) AS ?n) WHERE {{
        {{ SELECT DISTINCT ?s ?p ?o WHERE {{
            GRAPH ?g {{ ?s ?p ?o }} FILTER(isIRI(?o) && REGEX(STR(?o), {_string(spaces)})) }} }}
        FILTER(!({terms}))
        VALUES (?target ?space) {{ {values} }}
        FILTER(STRSTARTS(STR(?o), ?space) && !(isIRI(?s) && STRSTARTS(STR(?s), ?space)))
    }} GROUP BY ?target ?p ORDER BY ?target ?p""").values()
    return tuple(LinkCount(str(target), str(predicate), int(count or 0)) for target, predicate, count in rows)


def _examples(store: Store, base_iri: str) -> tuple[str, ...]:
    found = first_instances(store, base_iri, example_classes(store))
    return tuple(found[root] for root in EXAMPLE_CLASSES if root in found)


def first_instances(store: Store, base_iri: str, classes: dict[str, frozenset[str]]) -> dict[str, str]:
    """The first instance (by IRI) under <base>id/ of each class given, with its subclasses (example_classes)."""
    pairs = " ".join(f"(<{c}> <{root}>)" for root, subclasses in classes.items() for c in sorted(subclasses))
    rows = store.select(f"""SELECT ?root (MIN(STR(?resource)) AS ?example) WHERE {{
        VALUES (?class ?root) {{ {pairs} }}
        GRAPH ?g {{ ?resource a ?class }}
        FILTER(isIRI(?resource) && STRSTARTS(STR(?resource), {_string(base_iri + iris.THINGS)}))
    }} GROUP BY ?root""").values()
    return {str(root): str(example) for root, example in rows if example}


def example_classes(store: Store) -> dict[str, frozenset[str]]:
    """Each example class with its subclasses in the ontology (whose hierarchy writes may not change).

    The hierarchy is read whole and followed here: Virtuoso refuses a path of rdfs:subClassOf* whose start is a
    variable, even one bound by VALUES ("transitive start not given").
    """
    rows = store.select(f"SELECT ?c ?super WHERE {{ GRAPH <{ONTOLOGY_IRI}> {{ ?c <{RDFS.subClassOf}> ?super }} }}")
    below: dict[str, set[str]] = {}
    for sub, above in rows.values():
        below.setdefault(str(above), set()).add(str(sub))
    found = {}
    for root in EXAMPLE_CLASSES:
        classes, todo = {root}, [root]  # a class is its own, stated or not
        while todo:
            more = below.get(todo.pop(), set()) - classes
            classes |= more
            todo.extend(more)
        found[root] = frozenset(classes)
    return found


def predicates(store: Store) -> frozenset[str]:
    """The properties used in the store's named graphs."""
    rows = store.select("SELECT DISTINCT ?p WHERE { GRAPH ?g { ?s ?p ?o } }").values()
    return frozenset(str(predicate) for (predicate,) in rows)


def vocabularies_of(terms: set[str] | frozenset[str]) -> tuple[str, ...]:
    """The known vocabularies some of these properties and classes belong to, sorted (as _vocabularies finds)."""
    return tuple(sorted(v for v in VOCABULARIES if any(term.startswith(v) for term in terms)))


def link_targets(subject: str | None, object_: str) -> tuple[str, ...]:
    """The external datasets a triple links to, by its object's IRI and its subject's (None: not an IRI), as
    _links counts them: not a vocabulary's term, and not from a resource of the same dataset."""
    if object_.startswith(VOCABULARIES):
        return ()
    return tuple(
        e.key
        for e in EXTERNAL_DATASETS
        if object_.startswith(e.uri_space) and not (subject is not None and subject.startswith(e.uri_space))
    )

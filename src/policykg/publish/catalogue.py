"""The dataset the service publishes, described for harvesters: VoID (figures, linksets) and a DCAT-AP 3 record.

Facts rule: an external IRI written here is either in data/sources/verified-identifiers.md or is a standard's own
IRI (a W3C/DCMI/IANA namespace or document). EU authority-table codes that file does not list (licences, file
types, data themes, access rights, frequencies, publisher types) are not guessed: the record uses the licence's
and the media types' own IRIs instead, or leaves the property out.
"""

import hashlib
import re
from dataclasses import dataclass
from datetime import datetime

import rdflib
from rdflib.namespace import DCAT, DCTERMS, FOAF, RDF, RDFS, SKOS, VOID, XSD

from policykg import iris
from policykg.config import Settings
from policykg.publish.statistics import (
    EXTERNAL_DATASETS,
    LinkCount,
    Statistics,
)
from policykg.rdf.namespaces import ONTOLOGY_IRI, PREFIXES

VCARD = rdflib.Namespace("http://www.w3.org/2006/vcard/ns#")
MEDIA_TYPES = "http://www.iana.org/assignments/media-types/"
LICENCE = rdflib.URIRef("https://creativecommons.org/licenses/by/4.0/")
ENGLISH = rdflib.URIRef("http://publications.europa.eu/resource/authority/language/ENG")  # eu-identifiers.md
LDES_SPECIFICATION = rdflib.URIRef("https://w3id.org/ldes/specification")
SPARQL_PROTOCOL = rdflib.URIRef("https://www.w3.org/TR/sparql11-protocol/")
TITLE = "policykg: European cultural-heritage policy"
DESCRIPTION = (
    "A knowledge graph of European cultural-heritage policy: the events where it is made (expert-group "
    "meetings, conferences), the people and organisations in them, the recommendations they produce and "
    "the EU policy concepts and instruments those touch. Every fact sits in a named graph that records "
    "its provenance, down to the sentence of its source; inferred facts are marked as such."
)
KEYWORDS = (
    "cultural heritage",
    "cultural policy",
    "European Union",
    "museums",
    "expert groups",
    "policy recommendations",
    "provenance",
    "linked data",
)
# EuroVoc concepts and labels as verified in eu-identifiers.md (the EU Data Theme table's codes are not there).
THEMES = (("http://eurovoc.europa.eu/2278", "cultural heritage"), ("http://eurovoc.europa.eu/2459", "cultural policy"))


@dataclass(frozen=True)
class Dump:
    """A file holding the whole dataset, served under <base>dumps/."""

    file_name: str
    media_type: str
    compressed: bool
    title: str

    def url(self, base_iri: str) -> str:
        """Where the service serves this file."""
        return f"{base_iri}{iris.DUMPS}{self.file_name}"


DUMPS: tuple[Dump, ...] = (
    Dump("policykg.nq.gz", "application/n-quads", True, "The whole dataset as gzip-compressed N-Quads"),
    Dump("policykg.nq", "application/n-quads", False, "The whole dataset as N-Quads"),
    Dump("policykg.trig", "application/trig", False, "The whole dataset as TriG"),
)


def void_graph(settings: Settings, stats: Statistics, modified: datetime) -> rdflib.Graph:
    """The VoID description of the dataset, at <base>.well-known/void."""
    base = settings.base_iri
    graph = _graph()
    dataset, document = _dataset(settings), rdflib.URIRef(base + ".well-known/void")
    graph.add((document, RDF.type, VOID.DatasetDescription))
    graph.add((document, DCTERMS.title, rdflib.Literal(f"VoID description of {TITLE}", lang="en")))
    graph.add((document, FOAF.primaryTopic, dataset))
    _describe_dataset(graph, settings, modified)
    for predicate, value in (
        (VOID.triples, stats.quads),
        (VOID.distinctSubjects, stats.distinct_subjects),
        (VOID.distinctObjects, stats.distinct_objects),
        (VOID.properties, stats.properties),
        (VOID.classes, stats.classes),
        (VOID.entities, stats.entities),
    ):
        graph.add((dataset, predicate, rdflib.Literal(value, datatype=XSD.integer)))
    graph.add((dataset, VOID.uriSpace, rdflib.Literal(base + iris.THINGS)))
    graph.add((dataset, VOID.sparqlEndpoint, rdflib.URIRef(base + "sparql")))
    graph.add((dataset, RDFS.seeAlso, rdflib.URIRef(base + "ldes")))
    for dump in DUMPS:
        graph.add((dataset, VOID.dataDump, rdflib.URIRef(dump.url(base))))
    for example in stats.examples:
        graph.add((dataset, VOID.exampleResource, rdflib.URIRef(example)))
    for vocabulary in stats.vocabularies:
        graph.add((dataset, VOID.vocabulary, rdflib.URIRef(vocabulary)))
    for class_iri, instances in stats.class_partition:
        partition = rdflib.URIRef(f"{dataset}#class-{_slug(class_iri)}")
        graph.add((dataset, VOID.classPartition, partition))
        graph.add((partition, VOID["class"], rdflib.URIRef(class_iri)))
        graph.add((partition, VOID.entities, rdflib.Literal(instances, datatype=XSD.integer)))
    _add_linksets(graph, dataset, stats.links)
    return graph


def dcat_graph(settings: Settings, stats: Statistics, modified: datetime) -> rdflib.Graph:
    """The DCAT-AP 3 record of the catalogue, the dataset, its dumps and its two data services."""
    base = settings.base_iri
    graph = _graph()
    catalogue, dataset, home = rdflib.URIRef(base + "catalog"), _dataset(settings), rdflib.URIRef(base)
    graph.add((catalogue, RDF.type, DCAT.Catalog))
    graph.add((catalogue, DCTERMS.title, rdflib.Literal(f"Catalogue of {TITLE}", lang="en")))
    graph.add(
        (
            catalogue,
            DCTERMS.description,
            rdflib.Literal(
                "The dataset this service publishes, its downloads, and its SPARQL and change-stream services.",
                lang="en",
            ),
        )
    )
    graph.add((catalogue, DCTERMS.publisher, _publisher(graph, settings)))
    graph.add((catalogue, DCTERMS.language, _language(graph)))
    graph.add((catalogue, DCTERMS.license, _licence(graph)))
    graph.add((catalogue, DCTERMS.modified, _timestamp(modified)))
    graph.add((catalogue, FOAF.homepage, home))
    graph.add((home, RDF.type, FOAF.Document))
    graph.add((catalogue, DCAT.dataset, dataset))
    _describe_dataset(graph, settings, modified)
    graph.add((dataset, DCTERMS.identifier, rdflib.Literal(str(dataset))))
    graph.add((dataset, DCAT.landingPage, home))
    graph.add((dataset, DCAT.contactPoint, _contact(graph, settings)))
    graph.add((dataset, DCTERMS.conformsTo, _standard(graph, rdflib.URIRef(ONTOLOGY_IRI))))
    for keyword in KEYWORDS:
        graph.add((dataset, DCAT.keyword, rdflib.Literal(keyword, lang="en")))
    for concept, label in THEMES:
        graph.add((dataset, DCAT.theme, rdflib.URIRef(concept)))
        graph.add((rdflib.URIRef(concept), RDF.type, SKOS.Concept))
        graph.add((rdflib.URIRef(concept), SKOS.prefLabel, rdflib.Literal(label, lang="en")))
    for dump in DUMPS:
        graph.add((dataset, DCAT.distribution, _distribution(graph, settings, dump, modified)))
    for service in (_sparql_service(graph, settings), _ldes_service(graph, settings)):
        graph.add((catalogue, DCAT.service, service))
    return graph


def _describe_dataset(graph: rdflib.Graph, settings: Settings, modified: datetime) -> None:
    """What VoID and DCAT say alike about the dataset: one resource, typed for both."""
    dataset = _dataset(settings)
    graph.add((dataset, RDF.type, VOID.Dataset))
    graph.add((dataset, RDF.type, DCAT.Dataset))
    graph.add((dataset, DCTERMS.title, rdflib.Literal(TITLE, lang="en")))
    graph.add((dataset, DCTERMS.description, rdflib.Literal(DESCRIPTION, lang="en")))
    graph.add((dataset, DCTERMS.publisher, _publisher(graph, settings)))
    graph.add((dataset, DCTERMS.license, _licence(graph)))
    graph.add((dataset, DCTERMS.language, _language(graph)))
    graph.add((dataset, DCTERMS.modified, _timestamp(modified)))


def _add_linksets(graph: rdflib.Graph, dataset: rdflib.URIRef, links: tuple[LinkCount, ...]) -> None:
    """One void:Linkset per external dataset and link predicate (VoID §4.3: one predicate per linkset)."""
    known = {external.key: external for external in EXTERNAL_DATASETS}
    for link in links:
        external = known[link.target]
        target = rdflib.URIRef(f"{dataset}#{external.key}")
        graph.add((target, RDF.type, VOID.Dataset))
        graph.add((target, DCTERMS.title, rdflib.Literal(external.title, lang="en")))
        graph.add((target, VOID.uriSpace, rdflib.Literal(external.uri_space)))
        linkset = rdflib.URIRef(f"{dataset}#links-{external.key}-{_slug(link.predicate)}")
        graph.add((dataset, VOID.subset, linkset))
        graph.add((linkset, RDF.type, VOID.Linkset))
        graph.add((linkset, VOID.target, dataset))
        graph.add((linkset, VOID.target, target))
        graph.add((linkset, VOID.linkPredicate, rdflib.URIRef(link.predicate)))
        graph.add((linkset, VOID.triples, rdflib.Literal(link.triples, datatype=XSD.integer)))


def _distribution(graph: rdflib.Graph, settings: Settings, dump: Dump, modified: datetime) -> rdflib.URIRef:
    url = rdflib.URIRef(dump.url(settings.base_iri))
    node = rdflib.URIRef(f"{_dataset(settings)}#dump-{dump.file_name}")
    media_type = _media_type(graph, dump.media_type)
    graph.add((node, RDF.type, DCAT.Distribution))
    graph.add((node, DCTERMS.title, rdflib.Literal(dump.title, lang="en")))
    graph.add((node, DCAT.accessURL, url))
    graph.add((node, DCAT.downloadURL, url))
    # DCAT 3 §6.8: with dcat:compressFormat, the media type and format are those of the uncompressed content.
    graph.add((node, DCAT.mediaType, media_type))
    graph.add((node, DCTERMS.format, media_type))
    if dump.compressed:
        graph.add((node, DCAT.compressFormat, _media_type(graph, "application/gzip")))
    graph.add((node, DCTERMS.license, _licence(graph)))
    graph.add((node, DCTERMS.modified, _timestamp(modified)))  # written from the store as it is now
    return node


def _sparql_service(graph: rdflib.Graph, settings: Settings) -> rdflib.URIRef:
    summary = (
        "Queries (SPARQL 1.1 Protocol) over the whole dataset; a GET without a query gives its service description."
    )
    service = _data_service(graph, settings, "sparql", "SPARQL 1.1 endpoint of policykg", summary, SPARQL_PROTOCOL)
    graph.add((service, DCAT.endpointDescription, rdflib.URIRef(settings.base_iri + "sparql")))
    docs = rdflib.URIRef(settings.base_iri + "docs")
    graph.add((service, FOAF.page, docs))
    graph.add((docs, RDF.type, FOAF.Document))
    return service


def _ldes_service(graph: rdflib.Graph, settings: Settings) -> rdflib.URIRef:
    summary = "Every change to the dataset, in order, as a Linked Data Event Stream."
    return _data_service(graph, settings, "ldes", "Change stream of policykg (LDES)", summary, LDES_SPECIFICATION)


def _data_service(
    graph: rdflib.Graph, settings: Settings, path: str, title: str, description: str, standard: rdflib.URIRef
) -> rdflib.URIRef:
    """A dcat:DataService at the service's path, serving the dataset, conforming to a standard."""
    endpoint = rdflib.URIRef(settings.base_iri + path)
    service = rdflib.URIRef(f"{endpoint}#service")
    graph.add((service, RDF.type, DCAT.DataService))
    graph.add((service, DCTERMS.title, rdflib.Literal(title, lang="en")))
    graph.add((service, DCTERMS.description, rdflib.Literal(description, lang="en")))
    graph.add((service, DCAT.endpointURL, endpoint))
    graph.add((service, DCAT.servesDataset, _dataset(settings)))
    graph.add((service, DCTERMS.publisher, _publisher(graph, settings)))
    graph.add((service, DCTERMS.license, _licence(graph)))
    graph.add((service, DCAT.contactPoint, _contact(graph, settings)))
    graph.add((service, DCTERMS.conformsTo, _standard(graph, standard)))
    return service


def _publisher(graph: rdflib.Graph, settings: Settings) -> rdflib.URIRef:
    agent = rdflib.URIRef(settings.publisher_iri)
    graph.add((agent, RDF.type, FOAF.Agent))
    graph.add((agent, FOAF.name, rdflib.Literal(settings.publisher_name)))
    return agent


def _contact(graph: rdflib.Graph, settings: Settings) -> rdflib.URIRef:
    # No address or e-mail of the publisher is configured: the contact point names it and nothing more.
    contact = rdflib.URIRef(f"{_dataset(settings)}#contact")
    graph.add((contact, RDF.type, VCARD.Kind))
    graph.add((contact, VCARD.fn, rdflib.Literal(settings.publisher_name)))
    return contact


def _licence(graph: rdflib.Graph) -> rdflib.URIRef:
    graph.add((LICENCE, RDF.type, DCTERMS.LicenseDocument))
    graph.add((LICENCE, DCTERMS.title, rdflib.Literal("Creative Commons Attribution 4.0 International", lang="en")))
    return LICENCE


def _language(graph: rdflib.Graph) -> rdflib.URIRef:
    graph.add((ENGLISH, RDF.type, DCTERMS.LinguisticSystem))
    return ENGLISH


def _media_type(graph: rdflib.Graph, name: str) -> rdflib.URIRef:
    # Typed both ways: DCAT-AP checks dcat:mediaType against dct:MediaType and dct:format against
    # dct:MediaTypeOrExtent, and validators run without RDFS inference (MediaType ⊑ MediaTypeOrExtent).
    node = rdflib.URIRef(MEDIA_TYPES + name)
    graph.add((node, RDF.type, DCTERMS.MediaType))
    graph.add((node, RDF.type, DCTERMS.MediaTypeOrExtent))
    return node


def _standard(graph: rdflib.Graph, iri: rdflib.URIRef) -> rdflib.URIRef:
    graph.add((iri, RDF.type, DCTERMS.Standard))
    return iri


def _dataset(settings: Settings) -> rdflib.URIRef:
    return rdflib.URIRef(settings.base_iri + "dataset")


def _timestamp(moment: datetime) -> rdflib.Literal:
    return rdflib.Literal(moment.isoformat(), datatype=XSD.dateTime)


def _graph() -> rdflib.Graph:
    graph = rdflib.Graph()
    for prefix, namespace in {
        **PREFIXES,
        "void": str(VOID),
        "dcat": str(DCAT),
        "foaf": str(FOAF),
        "vcard": str(VCARD),
    }.items():
        graph.bind(prefix, namespace, replace=True)
    return graph


def _slug(iri: str) -> str:
    """A readable, stable fragment for a term: prefix and local name if known, else a short hash."""
    for prefix, namespace in sorted(PREFIXES.items(), key=lambda item: -len(item[1])):
        local = iri[len(namespace) :]
        if iri.startswith(namespace) and re.fullmatch(r"[A-Za-z][A-Za-z0-9_.-]*", local):
            return f"{prefix}-{local}"
    return hashlib.sha256(iri.encode("utf-8")).hexdigest()[:12]

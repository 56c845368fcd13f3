"""The ontology: versioned, every term documented, aligned to the standard vocabularies it reuses."""

import rdflib
from rdflib.namespace import OWL, RDF, RDFS, SKOS

from policykg.rdf.namespaces import ONTOLOGY_IRI, PKG

ALIGNED_TO = {
    "schema.org": "https://schema.org/",
    "W3C ORG": "http://www.w3.org/ns/org#",
    "PROV-O": "http://www.w3.org/ns/prov#",
    "SKOS": "http://www.w3.org/2004/02/skos/core#",
    "DCTERMS": "http://purl.org/dc/terms/",
    "ELI": "http://data.europa.eu/eli/ontology#",
    "Core Public Event": "http://data.europa.eu/m8g/",
}


def own_terms(ontology: rdflib.Graph) -> set[rdflib.URIRef]:
    return {s for s in ontology.subjects() if isinstance(s, rdflib.URIRef) and s.startswith(str(PKG))}


def test_ontology_has_a_version_iri_and_version_info(ontology):
    node = rdflib.URIRef(ONTOLOGY_IRI)
    assert (node, RDF.type, OWL.Ontology) in ontology
    assert ontology.value(node, OWL.versionIRI) == rdflib.URIRef(ONTOLOGY_IRI + "/0.1.0")
    assert str(ontology.value(node, OWL.versionInfo)) == "0.1.0"


def test_every_term_has_a_label_and_a_definition(ontology):
    terms = own_terms(ontology)
    assert len(terms) > 60
    for term in terms:
        assert ontology.value(term, RDFS.label) is not None, term
        assert ontology.value(term, SKOS.definition) or ontology.value(term, RDFS.comment), term


def test_every_class_and_property_is_declared_with_its_kind(ontology):
    kinds = {OWL.Class, OWL.ObjectProperty, OWL.DatatypeProperty, OWL.NamedIndividual, SKOS.ConceptScheme}
    for term in own_terms(ontology):
        assert set(ontology.objects(term, RDF.type)) & kinds, term


def test_terms_align_to_each_standard_vocabulary(ontology):
    links = (RDFS.subClassOf, RDFS.subPropertyOf, RDFS.range, OWL.equivalentClass, SKOS.closeMatch, RDFS.seeAlso)
    targets = {str(o) for p in links for o in ontology.objects(None, p)}
    for name, namespace in ALIGNED_TO.items():
        assert any(t.startswith(namespace) for t in targets), f"no alignment to {name}"


def test_key_classes_reuse_the_standard_classes(ontology):
    schema, org, prov, cv = (
        rdflib.Namespace(ALIGNED_TO[k]) for k in ("schema.org", "W3C ORG", "PROV-O", "Core Public Event")
    )
    expected = {
        (PKG.Event, schema.Event),
        (PKG.Event, cv.PublicEvent),
        (PKG.Organisation, org.Organization),
        (PKG.Organisation, schema.Organization),
        (PKG.Person, schema.Person),
        (PKG.NewsItem, schema.NewsArticle),
        (PKG.Participation, cv.Participation),
        (PKG.Recommendation, prov.Entity),
        (PKG.PolicyConcept, SKOS.Concept),
        (PKG.Assertion, prov.Entity),
    }
    assert all((child, RDFS.subClassOf, parent) in ontology for child, parent in expected)


def test_status_scheme_tracks_a_recommendation_from_proposed_to_taken_up(ontology):
    statuses = set(ontology.objects(PKG.RecommendationStatuses, SKOS.hasTopConcept))
    labels = {str(ontology.value(s, SKOS.prefLabel)) for s in statuses}
    assert {"proposed", "presented", "taken up", "implemented"} <= labels

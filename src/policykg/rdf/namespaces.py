"""IRIs of the policykg vocabularies and of the standard vocabularies it reuses."""

from rdflib import Namespace

PKG = Namespace("https://w3id.org/policykg/ontology#")
PKGSH = Namespace("https://w3id.org/policykg/shapes#")
ONTOLOGY_IRI = "https://w3id.org/policykg/ontology"
SHAPES_IRI = "https://w3id.org/policykg/shapes"

SCHEMA = Namespace("https://schema.org/")
CV = Namespace("http://data.europa.eu/m8g/")
ELI = Namespace("http://data.europa.eu/eli/ontology#")

# Prefixes offered to every SPARQL query and used when printing terms.
PREFIXES: dict[str, str] = {
    "pkg": str(PKG),
    "pkgsh": str(PKGSH),
    "rdf": "http://www.w3.org/1999/02/22-rdf-syntax-ns#",
    "rdfs": "http://www.w3.org/2000/01/rdf-schema#",
    "owl": "http://www.w3.org/2002/07/owl#",
    "xsd": "http://www.w3.org/2001/XMLSchema#",
    "skos": "http://www.w3.org/2004/02/skos/core#",
    "dcterms": "http://purl.org/dc/terms/",
    "prov": "http://www.w3.org/ns/prov#",
    "org": "http://www.w3.org/ns/org#",
    "schema": str(SCHEMA),
    "cv": str(CV),
    "eli": str(ELI),
    "sh": "http://www.w3.org/ns/shacl#",
}

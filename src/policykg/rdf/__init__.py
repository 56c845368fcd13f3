"""RDF itself: vocabularies' namespaces, syntaxes and media types, reading RDF safely, JSON-LD, skolemisation."""

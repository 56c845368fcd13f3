"""RDF itself: the vocabularies' namespaces, the syntaxes and their media types, reading RDF safely, JSON-LD, skolemisation."""

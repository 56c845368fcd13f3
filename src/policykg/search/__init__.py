"""Full-text search: the Tantivy index of the readable literals, and the search service inside SPARQL."""

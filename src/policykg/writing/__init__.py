"""Writing to the graph: SPARQL updates read as changes, the writer that keeps the shapes, and contributors' entries."""

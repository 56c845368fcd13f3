"""SPARQL as text and as a protocol: tokens and the safety screen, a request's parameters and dataset, answer types."""

"""SPARQL as text and as a protocol: tokens and the safety screen, the request's parameters and dataset, answer types."""

"""Judging data against the shapes: SHACL with pySHACL, what a change can reach, incremental validation of a change."""

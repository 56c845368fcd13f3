"""Judging data against the shapes: SHACL with pySHACL, what a change can reach, and incremental validation of a change."""

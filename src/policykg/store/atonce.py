"""Bounded queries answered at once, on the caller's thread, while their answer stays small and quick.

A query whose every step is bounded (sparql/bounded.py: one triple pattern anchored on a constant, a
point lookup) can be stopped between any two steps of its evaluation. So the event loop may run one itself,
on the store, and keep its answer if it stays within CHUNK_BYTES and SMALL_SECONDS; one that outgrows the
budget is given up (None), and run again where it may take longer: a query worker, or a thread.

Why (measured on 2 cores, point lookups over 20,000 generated triples, 4 and 8 clients; benchmarks/RESULTS.md):
handed to a worker and back, a point lookup cost the server 0.42-0.45 ms of CPU (the worker 0.18 of it, for
an engine call of about 0.05 ms: each process woken by the next starts with cold caches); answered at once
on the loop, 0.33-0.39 ms in all. A budget of 2 ms bounds how long the loop is held.
"""

import time
from typing import IO, cast

import pyoxigraph as ox

from policykg.errors import QueryError, StoreError
from policykg.store.base import CHUNK_BYTES
from policykg.store.formats import GRAPH_FORMATS, RESULT_FORMATS, DatasetArguments

SMALL_SECONDS = 0.002  # how long a bounded query may run on the event loop before it is run elsewhere


def answer_at_once(
    store: ox.Store, sparql: str, format_name: str, base_iri: str | None, dataset: DatasetArguments
) -> bytes | None:
    """A bounded query's whole answer in the named syntax, or None once it outgrows the budget."""
    budget = _Budget(SMALL_SECONDS)
    try:
        result = store.query(sparql, base_iri=base_iri, **dataset)
        output = cast(IO[bytes], budget)  # serialize only calls write()
        if isinstance(result, ox.QueryTriples):
            result.serialize(output, GRAPH_FORMATS[format_name])
        else:
            result.serialize(output, RESULT_FORMATS[format_name])
    except Exception as error:
        if budget.outgrown:  # raised in a write, passed back through serialize as it was or wrapped
            return None
        if isinstance(error, (SyntaxError, RuntimeError)):
            raise QueryError(str(error)) from None
        if isinstance(error, OSError):
            raise StoreError(str(error)) from None
        raise
    return bytes(budget.data)


class _Outgrown(Exception):
    """A bounded query's answer passed its budget of bytes or time."""


class _Budget:
    """A file object for pyoxigraph's serialize that keeps an answer while it stays small and quick."""

    def __init__(self, seconds: float) -> None:
        self.until = time.perf_counter() + seconds
        self.data = bytearray()
        self.outgrown = False

    def write(self, data: bytes) -> int:
        self.data += data
        if len(self.data) > CHUNK_BYTES or time.perf_counter() > self.until:
            self.outgrown = True
            raise _Outgrown
        return len(data)

    def flush(self) -> None:
        pass

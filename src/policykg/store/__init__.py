"""The quad store: one small interface, three backends (in memory, on disk, remote SPARQL 1.1 engine).

This package is the only code that talks to a store. Everything above it works with `Store`.
"""

from typing import TYPE_CHECKING

from policykg.store.base import (
    Answer,
    Dataset,
    Limits,
    QuadPattern,
    Readable,
    Sink,
    Solutions,
    Store,
    Term,
    WorkerStatistics,
)
from policykg.store.embedded import EmbeddedStore
from policykg.store.formats import DATASET_FORMATS, GRAPH_FORMATS, RESULT_FORMATS

if TYPE_CHECKING:
    from policykg.store.dialects import open_remote
    from policykg.store.remote import RemoteStore

__all__ = [
    "DATASET_FORMATS",
    "GRAPH_FORMATS",
    "RESULT_FORMATS",
    "Answer",
    "Dataset",
    "EmbeddedStore",
    "Limits",
    "QuadPattern",
    "Readable",
    "RemoteStore",
    "Sink",
    "Solutions",
    "Store",
    "Term",
    "WorkerStatistics",
    "open_remote",
    "open_store",
]


def open_store(
    location: str,
    *,
    update_url: str | None = None,
    store_url: str | None = None,
    union_default_graph: bool = True,
    query_workers: int = 0,
    query_memory: int | None = None,
    engine: str = "auto",
    credentials: tuple[str, str] | None = None,
) -> Store:
    """Open the store a location names: 'memory', an http(s) URL (remote engine, in its dialect), else a folder."""
    if location == "memory":
        return EmbeddedStore.in_memory(union_default_graph=union_default_graph)
    if location.startswith(("http://", "https://")):
        from policykg.store.dialects import open_remote

        return open_remote(
            location,
            engine=engine,
            update_url=update_url,
            store_url=store_url,
            union_default_graph=union_default_graph,
            credentials=credentials,
        )
    return EmbeddedStore.on_disk(
        location, union_default_graph=union_default_graph, query_workers=query_workers, query_memory=query_memory
    )


def __getattr__(name: str) -> object:
    # The remote backend (and its HTTP client) is imported when first asked for: query worker
    # processes import this package and never need it.
    if name == "RemoteStore":
        from policykg.store.remote import RemoteStore

        return RemoteStore
    if name == "open_remote":
        from policykg.store.dialects import open_remote

        return open_remote
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")

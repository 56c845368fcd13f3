"""The store interface every backend implements, and the limits put on what a query may send."""

import io
import time
from abc import ABC, abstractmethod
from collections.abc import AsyncGenerator, AsyncIterator, Callable, Iterable, Iterator, Sequence
from concurrent.futures import Executor
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, ClassVar, Protocol, TypedDict, Unpack

import pyoxigraph as ox

from policykg.errors import QueryTimeout, ResultTooLarge
from policykg.rdf.terms import Term, quad_of
from policykg.sparql.dataset import NO_DATASET, Dataset

if TYPE_CHECKING:
    from typing_extensions import Buffer  # collections.abc.Buffer from Python 3.12

Sink = Callable[[bytes], None]
# A quad to look for: subject, predicate, object, graph (None: any term; a graph of None: any named graph).
QuadPattern = tuple[
    ox.NamedNode | ox.BlankNode | ox.Triple | None,
    ox.NamedNode | None,
    ox.NamedNode | ox.BlankNode | ox.Literal | ox.Triple | None,
    ox.NamedNode | ox.BlankNode | None,
]
CHUNK_BYTES = 64 * 1024


class Readable(Protocol):
    """A binary stream as pyoxigraph's parsers read it: read(size) is all they call."""

    def read(self, size: int = -1, /) -> bytes: ...


@dataclass(frozen=True)
class Solutions:
    """The answer of a SELECT query, read into memory: variable names and rows of terms."""

    variables: tuple[str, ...]
    rows: tuple[tuple[Term | None, ...], ...]

    def values(self) -> list[tuple[str | None, ...]]:
        """Return the rows as plain strings (an IRI's text, a literal's lexical form)."""
        return [tuple(None if term is None else term.value for term in row) for row in self.rows]


@dataclass(frozen=True)
class WorkerStatistics:
    """What a store's query worker processes have done: started since the store opened, serving, running, waiting."""

    started: int
    workers: int
    running: int
    waiting: int


class Limits:
    """A deadline and a size cap, checked each time a query hands over a piece of its answer."""

    def __init__(self, timeout: float | None, max_bytes: int | None) -> None:
        self.deadline = None if timeout is None else time.monotonic() + timeout
        self.timeout = timeout
        self.max_bytes = max_bytes
        self.sent = 0

    def remaining(self) -> float | None:
        """Seconds left before the deadline (None: no deadline)."""
        return None if self.deadline is None else self.deadline - time.monotonic()

    def check(self, more: int = 0) -> None:
        """Raise if the deadline has passed or the answer would grow past its cap."""
        if self.deadline is not None and time.monotonic() > self.deadline:
            raise QueryTimeout(f"the query ran longer than the limit of {self.timeout:g} s and was stopped")
        self.sent += more
        if self.max_bytes is not None and self.sent > self.max_bytes:
            raise ResultTooLarge(f"the answer grew past the limit of {self.max_bytes} bytes and was cut off")


class ReadOptions(TypedDict, total=False):
    """What may come with a query besides its text, each optional: the base IRI its relative IRIs resolve
    against, the dataset it reads (the protocol's default and named graphs), PREFIX declarations to add."""

    base_iri: str | None
    dataset: Dataset
    prefixes: dict[str, str] | None


class QueryOptions(ReadOptions, total=False):
    """ReadOptions, and the limits put on an answer that is written out (its deadline, its size)."""

    limits: Limits | None


@dataclass(frozen=True)
class Options:
    """A query's options with their defaults filled in: what the backends read."""

    base_iri: str | None
    dataset: Dataset
    prefixes: dict[str, str] | None
    limits: Limits

    @classmethod
    def of(cls, given: ReadOptions, limits: Limits | None = None) -> "Options":
        """The options given, the missing ones at their defaults (no base, the store's dataset, no limits)."""
        return cls(
            given.get("base_iri"), given.get("dataset", NO_DATASET), given.get("prefixes"), limits or Limits(None, None)
        )


class Answer:
    """A query's answer as it comes: the first chunk at once (all of it when complete), the rest as it is read."""

    def __init__(self, first: bytes, complete: bool) -> None:
        self.first = first
        self.complete = complete

    async def rest(self) -> AsyncGenerator[bytes, None]:
        """The chunks after the first (none when complete); the query stops when this is closed early."""
        return
        yield  # an async generator with nothing to give

    async def chunks(self) -> AsyncIterator[bytes]:
        """Every chunk, the first included."""
        try:
            if self.first:
                yield self.first
            async for chunk in self.rest():
                yield chunk
        finally:
            self.close()

    async def read(self) -> bytes:
        """The whole answer."""
        return b"".join([chunk async for chunk in self.chunks()])

    def close(self) -> None:
        """Stop the query: the rest is not wanted."""


class _SinkWriter(io.RawIOBase):
    def __init__(self, sink: Sink, limits: Limits) -> None:
        self._sink = sink
        self._limits = limits

    def writable(self) -> bool:
        return True

    def write(self, data: "Buffer") -> int:
        chunk = bytes(data)
        self._limits.check(len(chunk))
        self._sink(chunk)
        return len(chunk)


def _pattern_terms(pattern: QuadPattern) -> tuple[str, str, str, str]:
    """A quad pattern's terms in SPARQL, a variable for each None; TypeError for a term a query cannot name."""
    written = []
    for name, term in zip(("?s", "?p", "?o", "?g"), pattern, strict=True):
        if isinstance(term, ox.BlankNode | ox.Triple | ox.DefaultGraph):  # a blank node in a query is a variable
            raise TypeError(f"a pattern sent as SPARQL names IRIs and literals only, not {term!r}")
        written.append(name if term is None else str(term))
    return written[0], written[1], written[2], written[3]


def limited_writer(sink: Sink, limits: Limits) -> io.BufferedWriter:
    """A file object that hands its bytes to sink in chunks, checking the limits before each one."""
    return io.BufferedWriter(_SinkWriter(sink, limits), buffer_size=CHUNK_BYTES)


class Store(ABC):
    """An RDF dataset that answers SPARQL; the default graph is the union of its graphs unless told otherwise."""

    exclusive: ClassVar[bool] = False  # this process is the store's only writer (else others may write to it too)
    bulk_loads: ClassVar[bool] = False  # it loads a whole file at once from a stream (bulk_load_stream, optimize)
    # holds, find with a limit and mentions are a few steps into indexes in this process: no network, no query,
    # short enough for the event loop to take them itself rather than hand them to a thread
    local_reads: ClassVar[bool] = False

    @abstractmethod
    def query(self, sparql: str, *, sink: Sink, format_name: str, **options: Unpack[QueryOptions]) -> None:
        """Run a query and write its answer in the named syntax to sink, in chunks, within the limits."""

    async def answer(
        self, sparql: str, *, format_name: str, executor: Executor, **options: Unpack[QueryOptions]
    ) -> Answer:
        """Run a query for the event loop: its answer once the first chunk has come.

        By default this runs query() on a thread of the executor.
        """
        from policykg.store.streaming import stream

        limits = options.get("limits") or Limits(None, None)
        given: QueryOptions = {**options, "limits": limits}  # one deadline, counted from now
        return await stream(
            executor, lambda sink: self.query(sparql, sink=sink, format_name=format_name, **given), limits.timeout
        )

    @abstractmethod
    def select(
        self, sparql: str, *, bindings: dict[str, Term] | None = None, **options: Unpack[ReadOptions]
    ) -> Solutions:
        """Run a SELECT query and return all its rows; bindings fill in variables (SEP-0007)."""

    @abstractmethod
    def ask(self, sparql: str, **options: Unpack[ReadOptions]) -> bool:
        """Run an ASK query and return its answer."""

    @abstractmethod
    def update(self, sparql: str, *, base_iri: str | None = None) -> None:
        """Run a SPARQL 1.1 Update request atomically."""

    @abstractmethod
    def add(self, quads: Iterable[ox.Quad], graph: str) -> None:
        """Add quads in one transaction; triples of the default graph go into the named graph given."""

    @abstractmethod
    def graph_names(self) -> list[str]:
        """The names of the store's non-empty named graphs, sorted."""

    @abstractmethod
    def write_graph(self, graph: str | None, format_name: str, sink: Sink) -> None:
        """Write one graph (None: the default graph) in a graph syntax; raise GraphNotFound if it is empty."""

    @abstractmethod
    def replace_graph(self, graph: str | None, triples: list[ox.Triple]) -> bool:
        """Replace a graph's content; return True if the graph existed before."""

    @abstractmethod
    def extend_graph(self, graph: str | None, triples: list[ox.Triple]) -> bool:
        """Add triples to a graph; return True if the graph existed before."""

    @abstractmethod
    def delete_graph(self, graph: str | None) -> None:
        """Remove a graph and its triples; raise GraphNotFound if there is none."""

    @abstractmethod
    def dump(self, format_name: str, sink: Sink) -> None:
        """Write the whole dataset (all graphs) as N-Quads or TriG to sink."""

    @abstractmethod
    def count(self) -> int:
        """The number of quads in the store."""

    def holds(self, pattern: "QuadPattern") -> bool:
        """Whether a named graph holds a quad matching (subject, predicate, object, graph); None matches any term."""
        s, p, o, g = _pattern_terms(pattern)
        return self.ask(f"ASK {{ GRAPH {g} {{ {s} {p} {o} }} }}")

    def find(self, pattern: "QuadPattern", limit: int | None = None) -> list[ox.Quad]:
        """The quads of named graphs matching (subject, predicate, object, graph), at most limit of them."""
        s, p, o, g = _pattern_terms(pattern)
        wanted = [term for term in (s, p, o, g) if term.startswith("?")]
        rows = self.select(
            f"SELECT {' '.join(wanted) or '*'} WHERE {{ GRAPH {g} {{ {s} {p} {o} }} }}"
            + ("" if limit is None else f" LIMIT {limit}")
        ).rows
        found = []
        for row in rows:
            values = iter(row)
            found.append(quad_of(*(next(values) if term is None else term for term in pattern)))
        return found

    def about(self, subjects: Sequence[ox.NamedNode]) -> list[ox.Quad]:
        """The quads of named graphs whose subject is one of these IRIs."""
        if not subjects:
            return []
        values = " ".join(str(subject) for subject in subjects)
        rows = self.select(f"SELECT ?s ?p ?o ?g WHERE {{ VALUES ?s {{ {values} }} GRAPH ?g {{ ?s ?p ?o }} }}").rows
        return [quad_of(*row) for row in rows]

    def mentions(self, iri: ox.NamedNode) -> bool:
        """Whether a named graph says anything of the IRI (as subject or as object), or a graph is named by it."""
        return self.ask(
            f"ASK {{ {{ GRAPH ?g {{ {iri} ?p ?o }} }} UNION {{ GRAPH ?g {{ ?s ?p {iri} }} }} "
            f"UNION {{ GRAPH {iri} {{ ?s ?p ?o }} }} }}"
        )

    def is_empty(self) -> bool:
        """True if the store holds no quad at all: one probe, where count() reads everything."""
        return not self.ask("ASK { { ?s ?p ?o } UNION { GRAPH ?g { ?s ?p ?o } } }")

    def query_workers(self) -> WorkerStatistics | None:
        """What the store's query worker processes have done (None: it has none)."""
        return None

    def bulk_load_stream(self, source: Readable, rdf_format: ox.RdfFormat, base_iri: str, graph: str) -> None:
        """Load a large input at once; graph receives default-graph triples (only where bulk_loads is true)."""
        raise NotImplementedError("this store loads quads in batches (add), not from a stream")

    def optimize(self) -> None:  # noqa: B027 -- an optional hook, a no-op by default
        """Compact the store after a large load, where the store has anything to compact."""

    def compacted(self) -> bool | None:
        """Whether the store's files are as its last compaction left them (None: this process merges none)."""
        return None

    def merging_copy(self) -> Path:
        """A checkpoint of the store as it is now, in a new folder, to be merged (where compacted() is not None)."""
        raise NotImplementedError("this store has no files of its own to merge")

    def adopt_snapshot(self, folder: Path) -> None:
        """Send the next queries to a copy of the store taken since its last write (where compacted() is not None)."""
        raise NotImplementedError("this store has no query workers")

    def graph_quads(self, graph: str | None) -> list[ox.Quad]:
        """The quads of one named graph (none for None)."""
        if graph is None:
            return []
        rows = self.select(f"SELECT ?s ?p ?o WHERE {{ GRAPH <{graph}> {{ ?s ?p ?o }} }}").rows
        name = ox.NamedNode(graph)
        return [quad_of(s, p, o, name) for s, p, o in rows]

    def skolemise_blank_nodes(self, prefix: str) -> int:
        """Name the blank nodes the store holds with IRIs under prefix; return how many statements changed.

        Only a store that can name a stored blank node in a write does it (the embedded one); over SPARQL a
        blank node cannot be named, so a remote store keeps whatever blank nodes were written to it by others.
        """
        return 0

    @contextmanager
    def deferred_publication(self) -> Iterator[None]:
        """Writes inside this block become visible to query workers together, at its end."""
        yield

    @contextmanager
    def frozen(self) -> Iterator["Store"]:
        """The store as it is now, unchanged by later writes while the block lasts (for long reads that must
        see one state: statistics, dumps). Where no frozen copy can be had (a remote engine, a store in memory),
        the store itself: later writes may then show in what is read."""
        yield self

    def close(self) -> None:  # noqa: B027 -- an optional hook, a no-op by default
        """Release the store's resources."""

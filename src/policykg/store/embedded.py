"""The embedded backend: pyoxigraph in this process, in memory or in a folder on disk (RocksDB)."""

import os
import shutil
from collections.abc import Iterable, Iterator, Sequence
from concurrent.futures import Executor
from contextlib import contextmanager, suppress
from itertools import islice
from pathlib import Path
from typing import IO, TypeVar, Unpack, cast

import pyoxigraph as ox

from policykg.errors import GraphNotFound, QueryError, RdfSyntaxError, StoreError
from policykg.sparql.bounded import is_bounded
from policykg.store.atonce import answer_at_once
from policykg.store.base import (
    NO_DATASET,
    Answer,
    Dataset,
    Limits,
    Options,
    QuadPattern,
    QueryOptions,
    Readable,
    ReadOptions,
    Sink,
    Solutions,
    Store,
    Term,
    WorkerStatistics,
    limited_writer,
)
from policykg.store.folders import copy_beside, empty_snapshots, open_folder
from policykg.store.formats import DATASET_FORMATS, GRAPH_FORMATS, RESULT_FORMATS, dataset_arguments
from policykg.store.heap import return_free_memory
from policykg.store.querypool import QueryPool
from policykg.store.tablefiles import as_compacted, compact, note_compacted

T = TypeVar("T")


class EmbeddedStore(Store):
    """A store evaluated by Oxigraph in this process; safe to share across threads."""

    exclusive = True  # Oxigraph holds its folder's lock: only this process writes
    bulk_loads = True  # Oxigraph's bulk loader takes a whole file from a stream
    local_reads = True  # quads_for_pattern: 10-15 µs a step, where handing a read to a thread costs more

    def __init__(
        self,
        inner: ox.Store,
        *,
        union_default_graph: bool = True,
        pool: QueryPool | None = None,
        folder: Path | None = None,
    ) -> None:
        self._inner = inner
        self._union = union_default_graph
        self._pool = pool
        self._folder = folder  # where it is kept on disk (None: in memory, or a frozen copy)
        self._deferring = 0  # how many deferred_publication blocks are open (a group's writes may nest one)
        self._changed()

    @classmethod
    def in_memory(cls, *, union_default_graph: bool = True) -> "EmbeddedStore":
        """Open an empty store that lives in memory only."""
        return cls(ox.Store(), union_default_graph=union_default_graph)

    @classmethod
    def on_disk(
        cls,
        path: str | Path,
        *,
        union_default_graph: bool = True,
        query_workers: int = 0,
        query_memory: int | None = None,
    ) -> "EmbeddedStore":
        """Open (creating if needed) the store kept in a folder; one process at a time may hold it.

        With query_workers > 0, queries run in that many worker processes over snapshots of the store,
        so that a query past its deadline (or, if given, past query_memory bytes) is really stopped.
        """
        folder = Path(path)
        inner = open_folder(folder)
        pool = QueryPool(empty_snapshots(folder), query_workers, query_memory) if query_workers > 0 else None
        return cls(inner, union_default_graph=union_default_graph, pool=pool, folder=folder)

    def query(self, sparql: str, *, sink: Sink, format_name: str, **options: Unpack[QueryOptions]) -> None:
        """Run a query and write its answer to sink; the deadline is checked at each chunk written."""
        given = Options.of(options, options.get("limits"))
        if self._pool is not None and not given.prefixes:
            self._pool.query(sparql, sink, format_name, given, self._union)
            return
        # Oxigraph's answers are bound to the thread that made them: evaluate and write them here.
        result = self._evaluate(sparql, given.base_iri, given.dataset, None, given.prefixes)
        writer = limited_writer(sink, given.limits)
        try:
            if isinstance(result, ox.QueryTriples):
                result.serialize(writer, GRAPH_FORMATS[format_name])
            else:
                result.serialize(writer, RESULT_FORMATS[format_name])
            writer.flush()
        except (SyntaxError, RuntimeError) as error:
            raise QueryError(str(error)) from None
        except OSError as error:
            raise StoreError(str(error)) from None

    async def answer(
        self, sparql: str, *, format_name: str, executor: Executor, **options: Unpack[QueryOptions]
    ) -> Answer:
        """Run a query for the event loop: a small bounded one at once, the others in the query workers if any.

        A query whose every step is bounded (sparql/bounded.py: a point lookup) is first tried here on the
        loop's thread, within a small budget (store/atonce.py); one that outgrows it is run the usual way.
        """
        given = Options.of(options, options.get("limits"))
        if given.dataset == NO_DATASET and not given.prefixes and is_bounded(sparql):
            arguments = dataset_arguments((), (), self._union)
            small = answer_at_once(self._inner, sparql, format_name, given.base_iri, arguments)
            if small is not None:
                given.limits.check(len(small))
                return Answer(small, complete=True)
        if self._pool is None or given.prefixes:
            return await super().answer(sparql, format_name=format_name, executor=executor, **options)
        return await self._pool.answer(sparql, format_name, given, self._union, executor)

    def query_workers(self) -> WorkerStatistics | None:
        """What the query workers have done (None: queries run in this process)."""
        return None if self._pool is None else self._pool.statistics()

    def select(
        self, sparql: str, *, bindings: dict[str, Term] | None = None, **options: Unpack[ReadOptions]
    ) -> Solutions:
        """Run a SELECT query and return all its rows."""
        given = Options.of(options)
        result = self._evaluate(sparql, given.base_iri, given.dataset, bindings, given.prefixes)
        if not isinstance(result, ox.QuerySolutions):
            raise QueryError("this is not a SELECT query")
        names = tuple(v.value for v in result.variables)
        try:  # the answer is computed while it is read: errors can come from here too
            return Solutions(names, tuple(tuple(solution[name] for name in names) for solution in result))
        except (SyntaxError, RuntimeError) as error:
            raise QueryError(str(error)) from None
        except OSError as error:
            raise StoreError(str(error)) from None

    def ask(self, sparql: str, **options: Unpack[ReadOptions]) -> bool:
        """Run an ASK query and return its answer."""
        given = Options.of(options)
        result = self._evaluate(sparql, given.base_iri, given.dataset, None, given.prefixes)
        if not isinstance(result, ox.QueryBoolean):
            raise QueryError("this is not an ASK query")
        return bool(result)

    def update(self, sparql: str, *, base_iri: str | None = None) -> None:
        """Run a SPARQL 1.1 Update request; Oxigraph applies all of it or nothing."""
        try:
            self._inner.update(sparql, base_iri=base_iri)
        except (SyntaxError, RuntimeError) as error:
            raise QueryError(str(error)) from None
        self._changed()

    def add(self, quads: Iterable[ox.Quad], graph: str) -> None:
        """Add quads in one transaction; triples of the default graph go into the named graph given."""
        target = ox.NamedNode(graph)
        self._inner.extend(
            q if not isinstance(q.graph_name, ox.DefaultGraph) else ox.Quad(q.subject, q.predicate, q.object, target)
            for q in quads
        )
        self._changed()

    def skolemise_blank_nodes(self, prefix: str) -> int:
        """Replace each stored blank node by the IRI prefix + its label (a full scan; safe to run again if cut short).

        The skolemised statements are added in one transaction before the originals are removed: a run
        stopped in between leaves both, and the next run names the same blank nodes with the same IRIs.
        """
        rows = self._inner.query(
            "SELECT ?s ?p ?o ?g WHERE { { ?s ?p ?o } UNION { GRAPH ?g { ?s ?p ?o } } "
            "FILTER (isBlank(?s) || isBlank(?o) || isBlank(?g)) }"
        )
        assert isinstance(rows, ox.QuerySolutions)  # a SELECT query
        found = [ox.Quad(s, p, o, ox.DefaultGraph() if g is None else g) for s, p, o, g in rows]
        if not found:
            return 0

        def named(term: T) -> T | ox.NamedNode:
            return ox.NamedNode(prefix + term.value) if isinstance(term, ox.BlankNode) else term

        self._inner.extend(ox.Quad(named(q.subject), q.predicate, named(q.object), named(q.graph_name)) for q in found)
        for quad in found:
            self._inner.remove(quad)
        self._changed()
        return len(found)

    def bulk_load_stream(self, source: Readable, rdf_format: ox.RdfFormat, base_iri: str, graph: str) -> None:
        """Load a large input with Oxigraph's bulk loader (atomic); graph receives default-graph triples."""
        try:
            self._inner.bulk_load(
                cast(IO[bytes], source),  # pyoxigraph reads any object with read(); its stubs ask for IO[bytes]
                rdf_format,
                base_iri=base_iri,
                to_graph=None if rdf_format.supports_datasets else ox.NamedNode(graph),
            )
        except SyntaxError as error:
            raise RdfSyntaxError("input", str(error).splitlines()[0], error.lineno, error.offset) from None
        self._changed()

    def optimize(self) -> None:
        """Compact the on-disk files (after a large load, a restore) and note the files it left."""
        if self._folder is None:
            self._inner.optimize()
            return
        compact(self._inner, self._folder)
        note_compacted(self._folder)

    def compacted(self) -> bool | None:
        """Whether the on-disk files are as the last compaction left them (None: no query workers to serve a merged
        copy to, writing/compaction.py)."""
        return None if self._folder is None or self._pool is None else as_compacted(self._folder)

    def backup(self, folder: Path) -> None:
        """Write a consistent copy of the on-disk store into a new folder (a RocksDB checkpoint: hard links)."""
        try:
            self._inner.backup(str(folder))
        except (OSError, RuntimeError) as error:
            raise StoreError(f"cannot write a checkpoint of the store to {folder}: {error}") from None

    def load_dump(self, source: IO[bytes]) -> None:
        """Bulk-load an N-Quads dump of a whole store, keeping its blank-node labels (a restore, not a merge)."""
        try:
            self._inner.bulk_extend(ox.parse(source, format=ox.RdfFormat.N_QUADS, rename_blank_nodes=False))
        except SyntaxError as error:
            raise RdfSyntaxError("input", str(error).splitlines()[0], error.lineno, error.offset) from None
        self._changed()

    def graph_names(self) -> list[str]:
        """The names of the store's non-empty named graphs, sorted."""
        return sorted(g.value for g in self._inner.named_graphs() if isinstance(g, ox.NamedNode) and self._has(g))

    def write_graph(self, graph: str | None, format_name: str, sink: Sink) -> None:
        """Write one graph (None: the default graph) in a graph syntax; raise GraphNotFound if it is empty."""
        name = self._graph_node(graph)
        if graph is not None and not self._has(name):
            raise GraphNotFound(f"there is no graph <{graph}> in the store")
        writer = limited_writer(sink, Limits(None, None))
        self._inner.dump(writer, GRAPH_FORMATS[format_name], from_graph=name)
        writer.flush()

    def replace_graph(self, graph: str | None, triples: list[ox.Triple]) -> bool:
        """Replace a graph's content in one atomic update; return True if the graph existed before."""
        name = self._graph_node(graph)
        existed = graph is None or self._has(name)
        target = "DEFAULT" if graph is None else f"GRAPH <{graph}>"
        data = _triples_text(triples)
        insert = f"INSERT DATA {{ {data} }}" if graph is None else f"INSERT DATA {{ GRAPH <{graph}> {{ {data} }} }}"
        self._inner.update(f"DROP SILENT {target} ;\n{insert}" if triples else f"DROP SILENT {target}")
        self._changed()
        return existed

    def extend_graph(self, graph: str | None, triples: list[ox.Triple]) -> bool:
        """Add triples to a graph in one transaction; return True if the graph existed before."""
        name = self._graph_node(graph)
        existed = graph is None or self._has(name)
        self._inner.extend(ox.Quad(t.subject, t.predicate, t.object, name) for t in triples)
        self._changed()
        return existed

    def delete_graph(self, graph: str | None) -> None:
        """Remove a graph and its triples; raise GraphNotFound if there is none."""
        name = self._graph_node(graph)
        if graph is None:
            self._inner.clear_graph(name)
        elif not self._has(name) and name not in set(self._inner.named_graphs()):
            raise GraphNotFound(f"there is no graph <{graph}> in the store")
        else:
            self._inner.remove_graph(name)
        self._changed()

    def dump(self, format_name: str, sink: Sink) -> None:
        """Write the whole dataset (all graphs) as N-Quads or TriG to sink."""
        try:
            writer = limited_writer(sink, Limits(None, None))
            self._inner.dump(writer, DATASET_FORMATS[format_name])
            writer.flush()
        finally:
            return_free_memory()

    def count(self) -> int:
        """The number of quads in the store."""
        return len(self._inner)

    def holds(self, pattern: QuadPattern) -> bool:
        """Whether a named graph holds a quad matching the pattern: a step into an index (10–15 µs)."""
        return any(not isinstance(quad.graph_name, ox.DefaultGraph) for quad in self._inner.quads_for_pattern(*pattern))

    def find(self, pattern: QuadPattern, limit: int | None = None) -> list[ox.Quad]:
        """The quads of named graphs matching the pattern, at most limit: a walk along an index, no query."""
        named = (
            quad for quad in self._inner.quads_for_pattern(*pattern) if not isinstance(quad.graph_name, ox.DefaultGraph)
        )
        return list(islice(named, limit))

    def about(self, subjects: Sequence[ox.NamedNode]) -> list[ox.Quad]:
        """The quads of named graphs whose subject is one of these IRIs: a walk along an index for each."""
        return [quad for subject in subjects for quad in self.find((subject, None, None, None))]

    def mentions(self, iri: ox.NamedNode) -> bool:
        """Whether a named graph says anything of the IRI, or a graph is named by it: three steps into indexes."""
        return any(
            self.holds(pattern)
            for pattern in ((iri, None, None, None), (None, None, iri, None), (None, None, None, iri))
        )

    def close(self) -> None:
        """Stop the query workers and flush what is written to disk."""
        if self._pool is not None:
            self._pool.close()
        with suppress(OSError):
            self._inner.flush()

    @contextmanager
    def frozen(self) -> Iterator[Store]:
        """A read-only copy of the on-disk store as it is now (a RocksDB checkpoint: hard links, taken in
        milliseconds), removed when the block ends; the store itself when it lives in memory."""
        if self._folder is None:
            yield self
            return
        folder = copy_beside(self._folder)
        self.backup(folder)
        try:
            copy = EmbeddedStore(ox.Store.read_only(str(folder)), union_default_graph=self._union)
            yield copy
            del copy  # closes the copy's files before they are removed
        finally:
            shutil.rmtree(folder, ignore_errors=True)

    @contextmanager
    def deferred_publication(self) -> Iterator[None]:
        """Writes inside this block reach the query workers together, in one snapshot at its end."""
        self._deferring += 1
        try:
            yield
        finally:
            self._deferring -= 1
            self._changed()

    def _changed(self) -> None:
        """After a write, let the query workers see it: a new snapshot for the next queries."""
        if self._pool is not None and not self._deferring:
            self._pool.publish(lambda folder: self._inner.backup(str(folder)))

    def merging_copy(self) -> Path:
        """A checkpoint of the store as it is now, in a new folder beside it, to be merged (tablefiles.merge_files)."""
        assert self._folder is not None  # compacted() is None without a folder: nobody asks
        folder = copy_beside(self._folder, "merging-")
        self.backup(folder)
        return folder

    def adopt_snapshot(self, folder: Path) -> None:
        """Send the next queries to a copy of the store taken since its last write (merged, say), moved in whole."""
        if self._pool is not None:
            self._pool.publish(lambda target: os.rename(folder, target))

    def _evaluate(
        self,
        sparql: str,
        base_iri: str | None,
        dataset: Dataset,
        bindings: dict[str, Term] | None,
        prefixes: dict[str, str] | None,
    ) -> ox.QuerySolutions | ox.QueryBoolean | ox.QueryTriples:
        substitutions: dict[ox.Variable, Term | ox.Triple] | None = {
            ox.Variable(name): term for name, term in (bindings or {}).items()
        } or None
        try:
            return self._inner.query(
                sparql,
                base_iri=base_iri,
                prefixes=prefixes,
                substitutions=substitutions,
                **dataset_arguments(dataset.default_graphs, dataset.named_graphs, self._union),
            )
        except (SyntaxError, RuntimeError) as error:
            raise QueryError(str(error)) from None

    def _has(self, graph: ox.NamedNode | ox.DefaultGraph) -> bool:
        return next(iter(self._inner.quads_for_pattern(None, None, None, graph)), None) is not None

    @staticmethod
    def _graph_node(graph: str | None) -> ox.NamedNode | ox.DefaultGraph:
        return ox.DefaultGraph() if graph is None else ox.NamedNode(graph)


def _triples_text(triples: list[ox.Triple]) -> str:
    return " .\n".join(f"{t.subject} {t.predicate} {t.object}" for t in triples)

"""Raw writes (SPARQL Update, Graph Store Protocol) checked against the shapes before they are committed.

Writes are serialised: one change is validated and written before the next is looked at, so two
writes that each pass alone can never together leave the graph broken.
"""

import threading
import uuid
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager, nullcontext
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Protocol, TypeVar

import pyoxigraph as ox

from policykg.config import Settings
from policykg.errors import ChangeRejected, DefaultGraphWrite, QueryError, ReadOnlyGraph
from policykg.iris import closure_graph_iri, entry_iri, genid_prefix, registry_iri
from policykg.model.closure import closure_difference, touches_broader
from policykg.rdf.namespaces import ONTOLOGY_IRI, PREFIXES, SHAPES_IRI
from policykg.rdf.skolem import fresh
from policykg.search.index import SearchIndex
from policykg.store import Store
from policykg.validation.incremental import Change, ChangeValidator
from policykg.validation.shacl import Report, load_model_graph, report_graph
from policykg.writing.changes import graphs_of, net, placed, touched_subjects
from policykg.writing.grouping import GroupCommit
from policykg.writing.updates import (
    change_as_update,
    change_of,
    empties_whole_graphs,
    operation_text,
    read_update,
)

R = TypeVar("R")
_SUBCLASS = ox.NamedNode(PREFIXES["rdfs"] + "subClassOf")


def make_writer(settings: Settings, store: Store, index: SearchIndex | None = None) -> "Writer":
    """A writer for the store that checks against the model's shapes and ontology files (and keeps index in step)."""
    shapes = load_model_graph(settings.shapes_dir, settings.base_iri)
    ontology = load_model_graph(settings.ontology_dir, settings.base_iri)
    return Writer(store, ChangeValidator(shapes, ontology), settings.base_iri, index)


@dataclass(frozen=True)
class Revision:
    """A state of the store as this service wrote it: an opaque tag and the time of the last write (or start)."""

    tag: str
    modified: datetime
    writes: int = field(default=0, compare=False)  # how many writes this run of the service had made


class Watcher(Protocol):
    """Told of every write, under the write lock: each change before it is written (None: a change that cannot be
    listed, such as CLEAR or DROP), then, after the writes of a revision, that revision (a failed one too)."""

    def before(self, store: Store, change: Change | None) -> None:
        """A change is about to be written to store."""

    def after(self, store: Store, revision: Revision) -> None:
        """The changes told of since the last revision are written, making this one."""


class Writer:
    """Applies writes to a store, each only if the graph still conforms to the shapes afterwards."""

    def __init__(
        self, store: Store, validator: ChangeValidator, base_iri: str, index: SearchIndex | None = None
    ) -> None:
        self._store = store
        self._index = index
        self._subjects: set[str] | None = set()  # what the write touches, for the index (None: everything)
        self._validator = validator
        self._genid = genid_prefix(base_iri)
        self._registry, self._entry_graphs = registry_iri(base_iri), entry_iri(base_iri)
        self._base_iri, self._closure = base_iri, ox.NamedNode(closure_graph_iri(base_iri))
        self._closure_due = False  # whether the write touched skos:broader (model/closure.py)
        self._lock = threading.RLock()  # a group's writes take it again inside the group
        self._depth = 0  # how deep in _writing() the holder of the lock is
        self._commits = GroupCommit()
        self._started = uuid.uuid4().hex[:12]  # tags from an earlier run of the service never match
        self._writes = 0
        self._touched = False
        self._modified = datetime.now(UTC)
        self._listeners: list[Callable[[], None]] = []
        self._watchers: list[Watcher] = []

    def on_written(self, listener: Callable[[], None]) -> None:
        """Call listener (on the writing thread, quickly) after each write that made a new revision."""
        self._listeners.append(listener)

    def watch(self, watcher: Watcher) -> None:
        """Tell watcher of every write from now on (before and after, under the write lock)."""
        self._watchers.append(watcher)

    @property
    def revision(self) -> "Revision":
        """Which state of the store readers see now: its tag changes with every write.

        A remote engine may also be written to by others (another replica, a loader): then the tag changes
        at least once a minute too, so that what is cached from the store is at most a minute old.
        """
        if self._store.exclusive:
            return Revision(f"{self._started}-{self._writes}", self._modified, self._writes)
        minute = datetime.now(UTC).replace(second=0, microsecond=0)
        return Revision(
            f"{self._started}-{self._writes}-{minute:%Y%m%d%H%M}", max(self._modified, minute), self._writes
        )

    @contextmanager
    def frozen(self, *, steady: bool = False) -> Iterator[tuple["Revision", Store]]:
        """The store frozen between two writes (Store.frozen), and the revision it is at: what is read from it
        is exactly that revision's. Where no frozen copy can be had (a remote or in-memory store), later writes
        may show in it (unchanged_since tells), unless steady holds writes back until the block ends."""
        with ExitStack() as stack:
            with self._lock:
                revision = self.revision
                copy = stack.enter_context(self._store.frozen())
                if steady:
                    stack.enter_context(self._lock)  # taken again: held until the block ends
            yield revision, copy

    @contextmanager
    def between_writes(self) -> Iterator[None]:
        """Hold writes back until the block ends: what it does to the store falls between two writes."""
        with self._lock:
            yield

    def unchanged_since(self, revision: "Revision") -> bool:
        """Whether this service has written nothing since that revision (waiting for a write under way)."""
        with self._lock:
            return self._writes == revision.writes

    def grouped(self, write: Callable[[], R]) -> R:
        """Run a write (a call of this writer's methods) in a group with those that arrive meanwhile (see
        writing/grouping.py): each its own transaction and verdict, all made visible at once (one snapshot
        for the query workers, one commit of the search index, one new revision) before any call returns."""
        return self._commits.run(write, self._as_one)

    @property
    def groups(self) -> tuple[int, int]:
        """How many groups of writes ran, and how many writes they held."""
        return self._commits.groups, self._commits.writes

    def _as_one(self, writes: Callable[[], None]) -> None:
        with self._writing(), self._store.deferred_publication():
            writes()

    @contextmanager
    def _writing(self) -> Iterator[None]:
        """Hold the write lock; afterwards, count a new revision if the store was written to (also when the
        write then failed or was undone: a tag may change without a change of content, never the other way
        round). A write refused before it reached the store leaves the revision, and every cache, as it was.
        Taken again inside a group of writes (grouped), only the outermost counts. The outermost also brings
        the closure of skos:broader up to date, and makes the whole visible to the query workers at once."""
        with self._lock:
            self._depth += 1
            outermost = self._depth == 1
            if outermost:
                self._touched, self._subjects, self._closure_due = False, set(), False
            try:
                with self._store.deferred_publication() if outermost else nullcontext():
                    yield
                    if outermost and self._closure_due:
                        self._keep_closure()
            finally:
                self._depth -= 1
                if self._depth == 0 and self._touched:
                    self._writes += 1
                    self._modified = datetime.now(UTC)
                    for watcher in self._watchers:
                        watcher.after(self._store, self.revision)
                    if self._index is not None:
                        # Before the call returns: what was written is found by search as soon as it is read.
                        self._index.refresh(self._store, self._subjects)
                    for listener in self._listeners:
                        listener()

    def _written(self, *changes: Change | None) -> Store:
        """The store, about to be written to (under the write lock) with these changes (None: unknown)."""
        if self._index is not None and not self._touched:
            self._index.begin_write()
        self._touched = True
        self._closure_due = self._closure_due or any(
            change is None or touches_broader((*change.added, *change.removed)) for change in changes
        )
        for watcher in self._watchers:
            for change in changes:
                watcher.before(self._store, change)
        for change in changes:
            if change is None or self._subjects is None:
                self._subjects = None
            else:
                self._subjects |= touched_subjects(change)
        return self._store

    def keep_closure(self) -> None:
        """Bring the closure of skos:broader up to date with the store (at a start: after a load or a crash)."""
        with self._writing():
            self._keep_closure()

    def _keep_closure(self) -> None:
        added, removed = closure_difference(self._store, self._base_iri)
        self._apply(Change(added=added, removed=removed))

    def update(self, text: str, base_iri: str, using: tuple[str, ...] = (), using_named: tuple[str, ...] = ()) -> None:
        """Run a SPARQL Update request if its effect conforms; nothing of it stays otherwise.

        One operation is judged before it is written. Several are written one by one, each read from the
        store as the previous ones left it, with query workers kept on the state before; the whole is
        then judged, and undone if it breaks the shapes.
        """
        request = read_update(text, using, using_named)
        with self._writing():
            if len(request.operations) == 1:
                op = request.operations[0]
                if empties_whole_graphs(op):
                    if any(t.keyword in ("NAMED", "ALL") for t in op[1:]):
                        raise ReadOnlyGraph(
                            "CLEAR or DROP of NAMED or ALL would empty the ontology, the shapes and "
                            "the entries' graphs, which change only with the model's files and "
                            "through /entries: drop the graphs you mean one by one (DROP GRAPH <…>)"
                        )
                    self._written(None).update(operation_text(request, op), base_iri=base_iri)
                    return
                change = self._skolemised(change_of(self._store, request, op, base_iri, using, using_named))
                self._check(change)
                self._apply(change)
                return
            if any(empties_whole_graphs(op) for op in request.operations):
                raise QueryError("send CLEAR or DROP of DEFAULT, NAMED or ALL as an update of its own")
            done: list[Change] = []
            with self._store.deferred_publication():
                try:
                    for op in request.operations:
                        change = self._skolemised(change_of(self._store, request, op, base_iri, using, using_named))
                        self._refuse_default_graph(change)
                        self._refuse_entry_graphs(graphs_of(change))
                        self._apply(change)
                        done.append(change)
                    self._check(net(done), applied=True)
                except BaseException:
                    for change in reversed(done):
                        self._apply(Change(added=change.removed, removed=change.added))
                    raise

    def replace_graph(self, graph: str | None, triples: list[ox.Triple]) -> bool:
        """Replace a named graph's content if the result conforms; True if the graph existed."""
        with self._writing():
            self._refuse_entry_graphs({graph} if graph else set())
            name = self._named(graph, triples)
            current = self._store.graph_quads(graph) if name else []
            change = self._skolemised(Change(added=placed(triples, name), removed=tuple(current)))
            self._check(change)
            return self._written(change).replace_graph(
                graph, [ox.Triple(q.subject, q.predicate, q.object) for q in change.added]
            )

    def extend_graph(self, graph: str | None, triples: list[ox.Triple]) -> bool:
        """Add triples to a named graph if the result conforms; True if the graph existed."""
        with self._writing():
            self._refuse_entry_graphs({graph} if graph else set())
            name = self._named(graph, triples)
            change = self._skolemised(Change(added=placed(triples, name)))
            self._check(change)
            return self._written(change).extend_graph(
                graph, [ox.Triple(q.subject, q.predicate, q.object) for q in change.added]
            )

    def delete_graph(self, graph: str | None) -> None:
        """Delete a graph if what remains conforms."""
        with self._writing():
            if graph in (ONTOLOGY_IRI, SHAPES_IRI):
                raise ReadOnlyGraph("the ontology and shapes graphs change only with the model's files and a restart")
            change = None
            if graph is not None:
                self._refuse_entry_graphs({graph})
                change = Change(removed=tuple(self._store.graph_quads(graph)))
                self._check(change)
            self._written(change).delete_graph(graph)

    def add_quads(self, quads: list[ox.Quad], default_graph: str) -> None:
        """Add quads to their graphs (default-graph triples to default_graph) if the result conforms."""
        target = ox.NamedNode(default_graph)
        placed = tuple(
            q if not isinstance(q.graph_name, ox.DefaultGraph) else ox.Quad(q.subject, q.predicate, q.object, target)
            for q in quads
        )
        with self._writing():
            change = self._skolemised(Change(added=placed))
            self._check(change)
            self._written(change).add(change.added, default_graph)

    @property
    def checked_classes(self) -> frozenset[str]:
        """The classes some shape checks (targeted, or below a targeted class)."""
        return self._validator.checked_classes

    def check(self, change: Change) -> Report:
        """The report a change would get, without writing it (the store as it is now)."""
        self._refuse_default_graph(change)
        return self._validator.validate(self._store, change)

    def add(self, change: Change) -> Report:
        """Write a change of additions atomically if it conforms; return its report (no violations)."""
        with self._writing():
            change = self._skolemised(change)
            report = self._check(change, by_entries=True)
            assert report is not None  # only an empty change goes unchecked, and an entry never is one
            self._written(change).add(change.added, "urn:x-policykg:unused")
            return report

    def write(self, change: Change) -> Report | None:
        """Write a change (removals and additions) atomically if it conforms; return its report."""
        with self._writing():
            change = self._skolemised(change)
            report = self._check(change, by_entries=True)
            self._apply(change)
            return report

    def _skolemised(self, change: Change) -> Change:
        """Blank nodes of new data become IRIs (RDF 1.1 §3.5), so that later writes can name them."""
        return Change(added=tuple(fresh(change.added, self._genid)), removed=change.removed)

    def _apply(self, change: Change) -> None:
        if change.added or change.removed:
            self._written(change).update(change_as_update(change))

    @staticmethod
    def _refuse_default_graph(change: Change) -> None:
        if any(isinstance(q.graph_name, ox.DefaultGraph) for q in change.added):
            raise DefaultGraphWrite(
                "policykg keeps every triple in a named graph: put the data in "
                "GRAPH <…> { … } (or use WITH <…>), or write to /store?graph=<…>"
            )

    def _refuse_entry_graphs(self, graphs: set[str]) -> None:
        """Raw writes leave the entries' graphs alone: the registry of entries, and each entry's own graph."""
        kept = sorted(g for g in graphs if g == self._registry or g.startswith(self._entry_graphs))
        if kept:
            raise ReadOnlyGraph(
                f"<{kept[0]}> is written through /entries only (submit, revise, retract), so that "
                "every entry stays as its record and the change stream say"
            )

    def _check(self, change: Change, applied: bool = False, by_entries: bool = False) -> Report | None:
        self._refuse_default_graph(change)
        if not by_entries:
            self._refuse_entry_graphs(graphs_of(change))
        model = {ox.NamedNode(ONTOLOGY_IRI), ox.NamedNode(SHAPES_IRI)}
        if any(q.graph_name in model for q in (*change.added, *change.removed)):
            raise ReadOnlyGraph("the ontology and shapes graphs change only with the model's files and a restart")
        if any(q.graph_name == self._closure for q in (*change.added, *change.removed)):
            raise ReadOnlyGraph(
                f"<{self._closure.value}> is the closure of skos:broader (skos:broaderTransitive), which the "
                "service keeps: write the skos:broader statements it follows from instead"
            )
        if any(q.predicate == _SUBCLASS for q in (*change.added, *change.removed)):
            # The shapes' targets and class checks follow the ontology's hierarchy: data may not change it.
            raise ReadOnlyGraph(
                "the class hierarchy (rdfs:subClassOf) is the ontology's; it changes only with the "
                "ontology's files and a restart"
            )
        if not change.added and not change.removed:
            return None
        report = self._validator.validate(self._store, change, applied=applied)
        violations = [r for r in report.results if r.severity == "Violation"]
        if violations:
            raise ChangeRejected(
                f"the change would leave {len(violations)} violation{'s' if len(violations) != 1 else ''} "
                "of the shapes; nothing was written",
                [r.as_dict() for r in report.results],
                report_graph(report.results, conforms=False),
            )
        return report

    @staticmethod
    def _named(graph: str | None, triples: list[ox.Triple]) -> ox.NamedNode | None:
        if graph is None:
            if triples:
                raise DefaultGraphWrite("policykg keeps every triple in a named graph: write to /store?graph=<…>")
            return None
        return ox.NamedNode(graph)

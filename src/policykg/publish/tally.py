"""VoID's and DCAT's figures kept current from each write, so that nothing counts them on the request path.

Why upkeep rather than a full count in the background after writes (measured at 1,000,000 generated triples on
2 shared cores, benchmarks/RESULTS.md): a full count reads the whole store, 2.7 s and 5.1 s of CPU each time, so
under steady writes a background count serves figures that lag (a median 105 writes behind under 14 writes/s)
and takes a large share of the two cores. Keeping them costs a look into an index (about 10 µs) per term a
change touches, twice: about 1 ms for an entry-sized write, 0.1 s for 1,000 triples replaced, inside the write,
so the figures published with a revision are that revision's, exactly, from the moment it is visible.

How: before a change is written, every term it touches is looked up in the store (is there a quad with this
subject? this object, property, graph? this quad, this instance of a class, this entity, this link?); after the
write, again. A distinct count moves only where the answer changed: a removed quad lowers a count only when no
other quad keeps the term. A change the writer cannot list (CLEAR or DROP of the default graph), a very large
one, and the start are counted in full (publish/statistics.py) from the store frozen at that revision (a
checkpoint of the on-disk store), in the background; the changes of later writes wait for that count and are
added to it. A store in memory has no frozen copy: it is small, and counted at once, writes waiting. Not for a
remote engine, which others may write to unseen: there the figures are counted in full in the background
(web/routes_catalogue.py, web/derived.py).
"""

import logging
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import Executor
from contextlib import AbstractContextManager, ExitStack
from dataclasses import dataclass, field
from enum import IntEnum
from typing import Generic, TypeVar

import pyoxigraph as ox

from policykg import iris
from policykg.errors import NotReady
from policykg.publish.statistics import (
    EXAMPLE_CLASSES,
    LinkCount,
    Statistics,
    example_classes,
    first_instances,
    link_targets,
    predicates,
    statistics,
    vocabularies_of,
)
from policykg.rdf.namespaces import PREFIXES
from policykg.store import Store
from policykg.validation.incremental import Change

R = TypeVar("R")
_log = logging.getLogger("policykg.tally")
_TYPE = ox.NamedNode(PREFIXES["rdf"] + "type")


class Kind(IntEnum):
    """What a key counts towards: its terms are a pattern, and the key is in the store if a quad matches it."""

    QUAD = 0
    SUBJECT = 1
    OBJECT = 2
    PROPERTY = 3
    GRAPH = 4
    ENTITY = 5  # a typed subject under <base>id/
    INSTANCE = 6  # a subject of a class
    LINK = 7  # a triple to an external dataset, in any graph
    EXAMPLE = 8  # an instance under <base>id/ of an example class (the object) or of one of its subclasses


_COUNTED = {Kind.QUAD: "quads", Kind.SUBJECT: "subjects", Kind.OBJECT: "objects", Kind.GRAPH: "graphs"}
_COUNTED[Kind.ENTITY] = "entities"
Subject = ox.NamedNode | ox.BlankNode | ox.Triple
Object = ox.NamedNode | ox.BlankNode | ox.Literal | ox.Triple
Key = tuple[Kind, Subject | None, ox.NamedNode | None, Object | None, ox.NamedNode | ox.BlankNode | None]


@dataclass
class Delta:
    """How one write moved the figures: counts up or down, properties, classes and links in or out, examples."""

    counts: Counter[str] = field(default_factory=Counter)
    properties: Counter[str] = field(default_factory=Counter)
    classes: Counter[str] = field(default_factory=Counter)  # instances per class
    links: Counter[tuple[str, str]] = field(default_factory=Counter)  # (target, property) -> distinct triples
    candidates: dict[str, str] = field(default_factory=dict)  # example class -> its least new instance
    examples: dict[str, str | None] = field(default_factory=dict)  # example class -> its first instance, looked up


@dataclass(frozen=True)
class Figures:
    """The figures of one state of the store, with the properties themselves (their vocabularies need them)."""

    counts: Counter[str]
    properties: Counter[str]  # each property used: 1
    classes: Counter[str]
    links: Counter[tuple[str, str]]
    examples: dict[str, str]

    @classmethod
    def counted(cls, store: Store, base_iri: str, roots: dict[str, frozenset[str]]) -> "Figures":
        """The figures counted in full, by the queries of publish/statistics.py (roots: example_classes)."""
        stats = statistics(store, base_iri)
        counts = {"quads": stats.quads, "subjects": stats.distinct_subjects, "objects": stats.distinct_objects}
        counts |= {"graphs": stats.graphs, "entities": stats.entities}
        # The examples come in the order of their classes, those without one left out: the next example is
        # this class's if it is an instance of it (were the class without any, nothing would be).
        examples, found = {}, list(stats.examples)
        for root in EXAMPLE_CLASSES:
            if found and any(store.holds((ox.NamedNode(found[0]), _TYPE, ox.NamedNode(c), None)) for c in roots[root]):
                examples[root] = found.pop(0)
        return cls(
            Counter(counts),
            Counter(dict.fromkeys(predicates(store), 1)),
            Counter(dict(stats.class_partition)),
            Counter({(link.target, link.predicate): link.triples for link in stats.links}),
            examples,
        )

    def plus(self, delta: Delta) -> "Figures":
        """These figures moved by a write (counts that reach 0 drop out, as absent terms do)."""
        examples = dict(self.examples)
        for root, candidate in delta.candidates.items():
            examples[root] = min(examples.get(root, candidate), candidate)
        for root, first in delta.examples.items():
            examples.pop(root, None)
            if first is not None:
                examples[root] = first
        return Figures(  # Counter's + keeps what is above 0 only: a term no longer there drops out
            self.counts + delta.counts,
            self.properties + delta.properties,
            self.classes + delta.classes,
            self.links + delta.links,
            examples,
        )

    def statistics(self) -> Statistics:
        """The figures as VoID and DCAT report them, ordered as the full count orders them."""
        return Statistics(
            quads=self.counts["quads"],
            distinct_subjects=self.counts["subjects"],
            distinct_objects=self.counts["objects"],
            properties=len(self.properties),
            graphs=self.counts["graphs"],
            class_partition=tuple(sorted(self.classes.items())),
            entities=self.counts["entities"],
            vocabularies=vocabularies_of(set(self.properties) | set(self.classes)),
            links=tuple(LinkCount(target, p, n) for (target, p), n in sorted(self.links.items())),
            examples=tuple(self.examples[root] for root in EXAMPLE_CLASSES if root in self.examples),
        )


class KeptStatistics(Generic[R]):
    """The figures of the newest revision, kept by the writer's calls around each write (before, after).

    freeze() gives the store frozen between two writes and its revision (Writer.frozen); counts in full run on
    executor. At most `largest` quads of a change are looked up term by term; a larger change is counted anew.
    """

    def __init__(
        self,
        store: Store,
        freeze: Callable[[], AbstractContextManager[tuple[R, Store]]],
        base_iri: str,
        executor: Executor,
        largest: int = 5000,
    ) -> None:
        self._store = store
        self._freeze = freeze
        self._things = base_iri + iris.THINGS
        self._base_iri = base_iri
        self._executor = executor
        self._largest = largest
        self._roots = example_classes(store)
        self._state = threading.Condition()
        self._figures: Figures | None = None  # those of the newest revision, unless a count is under way
        self._waiting: list[tuple[R, Delta]] = []  # the writes since a count began, for when it ends
        self._count = 0  # the number of the newest count begun
        self._published: tuple[R, Statistics] | None = None
        self._before: dict[Key, bool] = {}  # the keys the writes of a revision touch: were they in the store?
        self._unknown = False  # a write of the revision could not be looked at term by term
        self.counts = 0  # how many full counts ended (a start's, and after changes too large or unknown)
        self._recount()

    @property
    def revision(self) -> R | None:
        """The revision whose figures are the newest published (None before the first count ends)."""
        published = self._published
        return None if published is None else published[0]

    def latest(self, seconds: float = 60) -> tuple[R, Statistics]:
        """The newest figures published, with their revision; after a start, waits for the first count."""
        with self._state:
            if not self._state.wait_for(lambda: self._published is not None, timeout=seconds):
                raise NotReady("the dataset's figures are still being counted after the start; ask again soon")
            assert self._published is not None
            return self._published

    def before(self, store: Store, change: Change | None) -> None:
        """Before a change is written (under the write lock): look up what it touches, once per revision."""
        quads = () if change is None else (*change.added, *change.removed)
        if self._unknown or change is None or len(quads) > self._largest:
            self._unknown = True  # looked at no further: counted anew after the write
            return
        if any(isinstance(q.graph_name, ox.DefaultGraph) for q in quads):
            self._unknown = True  # the figures count named graphs only, and the service writes none else
            return
        try:
            for quad in quads:
                for key in self._keys(quad):
                    if key not in self._before:
                        self._before[key] = self._holds(store, key)
        except Exception:  # the store could not be read: counted anew after the write
            _log.exception("the figures cannot follow a write; they are counted anew after it")
            self._unknown = True

    def after(self, store: Store, revision: R) -> None:
        """After the writes of a revision (under the write lock): publish the figures they leave."""
        try:
            delta = None if self._unknown else self._delta(store)
        except Exception:  # the store could not be read: counted anew, from the store as it is left
            _log.exception("the figures could not follow a write; they are counted anew")
            delta = None
        finally:
            self._before, self._unknown = {}, False
        if delta is None:
            self._recount()
            return
        with self._state:
            if self._figures is None:
                self._waiting.append((revision, delta))
                return
            self._figures = self._figures.plus(delta)
            self._published = (revision, self._figures.statistics())
            self._state.notify_all()

    def _keys(self, quad: ox.Quad) -> Iterator[Key]:
        """What a quad counts towards, as keys whose presence in the store is looked up."""
        s, p, o, g = quad.subject, quad.predicate, quad.object, quad.graph_name
        assert not isinstance(g, ox.DefaultGraph)
        yield Kind.QUAD, s, p, o, g
        yield Kind.SUBJECT, s, None, None, None
        yield Kind.OBJECT, None, None, o, None
        yield Kind.PROPERTY, None, p, None, None
        yield Kind.GRAPH, None, None, None, g
        entity = isinstance(s, ox.NamedNode) and s.value.startswith(self._things)
        if p == _TYPE:
            if entity:
                yield Kind.ENTITY, s, _TYPE, None, None
            if isinstance(o, ox.NamedNode):
                yield Kind.INSTANCE, s, _TYPE, o, None
                for root, classes in self._roots.items():
                    if entity and o.value in classes:
                        yield Kind.EXAMPLE, s, None, ox.NamedNode(root), None
        if isinstance(o, ox.NamedNode) and link_targets(_iri(s), o.value):
            yield Kind.LINK, s, p, o, None

    def _holds(self, store: Store, key: Key) -> bool:
        """Whether a key is in the store: a quad matches its pattern (an example: one of its classes')."""
        kind, s, p, o, g = key
        if kind == Kind.EXAMPLE:
            classes = self._roots[o.value]  # type: ignore[union-attr]  # an example's object is its class
            return any(store.holds((s, _TYPE, ox.NamedNode(c), None)) for c in classes)
        return store.holds((s, p, o, g))

    def _delta(self, store: Store) -> Delta:
        """How the figures moved: each key looked up again, counted where its presence changed.

        Any figures kept are the revision before's (a count that ends publishes every write made meanwhile), so
        an example is looked up again only when the instance taken out was it, or when a count is under way.
        """
        delta, gone = Delta(), set()
        for key, was in self._before.items():
            now = self._holds(store, key)
            if now == was:
                continue
            step, (kind, s, p, o, _) = (1 if now else -1), key
            if kind in _COUNTED:
                delta.counts[_COUNTED[kind]] += step
            elif kind == Kind.PROPERTY and p is not None:
                delta.properties[p.value] += step
            elif kind == Kind.INSTANCE and isinstance(o, ox.NamedNode):
                delta.classes[o.value] += step
            elif kind == Kind.LINK and p is not None and isinstance(o, ox.NamedNode):
                for target in link_targets(_iri(s), o.value):
                    delta.links[target, p.value] += step
            elif kind == Kind.EXAMPLE and isinstance(o, ox.NamedNode) and isinstance(s, ox.NamedNode):
                if now:  # a new instance may come first
                    delta.candidates[o.value] = min(delta.candidates.get(o.value, s.value), s.value)
                elif self._figures is None or self._figures.examples.get(o.value) == s.value:
                    gone.add(o.value)  # the first instance is gone (or may be): looked up anew (~30 ms at 1M)
        if gone:
            found = first_instances(store, self._base_iri, {root: self._roots[root] for root in gone})
            delta.examples = {root: found.get(root) for root in gone}
        return delta

    def _recount(self) -> None:
        """Count in full the store as it is now (at start, or under the write lock), then add later writes."""
        stack = ExitStack()
        revision, copy = stack.enter_context(self._freeze())
        with self._state:
            self._count += 1
            number, self._figures, self._waiting = self._count, None, []
        if copy is self._store:  # no frozen copy: a store in memory, small, counted with writes waiting
            with stack:
                self._counted(number, revision, Figures.counted(copy, self._base_iri, self._roots))
            return
        self._executor.submit(self._count_frozen, stack, number, revision, copy)

    def _count_frozen(self, stack: ExitStack, number: int, revision: R, copy: Store) -> None:
        try:
            with stack:
                figures = Figures.counted(copy, self._base_iri, self._roots)
        except Exception:  # the figures published stay; counted again from a new frozen copy
            _log.exception("counting the dataset's figures failed; trying again")
            time.sleep(1)
            self._executor.submit(self._retry, number)
            return
        self._counted(number, revision, figures)

    def _retry(self, failed: int) -> None:
        """Count again after a count failed, unless a newer one has begun; the writes since are added to it."""
        stack = ExitStack()
        revision, copy = stack.enter_context(self._freeze())
        with self._state:
            if failed != self._count:
                stack.close()
                return
            self._count += 1
            number, waiting = self._count, self._waiting
            self._waiting = waiting[next((i + 1 for i, (r, _) in enumerate(waiting) if r == revision), 0) :]
        self._count_frozen(stack, number, revision, copy)

    def _counted(self, number: int, revision: R, figures: Figures) -> None:
        """A full count ended: add the writes made since, and publish (unless a newer count has begun)."""
        with self._state:
            if number != self._count:
                return
            for later, delta in self._waiting:
                revision, figures = later, figures.plus(delta)
            self._figures, self._waiting = figures, []
            self._published = (revision, figures.statistics())
            self.counts += 1
            self._state.notify_all()


def _iri(term: Subject | None) -> str | None:
    """The IRI of a named node (None for anything else)."""
    return term.value if isinstance(term, ox.NamedNode) else None

"""What the service says about one resource: its statements, the links to it, labels, and their sources.

A resource's description is its concise bounded description (every statement about it, and about the
skolemised blank nodes it points to), the statements that link to it, the labels of every thing they
name, and, for each named graph a statement sits in, where that graph's facts come from. It reads the
store only, whatever its size: the statements about and to the resource (Store.about, Store.find), the labels and
the sources. On the embedded store the statements are walks along its indexes, no query parsed (about a quarter of
a query's cost); elsewhere a query each, one per level of the closure.
"""

from collections.abc import Iterable, MutableMapping
from dataclasses import dataclass, field
from functools import cached_property

import pyoxigraph as ox

from policykg.errors import ResourceGone, ResourceNotFound
from policykg.iris import THING_SPACES
from policykg.rdf.namespaces import PKG, PREFIXES
from policykg.rdf.terms import value_of
from policykg.store import Store

RDF_TYPE = PREFIXES["rdf"] + "type"
PROV = PREFIXES["prov"]
# Properties whose value names a thing for people, most preferred first.
LABELS = (
    PREFIXES["skos"] + "prefLabel",
    PREFIXES["rdfs"] + "label",
    PREFIXES["dcterms"] + "title",
    PREFIXES["schema"] + "name",
    "http://xmlns.com/foaf/0.1/name",
)
INCOMING_LIMIT = 500
KNOWN_LABELS = 200_000  # IRIs whose labels a state of the store keeps in memory (about 40 MB at most)
_UNKNOWN = object()
_CLOSURE_DEPTH = 4


def resource_iri(base_iri: str, relative: str) -> ox.NamedNode:
    """The resource a path under the base names; ResourceNotFound for a path that is no resource's IRI.

    Only the thing spaces hold resources, and only a valid IRI can name one: checking it here also keeps
    anything a client puts in a path from ever reaching a query as SPARQL text.
    """
    if not relative.startswith(THING_SPACES) or relative in THING_SPACES:
        raise ResourceNotFound(f"no resource is published at /{relative}")
    try:
        return ox.NamedNode(base_iri + relative)
    except ValueError:
        raise ResourceNotFound(f"/{relative} is not the address of a resource (not a valid IRI)") from None


@dataclass(frozen=True)
class Label:
    """A thing's name for people, as stated: the property, the literal, the graph it sits in."""

    predicate: ox.NamedNode
    text: ox.Literal
    graph: ox.NamedNode | ox.BlankNode | ox.DefaultGraph


@dataclass(frozen=True)
class Source:
    """A named graph that statements sit in, and where its facts come from."""

    iri: str
    kinds: tuple[str, ...]  # e.g. pkg:StatedAssertion, pkg:InferredAssertion, pkg:Entry
    derived_from: tuple[str, ...]
    reason: str | None  # why an inferred assertion holds

    @property
    def kind(self) -> str:
        """How far to trust the graph: inferred, editorial, entry (a contribution) or stated."""
        for name, cls in (
            ("inferred", PKG.InferredAssertion),
            ("editorial", PKG.EditorialAssertion),
            ("entry", PKG.Entry),
        ):
            if str(cls) in self.kinds:
                return name
        return "stated"


@dataclass(frozen=True)
class Statement:
    """One statement as a page shows it: the triple once, with every graph that states it."""

    subject: ox.NamedNode | ox.BlankNode | ox.Triple
    predicate: ox.NamedNode
    object: ox.NamedNode | ox.BlankNode | ox.Literal | ox.Triple
    graphs: tuple[str, ...]


def merged(quads: Iterable[ox.Quad]) -> list[Statement]:
    """Each triple of the quads once, with the graphs that state it, in the order the quads give them."""
    graphs: dict[ox.Triple, list[str]] = {}
    for quad in quads:
        graphs.setdefault(ox.Triple(quad.subject, quad.predicate, quad.object), []).append(value_of(quad.graph_name))
    return [Statement(t.subject, t.predicate, t.object, tuple(dict.fromkeys(g))) for t, g in graphs.items()]


@dataclass(frozen=True)
class Description:
    """Everything the service publishes about one resource."""

    iri: str
    statements: tuple[ox.Quad, ...]  # about it, and about the blank nodes it points to
    incoming: tuple[ox.Quad, ...]  # links to it from other resources
    incoming_truncated: bool
    label_terms: dict[str, Label] = field(default_factory=dict)  # IRI -> its label as stated
    sources: dict[str, Source] = field(default_factory=dict)
    contents: tuple[ox.Quad, ...] = ()  # when the resource is a named graph: what it states (the first ones)

    @cached_property  # a page reads it once per statement
    def labels(self) -> dict[str, str]:
        """IRI -> the text of its label."""
        return {iri: label.text.value for iri, label in self.label_terms.items()}

    @property
    def statement_rows(self) -> list[Statement]:
        """The statements for people: one row a triple, with every graph that states it."""
        return merged(self.statements)

    @property
    def incoming_rows(self) -> list[Statement]:
        """The links to the resource for people: one row a triple, with every graph that states it."""
        return merged(self.incoming)

    @cached_property
    def types(self) -> list[str]:
        """The resource's classes."""
        return sorted(
            {
                value_of(q.object)
                for q in self.statements
                if value_of(q.subject) == self.iri and q.predicate.value == RDF_TYPE
            }
        )

    @property
    def label(self) -> str:
        """The best name for people: a label, else the end of the IRI."""
        return self.labels.get(self.iri) or self.iri.rstrip("/").rsplit("/", 1)[-1]

    def triples(self) -> list[ox.Triple]:
        """The description as RDF: its statements, the links to it, and the labels of what they name."""
        return list(dict.fromkeys(ox.Triple(q.subject, q.predicate, q.object) for q in self.quads()))

    def quads(self) -> list[ox.Quad]:
        """The statements, the links, and the labels of what they name, each in the graph that states it."""
        named = {
            t.value
            for q in (*self.statements, *self.incoming)
            for t in (q.subject, q.predicate, q.object, q.graph_name)
            if isinstance(t, ox.NamedNode)
        }
        labels = [
            ox.Quad(ox.NamedNode(iri), label.predicate, label.text, label.graph)
            for iri, label in sorted(self.label_terms.items())
            if iri != self.iri and iri in named
        ]
        return list(dict.fromkeys((*self.statements, *self.incoming, *labels)))


def exists(store: Store, iri: ox.NamedNode, registry: str) -> None:
    """Nothing if something is said of the resource; ResourceNotFound, or ResourceGone once retracted."""
    if not store.mentions(iri):
        _missing(store, iri, registry)


def describe(
    store: Store,
    iri: ox.NamedNode,
    genid_prefix: str,
    registry: str,
    known: MutableMapping[str, Label | None] | None = None,
) -> Description:
    """The description of a resource; ResourceNotFound (or ResourceGone, once retracted) if nothing is said of it.

    known, if given, holds labels looked up before in the same state of the store (None: the IRI has none), and
    gets the ones looked up here: most descriptions name the same properties, classes and neighbours.
    """
    statements = _closure(store, iri, genid_prefix)
    links = store.find((None, None, iri, None), INCOMING_LIMIT + 1)
    incoming = tuple(links[:INCOMING_LIMIT])
    contents = tuple(store.find((None, None, None, iri), INCOMING_LIMIT))
    if not statements and not incoming and not contents:
        _missing(store, iri, registry)
    named = {
        t.value
        for q in (*statements, *incoming, *contents)
        for t in (q.subject, q.predicate, q.object)
        if isinstance(t, ox.NamedNode)
    }
    graphs = {q.graph_name.value for q in (*statements, *incoming) if isinstance(q.graph_name, ox.NamedNode)}
    return Description(
        iri=iri.value,
        statements=statements,
        incoming=incoming,
        incoming_truncated=len(links) > INCOMING_LIMIT,
        contents=contents,
        label_terms=labels_of(store, named | graphs, known),
        sources=_sources(store, graphs),
    )


def labels_of(store: Store, iris: set[str], known: MutableMapping[str, Label | None] | None = None) -> dict[str, Label]:
    """A label for each IRI that has one (English or untagged preferred, then by the order of LABELS).

    known, if given, answers first, and learns what the store answers (up to KNOWN_LABELS IRIs).
    """
    if known is not None:
        found = {iri: label for iri in iris if (label := known.get(iri, _UNKNOWN)) is not _UNKNOWN}
        fresh = _labels_of(store, iris - found.keys())
        if len(known) < KNOWN_LABELS:
            known.update({iri: fresh.get(iri) for iri in iris - found.keys()})
        return {**{iri: label for iri, label in found.items() if isinstance(label, Label)}, **fresh}
    return _labels_of(store, iris)


def _labels_of(store: Store, iris: set[str]) -> dict[str, Label]:
    if not iris:
        return {}
    values = " ".join(str(ox.NamedNode(iri)) for iri in sorted(iris))
    # One VALUES block and a filter on the predicate: two VALUES blocks would be joined as a cross product first.
    predicates = ", ".join(f"<{p}>" for p in LABELS)
    rows = store.select(
        f"SELECT DISTINCT ?x ?p ?label ?g WHERE {{ VALUES ?x {{ {values} }} "
        f"GRAPH ?g {{ ?x ?p ?label }} FILTER (?p IN ({predicates}) && isLiteral(?label)) }}"
    ).rows
    best: dict[str, tuple[tuple[int, int, str, str], Label]] = {}
    for x, p, text, g in rows:
        assert isinstance(x, ox.NamedNode) and isinstance(p, ox.NamedNode) and isinstance(text, ox.Literal)
        assert isinstance(g, ox.NamedNode | ox.BlankNode)  # bound by GRAPH ?g
        rank = (0 if text.language in (None, "en") else 1, LABELS.index(p.value), text.value, str(g))
        if x.value not in best or rank < best[x.value][0]:
            best[x.value] = (rank, Label(p, text, g))
    return {iri: label for iri, (_, label) in best.items()}


def _closure(store: Store, iri: ox.NamedNode, genid_prefix: str) -> tuple[ox.Quad, ...]:
    """The statements about iri and, a few levels deep, about the skolemised blank nodes it points to."""
    found: list[ox.Quad] = []
    frontier, seen = [iri], {iri}
    for _ in range(_CLOSURE_DEPTH):
        if not frontier:
            break
        level = store.about(frontier)
        found += level
        frontier = sorted(
            {
                q.object
                for q in level
                if isinstance(q.object, ox.NamedNode)
                and q.object.value.startswith(genid_prefix)
                and q.object not in seen
            },
            key=str,
        )
        seen.update(frontier)
    return tuple(sorted(found, key=lambda q: (q.subject != iri, str(q))))


def _sources(store: Store, graphs: set[str]) -> dict[str, Source]:
    """What each graph is (an assertion of some kind, an entry) and what it was derived from."""
    if not graphs:
        return {}
    values = " ".join(str(ox.NamedNode(g)) for g in sorted(graphs))
    rows = store.select(
        f"SELECT ?g ?p ?o WHERE {{ VALUES ?g {{ {values} }} GRAPH ?any {{ ?g ?p ?o }} FILTER (?p IN (<{RDF_TYPE}>, "
        f"<{PROV}wasDerivedFrom>, <{PROV}hadPrimarySource>, <{PKG.inferenceReason}>)) }}"
    ).rows
    facts: dict[str, dict[str, set[str]]] = {g: {} for g in graphs}
    for g, p, o in rows:
        assert g is not None and p is not None and o is not None  # every variable is bound by the pattern
        facts[g.value].setdefault(p.value, set()).add(o.value)
    sources = {}
    for graph, by in facts.items():
        reasons = sorted(by.get(str(PKG.inferenceReason), ()))
        sources[graph] = Source(
            graph,
            tuple(sorted(by.get(RDF_TYPE, ()))),
            tuple(sorted(by.get(PROV + "wasDerivedFrom", set()) | by.get(PROV + "hadPrimarySource", set()))),
            reasons[0] if reasons else None,
        )
    return sources


def _missing(store: Store, iri: ox.NamedNode, registry: str) -> None:
    """Raise ResourceGone if the resource was in an entry that is no longer current, else ResourceNotFound."""
    needle = ox.Literal(str(iri))  # how the archived N-Triples of an entry write the IRI
    if store.ask(
        f"ASK {{ GRAPH <{registry}> {{ ?entry <{PROV}invalidatedAtTime> ?when ; "
        f"<{PKG.archivedContent}> ?content FILTER (CONTAINS(?content, {needle})) }} }}"
    ):
        raise ResourceGone(f"{iri} was described by an entry that has since been retracted or revised away")
    raise ResourceNotFound(f"nothing is said of {iri} here")

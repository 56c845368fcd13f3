"""What the service says about one resource: its statements, the links to it, labels, and their sources.

A resource's description is its concise bounded description (every statement about it, and about the
skolemised blank nodes it points to), the statements that link to it, the labels of every thing they
name, and, for each named graph a statement sits in, where that graph's facts come from. It reads the
store only: a handful of SPARQL queries, whatever the store's size.
"""

from dataclasses import dataclass, field

import pyoxigraph as ox

from policykg.errors import ResourceGone, ResourceNotFound
from policykg.namespaces import PKG, PREFIXES
from policykg.store import Store

RDF_TYPE = PREFIXES["rdf"] + "type"
PROV = PREFIXES["prov"]
# Properties whose value names a thing for people, most preferred first.
LABELS = (PREFIXES["skos"] + "prefLabel", PREFIXES["rdfs"] + "label", PREFIXES["dcterms"] + "title",
          PREFIXES["schema"] + "name", "http://xmlns.com/foaf/0.1/name")
INCOMING_LIMIT = 500
_CLOSURE_DEPTH = 4


@dataclass(frozen=True)
class Source:
    """A named graph that statements sit in, and where its facts come from."""

    iri: str
    kinds: tuple[str, ...]  # e.g. pkg:StatedAssertion, pkg:InferredAssertion, pkg:Entry
    derived_from: tuple[str, ...]
    reason: str | None  # why an inferred assertion holds

    @property
    def inferred(self) -> bool:
        """True when the graph's facts were inferred, not stated by a source."""
        return str(PKG.InferredAssertion) in self.kinds

    @property
    def kind(self) -> str:
        """How far to trust the graph: inferred, editorial, entry (a contribution) or stated."""
        for name, cls in (("inferred", PKG.InferredAssertion), ("editorial", PKG.EditorialAssertion), ("entry", PKG.Entry)):
            if str(cls) in self.kinds:
                return name
        return "stated"


@dataclass(frozen=True)
class Description:
    """Everything the service publishes about one resource."""

    iri: str
    statements: tuple[ox.Quad, ...]  # about it, and about the blank nodes it points to
    incoming: tuple[ox.Quad, ...]  # links to it from other resources
    incoming_truncated: bool
    label_terms: dict[str, ox.Literal] = field(default_factory=dict)  # IRI -> its label, language tag kept
    sources: dict[str, Source] = field(default_factory=dict)
    contents: tuple[ox.Quad, ...] = ()  # when the resource is a named graph: what it states (the first ones)

    @property
    def labels(self) -> dict[str, str]:
        """IRI -> the text of its label."""
        return {iri: label.value for iri, label in self.label_terms.items()}

    @property
    def types(self) -> list[str]:
        """The resource's classes."""
        return sorted({q.object.value for q in self.statements
                       if q.subject.value == self.iri and q.predicate.value == RDF_TYPE})

    @property
    def label(self) -> str:
        """The best name for people: a label, else the end of the IRI."""
        return self.labels.get(self.iri) or self.iri.rstrip("/").rsplit("/", 1)[-1]

    def triples(self) -> list[ox.Triple]:
        """The description as RDF: its statements, the links to it, and the labels of what they name."""
        return list(dict.fromkeys(ox.Triple(q.subject, q.predicate, q.object) for q in self.quads()))

    def quads(self) -> list[ox.Quad]:
        """The statements and links in their named graphs; the labels of what they name in the default graph."""
        label = ox.NamedNode(LABELS[1])
        named = {t.value for q in (*self.statements, *self.incoming) for t in (q.subject, q.predicate, q.object, q.graph_name)
                 if isinstance(t, ox.NamedNode)}
        labels = [ox.Quad(ox.NamedNode(iri), label, text, ox.DefaultGraph())
                  for iri, text in sorted(self.label_terms.items()) if iri != self.iri and iri in named]
        return list(dict.fromkeys((*self.statements, *self.incoming, *labels)))


def describe(store: Store, iri: str, genid_prefix: str, registry: str) -> Description:
    """The description of a resource; ResourceNotFound (or ResourceGone, once retracted) if nothing is said of it."""
    statements = _closure(store, iri, genid_prefix)
    rows = store.select(f"SELECT ?s ?p ?g WHERE {{ GRAPH ?g {{ ?s ?p <{iri}> }} }} LIMIT {INCOMING_LIMIT + 1}").rows
    incoming = tuple(ox.Quad(s, p, ox.NamedNode(iri), g) for s, p, g in rows[:INCOMING_LIMIT])  # type: ignore[arg-type]
    contents = tuple(ox.Quad(s, p, o, ox.NamedNode(iri)) for s, p, o in store.select(  # type: ignore[arg-type]
        f"SELECT ?s ?p ?o WHERE {{ GRAPH <{iri}> {{ ?s ?p ?o }} }} LIMIT {INCOMING_LIMIT}").rows)
    if not statements and not incoming and not contents:
        if _retracted(store, iri, registry):
            raise ResourceGone(f"<{iri}> was described by an entry that has since been retracted or revised away")
        raise ResourceNotFound(f"nothing is said of <{iri}> here")
    named = {t.value for q in (*statements, *incoming, *contents) for t in (q.subject, q.predicate, q.object)
             if isinstance(t, ox.NamedNode)}
    named |= {q.graph_name.value for q in (*statements, *incoming) if isinstance(q.graph_name, ox.NamedNode)}
    return Description(iri=iri, statements=statements, incoming=incoming, incoming_truncated=len(rows) > INCOMING_LIMIT,
                       contents=contents, label_terms=labels_of(store, named),
                       sources=_sources(store, {q.graph_name.value for q in (*statements, *incoming)
                                                if isinstance(q.graph_name, ox.NamedNode)}))


def labels_of(store: Store, iris: set[str]) -> dict[str, ox.Literal]:
    """A label for each IRI that has one (English or untagged preferred, then by the order of LABELS)."""
    if not iris:
        return {}
    values = " ".join(f"<{iri}>" for iri in sorted(iris))
    # One VALUES block and a filter on the predicate: two VALUES blocks would be joined as a cross product first.
    predicates = ", ".join(f"<{p}>" for p in LABELS)
    rows = store.select(f"SELECT DISTINCT ?x ?p ?label WHERE {{ VALUES ?x {{ {values} }} "
                        f"GRAPH ?g {{ ?x ?p ?label }} FILTER (?p IN ({predicates}) && isLiteral(?label)) }}").rows
    best: dict[str, tuple[int, int, str, ox.Literal]] = {}
    for x, p, label in rows:
        assert isinstance(x, ox.NamedNode) and isinstance(p, ox.NamedNode) and isinstance(label, ox.Literal)
        rank = (0 if label.language in (None, "en") else 1, LABELS.index(p.value), label.value, label)
        if x.value not in best or rank[:3] < best[x.value][:3]:
            best[x.value] = rank
    return {iri: rank[3] for iri, rank in best.items()}


def _closure(store: Store, iri: str, genid_prefix: str) -> tuple[ox.Quad, ...]:
    """The statements about iri and, a few levels deep, about the skolemised blank nodes it points to."""
    found: list[ox.Quad] = []
    frontier, seen = [iri], {iri}
    for _ in range(_CLOSURE_DEPTH):
        if not frontier:
            break
        values = " ".join(f"<{node}>" for node in frontier)
        rows = store.select(f"SELECT ?s ?p ?o ?g WHERE {{ VALUES ?s {{ {values} }} GRAPH ?g {{ ?s ?p ?o }} }}").rows
        found += [ox.Quad(*row) for row in rows]  # type: ignore[misc]
        frontier = sorted({o.value for _, _, o, _ in rows if isinstance(o, ox.NamedNode)
                           and o.value.startswith(genid_prefix) and o.value not in seen})
        seen.update(frontier)
    return tuple(sorted(found, key=lambda q: (q.subject.value != iri, str(q))))


def _sources(store: Store, graphs: set[str]) -> dict[str, Source]:
    """What each graph is (an assertion of some kind, an entry) and what it was derived from."""
    if not graphs:
        return {}
    values = " ".join(f"<{g}>" for g in sorted(graphs))
    rows = store.select(
        f"SELECT ?g ?p ?o WHERE {{ VALUES ?g {{ {values} }} GRAPH ?any {{ ?g ?p ?o }} FILTER (?p IN (<{RDF_TYPE}>, "
        f"<{PROV}wasDerivedFrom>, <{PROV}hadPrimarySource>, <{PKG.inferenceReason}>)) }}").rows
    facts: dict[str, dict[str, set[str]]] = {g: {} for g in graphs}
    for g, p, o in rows:
        facts[g.value].setdefault(p.value, set()).add(o.value)  # type: ignore[union-attr]
    sources = {}
    for graph, by in facts.items():
        reasons = sorted(by.get(str(PKG.inferenceReason), ()))
        sources[graph] = Source(graph, tuple(sorted(by.get(RDF_TYPE, ()))),
                                tuple(sorted(by.get(PROV + "wasDerivedFrom", set()) | by.get(PROV + "hadPrimarySource", set()))),
                                reasons[0] if reasons else None)
    return sources


def _retracted(store: Store, iri: str, registry: str) -> bool:
    """Whether the resource was in an entry that is no longer current (its triples are archived there)."""
    needle = ox.Literal(f"<{iri}>")
    return store.ask(f"ASK {{ GRAPH <{registry}> {{ ?entry <{PROV}invalidatedAtTime> ?when ; "
                     f"<{PKG.archivedContent}> ?content FILTER (CONTAINS(?content, {needle})) }} }}")

"""What changed, read from the registry of entries for the Atom feeds (publish/feeds.py): the change stream's
members newest first, for the whole graph or for the entries that touch one concept (with the narrower ones),
organisation or recommendation, and what each entry states.

The members are the change stream's (publish/ldes.py reads the same ones): an entry accepted, as a new entry
or as the revision of another, and an entry retracted. An entry touches a resource when its triples name
one of the resource's anchors, as subject or object. An entry's triples are its graph while it is current,
and the copy archived in the registry once it was revised or retracted: a retraction touches what the entry
it retracts named, and a revision also touches what the version it replaces named, since that may be what
it took out. Each query is anchored on the resource or on the entries found, never a scan of the graph.
"""

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass

import pyoxigraph as ox

from policykg.iris import registry_iri
from policykg.publish.ldes import MEMBERS
from policykg.rdf.namespaces import PKG, PREFIXES
from policykg.rdf.terms import quad_of
from policykg.store import Store

ANCHOR_LIMIT = 1000  # concepts (a concept and the narrower ones) a feed follows at most
SAMPLE = 1000  # triples of a current entry read to tell what it is about
NAMED = 200  # IRIs an entry names as objects that are looked at, at most
RDF_TYPE = PREFIXES["rdf"] + "type"
_TYPE = ox.NamedNode(RDF_TYPE)
_CONCEPT = PREFIXES["skos"] + "Concept"
_NAMES = (PREFIXES["skos"] + "prefLabel", PREFIXES["rdfs"] + "label", PREFIXES["dcterms"] + "title")


@dataclass(frozen=True)
class Kind:
    """A kind of resource that has a feed: the class it has (or a subclass of), and the pattern that binds ?x
    to its anchors, given the resource's IRI in SPARQL."""

    name: str
    cls: str
    anchors: Callable[[str], str]
    scope: str  # what the feed's title says it follows


KINDS = {
    kind.name: kind
    for kind in (
        Kind("concept", _CONCEPT, lambda iri: f"?x skos:broaderTransitive? {iri}", "the concept {} or a narrower one"),
        Kind("organisation", str(PKG.Organisation), lambda iri: f"BIND ({iri} AS ?x)", "the organisation {}"),
        Kind(
            "recommendation",
            str(PKG.Recommendation),
            lambda iri: (
                f"{{ BIND ({iri} AS ?x) }} UNION {{ ?x pkg:recommendation {iri} }} UNION {{ ?x pkg:presents {iri} }}"
            ),
            "the recommendation {}, its status records and presentations",
        ),
    )
}

_KIND_OF = {kind.cls: kind.name for kind in KINDS.values()}
# ?type: a class of some kind (the kind's class or a subclass), ?cls: the kind's class. A path from a variable
# needs its other end given on some engines (Virtuoso: "transitive start not given"): one branch per class.
_KIND_CLASSES = " UNION ".join(
    f"{{ ?type rdfs:subClassOf* {ox.NamedNode(kind.cls)} BIND ({ox.NamedNode(kind.cls)} AS ?cls) }}"
    for kind in KINDS.values()
)


@dataclass(frozen=True)
class Change:
    """A member of the change stream: an entry accepted (new, or revising another) or retracted."""

    member: str
    time: str  # xsd:dateTime, as the registry records it (UTC)
    entry: str  # the entry whose triples it concerns
    agent: str  # who submitted, or retracted, the entry
    previous: str | None  # the entry it revises; for a retraction, the entry retracted
    deleted: bool

    @property
    def action(self) -> str:
        """added, revised or retracted."""
        return "retracted" if self.deleted else "revised" if self.previous else "added"


@dataclass(frozen=True)
class Content:
    """What an entry states, as much as an item shows: how many statements, about what, naming what."""

    statements: int
    subjects: tuple[str, ...]
    types: dict[str, tuple[str, ...]]  # subject -> the classes the entry gives it
    names: dict[str, str]  # IRI -> a label the entry itself gives it
    named: tuple[str, ...]  # the IRIs it names as objects


def kinds_of(store: Store, iri: str, classes: Mapping[str, frozenset[str]] | None = None) -> list[str]:
    """The kinds of feed a resource has (in the order of KINDS), by the classes a named graph gives it;
    classes: what kind_classes gives, if it is at hand (it changes only with the ontology)."""
    types = {
        quad.object.value
        for quad in store.find((ox.NamedNode(iri), _TYPE, None, None))
        if isinstance(quad.object, ox.NamedNode)
    }
    found = kind_classes(store) if classes is None else classes
    return [name for name in KINDS if found[name].intersection(types)]


def kind_classes(store: Store) -> dict[str, frozenset[str]]:
    """For each kind of feed, the classes that make a resource of that kind (its class and its subclasses)."""
    rows = store.select(f"SELECT ?cls ?type WHERE {{ {_KIND_CLASSES} }}", prefixes=PREFIXES).values()
    found: dict[str, set[str]] = {kind.name: {kind.cls} for kind in KINDS.values()}
    for cls, type_ in rows:
        assert cls is not None and type_ is not None  # bound by the pattern
        found[_KIND_OF[cls]].add(type_)
    return {name: frozenset(classes) for name, classes in found.items()}


def touching(store: Store, base_iri: str, kind: Kind, iri: str) -> list[str]:
    """The entries that touch the resource: their triples, current or archived, name one of its anchors;
    and the revisions of those entries."""
    registry = f"<{registry_iri(base_iri)}>"
    anchors = store.select(
        f"SELECT DISTINCT ?x WHERE {{ {kind.anchors(str(ox.NamedNode(iri)))} FILTER (isIRI(?x)) }} "
        f"LIMIT {ANCHOR_LIMIT}",
        prefixes=PREFIXES,
    ).values()
    values = " ".join(f"<{x}>" for (x,) in anchors)
    # VALUES inside each branch: the union is then anchored on the IRIs, never evaluated over every quad.
    current = store.select(
        f"SELECT DISTINCT ?entry WHERE {{ {{ VALUES ?x {{ {values} }} GRAPH ?entry {{ ?x ?p ?o }} }} "
        f"UNION {{ VALUES ?x {{ {values} }} GRAPH ?entry {{ ?s ?p ?x }} }} "
        f"GRAPH {registry} {{ ?entry a pkg:Entry }} }}",
        prefixes=PREFIXES,
    ).values()
    needles = " ".join(str(ox.Literal(f"<{x}>")) for (x,) in anchors)  # an IRI as archived N-Triples write it
    archived = store.select(
        f"SELECT DISTINCT ?entry WHERE {{ VALUES ?needle {{ {needles} }} GRAPH {registry} "
        "{ ?entry pkg:archivedContent ?text } FILTER (CONTAINS(?text, ?needle)) }",
        prefixes=PREFIXES,
    ).values()
    found = {str(entry) for (entry,) in current + archived}
    if not found:
        return []
    revisions = store.select(
        f"SELECT DISTINCT ?entry WHERE {{ VALUES ?old {{ {_iris(found)} }} GRAPH {registry} "
        "{ ?entry prov:wasRevisionOf ?old } }",
        prefixes=PREFIXES,
    ).values()
    return sorted(found | {str(entry) for (entry,) in revisions})


def changes(store: Store, base_iri: str, entries: Sequence[str] | None, limit: int, offset: int = 0) -> list[Change]:
    """The members of the change stream, newest first; only those of the given entries, if given."""
    if entries is not None and not entries:
        return []
    among = "" if entries is None else f"VALUES ?entry {{ {_iris(entries)} }}"
    rows = store.select(
        f"SELECT ?member ?time ?entry ?agent ?previous ?deleted WHERE {{ {among} "
        f"GRAPH <{registry_iri(base_iri)}> {{ {MEMBERS} }} }} "
        f"ORDER BY DESC(?time) DESC(?member) LIMIT {int(limit)} OFFSET {int(offset)}",
        prefixes=PREFIXES,
    ).values()
    return [
        Change(str(member), str(time), str(entry), str(agent), previous, deleted is not None)
        for member, time, entry, agent, previous, deleted in rows
    ]


def contents(store: Store, base_iri: str, entries: Iterable[str]) -> dict[str, Content]:
    """What each entry states: its graph while current, else the triples archived when it was retired."""
    wanted = sorted(set(entries))
    if not wanted:
        return {}
    archived = {
        str(entry): str(text)
        for entry, text in store.select(
            f"SELECT ?entry ?text WHERE {{ VALUES ?entry {{ {_iris(wanted)} }} "
            f"GRAPH <{registry_iri(base_iri)}> {{ ?entry pkg:archivedContent ?text }} }}",
            prefixes=PREFIXES,
        ).values()
    }
    current = [entry for entry in wanted if entry not in archived]
    counts = (
        {
            str(entry): int(n or 0)
            for entry, n in store.select(
                f"SELECT ?entry (COUNT(*) AS ?n) WHERE {{ VALUES ?entry {{ {_iris(current)} }} "
                "GRAPH ?entry { ?s ?p ?o } } GROUP BY ?entry"
            ).values()
        }
        if current
        else {}
    )
    found = {}
    for entry in wanted:
        text = archived.get(entry)
        if text is not None:
            parsed = ox.parse(text.encode("utf-8"), format=ox.RdfFormat.N_TRIPLES)
            quads = [quad_of(t.subject, t.predicate, t.object) for t in parsed]
            count = len(quads)
        else:
            sample = store.select(f"SELECT ?s ?p ?o WHERE {{ GRAPH <{entry}> {{ ?s ?p ?o }} }} LIMIT {SAMPLE}").rows
            quads = [quad_of(*row) for row in sample]
            count = counts.get(entry) or len(quads)
        found[entry] = _content(quads, count)
    return found


def concepts_among(store: Store, named: set[str]) -> set[str]:
    """Which of the IRIs are concepts (of skos:Concept or a subclass of it)."""
    return _of_class(store, named, _CONCEPT)


def _of_class(store: Store, iris: set[str], cls: str) -> set[str]:
    """Which of the IRIs have the class, or a subclass of it, as a type."""
    if not iris:
        return set()
    rows = store.select(
        f"SELECT DISTINCT ?x WHERE {{ VALUES ?x {{ {_iris(iris)} }} ?x a ?type . "
        f"?type rdfs:subClassOf* {ox.NamedNode(cls)} }}",
        prefixes=PREFIXES,
    ).values()
    return {str(x) for (x,) in rows}


def _content(quads: list[ox.Quad], count: int) -> Content:
    subjects: dict[str, None] = {}
    types: dict[str, list[str]] = {}
    names: dict[str, str] = {}
    named: dict[str, None] = {}
    for quad in quads:
        if not isinstance(quad.subject, ox.NamedNode):
            continue
        subject = quad.subject.value
        subjects.setdefault(subject)
        if quad.predicate.value == RDF_TYPE and isinstance(quad.object, ox.NamedNode):
            types.setdefault(subject, []).append(quad.object.value)
        elif quad.predicate.value in _NAMES and isinstance(quad.object, ox.Literal):
            if quad.object.language in (None, "en") or subject not in names:
                names.setdefault(subject, quad.object.value)
        elif isinstance(quad.object, ox.NamedNode):
            named.setdefault(quad.object.value)
    return Content(
        count,
        tuple(subjects),
        {subject: tuple(sorted(found)) for subject, found in types.items()},
        names,
        tuple(named)[:NAMED],
    )


def _iris(iris: Iterable[str]) -> str:
    return " ".join(str(ox.NamedNode(iri)) for iri in sorted(iris))

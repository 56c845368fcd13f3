"""What the full-text index holds of each resource: the literals a person reads, and the values to narrow by.

A few SPARQL queries read them for a batch of subjects at once (never one query per resource), over every named
graph, so that they work the same on every backend: each subject's own statements (sorted out here, not by a
FILTER over the predicate: Virtuoso took 2 s per 200 subjects over that), the status records pointing at them,
the dates and organisers of the events they link to, and which of the things they link to are organisations.
The whole store is read as batches too: the subjects with readable text are listed first, one property at a
time, so that no query grows with the store (one query over everything took 15 s at a million triples, and was
cut off by a remote engine's time limit at ten million).
"""

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

import pyoxigraph as ox

from policykg.rdf.namespaces import PREFIXES
from policykg.store import Store

_P = PREFIXES
_FOAF = "http://xmlns.com/foaf/0.1/"

# Names and titles: a hit's heading, weighed more than the rest. The first found in this order is the title.
NAME_PROPERTIES = (
    _P["skos"] + "prefLabel",
    _P["dcterms"] + "title",
    _P["schema"] + "name",
    _P["rdfs"] + "label",
    _FOAF + "name",
    _P["skos"] + "altLabel",
    _P["skos"] + "hiddenLabel",
    _P["dcterms"] + "alternative",
    _P["schema"] + "alternateName",
    _P["schema"] + "headline",
    _P["schema"] + "givenName",
    _P["schema"] + "familyName",
    _FOAF + "givenName",
    _FOAF + "familyName",
)
# Longer text: definitions, descriptions, full texts and the excerpts of sources.
TEXT_PROPERTIES = (
    _P["skos"] + "definition",
    _P["skos"] + "scopeNote",
    _P["skos"] + "note",
    _P["rdfs"] + "comment",
    _P["dcterms"] + "description",
    _P["dcterms"] + "abstract",
    _P["schema"] + "description",
    _P["schema"] + "text",
    _P["schema"] + "abstract",
    _P["prov"] + "value",
    _P["pkg"] + "fullText",
)
_RANK = {iri: rank for rank, iri in enumerate(NAME_PROPERTIES)}

_EVENT_LINKS = ("issuedAt", "atEvent", "presentedAt")
_FACET_LINKS = {
    **{_P["pkg"] + name: "concept" for name in ("concerns", "mainTopic")},
    _P["dcterms"] + "subject": "concept",
    **{_P["pkg"] + name: "event" for name in _EVENT_LINKS},
}
_OWN_DATES = (_P["schema"] + "startDate", _P["pkg"] + "statusDate", _P["dcterms"] + "issued", _P["dcterms"] + "date")
_READABLE = frozenset((*NAME_PROPERTIES, *TEXT_PROPERTIES))
_TYPE = _P["rdf"] + "type"
_EVENT_PROPERTIES = frozenset(_P["pkg"] + name for name in _EVENT_LINKS)
_EVENT_FACTS = {_P["schema"] + "startDate": "year", _P["pkg"] + "organisedBy": "organiser"}
BATCH = 2000  # subjects per query


@dataclass
class Document:
    """One resource as the index holds it."""

    iri: str
    names: list[tuple[int, str, str]] = field(default_factory=list)  # (rank of the property, language, text)
    texts: list[str] = field(default_factory=list)
    types: set[str] = field(default_factory=set)
    concepts: set[str] = field(default_factory=set)
    events: set[str] = field(default_factory=set)
    organisations: set[str] = field(default_factory=set)
    statuses: set[str] = field(default_factory=set)
    own_years: set[int] = field(default_factory=set)
    event_years: set[int] = field(default_factory=set)

    @property
    def labels(self) -> list[str]:
        """The names, the title first (an English one before others), each once."""
        ordered = sorted(self.names, key=lambda n: (n[0], n[1] not in ("en", ""), n[2]))
        return list(dict.fromkeys(text for _, _, text in ordered))

    @property
    def years(self) -> set[int]:
        """The years the resource is of: its own dates, else those of its event."""
        return self.own_years or self.event_years


def read_documents(store: Store, subjects: Iterable[str] | None = None) -> Iterator[Document]:
    """The documents of the given subjects that have readable text (None: of every resource in the store)."""
    chosen = readable_subjects(store) if subjects is None else sorted(set(subjects))
    kinds = organisation_classes(store)
    for start in range(0, len(chosen), BATCH):
        yield from _read(store, chosen[start : start + BATCH], kinds)


def readable_subjects(store: Store) -> list[str]:
    """Every resource of the store that has readable text, each once, in order."""
    found: set[str] = set()
    for p in (*NAME_PROPERTIES, *TEXT_PROPERTIES):
        rows = store.select(
            f"SELECT DISTINCT ?s WHERE {{ GRAPH ?g {{ ?s <{p}> ?o }} FILTER (isIRI(?s) && isLiteral(?o)) }}"
        ).values()
        found.update(s for (s,) in rows if s)
    return sorted(found)


def organisation_classes(store: Store) -> list[str]:
    """Organisation and every class the ontology puts below it."""
    rows = store.select(
        f"SELECT DISTINCT ?c WHERE {{ GRAPH ?g {{ ?c <{_P['rdfs']}subClassOf>* <{_P['pkg']}Organisation> }} }}"
    ).values()
    return sorted({c for (c,) in rows if c} | {_P["pkg"] + "Organisation"})


def _read(store: Store, subjects: list[str], organisation_kinds: list[str]) -> Iterator[Document]:
    """The documents of a batch of subjects: their statements, then what the facets need of the things they link."""
    documents: dict[str, Document] = {}
    facts: list[tuple[str, str, ox.NamedNode | ox.BlankNode | ox.Literal]] = []
    for s, p, o in store.select(f"SELECT ?s ?p ?o WHERE {{ {_values('s', subjects)} GRAPH ?g {{ ?s ?p ?o }} }}").rows:
        if not isinstance(s, ox.NamedNode) or p is None or o is None or isinstance(o, ox.Triple):
            continue
        if p.value in _READABLE and isinstance(o, ox.Literal):
            document = documents.setdefault(s.value, Document(s.value))
            if p.value in _RANK:
                document.names.append((_RANK[p.value], o.language or "", o.value))
            else:
                document.texts.append(o.value)
        else:
            facts.append((s.value, p.value, o))
    if documents:
        _add_facets(store, documents, facts, organisation_kinds)
    yield from documents.values()


def _add_facets(
    store: Store,
    documents: dict[str, Document],
    facts: list[tuple[str, str, ox.NamedNode | ox.BlankNode | ox.Literal]],
    organisation_kinds: list[str],
) -> None:
    """Fill in each document's types, concepts, events, organisations, statuses and years."""
    events: dict[str, set[str]] = {}  # event -> the documents linking to it
    linked: dict[str, set[str]] = {}  # a thing linked to -> the documents linking to it (organisations among them)
    for s, p, o in facts:
        document = documents.get(s)
        if document is None:
            continue
        kind = _FACET_LINKS.get(p)
        if p == _TYPE:
            document.types.add(o.value)
        elif kind == "concept":
            document.concepts.add(o.value)
        elif kind == "event":
            document.events.add(o.value)
        elif p in _OWN_DATES:
            _add_year(document.own_years, o.value)
        if p in _EVENT_PROPERTIES and isinstance(o, ox.NamedNode):
            events.setdefault(o.value, set()).add(s)
        if isinstance(o, ox.NamedNode):
            linked.setdefault(o.value, set()).add(s)
    names = sorted(documents)
    record = f"GRAPH ?g {{ ?r <{_P['pkg']}recommendation> ?s }} GRAPH ?h {{ ?r <{_P['pkg']}status> ?v }}"
    for subject, status in store.select(f"SELECT ?s ?v WHERE {{ {_values('s', names)} {record} }}").values():
        if subject in documents and status is not None:
            documents[subject].statuses.add(status)
    organisers: dict[str, set[str]] = {}  # an organiser of a linked event -> the documents linking to the event
    for event, fact, v in _event_facts(store, sorted(events)):
        for s in events.get(event or "", ()):
            if _EVENT_FACTS.get(fact or "") == "year" and v is not None:
                _add_year(documents[s].event_years, v)
            elif v is not None:
                organisers.setdefault(v, set()).add(s)
    for organisation in _organisations(store, sorted(linked.keys() | organisers.keys()), organisation_kinds):
        for s in linked.get(organisation, set()) | organisers.get(organisation, set()):
            documents[s].organisations.add(organisation)


def _event_facts(store: Store, events: list[str]) -> Iterator[tuple[str | None, str | None, str | None]]:
    """The start dates and organisers of events, as (event, property, value)."""
    branches = " UNION ".join(f"{{ GRAPH ?g {{ ?e <{p}> ?v }} BIND (<{p}> AS ?p) }}" for p in _EVENT_FACTS)
    for start in range(0, len(events), BATCH):
        chosen = events[start : start + BATCH]
        rows = store.select(f"SELECT ?e ?p ?v WHERE {{ {_values('e', chosen)} {branches} }}").values()
        yield from ((event, p, v) for event, p, v in rows)


def _organisations(store: Store, things: list[str], kinds: list[str]) -> set[str]:
    """Which of the things are organisations (of a class at or below Organisation)."""
    found: set[str] = set()
    wanted = set(kinds)
    for start in range(0, len(things), BATCH):
        # The classes sorted out here: with a second VALUES block, Oxigraph read every typed thing (0.5 s a batch).
        rows = store.select(
            f"SELECT ?v ?c WHERE {{ {_values('v', things[start : start + BATCH])} GRAPH ?g {{ ?v a ?c }} }}"
        )
        found.update(v for v, c in rows.values() if v and c in wanted)
    return found


def _values(name: str, iris: list[str]) -> str:
    return f"VALUES ?{name} {{ {' '.join(f'<{iri}>' for iri in iris)} }}"


def _add_year(years: set[int], value: str) -> None:
    year = value[:4]
    if len(year) == 4 and year.isdigit():
        years.add(int(year))

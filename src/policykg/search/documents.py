"""What the full-text index holds of each resource: the literals a person reads, and the values to narrow by.

A few SPARQL queries read them for a batch of subjects at once (never one query per resource), over every named
graph, so that they work the same on every backend. The whole store is read as batches too: the subjects with
readable text are listed first, one property at a time, so that no query grows with the store (one query over
everything took 15 s at a million triples, and was cut off by a remote engine's time limit at ten million;
batches of 2,000 read the same in 9 s).
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
_EVENT_PATH = "|".join(f"<{_P['pkg']}{name}>" for name in _EVENT_LINKS)
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
    for start in range(0, len(chosen), BATCH):
        values = " ".join(f"<{iri}>" for iri in chosen[start : start + BATCH])
        yield from _read(store, f"VALUES ?s {{ {values} }}")


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


def _read(store: Store, values: str) -> Iterator[Document]:
    documents: dict[str, Document] = {}
    # The properties as a FILTER, not a VALUES block: joined with VALUES, Oxigraph read every statement of
    # those properties (0.5 s for 30 subjects at a million triples); filtered, each subject's own (2 ms).
    readable = ", ".join(f"<{p}>" for p in (*NAME_PROPERTIES, *TEXT_PROPERTIES))
    rows = store.select(
        f"SELECT ?s ?p ?o WHERE {{ {values} GRAPH ?g {{ ?s ?p ?o }} "
        f"FILTER (?p IN ({readable}) && isIRI(?s) && isLiteral(?o)) }}"
    ).rows
    for s, p, o in rows:
        if s is None or p is None or not isinstance(o, ox.Literal):
            continue
        document = documents.setdefault(s.value, Document(s.value))
        if p.value in _RANK:
            document.names.append((_RANK[p.value], o.language or "", o.value))
        else:
            document.texts.append(o.value)
    if documents:
        _add_facets(store, values, documents)
    yield from documents.values()


def _add_facets(store: Store, values: str, documents: dict[str, Document]) -> None:
    """Fill in each document's types, concepts, events, organisations, statuses and years."""
    links = ", ".join(f"<{p}>" for p in _FACET_LINKS)
    dates = ", ".join(f"<{p}>" for p in _OWN_DATES)
    kinds = " ".join(f"<{c}>" for c in organisation_classes(store))
    # Asked of each value found (EXISTS), not joined with every organisation of the store.
    organisation = f"FILTER EXISTS {{ VALUES ?c {{ {kinds} }} GRAPH ?h {{ ?v a ?c }} }}"
    # Each branch starts from the subjects (in VALUES): a branch left to itself (every organisation and
    # whatever links to it) was read whole before the join, 2 s a write at a million triples; now 2 ms.
    branches = (
        'GRAPH ?g { ?s a ?v } BIND ("type" AS ?kind)',
        f"GRAPH ?g {{ ?s ?p ?v }} FILTER (?p IN ({links})) BIND (STR(?p) AS ?kind)",  # the kind: _FACET_LINKS
        f"GRAPH ?g {{ ?r <{_P['pkg']}recommendation> ?s }} GRAPH ?h {{ ?r <{_P['pkg']}status> ?v }} "
        'BIND ("status" AS ?kind)',
        f'GRAPH ?g {{ ?s ?p ?v }} FILTER (?p IN ({dates})) BIND ("year" AS ?kind)',
        f"GRAPH ?g {{ ?s {_EVENT_PATH} ?e }} GRAPH ?h {{ ?e <{_P['schema']}startDate> ?v }} "
        'BIND ("eventyear" AS ?kind)',
        f'GRAPH ?g {{ ?s ?p ?v }} {organisation} BIND ("organisation" AS ?kind)',
        f"GRAPH ?g {{ ?s {_EVENT_PATH} ?e }} GRAPH ?i {{ ?e <{_P['pkg']}organisedBy> ?v }} {organisation} "
        'BIND ("organisation" AS ?kind)',
    )
    sparql = "SELECT ?s ?kind ?v WHERE { " + " UNION ".join(f"{{ {values} {b} }}" for b in branches) + " }"
    for s, found, v in store.select(sparql).values():
        document = documents.get(s or "")
        if document is None or v is None:
            continue
        kind = _FACET_LINKS.get(found or "", found)
        if kind in ("year", "eventyear"):
            year = v[:4]
            if len(year) == 4 and year.isdigit():
                (document.own_years if kind == "year" else document.event_years).add(int(year))
        elif kind == "type":
            document.types.add(v)
        elif kind == "concept":
            document.concepts.add(v)
        elif kind == "event":
            document.events.add(v)
        elif kind == "status":
            document.statuses.add(v)
        elif kind == "organisation":
            document.organisations.add(v)

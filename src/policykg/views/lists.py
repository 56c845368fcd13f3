"""Lists for people: recommendations, events, organisations and concepts, filtered, sorted and paged.

Each list is one SPARQL query made here from the filters a person chose (every IRI checked, every number
read as a number: nothing a client sends is pasted into the query as it came), run as it is, and shown
with its rows so that an analyst can take the query to the query page and change it. "A concept" always
means the concept or any narrower one (skos:broader*, read as skos:broaderTransitive?: model/closure.py).
"""

from dataclasses import dataclass, field

import pyoxigraph as ox

from policykg.errors import ProtocolError
from policykg.rdf.namespaces import ONTOLOGY_IRI, PKG
from policykg.sparql.protocol import check_iri
from policykg.store import Store

PAGE_SIZE = 50
MOST_ROWS = 10_000  # a list, and its downloads, hold at most this many rows (the first by the chosen order)
MOST_CHOICES = 500  # the form offers at most this many values of a filter (others can still be given by IRI)
_PREFIXES = """PREFIX pkg: <https://w3id.org/policykg/ontology#>
PREFIX skos: <http://www.w3.org/2004/02/skos/core#>
PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>
PREFIX dcterms: <http://purl.org/dc/terms/>
PREFIX schema: <https://schema.org/>
PREFIX cv: <http://data.europa.eu/m8g/>
"""
# Which classes an IRI given for a filter must be an instance of (or, for a status, the value's class).
_FILTER_CLASSES = {
    "concept": "http://www.w3.org/2004/02/skos/core#Concept",
    "event": str(PKG.Event),
    "organisation": str(PKG.Organisation),
    "status": str(PKG.RecommendationStatus),
}
_FILTER_NAMES = {"concept": "a concept", "event": "an event", "organisation": "an organisation", "status": "a status"}


@dataclass(frozen=True)
class Column:
    """A column of a list: its variable, its heading, and the variable holding its link (if any)."""

    name: str
    heading: str
    link: str | None = None


@dataclass(frozen=True)
class Kind:
    """One list: its title, columns, the filters it takes, its sort keys (key -> variable) and its query's body."""

    name: str
    title: str
    columns: tuple[Column, ...]
    filters: tuple[str, ...]
    sorts: dict[str, str]  # the first is the default, descending for a date
    select: str  # the projection (with aggregates)
    body: str  # the graph pattern, with {filters} where the chosen filters' patterns go
    group: str  # the GROUP BY variables


@dataclass(frozen=True)
class Choice:
    """What a person chose: filters by name (IRIs and years), the sort key, the page."""

    filters: dict[str, str] = field(default_factory=dict)
    sort: str = ""
    page: int = 1


@dataclass(frozen=True)
class Listing:
    """A list as made: its query, all its rows (at most MOST_ROWS), and whether more were cut off."""

    kind: Kind
    query: str
    columns: tuple[str, ...]
    rows: list[dict[str, str]]
    cut: bool

    def page(self, number: int) -> list[dict[str, str]]:
        """The rows of one page (counted from 1)."""
        return self.rows[(number - 1) * PAGE_SIZE : number * PAGE_SIZE]

    @property
    def pages(self) -> int:
        """How many pages the rows take (1 at least)."""
        return max(1, -(-len(self.rows) // PAGE_SIZE))


_EVENT_TYPES = f"GRAPH <{ONTOLOGY_IRI}> {{ ?type rdfs:subClassOf* pkg:Event }}"
_CONCEPT_TYPES = f"GRAPH <{ONTOLOGY_IRI}> {{ ?conceptType rdfs:subClassOf* skos:Concept }}"
# The engine evaluates an OPTIONAL of one pattern row by row, and one of several whole before joining it: each
# recommendation's status records are found, then each one's status label looked up, and a record without one
# dropped (the FILTER: the same rows as both in one OPTIONAL). A filtered list of a few recommendations no
# longer reads every status record of the graph (1,000,000 triples: 0.55 s to under 10 ms).
KINDS: dict[str, Kind] = {
    "recommendations": Kind(
        "recommendations",
        "Recommendations",
        (
            Column("title", "Recommendation", "item"),
            Column("eventLabel", "Issued at", "event"),
            Column("date", "Date"),
            Column("statuses", "Statuses"),
        ),
        ("concept", "event", "organisation", "status", "from", "to"),
        {"date": "?date", "title": "LCASE(STR(?title))"},
        "?item (SAMPLE(?label) AS ?title) (SAMPLE(?issued) AS ?event) (SAMPLE(?issuedLabel) AS ?eventLabel) "
        '(MIN(?start) AS ?date) (GROUP_CONCAT(DISTINCT ?statusLabel; separator=", ") AS ?statuses)',
        """?item a pkg:Recommendation .
  {filters}
  OPTIONAL { ?item dcterms:title ?label }
  OPTIONAL {
    ?item pkg:issuedAt ?issued .
    OPTIONAL { ?issued rdfs:label ?issuedLabel }
    OPTIONAL { ?issued schema:startDate ?start }
  }
  OPTIONAL {
    ?record pkg:recommendation ?item .
    OPTIONAL { ?record pkg:status/rdfs:label ?statusLabel }
    FILTER (BOUND(?statusLabel))
  }""",
        "?item",
    ),
    "events": Kind(
        "events",
        "Events",
        (
            Column("label", "Event", "item"),
            Column("typeLabel", "Kind"),
            Column("date", "Date"),
            Column("organisers", "Organised by"),
        ),
        ("concept", "organisation", "from", "to"),
        {"date": "?date", "label": "LCASE(STR(?label))"},
        "?item (SAMPLE(?name) AS ?label) (SAMPLE(?kind) AS ?typeLabel) (MIN(?start) AS ?date) "
        '(GROUP_CONCAT(DISTINCT ?organiser; separator=", ") AS ?organisers)',
        f"""{_EVENT_TYPES}
  ?item a ?type .
  {{filters}}
  OPTIONAL {{ ?item rdfs:label ?name }}
  OPTIONAL {{ GRAPH <{ONTOLOGY_IRI}> {{ ?type rdfs:label ?kind }} }}
  OPTIONAL {{ ?item schema:startDate ?start }}
  OPTIONAL {{ ?item pkg:organisedBy/rdfs:label ?organiser }}""",
        "?item",
    ),
    "organisations": Kind(
        "organisations",
        "Organisations",
        (Column("label", "Organisation", "item"), Column("events", "Events organised or attended")),
        ("event",),
        {"label": "LCASE(STR(?label))", "events": "?events"},
        "?item (SAMPLE(?name) AS ?label) (COUNT(DISTINCT ?took) AS ?events)",
        """?item a pkg:Organisation .
  {filters}
  OPTIONAL { ?item rdfs:label ?name }
  OPTIONAL { { ?took pkg:organisedBy ?item } UNION { ?took cv:hasParticipation/cv:hasParticipant ?item } }""",
        "?item",
    ),
    "concepts": Kind(  # every kind of concept: the policy concepts, the instruments, the provisions' concepts …
        "concepts",
        "Concepts",
        (
            Column("label", "Concept", "item"),
            Column("broaderLabel", "Broader concept", "broader"),
            Column("recommendations", "Recommendations"),
        ),
        ("concept",),
        {"label": "LCASE(STR(?label))", "recommendations": "?recommendations"},
        "?item (SAMPLE(?name) AS ?label) (SAMPLE(?up) AS ?broader) (SAMPLE(?upLabel) AS ?broaderLabel) "
        "(COUNT(DISTINCT ?recommendation) AS ?recommendations)",
        f"""{_CONCEPT_TYPES}
  ?item a ?conceptType .
  {{filters}}
  OPTIONAL {{ ?item skos:prefLabel ?name }}
  OPTIONAL {{ ?item skos:broader ?up . OPTIONAL {{ ?up skos:prefLabel ?upLabel }} }}
  OPTIONAL {{ ?recommendation pkg:concerns ?item }}""",
        "?item",
    ),
}


def read_choice(kind: Kind, params: dict[str, str], sort: str | None, page: int) -> Choice:
    """The filters, sort and page a request asks for, each checked (ProtocolError says which is wrong, and why)."""
    filters: dict[str, str] = {}
    for name, value in params.items():
        if not value:
            continue
        if name not in kind.filters:
            known = ", ".join(kind.filters)
            raise ProtocolError(f"the list of {kind.name} takes no filter {name!r}; it takes: {known}")
        if name in ("from", "to"):
            if not (value.isascii() and value.isdigit() and len(value) == 4):
                raise ProtocolError(f"{name}={value!r} is not a year such as 2024")
        else:
            check_iri(value, name)
        filters[name] = value
    if "from" in filters and "to" in filters and filters["from"] > filters["to"]:
        raise ProtocolError(f"the years run backwards: from {filters['from']} to {filters['to']}")
    key = (sort or "").removeprefix("-")
    if sort and key not in kind.sorts:
        raise ProtocolError(
            f"sort={sort!r}: the list of {kind.name} sorts by {', '.join(kind.sorts)} (- for descending)"
        )
    if page < 1:
        raise ProtocolError(f"page={page}: pages are counted from 1")
    first = next(iter(kind.sorts))
    return Choice(filters, sort or ("-" + first if first == "date" else first), page)


def check_known(store: Store, choice: Choice) -> None:
    """Refuse a filter whose IRI is not of its kind in the graph (an unknown concept, event, organisation, status)."""
    for name, value in choice.filters.items():
        if name in _FILTER_CLASSES:
            typed = f"?x rdfs:subClassOf* <{_FILTER_CLASSES[name]}>"
            if not store.ask(f"{_PREFIXES}ASK {{ <{value}> a ?x . GRAPH <{ONTOLOGY_IRI}> {{ {typed} }} }}"):
                raise ProtocolError(f"{name}=<{value}> is not {_FILTER_NAMES[name]} of this graph")


def build_query(kind: Kind, choice: Choice) -> str:
    """The SPARQL that makes the list: the kind's pattern with the chosen filters, grouped, ordered, bounded."""
    patterns = [
        _pattern(kind.name, name, value) for name, value in choice.filters.items() if name not in ("from", "to")
    ]
    years = [
        f"YEAR(MIN(?start)) {'>=' if name == 'from' else '<='} {int(value)}"
        for name, value in choice.filters.items()
        if name in ("from", "to")
    ]
    key = choice.sort.removeprefix("-")
    order = f"DESC({kind.sorts[key]})" if choice.sort.startswith("-") else kind.sorts[key]
    body = kind.body.replace("{filters}", "\n  ".join(patterns) or "")
    having = f"\nHAVING ({' && '.join(years)})" if years else ""
    return (
        f"{_PREFIXES}SELECT {kind.select} WHERE {{\n  {body}\n}}\nGROUP BY {kind.group}{having}\n"
        f"ORDER BY {order} ?item\nLIMIT {MOST_ROWS + 1}"
    )


def make_listing(store: Store, kind: Kind, choice: Choice) -> Listing:
    """Run the list's query: its rows as text (IRIs and literals' values), at most MOST_ROWS of them."""
    query = build_query(kind, choice)
    solutions = store.select(query)
    names = solutions.variables
    rows = [
        {name: "" if value is None else value for name, value in zip(names, row, strict=True)}
        for row in solutions.values()
    ]
    return Listing(kind, query, names, rows[:MOST_ROWS], len(rows) > MOST_ROWS)


def choices(store: Store) -> dict[str, list[tuple[str, str]]]:
    """The values the filter form offers: (IRI, label) of concepts, events, organisations and statuses."""
    queries = {
        "concept": f"{_CONCEPT_TYPES} ?v a ?conceptType . OPTIONAL {{ ?v skos:prefLabel ?l }}",
        "event": f"{_EVENT_TYPES} ?v a ?type . OPTIONAL {{ ?v rdfs:label ?l }}",
        "organisation": "?v a pkg:Organisation . OPTIONAL { ?v rdfs:label ?l }",
        "status": "?v a pkg:RecommendationStatus . OPTIONAL { ?v rdfs:label ?l }",
    }
    found = {}
    for name, pattern in queries.items():
        rows = store.select(
            f"{_PREFIXES}SELECT ?v (SAMPLE(?l) AS ?label) WHERE {{ {pattern} }} GROUP BY ?v "
            f"ORDER BY LCASE(STR(SAMPLE(?l))) LIMIT {MOST_CHOICES}"
        ).values()
        found[name] = [(str(iri), str(label or iri)) for iri, label in rows]
    return found


def _pattern(kind: str, name: str, iri: str) -> str:
    """The graph pattern of one filter on a list; the IRI is checked (check_iri) and written as an IRI."""
    node = str(ox.NamedNode(iri))
    subject = {"recommendations": "?item pkg:concerns", "events": "?item dcterms:subject|pkg:mainTopic"}
    if name == "concept" and kind == "concepts":
        return f"?item skos:broaderTransitive? {node} ."
    if name == "concept":
        return f"?about skos:broaderTransitive? {node} . {subject[kind]} ?about ."
    if name == "event" and kind == "recommendations":
        return f"{{ ?item pkg:issuedAt {node} }} UNION {{ ?shown pkg:presents ?item ; pkg:presentedAt {node} }}"
    if name == "event":  # organisations: those that organised the event or took part in it
        return f"{{ {node} pkg:organisedBy ?item }} UNION {{ {node} cv:hasParticipation/cv:hasParticipant ?item }}"
    if name == "organisation" and kind == "recommendations":
        return f"?item pkg:issuedAt/pkg:organisedBy {node} ."
    if name == "organisation":
        return f"{{ ?item pkg:organisedBy {node} }} UNION {{ ?item cv:hasParticipation/cv:hasParticipant {node} }}"
    return f"?statusRecord pkg:recommendation ?item ; pkg:status {node} ."  # status

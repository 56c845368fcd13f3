"""Policy tracking views: the events in time, a recommendation's trail, what touches a policy concept, and
what the graph holds (for the home page).

Each view reads the union of the graphs with a query or two, bounded by VIEW_LIMIT. A date comes with
the graph it was stated in, so a date that policykg inferred (say, a year the source does not give) is
shown as inferred.
"""

from dataclasses import dataclass

import pyoxigraph as ox

from policykg.model.questions import get_question
from policykg.rdf.namespaces import PREFIXES
from policykg.store import Store

_PREFIXES = {name: PREFIXES[name] for name in ("pkg", "rdfs", "schema", "skos", "rdf")}
VIEW_LIMIT = 500  # rows a view shows at most; the SPARQL endpoint answers for more
UNKNOWN_YEAR = "unknown"
UNNAMED_STEP = "status record"  # what a step of a trail with no label of its own is called
_READ_LIMIT = 20 * VIEW_LIMIT  # rows a view reads at most before ordering them by date


@dataclass(frozen=True)
class Moment:
    """Something that happened (or was recorded) at a date, as the views list it."""

    iri: str
    label: str
    kind: str  # the class or status, as a label
    date: str | None  # an xsd:date, or None when only a day and month (pkg:startMonthDay) are known
    month_day: str | None  # "--MM-DD" when that is all the sources state
    inferred: bool  # the date comes from an inferred assertion
    place: str | None = None  # where: an event's IRI, for a status record or presentation
    place_label: str | None = None
    issued: int = 0  # for an event: recommendations issued there
    presented: int = 0  # for an event: recommendations presented there

    @property
    def year(self) -> str | None:
        """The year, for grouping on a timeline."""
        return self.date[:4] if self.date else None

    @property
    def when(self) -> str:
        """The date as people read it, with what is not known left out."""
        if self.date:
            return self.date
        if self.month_day:
            return self.month_day.removeprefix("--") + " (year not stated)"
        return "date not known"


# Every event with its most specific class, and its start date with whether an inferred assertion states it.
# The default graph is the union of the graphs: a triple that k entries state comes k times. Each part is
# made distinct before it is joined, or an event restated by many entries would cost k³ rows.
_EVENTS = """
          { SELECT DISTINCT ?event ?type WHERE { ?event a ?type } }
          ?type rdfs:subClassOf* pkg:Event .
          FILTER NOT EXISTS { ?event a ?narrower . ?narrower rdfs:subClassOf* ?type FILTER (?narrower != ?type) }
          OPTIONAL { SELECT DISTINCT ?event ?start ?isInferred WHERE { GRAPH ?g { ?event schema:startDate ?start }
                     BIND (EXISTS { ?g a pkg:InferredAssertion } AS ?isInferred) } }"""


def years(store: Store) -> list[tuple[str, int]]:
    """How many events each year has, oldest first; events with no known year come last, as UNKNOWN_YEAR."""
    rows = store.select(
        f"""SELECT ?year (COUNT(?event) AS ?n) WHERE {{
          {{ SELECT ?event (MIN(?start) AS ?date) WHERE {{ {_EVENTS} }} GROUP BY ?event }}
          BIND (COALESCE(STR(YEAR(?date)), "{UNKNOWN_YEAR}") AS ?year) }} GROUP BY ?year ORDER BY ?year""",
        prefixes=_PREFIXES,
    ).values()
    found = [(str(year), int(n or 0)) for year, n in rows]
    return sorted(found, key=lambda item: (item[0] == UNKNOWN_YEAR, item[0]))


def timeline(store: Store, year: str | None = None, limit: int = VIEW_LIMIT) -> list[Moment]:
    """The events (of any subclass of pkg:Event) of one year, or all, oldest first; undated ones last."""
    having = ""
    if year == UNKNOWN_YEAR:
        having = "HAVING (COUNT(?start) = 0)"
    elif year is not None:
        having = f"HAVING (YEAR(MIN(?start)) = {int(year)})"
    # Ordered outside the grouping: some engines (Virtuoso) refuse ORDER BY on an aggregate's alias.
    rows = store.select(
        f"""
        SELECT ?event ?label ?kind ?date ?monthDay ?inferred WHERE {{ {{
          SELECT ?event (SAMPLE(?name) AS ?label) (SAMPLE(?typeName) AS ?kind) (MIN(?start) AS ?date)
                 (SAMPLE(?md) AS ?monthDay) (MAX(?isInferred) AS ?inferred) WHERE {{ {_EVENTS}
            OPTIONAL {{ ?type rdfs:label ?typeName FILTER (langMatches(lang(?typeName), "en")) }}
            OPTIONAL {{ ?event rdfs:label ?name }}
            OPTIONAL {{ ?event pkg:startMonthDay ?md }}
          }} GROUP BY ?event {having} }} }} ORDER BY (!BOUND(?date)) ?date ?event LIMIT {int(limit)}""",
        prefixes=_PREFIXES,
    ).values()
    counts = _recommendation_counts(store, [row[0] for row in rows if row[0]])
    return [
        Moment(
            iri,
            label or _tail(iri),
            kind or "Event",
            date,
            month_day,
            _true(inferred),
            issued=counts.get(iri, (0, 0))[0],
            presented=counts.get(iri, (0, 0))[1],
        )
        for iri, label, kind, date, month_day, inferred in rows
        if iri
    ]


def _recommendation_counts(store: Store, events: list[str]) -> dict[str, tuple[int, int]]:
    """For each event: how many recommendations were issued, and how many presented, there."""
    if not events:
        return {}
    values = " ".join(f"<{e}>" for e in events)
    rows = store.select(
        f"""SELECT ?event (COUNT(DISTINCT ?issued) AS ?i) (COUNT(DISTINCT ?shown) AS ?p) WHERE {{
          VALUES ?event {{ {values} }}
          OPTIONAL {{ ?issued pkg:issuedAt ?event }}
          OPTIONAL {{ ?presentation pkg:presentedAt ?event ; pkg:presents ?shown }} }} GROUP BY ?event""",
        prefixes=_PREFIXES,
    ).values()
    return {str(event): (int(i or 0), int(p or 0)) for event, i, p in rows}


def trail(store: Store, recommendation: str, limit: int = VIEW_LIMIT) -> list[Moment]:
    """A recommendation's trail: where it was issued and presented, and each status it had, in time order."""
    rows = store.select(
        f"""
        SELECT DISTINCT ?step ?label ?kind ?event ?statusDate ?statusInferred WHERE {{
          {{ <{recommendation}> pkg:issuedAt ?event . BIND (<{recommendation}> AS ?step) BIND ("issued" AS ?kind) }}
          UNION {{ ?step pkg:presents <{recommendation}> ; pkg:presentedAt ?event . BIND ("presented" AS ?kind) }}
          UNION {{ ?step pkg:recommendation <{recommendation}> ; pkg:status ?status .
                   ?status skos:prefLabel|rdfs:label ?kind FILTER (langMatches(lang(?kind), "en") || lang(?kind) = "")
                   OPTIONAL {{ ?step pkg:atEvent ?event }}
                   OPTIONAL {{ GRAPH ?sg {{ ?step pkg:statusDate ?statusDate }}
                              BIND (EXISTS {{ ?sg a pkg:InferredAssertion }} AS ?statusInferred) }} }}
          OPTIONAL {{ ?step rdfs:label ?label }}
        }} LIMIT {_READ_LIMIT}""",
        prefixes=_PREFIXES,
    ).values()
    return _moments(store, rows, limit, unnamed=UNNAMED_STEP)


@dataclass(frozen=True)
class Provision:
    """One thing a recommendation says: its kind (asks for, aims at …) and the concept it names."""

    kind: str  # in words: "asks for", "aims at" …
    iri: str
    label: str


@dataclass(frozen=True)
class Sentence:
    """A sentence of a recommendation's source, and what it says, kind by kind, in the order of the kinds."""

    quote: str | None  # None: stated without an excerpt
    provisions: tuple[Provision, ...]

    @property
    def kinds(self) -> list[tuple[str, list[Provision]]]:
        """The provisions grouped by kind, in the order they come."""
        grouped: dict[str, list[Provision]] = {}
        for provision in self.provisions:
            grouped.setdefault(provision.kind, []).append(provision)
        return list(grouped.items())


def provisions(store: Store, recommendation: str) -> list[Sentence]:
    """What a recommendation says, sentence by sentence in the order of its source (competency question
    recommendation-provisions)."""
    question = get_question("recommendation-provisions")
    rows = store.select(question.sparql, bindings={"recommendation": ox.NamedNode(recommendation)}).values()
    sentences: dict[str | None, tuple[int, list[Provision]]] = {}
    for _, kind, iri, label, quote, start in rows[:VIEW_LIMIT]:
        _, found = sentences.setdefault(quote, (int(start) if start is not None else 1 << 62, []))
        found.append(Provision(str(kind), str(iri), str(label)))
    return [Sentence(quote, tuple(found)) for quote, (_, found) in sorted(sentences.items(), key=lambda i: i[1][0])]


def touching(store: Store, concept: str, limit: int = VIEW_LIMIT) -> list[Moment]:
    """The recommendations that concern a policy concept (or a narrower one), at each event that issued or
    presented them, in time order."""
    rows = store.select(
        f"""
        SELECT DISTINCT ?rec ?label ?kind ?event WHERE {{
          ?narrower skos:broaderTransitive? <{concept}> . ?rec pkg:concerns ?narrower .
          OPTIONAL {{ ?rec rdfs:label ?label }}
          OPTIONAL {{ {{ ?rec pkg:issuedAt ?event BIND ("issued" AS ?step) }}
                     UNION {{ ?presentation pkg:presents ?rec ; pkg:presentedAt ?event BIND ("presented" AS ?step) }} }}
          BIND (COALESCE(?step, "recommendation") AS ?kind)
        }} LIMIT {_READ_LIMIT}""",
        prefixes=_PREFIXES,
    ).values()
    return _moments(store, [(*row, None, None) for row in rows], limit)  # no date of their own


@dataclass(frozen=True)
class _EventDetails:
    label: str | None
    date: str | None
    month_day: str | None
    inferred: bool


def _event_details(store: Store, events: set[str]) -> dict[str, _EventDetails]:
    """Label, start date (and whether it was inferred) and day of the year of each event."""
    if not events:
        return {}
    values = " ".join(f"<{e}>" for e in sorted(events))
    rows = store.select(
        f"""
        SELECT ?event (SAMPLE(?name) AS ?label) (MIN(?start) AS ?date) (SAMPLE(?md) AS ?monthDay)
               (MAX(?isInferred) AS ?inferred) WHERE {{ VALUES ?event {{ {values} }}
          OPTIONAL {{ ?event rdfs:label ?name }}
          OPTIONAL {{ GRAPH ?g {{ ?event schema:startDate ?start }}
                      BIND (EXISTS {{ ?g a pkg:InferredAssertion }} AS ?isInferred) }}
          OPTIONAL {{ ?event pkg:startMonthDay ?md }} }} GROUP BY ?event""",
        prefixes=_PREFIXES,
    ).values()
    return {
        str(event): _EventDetails(label, date, month_day, _true(inferred))
        for event, label, date, month_day, inferred in rows
    }


def _moments(store: Store, rows: list[tuple[str | None, ...]], limit: int, unnamed: str | None = None) -> list[Moment]:
    """Steps (IRI, label, kind, event, own date, own date inferred) as moments, dated by their own date or their
    event's, in time order; steps with no known date come last."""
    events = _event_details(store, {row[3] for row in rows if row[3]})
    seen: dict[tuple[str, str, str | None], Moment] = {}
    for iri, label, kind, event, date, inferred in rows:
        assert iri is not None and kind is not None
        details = events.get(event or "", _EventDetails(None, None, None, False))
        key = (iri, kind, event)
        if key not in seen:  # several labels: the first wins
            seen[key] = Moment(
                iri,
                label or unnamed or _tail(iri),
                kind,
                date or details.date,
                details.month_day,
                _true(inferred) if date else details.inferred,
                event,
                details.label or (_tail(event) if event else None),
            )
    ordered = sorted(seen.values(), key=lambda m: (m.date is None, m.date or "", m.kind, m.iri))
    return ordered[:limit]


def _true(value: str | None) -> bool:
    """A boolean a query computed: "true", or 1 from engines with no boolean type (Virtuoso)."""
    return value in ("true", "1")


def _tail(iri: str) -> str:
    return iri.rstrip("/").rsplit("/", 1)[-1].rsplit("#", 1)[-1]


@dataclass(frozen=True)
class Overview:
    """What the graph holds, for its home page."""

    quads: int
    counts: dict[str, int]  # a few kinds of things (events, recommendations …) -> how many
    schemes: list[tuple[str, str]]  # concept schemes: IRI, label


_COUNTED = {
    "events": "pkg:Event",
    "recommendations": "pkg:Recommendation",
    "organisations": "pkg:Organisation",
    "people": "pkg:Person",
    "policy concepts": "pkg:PolicyConcept",
    "sources": "pkg:SourceDocument",
    "entries": "pkg:Entry",
}


def overview(store: Store) -> Overview:
    """Counts of the main kinds of things, and the concept schemes to browse."""
    values = " ".join(f"({cls} {ox.Literal(name)})" for name, cls in _COUNTED.items())
    counts = {
        name: int(n or 0)
        for name, n in store.select(
            f"""
        SELECT ?name (COUNT(DISTINCT ?x) AS ?n) WHERE {{ VALUES (?class ?name) {{ {values} }}
          OPTIONAL {{ ?type rdfs:subClassOf* ?class . ?x a ?type }} }} GROUP BY ?name""",
            prefixes=_PREFIXES,
        ).values()
    }
    schemes = store.select(
        """SELECT ?scheme (SAMPLE(?name) AS ?label) WHERE { ?scheme a skos:ConceptScheme
        OPTIONAL { ?scheme skos:prefLabel|rdfs:label ?name } } GROUP BY ?scheme""",
        prefixes=_PREFIXES,
    ).values()
    labelled: list[tuple[str, str]] = []
    for iri, label in schemes:
        assert iri is not None  # grouped by ?scheme, which the pattern binds
        labelled.append((iri, label or _tail(iri)))
    return Overview(
        store.count(), {name: counts.get(name, 0) for name in _COUNTED}, sorted(labelled, key=lambda scheme: scheme[1])
    )

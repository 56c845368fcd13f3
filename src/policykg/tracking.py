"""Policy tracking views: the events in time, a recommendation's trail, and what touches a policy concept.

Each view is one SPARQL query over the union of the graphs. A date comes with the graph it was stated
in, so a date that policykg inferred (say, a year the source does not give) is shown as inferred.
"""

from dataclasses import dataclass

import pyoxigraph as ox

from policykg.namespaces import PREFIXES
from policykg.store import Store

_PREFIXES = {name: PREFIXES[name] for name in ("pkg", "rdfs", "schema", "skos", "rdf")}
TIMELINE_LIMIT = 2000


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


def timeline(store: Store, limit: int = TIMELINE_LIMIT) -> list[Moment]:
    """Every event (of any subclass of pkg:Event), oldest first; events without a known date come last."""
    rows = store.select(f"""
        SELECT ?event (SAMPLE(?name) AS ?label) (SAMPLE(?typeName) AS ?kind) (MIN(?start) AS ?date)
               (SAMPLE(?md) AS ?monthDay) (MAX(?isInferred) AS ?inferred) WHERE {{
          ?event a ?type . ?type rdfs:subClassOf* pkg:Event .
          FILTER NOT EXISTS {{ ?event a ?narrower . ?narrower rdfs:subClassOf+ ?type . ?narrower rdfs:subClassOf* pkg:Event }}
          OPTIONAL {{ ?type rdfs:label ?typeName FILTER (langMatches(lang(?typeName), "en")) }}
          OPTIONAL {{ ?event rdfs:label ?name }}
          OPTIONAL {{ GRAPH ?g {{ ?event schema:startDate ?start }}
                     BIND (EXISTS {{ ?g a pkg:InferredAssertion }} AS ?isInferred) }}
          OPTIONAL {{ ?event pkg:startMonthDay ?md }}
        }} GROUP BY ?event ORDER BY (!BOUND(?date)) ?date ?event LIMIT {int(limit)}""", prefixes=_PREFIXES).values()
    return [Moment(iri, label or _tail(iri), kind or "Event", date, month_day, inferred == "true")
            for iri, label, kind, date, month_day, inferred in rows]


def trail(store: Store, recommendation: str) -> list[Moment]:
    """A recommendation's trail: where it was issued and presented, and each status it had, in time order."""
    rows = store.select(f"""
        SELECT DISTINCT ?step ?label ?kind ?date ?monthDay ?inferred ?event ?eventLabel WHERE {{
          {{ <{recommendation}> pkg:issuedAt ?event . BIND (<{recommendation}> AS ?step) BIND ("issued" AS ?kind) }}
          UNION {{ ?step pkg:presents <{recommendation}> ; pkg:presentedAt ?event . BIND ("presented" AS ?kind) }}
          UNION {{ ?step pkg:recommendation <{recommendation}> ; pkg:status ?status .
                   ?status skos:prefLabel|rdfs:label ?kind FILTER (langMatches(lang(?kind), "en") || lang(?kind) = "")
                   OPTIONAL {{ ?step pkg:atEvent ?event }}
                   OPTIONAL {{ GRAPH ?sg {{ ?step pkg:statusDate ?statusDate }} }} }}
          OPTIONAL {{ ?step rdfs:label ?label }}
          OPTIONAL {{ ?event rdfs:label ?eventLabel }}
          OPTIONAL {{ GRAPH ?eg {{ ?event schema:startDate ?eventDate }} }}
          OPTIONAL {{ ?event pkg:startMonthDay ?monthDay }}
          BIND (COALESCE(?statusDate, ?eventDate) AS ?date)
          BIND (IF(BOUND(?statusDate), EXISTS {{ ?sg a pkg:InferredAssertion }},
                   BOUND(?eventDate) && EXISTS {{ ?eg a pkg:InferredAssertion }}) AS ?inferred)
        }} ORDER BY (!BOUND(?date)) ?date ?kind ?step""", prefixes=_PREFIXES).values()
    return _moments(rows, unnamed="status record")


def touching(store: Store, concept: str) -> list[Moment]:
    """The recommendations that concern a policy concept (and narrower ones), each at the event that issued it."""
    rows = store.select(f"""
        SELECT DISTINCT ?rec ?label ?kind ?date ?monthDay ?inferred ?event ?eventLabel WHERE {{
          ?narrower skos:broader* <{concept}> . ?rec pkg:concerns ?narrower .
          BIND ("recommendation" AS ?kind)
          OPTIONAL {{ ?rec rdfs:label ?label }}
          OPTIONAL {{ ?rec pkg:issuedAt ?event . OPTIONAL {{ ?event rdfs:label ?eventLabel }}
                     OPTIONAL {{ GRAPH ?eg {{ ?event schema:startDate ?date }} }}
                     OPTIONAL {{ ?event pkg:startMonthDay ?monthDay }} }}
          BIND (BOUND(?date) && EXISTS {{ ?eg a pkg:InferredAssertion }} AS ?inferred)
        }} ORDER BY (!BOUND(?date)) ?date ?rec LIMIT {TIMELINE_LIMIT}""", prefixes=_PREFIXES).values()
    return _moments(rows)


def _moments(rows: list[tuple[str | None, ...]], unnamed: str | None = None) -> list[Moment]:
    seen: dict[tuple[str, str, str | None], Moment] = {}
    for iri, label, kind, date, month_day, inferred, event, event_label in rows:
        assert iri is not None and kind is not None
        key = (iri, kind, event)
        if key not in seen:  # several labels or dates: the first in order wins
            seen[key] = Moment(iri, label or unnamed or _tail(iri), kind, date, month_day, inferred == "true", event,
                               event_label or (_tail(event) if event else None))
    return list(seen.values())


def _tail(iri: str) -> str:
    return iri.rstrip("/").rsplit("/", 1)[-1].rsplit("#", 1)[-1]





@dataclass(frozen=True)
class Overview:
    """What the graph holds, for its home page."""

    quads: int
    counts: dict[str, int]  # a few kinds of things (events, recommendations …) -> how many
    schemes: list[tuple[str, str]]  # concept schemes: IRI, label


_COUNTED = {"events": "pkg:Event", "recommendations": "pkg:Recommendation", "organisations": "pkg:Organisation",
            "people": "pkg:Person", "policy concepts": "skos:Concept", "sources": "pkg:SourceDocument",
            "entries": "pkg:Entry"}


def overview(store: Store) -> Overview:
    """Counts of the main kinds of things, and the concept schemes to browse."""
    values = " ".join(f"({cls} {ox.Literal(name)})" for name, cls in _COUNTED.items())
    counts = {name: int(n or 0) for name, n in store.select(f"""
        SELECT ?name (COUNT(DISTINCT ?x) AS ?n) WHERE {{ VALUES (?class ?name) {{ {values} }}
          OPTIONAL {{ ?type rdfs:subClassOf* ?class . ?x a ?type }} }} GROUP BY ?name""", prefixes=_PREFIXES).values()}
    schemes = store.select("""SELECT ?scheme (SAMPLE(?name) AS ?label) WHERE { ?scheme a skos:ConceptScheme
        OPTIONAL { ?scheme skos:prefLabel|rdfs:label ?name } } GROUP BY ?scheme ORDER BY ?label""",
                           prefixes=_PREFIXES).values()
    return Overview(store.count(), {name: counts.get(name, 0) for name in _COUNTED},
                    [(iri, label or _tail(iri)) for iri, label in schemes])


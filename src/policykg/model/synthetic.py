"""A deterministic synthetic policy graph of any size that conforms to the shapes, for load and scale tests.

The world it writes: countries and cities; organisations whose activity follows a Zipf law (a few
networks are everywhere, most appear rarely); people holding posts in them; expert groups meeting
in numbered series; conferences that issue numbered recommendations on policy concepts (popular
concepts are touched far more often); and the trail of each recommendation: proposed at its
conference, often presented at a later meeting by someone who took part there, sometimes taken up.
Every bundle of facts is a named graph (a stated assertion) derived from its own source document,
as in the seed. The same seed always gives the same bytes.
"""

import bisect
import datetime as dt
import itertools
import random
from collections.abc import Callable
from dataclasses import dataclass
from typing import IO

from policykg.rdf.namespaces import PREFIXES

# The vocabularies' namespaces as text: the generator writes N-Quads lines itself, for speed.
PKG, XSD, SKOS, DCT, PROV, ORG, SCHEMA, CV = (
    PREFIXES[name] for name in ("pkg", "xsd", "skos", "dcterms", "prov", "org", "schema", "cv")
)
RDF_TYPE = f"<{PREFIXES['rdf']}type>"
LABEL = f"<{PREFIXES['rdfs']}label>"

_THEMES = [
    "digitisation",
    "artificial intelligence",
    "heritage protection",
    "cultural tourism",
    "copyright",
    "data sharing",
    "climate adaptation",
    "skills",
    "urban regeneration",
    "audience development",
    "open access",
    "research infrastructure",
    "museum funding",
    "intangible heritage",
    "accessibility",
    "provenance research",
    "disaster risk",
    "creative industries",
    "rural heritage",
    "education",
]
_ORG_KINDS = [
    "Network of {} Museums",
    "{} Heritage Council",
    "{} Institute for Conservation",
    "{} Museum Association",
    "{} Archive Foundation",
    "{} Cultural Agency",
    "{} Digital Heritage Lab",
    "{} Library Consortium",
]
_PLACE_PARTS = ["North", "South", "East", "West", "Old", "New", "Upper", "Lower", "Port", "Lake"]
_PLACE_ROOTS = ["haven", "bury", "field", "ford", "mouth", "stead", "wick", "dale", "mere", "holm"]
_GIVEN = [
    "Anna",
    "Ben",
    "Clara",
    "David",
    "Eva",
    "Felix",
    "Greta",
    "Hugo",
    "Ines",
    "Jonas",
    "Katrin",
    "Luca",
    "Marta",
    "Nils",
    "Olga",
    "Pavel",
    "Rosa",
    "Sven",
    "Tereza",
    "Ugo",
    "Vera",
    "Wim",
    "Yara",
    "Zofia",
]
_FAMILY = [
    "Andersen",
    "Borg",
    "Costa",
    "Dvořák",
    "Eriksen",
    "Fischer",
    "García",
    "Horvat",
    "Ivanova",
    "Jansen",
    "Kowalski",
    "Lambert",
    "Moreau",
    "Novak",
    "Olsen",
    "Petrov",
    "Quinn",
    "Rossi",
    "Schmidt",
    "Tanaka",
    "Urban",
    "Virtanen",
    "Weber",
    "Zeman",
]
_VERBS = ["Strengthen", "Fund", "Protect", "Open up", "Coordinate", "Measure", "Train people in", "Share data on"]


def _literal(text: str, lang: str | None = "en") -> str:
    escaped = text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n").replace("\r", "\\r")
    return f'"{escaped}"@{lang}' if lang else f'"{escaped}"'


def _typed(value: object, datatype: str) -> str:
    return f'"{value}"^^<{XSD}{datatype}>'


@dataclass
class _Group:
    """An expert group, the series of its meetings, and the number its next meeting gets."""

    iri: str
    series: str
    next_number: int = 1


class _Zipf:
    """Pick indexes 0..n-1 with probability proportional to 1/(rank+1)**s: a few popular, many rare."""

    def __init__(self, rng: random.Random, n: int, s: float = 1.1) -> None:
        self._rng = rng
        self._cumulative = list(itertools.accumulate(1.0 / (rank + 1) ** s for rank in range(n)))

    def pick(self) -> int:
        return bisect.bisect(self._cumulative, self._rng.random() * self._cumulative[-1])

    def sample(self, k: int) -> list[int]:
        chosen: list[int] = []
        while len(chosen) < k:
            index = self.pick()
            if index not in chosen:
                chosen.append(index)
        return chosen


class _Quads:
    """Writes N-Quads lines and counts them."""

    def __init__(self, out: IO[str]) -> None:
        self.out = out
        self.count = 0

    def add(self, graph: str, subject: str, predicate: str, obj: str) -> None:
        self.out.write(f"{subject} {predicate} {obj} {graph} .\n")
        self.count += 1


class Generator:
    """Writes a synthetic graph of about `triples` quads under `base_iri`, deterministic for a seed."""

    def __init__(self, base_iri: str, seed: int) -> None:
        self.base = base_iri
        self.rng = random.Random(seed)
        self.scale = 0

    def iri(self, path: str) -> str:
        """An IRI under the base."""
        return f"<{self.base}{path}>"

    def write(self, out: IO[str], triples: int, progress: Callable[[int], None] | None = None) -> int:
        """Write bundles until at least `triples` quads are written; return how many were.

        Each line goes to `out` as it is made: memory holds the names of the world (places, people,
        concepts), not the graph. progress(quads written so far) is called after each bundle.
        """
        quads = _Quads(out)
        # The size of the world grows with the target, so fan-out stays realistic at any size.
        self.scale = max(1, triples // 20_000)
        self._world(quads)
        for bundle in itertools.count():
            if progress is not None:
                progress(quads.count)
            if quads.count >= triples:
                break
            self._conference_year(quads, bundle)
        return quads.count

    # --- the fixed world: places, concepts, organisations, people, expert groups -------------------------

    def _world(self, q: _Quads) -> None:
        rng = self.rng
        g = self._assertion(q, "world", "Synthetic world: places, organisations, people and concepts")
        self.countries = []
        for i in range(min(30, 3 + self.scale)):
            country = self.iri(f"id/place/gen-country-{i}")
            self._thing(q, g, country, "Place", f"Country {i + 1}")
            self.countries.append(country)
        self.cities = []
        for i in range(20 * self.scale):
            city = self.iri(f"id/place/gen-city-{i}")
            name = rng.choice(_PLACE_PARTS) + rng.choice(_PLACE_ROOTS) + f" {i + 1}"
            self._thing(q, g, city, "Place", name)
            q.add(g, city, f"<{SCHEMA}containedInPlace>", rng.choice(self.countries))
            self.cities.append(city)
        scheme = self.iri("id/scheme/gen-policy-concepts")
        q.add(g, scheme, RDF_TYPE, f"<{SKOS}ConceptScheme>")
        q.add(g, scheme, LABEL, _literal("Synthetic policy concepts"))
        self.concepts: list[str] = []
        for i in range(40 * self.scale):
            concept = self.iri(f"id/concept/gen-{i}")
            theme = _THEMES[i % len(_THEMES)]
            kind = "PolicyInstrument" if i % 7 == 0 else "PolicyConcept"
            label = f"{theme} ({'instrument' if kind == 'PolicyInstrument' else 'aspect'} {i + 1})"
            q.add(g, concept, RDF_TYPE, f"<{PKG}{kind}>")
            q.add(g, concept, f"<{SKOS}prefLabel>", _literal(label))
            q.add(g, concept, LABEL, _literal(label))
            q.add(g, concept, f"<{SKOS}definition>", _literal(f"Synthetic concept about {theme}."))
            q.add(g, concept, f"<{SKOS}inScheme>", scheme)
            if i >= len(_THEMES):
                q.add(g, concept, f"<{SKOS}broader>", self.concepts[i % len(_THEMES)])
            else:
                q.add(g, scheme, f"<{SKOS}hasTopConcept>", concept)
                q.add(g, concept, f"<{SKOS}topConceptOf>", scheme)
            self.concepts.append(concept)
        self.audience = self.iri("id/audience/gen-policymakers")
        audiences = self.iri("id/scheme/gen-audiences")
        q.add(g, audiences, RDF_TYPE, f"<{SKOS}ConceptScheme>")
        q.add(g, audiences, LABEL, _literal("Synthetic audiences"))
        q.add(g, audiences, f"<{SKOS}hasTopConcept>", self.audience)
        q.add(g, self.audience, RDF_TYPE, f"<{PKG}Audience>")
        q.add(g, self.audience, f"<{SKOS}prefLabel>", _literal("policymakers"))
        q.add(g, self.audience, LABEL, _literal("policymakers"))
        q.add(g, self.audience, f"<{SKOS}definition>", _literal("People who make public policy."))
        q.add(g, self.audience, f"<{SKOS}inScheme>", audiences)
        self.orgs = []
        for i in range(60 * self.scale):
            org = self.iri(f"id/org/gen-{i}")
            city_name = f"Region {i % 97 + 1}"
            self._thing(q, g, org, "Organisation", rng.choice(_ORG_KINDS).format(city_name) + f" #{i + 1}")
            self.orgs.append(org)
        self.people = []  # (person, org)
        for i in range(150 * self.scale):
            person = self.iri(f"id/person/gen-{i}")
            given, family = rng.choice(_GIVEN), rng.choice(_FAMILY)
            org = self.orgs[i % len(self.orgs)]
            self._thing(q, g, person, "Person", f"{given} {family} ({i + 1})")
            q.add(g, person, f"<{SCHEMA}givenName>", _literal(given, None))
            q.add(g, person, f"<{SCHEMA}familyName>", _literal(family, None))
            post = self.iri(f"id/post/gen-{i}")
            q.add(g, post, RDF_TYPE, f"<{ORG}Post>")
            q.add(g, post, LABEL, _literal(rng.choice(["Director", "Policy officer", "Secretary General", "Curator"])))
            q.add(g, post, f"<{ORG}postIn>", org)
            q.add(g, post, f"<{ORG}heldBy>", person)
            q.add(g, person, f"<{ORG}holds>", post)
            self.people.append((person, org))
        self.org_pick = _Zipf(rng, len(self.orgs))
        self.concept_pick = _Zipf(rng, len(self.concepts), 1.2)
        self.groups: list[_Group] = []
        for i in range(3 * self.scale):
            group = self.iri(f"id/org/gen-expert-group-{i}")
            series = self.iri(f"id/series/gen-expert-group-{i}")
            self._thing(q, g, group, "ExpertGroup", f"Synthetic expert group {i + 1}")
            q.add(g, group, f"<{PKG}setUpBy>", self.orgs[0])
            self._thing(q, g, series, "EventSeries", f"Meetings of synthetic expert group {i + 1}")
            q.add(g, series, f"<{SCHEMA}organizer>", group)
            self.groups.append(_Group(group, series))

    # --- one year of conferences, their recommendations and what followed ---------------------------------

    def _conference_year(self, q: _Quads, n: int) -> None:
        rng = self.rng
        day = dt.date(2000, 1, 1) + dt.timedelta(days=7 * n)
        conference = self.iri(f"id/event/gen-conference-{n}")
        g = self._assertion(q, f"conference-{n}", f"Synthetic conference {n + 1} and its recommendations")
        title = f"Synthetic conference {n + 1} on {_THEMES[self.concept_pick.pick() % len(_THEMES)]}"
        self._thing(q, g, conference, "Conference", title)
        q.add(g, conference, f"<{DCT}title>", _literal(title))
        q.add(g, conference, f"<{SCHEMA}startDate>", _typed(day.isoformat(), "date"))
        end = day + dt.timedelta(days=rng.choice([0, 0, 1, 2]))
        q.add(g, conference, f"<{SCHEMA}endDate>", _typed(end.isoformat(), "date"))
        q.add(g, conference, f"<{PKG}heldIn>", rng.choice(self.cities))
        organisers = [self.orgs[i] for i in self.org_pick.sample(rng.randint(1, 4))]
        for org in organisers:
            q.add(g, conference, f"<{PKG}organisedBy>", org)
        self._participants(q, g, conference, f"conference-{n}", rng.randint(2, 6) if rng.random() < 0.8 else 40)
        recommendations = []
        for ordinal in range(1, rng.randint(1, 8) + 1):
            rec = self.iri(f"id/recommendation/gen-{n}-{ordinal}")
            verb, theme = rng.choice(_VERBS), _THEMES[(n + ordinal) % len(_THEMES)]
            text = f"{verb} {theme}"
            q.add(g, rec, RDF_TYPE, f"<{PKG}Recommendation>")
            q.add(g, rec, LABEL, _literal(text))
            q.add(g, rec, f"<{DCT}title>", _literal(text))
            q.add(g, rec, f"<{PKG}ordinal>", _typed(ordinal, "integer"))
            q.add(g, rec, f"<{PKG}fullText>", _literal(f"{text}. " * rng.randint(2, 12)))
            q.add(g, rec, f"<{DCT}abstract>", _literal(f"A call to {verb.lower()} {theme}."))
            q.add(g, rec, f"<{PKG}addressedTo>", self.audience if rng.random() < 0.8 else rng.choice(organisers))
            q.add(g, rec, f"<{PKG}issuedAt>", conference)
            q.add(g, rec, f"<{PROV}hadPrimarySource>", self._source_of(f"conference-{n}"))
            for index in self.concept_pick.sample(rng.randint(1, 5)):
                q.add(g, rec, f"<{PKG}concerns>", self.concepts[index])
            self._status(q, g, rec, "statusProposed", f"conference-{n}", date=day, event=conference)
            recommendations.append(rec)
        if rng.random() < 0.7:
            self._meeting(q, n, day + dt.timedelta(days=rng.randint(10, 60)), conference, recommendations)

    def _meeting(self, q: _Quads, n: int, day: dt.date, conference: str, recommendations: list[str]) -> None:
        rng = self.rng
        group = self.groups[n % len(self.groups)]
        number = group.next_number
        group.next_number += 1
        meeting = self.iri(f"id/event/gen-meeting-{n}")
        g = self._assertion(q, f"meeting-{n}", f"Synthetic meeting {number} of an expert group")
        self._thing(q, g, meeting, "ExpertGroupMeeting", f"Meeting {number} of synthetic expert group")
        q.add(g, meeting, f"<{PKG}partOfSeries>", group.series)
        q.add(g, meeting, f"<{PKG}seriesNumber>", _typed(number, "integer"))
        q.add(g, meeting, f"<{SCHEMA}startDate>", _typed(day.isoformat(), "date"))
        q.add(g, meeting, f"<{SCHEMA}endDate>", _typed((day + dt.timedelta(days=1)).isoformat(), "date"))
        q.add(g, meeting, f"<{PKG}mainTopic>", self.concepts[self.concept_pick.pick()])
        presenters = self._participants(q, g, meeting, f"meeting-{n}", rng.randint(3, 12))
        presentation = self.iri(f"id/presentation/gen-{n}")
        q.add(g, presentation, RDF_TYPE, f"<{PKG}Presentation>")
        q.add(g, presentation, LABEL, _literal(f"Outcomes of synthetic conference {n + 1}"))
        q.add(g, presentation, f"<{PKG}presentedAt>", meeting)
        q.add(g, presentation, f"<{PKG}presenter>", presenters[0])
        q.add(g, presentation, f"<{PKG}reportsOn>", conference)
        for rec in recommendations:
            q.add(g, presentation, f"<{PKG}presents>", rec)
            self._status(q, g, rec, "statusPresented", f"meeting-{n}", date=day, event=meeting)
            if rng.random() < 0.15:
                taken = day + dt.timedelta(days=rng.randint(30, 400))
                record = self._status(q, g, rec, "statusTakenUp", f"meeting-{n}", date=taken, event=None)
                q.add(g, record, f"<{PKG}takenUpIn>", self.concepts[self.concept_pick.pick()])

    def _participants(self, q: _Quads, g: str, event: str, key: str, count: int) -> list[str]:
        people = []
        for i in self.rng.sample(range(len(self.people)), min(count, len(self.people))):
            person, org = self.people[i]
            participation = self.iri(f"id/participation/gen-{key}-{i}")
            q.add(g, participation, RDF_TYPE, f"<{PKG}Participation>")
            q.add(g, participation, f"<{CV}hasParticipant>", person)
            q.add(g, participation, f"<{CV}role>", f"<{PKG}roleAttendee>")
            q.add(g, participation, f"<{PKG}onBehalfOf>", org)
            q.add(g, event, f"<{CV}hasParticipation>", participation)
            people.append(person)
        return people

    def _status(self, q: _Quads, g: str, rec: str, status: str, key: str, date: dt.date, event: str | None) -> str:
        record = self.iri(f"id/status/gen-{rec.rsplit('/', 1)[-1][:-1]}-{status}")
        q.add(g, record, RDF_TYPE, f"<{PKG}StatusRecord>")
        q.add(g, record, f"<{PKG}recommendation>", rec)
        q.add(g, record, f"<{PKG}status>", f"<{PKG}{status}>")
        q.add(g, record, f"<{PKG}statusDate>", _typed(date.isoformat(), "date"))
        if event is not None:
            q.add(g, record, f"<{PKG}atEvent>", event)
        q.add(g, record, f"<{PROV}wasDerivedFrom>", self._source_of(key))
        return record

    # --- provenance ----------------------------------------------------------------------------------

    def _source_of(self, key: str) -> str:
        return self.iri(f"id/source/gen-{key}")

    def _assertion(self, q: _Quads, key: str, label: str) -> str:
        graph = self.iri(f"graph/gen/{key}")
        source = self._source_of(key)
        q.add(graph, source, RDF_TYPE, f"<{PKG}SourceDocument>")
        q.add(graph, source, LABEL, _literal(f"Source of: {label}"))
        q.add(graph, graph, RDF_TYPE, f"<{PKG}StatedAssertion>")
        q.add(graph, graph, LABEL, _literal(label))
        q.add(graph, graph, f"<{PROV}wasDerivedFrom>", source)
        return graph

    def _thing(self, q: _Quads, g: str, node: str, kind: str, label: str) -> None:
        q.add(g, node, RDF_TYPE, f"<{PKG}{kind}>")
        q.add(g, node, LABEL, _literal(label))


def generate(
    out: IO[str], triples: int, seed: int, base_iri: str, progress: Callable[[int], None] | None = None
) -> int:
    """Write a synthetic graph of at least `triples` quads as N-Quads; return the number written."""
    return Generator(base_iri, seed).write(out, triples, progress)

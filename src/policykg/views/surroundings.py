"""What the pictures show, read from the store: a concept's neighbours (the broader and narrower concepts, the
recommendations that concern or propose it, the instruments and concepts linked to it), and which steps of a
recommendation's trail are status records.

Every query is anchored on the resource's IRI, or on IRIs such a query found: it reads the resource's own
links, whatever the store's size. A group lists its first LIST_LIMIT neighbours; it says how many it has in
all, and gives a SPARQL query that lists every one.
"""

from collections.abc import MutableMapping
from dataclasses import dataclass

import pyoxigraph as ox

from policykg.rdf.namespaces import PKG, PREFIXES
from policykg.store import Store
from policykg.views.describe import Label, labels_of
from policykg.views.neighbourhood import Group, Neighbour

LIST_LIMIT = 200  # neighbours of one kind listed beside a picture at most


@dataclass(frozen=True)
class _Kind:
    """A kind of neighbour: its name, its title for people, and the patterns (with ?c the concept) that bind ?x
    to one, each with how it is linked."""

    name: str
    title: str
    branches: tuple[tuple[str, str], ...]


_KINDS = (
    _Kind("broader", "Broader concepts", (("?c skos:broader ?x", "broader"), ("?x skos:narrower ?c", "broader"))),
    _Kind("narrower", "Narrower concepts", (("?x skos:broader ?c", "narrower"), ("?c skos:narrower ?x", "narrower"))),
    _Kind(
        "recommendations",
        "Recommendations that concern or propose it",
        (
            ("?x pkg:concerns ?c", "concerns it"),
            ("?x pkg:proposes ?c", "proposes it"),
            ("?c pkg:proposedIn ?x", "proposes it"),
        ),
    ),
    _Kind(
        "instruments",
        "Instruments and concepts linked to it",
        (
            ("?c pkg:fundedBy ?x", "funds it"),
            ("?x pkg:fundedBy ?c", "funded by it"),
            ("?c skos:related ?x", "related"),
            ("?x skos:related ?c", "related"),
        ),
    ),
)


def _branches(kind: _Kind, concept: ox.NamedNode, group: bool = False) -> list[str]:
    """The kind's patterns, the concept in each (each is then anchored on it), binding how ?x is linked."""
    named = f' BIND ("{kind.name}" AS ?group)' if group else ""
    return [
        f'{{ {pattern.replace("?c", str(concept))} BIND ("{how}" AS ?how){named} }}' for pattern, how in kind.branches
    ]


def _union(branches: list[str]) -> str:
    """The branches as one union, keeping only IRIs.

    The filter stands after the union, not in each branch: Virtuoso fails on a filter beside two BINDs there."""
    return f"{{ {' UNION '.join(branches)} }} FILTER (isIRI(?x))"


def query_of(kind_name: str, concept: str) -> str:
    """A SPARQL query that lists every neighbour of the kind, with its label and how it is linked."""
    kind = next(k for k in _KINDS if k.name == kind_name)
    return (
        "PREFIX pkg: <https://w3id.org/policykg/ontology#>\nPREFIX skos: <http://www.w3.org/2004/02/skos/core#>\n"
        "PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>\n"
        f"SELECT DISTINCT ?x ?label ?how WHERE {{\n  {_union(_branches(kind, ox.NamedNode(concept)))}\n"
        "  OPTIONAL { ?x rdfs:label ?label }\n} ORDER BY ?x"
    )


def neighbourhood(
    store: Store, concept: str, limit: int = LIST_LIMIT, known: MutableMapping[str, Label | None] | None = None
) -> list[Group]:
    """A concept's neighbours, kind by kind: recommendations the most recently issued first, the others by label."""
    node = ox.NamedNode(concept)
    everything = _union([branch for kind in _KINDS for branch in _branches(kind, node, group=True)])
    totals = {
        str(group): int(n or 0)
        for group, n in store.select(
            f"SELECT ?group (COUNT(DISTINCT ?x) AS ?n) WHERE {{ {everything} }} GROUP BY ?group", prefixes=PREFIXES
        ).values()
    }
    found: dict[str, list[tuple[str, str, str | None]]] = {}  # kind -> (IRI, how linked, date issued)
    for kind in _KINDS:
        if not totals.get(kind.name):
            continue
        hows = '(GROUP_CONCAT(DISTINCT ?how; separator="; ") AS ?hows)'
        linked = f"SELECT ?x {hows} WHERE {{ {_union(_branches(kind, node))} }} GROUP BY ?x"
        if kind.name == "recommendations":  # the most recent first: by the start of the event that issued each
            # Ordered outside the grouping: some engines (Virtuoso) refuse ORDER BY on an aggregate's alias.
            text = (
                f"SELECT ?x ?how ?date WHERE {{ {{ SELECT ?x (SAMPLE(?hows) AS ?how) (MAX(?start) AS ?date) WHERE "
                f"{{ {{ {linked} }} OPTIONAL {{ ?x pkg:issuedAt ?event . ?event schema:startDate ?start }} }} "
                f"GROUP BY ?x }} }} ORDER BY DESC(?date) ?x LIMIT {int(limit)}"
            )
        else:
            text = f"SELECT ?x ?hows ?date WHERE {{ {linked} }} ORDER BY ?x LIMIT {int(limit)}"
        found[kind.name] = [(str(x), str(how), date) for x, how, date in store.select(text, prefixes=PREFIXES).values()]
    labels = {
        iri: label.text.value
        for iri, label in labels_of(store, {iri for rows in found.values() for iri, _, _ in rows}, known).items()
    }
    groups = []
    for kind in _KINDS:
        items = [
            Neighbour(iri, labels.get(iri) or _tail(iri), how + (f" · issued {date[:10]}" if date else ""))
            for iri, how, date in found.get(kind.name, [])
        ]
        if kind.name != "recommendations":
            items.sort(key=lambda item: (item.label.casefold(), item.iri))
        groups.append(
            Group(kind.name, kind.title, tuple(items), totals.get(kind.name, 0), query_of(kind.name, concept))
        )
    return groups


def centre(store: Store, concept: str, known: MutableMapping[str, Label | None] | None = None) -> Neighbour:
    """The concept itself as the picture's centre: its label, and whether it is a policy instrument."""
    label = labels_of(store, {concept}, known).get(concept)
    instrument = store.ask(
        f"ASK {{ {ox.NamedNode(concept)} a ?type . ?type rdfs:subClassOf* {ox.NamedNode(str(PKG.PolicyInstrument))} }}",
        prefixes=PREFIXES,
    )
    return Neighbour(
        concept, label.text.value if label else _tail(concept), "policy instrument" if instrument else "concept"
    )


def status_records(store: Store, steps: set[str]) -> set[str]:
    """Which of a trail's steps are status records (the others are the recommendation and its presentations)."""
    if not steps:
        return set()
    values = " ".join(str(ox.NamedNode(step)) for step in sorted(steps))
    rows = store.select(
        f"SELECT DISTINCT ?s WHERE {{ VALUES ?s {{ {values} }} ?s a {ox.NamedNode(str(PKG.StatusRecord))} }}"
    ).values()
    return {str(s) for (s,) in rows}


def _tail(iri: str) -> str:
    return iri.rstrip("/").rsplit("/", 1)[-1].rsplit("#", 1)[-1]

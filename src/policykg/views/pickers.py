"""What a picker offers as a person types: the things of its classes whose names hold the words typed, best first.

The same match as the form's "Find" button without script (views/contribution.candidates): every word typed
must occur in a name (rdfs:label or skos:prefLabel), case-blind. Here the matches are also ranked, and only a
few are returned: a name that is exactly the words typed first, then names that start with them, then the
others; within each, names in English (or in no language) before others, then by name. Each thing is shown by
its best-ranked name, so a person who typed "european commission" sees "European Commission", not another of
its names. Read from the store at each call, so a thing added a moment ago is offered at once.
"""

from collections.abc import Iterable
from dataclasses import dataclass

import pyoxigraph as ox

from policykg.store import Store
from policykg.views.contribution import MOST_WORDS

RDFS_LABEL = "http://www.w3.org/2000/01/rdf-schema#label"
SKOS_PREF_LABEL = "http://www.w3.org/2004/02/skos/core#prefLabel"
MOST_CHOICES = 50  # what one call may ask for at most
_ROWS_PER_CHOICE = 20  # names read per choice returned: room for things with many names in many languages


@dataclass(frozen=True)
class Choice:
    """One thing a picker offers: its IRI and the name it is shown by."""

    iri: str
    label: str


def matching(store: Store, classes: Iterable[str], words: str, limit: int) -> tuple[list[Choice], bool]:
    """The things of these classes (give every subclass) whose names hold every word, best first: at most limit
    of them, and whether there are more. No words: every thing of the classes, by name."""
    values = " ".join(str(ox.NamedNode(c)) for c in sorted(classes))
    if not values or limit < 1:
        return [], False
    typed = [w.lower() for w in words.split()[:MOST_WORDS]]
    phrase = str(ox.Literal(" ".join(typed)))
    wanted = " ".join(f"FILTER(CONTAINS(?low, {ox.Literal(w)}))" for w in typed)
    rows = store.select(
        f"SELECT ?s ?l WHERE {{ VALUES ?t {{ {values} }} GRAPH ?g {{ ?s a ?t }} FILTER isIRI(?s) "
        f"GRAPH ?h {{ ?s <{RDFS_LABEL}>|<{SKOS_PREF_LABEL}> ?l }} FILTER isLiteral(?l) "
        f"BIND(LCASE(STR(?l)) AS ?low) {wanted} "
        f"BIND(IF(?low = {phrase}, 0, IF(STRSTARTS(?low, {phrase}), 1, 2)) AS ?rank) "
        f'BIND(IF(LANG(?l) = "" || LANGMATCHES(LANG(?l), "en"), 0, 1) AS ?foreign) '
        f"}} ORDER BY ?rank ?foreign ?low ?s LIMIT {(limit + 1) * _ROWS_PER_CHOICE}"
    ).values()
    found: dict[str, Choice] = {}
    for iri, label in rows:
        if iri is not None and label is not None and iri not in found:
            found[iri] = Choice(iri, label)
            if len(found) > limit:
                break
    choices = list(found.values())
    return choices[:limit], len(choices) > limit

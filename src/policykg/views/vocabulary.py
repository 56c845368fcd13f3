"""The model documented for people: the ontology's terms and the shapes' rules, read from their graphs."""

from collections import defaultdict
from dataclasses import dataclass, field

from policykg.rdf.namespaces import ONTOLOGY_IRI, PREFIXES, SHAPES_IRI
from policykg.store import Store

_PREFIXES = {name: PREFIXES[name] for name in ("rdf", "rdfs", "owl", "skos", "sh")}


@dataclass
class Term:
    """A class, property or concept of the ontology."""

    iri: str
    kind: str
    label: str = ""
    definition: str = ""
    parents: list[str] = field(default_factory=list)
    domain: list[str] = field(default_factory=list)
    range: list[str] = field(default_factory=list)
    equivalents: list[str] = field(default_factory=list)

    @property
    def anchor(self) -> str:
        """The fragment of the term's IRI: its anchor on the ontology page."""
        return self.iri.rsplit("#", 1)[-1]


@dataclass
class Rule:
    """One property shape (or a node shape's own constraint) as people read it."""

    shape: str
    path: str
    constraints: list[tuple[str, str]]  # constraint component (e.g. minCount) -> value
    severity: str
    message: str


@dataclass
class Shape:
    """A node shape: the class it targets and its rules."""

    iri: str
    targets: list[str]
    message: str
    severity: str
    rules: list[Rule]


def ontology_terms(store: Store) -> list[Term]:
    """Every term the ontology defines, classes first, then properties, then concepts."""
    rows = store.select(
        f"""
        SELECT ?term ?kind ?p ?o WHERE {{ GRAPH <{ONTOLOGY_IRI}> {{
          ?term a ?kind . VALUES ?kind {{ owl:Class owl:ObjectProperty owl:DatatypeProperty skos:Concept }}
          OPTIONAL {{ ?term ?p ?o VALUES ?p {{ rdfs:label skos:definition rdfs:subClassOf rdfs:subPropertyOf
                                               rdfs:domain rdfs:range owl:equivalentClass owl:equivalentProperty
                                               skos:broader skos:exactMatch skos:closeMatch }}
                     FILTER (!isBlank(?o)) }} }} }}""",
        prefixes=_PREFIXES,
    ).values()
    terms: dict[str, Term] = {}
    slots = {
        "label": "label",
        "definition": "definition",
        "subClassOf": "parents",
        "subPropertyOf": "parents",
        "broader": "parents",
        "domain": "domain",
        "range": "range",
        "equivalentClass": "equivalents",
        "equivalentProperty": "equivalents",
        "exactMatch": "equivalents",
        "closeMatch": "equivalents",
    }
    for iri, kind, predicate, value in rows:
        assert iri is not None and kind is not None
        term = terms.setdefault(iri, Term(iri, kind.rsplit("#", 1)[-1]))
        if predicate is None or value is None:
            continue
        slot = slots[predicate.rsplit("#", 1)[-1]]
        if isinstance(getattr(term, slot), list):
            if value not in getattr(term, slot):
                getattr(term, slot).append(value)
        elif not getattr(term, slot):
            setattr(term, slot, value)
    order = {"Class": 0, "ObjectProperty": 1, "DatatypeProperty": 2, "Concept": 3}
    return sorted(terms.values(), key=lambda t: (order.get(t.kind, 9), t.label.lower() or t.iri))


def shapes(store: Store) -> list[Shape]:
    """The node shapes with their targets and rules, as the shapes graph states them."""
    rows = store.select(
        f"""
        SELECT ?shape ?p ?o WHERE {{ GRAPH <{SHAPES_IRI}> {{ ?shape a ?type ; ?p ?o .
          VALUES ?type {{ sh:NodeShape sh:PropertyShape }} }} }}""",
        prefixes=_PREFIXES,
    ).values()
    facts: dict[str, dict[str, list[str]]] = defaultdict(lambda: defaultdict(list))
    for shape, predicate, value in rows:
        assert shape is not None and predicate is not None and value is not None
        facts[shape][predicate.rsplit("#", 1)[-1]].append(value)
    sh = PREFIXES["sh"]
    skip = {
        "type",
        "path",
        "targetClass",
        "property",
        "message",
        "severity",
        "name",
        "description",
        "sparql",
        "prefixes",
    }

    def rule(iri: str, of: dict[str, list[str]]) -> Rule:
        constraints = sorted(
            (name, value.removeprefix(sh)) for name, values in of.items() if name not in skip for value in values
        )
        return Rule(
            iri,
            (of.get("path") or [""])[0],
            constraints,
            _first(of, "severity").removeprefix(sh),
            _first(of, "message"),
        )

    found = []
    for iri, of in facts.items():
        if sh + "NodeShape" not in of.get("type", []):
            continue
        rules = [rule(p, facts[p]) for p in sorted(of.get("property", [])) if p in facts]
        if of.get("sparql"):
            rules.append(
                Rule(iri, "(SPARQL constraint)", [], _first(of, "severity").removeprefix(sh), _first(of, "message"))
            )
        found.append(
            Shape(
                iri,
                sorted(of.get("targetClass", [])),
                _first(of, "message"),
                _first(of, "severity").removeprefix(sh),
                rules,
            )
        )
    return sorted(found, key=lambda s: (s.targets or ["~"], s.iri))


def _first(of: dict[str, list[str]], name: str) -> str:
    values = sorted(of.get(name, []))
    return values[0] if values else ""

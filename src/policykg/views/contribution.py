"""A filled-in form as an entry's triples: the new thing, its values, its excerpts and its kind of assertion.

The form comes from the shapes (views/forms.py); this module turns what a person typed, chose and ticked
into RDF, names new things in the service's IRI scheme, and puts each validation result back next to the
field it is about. The entry is then checked and written by the same code as `POST /entries`.
"""

import re
import unicodedata
from collections.abc import Callable, Collection, Iterable
from dataclasses import dataclass, field

import pyoxigraph as ox

from policykg.iris import THINGS, THIS_ENTRY_IRI
from policykg.rdf.namespaces import PREFIXES
from policykg.rdf.terms import well_typed
from policykg.store import Store
from policykg.views.forms import Field, Form
from policykg.views.sentences import excerpts_of, split_sentences

PKG = "https://w3id.org/policykg/ontology#"
PROV = PREFIXES["prov"]
XSD = PREFIXES["xsd"]
RDFS_LABEL = PREFIXES["rdfs"] + "label"
SCHEMA_TEXT = "https://schema.org/text"
RDF_TYPE = ox.NamedNode(PREFIXES["rdf"] + "type")
THIS_ENTRY = ox.NamedNode(THIS_ENTRY_IRI)
# The kinds of thing the contribution pages offer, each with the space of the IRIs it is given (iris.THINGS).
OFFERED = {
    PKG + "ExpertGroupMeeting": "event",
    PKG + "Conference": "event",
    PKG + "Recommendation": "recommendation",
    PKG + "StatusRecord": "status",
    PKG + "Organisation": "org",
    PKG + "Person": "person",
    "http://www.w3.org/ns/org#Post": "post",
    PKG + "SourceDocument": "source",
}
KINDS = {"stated": "StatedAssertion", "inferred": "InferredAssertion", "editorial": "EditorialAssertion"}
PROVENANCE = "provenance"  # the key of errors about where the facts come from
WHOLE = "_form"  # the key of errors about the thing as a whole
_DATATYPES = {
    "date": ("date", "a date as yyyy-mm-dd, such as 2024-04-09"),
    "datetime": ("dateTime", "a date and time such as 2024-04-09T10:00:00Z"),
    "monthday": ("gMonthDay", "a day and month as --mm-dd, such as --04-09"),
    "year": ("gYear", "a year such as 2024"),
    "integer": ("integer", "a whole number, such as 11"),
    "decimal": ("decimal", "a number, such as 2.5"),
    "boolean": ("boolean", "true or false"),
}
MOST_WORDS = 8  # a search for a picker takes this many words at most
_IRI = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*:[^\s<>\"{}|\\^`]+")
_LANGUAGE = re.compile(r"[A-Za-z]{1,8}(-[A-Za-z0-9]{1,8})*")


@dataclass(frozen=True)
class Provenance:
    """Where the facts come from: stated in ticked sentences of a source, inferred (why) or editorial."""

    kind: str = "stated"
    source: str = ""
    ticked: frozenset[int] = frozenset()
    reason: str = ""


@dataclass(frozen=True)
class Filled:
    """What a person sent: the values of each field (by key), their languages, and the provenance."""

    values: dict[str, list[str]]
    languages: dict[str, list[str]]
    provenance: Provenance


@dataclass
class Built:
    """The entry's triples for a filled form, or the mistakes that keep it from being built."""

    subject: str
    triples: list[ox.Triple] = field(default_factory=list)
    errors: dict[str, list[str]] = field(default_factory=dict)

    def refuse(self, key: str, message: str) -> None:
        """Note a mistake about a field (or the provenance, or the whole)."""
        self.errors.setdefault(key, []).append(message)


def filled_from(form: Form, get: Callable[[str], list[str]]) -> Filled:
    """What was sent for each field of the form, read with get(name) -> every value of that input."""
    values = {f.key: get(f.key) for f in form.fields}
    languages = {f.key: get(f.key + ".lang") for f in form.fields if f.kind == "langtext"}
    ticked = frozenset(int(i) for i in get("sentence") if i.isdigit())
    kind = next(iter(get("kind")), "stated")
    return Filled(
        values,
        languages,
        Provenance(kind if kind in KINDS else "stated", next(iter(get("source")), ""), ticked, _first(get("reason"))),
    )


def build(form: Form, filled: Filled, subject: str, source_text: str | None, own_source: bool) -> Built:
    """The triples of the entry: the thing, its values, the excerpts ticked and the assertion its graph is.

    own_source: the thing is itself a source document, and its registration an editorial record of it.
    """
    built = Built(subject)
    thing = ox.NamedNode(subject)
    built.triples.append(ox.Triple(thing, RDF_TYPE, ox.NamedNode(form.target)))
    evidence = [thing] if own_source else _provenance(built, filled.provenance, source_text)
    for f in form.fields:
        values = [_lines(v).strip() for v in filled.values.get(f.key, []) if v.strip()]
        languages = filled.languages.get(f.key, [])
        if not values and PKG + "SourceExcerpt" in f.classes:
            values = [e.value for e in evidence]  # the ticked sentences are the evidence, unless told otherwise
        for index, value in enumerate(values):
            term = _term(built, f, value, languages[index] if index < len(languages) else "")
            if term is not None:
                built.triples.append(ox.Triple(thing, ox.NamedNode(f.path), term))
    kind = "editorial" if own_source else filled.provenance.kind
    label = next(
        (t.object.value for t in built.triples if t.predicate.value == RDFS_LABEL and isinstance(t.object, ox.Literal)),
        "a contribution",
    )
    built.triples += [
        ox.Triple(THIS_ENTRY, RDF_TYPE, ox.NamedNode(PKG + KINDS[kind])),
        ox.Triple(THIS_ENTRY, ox.NamedNode(RDFS_LABEL), ox.Literal(f"{label} ({kind})", language="en")),
        *(ox.Triple(THIS_ENTRY, ox.NamedNode(PROV + "wasDerivedFrom"), e) for e in evidence),
    ]
    if kind == "inferred":
        reason = ox.Literal(_lines(filled.provenance.reason), language="en")
        built.triples.append(ox.Triple(THIS_ENTRY, ox.NamedNode(PKG + "inferenceReason"), reason))
    return built


def _provenance(built: Built, provenance: Provenance, text: str | None) -> list[ox.NamedNode]:
    """The excerpts (with their triples) or the source the facts come from; a mistake noted when unclear."""
    if not _IRI.fullmatch(provenance.source):
        built.refuse(PROVENANCE, "Choose the source these facts come from.")
        return []
    source = ox.NamedNode(provenance.source)
    if provenance.kind == "inferred" and not provenance.reason.strip():
        built.refuse(PROVENANCE, "Say why these facts follow from the source (the reason of an inference).")
    sentences = split_sentences(text or "")
    excerpts = excerpts_of(text or "", sentences, set(provenance.ticked))
    if provenance.kind == "stated" and not excerpts:
        built.refuse(
            PROVENANCE,
            "Tick the sentence or sentences of the source that state these facts, or say the facts are "
            "inferred (with the reason) or editorial.",
        )
    nodes = []
    for excerpt in excerpts:
        node = ox.NamedNode(f"{provenance.source}/excerpt/{excerpt.start}-{excerpt.end}")
        nodes.append(node)
        built.triples += [
            ox.Triple(node, RDF_TYPE, ox.NamedNode(PKG + "SourceExcerpt")),
            ox.Triple(node, ox.NamedNode("http://purl.org/dc/terms/isPartOf"), source),
            ox.Triple(node, ox.NamedNode(PKG + "startOffset"), _integer(excerpt.start)),
            ox.Triple(node, ox.NamedNode(PKG + "endOffset"), _integer(excerpt.end)),
            ox.Triple(node, ox.NamedNode(PROV + "value"), ox.Literal(excerpt.value)),
        ]
    return nodes or [source]


def _term(built: Built, f: Field, value: str, language: str) -> ox.NamedNode | ox.Literal | None:
    """The RDF term of one value of a field; None (and a mistake noted) when it is not one of its kind."""
    if f.kind in ("iri", "resource", "choice"):
        if _IRI.fullmatch(value):
            return ox.NamedNode(value)
        built.refuse(f.key, f"“{value}” is not a full web address (IRI): give one such as https://example.org/….")
        return None
    if f.kind == "langtext":
        language = language.strip() or "en"
        if _LANGUAGE.fullmatch(language):
            return ox.Literal(value, language=language.lower())
        built.refuse(f.key, f"“{language}” is not a language tag: use one such as en, fr or de.")
        return None
    if f.kind in _DATATYPES:
        local, example = _DATATYPES[f.kind]
        literal = ox.Literal(value, datatype=ox.NamedNode(XSD + local))
        if well_typed(literal):
            return literal
        built.refuse(f.key, f"“{value}” is not {example}.")
        return None
    return ox.Literal(value)


def place(form: Form, subject: str, results: Iterable[dict[str, object]], entries: str) -> dict[str, list[str]]:
    """Each result (as Result.as_dict gives it) under the field it is about, the provenance, or the whole.

    entries: what every entry's IRI starts with."""
    placed: dict[str, list[str]] = {}
    results = list(results)
    # A constraint between two things (a number two meetings share) is broken for each of them: the result
    # about the other thing says again what the field already shows, so it is left out.
    shown = {(r.get("sourceShape"), r.get("resultPath")) for r in results if r.get("focusNode") == subject}
    for result in results:
        path, shape = result.get("resultPath"), result.get("sourceShape")
        mine = result.get("focusNode") == subject
        if not mine and (shape, path) in shown:
            continue
        found = form.field_for(str(path) if path else None, str(shape) if shape else None) if mine else None
        focus = str(result.get("focusNode"))
        # Results about the excerpts or the entry's own graph concern the provenance; about others, the whole.
        provenance = "/excerpt/" in focus or focus.startswith(entries)
        key = found.key if found is not None else (PROVENANCE if provenance and not mine else WHOLE)
        prefix = "" if result.get("severity") == "Violation" else f"{result.get('severity')}: "
        placed.setdefault(key, []).append(prefix + str(result.get("message")))
    return placed


def one_place(errors: dict[str, list[str]], shown: Collection[str]) -> dict[str, list[str]]:
    """Each message once: under its key when the form shows that key by a field (or the provenance part),
    under the whole form otherwise."""
    placed: dict[str, list[str]] = {}
    for key, messages in errors.items():
        under = placed.setdefault(key if key in shown else WHOLE, [])
        under += [m for m in dict.fromkeys(messages) if m not in under]
    return placed


def new_iri(store: Store, base: str, space: str, label: str) -> str:
    """A new IRI for a thing, in the scheme (<base>id/<space>/<slug of its label>), not yet used anywhere."""
    slug = unicodedata.normalize("NFKD", label).encode("ascii", "ignore").decode("ascii").lower()
    slug = re.sub(r"[^a-z0-9]+", "-", slug).strip("-")[:60].strip("-") or "item"
    stem, n = f"{base}{THINGS}{space}/{slug}", 1
    candidate = stem
    while store.ask(
        f"ASK {{ {{ GRAPH ?g {{ <{candidate}> ?p ?o }} }} UNION {{ GRAPH ?h {{ ?s ?q <{candidate}> }} }} }}"
    ):
        n += 1
        candidate = f"{stem}-{n}"
    return candidate


def candidates(store: Store, classes: Iterable[str], words: str = "", limit: int = 2000) -> list[tuple[str, str]]:
    """The things of these classes (give every subclass too) with a label each, sorted by label; with words,
    only those whose label holds every one of them (case-blind)."""
    values = " ".join(str(ox.NamedNode(c)) for c in sorted(classes))
    if not values:
        return []
    wanted = " ".join(f"FILTER(CONTAINS(LCASE(STR(?l)), {ox.Literal(w.lower())}))" for w in words.split()[:MOST_WORDS])
    label = f"GRAPH ?h {{ ?s <{RDFS_LABEL}>|<http://www.w3.org/2004/02/skos/core#prefLabel> ?l }}"
    rows = store.select(
        f"SELECT ?s (SAMPLE(?l) AS ?label) WHERE {{ VALUES ?t {{ {values} }} GRAPH ?g {{ ?s a ?t }} FILTER isIRI(?s) "
        f"{label + ' ' + wanted if wanted else 'OPTIONAL { ' + label + ' }'} }} GROUP BY ?s LIMIT {limit}"
    ).values()
    found = [(str(s), str(label) if label else str(s)) for s, label in rows]
    return sorted(found, key=lambda item: (item[1].lower(), item[0]))


def source_text(store: Store, source: str) -> str | None:
    """The text a source document was registered with (schema:text), if any."""
    if not _IRI.fullmatch(source):
        return None
    rows = store.select(f"SELECT ?text WHERE {{ GRAPH ?g {{ <{source}> <{SCHEMA_TEXT}> ?text }} }} LIMIT 1").values()
    return str(rows[0][0]) if rows and rows[0][0] is not None else None


def _integer(value: int) -> ox.Literal:
    return ox.Literal(str(value), datatype=ox.NamedNode(XSD + "integer"))


def _lines(text: str) -> str:
    """A text with its line breaks as LF: a browser sends a text area's as CRLF, a file may hold either."""
    return text.replace("\r\n", "\n").replace("\r", "\n")


def _first(values: list[str]) -> str:
    return values[0] if values else ""

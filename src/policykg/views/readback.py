"""An entry read back into the form it was made with, so that its contributor can revise it.

The inverse of views/contribution.build: the entry's graph gives the thing (its class names the form), each
field's values (by the field's predicate), the languages of its texts, and where its facts come from — the
excerpts' source and the sentences they cover (ticked again), the reason of an inference, or editorial.
Values the form derives itself (excerpts given as evidence) are left out, so that they are derived again.
"""

from collections.abc import Callable, Collection
from dataclasses import dataclass

import pyoxigraph as ox

from policykg.views.contribution import KINDS, OFFERED, PKG, PROV, RDF_TYPE, Filled, Provenance
from policykg.views.forms import Form
from policykg.views.sentences import split_sentences

_PART_OF = ox.NamedNode("http://purl.org/dc/terms/isPartOf")
_DERIVED = ox.NamedNode(PROV + "wasDerivedFrom")
_EXCERPT = ox.NamedNode(PKG + "SourceExcerpt")
_REASON = ox.NamedNode(PKG + "inferenceReason")
_OFFSETS = (ox.NamedNode(PKG + "startOffset"), ox.NamedNode(PKG + "endOffset"))


@dataclass(frozen=True)
class ReadBack:
    """An entry as a filled form: the thing it describes, the form of the thing's class, and the values."""

    subject: str
    form: Form
    filled: Filled


def read_back(
    entry: str, quads: list[ox.Quad], form_of: Callable[[str], Form | None], text_of: Callable[[str], str | None]
) -> ReadBack | None:
    """The entry's content as its form filled in; None when it describes nothing a form offers."""
    triples = [q for q in quads if q.graph_name == ox.NamedNode(entry)]
    types = {(q.subject, _v(q.object)) for q in triples if q.predicate == RDF_TYPE}
    found = next(((s, t) for s, t in sorted(types, key=str) if t in OFFERED and _v(s) != entry), None)
    form = form_of(found[1]) if found else None
    if found is None or form is None:
        return None
    thing = found[0]
    excerpts = {s for s, t in types if t == _EXCERPT.value}
    evidence = [q.object for q in triples if _v(q.subject) == entry and q.predicate == _DERIVED]
    values: dict[str, list[str]] = {}
    languages: dict[str, list[str]] = {}
    for f in form.fields:
        objects = [q.object for q in triples if q.subject == thing and q.predicate.value == f.path]
        if PKG + "SourceExcerpt" in f.classes and set(objects) == set(evidence):
            continue  # the ticked sentences give them again
        values[f.key] = [_v(o) for o in objects]
        if f.kind == "langtext":
            languages[f.key] = [o.language or "" if isinstance(o, ox.Literal) else "" for o in objects]
    return ReadBack(_v(thing), form, Filled(values, languages, _provenance(entry, triples, excerpts, text_of)))


def _provenance(
    entry: str, triples: list[ox.Quad], excerpts: Collection[object], text_of: Callable[[str], str | None]
) -> Provenance:
    """Where the entry's facts come from, as the form's provenance part was filled in."""
    about = [q for q in triples if _v(q.subject) == entry]
    kinds = {v: k for k, v in KINDS.items()}
    kind = next((kinds[_v(q.object)[len(PKG) :]] for q in about if q.predicate == RDF_TYPE and _is_kind(q)), "")
    reason = next((_v(q.object) for q in about if q.predicate == _REASON), "")
    evidence = [q.object for q in about if q.predicate == _DERIVED]
    spans: list[tuple[int, int]] = []
    source = ""
    for node in evidence:
        if node not in excerpts:
            source = source or _v(node)
            continue
        facts = {q.predicate: q.object for q in triples if q.subject == node}
        if not source and _PART_OF in facts:
            source = _v(facts[_PART_OF])
        if all(p in facts for p in _OFFSETS):
            spans.append((int(_v(facts[_OFFSETS[0]])), int(_v(facts[_OFFSETS[1]]))))
    sentences = split_sentences(text_of(source) or "") if spans else []
    ticked = frozenset(
        i for i, s in enumerate(sentences) if any(start <= s.start and s.end <= end for start, end in spans)
    )
    return Provenance(kind or "stated", source, ticked, reason)


def _is_kind(quad: ox.Quad) -> bool:
    """Whether a type statement names one of the kinds of assertion (stated, inferred, editorial)."""
    return _v(quad.object).startswith(PKG) and _v(quad.object)[len(PKG) :] in KINDS.values()


def _v(term: object) -> str:
    """A term's value (an IRI, a blank node's label, a literal's text); "" for a quoted triple."""
    return term.value if isinstance(term, (ox.NamedNode, ox.BlankNode, ox.Literal)) else ""

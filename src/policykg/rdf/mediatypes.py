"""Media types of the SPARQL protocol and RDF, as tables, and Accept-header negotiation (RFC 9110 §12.5.1)."""

import functools
import math
import re
from dataclasses import dataclass

# Answers to SELECT and ASK: media type -> format name understood by the store. The first is the default.
RESULT_TYPES: dict[str, str] = {
    "application/sparql-results+json": "json",
    "application/sparql-results+xml": "xml",
    "text/csv": "csv",
    "text/tab-separated-values": "tsv",
    "application/json": "json",
    "application/xml": "xml",
}
# Answers to CONSTRUCT and DESCRIBE (a graph), and graphs of the Graph Store Protocol.
GRAPH_TYPES: dict[str, str] = {
    "text/turtle": "turtle",
    "application/n-triples": "ntriples",
    "application/ld+json": "jsonld",
    "application/rdf+xml": "rdfxml",
    "application/n-quads": "nquads",
    "application/trig": "trig",
    "text/plain": "ntriples",
}
# A whole dataset (GET /store): only syntaxes that keep graph names.
DATASET_TYPES: dict[str, str] = {
    "application/n-quads": "nquads",
    "application/trig": "trig",
}
# What a client may send as RDF.
RDF_INPUT_TYPES: dict[str, str] = {
    "text/turtle": "turtle",
    "application/x-turtle": "turtle",
    "application/n-triples": "ntriples",
    "application/ld+json": "jsonld",
    "application/rdf+xml": "rdfxml",
    "application/n-quads": "nquads",
    "application/trig": "trig",
}
HTML = "text/html"
# The members of an Accept header: text up to a comma that is not inside a quoted string.
_OUTSIDE_QUOTES = re.compile(r'(?:[^,"]|"(?:[^"\\]|\\.)*")+')


def _first_media_types(table: dict[str, str]) -> dict[str, str]:
    """Each format name of a table with the first media type listed for it."""
    found: dict[str, str] = {}
    for media_type, name in table.items():
        found.setdefault(name, media_type)
    return found


# The other way round, to ask an engine for a format by its name.
RESULT_MEDIA = _first_media_types(RESULT_TYPES)
GRAPH_MEDIA = _first_media_types(GRAPH_TYPES)


@dataclass(frozen=True)
class _Range:
    type: str
    subtype: str
    q: float

    def matches(self, media_type: str) -> bool:
        kind, _, sub = media_type.partition("/")
        return self.type in ("*", kind) and self.subtype in ("*", sub)

    @property
    def specificity(self) -> int:
        return (self.type != "*") + (self.subtype != "*")


def base_type(header: str | None) -> str:
    """The media type of a Content-Type header without its parameters, in lower case."""
    return (header or "").split(";", 1)[0].strip().lower()


def parse_accept(header: str | None) -> list[_Range]:
    """Read an Accept header into media ranges with their weights; a missing header accepts anything."""
    if not header or not header.strip():
        return [_Range("*", "*", 1.0)]
    ranges = []
    for part in _OUTSIDE_QUOTES.findall(header):  # a quoted parameter value may hold a comma (RFC 9110 §5.6.4)
        fields = [f.strip() for f in part.split(";")]
        kind, _, sub = fields[0].lower().partition("/")
        if not kind or not sub:
            continue
        q = 1.0
        for field in fields[1:]:
            name, _, value = field.partition("=")
            if name.strip().lower() == "q":
                try:
                    q = float(value)
                except ValueError:
                    q = 0.0
                q = 0.0 if math.isnan(q) else max(0.0, min(1.0, q))  # nan is as unreadable as abc
        ranges.append(_Range(kind, sub, q))
    return ranges


def negotiate(header: str | None, offers: list[str]) -> str | None:
    """Pick the offered media type the client weighs most; ties go to the server's order; None if none fits."""
    return _negotiate(header, tuple(offers))


@functools.lru_cache(maxsize=1024)  # clients send a handful of Accept headers, again and again
def _negotiate(header: str | None, offers: tuple[str, ...]) -> str | None:
    ranges = parse_accept(header)
    best: tuple[float, int, str] | None = None
    for position, offer in enumerate(offers):
        matching = [r for r in ranges if r.matches(offer)]
        if not matching:
            continue
        weight = max(matching, key=lambda r: r.specificity).q
        if weight <= 0:
            continue
        candidate = (weight, -position, offer)
        if best is None or candidate > best:
            best = candidate
    return best[2] if best else None


def from_format_parameter(value: str, table: dict[str, str]) -> str | None:
    """Map a `format` request parameter (a short name or a media type) to a media type of the table."""
    value = value.strip().lower()
    if value in table:
        return value
    for media_type, name in table.items():
        if name == value:
            return media_type
    return None

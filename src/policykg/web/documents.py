"""Documents over HTTP: the syntaxes a description is offered in, chosen by Accept or by file ending, and
conditional requests (RFC 9110 §13) answered with 304 when the client's copy is current."""

import hashlib
from collections.abc import Sequence
from datetime import datetime
from email.utils import parsedate_to_datetime
from urllib.parse import quote

import pyoxigraph as ox
import rdflib
from fastapi import Request
from fastapi.responses import Response

from policykg.errors import NotAcceptable
from policykg.rdf import jsonld
from policykg.rdf.input import to_rdflib_term
from policykg.rdf.mediatypes import HTML, negotiate
from policykg.rdf.namespaces import PREFIXES

# File ending -> media type, in the server's order of preference (a client that accepts anything gets Turtle).
DOCUMENTS: dict[str, str] = {
    "ttl": "text/turtle",
    "jsonld": "application/ld+json",
    "nt": "application/n-triples",
    "rdf": "application/rdf+xml",
    "trig": "application/trig",
    "nq": "application/n-quads",
    "html": HTML,
}
PATH_SAFE = "/:@!$&'()*+,;=-._~"  # what may stay as it is in a URI path (RFC 3986 §3.3)
ENDINGS = {media_type: ending for ending, media_type in DOCUMENTS.items()}
DATASET_SYNTAXES = ("application/trig", "application/n-quads")
_SYNTAX = {
    "text/turtle": ox.RdfFormat.TURTLE,
    "application/n-triples": ox.RdfFormat.N_TRIPLES,
    "application/rdf+xml": ox.RdfFormat.RDF_XML,
    "application/trig": ox.RdfFormat.TRIG,
    "application/n-quads": ox.RdfFormat.N_QUADS,
}
_PREFIXES = {**PREFIXES, **jsonld.EXTRA_PREFIXES}


def choose(accept: str | None, offers: list[str] | None = None) -> str:
    """The media type to answer with; NotAcceptable (406) if the client takes none of the offers."""
    offers = offers or list(DOCUMENTS.values())
    chosen = negotiate(accept, offers)
    if chosen is None:
        raise NotAcceptable(f"this document is offered as {', '.join(offers)}")
    return chosen


def render(statements: Sequence[ox.Quad | ox.Triple], media_type: str, base_iri: str) -> bytes:
    """Serialise quads (or triples): graph syntaxes get each triple once, dataset syntaxes keep the graphs."""
    if media_type in DATASET_SYNTAXES:
        return _written(
            ox.serialize(
                [s for s in statements if isinstance(s, ox.Quad)], format=_SYNTAX[media_type], prefixes=_PREFIXES
            )
        )
    triples = list(dict.fromkeys(ox.Triple(s.subject, s.predicate, s.object) for s in statements))
    if media_type == "application/ld+json":
        graph = rdflib.Graph()
        for triple in triples:
            graph.add(
                (
                    to_rdflib_term(triple.subject),
                    to_rdflib_term(triple.predicate),
                    to_rdflib_term(triple.object, exact=True),
                )
            )
        return jsonld.serialize(graph, base_iri)
    return _written(
        ox.serialize(triples, format=_SYNTAX[media_type], prefixes=_PREFIXES if media_type == "text/turtle" else None)
    )


def _written(data: bytes | None) -> bytes:
    assert data is not None  # no output given: serialize returns the bytes
    return data


def link_header(document: str, current: str | None = None, about: str | None = None, by_parameter: bool = False) -> str:
    """A Link header naming the document's other syntaxes (rel=alternate) and its Turtle form (rel=describedby).

    The syntaxes are addressed by file ending (document.ttl), or by the format parameter (document?format=ttl).
    """

    def address(ending: str) -> str:
        return f"{document}?format={ending}" if by_parameter else f"{document}.{ending}"

    links = [
        f'<{address(ending)}>; rel="alternate"; type="{media_type}"'
        for ending, media_type in DOCUMENTS.items()
        if media_type != current
    ]
    links.append(f'<{address("ttl")}>; rel="describedby"; type="text/turtle"')
    if about:
        links.append(f'<{iri_to_uri(about)}>; rel="about"')
    return ", ".join(links)


def is_current(request: Request, etag: str, modified: datetime | None = None) -> bool:
    """Whether the client's copy is current: If-None-Match decides when sent (weak comparison, RFC 9110
    §13.1.2), else If-Modified-Since (§13.1.3; an unreadable date is ignored)."""
    wanted = request.headers.get("if-none-match")
    if wanted is not None:
        tags = [tag.strip().removeprefix("W/") for tag in wanted.split(",")]
        return "*" in tags or etag.removeprefix("W/") in tags
    since = request.headers.get("if-modified-since")
    if since and modified is not None:
        try:
            return modified <= parsedate_to_datetime(since)
        except (TypeError, ValueError):
            return False
    return False


def conditional(request: Request, body: bytes, media_type: str, headers: dict[str, str]) -> Response:
    """Answer with the body and an ETag made from it, or 304 Not Modified when the client's copy is this one."""
    tag = '"' + hashlib.sha256(media_type.encode() + b"\n" + body).hexdigest()[:32] + '"'
    headers = {**headers, "ETag": tag}
    # Only the ETag decides: a Last-Modified header has whole seconds, and a change within the same second
    # would pass for no change under If-Modified-Since.
    if is_current(request, tag):
        return Response(status_code=304, headers=headers)
    charset = "; charset=utf-8" if media_type.startswith("text/") or media_type.endswith("json") else ""
    return Response(body, media_type=media_type + charset, headers=headers)


def web_path(relative: str) -> str:
    """A path as it may stand in a header or a link: characters outside a URI's path percent-encoded."""
    return quote(relative, safe=PATH_SAFE)


def iri_to_uri(iri: str) -> str:
    """An IRI as a URI (RFC 3987 §3.1), as a header needs it: characters beyond ASCII percent-encoded."""
    return quote(iri, safe=PATH_SAFE + "?#[]%")

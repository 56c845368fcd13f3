"""The dataset described for harvesters: VoID at /.well-known/void, the DCAT-AP 3 record at /catalog.

Both are made in the background (web/derived.py) from the figures the writer keeps from each write
(publish/tally.py; over a remote store, counted in full in the background): a reader gets the newest made at
once, labelled with the revision it counts (ETag, Last-Modified), never figures of one revision under
another's name; a crawler's repeated visits cost nothing, and clients revalidate with the ETag.
"""

from collections.abc import Callable
from datetime import datetime
from email.utils import format_datetime

import rdflib
from fastapi import APIRouter, Request
from fastapi.responses import Response

from policykg.publish.catalogue import dcat_graph, void_graph
from policykg.publish.statistics import Statistics, statistics
from policykg.web import apidoc
from policykg.web.context import context, run
from policykg.web.derived import Derived, derived_from
from policykg.web.documents import choose, is_current
from policykg.writing.writer import Revision, Writer

router = APIRouter(tags=["Catalogue"], default_response_class=Response)  # no JSON default in the API description
# Media type -> (rdflib syntax, tag added to the ETag: each representation has its own, RFC 9110 §8.8.3).
_SYNTAXES: dict[str, tuple[str, str]] = {
    "text/turtle": ("turtle", "ttl"),
    "application/ld+json": ("json-ld", "jsonld"),
    "application/n-triples": ("nt", "nt"),
    "application/rdf+xml": ("xml", "rdf"),
    "application/trig": ("trig", "trig"),
}
_BUILDERS: dict[str, Callable[..., rdflib.Graph]] = {"void": void_graph, "catalog": dcat_graph}
_DEFAULT = "text/turtle"
_CACHE_CONTROL = "max-age=60"
_ANSWERS = {
    **apidoc.answers(200, "The description", _SYNTAXES),
    **apidoc.empty(304, "The client's copy is current"),
    **apidoc.problems(406),
}


class _Documents:
    """The documents of one revision of the store, each serialised once per syntax when first asked for."""

    def __init__(self, graphs: dict[str, rdflib.Graph]) -> None:
        self.graphs = graphs
        self.bodies: dict[tuple[str, str], bytes] = {}

    def body(self, document: str, media_type: str) -> bytes:
        """The document in a syntax (two threads may both serialise it at first: either result does)."""
        key = (document, media_type)
        if key not in self.bodies:
            self.bodies[key] = self.graphs[document].serialize(format=_SYNTAXES[media_type][0], encoding="utf-8")
        return self.bodies[key]


@router.get(
    "/.well-known/void",
    summary="The VoID description of the dataset: figures, vocabularies, linksets",
    responses=_ANSWERS,
)
@router.head("/.well-known/void", include_in_schema=False)
async def void_description(request: Request) -> Response:
    """VoID (Turtle by default): triples, classes, links to EuroVoc, Wikidata, ELI, the EU authority tables."""
    return await _answer(request, "void")


@router.get(
    "/catalog", summary="The DCAT-AP 3 record: catalogue, dataset, downloads and data services", responses=_ANSWERS
)
@router.head("/catalog", include_in_schema=False)
async def catalogue_record(request: Request) -> Response:
    """DCAT-AP 3.0.1 (Turtle by default), for data portals that harvest it."""
    return await _answer(request, "catalog")


async def _answer(request: Request, document: str) -> Response:
    ctx = context(request)
    media_type = choose(request.headers.get("accept"), list(_SYNTAXES))
    revision = ctx.writer.revision
    if is_current(request, _etag(revision.tag, media_type), revision.modified):
        return Response(status_code=304, headers=_headers(revision.tag, revision.modified, media_type))
    made, documents = await _derived(request).get()  # the newest made: perhaps a revision before this one
    if is_current(request, _etag(made.tag, media_type), made.modified):
        return Response(status_code=304, headers=_headers(made.tag, made.modified, media_type))
    body = await run(ctx.executor, lambda: documents.body(document, media_type))
    return Response(body, media_type=media_type, headers=_headers(made.tag, made.modified, media_type))


def _derived(request: Request) -> Derived[_Documents]:
    """The app's documents, made in the background from the newest figures (the first after a start waits)."""
    ctx = context(request)
    settings, figures, writer = ctx.settings, ctx.figures, ctx.writer

    def documents(revision: Revision, stats: Statistics) -> _Documents:
        made = _Documents({name: build(settings, stats, revision.modified) for name, build in _BUILDERS.items()})
        for name in _BUILDERS:  # the default syntax, ready before anyone asks
            made.body(name, _DEFAULT)
        return made

    if figures is not None:  # kept by the writer from each write (publish/tally.py)
        kept = figures

        def from_figures() -> tuple[Revision, _Documents]:
            revision, stats = kept.latest()
            return revision, documents(revision, stats)

        return derived_from(request, "catalogue", from_figures, lambda: _tag(kept.revision))

    def counted() -> tuple[Revision, _Documents]:
        revision, stats = _counted(writer, settings.base_iri)
        return revision, documents(revision, stats)

    return derived_from(request, "catalogue", counted, lambda: writer.revision.tag)


def _counted(writer: Writer, base_iri: str) -> tuple[Revision, Statistics]:
    """A remote engine's figures, counted in full as it is now (others may write to it: the writer cannot keep
    them); counted again with the service's writes held back if one of them came in between."""
    with writer.frozen() as (revision, store):
        stats = statistics(store, base_iri)
    if writer.unchanged_since(revision):
        return revision, stats
    with writer.frozen(steady=True) as (revision, store):
        return revision, statistics(store, base_iri)


def _tag(revision: Revision | None) -> str | None:
    return None if revision is None else revision.tag


def _etag(tag: str, media_type: str) -> str:
    return f'"{tag}-{_SYNTAXES[media_type][1]}"'


def _headers(tag: str, modified: datetime, media_type: str) -> dict[str, str]:
    return {
        "ETag": _etag(tag, media_type),
        "Last-Modified": format_datetime(modified, usegmt=True),
        "Vary": "Accept",
        "Cache-Control": _CACHE_CONTROL,
    }

"""The dataset described for harvesters: VoID at /.well-known/void, the DCAT-AP 3 record at /catalog.

Both are computed from the store's statistics once per revision of the store (a write makes a new one) and
kept with the app, so that a crawler's repeated visits cost nothing; clients revalidate with the ETag.
"""

import asyncio
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from email.utils import format_datetime

import rdflib
from fastapi import APIRouter, Request
from fastapi.responses import Response

from policykg.publish.catalogue import dcat_graph, void_graph
from policykg.publish.statistics import statistics
from policykg.web import apidoc
from policykg.web.context import ServiceContext, context, run
from policykg.web.documents import choose, is_current

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
_CACHE_CONTROL = "max-age=60"
_ANSWERS = {
    **apidoc.answers(200, "The description", _SYNTAXES),
    **apidoc.empty(304, "The client's copy is current"),
    **apidoc.problems(406),
}


@dataclass
class _Documents:
    """The documents of one revision of the store, built once, serialised once per syntax."""

    tag: str = ""
    modified: datetime | None = None
    graphs: dict[str, rdflib.Graph] = field(default_factory=dict)
    bodies: dict[tuple[str, str], bytes] = field(default_factory=dict)
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    builds: int = 0  # how many times the documents were built


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
    documents = _documents(request)
    builds = documents.builds
    async with documents.lock:  # one computation per revision, however many crawlers ask at once
        # A build that ended while this request waited will do, even if a write came since (its ETag says which
        # revision it is, and the documents allow a minute of caching anyway). Otherwise, under steady writes,
        # each waiting request would build again in turn, and the last would wait for every build before it.
        if documents.tag != ctx.writer.revision.tag and documents.builds == builds:
            await _rebuild(ctx, documents)
        key = (document, media_type)
        if key not in documents.bodies:
            graph, syntax = documents.graphs[document], _SYNTAXES[media_type][0]
            documents.bodies[key] = await run(ctx.executor, lambda: graph.serialize(format=syntax, encoding="utf-8"))
        body, tag, modified = documents.bodies[key], documents.tag, documents.modified
    assert modified is not None
    return Response(body, media_type=media_type, headers=_headers(tag, modified, media_type))


async def _rebuild(ctx: ServiceContext, documents: _Documents) -> None:
    # The revision is read before the store is: a write meanwhile gives a newer tag, and the next request rebuilds.
    revision = ctx.writer.revision
    stats = await run(ctx.executor, lambda: statistics(ctx.store, ctx.settings.base_iri))
    documents.graphs = {name: build(ctx.settings, stats, revision.modified) for name, build in _BUILDERS.items()}
    documents.tag, documents.modified, documents.bodies = revision.tag, revision.modified, {}
    documents.builds += 1


def _documents(request: Request) -> _Documents:
    """The app's cache of documents (kept in the app's state, never in a module global)."""
    state = request.app.state
    if not hasattr(state, "catalogue_documents"):
        state.catalogue_documents = _Documents()
    return state.catalogue_documents


def _etag(tag: str, media_type: str) -> str:
    return f'"{tag}-{_SYNTAXES[media_type][1]}"'


def _headers(tag: str, modified: datetime, media_type: str) -> dict[str, str]:
    return {
        "ETag": _etag(tag, media_type),
        "Last-Modified": format_datetime(modified, usegmt=True),
        "Vary": "Accept",
        "Cache-Control": _CACHE_CONTROL,
    }

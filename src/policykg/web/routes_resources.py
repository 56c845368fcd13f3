"""Dereferenceable IRIs: every resource under the base answers, in the syntax the client asks for.

policykg's resource IRIs name things (a meeting, a person, a recommendation), not documents, so it
follows the 303 pattern of "Cool URIs for the Semantic Web" (W3C Interest Group Note, §4.3):
GET <base>id/… answers 303 See Other to a document about the thing, <base>doc/id/….ttl (or .jsonld,
.nt, .rdf, .trig, .nq, .html), picked by the Accept header (Vary: Accept). The document without an
ending, <base>doc/id/…, negotiates too and names the one it sent in Content-Location. A thing nothing
is said of is 404; one whose only entry was retracted is 410.
"""

from fastapi import APIRouter, Request
from fastapi.responses import Response

from policykg.iris import genid_prefix, registry_iri
from policykg.publish.feeds import feed_path
from policykg.rdf.mediatypes import HTML
from policykg.rdf.namespaces import PKG, PREFIXES
from policykg.views import tracking
from policykg.views.describe import Description, Label, describe, exists, resource_iri
from policykg.web import apidoc, routes_pictures
from policykg.web.context import ServiceContext, context, run
from policykg.web.documents import (
    DATASET_SYNTAXES,
    DOCUMENTS,
    ENDINGS,
    choose,
    conditional,
    link_header,
    render,
    web_path,
)
from policykg.web.pages import page
from policykg.web.routes_feeds import feed_kinds

router = APIRouter(tags=["Linked data"], default_response_class=Response)  # no JSON default in the API description
_SKOS_CONCEPT = PREFIXES["skos"] + "Concept"
_LOOKUP_PROBLEMS = apidoc.problems(404, 406, 410)


@router.get(
    "/id/{path:path}",
    status_code=303,
    summary="A resource: 303 See Other to a document about it",
    responses={**apidoc.empty(303, "See the document about the resource (Location)"), **_LOOKUP_PROBLEMS},
)
@router.head("/id/{path:path}", include_in_schema=False)
@router.api_route("/graph/{path:path}", methods=["GET", "HEAD"], include_in_schema=False)
@router.api_route("/.well-known/genid/{path:path}", methods=["GET", "HEAD"], include_in_schema=False)
async def thing(request: Request, path: str) -> Response:
    """Redirect to the document about the resource, in the syntax the client prefers."""
    ctx = context(request)
    media_type = choose(request.headers.get("accept"))
    relative = request.url.path.lstrip("/")
    iri = resource_iri(ctx.settings.base_iri, relative)
    store = ctx.store
    if not (store.local_reads and store.mentions(iri)):  # a miss reads the retracted entries: on a thread
        await run(ctx.executor, lambda: exists(store, iri, registry_iri(ctx.settings.base_iri)))
    return Response(
        status_code=303, headers={"Location": f"/doc/{web_path(relative)}.{ENDINGS[media_type]}", "Vary": "Accept"}
    )


@router.get(
    "/doc/{path:path}",
    summary="The document about a resource, in any syntax",
    responses={
        **apidoc.answers(200, "The description of the resource", DOCUMENTS.values()),
        **apidoc.empty(304, "The client's copy is current"),
        **_LOOKUP_PROBLEMS,
    },
)
@router.head("/doc/{path:path}", include_in_schema=False)
async def document(request: Request, path: str) -> Response:
    """The resource's description: its statements, the links to it, labels, and where they come from."""
    ctx = context(request)
    relative, _, ending = path.rpartition(".")
    if ending not in DOCUMENTS:
        relative, ending = path, ""
    media_type = DOCUMENTS[ending] if ending else choose(request.headers.get("accept"))
    iri = resource_iri(ctx.settings.base_iri, relative)
    base = ctx.settings.base_iri
    document = f"/doc/{web_path(relative)}"

    def make() -> bytes:  # a few queries and the serialising: done once per resource, syntax and revision
        known: dict[str, Label | None] = ctx.memo("labels", dict)  # the labels looked up in this state of the store
        found = describe(ctx.store, iri, genid_prefix(base), registry_iri(base), known)
        if media_type == HTML:
            return _page(ctx, found, document).encode("utf-8")
        return render(found.quads() if media_type in DATASET_SYNTAXES else found.triples(), media_type, base)

    key = ("doc", relative, media_type)
    body = ctx.kept_document(key)  # kept since it was made for this revision: no thread needed
    if body is None:
        body = await run(ctx.executor, lambda: ctx.document(key, make))
    headers = {"Link": link_header(document, media_type, iri.value), "Cache-Control": "max-age=60"}
    if not ending:
        headers["Vary"] = "Accept"
        headers["Content-Location"] = f"{document}.{ENDINGS[media_type]}"
    return conditional(request, body, media_type, headers)


async def _thing_at(request: Request) -> Response:
    return await thing(request, "")  # the thing's IRI is read from the whole path


async def _document_at(request: Request) -> Response:
    return await document(request, request.scope["path"].removeprefix("/doc/"))


# What the fast path answers outside the framework's routing (web/fastpath.py), by the start of the path.
_THING = {"GET": _thing_at, "HEAD": _thing_at}
RESPONDERS = {
    "/id/": _THING,
    "/graph/": _THING,
    "/.well-known/genid/": _THING,
    "/doc/": {"GET": _document_at, "HEAD": _document_at},
}


def _page(ctx: ServiceContext, found: Description, document: str) -> str:
    """The resource's HTML page, with the policy-tracking view that fits its type."""
    views: dict[str, object] = {}
    if str(PKG.Recommendation) in found.types:
        views["trail"] = tracking.trail(ctx.store, found.iri)
        views["provisions"] = tracking.provisions(ctx.store, found.iri)
    if (
        _SKOS_CONCEPT in found.types
        or str(PKG.PolicyConcept) in found.types
        or str(PKG.PolicyInstrument) in found.types
    ):
        views["touching"] = tracking.touching(ctx.store, found.iri)
    kinds = feed_kinds(ctx, found.iri)
    if kinds:  # its feed of changes (web/routes_feeds.py), linked from the page's head and shown on it
        views["feed"] = {"href": "/" + feed_path(kinds[0], found.iri), "title": f"Changes to {found.label} (Atom)"}
    views |= routes_pictures.views_of(ctx, found.iri, found.label, kinds)  # a trail's or a concept's picture
    return page(ctx, "resource.html", found.label, description=found, views=views, document=document)

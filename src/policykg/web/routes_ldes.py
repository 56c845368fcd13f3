"""The change stream of the entries over HTTP: the event stream at /ldes, its pages at /ldes/{number}.

Following the LDES server primer ("Serializations and HTTP Responses"): the syntax is negotiated (Vary:
Accept), every answer has an ETag, and a page that can no longer change is sent with `Cache-Control:
immutable` for a year; the stream and its newest page are cached for a few seconds only.
"""

from collections.abc import Callable
from email.utils import format_datetime

from fastapi import APIRouter, Path, Request
from fastapi.responses import Response

from policykg.publish import ldes as changestream
from policykg.rdf.input import to_oxigraph_term
from policykg.rdf.terms import quad_of
from policykg.web import apidoc
from policykg.web.context import context, run
from policykg.web.documents import choose, conditional, render

router = APIRouter(tags=["Change stream"], default_response_class=Response)  # no JSON default in the API description
# The syntaxes an LDES client must read (LDES "HTTP requests and responses"); Turtle for anyone else.
OFFERS = ["text/turtle", "application/ld+json", "application/n-triples", "application/trig", "application/n-quads"]
IMMUTABLE = "public, max-age=31536000, immutable"
GROWING = "max-age=5"
_ANSWERS = {**apidoc.empty(304, "The client's copy is current"), **apidoc.problems(400, 406)}


@router.get(
    "/ldes",
    summary="The change stream (LDES): every entry, revision and retraction, and its root page",
    responses={**apidoc.answers(200, "The event stream", OFFERS), **_ANSWERS},
)
@router.head("/ldes", include_in_schema=False)  # one operation in the API description, so one operation ID
async def read_stream(request: Request) -> Response:
    """The event stream: its context information and its one view, the root page /ldes/0."""
    ctx = context(request)
    return await _answer(request, lambda: changestream.stream_root(ctx.settings.base_iri))


@router.get(
    "/ldes/{number}",
    summary="A page of the change stream, oldest first",
    responses={**apidoc.answers(200, "The page", OFFERS), **_ANSWERS},
)
@router.head("/ldes/{number}", include_in_schema=False)
async def read_page(
    request: Request, number: int = Path(ge=0, le=10**9, description="the page, 0 being the root")
) -> Response:
    """Members number×size … number×size+size−1 in time order, and the relation to the next page."""
    ctx = context(request)
    return await _answer(
        request, lambda: changestream.page(ctx.store, ctx.settings.base_iri, number, ctx.settings.ldes_page_size)
    )


async def _answer(request: Request, build: Callable[[], changestream.Page]) -> Response:
    """The document in the negotiated syntax with its validators, or 304 when the client's copy is current."""
    ctx = context(request)
    media_type = choose(request.headers.get("accept"), OFFERS)

    def rendered() -> tuple[changestream.Page, bytes]:  # reads the store and serialises: off the event loop
        document = build()
        # Sorted statements give the same bytes for the same page, so that its strong ETag stays put.
        quads = sorted((quad_of(*map(to_oxigraph_term, triple)) for triple in document.graph), key=str)
        return document, render(quads, media_type, ctx.settings.base_iri)

    document, body = await run(ctx.executor, rendered)
    headers = {"Vary": "Accept", "Cache-Control": IMMUTABLE if document.immutable else GROWING}
    if document.last_modified is not None:
        headers["Last-Modified"] = format_datetime(document.last_modified, usegmt=True)
    return conditional(request, body, media_type, headers)

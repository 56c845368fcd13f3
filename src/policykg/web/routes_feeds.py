"""Atom feeds of what changed over HTTP: every change at /feeds/entries.atom, and the changes that touch one
concept, organisation or recommendation at /feeds/{concept,organisation,recommendation}.atom?iri=….

A feed is sent with the validators of the store's revision (ETag, Last-Modified); a client whose copy is of
the current revision gets 304 with no body (RFC 9110 §13), before anything is read but the resource's kind.
A feed's pages are kept until the next write, as the other pages are (web/context.py).
"""

import datetime as dt
from email.utils import format_datetime

from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import Response

from policykg.errors import ResourceNotFound
from policykg.publish import atom, changes, feeds
from policykg.sparql.protocol import check_iri
from policykg.views import tracking
from policykg.views.describe import Label, labels_of
from policykg.web import apidoc
from policykg.web.context import ServiceContext, context, run
from policykg.web.documents import is_current

router = APIRouter(tags=["Feeds"], default_response_class=Response)  # no JSON default in the API description
MEDIA_TYPE = atom.MEDIA_TYPE + "; charset=utf-8"
_ANSWERS = {
    **apidoc.answers(200, "The feed, an Atom document", [atom.MEDIA_TYPE]),
    **apidoc.empty(304, "The client's copy is of the current revision of the store"),
    **apidoc.problems(400, 404),
}
_PAGE = Query(1, ge=1, le=1_000_000, description="the page, 1 being the newest (a paged feed, RFC 5005 §3)")
_ALL = "policykg: every change to the graph"


@router.get("/feeds/entries.atom", summary="Every entry added, revised or retracted, newest first", responses=_ANSWERS)
@router.head("/feeds/entries.atom", include_in_schema=False)
async def every_change(request: Request, page: int = _PAGE) -> Response:
    """The feed of every change: each entry accepted (new or revising another) and each retraction."""
    base = context(request).settings.base_iri
    address = feeds.Address(base + feeds.feed_path(None), base + "entries?format=html", _ALL)
    return await _answer(request, address, None, page)


@router.get(
    "/feeds/{kind}.atom",
    summary="The changes that touch a concept (or a narrower one), an organisation or a recommendation (and its trail)",
    responses=_ANSWERS,
)
@router.head("/feeds/{kind}.atom", include_in_schema=False)
async def changes_of(
    request: Request,
    kind: str = Path(description="concept, organisation or recommendation"),
    iri: str = Query(description="the concept's, organisation's or recommendation's IRI"),
    page: int = _PAGE,
) -> Response:
    """The entries whose triples name the resource, as they were added, revised and retracted: for a concept,
    also those naming a narrower one (skos:broader*); for a recommendation, also those naming its status
    records or presentations, and its trail: where it was issued and presented and each status it reached."""
    if kind not in changes.KINDS:
        raise ResourceNotFound(f"there is no {kind} feed: feeds follow a {', '.join(changes.KINDS)}")
    return await _scoped(request, kind, iri, page)


async def _scoped(request: Request, name: str, iri: str, page: int) -> Response:
    """The feed of one resource of a kind: 400 for a parameter that is no IRI, 404 for no resource of that kind."""
    ctx = context(request)
    check_iri(iri, "iri")
    if name not in await run(ctx.executor, lambda: feed_kinds(ctx, iri)):
        raise ResourceNotFound(f"<{iri}> is no {name} of this graph, so it has no {name} feed")
    base = ctx.settings.base_iri
    address = feeds.Address(base + feeds.feed_path(name, iri), feeds.page_of(base, iri), "")
    return await _answer(request, address, (changes.KINDS[name], iri), page)


async def _answer(
    request: Request, address: feeds.Address, scope: tuple[changes.Kind, str] | None, page: int
) -> Response:
    """The feed's page with the revision's validators, or 304 when the client's copy is of this revision."""
    ctx = context(request)
    revision = ctx.writer.revision
    # In whole seconds, as Last-Modified says it, so that a client sending it back gets 304. Two writes within
    # one second look alike to If-Modified-Since; the ETag, which If-None-Match compares first, never does.
    modified = revision.modified.replace(microsecond=0)
    headers = {
        "ETag": f'"{revision.tag}"',
        "Last-Modified": format_datetime(modified, usegmt=True),
        "Cache-Control": "no-cache",  # ask every time: a 304 costs next to nothing
        "X-Content-Type-Options": "nosniff",
    }
    if is_current(request, headers["ETag"], modified):
        return Response(status_code=304, headers=headers)

    def make() -> bytes:  # the queries and the writing: once per feed, page and revision, off the event loop
        return _build(ctx, address, scope, page, revision.modified)

    body = await run(ctx.executor, lambda: ctx.document(("feed", address.iri, str(page)), make))
    return Response(body, media_type=MEDIA_TYPE, headers=headers)


def _build(
    ctx: ServiceContext,
    address: feeds.Address,
    scope: tuple[changes.Kind, str] | None,
    page: int,
    modified: dt.datetime,
) -> bytes:
    """The feed's page, from the store as it is now."""
    base = ctx.settings.base_iri
    # The labels looked up in this state of the store, shared with the resources' pages (routes_resources).
    known: dict[str, Label | None] = ctx.memo("labels", dict)

    def label(iris: set[str]) -> dict[str, str]:
        return {iri: found.text.value for iri, found in labels_of(ctx.store, iris, known).items()}

    if scope is None:
        return feeds.build(ctx.store, base, address, None, page, label, modified, size=ctx.settings.feed_page_size)
    kind, iri = scope
    name = label({iri}).get(iri) or iri
    titled = feeds.Address(address.iri, address.page_link, f"policykg: changes to {kind.scope.format(name)}")
    extra = _trail(ctx, iri, name) if kind.name == "recommendation" else []
    entries = changes.touching(ctx.store, base, kind, iri)
    return feeds.build(ctx.store, base, titled, entries, page, label, modified, extra, size=ctx.settings.feed_page_size)


def _trail(ctx: ServiceContext, recommendation: str, name: str) -> list[atom.Item]:
    """A recommendation's trail as items: where it was issued and presented, each status it reached, dated by
    their own date or their event's (a step with no known day is left out: an item needs a time)."""
    items: dict[str, atom.Item] = {}
    for moment in tracking.trail(ctx.store, recommendation):
        item = _moment_item(ctx.settings.base_iri, recommendation, name, moment)
        if item is not None:
            items.setdefault(item.id, item)
    return list(items.values())


def _moment_item(base: str, recommendation: str, name: str, moment: tracking.Moment) -> atom.Item | None:
    """A step of a recommendation's trail as an item, or None for a step with no known day."""
    try:
        day = dt.date.fromisoformat((moment.date or "")[:10])
    except ValueError:
        return None
    when = f"{day.isoformat()}T00:00:00Z"
    at = f" at {moment.place_label}" if moment.place_label else ""
    told = atom.html(
        "p",
        "The recommendation ",
        atom.html("a", name, href=feeds.page_of(base, recommendation)),
        f" was {moment.kind}{at} on {moment.when}" + (" (a date policykg inferred)" if moment.inferred else "") + ".",
    )
    return atom.Item(
        # The step's own IRI (a status record, a presentation); being issued is the recommendation's own step.
        id=recommendation + "#issued" if moment.iri == recommendation else moment.iri,
        title=moment.kind.capitalize() + at,
        updated=when,
        published=when,
        link=feeds.page_of(base, moment.place if moment.iri == recommendation and moment.place else moment.iri),
        content=atom.html("div", told),
        categories=(atom.Category(recommendation, name),),
    )


def feed_kinds(ctx: ServiceContext, iri: str) -> list[str]:
    """The kinds of feed a resource has (publish/changes.KINDS), the classes of each kept until the next write."""
    return changes.kinds_of(ctx.store, iri, ctx.memo("kind classes", lambda: changes.kind_classes(ctx.store)))

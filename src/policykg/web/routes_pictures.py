"""Pictures as SVG: a recommendation's trail at /pictures/trail.svg?iri=…, a concept's neighbourhood at
/pictures/neighbourhood.svg?iri=…; the same pictures are drawn on the recommendation's and the concept's pages,
each beside its text alternative.

A picture is laid out by views/pictures.py from what views/tracking.py and views/surroundings.py read, and the
entries that touch a recommendation (publish/changes.py); it is kept until the next write, as pages are.
"""

from urllib.parse import urlencode

from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import Response

from policykg.errors import ResourceNotFound
from policykg.publish import changes
from policykg.sparql.protocol import check_iri
from policykg.views import neighbourhood, pictures, surroundings, tracking
from policykg.views.describe import Label, labels_of
from policykg.web import apidoc
from policykg.web.context import ServiceContext, context, run
from policykg.web.documents import conditional
from policykg.web.pages import link_to, render
from policykg.web.routes_feeds import feed_kinds

router = APIRouter(tags=["Pictures"], default_response_class=Response)  # no JSON default in the API description
SVG = "image/svg+xml"
# What each picture draws, and the kind of resource (publish/changes.KINDS) it is drawn for.
PICTURES = {"trail": "recommendation", "neighbourhood": "concept"}
# An SVG document opened alone runs no script and fetches nothing (ours has neither); say so to the browser.
_POLICY = "default-src 'none'; base-uri 'none'; form-action 'none'"


@router.get(
    "/pictures/{name}.svg",
    summary="A picture: a recommendation's trail, or a concept's neighbourhood, as SVG",
    responses={
        **apidoc.answers(200, "The picture, an SVG document", [SVG]),
        **apidoc.empty(304, "The client's copy is current"),
        **apidoc.problems(400, 404),
    },
)
@router.head("/pictures/{name}.svg", include_in_schema=False)
async def picture(
    request: Request,
    name: str = Path(description="trail (of a recommendation) or neighbourhood (of a concept)"),
    iri: str = Query(description="the recommendation's or the concept's IRI"),
) -> Response:
    """The picture of one resource: 404 for a picture of no known kind, or a resource that is not of its kind."""
    ctx = context(request)
    if name not in PICTURES:
        raise ResourceNotFound(f"there is no {name} picture: the pictures are {', '.join(PICTURES)}")
    check_iri(iri, "iri")
    kind = PICTURES[name]
    if kind not in await run(ctx.executor, lambda: feed_kinds(ctx, iri)):
        raise ResourceNotFound(f"<{iri}> is no {kind} of this graph, so it has no {name} picture")
    body = await run(ctx.executor, lambda: ctx.document(("picture", name, iri), lambda: _alone(ctx, name, iri)))
    headers = {"Cache-Control": "max-age=60", "Content-Security-Policy": _POLICY, "X-Content-Type-Options": "nosniff"}
    return conditional(request, body, SVG, headers)


def picture_path(name: str, iri: str) -> str:
    """Where the picture of a resource is published."""
    return f"/pictures/{name}.svg?" + urlencode({"iri": iri})


def views_of(ctx: ServiceContext, iri: str, label: str, kinds: list[str]) -> dict[str, object]:
    """The pictures a resource's page shows, by the kinds of resource it is (publish/changes.KINDS)."""
    found: dict[str, object] = {}
    if "recommendation" in kinds:
        found["trail_picture"] = {"p": trail_of(ctx, iri), "name": label, "alone": picture_path("trail", iri)}
    if "concept" in kinds:
        found["neighbourhood"] = {"p": neighbourhood_of(ctx, iri), "alone": picture_path("neighbourhood", iri)}
    return found


def trail_of(ctx: ServiceContext, recommendation: str) -> pictures.Trail:
    """A recommendation's trail laid out: where it was issued and presented, each status record, and each entry
    that added to it, revised it or was retracted."""
    base = ctx.settings.base_iri
    moments = tracking.trail(ctx.store, recommendation)
    records = surroundings.status_records(ctx.store, {m.iri for m in moments})
    steps = pictures.steps_of(moments, recommendation, records)
    entries = changes.touching(ctx.store, base, changes.KINDS["recommendation"], recommendation)
    found = changes.changes(ctx.store, base, entries, limit=tracking.VIEW_LIMIT)
    names = _labels(ctx, {change.entry for change in found})
    steps += [pictures.entry_step(c.entry, c.action, c.time, names.get(c.entry, "")) for c in found]
    return pictures.layout_trail(steps)


def neighbourhood_of(ctx: ServiceContext, concept: str) -> neighbourhood.Neighbourhood:
    """A concept's neighbourhood laid out."""
    known: dict[str, Label | None] = ctx.memo("labels", dict)  # shared with the resources' pages
    groups = surroundings.neighbourhood(ctx.store, concept, known=known)
    return neighbourhood.layout_neighbourhood(surroundings.centre(ctx.store, concept, known), groups)


def _alone(ctx: ServiceContext, name: str, iri: str) -> bytes:
    """The picture as an SVG document; its "and N more" links to the list on the resource's page."""
    base = ctx.settings.base_iri

    def href(iri: str) -> str:
        return link_to(iri, base)

    if name == "trail":
        drawn: object = trail_of(ctx, iri)
        listed = href(iri) + "#trail-steps"
    else:
        drawn = neighbourhood_of(ctx, iri)
        listed = href(iri) + "#neighbours"
    label = _labels(ctx, {iri}).get(iri, iri)
    text = render("picture.svg", kind=name, picture=drawn, name=label, href=href, list_href=listed)
    return text.encode("utf-8")


def _labels(ctx: ServiceContext, iris: set[str]) -> dict[str, str]:
    known: dict[str, Label | None] = ctx.memo("labels", dict)  # shared with the resources' pages
    return {iri: label.text.value for iri, label in labels_of(ctx.store, iris, known).items()}

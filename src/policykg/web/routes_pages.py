"""Pages for people and entry points for machines: home, timeline, the model's documentation, crawlers' files."""

import re
from xml.sax.saxutils import escape

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response

from policykg.errors import ResourceNotFound
from policykg.rdf import jsonld
from policykg.rdf.mediatypes import HTML
from policykg.rdf.namespaces import ONTOLOGY_IRI, SHAPES_IRI
from policykg.views import tracking, vocabulary
from policykg.web import apidoc
from policykg.web.context import ServiceContext, context, run
from policykg.web.documents import DOCUMENTS, ENDINGS, choose, conditional, render
from policykg.web.pages import page

router = APIRouter(
    tags=["Pages and discovery"], default_response_class=Response
)  # no JSON default in the API description
SITEMAP_SIZE = 50_000  # URLs per sitemap file (sitemaps.org protocol)
_DISCOVERY = (
    '</.well-known/void>; rel="describedby"; type="text/turtle", '
    '</catalog>; rel="describedby"; type="text/turtle", '
    '</sparql>; rel="service"; title="SPARQL 1.1 endpoint", '
    '</ldes>; rel="alternate"; type="text/turtle"; title="change stream (LDES)"'
)
_UNCHANGED = apidoc.empty(304, "The client's copy is current")
_MODEL_ANSWERS = {
    **apidoc.answers(200, "The graph, or its documentation for people", DOCUMENTS.values()),
    **_UNCHANGED,
    **apidoc.problems(406),
}


@router.get(
    "/",
    summary="Home: what the graph holds, for people; 303 to VoID for machines",
    responses={
        **apidoc.answers(200, "The home page", [HTML]),
        **_UNCHANGED,
        **apidoc.empty(303, "A client that asks for RDF: see the VoID description"),
        **apidoc.problems(406),
    },
)
@router.head("/", include_in_schema=False)
async def home(request: Request) -> Response:
    """The home page; a client that asks for RDF is sent to the dataset's VoID description."""
    ctx = context(request)
    media_type = choose(request.headers.get("accept"), [HTML, *(m for m in DOCUMENTS.values() if m != HTML)])
    headers = {"Link": _DISCOVERY, "Vary": "Accept"}
    if media_type != HTML:
        return Response(status_code=303, headers={**headers, "Location": "/.well-known/void"})

    def make() -> bytes:  # rendered once per state of the store, off the event loop
        overview = tracking.overview(ctx.store)
        return page(ctx, "home.html", "European cultural-heritage policy, tracked", overview=overview).encode("utf-8")

    body = await run(ctx.executor, lambda: ctx.document(("page", "home"), make))
    return conditional(request, body, HTML, headers)


@router.get(
    "/timeline",
    response_class=HTMLResponse,
    summary="The events in time order, drawn as a timeline, a year at a time",
    responses={**_UNCHANGED, **apidoc.problems(400)},
)
@router.head("/timeline", include_in_schema=False)
async def timeline(
    request: Request,
    year: str | None = Query(
        None,
        pattern=rf"^([0-9]{{4}}|{tracking.UNKNOWN_YEAR})$",
        description="a year, or 'unknown' (default: all, or the latest)",
    ),
) -> Response:
    """The events of a year (all of them, while they are few), as an SVG timeline and a list, with an index of years."""
    ctx = context(request)
    years = await run(ctx.executor, lambda: ctx.memo("years", lambda: tracking.years(ctx.store)))
    total = sum(n for _, n in years)
    dated = [y for y, _ in years if y != tracking.UNKNOWN_YEAR]
    chosen = year or (None if total <= tracking.VIEW_LIMIT or not dated else dated[-1])
    title = "Timeline of events" + (f", {chosen}" if chosen else "")

    def make() -> bytes:  # rendered once per state of the store and year (100 KB of SVG), off the event loop
        events = tracking.timeline(ctx.store, chosen)
        return page(
            ctx,
            "timeline.html",
            title,
            events=events,
            years=years,
            chosen=chosen,
            total=total,
            limit=tracking.VIEW_LIMIT,
        ).encode("utf-8")

    body = await run(ctx.executor, lambda: ctx.document(("page", "timeline", str(chosen)), make))
    return conditional(request, body, HTML, {})


@router.get("/ontology", summary="The ontology: documentation for people, RDF for machines", responses=_MODEL_ANSWERS)
@router.head("/ontology", include_in_schema=False)
@router.api_route("/ontology.{ending}", methods=["GET", "HEAD"], include_in_schema=False)
async def ontology(request: Request, ending: str = "") -> Response:
    """The ontology graph, negotiated (or by file ending); HTML is its documentation."""
    return await _model_document(request, "ontology", ONTOLOGY_IRI, ending)


@router.get("/shapes", summary="The SHACL shapes: documentation for people, RDF for machines", responses=_MODEL_ANSWERS)
@router.head("/shapes", include_in_schema=False)
@router.api_route("/shapes.{ending}", methods=["GET", "HEAD"], include_in_schema=False)
async def shapes(request: Request, ending: str = "") -> Response:
    """The shapes graph, negotiated (or by file ending); HTML lists every rule."""
    return await _model_document(request, "shapes", SHAPES_IRI, ending)


@router.get(
    "/context.jsonld",
    summary="policykg's JSON-LD context",
    responses=apidoc.answers(200, "The context document", ["application/ld+json"]),
)
@router.head("/context.jsonld", include_in_schema=False)
async def jsonld_context() -> JSONResponse:
    """The context that the service's JSON-LD refers to; input that names it gets it without a fetch."""
    return JSONResponse(
        jsonld.context(),
        media_type="application/ld+json",
        headers={"Cache-Control": "public, max-age=86400", "Access-Control-Allow-Origin": "*"},
    )


@router.get("/robots.txt", include_in_schema=False)
@router.head("/robots.txt", include_in_schema=False)
async def robots(request: Request) -> Response:
    """Crawlers are welcome to the pages and data; query and write endpoints are not for them."""
    base = context(request).settings.base_iri
    text = (
        "User-agent: *\nDisallow: /sparql\nDisallow: /store\nDisallow: /validate\nDisallow: /docs\n"
        "Allow: /\n\n"
        f"Sitemap: {base}sitemap.xml\n"
    )
    return Response(text, media_type="text/plain; charset=utf-8")


@router.get("/sitemap.xml", include_in_schema=False)
@router.head("/sitemap.xml", include_in_schema=False)
async def sitemap_index(request: Request) -> Response:
    """The sitemap index: one sitemap of the site's pages, then the resource pages in files of 50,000."""
    ctx = context(request)
    count = len(await run(ctx.executor, lambda: ctx.memo("resources", lambda: _resources(ctx))))
    files = ["pages"] + [str(n) for n in range((count + SITEMAP_SIZE - 1) // SITEMAP_SIZE)]
    entries = "".join(
        f"<sitemap><loc>{escape(ctx.settings.base_iri)}sitemaps/{name}.xml</loc>"
        f"<lastmod>{ctx.writer.revision.modified.isoformat()}</lastmod></sitemap>"
        for name in files
    )
    return _xml(f'<sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">{entries}</sitemapindex>')


@router.get("/sitemaps/{name}.xml", include_in_schema=False)
@router.head("/sitemaps/{name}.xml", include_in_schema=False)
async def sitemap(request: Request, name: str) -> Response:
    """One sitemap file: the site's pages, or one slice of the resource pages."""
    ctx = context(request)
    base = ctx.settings.base_iri
    if name == "pages":
        urls = [base + path for path in ("", "timeline", "ontology.html", "shapes.html", "entries?format=html")]
    elif re.fullmatch(r"[0-9]{1,9}", name):
        urls = await run(ctx.executor, lambda: _resource_pages(ctx, int(name)))
        if not urls:
            raise ResourceNotFound(f"there is no sitemap {name}")
    else:
        raise ResourceNotFound(f"there is no sitemap {name}")
    body = "".join(f"<url><loc>{escape(url)}</loc></url>" for url in urls)
    return _xml(f'<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">{body}</urlset>')


async def _model_document(request: Request, name: str, graph: str, ending: str) -> Response:
    ctx = context(request)
    if ending and ending not in DOCUMENTS:
        raise ResourceNotFound(f"/{name}.{ending} is not published; try /{name}.ttl")
    media_type = DOCUMENTS[ending] if ending else choose(request.headers.get("accept"))
    if media_type == HTML:
        if name == "ontology":
            terms = await run(ctx.executor, lambda: vocabulary.ontology_terms(ctx.store))
            body = page(ctx, "ontology.html", "The policykg ontology", terms=terms)
        else:
            found = await run(ctx.executor, lambda: vocabulary.shapes(ctx.store))
            body = page(ctx, "shapes.html", "The policykg shapes", shapes=found)
        data = body.encode("utf-8")
    else:
        quads = await run(ctx.executor, lambda: ctx.store.graph_quads(graph))
        data = render(quads, media_type, ctx.settings.base_iri)
    headers = {"Cache-Control": "max-age=300", "Link": f'<{graph}>; rel="about"'}
    if not ending:
        headers |= {"Vary": "Accept", "Content-Location": f"/{name}.{ENDINGS[media_type]}"}
    return conditional(request, data, media_type, headers)


def _resources(ctx: ServiceContext) -> list[str]:
    """Every resource under <base>id/, sorted: each has a type, so the type index finds them all."""
    base = ctx.settings.base_iri
    rows = ctx.store.select(
        f'SELECT DISTINCT ?s WHERE {{ GRAPH ?g {{ ?s a ?type }} FILTER (STRSTARTS(STR(?s), "{base}id/")) }}'
    ).values()
    return sorted(str(s) for (s,) in rows)


def _resource_pages(ctx: ServiceContext, number: int) -> list[str]:
    base = ctx.settings.base_iri
    resources = ctx.memo("resources", lambda: _resources(ctx))
    return [
        f"{base}doc/{iri[len(base) :]}.html" for iri in resources[number * SITEMAP_SIZE : (number + 1) * SITEMAP_SIZE]
    ]


def _xml(text: str) -> Response:
    return Response('<?xml version="1.0" encoding="UTF-8"?>\n' + text, media_type="application/xml")

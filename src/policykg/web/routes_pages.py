"""Pages for people and entry points for machines: home, timeline, the model's documentation, crawlers' files."""

from xml.sax.saxutils import escape

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response

from policykg import jsonld, tracking, vocabulary
from policykg.errors import ResourceNotFound
from policykg.mediatypes import HTML
from policykg.namespaces import ONTOLOGY_IRI, SHAPES_IRI
from policykg.updates import graph_quads
from policykg.web.context import ServiceContext, context, run
from policykg.web.documents import DOCUMENTS, ENDINGS, choose, conditional, render
from policykg.web.pages import page

router = APIRouter(tags=["Pages and discovery"])
SITEMAP_SIZE = 50_000  # URLs per sitemap file (sitemaps.org protocol)
_DISCOVERY = ('</.well-known/void>; rel="describedby"; type="text/turtle", '
              '</catalog>; rel="describedby"; type="text/turtle", '
              '</sparql>; rel="service"; title="SPARQL 1.1 endpoint", '
              '</ldes>; rel="alternate"; type="text/turtle"; title="change stream (LDES)"')


@router.get("/", summary="Home: what the graph holds, for people; 303 to VoID for machines")
@router.head("/", include_in_schema=False)
async def home(request: Request) -> Response:
    """The home page; a client that asks for RDF is sent to the dataset's VoID description."""
    ctx = context(request)
    media_type = choose(request.headers.get("accept"), [HTML, *(m for m in DOCUMENTS.values() if m != HTML)])
    headers = {"Link": _DISCOVERY, "Vary": "Accept"}
    if media_type != HTML:
        return Response(status_code=303, headers={**headers, "Location": "/.well-known/void"})
    overview = await run(ctx.executor, lambda: ctx.memo("overview", lambda: tracking.overview(ctx.store)))
    body = page(ctx, "home.html", "European cultural-heritage policy, tracked", overview=overview)
    return conditional(request, body.encode("utf-8"), HTML, headers)


@router.get("/timeline", response_class=HTMLResponse, summary="Every event in time order, drawn as a timeline")
async def timeline(request: Request) -> Response:
    """The events, oldest first, as an SVG timeline and as a list."""
    ctx = context(request)
    events = await run(ctx.executor, lambda: ctx.memo("timeline", lambda: tracking.timeline(ctx.store)))
    return conditional(request, page(ctx, "timeline.html", "Timeline of events", events=events).encode("utf-8"), HTML, {})


@router.get("/ontology", summary="The ontology: documentation for people, RDF for machines")
@router.head("/ontology", include_in_schema=False)
@router.api_route("/ontology.{ending}", methods=["GET", "HEAD"], include_in_schema=False)
async def ontology(request: Request, ending: str = "") -> Response:
    """The ontology graph, negotiated (or by file ending); HTML is its documentation."""
    return await _model_document(request, "ontology", ONTOLOGY_IRI, ending)


@router.get("/shapes", summary="The SHACL shapes: documentation for people, RDF for machines")
@router.head("/shapes", include_in_schema=False)
@router.api_route("/shapes.{ending}", methods=["GET", "HEAD"], include_in_schema=False)
async def shapes(request: Request, ending: str = "") -> Response:
    """The shapes graph, negotiated (or by file ending); HTML lists every rule."""
    return await _model_document(request, "shapes", SHAPES_IRI, ending)


@router.get("/context.jsonld", summary="policykg's JSON-LD context")
async def jsonld_context() -> JSONResponse:
    """The context that the service's JSON-LD refers to; input that names it gets it without a fetch."""
    return JSONResponse(jsonld.context(), media_type="application/ld+json",
                        headers={"Cache-Control": "public, max-age=86400", "Access-Control-Allow-Origin": "*"})


@router.get("/robots.txt", include_in_schema=False)
async def robots(request: Request) -> Response:
    """Crawlers are welcome to the pages and data; query and write endpoints are not for them."""
    base = context(request).settings.base_iri
    text = ("User-agent: *\nDisallow: /sparql\nDisallow: /store\nDisallow: /validate\nDisallow: /docs\n"
            "Allow: /\n\n" f"Sitemap: {base}sitemap.xml\n")
    return Response(text, media_type="text/plain; charset=utf-8")


@router.get("/sitemap.xml", include_in_schema=False)
async def sitemap_index(request: Request) -> Response:
    """The sitemap index: one sitemap of the site's pages, then the resource pages in files of 50,000."""
    ctx = context(request)
    count = await run(ctx.executor, lambda: ctx.memo("resource-count", lambda: _resource_count(ctx)))
    files = ["pages"] + [str(n) for n in range((count + SITEMAP_SIZE - 1) // SITEMAP_SIZE)]
    entries = "".join(f"<sitemap><loc>{escape(ctx.settings.base_iri)}sitemaps/{name}.xml</loc>"
                      f"<lastmod>{ctx.writer.revision.modified.isoformat()}</lastmod></sitemap>" for name in files)
    return _xml(f'<sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">{entries}</sitemapindex>')


@router.get("/sitemaps/{name}.xml", include_in_schema=False)
async def sitemap(request: Request, name: str) -> Response:
    """One sitemap file: the site's pages, or one slice of the resource pages."""
    ctx = context(request)
    base = ctx.settings.base_iri
    if name == "pages":
        urls = [base + path for path in ("", "timeline", "ontology.html", "shapes.html", "entries?format=html")]
    elif name.isdigit():
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
        quads = await run(ctx.executor, lambda: graph_quads(ctx.store, graph))
        data = render(quads, media_type, ctx.settings.base_iri)
    headers = {"Cache-Control": "max-age=300", "Link": f'<{graph}>; rel="about"'}
    if not ending:
        headers |= {"Vary": "Accept", "Content-Location": f"/{name}.{ENDINGS[media_type]}"}
    return conditional(request, data, media_type, headers)


def _resource_count(ctx: ServiceContext) -> int:
    rows = ctx.store.select(f"SELECT (COUNT(DISTINCT ?s) AS ?n) WHERE {{ GRAPH ?g {{ ?s ?p ?o }} "
                           f"FILTER (STRSTARTS(STR(?s), \"{ctx.settings.base_iri}id/\")) }}").values()
    return int(rows[0][0] or 0)


def _resource_pages(ctx: ServiceContext, number: int) -> list[str]:
    base = ctx.settings.base_iri
    rows = ctx.store.select(f"SELECT DISTINCT ?s WHERE {{ GRAPH ?g {{ ?s ?p ?o }} FILTER (STRSTARTS(STR(?s), \"{base}id/\")) }} "
                            f"ORDER BY ?s LIMIT {SITEMAP_SIZE} OFFSET {number * SITEMAP_SIZE}").values()
    return [f"{base}doc/{str(s)[len(base):]}.html" for (s,) in rows]


def _xml(text: str) -> Response:
    return Response('<?xml version="1.0" encoding="UTF-8"?>\n' + text, media_type="application/xml")

"""Full-text search for people and programs: /search, a page with highlighted snippets and facets, or JSON."""

from urllib.parse import urlencode

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response

from policykg.errors import NotAcceptable, SearchError
from policykg.rdf.mediatypes import HTML
from policykg.search.finding import FACETS, MAX_RESULTS, PAGE_SIZE, Results, find
from policykg.web import apidoc
from policykg.web.context import ServiceContext, context, run
from policykg.web.documents import choose
from policykg.web.pages import curie, link_to, page

router = APIRouter(tags=["Search"], default_response_class=Response)
_LISTINGS = {"html": HTML, "json": "application/json"}  # a page unless JSON is asked for (as the other pages)
_FACET_NAMES = {
    "type": "Type",
    "concept": "Concept (with narrower concepts)",
    "event": "Event",
    "year": "Year",
    "organisation": "Organisation",
    "status": "Status",
}


_ANSWERS = {
    **apidoc.answers(200, "The hits, as a page for people or JSON", [HTML, "application/json"]),
    **apidoc.problems(400, 406),
}


@router.get("/search", summary="Full-text search over every text, with snippets, facets and pages", responses=_ANSWERS)
@router.head("/search", include_in_schema=False)
async def search(
    request: Request,
    q: str | None = Query(None, max_length=1000, description='words, "a phrase", a prefix* ; AND, OR, NOT, -word'),
    type: str | None = Query(None, description="only resources of this class (an IRI)"),
    concept: str | None = Query(None, description="only resources about this concept or a narrower one (an IRI)"),
    event: str | None = Query(None, description="only resources of this event (an IRI)"),
    year: str | None = Query(None, description="only resources of this year"),
    organisation: str | None = Query(None, description="only resources linked to this organisation (an IRI)"),
    status: str | None = Query(None, description="only recommendations that reached this status (an IRI)"),
    page_number: int = Query(1, alias="page", ge=1, le=MAX_RESULTS // PAGE_SIZE, description="the page of hits"),
    format: str | None = Query(None, description="json or html (default: by the Accept header)"),
) -> Response:
    """Search the index: ranked hits with highlighted snippets, the counts of each facet's values, pages."""
    ctx = context(request)
    if format is not None and format not in _LISTINGS:
        raise NotAcceptable(f"format={format!r}: search results are offered as json or html")
    wanted = _LISTINGS.get(format or "") or choose(request.headers.get("accept"), list(_LISTINGS.values()))
    given = {"type": type, "concept": concept, "event": event, "year": year, "organisation": organisation}
    filters = {name: value for name, value in {**given, "status": status}.items() if value}
    if q is None and wanted == HTML:
        return _html(ctx, _Asked("", {}, 1), None)
    if q is None:
        raise SearchError("give words to search for, e.g. /search?q=data+space")
    asked = _Asked(q, filters, page_number)
    offset = (page_number - 1) * PAGE_SIZE
    results = await run(ctx.executor, lambda: find(ctx.search, ctx.store, q, filters, offset))
    if wanted == HTML:
        return _html(ctx, asked, results)
    return JSONResponse(_as_json(results, asked, ctx.settings.base_iri), headers={"Vary": "Accept"})


def _html(ctx: ServiceContext, asked: "_Asked", results: Results | None) -> HTMLResponse:
    """The search page: the form alone (no words yet), or with the hits, their facets and pages."""
    title = f"Search: {asked.q}" if results is not None else "Search"
    body = page(ctx, "search.html", title, asked=asked, results=results, facet_names=_FACET_NAMES)
    return HTMLResponse(body, headers={"Vary": "Accept"})


class _Asked:
    """A search as asked (words, filters, page), and the links from its page: to narrow by a facet value, to
    drop a filter, to another page."""

    def __init__(self, q: str, filters: dict[str, str], page_number: int) -> None:
        self.q, self.filters, self.page_number = q, filters, page_number

    @staticmethod
    def pages(total: int) -> int:
        """How many pages `total` hits take."""
        return -(-total // PAGE_SIZE)

    def narrow(self, name: str, value: str) -> str:
        """The search with one more filter (or another value of the same facet)."""
        return self._link({**self.filters, name: value})

    def drop(self, name: str) -> str:
        """The search without a filter."""
        return self._link({k: v for k, v in self.filters.items() if k != name})

    def page(self, number: int) -> str:
        """Another page of the same search."""
        return self._link(self.filters, number)

    def _link(self, filters: dict[str, str], number: int = 1) -> str:
        return "/search?" + urlencode({"q": self.q, **filters, **({"page": number} if number > 1 else {})})


def _as_json(results: Results, asked: _Asked, base: str) -> dict[str, object]:
    links, page_number, pages = asked, asked.page_number, asked.pages(results.total)
    return {
        "query": asked.q,
        "filters": asked.filters,
        "total": results.total,
        "page": page_number,
        "pageSize": PAGE_SIZE,
        "next": links.page(page_number + 1) if page_number < pages and page_number * PAGE_SIZE < MAX_RESULTS else None,
        "previous": links.page(page_number - 1) if page_number > 1 else None,
        "hits": [
            {
                "iri": hit.iri,
                "title": hit.title,
                "score": hit.score,
                "types": list(hit.types),
                "snippet": hit.snippet_html,
                "page": link_to(hit.iri, base),
            }
            for hit in results.hits
        ],
        "facets": {
            name: [
                {
                    "value": value,
                    "label": results.labels.get(value) or curie(value),
                    "count": count,
                    "narrow": links.narrow(name, value),
                }
                for value, count in results.facets.get(name, ())
            ]
            for name in FACETS
        },
    }

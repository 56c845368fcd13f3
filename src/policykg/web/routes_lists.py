"""Lists for people at /recommendations, /events, /organisations and /concepts: a page, or CSV or JSON.

Each list takes its filters as query parameters (so a filtered list has an address), shows the SPARQL that
made it with a link to the query page, and offers the same rows as downloads (all of them, up to
views/lists.MOST_ROWS; a page shows PAGE_SIZE of them).
"""

import csv
import io
import json
from urllib.parse import urlencode

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, Response

from policykg.errors import NotAcceptable, ProtocolError
from policykg.rdf.mediatypes import HTML
from policykg.views import lists
from policykg.web import apidoc
from policykg.web.context import context, run
from policykg.web.documents import choose
from policykg.web.pages import page

router = APIRouter(tags=["Lists"], default_response_class=Response)
_FORMATS = {"html": HTML, "csv": "text/csv", "json": "application/json"}
_FILTER_NAMES = ("concept", "event", "organisation", "status", "from", "to")


async def _answer(request: Request, name: str, sort: str | None, page_number: int, format: str | None) -> Response:
    ctx = context(request)
    kind = lists.KINDS[name]
    if format is not None and format not in _FORMATS:
        raise NotAcceptable(f"format={format!r}: a list is offered as {', '.join(_FORMATS)}")
    wanted = _FORMATS[format] if format else choose(request.headers.get("accept"), list(_FORMATS.values()))
    params = {key: value for key, value in request.query_params.items() if key in _FILTER_NAMES}
    unknown = sorted(set(request.query_params) - {*_FILTER_NAMES, "sort", "page", "format"})
    if unknown:
        raise ProtocolError(f"the list of {name} takes no parameter {unknown[0]!r}")
    choice = lists.read_choice(kind, params, sort, page_number)

    def make() -> tuple[lists.Listing, dict[str, list[tuple[str, str]]]]:
        lists.check_known(ctx.store, choice)
        # Kept until the next write, as the pages' documents are: a list at 1,000,000 triples takes a second.
        cached = ctx.document(("list", kind.name, lists.build_query(kind, choice)), lambda: _json(make_listing()))
        return _listing(kind, json.loads(cached)), ctx.memo("list-choices", lambda: lists.choices(ctx.store))

    def make_listing() -> lists.Listing:
        return lists.make_listing(ctx.store, kind, choice)

    listing, offered = await run(ctx.executor, make)
    if choice.page > listing.pages:
        raise ProtocolError(f"page={choice.page}: the list has {listing.pages} page(s)")
    headers = {"Vary": "Accept", "Cache-Control": "no-cache"}
    if wanted == "text/csv":
        return Response(
            _csv(listing), media_type="text/csv; charset=utf-8", headers={**headers, **_download(name, "csv")}
        )
    if wanted == "application/json":
        return Response(_json(listing), media_type="application/json", headers=headers)
    body = page(
        ctx,
        "list.html",
        kind.title,
        kind=kind,
        listing=listing,
        rows=listing.page(choice.page),
        choice=choice,
        offered=offered,
        most_rows=lists.MOST_ROWS,
        page_size=lists.PAGE_SIZE,
        links=_Links(name, choice),
    )
    return HTMLResponse(body, headers=headers)


class _Links:
    """Addresses of the same list with one thing changed: the page, the sort, the format."""

    def __init__(self, name: str, choice: lists.Choice) -> None:
        self._name, self._choice = name, choice

    def to(self, **changes: object) -> str:
        """The list's address with these parameters changed (None drops one)."""
        params: dict[str, object] = {**self._choice.filters, "sort": self._choice.sort, "page": self._choice.page}
        params.update(changes)
        return f"/{self._name}?" + urlencode({k: v for k, v in params.items() if v not in (None, "")})


def _json(listing: lists.Listing) -> bytes:
    """The list as JSON: its columns, rows, whether it was cut off, and its query."""
    data = {"columns": list(listing.columns), "rows": listing.rows, "cut": listing.cut, "query": listing.query}
    return json.dumps(data, ensure_ascii=False).encode("utf-8")


def _listing(kind: lists.Kind, data: dict) -> lists.Listing:
    """A list read back from its JSON."""
    return lists.Listing(kind, data["query"], tuple(data["columns"]), data["rows"], data["cut"])


def _csv(listing: lists.Listing) -> bytes:
    """The rows as CSV (RFC 4180: CRLF line ends, a header row)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(listing.columns)
    writer.writerows([row[column] for column in listing.columns] for row in listing.rows)
    return out.getvalue().encode("utf-8")


def _download(name: str, ending: str) -> dict[str, str]:
    return {"Content-Disposition": f'attachment; filename="policykg-{name}.{ending}"'}


_ANSWERS = {
    **apidoc.answers(200, "The list: a page, CSV or JSON", list(_FORMATS.values())),
    **apidoc.problems(400, 406),
}
_SORT = Query(None, description="a column to sort by; - before it for descending")
_PAGE = Query(1, alias="page", ge=1, description="the page, of 50 rows")
_FORMAT = Query(None, description="html, csv or json (default: by the Accept header)")
_CONCEPT = "only those about this concept or a narrower one (an IRI)"
# What each list's filters mean (the filters a list takes are its kind's, in views/lists), for the API description.
_FILTER_HELP: dict[str, dict[str, str]] = {
    "recommendations": {
        "concept": _CONCEPT,
        "event": "only those issued or presented at this event (an IRI)",
        "organisation": "only those issued at an event this organisation organised",
        "status": "only those with a status record of this status (an IRI)",
        "from": "from this year (of the issuing event)",
        "to": "to this year (of the issuing event)",
    },
    "events": {
        "concept": _CONCEPT,
        "organisation": "only those it organised or took part in (an IRI)",
        "from": "from this year (of the event)",
        "to": "to this year (of the event)",
    },
    "organisations": {"event": "only those that organised or took part in this event (an IRI)"},
    "concepts": {"concept": "only this concept and the narrower ones (an IRI)"},
}
_SUMMARIES = {
    "recommendations": "The recommendations, with the event that issued them, its date and their statuses.",
    "events": "The events (meetings, conferences), with their kind, date and organisers.",
    "organisations": "The organisations, with how many events they organised or took part in.",
    "concepts": "The concepts, with their broader concept and how many recommendations concern each.",
}


def _route(name: str) -> None:
    """Adds the list `name` at /name (GET and HEAD), its filters described from _FILTER_HELP."""

    async def answer(
        request: Request, sort: str | None = _SORT, page_number: int = _PAGE, format: str | None = _FORMAT
    ) -> Response:
        return await _answer(request, name, sort, page_number, format)

    help_of = _FILTER_HELP[name]
    filters = [
        {"name": key, "in": "query", "required": False, "description": help_of[key], "schema": {"type": "string"}}
        for key in lists.KINDS[name].filters
    ]
    answer.__name__ = name
    answer.__doc__ = _SUMMARIES[name]
    summary = f"The {name}: filter, sort, page, download"
    extra = {"parameters": filters}
    router.add_api_route(f"/{name}", answer, methods=["GET"], summary=summary, responses=_ANSWERS, openapi_extra=extra)
    router.add_api_route(f"/{name}", answer, methods=["HEAD"], include_in_schema=False)


for _name in lists.KINDS:
    _route(_name)

"""The SPARQL 1.1 Protocol endpoint at /sparql: query, update, service description, query page."""

import asyncio
import json
from urllib.parse import parse_qs, unquote_plus

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, Response

from policykg.model import questions as competency
from policykg.rdf.mediatypes import GRAPH_TYPES, HTML, RESULT_TYPES, negotiate
from policykg.search.service import evaluate_search, mentions_search
from policykg.sparql.protocol import (
    FORM,
    QUERY_BODY,
    UPDATE_BODY,
    ProtocolRequest,
    answer_type,
    parse_request,
    service_description,
)
from policykg.sparql.syntax import check_request
from policykg.store import Limits
from policykg.web import apidoc
from policykg.web.answers import answer_response
from policykg.web.context import ServiceContext, context, read_body, require_writer, run
from policykg.web.pages import render

router = APIRouter(tags=["SPARQL"], default_response_class=Response)  # no JSON default in the API description
_DESCRIPTION_TYPES = ["text/turtle", HTML, "application/ld+json", "application/rdf+xml", "application/n-triples"]
_TEXT_TYPES = ("text/", "application/sparql-results+json", "application/json", "application/ld+json")
_HTML_ROWS = 1000
_HTML_BYTES = 5 * 1024 * 1024  # a page shows the first rows; a larger answer is for the download links
_DESCRIBED_GRAPHS = 500
_ANSWERS = apidoc.answers(
    200,
    "The answer (results or a graph); without a query, the service description",
    dict.fromkeys([*RESULT_TYPES, *GRAPH_TYPES, *_DESCRIPTION_TYPES]),
)
_PROTOCOL_PARAMETERS = (
    "query",
    "update",
    "default-graph-uri",
    "named-graph-uri",
    "using-graph-uri",
    "using-named-graph-uri",
    "format",
)
_POST_BODY = {
    "requestBody": {
        "required": True,
        "content": {
            FORM: {"schema": {"type": "object", "properties": {name: apidoc.TEXT for name in _PROTOCOL_PARAMETERS}}},
            QUERY_BODY: {"schema": apidoc.TEXT},
            UPDATE_BODY: {"schema": apidoc.TEXT},
        },
    },
    "security": [{}, {"HTTPBearer": []}],  # queries need nothing; updates the operator's token
}


@router.get(
    "/sparql",
    summary="Query (SPARQL 1.1 Protocol, GET); without a query: the service description",
    responses={**_ANSWERS, **apidoc.problems(400, 403, 406, 502, 503)},
)
async def query_by_get(
    request: Request,
    query: str | None = Query(None, description="the SPARQL query"),
    default_graph_uri: list[str] = Query([], alias="default-graph-uri", description="graphs forming the default graph"),
    named_graph_uri: list[str] = Query([], alias="named-graph-uri", description="graphs reachable with GRAPH"),
    format: str | None = Query(None, description="answer syntax: json, xml, csv, tsv, turtle, jsonld, … or html"),
) -> Response:
    """Answer a query sent as URL parameters, or describe the service when there is none."""
    return await respond_to_get(request)


async def respond_to_get(request: Request) -> Response:
    """GET /sparql: a query's answer, or the service description when no protocol parameter is given."""
    ctx = context(request)
    if not _protocol_request(request):
        return await _describe(request, ctx)
    return await _answer(request, ctx, parse_request("GET", None, _query_string(request), b""))


@router.head("/sparql", include_in_schema=False)
async def query_by_head(request: Request) -> Response:
    """HEAD: the status and headers a GET would send, without running the query."""
    ctx = context(request)
    if not _protocol_request(request):
        chosen = negotiate(request.headers.get("accept"), _DESCRIPTION_TYPES) or "text/turtle"
        return Response(status_code=200, headers={"Content-Type": chosen, "Vary": "Accept"})
    protocol = parse_request("GET", None, _query_string(request), b"")
    assert protocol.query is not None
    form = check_request(await _searched(ctx, protocol.query), ctx.settings.allowed_remote_endpoints)
    media_type = (
        HTML if _wants_html(request, protocol) else answer_type(form, request.headers.get("accept"), protocol.format)
    )
    return Response(status_code=200, headers={"Content-Type": _content_type(media_type), "Vary": "Accept"})


@router.post(
    "/sparql",
    summary="Query or update (SPARQL 1.1 Protocol, POST: form, sparql-query or sparql-update)",
    responses={
        **_ANSWERS,
        **apidoc.empty(204, "The update was done"),
        **apidoc.problems(400, 401, 403, 406, 413, 415, 422, 502, 503),
    },
    openapi_extra=_POST_BODY,
)
async def query_or_update_by_post(request: Request) -> Response:
    """Answer a query or run an update sent in the body."""
    return await respond_to_post(request)


async def respond_to_post(request: Request) -> Response:
    """POST /sparql: a query's answer, or an update done (with the operator's token)."""
    ctx = context(request)
    content_type = request.headers.get("content-type")
    if _media_type(content_type) == UPDATE_BODY:  # the token first: nothing is read for a stranger
        require_writer(request, ctx.settings)
    body = await read_body(request, ctx.settings.max_body_bytes)
    fields = parse_qs(body.decode("latin-1"), keep_blank_values=True) if _media_type(content_type) == FORM else {}
    if "update" in fields and "query" not in fields:  # both: a protocol mistake, 400 whoever sends it
        require_writer(request, ctx.settings)
    protocol = parse_request("POST", content_type, _query_string(request), body)
    if protocol.update is not None:
        return await _update(request, ctx, protocol)
    return await _answer(request, ctx, protocol)


# What the endpoint does for each method the fast path answers outside the framework (web/fastpath.py).
RESPONDERS = {"/sparql": {"GET": respond_to_get, "POST": respond_to_post}}


def _content_type(media_type: str) -> str:
    """The Content-Type of an answer in a media type: text in UTF-8 says so."""
    return media_type + ("; charset=utf-8" if media_type.startswith(_TEXT_TYPES) else "")


def _media_type(content_type: str | None) -> str:
    return (content_type or "").split(";", 1)[0].strip().lower()


async def _answer(request: Request, ctx: ServiceContext, protocol: ProtocolRequest) -> Response:
    settings = ctx.settings
    assert protocol.query is not None
    query = await _searched(ctx, protocol.query)
    form = check_request(query, settings.allowed_remote_endpoints)
    if _wants_html(request, protocol):
        return await _html_answer(ctx, protocol, form, query)
    media_type = answer_type(form, request.headers.get("accept"), protocol.format)
    format_name = (GRAPH_TYPES if form in ("CONSTRUCT", "DESCRIBE") else RESULT_TYPES)[media_type]
    answer = await ctx.store.answer(
        query,
        format_name=format_name,
        executor=ctx.executor,
        base_iri=settings.base_iri,
        dataset=protocol.dataset,
        limits=Limits(settings.query_timeout, settings.max_result_bytes),
    )
    return answer_response(answer, _content_type(media_type), {"Vary": "Accept"})


async def _searched(ctx: ServiceContext, query: str) -> str:
    """The query with its calls of the search service answered from the index (search/service.py)."""
    if not mentions_search(query):
        return query
    return await run(ctx.executor, lambda: evaluate_search(query, ctx.search, ctx.store))


async def _update(request: Request, ctx: ServiceContext, protocol: ProtocolRequest) -> Response:
    settings = ctx.settings
    require_writer(request, settings)
    update = protocol.update
    assert update is not None
    check_request(update, settings.allowed_remote_endpoints)
    loop = asyncio.get_running_loop()
    await loop.run_in_executor(
        ctx.write_executor,
        lambda: ctx.writer.update(update, settings.base_iri, protocol.using_graphs, protocol.using_named_graphs),
    )
    return Response(status_code=204)


async def _describe(request: Request, ctx: ServiceContext) -> Response:
    chosen = negotiate(request.headers.get("accept"), _DESCRIPTION_TYPES) or "text/turtle"
    endpoint = str(request.url.replace(query=""))
    if chosen == HTML:
        return _html(
            render(
                "query.html",
                title="SPARQL query",
                endpoint=endpoint,
                questions=competency.list_questions(),
                query=_default_query(),
                rows=None,
            )
        )

    def describe() -> str:  # reads the store: off the event loop
        names = ctx.store.graph_names()
        graph = service_description(endpoint, names[:_DESCRIBED_GRAPHS], ctx.settings.union_default_graph)
        return graph.serialize(
            format={
                "text/turtle": "turtle",
                "application/ld+json": "json-ld",
                "application/rdf+xml": "xml",
                "application/n-triples": "nt",
            }[chosen]
        )

    body = await asyncio.get_running_loop().run_in_executor(ctx.executor, describe)
    return Response(body, media_type=chosen, headers={"Vary": "Accept"})


def _protocol_request(request: Request) -> bool:
    """Whether a GET carries protocol parameters; without any, it asks for the service description (SPARQL 1.1
    Service Description §2), and with some but no query, it is refused as the malformed request it is."""
    names = {unquote_plus(pair.partition("=")[0]) for pair in _query_string(request).split("&")}
    return not names.isdisjoint(_PROTOCOL_PARAMETERS)


def _query_string(request: Request) -> str:
    """The request's query string as sent (what request.url.query gives, without building the URL)."""
    return request.scope["query_string"].decode("latin-1")


def _html(page: str) -> HTMLResponse:
    # The page runs no script: forbid any, so that a crafted result (a javascript: IRI) can do nothing.
    return HTMLResponse(
        page,
        headers={
            "Vary": "Accept",
            "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'",
        },
    )


def _wants_html(request: Request, protocol: ProtocolRequest) -> bool:
    if protocol.format is not None:
        return protocol.format.lower() in ("html", HTML)
    offers = [*RESULT_TYPES, HTML]
    return negotiate(request.headers.get("accept"), offers) == HTML and "text/html" in request.headers.get("accept", "")


async def _html_answer(ctx: ServiceContext, protocol: ProtocolRequest, form: str | None, query: str) -> HTMLResponse:
    settings = ctx.settings
    graph_answer = form in ("CONSTRUCT", "DESCRIBE")
    assert protocol.query is not None  # a query, not an update (see _answer); query is it with searches done
    answer = await ctx.store.answer(
        query,
        format_name="turtle" if graph_answer else "json",
        executor=ctx.executor,
        base_iri=settings.base_iri,
        dataset=protocol.dataset,
        limits=Limits(settings.query_timeout, min(settings.max_result_bytes, _HTML_BYTES)),
    )
    body = await answer.read()
    columns, rows, text = [], None, None
    if graph_answer:
        text = body.decode("utf-8")
    else:
        document = json.loads(body)
        if "boolean" in document:
            text = "true" if document["boolean"] else "false"
        else:
            columns = document["head"]["vars"]
            rows = [[binding.get(c) for c in columns] for binding in document["results"]["bindings"][:_HTML_ROWS]]
    return _html(
        render(
            "query.html",
            title="SPARQL query",
            endpoint="/sparql",
            questions=competency.list_questions(),
            query=protocol.query,
            columns=columns,
            rows=rows,
            text=text,
            max_rows=_HTML_ROWS,
        )
    )


def _default_query() -> str:
    return (
        "SELECT ?type (COUNT(DISTINCT ?resource) AS ?resources)\n"
        "WHERE { ?resource a ?type }\n"
        "GROUP BY ?type\n"
        "ORDER BY DESC(?resources)"
    )

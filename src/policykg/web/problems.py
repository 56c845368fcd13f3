"""Errors as RFC 9457 problem details: one table from error type to HTTP status, applied once."""

import json
import logging

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, JSONResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import compile_path

from policykg import errors
from policykg.rdf.mediatypes import HTML, negotiate
from policykg.web.pages import render
from policykg.web.requestlog import HEADER, request_id_of

PROBLEM_BASE = "https://w3id.org/policykg/problems/"
MEDIA_TYPE = "application/problem+json"

# error type -> (status, problem slug, title)
TABLE: dict[type[Exception], tuple[int, str, str]] = {
    errors.QueryError: (400, "malformed-request", "The query or update is not valid SPARQL"),
    errors.SearchError: (400, "bad-search", "The search cannot be run as asked"),
    errors.ProtocolError: (400, "protocol-error", "The request breaks the protocol"),
    errors.RdfSyntaxError: (400, "malformed-rdf", "The body is not valid RDF"),
    errors.RdfInputRefused: (400, "rdf-refused", "The RDF needs a fetch, deep nesting or entity expansion"),
    errors.ResultTooLarge: (400, "result-too-large", "The answer is larger than the configured limit"),
    errors.Unauthorized: (401, "unauthorized", "A valid bearer token is needed to write"),
    errors.WritesDisabled: (403, "writes-disabled", "This service accepts no writes"),
    errors.RemoteAccessRefused: (403, "remote-access-refused", "The request would make the server fetch a URL"),
    errors.QueryTooComplex: (400, "query-too-complex", "The request nests deeper than this service evaluates"),
    errors.FormRefused: (403, "form-refused", "The form did not carry this session's CSRF token"),
    errors.NotSignedIn: (401, "not-signed-in", "Sign in with your token at /signin to send this form"),
    errors.NotYourEntry: (403, "not-your-entry", "Only an entry's contributor or the operator may change it"),
    errors.ReadOnlyGraph: (
        403,
        "read-only-graph",
        "The graph is the model's, the entries' (see /entries), or kept by the service",
    ),
    errors.GraphNotFound: (404, "graph-not-found", "No such graph"),
    errors.ResourceNotFound: (404, "resource-not-found", "No such resource"),
    errors.EntryGone: (410, "entry-gone", "The entry is no longer current"),
    errors.ResourceGone: (410, "resource-gone", "The resource was retracted"),
    errors.NotAcceptable: (406, "not-acceptable", "No acceptable answer syntax"),
    errors.IdempotencyConflict: (409, "idempotency-conflict", "The Idempotency-Key was used for another entry"),
    errors.PayloadTooLarge: (413, "payload-too-large", "The request body is too large"),
    errors.UnsupportedMediaType: (415, "unsupported-media-type", "The body's media type is not accepted here"),
    errors.ChangeRejected: (422, "shapes-violated", "The change would break the shapes; nothing was written"),
    errors.DefaultGraphWrite: (422, "default-graph-write", "Data goes into named graphs"),
    errors.EntryRejected: (422, "entry-rejected", "The entry cannot come in as sent"),
    errors.QueryTimeout: (503, "query-timeout", "The query was stopped at the time limit"),
    errors.QueryMemoryExceeded: (503, "query-memory-limit", "The query was stopped at the memory limit"),
    errors.NotReady: (503, "not-ready", "The service cannot answer queries now"),
    errors.StoreError: (502, "store-error", "The store failed to answer"),
}


_log = logging.getLogger("policykg.problems")


def problem(
    status: int,
    slug: str,
    title: str,
    detail: str,
    instance: str,
    headers: dict[str, str] | None = None,
    /,
    **extensions: object,
) -> JSONResponse:
    """A problem+json response (extension members after the standard ones)."""
    body = {
        "type": PROBLEM_BASE + slug,
        "title": title,
        "status": status,
        "detail": detail,
        "instance": instance,
        **extensions,
    }
    return JSONResponse(body, status_code=status, media_type=MEDIA_TYPE, headers=headers)


def _for_people(request: Request, answer: JSONResponse) -> Response:
    """The problem as a page when a browser asked (it prefers HTML); as problem+json otherwise."""
    if negotiate(request.headers.get("accept"), [MEDIA_TYPE, "application/json", HTML]) != HTML:
        return answer
    body = json.loads(bytes(answer.body))
    page = render("problem.html", title=body["title"], problem=body)
    headers = {k: v for k, v in answer.headers.items() if k.lower() not in ("content-length", "content-type")}
    return HTMLResponse(page, status_code=answer.status_code, headers=headers)


def problem_for(error: errors.PolicyKGError, instance: str, **members: object) -> JSONResponse:
    """The problem response for one of policykg's errors, with extra members (the request id) at the end."""
    for kind in type(error).__mro__:
        if kind in TABLE:
            status, slug, title = TABLE[kind]
            headers = _headers_for(error, status)
            extensions = {"results": error.results} if isinstance(error, errors.ChangeRejected) else {}
            return problem(status, slug, title, str(error), instance, headers, **extensions, **members)
    return problem(500, "internal-error", "The server failed", str(error), instance, **members)


def _headers_for(error: errors.PolicyKGError, status: int) -> dict[str, str] | None:
    if status == 401:
        return {"WWW-Authenticate": 'Bearer realm="policykg"'}
    if isinstance(error, errors.NotReady):
        return {"Cache-Control": "no-store"}  # a probe's answer holds for the moment it was asked
    return None


def occurrence(request: Request) -> dict[str, str]:
    """The request's id as a problem member, for the user to quote (RequestLog gives every request one)."""
    found = request_id_of(request.scope)
    return {"request_id": found} if found else {}


async def policykg_problem(request: Request, error: errors.PolicyKGError) -> Response:
    """The answer to one of policykg's errors: problem details (a page for a browser, a report for RDF clients)."""
    if type(error) is errors.StoreError:
        # What failed behind the service (an engine's address, its message) is for the operator's log only.
        _log.warning("store error (request %s): %s", occurrence(request).get("request_id", "-"), error)
        error = errors.StoreError(
            "the store behind this service failed to answer; the operator's log has the details under the request id"
        )
    if isinstance(error, errors.ChangeRejected) and error.report is not None:
        wanted = negotiate(request.headers.get("accept"), [MEDIA_TYPE, "text/turtle", "application/ld+json"])
        if wanted in ("text/turtle", "application/ld+json"):
            # The full sh:ValidationReport, for a client that asks for RDF.
            body = error.report.serialize(format="turtle" if wanted == "text/turtle" else "json-ld")
            return Response(body, status_code=422, media_type=wanted)
    return _for_people(request, problem_for(error, request.url.path, **occurrence(request)))


def install(app: FastAPI) -> None:
    """Map policykg's errors, HTTP errors and request validation errors to problem details."""

    # The decorator's typing takes a handler of one kind of error; add_exception_handler's wants any Exception.
    app.exception_handler(errors.PolicyKGError)(policykg_problem)

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, error: StarletteHTTPException) -> Response:
        slug = {404: "not-found", 405: "method-not-allowed"}.get(error.status_code, "http-error")
        headers = dict(error.headers or {})
        if error.status_code == 405:
            headers["Allow"] = ", ".join(_allowed_methods(request))
        return _for_people(
            request,
            problem(
                error.status_code,
                slug,
                str(error.detail),
                _detail(error.status_code, request),
                request.url.path,
                headers,
                **occurrence(request),
            ),
        )

    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, error: RequestValidationError) -> Response:
        detail = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in error.errors())
        return _for_people(
            request,
            problem(
                400, "invalid-parameter", "A parameter is invalid", detail, request.url.path, **occurrence(request)
            ),
        )

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, error: Exception) -> Response:
        # A fault of the server. It names no internals: the traceback is in the server's log, next to the
        # request's line with the same id (echoed here too, for callers outside the request log).
        members = occurrence(request)
        detail = "the server failed to answer; quote the request id when you report it"
        return _for_people(
            request,
            problem(
                500,
                "internal-error",
                "The server failed",
                detail,
                request.url.path,
                {HEADER: members["request_id"]} if members else None,
                **members,
            ),
        )


def _allowed_methods(request: Request) -> list[str]:
    """Every method some route of the app takes at the request's path (one route per method here)."""
    # A route's path is a template (/doc/{path:path}): match the request's path against its pattern.
    methods = {
        method
        for path, taken in routes_of(request.app)
        if compile_path(path)[0].match(request.url.path)
        for method in taken
    }
    return sorted(methods | {"OPTIONS"})


def routes_of(app: FastAPI) -> list[tuple[str, frozenset[str]]]:
    """Each route of the app, as its path template and the methods it takes."""
    found: list[tuple[str, frozenset[str]]] = []
    pending = list(app.routes)
    while pending:
        route = pending.pop()
        # Routers included in the app hold their own routes.
        nested = getattr(route, "original_router", None) or getattr(route, "routes", None)
        if nested is not None:
            pending.extend(nested.routes if hasattr(nested, "routes") else nested)
        elif hasattr(route, "path"):
            found.append((route.path, frozenset(getattr(route, "methods", None) or ())))
    return found


def _detail(status: int, request: Request) -> str:
    if status == 405:
        return f"{request.method} is not allowed on {request.url.path}"
    if status == 404:
        return f"nothing is published at {request.url.path}"
    return f"{request.method} {request.url.path} failed"

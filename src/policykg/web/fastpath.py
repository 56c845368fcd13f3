"""The hot paths: queries (GET and POST /sparql) and linked data (/id/…, /doc/…) answered from outside the app.

Every layer a request passes costs the server CPU, and a cheap query costs the engine less than the layers
do. Measured on a point lookup (front process, 4 clients, 2 cores): 0.28 ms of CPU per answer with the
queries handed on innermost, under FastAPI's and Starlette's middlewares (server errors, telemetry, body
limit, exceptions) and ours (CORS, the page policy); the engine's own call is about 0.05 ms. FastAPI's
routing costs more still on the paths it tries late: finding /doc/… among the routes took about 0.3 ms of
CPU per request (under a profiler). So the fast path sits just inside the request log, outside everything else: it
hands the requests the service answers most to the same functions the documented routes call
(`routes_sparql.RESPONDERS` by path, `routes_resources.RESPONDERS` by the start of the path), and adds
itself what the skipped layers add to an answer (web/headers.py: cross-origin headers, the page policy of
HTML answers). Errors are answered as the application answers them: policykg's errors as problem details,
anything else with the application's handler for server faults, then raised for the server's log. Other
methods (OPTIONS: the CORS preflight) and every other path go on to the application.
"""

from collections.abc import Awaitable, Callable, Mapping

from fastapi import Request
from fastapi.responses import Response
from starlette.types import ASGIApp, Receive, Scope, Send

from policykg.errors import PolicyKGError
from policykg.web.headers import add_cross_origin, add_page_policy
from policykg.web.problems import policykg_problem

Responder = Callable[[Request], Awaitable[Response]]
ErrorHandler = Callable[[Request, Exception], Awaitable[Response]]
_ORIGIN = b"origin"


Responders = Mapping[str, Mapping[str, Responder]]  # by path (or start of path), then by method


class FastPath:
    """ASGI app: requests answered by responders by path and method, the rest passed on to the application."""

    def __init__(self, app: ASGIApp, paths: Responders, starts: Responders, on_fault: ErrorHandler) -> None:
        self.app = app
        self.paths = paths
        self.starts = tuple(starts.items())
        self.on_fault = on_fault

    def _responder(self, scope: Scope) -> Responder | None:
        if scope["type"] != "http":
            return None
        path = scope["path"]
        by_method = self.paths.get(path)
        if by_method is None:
            by_method = next((taken for start, taken in self.starts if path.startswith(start)), None)
        return None if by_method is None else by_method.get(scope["method"])

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        responder = self._responder(scope)
        if responder is None:
            await self.app(scope, receive, send)
            return
        request = Request(scope, receive)
        try:
            response = await responder(request)
        except PolicyKGError as error:
            response = await policykg_problem(request, error)
        except Exception as error:  # a fault of the server: answered, then raised for the server's log
            await self._send(await self.on_fault(request, error), scope, receive, send)
            raise
        await self._send(response, scope, receive, send)

    @staticmethod
    async def _send(response: Response, scope: Scope, receive: Receive, send: Send) -> None:
        add_cross_origin(response.headers, any(name == _ORIGIN for name, _ in scope["headers"]))
        add_page_policy(response.headers)
        await response(scope, receive, send)

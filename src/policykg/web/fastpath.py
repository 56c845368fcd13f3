"""The hot path of the SPARQL endpoint: GET and POST /sparql answered from the outside of the application.

Every layer a request passes costs the server CPU, and a cheap query costs the engine less than the layers
do. Measured on a point lookup (front process, 4 clients, 2 cores): 0.28 ms of CPU per answer with the
queries handed on innermost, under FastAPI's and Starlette's middlewares (server errors, telemetry, body
limit, exceptions) and ours (CORS, the page policy); the engine's own call is about 0.05 ms. So the fast
path sits just inside the request log, outside everything else: it hands GET and POST /sparql to the same
functions the documented routes call (`routes_sparql.RESPONDERS`), and adds itself what the skipped layers
add to an answer (web/headers.py: cross-origin headers, the page policy of HTML answers). Errors are
answered as the application answers them: policykg's errors as problem details, anything else with the
application's handler for server faults, then raised for the server's log. HEAD, OPTIONS (CORS preflight)
and every other path go on to the application.
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


class FastPath:
    """ASGI app: requests for one path answered by responders per method, the rest passed to the application."""

    def __init__(self, app: ASGIApp, path: str, responders: Mapping[str, Responder], on_fault: ErrorHandler) -> None:
        self.app = app
        self.path = path
        self.responders = responders
        self.on_fault = on_fault

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        responder = (
            self.responders.get(scope["method"]) if scope["type"] == "http" and scope["path"] == self.path else None
        )
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

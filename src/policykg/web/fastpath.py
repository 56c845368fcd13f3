"""The hot path of the SPARQL endpoint: GET and POST /sparql answered without the framework's routing.

Routing a request through FastAPI (its router, dependency injection, and the middlewares it adds inside
the application) cost more per query than the engine does: about 0.15 ms of the server's 0.45 ms for a
point lookup. This middleware, the innermost, hands GET and POST /sparql straight to the same functions
the documented routes call (`routes_sparql.RESPONDERS`), and maps policykg's errors to problem details
with the same function the application uses. Everything else, HEAD and OPTIONS included, goes on to the
application. The request log, CORS and the page policy still wrap it, as they wrap every route.
"""

from collections.abc import Awaitable, Callable, Mapping

from fastapi import Request
from fastapi.responses import Response
from starlette.types import ASGIApp, Receive, Scope, Send

from policykg.errors import PolicyKGError
from policykg.web.problems import policykg_problem

Responder = Callable[[Request], Awaitable[Response]]


class FastPath:
    """ASGI middleware: requests for one path answered by responders per method, the rest passed on."""

    def __init__(self, app: ASGIApp, path: str, responders: Mapping[str, Responder]) -> None:
        self.app = app
        self.path = path
        self.responders = responders

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
        await response(scope, receive, send)

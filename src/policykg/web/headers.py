"""Headers the service adds to answers: the page policy of HTML pages, and cross-origin reads (CORS).

Written once here for both places that add them: the middlewares around the application (`PagePolicy`,
Starlette's CORSMiddleware configured with the `CROSS_ORIGIN_…` constants) and the fast path, which
answers queries outside them (web/fastpath.py).
"""

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from policykg.web.requestlog import HEADER

# Pages run no script and load nothing from elsewhere; a browser that reads this refuses to.
PAGE_POLICY = "default-src 'none'; style-src 'unsafe-inline'; img-src 'self' data:; form-action 'self'; base-uri 'none'"

# Reads may come from any web page (every origin allowed); writes need the token, which a browser never
# sends on its own. What a page may send, and what it may read of an answer:
CROSS_ORIGIN_METHODS = ("GET", "HEAD", "POST")
CROSS_ORIGIN_REQUEST_HEADERS = ("Accept", "Content-Type")
CROSS_ORIGIN_EXPOSED = ("Content-Type", "Location", "ETag", "Last-Modified", "Link", "Content-Location", HEADER)
_EXPOSED = ", ".join(CROSS_ORIGIN_EXPOSED)


def add_page_policy(headers: MutableHeaders) -> None:
    """An HTML answer gets the page policy, unless it brings a policy of its own (/docs: see routes_docs)."""
    if headers.get("content-type", "").startswith("text/html"):
        headers.setdefault("Content-Security-Policy", PAGE_POLICY)
        headers.setdefault("X-Content-Type-Options", "nosniff")


def add_cross_origin(headers: MutableHeaders, from_page: bool) -> None:
    """What CORSMiddleware, set up with these constants, adds to a simple request's answer (with an Origin or not)."""
    if from_page:
        headers["Access-Control-Allow-Origin"] = "*"
        headers["Access-Control-Expose-Headers"] = _EXPOSED
    headers["Vary"] = ", ".join([*headers.getlist("Vary"), "Origin"])


class PagePolicy:
    """ASGI middleware: every HTML page of the application gets the page policy.

    Pure ASGI on purpose: Starlette's BaseHTTPMiddleware ends a streamed answer that fails half-way (past the
    size limit, a store error) as if it were complete; passed through as it comes, it reaches the client cut off.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        async def send_with_policy(message: Message) -> None:
            if message["type"] == "http.response.start":
                add_page_policy(MutableHeaders(scope=message))
            await send(message)

        await self.app(scope, receive, send_with_policy if scope["type"] == "http" else send)

"""The contribution pages' own script: its file, the page policy that lets it (and nothing else) run, and the route
class that gives the pages of /contribute that policy.

The forms work without script (web/routes_contribute.py): a picker is a list with a "Find" button, and "Add
another" asks the server for one more box. static/contribute.js, served under a name that carries a hash of its
content, only makes those quicker: a picker becomes a search box that asks /contribute/choices as the person
types (an ARIA combobox with its list), and "Add another" adds the box in place. The policy allows scripts from
the service alone ('self'): no inline script, no eval; fetches go to the service alone too.
"""

from collections.abc import Callable, Coroutine
from importlib.resources import files
from typing import Any

from fastapi import Request, Response
from fastapi.routing import APIRoute

from policykg.web.assets import Asset, published

ASSETS_PATH = "/contribute/assets/"
FILES = {"script": Asset(files("policykg.web") / "static" / "contribute.js", "text/javascript")}
# The site's page policy (web/headers.py), with our own scripts and fetches from the service itself.
POLICY = (
    "default-src 'none'; script-src 'self'; style-src 'unsafe-inline'; img-src 'self' data:; connect-src 'self'; "
    "form-action 'self'; base-uri 'none'"
)


def loads() -> tuple[tuple[str, str], ...]:
    """What a contribution page loads (for the layout's `loads`): the script, under its published name."""
    return published(FILES, ASSETS_PATH)


class ScriptedPages(APIRoute):
    """A route whose HTML pages get POLICY (kept by web/headers.PagePolicy, which only adds a policy to a page
    that has none); its other answers, and the problems it raises, are left as they are."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def with_policy(request: Request) -> Response:
            answer = await handler(request)
            if answer.headers.get("content-type", "").startswith("text/html"):
                answer.headers.setdefault("Content-Security-Policy", POLICY)
            return answer

        return with_policy

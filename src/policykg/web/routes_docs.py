"""The API documented for people at /docs: Swagger UI served by the service itself, nothing from elsewhere.

FastAPI's own /docs and /redoc pages load their scripts from a public CDN, which the pages' policy forbids;
this page loads the pinned Swagger UI of the swagger-ui-bundle-v2 package from /docs/assets, and runs no
inline script: a small initializer of ours reads the API description's address from the page.
"""

import base64
import hashlib
import re
from importlib.resources import files

import swagger_ui_bundle
from fastapi import APIRouter, Request
from fastapi.responses import Response

from policykg.rdf.mediatypes import HTML
from policykg.web.assets import Asset, asset_answer, published
from policykg.web.context import context
from policykg.web.documents import conditional
from policykg.web.pages import page

router = APIRouter(include_in_schema=False)
ASSETS_PATH = "/docs/assets/"
_STYLE = re.compile(r"<style[^>]*>(.*?)</style>", re.DOTALL)


_SWAGGER_UI = swagger_ui_bundle.swagger_ui_path
# The allow-list: only these files are served, under the names the page uses for them.
_FILES = {
    "bundle": Asset(_SWAGGER_UI / "swagger-ui-bundle.js", "text/javascript"),
    "style": Asset(_SWAGGER_UI / "swagger-ui.css", "text/css"),
    "initializer": Asset(files("policykg.web") / "static" / "docs.js", "text/javascript"),
}


def policy(html: str) -> str:
    """The page's Content-Security-Policy: scripts, style sheets and fetches from the service itself, and the
    page's own <style> elements by hash; nothing inline else, nothing from elsewhere (images: also data: URLs)."""
    hashes = "".join(
        f" 'sha256-{base64.b64encode(hashlib.sha256(css.encode()).digest()).decode()}'"
        for css in dict.fromkeys(_STYLE.findall(html))
    )
    return (
        f"default-src 'none'; script-src 'self'; style-src 'self'{hashes}; img-src 'self' data:; "
        "connect-src 'self'; form-action 'self'; base-uri 'none'"
    )


@router.get("/docs")
@router.head("/docs")
async def docs(request: Request) -> Response:
    """Swagger UI over the service's API description, from the service's own copy."""
    ctx = context(request)
    loads = published(_FILES, ASSETS_PATH)
    body = page(ctx, "docs.html", "API documentation", loads=loads, openapi_url=request.app.openapi_url)
    # The page's policy, set here, is kept by app.PagePolicy, which only adds one to a page that has none.
    return conditional(
        request, body.encode("utf-8"), HTML, {"Cache-Control": "max-age=300", "Content-Security-Policy": policy(body)}
    )


@router.get(ASSETS_PATH + "{name}")
@router.head(ASSETS_PATH + "{name}")
async def asset(request: Request, name: str) -> Response:
    """One of the page's files, by its published name; any other name is not found."""
    return asset_answer(request, _FILES, ASSETS_PATH, name)

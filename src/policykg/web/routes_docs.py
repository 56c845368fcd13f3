"""The API documented for people at /docs: Swagger UI served by the service itself, nothing from elsewhere.

FastAPI's own /docs and /redoc pages load their scripts from a public CDN, which the pages' policy forbids;
this page loads the pinned Swagger UI of the swagger-ui-bundle-v2 package from /docs/assets, and runs no
inline script: a small initializer of ours reads the API description's address from the page.
"""

import base64
import functools
import hashlib
import re
from dataclasses import dataclass
from importlib.resources import files
from importlib.resources.abc import Traversable

import swagger_ui_bundle
from fastapi import APIRouter, Request
from fastapi.responses import Response

from policykg.errors import ResourceNotFound
from policykg.rdf.mediatypes import HTML
from policykg.web.context import context
from policykg.web.documents import conditional
from policykg.web.pages import page

router = APIRouter(include_in_schema=False)
ASSETS_PATH = "/docs/assets/"
_STYLE = re.compile(r"<style[^>]*>(.*?)</style>", re.DOTALL)
_VERSIONED = "public, max-age=31536000, immutable"  # an asset's name carries a hash of its content


@dataclass(frozen=True)
class Asset:
    """A file the page loads: where it is, and the media type it is served as."""

    source: Traversable
    media_type: str

    @functools.cached_property
    def content(self) -> bytes:
        """The file's bytes, read once."""
        return self.source.read_bytes()

    @functools.cached_property
    def name(self) -> str:
        """The name it is published under: the file's, with a hash of its content (swagger-ui.1a2b3c4d5e6f.css)."""
        stem, dot, ending = self.source.name.rpartition(".")
        return f"{stem}.{hashlib.sha256(self.content).hexdigest()[:12]}{dot}{ending}"


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


@functools.cache
def assets() -> dict[str, Asset]:
    """The files /docs/assets serves, by published name."""
    return {asset.name: asset for asset in _FILES.values()}


@router.get("/docs")
@router.head("/docs")
async def docs(request: Request) -> Response:
    """Swagger UI over the service's API description, from the service's own copy."""
    ctx = context(request)
    hrefs = {role: ASSETS_PATH + asset.name for role, asset in _FILES.items()}
    body = page(ctx, "docs.html", "API documentation", assets=hrefs, openapi_url=request.app.openapi_url)
    # The page's policy, set here, is kept by app.PagePolicy, which only adds one to a page that has none.
    return conditional(
        request, body.encode("utf-8"), HTML, {"Cache-Control": "max-age=300", "Content-Security-Policy": policy(body)}
    )


@router.get(ASSETS_PATH + "{name}")
@router.head(ASSETS_PATH + "{name}")
async def asset(request: Request, name: str) -> Response:
    """One of the page's files, by its published name; any other name is not found."""
    found = assets().get(name)
    if found is None:
        raise ResourceNotFound(f"{ASSETS_PATH}{name} is not one of the documentation's files")
    return conditional(
        request, found.content, found.media_type, {"Cache-Control": _VERSIONED, "X-Content-Type-Options": "nosniff"}
    )

"""The query editor at /query/editor: YASGUI, served by the service itself, with nothing from elsewhere.

The editor is the npm package @zazuko/yasgui 4.6.2, its built files vendored unchanged under
static/vendor/ (see the README there). The page runs only scripts from the service (its own policy allows
`'self'` scripts on this page alone), and the editor is told to fetch nothing from elsewhere: prefix
completion reads the graph's own prefixes from /query/editor/prefixes.json (not prefix.cc), the property and
class completers (which ask LOV) are off, and the endpoint list holds this service's endpoint only. The
competency questions are offered as examples. /sparql stays the form that needs no script.
"""

import json
from importlib.resources import files

from fastapi import APIRouter, Request
from fastapi.responses import Response

from policykg.model import questions as competency
from policykg.rdf.mediatypes import HTML
from policykg.rdf.namespaces import PREFIXES
from policykg.web.assets import Asset, asset_answer, published
from policykg.web.context import context
from policykg.web.documents import conditional
from policykg.web.pages import page

router = APIRouter(include_in_schema=False)
ASSETS_PATH = "/query/editor/assets/"
PREFIXES_PATH = "/query/editor/prefixes.json"
# Scripts, style sheets and fetches from the service only; inline styles, which the editor sets on its elements
# (as every page of the site may); images also as data: URLs (the editor's icons).
POLICY = (
    "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
    "connect-src 'self'; form-action 'self'; base-uri 'none'"
)
_YASGUI = files("policykg.web") / "static" / "vendor" / "yasgui-4.6.2"
_FILES = {
    "script": Asset(_YASGUI / "yasgui.min.js", "text/javascript"),
    "style": Asset(_YASGUI / "yasgui.min.css", "text/css"),
    "starter": Asset(files("policykg.web") / "static" / "editor.js", "text/javascript"),
}


@router.get("/query/editor")
@router.head("/query/editor")
async def editor(request: Request) -> Response:
    """YASGUI over this service's SPARQL endpoint, with the competency questions as examples."""
    ctx = context(request)
    body = page(
        ctx,
        "editor.html",
        "SPARQL query editor",
        loads=published(_FILES, ASSETS_PATH),
        endpoint="/sparql",
        prefixes_url=PREFIXES_PATH,
        questions=competency.list_questions(),
    )
    # The page's policy, set here, is kept by app.PagePolicy, which only adds one to a page that has none.
    return conditional(
        request, body.encode("utf-8"), HTML, {"Cache-Control": "max-age=300", "Content-Security-Policy": POLICY}
    )


@router.get(PREFIXES_PATH)
@router.head(PREFIXES_PATH)
async def prefixes(request: Request) -> Response:
    """The graph's own prefixes (prefix -> namespace), for the editor's prefix completion."""
    body = json.dumps(PREFIXES, sort_keys=True).encode("utf-8")
    return conditional(request, body, "application/json", {"Cache-Control": "max-age=3600"})


@router.get(ASSETS_PATH + "{name}")
@router.head(ASSETS_PATH + "{name}")
async def asset(request: Request, name: str) -> Response:
    """One of the editor's files, by its published name; any other name is not found."""
    return asset_answer(request, _FILES, ASSETS_PATH, name)

"""Server-rendered HTML pages (Jinja2 templates, readable without JavaScript)."""

from typing import TYPE_CHECKING
from urllib.parse import urlencode

from jinja2 import Environment, PackageLoader, select_autoescape

from policykg.iris import entry_iri
from policykg.rdf.jsonld import EXTRA_PREFIXES
from policykg.rdf.namespaces import PREFIXES
from policykg.views.describe import THING_SPACES
from policykg.web.documents import web_path

if TYPE_CHECKING:
    from policykg.web.context import ServiceContext

_ENVIRONMENT = Environment(
    loader=PackageLoader("policykg.web", "templates"),
    autoescape=select_autoescape(["html", "svg"]),
    trim_blocks=True,
    lstrip_blocks=True,
)
_ENVIRONMENT.filters["query_link"] = lambda query, fmt=None: (
    "/sparql?" + urlencode({"query": query, **({"format": fmt} if fmt else {})})
)
_NAMESPACES = sorted({**PREFIXES, **EXTRA_PREFIXES}.items(), key=lambda item: -len(item[1]))


def curie(iri: str) -> str:
    """An IRI shortened with a known prefix (rdfs:label), else the IRI itself."""
    for prefix, namespace in _NAMESPACES:
        if iri.startswith(namespace) and len(iri) > len(namespace):
            return f"{prefix}:{iri[len(namespace) :]}"
    return iri


_ENVIRONMENT.filters["curie"] = curie
# An IRI with its label, for a list of choices: (iri, label or the IRI shortened).
_ENVIRONMENT.filters["list_of"] = lambda iri, labels: (iri, labels.get(iri) or curie(iri))


def render(template: str, **values: object) -> str:
    """Render a template of the package with the given values."""
    return _ENVIRONMENT.get_template(template).render(**values)


def page(ctx: "ServiceContext", template: str, title: str, **values: object) -> str:
    """Render a page of the site: the shared layout gets the title and the service's base IRI."""
    base = ctx.settings.base_iri

    def href(iri: str) -> str:
        return link_to(iri, base)

    return render(template, title=title, base=base, href=href, **values)


def link_to(iri: str, base: str) -> str:
    """Where a link to an IRI goes: a resource of this graph to its page, an entry to itself, another
    http(s) IRI to itself; anything else (a urn:, a javascript: IRI) is no link ("")."""
    if iri.startswith(base) and iri[len(base) :].startswith(THING_SPACES):
        return "/doc/" + web_path(iri[len(base) :]) + ".html"
    if iri.startswith(entry_iri(base)):
        return "/" + web_path(iri[len(base) :])
    return iri if iri.startswith(("http://", "https://")) else ""

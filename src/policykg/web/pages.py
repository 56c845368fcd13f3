"""Server-rendered HTML pages (Jinja2 templates, readable without JavaScript)."""

from urllib.parse import urlencode

from jinja2 import Environment, PackageLoader, select_autoescape

_ENVIRONMENT = Environment(
    loader=PackageLoader("policykg.web", "templates"),
    autoescape=select_autoescape(["html"]),
    trim_blocks=True,
    lstrip_blocks=True,
)
_ENVIRONMENT.filters["query_link"] = lambda query, fmt=None: "/sparql?" + urlencode(
    {"query": query, **({"format": fmt} if fmt else {})}
)


def render(template: str, **values: object) -> str:
    """Render a template of the package with the given values."""
    return _ENVIRONMENT.get_template(template).render(**values)

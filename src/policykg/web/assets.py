"""Files the service's pages load (scripts, style sheets), served under names that carry a hash of their content."""

import functools
import hashlib
from dataclasses import dataclass
from importlib.resources.abc import Traversable

from fastapi import Request
from fastapi.responses import Response

from policykg.errors import ResourceNotFound
from policykg.web.documents import conditional

_VERSIONED = "public, max-age=31536000, immutable"  # an asset's name carries a hash of its content


@dataclass(frozen=True)
class Asset:
    """A file a page loads: where it is, and the media type it is served as."""

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


def published(files: dict[str, Asset], path: str) -> tuple[tuple[str, str], ...]:
    """What a page loads, in the files' order: ("style" or "script", path + the published name) for each."""
    return tuple(("style" if a.media_type == "text/css" else "script", path + a.name) for a in files.values())


def asset_answer(request: Request, files: dict[str, Asset], path: str, name: str) -> Response:
    """One of the files, by its published name, cached for good; any other name is not found."""
    found = next((asset for asset in files.values() if asset.name == name), None)
    if found is None:
        raise ResourceNotFound(f"{path}{name} is not one of this page's files")
    return conditional(
        request, found.content, found.media_type, {"Cache-Control": _VERSIONED, "X-Content-Type-Options": "nosniff"}
    )

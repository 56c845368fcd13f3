"""Where the model lives and which base IRI instance IRIs resolve against: settings built once."""

from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from urllib.parse import urlsplit

from policykg.errors import ConfigError

DEFAULT_BASE_IRI = "http://localhost:8000/"


def resource_root() -> Path:
    """Return the folder that holds ontology/, shapes/ and data/ (a wheel's copy, else the repository)."""
    packaged = Path(str(resources.files("policykg"))) / "resources"
    if (packaged / "ontology").is_dir():
        return packaged
    return Path(__file__).resolve().parents[2]


@dataclass(frozen=True)
class Settings:
    """The paths of the model and the base IRI that relative instance IRIs are resolved against."""

    base_iri: str = DEFAULT_BASE_IRI
    root: Path = field(default_factory=resource_root)

    def __post_init__(self) -> None:
        parts = urlsplit(self.base_iri)
        if parts.scheme not in ("http", "https") or not parts.netloc or not self.base_iri.endswith("/"):
            raise ConfigError(
                f"base IRI {self.base_iri!r} must be an absolute http(s) IRI ending with '/', e.g. {DEFAULT_BASE_IRI}"
            )

    @property
    def ontology_dir(self) -> Path:
        """The folder of the OWL ontology."""
        return self.root / "ontology"

    @property
    def shapes_dir(self) -> Path:
        """The folder of the SHACL shapes."""
        return self.root / "shapes"

    @property
    def data_dir(self) -> Path:
        """The folder of the seed data."""
        return self.root / "data"

"""Settings, built once at the edge (command line, environment) and passed down: no module reads them."""

import os
import re
from importlib import resources
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlsplit

from pydantic import Field, SecretStr, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from policykg.errors import ConfigError
from policykg.iris import agent_iri

DEFAULT_BASE_IRI = "http://localhost:8000/"
_RESERVED_AGENTS = ("operator", "policykg")  # <base>id/agent/operator writes with the update token


def resource_root() -> Path:
    """Return the folder that holds ontology/, shapes/ and data/ (a wheel's copy, else the repository)."""
    packaged = Path(str(resources.files("policykg"))) / "resources"
    if (packaged / "ontology").is_dir():
        return packaged
    return Path(__file__).resolve().parents[2]


class Settings(BaseSettings):
    """Every setting of policykg; each can be given as POLICYKG_<NAME> or as the matching command flag."""

    model_config = SettingsConfigDict(env_prefix="POLICYKG_", frozen=True, extra="forbid")

    base_iri: str = Field(DEFAULT_BASE_IRI, description="base IRI that relative IRIs in the data resolve against")
    store: str = Field(
        "var/store",
        description="'memory', a folder for the embedded on-disk store, or the URL of a remote SPARQL query endpoint",
    )
    remote_update_url: str | None = Field(None, description="remote SPARQL update endpoint (default: the store URL)")
    remote_store_url: str | None = Field(
        None, description="remote Graph Store Protocol endpoint, if the engine has one"
    )
    remote_engine: Literal["auto", "generic", "virtuoso"] = Field(
        "auto",
        description="the remote engine's dialect: 'virtuoso' (OpenLink Virtuoso 7), 'generic' (any SPARQL 1.1 "
        "engine: oxigraph serve, Fuseki, GraphDB …) or 'auto' (as the engine's Server header says)",
    )
    remote_credentials: SecretStr | None = Field(
        None, description="'user:password' for the remote engine's writes (HTTP Digest for Virtuoso, Basic for others)"
    )
    search_index: str | None = Field(
        None,
        description="folder of the full-text index (default: beside an on-disk store, '<store>.search'; in memory "
        "for 'memory'; var/search for a remote store)",
    )
    dumps_folder: str | None = Field(
        None,
        description="folder of the dump files, written once per revision (default: beside an on-disk store, "
        "'<store>.dumps'; none for 'memory', whose dumps are streamed from the store; var/dumps for a remote store)",
    )
    sessions_file: str | None = Field(
        None,
        description="file of the contributors' signed-in sessions, kept across restarts (default: beside an on-disk "
        "store, '<store>.sessions'; in memory only for 'memory'; var/sessions for a remote store)",
    )
    host: str = Field("127.0.0.1", description="address to serve on")
    port: int = Field(8000, ge=0, le=65535, description="port to serve on")
    query_workers: int = Field(
        default_factory=lambda: os.cpu_count() or 1,
        ge=0,
        description="worker processes answering queries over the on-disk store (0: threads in the server process)",
    )
    query_timeout: float = Field(30.0, gt=0, description="seconds a query may run before it is stopped")
    max_query_memory_bytes: int = Field(
        2 * 1024**3,
        ge=64 * 1024**2,
        description="resident memory a query worker may grow to before its query is stopped, in bytes",
    )
    compaction_pause: float = Field(
        10.0,
        ge=0,
        description="seconds without a write after which the query workers get a merged copy of an on-disk store, "
        "for faster reads (0: never; writing/compaction.py)",
    )
    max_body_bytes: int = Field(10 * 1024 * 1024, gt=0, description="largest request body accepted, in bytes")
    max_result_bytes: int = Field(512 * 1024 * 1024, gt=0, description="largest query answer sent, in bytes")
    update_token: SecretStr | None = Field(None, description="bearer token that allows writes; no token: read-only")
    contributor_tokens: dict[str, str] = Field(
        default_factory=dict,
        description="JSON object: bearer token -> contributor name; entries are attributed to <base>id/agent/<name>",
    )
    union_default_graph: bool = Field(True, description="queries see the union of all graphs as default graph")
    allowed_remote_endpoints: tuple[str, ...] = Field(
        (), description="IRIs that SERVICE and LOAD may reach (default: none, no outbound request is made)"
    )
    publisher_name: str = Field("policykg", min_length=1, description="who publishes the dataset (VoID, DCAT-AP)")
    publisher_iri: str = Field(
        "", description="IRI of the publisher, e.g. from the EU corporate-body table (default: <base>id/agent/policykg)"
    )
    ldes_page_size: int = Field(100, ge=1, le=10_000, description="members per page of the change stream (LDES)")
    feed_page_size: int = Field(50, ge=1, le=1_000, description="items per page of an Atom feed of changes")
    log_level: Literal["debug", "info", "warning", "error"] = Field(
        "info", description="the server's log on standard error; 'info' and 'debug' include a JSON line per request"
    )
    root: Path = Field(default_factory=resource_root, description="folder holding ontology/, shapes/ and data/")

    @field_validator("base_iri")
    @classmethod
    def _absolute_base(cls, value: str) -> str:
        parts = urlsplit(value)
        if parts.scheme not in ("http", "https") or not parts.netloc or not value.endswith("/"):
            raise ValueError(f"must be an absolute http(s) IRI ending with '/', e.g. {DEFAULT_BASE_IRI}")
        return value

    @model_validator(mode="before")
    @classmethod
    def _default_publisher(cls, values: object) -> object:
        if isinstance(values, dict) and not values.get("publisher_iri"):
            values = {**values, "publisher_iri": agent_iri(str(values.get("base_iri") or DEFAULT_BASE_IRI), "policykg")}
        return values

    @field_validator("update_token")
    @classmethod
    def _no_empty_token(cls, value: SecretStr | None) -> SecretStr | None:
        # An empty token would let an empty Authorization header write: treat it as no token at all.
        if value is not None and len(value.get_secret_value().strip()) < 8:
            if value.get_secret_value().strip():
                raise ValueError("the update token must have at least 8 characters")
            return None
        return value

    @field_validator("remote_engine", "log_level", mode="before")
    @classmethod
    def _lower_case(cls, value: object) -> object:
        return value.strip().lower() if isinstance(value, str) else value

    @field_validator("remote_credentials")
    @classmethod
    def _user_and_password(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and not value.get_secret_value():
            return None
        if value is not None and not re.fullmatch(r"[^:]+:.+", value.get_secret_value()):
            raise ValueError("must be 'user:password'")
        return value

    @field_validator("contributor_tokens")
    @classmethod
    def _contributors(cls, value: dict[str, str]) -> dict[str, str]:
        for token, name in value.items():
            if len(token.strip()) < 8:
                raise ValueError("every contributor token must have at least 8 characters")
            if not re.fullmatch(r"[A-Za-z0-9._-]+", name):
                raise ValueError(f"contributor name {name!r}: use letters, digits, '.', '_' and '-' only")
            if name.lower() in _RESERVED_AGENTS:
                raise ValueError(f"contributor name {name!r} is reserved: the service writes as it itself")
        return value

    @property
    def remote_login(self) -> tuple[str, str] | None:
        """The remote engine's user and password, when given."""
        if self.remote_credentials is None:
            return None
        user, _, password = self.remote_credentials.get_secret_value().partition(":")
        return user, password

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


def beside_store(store_location: str, configured: str | None, ending: str) -> Path | None:
    """Where a file or folder the service keeps for a store lives: as configured, else beside an on-disk store
    (<store><ending>), nowhere (in memory) for 'memory', and var/<ending without its dot> for a remote store."""
    if configured:
        return Path(configured)
    if store_location == "memory":
        return None
    if store_location.startswith(("http://", "https://")):
        return Path("var") / ending.lstrip(".")
    folder = Path(store_location)
    return folder.with_name(folder.name + ending)


def load_settings(**overrides: object) -> Settings:
    """Build the settings from the environment, with explicit values (command flags) taking precedence."""
    # Any: pydantic checks and converts each value (a flag's text to a number, a path), as it does the environment's.
    given: dict[str, Any] = {key: value for key, value in overrides.items() if value is not None}
    try:
        return Settings(**given)
    except ValidationError as error:
        problems = "; ".join(f"{'.'.join(map(str, e['loc'])) or 'settings'}: {e['msg']}" for e in error.errors())
        raise ConfigError(f"invalid setting: {problems}") from None

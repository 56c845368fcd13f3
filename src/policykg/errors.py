"""Typed errors of policykg; each carries the data a caller needs to report it."""

from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import rdflib


class PolicyKGError(Exception):
    """Base class of every error policykg raises on purpose."""


class UnknownFormatError(PolicyKGError):
    """The RDF syntax of an input could not be told from its name and none was given."""

    def __init__(self, source: str, known: list[str]) -> None:
        self.source = source
        self.known = known
        super().__init__(
            f"{source}: cannot tell the RDF syntax from the file name; name it with --input-format, one of: "
            f"{', '.join(known)}"
        )


class RdfSyntaxError(PolicyKGError):
    """An input is not valid RDF in its format; line and column are 1-based when known."""

    def __init__(self, source: str, message: str, line: int | None = None, column: int | None = None) -> None:
        self.source = source
        self.message = message
        self.line = line
        self.column = column
        where = f"{source}:{line}:{column}" if line is not None else source
        super().__init__(f"{where}: {message}")


class RdfInputRefused(PolicyKGError):
    """RDF sent to the service asks for what it never does: fetch a remote context or entity, nest past the
    limit, or expand entities into a much larger document."""


class InputNotFoundError(PolicyKGError):
    """A named input file or folder does not exist or cannot be read."""

    def __init__(self, path: Path, reason: str) -> None:
        self.path = path
        super().__init__(f"{path}: {reason}")


class QueryError(PolicyKGError):
    """A SPARQL query could not be parsed or evaluated."""


class SearchError(PolicyKGError):
    """A full-text search cannot be run as asked: an empty or unparsable query, a bad filter, a page past the end."""


class UnknownQuestionError(PolicyKGError):
    """No competency question has the given name."""


class ConfigError(PolicyKGError):
    """A setting has a value policykg cannot work with."""


class RemoteAccessRefused(PolicyKGError):
    """A request would make the server connect elsewhere (SERVICE, LOAD) and that is not allowed."""


class QueryTooComplex(PolicyKGError):
    """A query or update is built deeper than the service evaluates (brackets nested past the limit)."""


class QueryTimeout(PolicyKGError):
    """A query ran past its time limit and was stopped."""


class QueryMemoryExceeded(PolicyKGError):
    """A query's worker grew past the memory limit and was stopped."""


class ResultTooLarge(PolicyKGError):
    """A query's answer grew past the configured size limit and was cut off."""


class StoreError(PolicyKGError):
    """The store failed or could not be reached; a fault of the server, not of the request."""


class StoreInUse(StoreError):
    """An on-disk store is held by another process (a running service): one process at a time may open it."""


class BackupError(PolicyKGError):
    """A backup cannot be taken or restored as asked (a damaged file, a destination in the way); nothing was left."""


class NotReady(PolicyKGError):
    """The service cannot take queries now: its store did not answer the readiness probe."""


class GraphNotFound(PolicyKGError):
    """The named graph does not exist in the store."""


class ProtocolError(PolicyKGError):
    """A request breaks the SPARQL or Graph Store protocol (missing or repeated parameter, bad IRI …)."""


class NotAcceptable(PolicyKGError):
    """No answer syntax the server can write is acceptable to the client."""


class UnsupportedMediaType(PolicyKGError):
    """The request body is in a media type this route does not take."""


class PayloadTooLarge(PolicyKGError):
    """The request body is larger than the configured limit."""


class Unauthorized(PolicyKGError):
    """A write came without the bearer token, or with a wrong one."""


class WritesDisabled(PolicyKGError):
    """No update token is configured, so the service accepts no writes."""


class ChangeRejected(PolicyKGError):
    """A write would leave the graph in violation of the shapes; nothing was written."""

    def __init__(self, message: str, results: list[dict[str, object]], report: "rdflib.Graph | None" = None) -> None:
        self.results = results
        self.report = report  # the full sh:ValidationReport graph, for a client that asks for RDF
        super().__init__(message)


class DefaultGraphWrite(PolicyKGError):
    """A write puts triples in the default graph, which holds no data of the model."""


class ReadOnlyGraph(PolicyKGError):
    """A write reaches the ontology or shapes graph, which change only with the model's files."""


class EntryRejected(PolicyKGError):
    """An entry cannot come in as sent (a subject no shape checks, a blank-node subject, a foreign IRI)."""


class IdempotencyConflict(PolicyKGError):
    """An Idempotency-Key already names an entry with other content."""


class NotYourEntry(PolicyKGError):
    """A contributor tried to revise or retract an entry someone else wrote."""


class EntryGone(PolicyKGError):
    """The entry was revised or retracted: it is kept in the record but is no longer current."""


class ResourceNotFound(PolicyKGError):
    """Nothing is said of an IRI under the base: no statement names it."""


class ResourceGone(PolicyKGError):
    """A resource was described only by entries that have been retracted or revised away."""


class FormRefused(PolicyKGError):
    """A form was sent without the session's CSRF token (or with another one): nothing is done."""


class NotSignedIn(PolicyKGError):
    """A form that writes was sent by someone not signed in (or whose session has ended)."""

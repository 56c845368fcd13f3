"""The API described (OpenAPI): what each route answers, as data the routes declare, and what it takes.

Every error is a problem document (RFC 9457), or its page for a browser that prefers HTML; answers are in
the syntaxes each route offers. The routes read their bodies themselves (RDF, SPARQL), so their request
bodies are declared here too, for a client (or a fuzzer) to learn what to send.
"""

from collections.abc import Iterable
from typing import Any

from fastapi import Security
from fastapi.security import HTTPBearer
from pydantic import BaseModel

from policykg.rdf.mediatypes import HTML, RDF_INPUT_TYPES
from policykg.web.problems import MEDIA_TYPE, TABLE

Responses = dict[int | str, dict[str, Any]]

# Declared on the write routes (as a dependency that never refuses: the handlers check the token themselves),
# so that the API description says which routes need it.
NEEDS_TOKEN = [
    Security(HTTPBearer(auto_error=False, description="the operator's token (raw writes) or a contributor's (entries)"))
]
TEXT = {"type": "string"}
_JSON = {"type": ["object", "array"]}  # a JSON document: JSON-LD, SPARQL results
_REPORT_TYPES = ("text/turtle", "application/ld+json")  # the SHACL report of a refused write, when asked for
# Problems the framework raises rather than policykg's errors (see problems.install).
_FRAMEWORK = {400: ["invalid-parameter"], 404: ["not-found"], 405: ["method-not-allowed"]}


class Problem(BaseModel):
    """An error answer (RFC 9457): its type names the kind of problem, its detail what to do about it."""

    type: str
    title: str
    status: int
    detail: str
    instance: str
    request_id: str | None = None
    results: list[dict[str, Any]] | None = None  # a refused write's validation results (shapes-violated)


class ValidationResult(BaseModel):
    """One result of a validation, named as in the SHACL report vocabulary."""

    focusNode: str
    resultPath: str | None
    value: str | None
    message: str
    severity: str
    sourceShape: str
    sourceConstraintComponent: str


class ValidationOutcome(BaseModel):
    """What checking an entry gave: whether it would be accepted, and every result."""

    conforms: bool
    results: list[ValidationResult]


class AcceptedEntry(ValidationOutcome):
    """An entry written: its IRI (and the entry it revises), with the warnings and infos it got."""

    entry: str
    revises: str | None = None


class EntrySummary(BaseModel):
    """One entry of the list: its IRI, when and by whom it was accepted, whether it is current."""

    entry: str
    generatedAtTime: str
    wasAttributedTo: str
    current: bool


class EntryList(BaseModel):
    """A page of the entries, newest first."""

    entries: list[EntrySummary]
    limit: int
    offset: int
    more: bool


class DumpDescription(BaseModel):
    """One dump on offer, with its current validators."""

    url: str
    mediaType: str
    compressed: bool
    etag: str
    lastModified: str


class DumpList(BaseModel):
    """The dumps on offer, and the number of quads they hold."""

    dumps: list[DumpDescription]
    quads: int


_PROBLEM_SCHEMA = Problem.model_json_schema()


def problems(*statuses: int) -> Responses:
    """The error answers of a route: the statuses named, and any other client error, each a problem."""
    found: Responses = {status: _problem(_kinds(status)) for status in statuses}
    found["4XX"] = _problem("A problem: the request cannot be answered as sent")
    if 422 in statuses:
        found[422]["content"].update({media_type: {"schema": _schema(media_type)} for media_type in _REPORT_TYPES})
    return found


def answers(status: int, description: str, media_types: Iterable[str]) -> Responses:
    """A route's answer with a status, in each of the media types given."""
    return {
        status: {
            "description": description,
            "content": {media_type: {"schema": _schema(media_type)} for media_type in media_types},
        }
    }


def empty(status: int, description: str) -> Responses:
    """An answer without a body (201 or 204 of a write, 303 of a redirect, 304 of a conditional request)."""
    return {status: {"description": description}}


def json_answer(status: int, description: str, model: type[BaseModel], *other_types: str) -> Responses:
    """A route's JSON answer with a status, described by a model (and the other media types it may take)."""
    return {
        status: {
            "description": description,
            "model": model,
            "content": {media_type: {"schema": _schema(media_type)} for media_type in other_types},
        }
    }


def rdf_body(
    description: str, media_types: Iterable[str] = RDF_INPUT_TYPES, example: str | None = None
) -> dict[str, Any]:
    """A route's request body (for openapi_extra): RDF in one of the syntaxes given."""
    content: dict[str, dict[str, Any]] = {media_type: {"schema": _schema(media_type)} for media_type in media_types}
    if example is not None and "text/turtle" in content:
        content["text/turtle"]["example"] = example
    return {"requestBody": {"required": True, "description": description, "content": content}}


def _schema(media_type: str) -> dict[str, Any]:
    return _JSON if media_type.endswith(("/json", "+json")) else TEXT


def _problem(description: str) -> dict[str, Any]:
    return {"description": description, "content": {MEDIA_TYPE: {"schema": _PROBLEM_SCHEMA}, HTML: {"schema": TEXT}}}


def _kinds(status: int) -> str:
    kinds = [slug for code, slug, _ in TABLE.values() if code == status] + _FRAMEWORK.get(status, [])
    return "A problem of type " + ", ".join(kinds) if kinds else "A problem"


def page(*statuses: int) -> Responses:
    """A page for people (HTML), and the problems its address may meet."""
    return {**answers(200, "The page", [HTML]), **problems(*statuses)}


def form_post(page_statuses: Iterable[int], *statuses: int) -> Responses:
    """A form for people, posted: on to the next page (303), or the form again as a page, or a problem."""
    again: Responses = {
        status: answers(status, "The form again, with what to change by its field", [HTML])[status]
        for status in page_statuses
    }
    return {**empty(303, "Done: on to the next page"), **again, **problems(*statuses)}

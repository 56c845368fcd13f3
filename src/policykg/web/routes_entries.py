"""Entries over HTTP: a dry run at /validate, contributions at /entries, and the entries themselves."""

import re

import pyoxigraph as ox
from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response

from policykg.errors import GraphNotFound, NotAcceptable, UnsupportedMediaType
from policykg.iris import agent_iri, entry_iri
from policykg.rdf.mediatypes import HTML, RDF_INPUT_TYPES, base_type
from policykg.rdf.namespaces import PKG
from policykg.sparql.protocol import check_iri
from policykg.views.describe import labels_of
from policykg.web import apidoc
from policykg.web.context import ServiceContext, context, read_body, require_contributor, run
from policykg.web.documents import DOCUMENTS, choose, link_header, render
from policykg.web.pages import page
from policykg.writing.entries import record_of

router = APIRouter(tags=["Entries"], default_response_class=Response)  # no JSON default in the API description
_ENTRY_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,99}")
# TriG first: an entry is a graph with its provenance, which a dataset syntax keeps apart.
_ENTRY_TYPES = ["application/trig", *(m for m in DOCUMENTS.values() if m != "application/trig")]
_EXAMPLE = """@prefix pkg: <https://w3id.org/policykg/ontology#> . @prefix schema: <https://schema.org/> .
@prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> . @prefix xsd: <http://www.w3.org/2001/XMLSchema#> .
<http://localhost:8000/id/event/example-meeting> a pkg:ExpertGroupMeeting ; rdfs:label "An example meeting"@en ;
    pkg:partOfSeries <http://localhost:8000/id/series/cultural-heritage-expert-group-meetings> ;
    pkg:seriesNumber 99 ; schema:startDate "2030-01-01"^^xsd:date ."""
_ENTRY_BODY = apidoc.rdf_body("the entry's triples (TriG and N-Quads: one graph at most)", example=_EXAMPLE)


_VALIDATED = {
    **apidoc.json_answer(200, "The report the entry would get", apidoc.ValidationOutcome),
    **apidoc.problems(400, 413, 415, 422),
}


_VALIDATE = "Check an entry against the shapes and the stored graph; writes nothing"


@router.post("/validate", summary=_VALIDATE, responses=_VALIDATED, openapi_extra=_ENTRY_BODY)
async def validate_entry(request: Request) -> JSONResponse:
    """The report the entry would get: every result, and whether it would be accepted."""
    ctx = context(request)
    triples = await _read(request, ctx)
    agent = agent_iri(ctx.settings.base_iri, "anonymous")
    report = await run(ctx.executor, lambda: ctx.entries.check(triples, agent))
    return JSONResponse({"conforms": report.conforms, "results": [r.as_dict() for r in report.results]})


@router.post(
    "/entries",
    status_code=201,
    summary="Submit an entry (needs the token): checked, then written atomically",
    responses={
        **apidoc.json_answer(201, "The entry was written", apidoc.AcceptedEntry),
        **apidoc.json_answer(
            200, "The entry written by an earlier request with this Idempotency-Key", apidoc.AcceptedEntry
        ),
        **apidoc.problems(400, 401, 403, 409, 413, 415, 422),
    },
    dependencies=apidoc.NEEDS_TOKEN,
    openapi_extra=_ENTRY_BODY,
)
async def submit_entry(request: Request) -> JSONResponse:
    """Write the entry into a graph of its own, with its provenance: 201 and its Location."""
    ctx = context(request)
    agent = require_contributor(request, ctx.settings)
    triples = await _read(request, ctx)
    key = request.headers.get("idempotency-key")
    accepted = await run(ctx.write_executor, lambda: ctx.entries.submit(triples, agent, key))
    location = "/entries/" + accepted.iri.rsplit("/", 1)[-1]
    body = {"entry": accepted.iri, "conforms": True, "results": [r.as_dict() for r in accepted.report.results]}
    # A retry with the same Idempotency-Key gets the entry written the first time, as 200 (RFC 9110 §9.2.2).
    return JSONResponse(body, status_code=200 if accepted.repeated else 201, headers={"Location": location})


@router.get(
    "/entries",
    summary="The entries, newest first; filter by a resource they mention and by time",
    responses={**apidoc.json_answer(200, "A page of the entries", apidoc.EntryList, HTML), **apidoc.problems(400, 406)},
)
@router.head("/entries", include_in_schema=False)
async def list_entries(
    request: Request,
    limit: int = Query(50, ge=1, le=1000),
    offset: int = Query(0, ge=0),
    resource: str | None = Query(None, description="only entries whose triples mention this IRI"),
    since: str | None = Query(None, description="only entries accepted at or after this xsd:dateTime"),
    until: str | None = Query(None, description="only entries accepted before this xsd:dateTime"),
    format: str | None = Query(None, description="json or html (default: by the Accept header)"),
) -> Response:
    """A page of entries: IRI, time, submitter, and whether each is still current (JSON, or a page for people)."""
    ctx = context(request)
    if resource is not None:
        check_iri(resource, "resource")
    found = await run(ctx.executor, lambda: ctx.entries.listing(limit + 1, offset, resource, since, until))
    listed, more = found[:limit], len(found) > limit
    listings = {"json": "application/json", "html": HTML}
    if format is not None and format not in listings:
        raise NotAcceptable(f"format={format!r}: the list of entries is offered as json or html")
    wanted = listings.get(format or "") or choose(request.headers.get("accept"), list(listings.values()))
    if wanted == HTML:
        return HTMLResponse(
            page(ctx, "entries.html", "Entries", entries=listed, more=more, limit=limit, offset=offset),
            headers={"Vary": "Accept"},
        )
    return JSONResponse({"entries": listed, "limit": limit, "offset": offset, "more": more}, headers={"Vary": "Accept"})


@router.get(
    "/entries/{entry_id}",
    summary="One entry: its triples and provenance (TriG, N-Quads, Turtle, JSON-LD, … or HTML)",
    responses={
        **apidoc.answers(200, "The entry and its record", _ENTRY_TYPES),
        **apidoc.answers(
            410, "The entry was revised or retracted: its record, and its triples as they were", _ENTRY_TYPES
        ),
        **apidoc.problems(404, 406),
    },
)
@router.head("/entries/{entry_id}", include_in_schema=False)
async def read_entry(
    request: Request,
    entry_id: str,
    format: str | None = Query(None, description="a file ending: trig, nq, ttl, jsonld, nt, rdf or html"),
) -> Response:
    """The entry's graph and the provenance recorded about it; a past version too (410 once retracted)."""
    ctx = context(request)
    if format is not None and format not in DOCUMENTS:
        raise NotAcceptable(f"format={format!r}: an entry is offered as {', '.join(DOCUMENTS)}")
    media_type = DOCUMENTS.get(format or "") or choose(request.headers.get("accept"), _ENTRY_TYPES)
    iri = _entry_iri(ctx, entry_id)
    found = await run(ctx.executor, lambda: ctx.entries.quads(iri))
    about = record_of(iri, found)
    status = 410 if str(PKG.retractedBy) in about else 200
    headers = {"Vary": "Accept", "Link": link_header(f"/entries/{entry_id}", media_type, by_parameter=True)}
    if str(PKG.supersededBy) in about:
        headers["Link"] += f', <{about[str(PKG.supersededBy)]}>; rel="successor-version"'
    if media_type == HTML:
        named = {t.value for q in found for t in (q.subject, q.predicate, q.object) if isinstance(t, ox.NamedNode)}
        labels = {
            iri: label.text.value
            for iri, label in (await run(ctx.executor, lambda: labels_of(ctx.store, named))).items()
        }
        body = page(ctx, "entry.html", f"Entry {entry_id}", iri=iri, quads=found, about=about, labels=labels).encode(
            "utf-8"
        )
    else:
        body = render(found, media_type, ctx.settings.base_iri)
    return Response(body, status_code=status, media_type=media_type, headers=headers)


@router.put(
    "/entries/{entry_id}",
    status_code=201,
    summary="Revise an entry (needs a token): a new version, the old one kept",
    responses={
        **apidoc.json_answer(201, "The new version was written", apidoc.AcceptedEntry),
        **apidoc.problems(400, 401, 403, 404, 410, 413, 415, 422),
    },
    dependencies=apidoc.NEEDS_TOKEN,
    openapi_extra=_ENTRY_BODY,
)
async def revise_entry(request: Request, entry_id: str) -> JSONResponse:
    """Write a new version of a current entry; the old version stays retrievable, out of the graph."""
    ctx = context(request)
    agent = require_contributor(request, ctx.settings)
    triples = await _read(request, ctx)
    old = _entry_iri(ctx, entry_id)
    accepted = await run(ctx.write_executor, lambda: ctx.entries.revise(old, triples, agent))
    location = "/entries/" + accepted.iri.rsplit("/", 1)[-1]
    return JSONResponse(
        {
            "entry": accepted.iri,
            "revises": old,
            "conforms": True,
            "results": [r.as_dict() for r in accepted.report.results],
        },
        status_code=201,
        headers={"Location": location},
    )


@router.delete(
    "/entries/{entry_id}",
    status_code=204,
    summary="Retract an entry (needs a token); recorded, not lost",
    responses=apidoc.problems(401, 403, 404, 410, 422),
    dependencies=apidoc.NEEDS_TOKEN,
)
async def retract_entry(request: Request, entry_id: str) -> Response:
    """Take the entry's triples out of the graph; who and when are recorded, the triples archived."""
    ctx = context(request)
    agent = require_contributor(request, ctx.settings)
    old = _entry_iri(ctx, entry_id)
    await run(ctx.write_executor, lambda: ctx.entries.retract(old, agent))
    return Response(status_code=204)


def _entry_iri(ctx: ServiceContext, entry_id: str) -> str:
    """The IRI of the entry a path names; 404 for anything not an entry's name (nothing else reaches a query)."""
    if not _ENTRY_ID.fullmatch(entry_id):
        raise GraphNotFound(f"there is no entry {entry_id!r}: entries are named by letters, digits, '-', '_' and '.'")
    return entry_iri(ctx.settings.base_iri, entry_id)


async def _read(request: Request, ctx: ServiceContext) -> list[ox.Triple]:
    media = base_type(request.headers.get("content-type"))
    if media not in RDF_INPUT_TYPES:
        raise UnsupportedMediaType(f"send an entry as one of: {', '.join(RDF_INPUT_TYPES)} (not {media or 'nothing'})")
    body = await read_body(request, ctx.settings.max_body_bytes)
    return await run(ctx.executor, lambda: ctx.entries.read(body, RDF_INPUT_TYPES[media]))

"""Entries over HTTP: a dry run at /validate, contributions at /entries, and the entries themselves."""

import asyncio

import pyoxigraph as ox
from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse, Response

from policykg.errors import NotAcceptable, UnsupportedMediaType
from policykg.mediatypes import RDF_INPUT_TYPES, base_type, negotiate
from policykg.sparql import check_iri
from policykg.web.context import ServiceContext, context, read_body, require_contributor

router = APIRouter(tags=["Entries"])


@router.post("/validate", summary="Check an entry against the shapes and the stored graph; writes nothing")
async def validate_entry(request: Request) -> JSONResponse:
    """The report the entry would get: every result, and whether it would be accepted."""
    ctx = context(request)
    triples = await _read(request, ctx)
    agent = ctx.settings.base_iri + "id/agent/anonymous"
    report = await _run(ctx.executor, lambda: ctx.entries.check(triples, agent))
    return JSONResponse({"conforms": report.conforms, "results": [r.as_dict() for r in report.results]})


@router.post("/entries", status_code=201, summary="Submit an entry (needs the token): checked, then written atomically")
async def submit_entry(request: Request) -> JSONResponse:
    """Write the entry into a graph of its own, with its provenance: 201 and its Location."""
    ctx = context(request)
    agent = require_contributor(request, ctx.settings)
    triples = await _read(request, ctx)
    key = request.headers.get("idempotency-key")
    accepted = await _run(ctx.write_executor, lambda: ctx.entries.submit(triples, agent, key))
    location = "/entries/" + accepted.iri.rsplit("/", 1)[-1]
    body = {"entry": accepted.iri, "conforms": True, "results": [r.as_dict() for r in accepted.report.results]}
    # A retry with the same Idempotency-Key gets the entry written the first time, as 200 (RFC 9110 §9.2.2).
    return JSONResponse(body, status_code=200 if accepted.repeated else 201, headers={"Location": location})


@router.get("/entries", summary="The entries, newest first; filter by a resource they mention and by time")
async def list_entries(request: Request, limit: int = Query(50, ge=1, le=1000), offset: int = Query(0, ge=0),
                       resource: str | None = Query(None, description="only entries whose triples mention this IRI"),
                       since: str | None = Query(None, description="only entries accepted at or after this xsd:dateTime"),
                       until: str | None = Query(None, description="only entries accepted before this xsd:dateTime")) -> JSONResponse:
    """A page of entries: IRI, time, submitter, and whether each is still current."""
    ctx = context(request)
    if resource is not None:
        check_iri(resource, "resource")
    page = await _run(ctx.executor, lambda: ctx.entries.listing(limit, offset, resource, since, until))
    return JSONResponse({"entries": page, "limit": limit, "offset": offset})


@router.get("/entries/{entry_id}", summary="One entry: its triples and its provenance, as TriG or N-Quads")
async def read_entry(request: Request, entry_id: str) -> Response:
    """The entry's graph and the provenance the service recorded about it (a past version too)."""
    ctx = context(request)
    media_type = negotiate(request.headers.get("accept"), ["application/trig", "application/n-quads"])
    if media_type is None:
        raise NotAcceptable("an entry is sent as application/trig or application/n-quads")
    found = await _run(ctx.executor, lambda: ctx.entries.quads(f"{ctx.settings.base_iri}entries/{entry_id}"))
    syntax = ox.RdfFormat.TRIG if media_type == "application/trig" else ox.RdfFormat.N_QUADS
    return Response(ox.serialize(found, format=syntax), media_type=media_type, headers={"Vary": "Accept"})


@router.put("/entries/{entry_id}", status_code=201, summary="Revise an entry (needs a token): a new version, the old one kept")
async def revise_entry(request: Request, entry_id: str) -> JSONResponse:
    """Write a new version of a current entry; the old version stays retrievable, out of the graph."""
    ctx = context(request)
    agent = require_contributor(request, ctx.settings)
    triples = await _read(request, ctx)
    old = f"{ctx.settings.base_iri}entries/{entry_id}"
    accepted = await _run(ctx.write_executor, lambda: ctx.entries.revise(old, triples, agent))
    location = "/entries/" + accepted.iri.rsplit("/", 1)[-1]
    return JSONResponse({"entry": accepted.iri, "revises": old, "conforms": True,
                         "results": [r.as_dict() for r in accepted.report.results]},
                        status_code=201, headers={"Location": location})


@router.delete("/entries/{entry_id}", status_code=204, summary="Retract an entry (needs a token); recorded, not lost")
async def retract_entry(request: Request, entry_id: str) -> Response:
    """Take the entry's triples out of the graph; who and when are recorded, the triples archived."""
    ctx = context(request)
    agent = require_contributor(request, ctx.settings)
    old = f"{ctx.settings.base_iri}entries/{entry_id}"
    await _run(ctx.write_executor, lambda: ctx.entries.retract(old, agent))
    return Response(status_code=204)


async def _read(request: Request, ctx: ServiceContext) -> list[ox.Triple]:
    media = base_type(request.headers.get("content-type"))
    if media not in RDF_INPUT_TYPES:
        raise UnsupportedMediaType(f"send an entry as one of: {', '.join(RDF_INPUT_TYPES)} (not {media or 'nothing'})")
    body = await read_body(request, ctx.settings.max_body_bytes)
    return ctx.entries.read(body, RDF_INPUT_TYPES[media])


async def _run(executor, work):  # type: ignore[no-untyped-def]
    return await asyncio.get_running_loop().run_in_executor(executor, work)


"""Dumps of the whole dataset: streamed in constant memory, with validators for cheap conditional requests.

A dump is written from the store as it is asked for, chunk by chunk (gzip-compressed on the way for
.nq.gz), so memory does not grow with the store; its length is not known beforehand and it is sent
chunked. Its ETag names the store's revision (it changes with every write) and the file, and its
Last-Modified is the time of the last write: HEAD, or a GET with If-None-Match or If-Modified-Since,
tells a harvester whether anything changed without sending the dump again (304).
"""

import zlib
from collections.abc import Callable
from email.utils import format_datetime

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response, StreamingResponse

from policykg.errors import ResourceNotFound
from policykg.publish.catalogue import DUMPS, Dump
from policykg.store import Sink
from policykg.store.streaming import stream
from policykg.web import apidoc
from policykg.web.answers import answer_response
from policykg.web.context import ServiceContext, context, run
from policykg.web.documents import is_current

router = APIRouter(tags=["Dumps"], default_response_class=Response)  # no JSON default in the API description


@router.get(
    "/dumps",
    summary="The dumps on offer, with their current validators",
    responses=apidoc.json_answer(200, "The dumps", apidoc.DumpList),
)
@router.head("/dumps", include_in_schema=False)
async def dumps(request: Request) -> JSONResponse:
    """Each dump's address, media type, ETag and Last-Modified: a cheap way to learn whether the data changed."""
    ctx = context(request)
    revision = ctx.writer.revision
    quads = await run(ctx.executor, lambda: ctx.memo("quads", ctx.store.count))
    return JSONResponse(
        {
            "dumps": [
                {
                    "url": ctx.settings.base_iri + "dumps/" + dump.file_name,
                    "mediaType": dump.media_type,
                    "compressed": dump.compressed,
                    "etag": _tag(ctx, dump),
                    "lastModified": format_datetime(revision.modified, usegmt=True),
                }
                for dump in DUMPS
            ],
            "quads": quads,
        },
        headers={"Cache-Control": "no-cache"},
    )


@router.get(
    "/dumps/{name}",
    summary="The whole dataset, in one syntax, streamed",
    responses={
        **apidoc.answers(
            200, "The dump", dict.fromkeys("application/gzip" if d.compressed else d.media_type for d in DUMPS)
        ),
        **apidoc.empty(304, "The client's copy is current"),
        **apidoc.problems(404),
    },
)
@router.head("/dumps/{name}", include_in_schema=False)
async def dump(request: Request, name: str) -> Response:
    """Stream the dataset (every named graph), or answer 304 when the client's copy is current."""
    ctx = context(request)
    chosen = next((d for d in DUMPS if d.file_name == name), None)
    if chosen is None:
        raise ResourceNotFound(f"there is no dump {name}; the dumps are {', '.join(d.file_name for d in DUMPS)}")
    revision = ctx.writer.revision
    headers = {
        "ETag": _tag(ctx, chosen),
        "Last-Modified": format_datetime(revision.modified, usegmt=True),
        "Cache-Control": "no-cache",
        "Content-Disposition": f'attachment; filename="{chosen.file_name}"',
    }
    if is_current(request, headers["ETag"], revision.modified):
        return Response(status_code=304, headers=headers)
    media_type = "application/gzip" if chosen.compressed else chosen.media_type
    if request.method == "HEAD":  # the length is not known before the dump is written: say nothing of it
        return StreamingResponse(iter(()), media_type=media_type, headers=headers)
    produce = _gzipped(_writer(ctx, chosen)) if chosen.compressed else _writer(ctx, chosen)
    answer = await stream(ctx.dump_executor, produce, None)
    return answer_response(answer, media_type, headers)


def _writer(ctx: ServiceContext, chosen: Dump) -> Callable[[Sink], None]:
    syntax = "trig" if chosen.media_type == "application/trig" else "nquads"
    return lambda sink: ctx.store.dump(syntax, sink)


def _gzipped(produce: Callable[[Sink], None]) -> Callable[[Sink], None]:
    """Wrap a producer so that its chunks reach the sink gzip-compressed."""

    def compressed(sink: Sink) -> None:
        compressor = zlib.compressobj(6, zlib.DEFLATED, 16 + zlib.MAX_WBITS)

        def feed(chunk: bytes) -> None:
            out = compressor.compress(chunk)
            if out:
                sink(out)

        produce(feed)
        sink(compressor.flush())

    return compressed


def _tag(ctx: ServiceContext, chosen: Dump) -> str:
    return f'"{ctx.writer.revision.tag}-{chosen.file_name}"'

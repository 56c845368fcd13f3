"""Dumps of the whole dataset: files streamed from disk, with validators for cheap conditional requests.

The dumps are written to files once per revision, in the background after writes (publish/dumpfiles.py, from
the store frozen between two writes; web/derived.py), and a download streams the newest finished files in
constant memory, with their length. Their ETag names the revision they hold (and the file), their
Last-Modified that revision's time: after a write, the files of the revision before are served, so labelled,
until the new ones are written — a harvester is never told one revision's name for another's content. HEAD,
or a GET with If-None-Match or If-Modified-Since, tells a harvester whether anything changed without sending
the dump again (304). While the first files after a start are written, a download follows the file being
written (publish/dumpfiles.Follower), labelled with the revision it holds, so that the store is dumped once
however many harvesters come. For a store in memory (no folder), after a making failed (until one succeeds:
one that keeps failing must not cut every download that follows it), or if no making begins within
BEGIN_WAIT, a dump is written from the store as it is asked for, chunk by chunk (compressed on the way).
"""

import asyncio
import logging
import os
import time
import zlib
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from email.utils import format_datetime
from pathlib import Path
from typing import BinaryIO

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response, StreamingResponse

from policykg.config import beside_store
from policykg.errors import ResourceNotFound
from policykg.publish.catalogue import DUMPS, Dump
from policykg.publish.dumpfiles import Follower, Progress, folder_name, prune, write_dumps
from policykg.store import Sink, Store
from policykg.store.streaming import stream
from policykg.web import apidoc
from policykg.web.answers import answer_response
from policykg.web.context import ServiceContext, context, run
from policykg.web.derived import derived
from policykg.web.documents import is_current
from policykg.writing.writer import Revision

router = APIRouter(tags=["Dumps"], default_response_class=Response)  # no JSON default in the API description
_CHUNK = 1 << 20  # bytes read from a dump file at a time
BEGIN_WAIT = 1.0  # seconds a download with no files to read waits for the first making to begin
_PAUSE = 0.02  # seconds between looks at a file being written, or at a making about to begin
_log = logging.getLogger("policykg.dumps")


@router.get(
    "/dumps",
    summary="The dumps on offer, with their current validators",
    responses=apidoc.json_answer(200, "The dumps", apidoc.DumpList),
)
@router.head("/dumps", include_in_schema=False)
async def dumps(request: Request) -> JSONResponse:
    """Each dump's address, media type, ETag and Last-Modified: a cheap way to learn whether the data changed."""
    ctx = context(request)
    revision, files = _served(request)
    if files is None and (making := _begun(request)) is not None:
        revision = making[0]  # what a download gets now: the files being written
    quads = files.quads if files else await run(ctx.executor, lambda: ctx.memo("quads", ctx.store.count))
    return JSONResponse(
        {
            "dumps": [
                {
                    "url": ctx.settings.base_iri + "dumps/" + dump.file_name,
                    "mediaType": dump.media_type,
                    "compressed": dump.compressed,
                    "etag": _tag(revision, dump),
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
    revision, files = _served(request)
    following = None if files is not None else await _making(request)
    if following is not None:
        revision = following[0]
    elif files is None:
        revision, files = _served(request)  # the first making may have ended while this download looked
    headers = {
        "ETag": _tag(revision, chosen),
        "Last-Modified": format_datetime(revision.modified, usegmt=True),
        "Cache-Control": "no-cache",
        "Content-Disposition": f'attachment; filename="{chosen.file_name}"',
    }
    if is_current(request, headers["ETag"], revision.modified):
        return Response(status_code=304, headers=headers)
    media_type = "application/gzip" if chosen.compressed else chosen.media_type
    if files is not None:
        opened = await run(ctx.dump_executor, lambda: files.paths[chosen.file_name].open("rb"))
        headers["Content-Length"] = str(os.fstat(opened.fileno()).st_size)
        if request.method == "HEAD":
            opened.close()
            return Response(media_type=media_type, headers=headers)
        return StreamingResponse(_read(ctx, opened), media_type=media_type, headers=headers)
    if request.method == "HEAD":  # the length is not known before the dump is written: say nothing of it
        return StreamingResponse(iter(()), media_type=media_type, headers=headers)
    if following is not None:
        return StreamingResponse(
            _follow(ctx, Follower(following[1], chosen.file_name)), media_type=media_type, headers=headers
        )
    if _dumps_root(ctx) is not None:  # seconds of a core for each such download, where following costs nothing
        _log.info("%s written from the store as it was asked for: no files, and none being written", name)
    produce = _gzipped(_writer(ctx, chosen)) if chosen.compressed else _writer(ctx, chosen)
    answer = await stream(ctx.dump_executor, produce, None)
    return answer_response(answer, media_type, headers)


@dataclass(frozen=True)
class _Files:
    """One revision's dump files, and the number of quads they hold."""

    paths: dict[str, Path]
    quads: int


def _served(request: Request) -> tuple[Revision, _Files | None]:
    """The revision whose dumps are served now, and its files (None: written from the store as asked for)."""
    ctx = context(request)
    root = _dumps_root(ctx)
    if root is None:
        return ctx.writer.revision, None

    state = request.app.state

    def files(store: Store, revision: Revision) -> _Files:
        progress = Progress(root / folder_name(revision.tag))
        # For downloads that come before any files: kept once whole (a follower then reads the renamed files)
        # until the files are published. After a failure, downloads are written from the store until a making
        # succeeds: one that keeps failing (a full disk) must not cut every download that follows it.
        state.dumps_making = (revision, progress)
        try:
            paths = write_dumps(store, progress.folder, progress)
        except BaseException:
            state.dumps_making, state.dumps_failed = None, True
            raise
        state.dumps_failed = False
        prune(root)
        return _Files(paths, store.count())

    newest = derived(request, "dumps", files, eager=True).peek()
    return newest if newest is not None else (ctx.writer.revision, None)


def _dumps_root(ctx: ServiceContext) -> Path | None:
    """The folder the dump files are written under (None: the store is in memory, nothing is written)."""
    return beside_store(ctx.settings.store, ctx.settings.dumps_folder, ".dumps")


def _begun(request: Request) -> tuple[Revision, Progress] | None:
    """The making of dump files under way (or just ended), unless the last one failed."""
    state = request.app.state
    return None if getattr(state, "dumps_failed", False) else getattr(state, "dumps_making", None)


async def _making(request: Request) -> tuple[Revision, Progress] | None:
    """The revision and progress of the files being written, once their making has begun (None: none begins)."""
    if _dumps_root(context(request)) is None or getattr(request.app.state, "dumps_failed", False):
        return None
    until = time.monotonic() + BEGIN_WAIT
    while (making := _begun(request)) is None and time.monotonic() < until:
        if _served(request)[1] is not None:  # it ended meanwhile: its files are there to read
            return None
        await asyncio.sleep(_PAUSE)  # the making _served started runs on a thread: it begins within moments
    return making


async def _follow(ctx: ServiceContext, follower: Follower) -> AsyncIterator[bytes]:
    """A file's bytes as they are written, read on a dump thread; the follower let go at the end."""
    try:
        while True:
            if not follower.begun():  # its file waits for the one before it: nothing to read on a thread yet
                await asyncio.sleep(_PAUSE)
                continue
            chunk = await run(ctx.dump_executor, lambda: follower.read(_CHUNK))
            if chunk == b"":
                return
            if chunk is None:
                await asyncio.sleep(_PAUSE)
            else:
                yield chunk
    finally:
        follower.close()


async def _read(ctx: ServiceContext, opened: BinaryIO) -> AsyncIterator[bytes]:
    """A file's bytes, a chunk at a time read on a dump thread, and the file closed at the end."""
    try:
        while chunk := await run(ctx.dump_executor, lambda: opened.read(_CHUNK)):
            yield chunk
    finally:
        opened.close()


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


def _tag(revision: Revision, chosen: Dump) -> str:
    return f'"{revision.tag}-{chosen.file_name}"'

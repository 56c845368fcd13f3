"""Liveness at /health and readiness at /ready, for probes (Kubernetes, systemd, a load balancer).

As with Kubernetes' /livez and /readyz, a prober reads the status code. /health touches nothing but the
event loop: if it fails, the process is stuck and should be restarted. /ready asks the store `ASK {}` the
way queries go (the query threads, and the worker processes of the on-disk store, or the remote engine)
within a short bound: if it fails, route queries elsewhere for now. Neither is cached, nor needs a token.
"""

import dataclasses
import json
import logging
import time
from typing import Literal

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel

from policykg.errors import NotReady, PolicyKGError
from policykg.store import Limits
from policykg.web.apidoc import problems
from policykg.web.context import ServiceContext, context
from policykg.web.derived import made

router = APIRouter(tags=["Health"])
_log = logging.getLogger("policykg.health")
PROBE = "ASK {}"
PROBE_SECONDS = 2.0  # at most; a shorter query time limit bounds it instead
_NO_STORE = {"Cache-Control": "no-store"}


class Liveness(BaseModel):
    """The process answers."""

    status: Literal["ok"]


class StoreCheck(BaseModel):
    """What the readiness probe asked the store, within which bound, and how long the answer took."""

    status: Literal["ok"]
    probe: str
    within_seconds: float
    duration_ms: float


class QueryWorkers(BaseModel):
    """What the query worker processes have done: processes started since the service began (the workers, their
    warm spare and any replacement of one stopped at a limit), workers serving, queries running and waiting."""

    started: int
    workers: int
    running: int
    waiting: int


class Readiness(BaseModel):
    """Every check passed; with query worker processes, what they have done."""

    status: Literal["ok"]
    checks: dict[str, StoreCheck]
    query_workers: QueryWorkers | None = None


@router.get("/health", response_model=Liveness, summary="Liveness: the process answers (touches no store)")
@router.head("/health", include_in_schema=False)
async def health() -> JSONResponse:
    """Answer at once: nothing but the event loop is needed."""
    return JSONResponse({"status": "ok"}, headers=_NO_STORE)


@router.get(
    "/ready",
    response_model=Readiness,
    summary="Readiness: the store answers a query within a short bound",
    responses=problems(503),
)
@router.head("/ready", include_in_schema=False)
async def ready(request: Request) -> JSONResponse:
    """200 with what was checked, or 503 (problem details) naming what failed."""
    ctx = context(request)
    bound = min(PROBE_SECONDS, ctx.settings.query_timeout)
    started = time.perf_counter()
    await probe_store(ctx, bound)
    check = {
        "status": "ok",
        "probe": PROBE,
        "within_seconds": bound,
        "duration_ms": round((time.perf_counter() - started) * 1000, 1),
    }
    revision = ctx.writer.revision
    body: dict[str, object] = {
        "status": "ok",
        "checks": {"store": check},
        "revision": {"tag": revision.tag, "modified": revision.modified.isoformat()},
        "derived": made(request),  # what is made in the background (dumps, figures), and of which revision
        "writes": dict(zip(("groups", "writes"), ctx.writer.groups, strict=True)),  # group commit (writing/grouping.py)
    }
    if ctx.figures is not None:  # VoID's figures, kept from each write: their revision, and the full counts so far
        kept = ctx.figures.revision
        body["figures"] = {"revision": kept and kept.tag, "full_counts": ctx.figures.counts}
    if ctx.compaction is not None and (compaction := ctx.compaction.state) is not None:
        body["compaction"] = dataclasses.asdict(compaction)  # the store's files merged once writes pause
    workers = ctx.store.query_workers()
    if workers is not None:
        body["query_workers"] = dataclasses.asdict(workers)
    return JSONResponse(body, headers=_NO_STORE)


async def probe_store(ctx: ServiceContext, bound: float) -> None:
    """Ask the store `ASK {}` through the path queries take; raise NotReady unless it answers true in time."""
    try:
        answer = await (
            await ctx.store.answer(PROBE, format_name="json", executor=ctx.executor, limits=Limits(bound, 4096))
        ).read()
    except PolicyKGError as error:  # why, with the engine's address, goes to the operator's log only
        _log.warning("readiness probe failed: %s: %s", type(error).__name__, error)
        raise NotReady(f"store: {PROBE} got no answer within {bound:g} s") from None
    if not _says_true(answer):
        raise NotReady(f"store: {PROBE} was answered with {answer[:200]!r}, not true")


def _says_true(answer: bytes) -> bool:
    try:
        return json.loads(answer).get("boolean") is True
    except (ValueError, AttributeError):
        return False

"""How the query pool stops a query: at its deadline, when its caller wants no more, and past the memory limit.

pyoxigraph cannot cancel a query, so a query is first told to stop (CANCEL), which it does at its next
write; one that writes nothing until it is done is stopped by killing its worker GRACE seconds later. A
worker whose resident memory passes the limit is killed at once: the query that has run longest there is
blamed, those that ran beside it for over _LONG_RUNNING seconds are stopped with it. Killing a worker, and
what becomes of the other queries it held, is the pool's (querypool.py): `Limiter` is handed its `kill`.
"""

import asyncio
import time
from collections.abc import Callable

from policykg.errors import PolicyKGError, QueryMemoryExceeded, QueryTimeout
from policykg.store.base import Limits
from policykg.store.poolhandles import Call, WorkerHandle
from policykg.store.poolworkers import WorkerSet
from policykg.store.queryworker import CANCEL

GRACE = 0.25  # seconds a query told to stop may take before its worker is killed
_WATCH_SECONDS = 0.1  # how often busy workers are measured against the memory limit
_LONG_RUNNING = 1.0  # seconds after which a query beside one past the memory limit is stopped with it

# kill(worker, blamed, error, long_running): end the worker; blamed gets error, those sent before
# long_running's time get its error.
Kill = Callable[[WorkerHandle, Call, PolicyKGError, tuple[float, PolicyKGError] | None], None]


class Limiter:
    """Stops the pool's queries at their deadlines, when their callers leave, and past the memory limit."""

    def __init__(self, workers: WorkerSet, memory_limit: int | None, kill: Kill) -> None:
        self._workers = workers
        self._memory_limit = memory_limit
        self._kill = kill
        self._watching = False

    def start(self, call: Call) -> None:
        """Set the timer of a new call's deadline, if it has one."""
        if call.limits.deadline is not None:
            call.timer = call.loop.call_at(_loop_time(call.loop, call.limits.deadline), self._expire, call)

    def sent(self, call: Call) -> None:
        """A call went to a worker: measure the busy workers' memory while queries run, if there is a limit."""
        if self._memory_limit is not None and not self._watching:
            self._watching = True
            call.loop.call_later(_WATCH_SECONDS, self._watch)

    def abandon(self, call: Call) -> None:
        """The caller wants no more of this answer: tell its worker to stop, kill it if it has not at the deadline."""
        if call.abandoned:
            return
        call.abandoned = True
        call.chunks.clear()
        if call.worker is None:
            if call.timer is not None:
                call.timer.cancel()
            return
        call.worker.send(CANCEL, call.number)
        if call.timer is None:  # no deadline: give it the grace period alone
            call.timer = call.loop.call_later(GRACE, self._stop_worker_of, call)

    def _expire(self, call: Call) -> None:
        """A call's deadline: its caller gets a timeout; a worker still running it after GRACE is killed."""
        if call.worker is None:  # still waiting for a worker, or already done
            if not call.finished:
                call.abandoned = True
                call.fail(QueryTimeout("every query worker stayed busy until the time limit"))
            return
        call.fail(timeout_error(call.limits))
        if not call.abandoned:
            call.abandoned = True
            call.worker.send(CANCEL, call.number)
        # No new query goes to a worker that may be killed in GRACE seconds, unless it stops this one first.
        call.overdue = True
        call.worker.overdue += 1
        call.timer = call.loop.call_later(GRACE, self._stop_worker_of, call)

    def _stop_worker_of(self, call: Call) -> None:
        worker = call.worker
        if worker is not None and call.number in worker.calls:
            self._kill(worker, call, timeout_error(call.limits), None)

    def _watch(self) -> None:
        """Every _WATCH_SECONDS while queries run: kill a worker past the memory limit, blaming its oldest query."""
        try:
            for worker in [worker for worker in self._workers.serving if worker.calls]:
                used = worker.resident_bytes()
                if used is not None and self._memory_limit is not None and used > self._memory_limit:
                    # The memory of one thread cannot be told from another's: the query that has run longest
                    # there is blamed, the others that have run long are stopped with it (a query needs time to
                    # fill that much), and the short ones are answered again elsewhere.
                    blamed = min(worker.calls.values(), key=lambda c: c.sent)
                    limit = self._memory_limit // 2**20
                    self._kill(
                        worker,
                        blamed,
                        QueryMemoryExceeded(
                            f"the query needed more than the limit of {limit} MiB of memory and was stopped"
                        ),
                        (
                            time.monotonic() - _LONG_RUNNING,
                            QueryMemoryExceeded(
                                f"the query was stopped with its worker, which passed the memory limit of {limit} MiB "
                                "while answering it and others"
                            ),
                        ),
                    )
        finally:
            loop, serving = self._workers.loop, self._workers.serving
            if any(worker.calls for worker in serving) and loop is not None and not self._workers.closed:
                loop.call_later(_WATCH_SECONDS, self._watch)
            else:
                self._watching = False


def timeout_error(limits: Limits) -> QueryTimeout:
    """The error of a query stopped at its deadline (or told to stop without one)."""
    if limits.timeout is None:
        return QueryTimeout("the query was stopped")
    return QueryTimeout(f"the query ran longer than the limit of {limits.timeout:g} s and was stopped")


def _loop_time(loop: asyncio.AbstractEventLoop, deadline: float) -> float:
    """A time.monotonic() deadline on the loop's clock (the same clock for asyncio's loops, uvloop's too)."""
    return loop.time() + (deadline - time.monotonic())

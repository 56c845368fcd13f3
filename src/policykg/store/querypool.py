"""Query worker processes over read-only snapshots of an on-disk store: the engine's speed, real limits.

pyoxigraph cannot cancel a running query, and a store folder can be opened by one process only. So the
writer process keeps the store and, after each write, takes a RocksDB checkpoint (hard links, cheap);
worker processes (`queryworker.py`) open the newest checkpoint read-only and answer queries.

The design, and the figures that chose it (2 cores, 200k quads, point lookups; benchmarks/RESULTS.md):

- **A fixed pool of long-lived processes, each answering many queries at once on threads.** pyoxigraph
  releases the GIL while it evaluates, so two processes keep two cores busy with any number of queries.
  The pool that came before answered one query per process and started a process whenever all were busy:
  with as many clients as workers that was every request, 80 % of the CPU went to starting and killing
  processes (105-150 ms of CPU each), and throughput fell from 273 to 54 queries/s as clients were added.
  Now no process starts in a steady run; a query waits for a thread only when every worker has MOST_CALLS
  queries running.
- **Driven from the event loop.** Each worker is one datagram socket pair; the server's event loop writes
  requests and reads answers itself (`add_reader`), so a query costs no thread hand-off in the server. An
  answer up to 64 KiB comes back in one frame and can be sent as one message with a Content-Length. Callers in other
  threads (the command line, tests) go through the same loop, or a private one when no server runs.
- **Limits by process, innocence by re-running.** A query past its deadline is told to stop, and does at
  its next write; one that writes nothing until it is done (a COUNT over a cross product, an ORDER BY) is
  stopped by killing its worker GRACE seconds later. The other queries the worker held are re-run on
  another worker (reads are idempotent) unless part of their answer already reached their client, which
  then gets a clear error. The same goes for memory: a worker whose resident memory passes the limit is
  killed, the query that has run longest there is told so, with those that ran there over a second (one
  thread's memory cannot be told from another's), and the short ones are re-run.
- **A warm spare.** One more process is started and made ready beforehand, so a killed worker is replaced
  at once by one that can answer; the next spare starts on a thread, off the request path.
- **Snapshots once per write.** After a write the workers are told to open the new snapshot (14-22 ms)
  before queries need it; a snapshot folder is removed once no query reads it.

Measured with this design (benchmarks/read_path.py): cheap queries at 0.70-0.97 x `oxigraph serve` from 1 to
32 clients on 200k triples, where the pool before reached 0.06-0.43; no process started in a steady run.

Where each part is: this module sends queries to workers and follows them (`QueryPool`); `poolworkers.py`
starts the processes, the spare among them, and replaces a lost one (`WorkerSet`); `poolhandles.py` holds
the handle on a worker (its socket's frames) and on a query, and what becomes of a lost worker's queries;
`poollimits.py` stops queries at their deadlines and the memory limit; `queryworker.py` is the worker's
side and the frames' format; `snapshots.py` numbers the snapshots and counts their readers.
"""

import asyncio
import contextlib
import dataclasses
import itertools
import pickle
import threading
import time
from collections import deque
from collections.abc import Callable
from concurrent.futures import Executor
from pathlib import Path

from policykg.errors import PolicyKGError, QueryError, StoreError
from policykg.store.base import Answer, Options, Sink, WorkerStatistics
from policykg.store.poolhandles import Call, CallAnswer, WorkerHandle, after_loss
from policykg.store.poollimits import GRACE as GRACE  # importable from here, as it always was
from policykg.store.poollimits import Limiter, timeout_error
from policykg.store.poolworkers import WorkerSet, on_thread
from policykg.store.queryworker import (
    DATA,
    END,
    FRAME_BYTES,
    MOST_CALLS,
    OPEN,
    QUERY,
    QUERY_ERROR,
    READY,
    STOPPED,
    STORE_ERROR,
    Request,
    split_request,
)
from policykg.store.snapshots import Snapshots, remove
from policykg.store.streaming import read_from_loop, stream


class QueryPool:
    """Worker processes answering queries over the newest snapshot of a store, size of them and a spare."""

    def __init__(self, snapshots: Path, size: int, memory_limit: int | None = None) -> None:
        self._snapshots = Snapshots(snapshots)
        # Which loop drives the workers (the snapshots keep their own lock); the rest belongs to that loop's thread.
        self._lock = threading.Lock()
        self._loop_thread: threading.Thread | None = None
        self._numbers = itertools.cycle(range(1, 2**32))  # a frame has 32 bits for the call's number
        self._waiting: deque[Call] = deque()
        self._buffer = bytearray(FRAME_BYTES)  # frames are read into it on the loop's thread: no 64 KiB per frame
        self._workers = WorkerSet(size, self._attach)
        self._limiter = Limiter(self._workers, memory_limit, self._lost)

    @property
    def _loop(self) -> asyncio.AbstractEventLoop | None:
        """The loop that drives the workers (None until one does)."""
        return self._workers.loop

    # --- snapshots (called from the writer's thread)

    def publish(self, take_snapshot: Callable[[Path], None]) -> None:
        """Take a new snapshot with take_snapshot(folder) and send the following queries to it."""
        folder, unread = self._snapshots.take(take_snapshot)
        loop = self._loop
        if loop is None or loop.is_closed():
            remove(unread)
            return
        loop.call_soon_threadsafe(self._announce, folder)
        if unread:  # deleting folders of files took 5 % of a write's time: left to the loop's threads
            loop.call_soon_threadsafe(on_thread, loop, remove, unread)

    # --- answering

    async def answer(
        self, sparql: str, format_name: str, options: Options, union: bool, executor: Executor | None
    ) -> Answer:
        """Start a query and return its answer once the first chunk (or all of a small one) has come back."""
        loop = asyncio.get_running_loop()
        limits = options.limits
        if self._loop is not loop:
            with self._lock:
                if self._loop is None or self._loop.is_closed():
                    self._bind(loop)
            if self._loop is not loop:  # another loop drives the workers: a thread goes through it
                return await stream(
                    executor, lambda sink: self.query(sparql, sink, format_name, options, union), limits.timeout
                )
        if self._workers.closed:
            raise StoreError("the query workers have stopped")
        dataset = options.dataset
        request = Request(
            sparql,
            format_name,
            options.base_iri,
            dataset.default_graphs,
            dataset.named_graphs,
            union,
            "",
            limits.deadline,
        )
        call = Call(next(self._numbers), request, limits, loop)
        self._limiter.start(call)
        self._dispatch(call)
        try:
            first = await call.next_chunk()
        except BaseException:  # an error, or the caller was cancelled (its client went away)
            self._limiter.abandon(call)
            raise
        complete = call.finished and not call.chunks
        if complete:
            self._limiter.abandon(call)  # nothing more to come: only its bookkeeping is left
        return CallAnswer(call, first or b"", complete, self._limiter.abandon)

    def query(self, sparql: str, sink: Sink, format_name: str, options: Options, union: bool) -> None:
        """Answer a query for a caller outside the event loop, passing its bytes to sink."""
        loop = self._loop_for_threads()
        read_from_loop(loop, self.answer(sparql, format_name, options, union, None), sink)

    def statistics(self) -> WorkerStatistics:
        """Processes started so far, workers serving, queries running and waiting."""
        return WorkerStatistics(
            self._workers.started,
            len(self._workers.serving),
            sum(len(w.calls) for w in self._workers.serving),
            sum(1 for call in self._waiting if not call.abandoned),
        )

    def close(self) -> None:
        """Stop every worker and remove the snapshots (called once the event loop has stopped, or from a thread)."""
        loop = self._loop
        workers = self._workers.close()
        if self._loop_thread is not None and loop is not None:  # a private loop: stop it before its sockets close
            loop.call_soon_threadsafe(loop.stop)
            self._loop_thread.join(timeout=5)
            loop.close()
        for worker in workers:
            worker.end()
        self._snapshots.remove_all()

    # --- the event loop's side

    def _bind(self, loop: asyncio.AbstractEventLoop) -> None:
        """Let this event loop drive the workers (on its thread, under the lock); a closed one's calls are dropped."""
        if self._loop is not None:  # it closed: nothing waits for what it was following any more
            self._waiting.clear()
            for worker in self._workers.all():
                for call in worker.calls.values():
                    assert call.snapshot is not None  # set before a call goes to a worker
                    self._snapshots.done(call.snapshot)
                worker.calls, worker.overdue = {}, 0
                worker.outbox.clear()
        self._workers.bind(loop)

    def _attach(self, worker: WorkerHandle) -> None:
        """Have the loop read the worker's frames (the worker set calls this for each worker the loop drives)."""
        assert self._loop is not None
        worker.attach(self._loop, self._buffer, self._received, self._crashed)

    def _loop_for_threads(self) -> asyncio.AbstractEventLoop:
        """The loop that drives the workers; a private one on a thread of its own when no running loop does."""
        with contextlib.suppress(RuntimeError):
            if asyncio.get_running_loop() is self._loop:  # waiting here would stop the loop that answers
                raise StoreError("a blocking query was asked for on the workers' event loop: await answer() there")
        with self._lock:
            loop = self._loop
            if loop is not None and loop.is_running():
                return loop
            loop = asyncio.new_event_loop()
            self._loop_thread = threading.Thread(target=loop.run_forever, daemon=True, name="policykg-query-pool")
            self._loop_thread.start()
        asyncio.run_coroutine_threadsafe(self._bind_here(), loop).result()
        return loop

    async def _bind_here(self) -> None:
        with self._lock:
            self._bind(asyncio.get_running_loop())

    def _dispatch(self, call: Call) -> None:
        worker = self._free_worker()
        if worker is None:
            self._waiting.append(call)
        else:
            self._send_query(worker, call)

    def _free_worker(self) -> WorkerHandle | None:
        best = None
        for worker in self._workers.serving:
            if (
                worker.ready
                and not worker.overdue
                and len(worker.calls) < MOST_CALLS
                and (best is None or len(worker.calls) < len(best.calls))
            ):
                best = worker
        return best

    def _send_query(self, worker: WorkerHandle, call: Call) -> None:
        snapshot = self._snapshots.read()
        if snapshot is None:
            call.fail(StoreError("the store has no snapshot to query yet"))
            return
        call.snapshot = snapshot
        call.request = dataclasses.replace(call.request, snapshot=str(snapshot))
        pieces = split_request(pickle.dumps(call.request, protocol=pickle.HIGHEST_PROTOCOL))
        call.worker = worker
        call.sent = time.monotonic()
        worker.calls[call.number] = call
        for piece in pieces:
            worker.send(QUERY, call.number, piece)
        self._limiter.sent(call)

    def _received(self, worker: WorkerHandle, tag: int, number: int, payload: bytes) -> None:
        if tag == READY:
            self._workers.ready(worker)
            if worker is not self._workers.spare:
                self._serve_waiting()
            if self._snapshots.current is not None:
                worker.send(OPEN, 0, str(self._snapshots.current).encode("utf-8"))
            return
        call = worker.calls.get(number)
        if call is None:
            return
        if tag == DATA:
            if not call.abandoned:
                call.chunks.append(payload)
                call.wake()
            return
        try:
            if tag == END:
                if payload:
                    call.chunks.append(payload)
                call.finished = True
            elif tag == QUERY_ERROR:
                call.fail(QueryError(payload.decode("utf-8", errors="replace")))
            elif tag == STORE_ERROR:
                call.fail(StoreError(payload.decode("utf-8", errors="replace")))
            elif tag == STOPPED:
                call.fail(timeout_error(call.limits))
            call.wake()
        finally:
            self._finished(worker, call)

    def _finished(self, worker: WorkerHandle, call: Call) -> None:
        """A call left its worker: free its thread and its snapshot."""
        worker.calls.pop(call.number, None)
        call.worker = None
        if call.overdue:
            worker.overdue -= 1
        if call.timer is not None:
            call.timer.cancel()
        self._release_snapshot(call)
        self._serve_waiting()

    def _release_snapshot(self, call: Call) -> None:
        if call.snapshot is None:
            return
        unread = self._snapshots.done(call.snapshot)
        call.snapshot = None
        if unread and self._loop is not None:
            on_thread(self._loop, remove, unread)  # folders of files: not on the event loop

    def _serve_waiting(self) -> None:
        while self._waiting:
            worker = self._free_worker()
            if worker is None:
                return
            call = self._waiting.popleft()
            if not call.abandoned and call.error is None:
                self._send_query(worker, call)

    def _crashed(self, worker: WorkerHandle) -> None:
        """A worker's socket failed or closed: it died by itself (or cannot be reached, which is as bad)."""
        self._lost(worker, None, None)

    def _lost(
        self,
        worker: WorkerHandle,
        blamed: Call | None,
        error: PolicyKGError | None,
        long_running: tuple[float, PolicyKGError] | None = None,
    ) -> None:
        """Kill a worker (or take note that it died), put the spare in its place, re-run what it held.

        blamed (None: it died by itself) gets error; what becomes of the others is after_loss's to say.
        """
        if not self._workers.take_out(worker):
            return
        held, worker.calls = list(worker.calls.values()), {}
        fates = after_loss(held, blamed, error, long_running)
        for call in held:
            call.worker = None
            self._release_snapshot(call)
            if call not in fates:
                continue
            failure = fates[call]
            if failure is not None:
                call.fail(failure)
            else:
                call.reruns += 1
                call.chunks.clear()
                self._dispatch(call)
        self._workers.end(worker)
        self._serve_waiting()

    def _announce(self, folder: Path) -> None:
        """Ask every ready worker to open the new snapshot before queries need it (unless a newer one came)."""
        if folder != self._snapshots.current:
            return
        for worker in self._workers.all():
            if worker.ready:
                worker.send(OPEN, 0, str(folder).encode("utf-8"))

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
"""

import asyncio
import contextlib
import dataclasses
import itertools
import pickle
import threading
import time
from collections import deque
from collections.abc import AsyncGenerator, Callable, Coroutine
from concurrent.futures import Executor
from pathlib import Path
from typing import Any, TypeVar

from policykg.errors import PolicyKGError, QueryError, QueryMemoryExceeded, QueryTimeout, StoreError
from policykg.store.base import CHUNK_BYTES, Answer, Dataset, Limits, Sink, WorkerStatistics
from policykg.store.poolhandles import Call, WorkerHandle
from policykg.store.queryworker import (
    CANCEL,
    CREDIT,
    DATA,
    END,
    FRAME_BYTES,
    HEADER,
    MOST_CALLS,
    OPEN,
    PIECE,
    QUERY,
    QUERY_ERROR,
    READY,
    STOPPED,
    STORE_ERROR,
    Request,
    frame,
)
from policykg.store.snapshots import Snapshots, remove
from policykg.store.streaming import stream

GRACE = 0.25  # seconds a query told to stop may take before its worker is killed
_WATCH_SECONDS = 0.1  # how often busy workers are measured against the memory limit
_LONGEST_PAUSE = 10.0  # seconds between starts of workers that keep dying before they are ready
_LONG_RUNNING = 1.0  # seconds after which a query beside one past the memory limit is stopped with it
_MOST_RERUNS = 2  # a query whose worker died under it this often is not tried again (it may be the cause)
T = TypeVar("T")
_READS_AT_ONCE = 64  # frames read from one worker before other work on the event loop gets its turn


class _PoolAnswer(Answer):
    """An answer coming from a worker: the rest is read as the client takes it, with credit given back."""

    def __init__(self, pool: "QueryPool", call: Call, first: bytes, complete: bool) -> None:
        super().__init__(first, complete)
        self._pool = pool
        self._call = call

    async def rest(self) -> AsyncGenerator[bytes, None]:
        try:
            while (chunk := await self._pool._next(self._call)) is not None:
                yield chunk
        finally:
            self.close()

    def close(self) -> None:
        self._pool._abandon(self._call)


class QueryPool:
    """Worker processes answering queries over the newest snapshot of a store, size of them and a spare."""

    def __init__(self, snapshots: Path, size: int, memory_limit: int | None = None) -> None:
        self._snapshots = Snapshots(snapshots)
        self._size = size
        self._memory_limit = memory_limit
        # Which loop drives the workers (the snapshots keep their own lock); the rest belongs to that loop's thread.
        self._lock = threading.Lock()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._loop_thread: threading.Thread | None = None
        self._numbers = itertools.cycle(range(1, 2**32))  # a frame has 32 bits for the call's number
        self._waiting: deque[Call] = deque()
        self._buffer = bytearray(FRAME_BYTES)  # frames are read into it on the loop's thread: no 64 KiB per frame
        self._view = memoryview(self._buffer)
        self._watching = False
        self._closed = False
        self._started = 0
        self._starting = False  # a process is being started for the pool
        self._pause = 0.0  # before the next start, while workers die before they are ready
        self._workers = [self._start() for _ in range(size)]
        self._spare: WorkerHandle | None = self._start()

    # --- snapshots (called from the writer's thread)

    def publish(self, take_snapshot: Callable[[Path], None]) -> None:
        """Take a new snapshot with take_snapshot(folder) and send the following queries to it."""
        folder, unread = self._snapshots.take(take_snapshot)
        loop = self._loop
        remove(unread)
        if loop is not None and not loop.is_closed():
            loop.call_soon_threadsafe(self._announce, folder)

    # --- answering

    async def answer(
        self,
        sparql: str,
        *,
        format_name: str,
        base_iri: str | None,
        dataset: Dataset,
        union: bool,
        limits: Limits,
        executor: Executor | None,
    ) -> Answer:
        """Start a query and return its answer once the first chunk (or all of a small one) has come back."""
        loop = asyncio.get_running_loop()
        if self._loop is not loop:
            with self._lock:
                if self._loop is None or self._loop.is_closed():
                    self._bind(loop)
            if self._loop is not loop:  # another loop drives the workers: a thread goes through it
                return await stream(
                    executor,
                    lambda sink: self.query(
                        sparql,
                        sink=sink,
                        format_name=format_name,
                        base_iri=base_iri,
                        dataset=dataset,
                        union=union,
                        limits=limits,
                    ),
                    limits.timeout,
                )
        if self._closed:
            raise StoreError("the query workers have stopped")
        request = Request(
            sparql, format_name, base_iri, dataset.default_graphs, dataset.named_graphs, union, "", limits.deadline
        )
        call = Call(next(self._numbers), request, limits, loop)
        if limits.deadline is not None:
            call.timer = loop.call_at(_loop_time(loop, limits.deadline), self._expire, call)
        self._dispatch(call)
        try:
            first = await self._next(call)
        except BaseException:  # an error, or the caller was cancelled (its client went away)
            self._abandon(call)
            raise
        complete = call.finished and not call.chunks
        if complete:
            self._abandon(call)  # nothing more to come: only its bookkeeping is left
        return _PoolAnswer(self, call, first or b"", complete)

    def query(
        self,
        sparql: str,
        *,
        sink: Sink,
        format_name: str,
        base_iri: str | None,
        dataset: Dataset,
        union: bool,
        limits: Limits,
    ) -> None:
        """Answer a query for a caller outside the event loop, passing its bytes to sink."""
        loop = self._loop_for_threads()

        def on_loop(coroutine: Coroutine[Any, Any, T]) -> T:
            return asyncio.run_coroutine_threadsafe(coroutine, loop).result()

        answer = on_loop(
            self.answer(
                sparql,
                format_name=format_name,
                base_iri=base_iri,
                dataset=dataset,
                union=union,
                limits=limits,
                executor=None,
            )
        )
        rest = answer.rest()
        try:
            if answer.first:
                sink(answer.first)
            if answer.complete:
                return
            while True:
                try:
                    chunk = on_loop(rest.__anext__())
                except StopAsyncIteration:
                    return
                sink(chunk)
        finally:
            on_loop(_close(rest, answer))  # on the loop: the answer is the loop's to close

    def statistics(self) -> WorkerStatistics:
        """Processes started so far, workers serving, queries running and waiting."""
        return WorkerStatistics(
            self._started,
            len(self._workers),
            sum(len(w.calls) for w in self._workers),
            sum(1 for call in self._waiting if not call.abandoned),
        )

    def close(self) -> None:
        """Stop every worker and remove the snapshots (called once the event loop has stopped, or from a thread)."""
        self._closed = True
        loop = self._loop
        workers = [*self._workers, *([self._spare] if self._spare else [])]
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
            for worker in [*self._workers, *([self._spare] if self._spare else [])]:
                for call in worker.calls.values():
                    assert call.snapshot is not None  # set before a call goes to a worker
                    self._snapshots.done(call.snapshot)
                worker.calls, worker.overdue = {}, 0
                worker.outbox.clear()
            self._starting = False
        self._loop = loop
        for worker in [*self._workers, *([self._spare] if self._spare else [])]:
            loop.add_reader(worker.sock.fileno(), self._readable, worker)
        self._ensure_workers()

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
        for worker in self._workers:
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
        request = pickle.dumps(call.request, protocol=pickle.HIGHEST_PROTOCOL)
        count = max(1, -(-len(request) // CHUNK_BYTES))  # a long query text goes in numbered pieces
        pieces = [
            PIECE.pack(index, count) + request[index * CHUNK_BYTES : (index + 1) * CHUNK_BYTES]
            for index in range(count)
        ]
        call.worker = worker
        call.sent = time.monotonic()
        worker.calls[call.number] = call
        for piece in pieces:
            self._send(worker, QUERY, call.number, piece)
        if self._memory_limit is not None and not self._watching:
            self._watching = True
            call.loop.call_later(_WATCH_SECONDS, self._watch)

    def _send(self, worker: WorkerHandle, tag: int, number: int, payload: bytes = b"") -> None:
        if worker.dead:
            return
        message = frame(tag, number, payload)
        if not worker.outbox:
            try:
                worker.sock.send(message)
                return
            except BlockingIOError:
                assert self._loop is not None
                self._loop.add_writer(worker.sock.fileno(), self._writable, worker)
            except OSError:  # the worker is gone, or the frame cannot go: either way it is of no more use
                assert self._loop is not None
                self._loop.call_soon(self._lost, worker, None, None)
                return
        worker.outbox.append(message)

    def _writable(self, worker: WorkerHandle) -> None:
        try:
            while worker.outbox:
                worker.sock.send(worker.outbox[0])
                worker.outbox.popleft()
        except BlockingIOError:
            return
        except OSError:
            worker.outbox.clear()
            assert self._loop is not None
            self._loop.call_soon(self._lost, worker, None, None)
        if self._loop is not None and not worker.dead:
            self._loop.remove_writer(worker.sock.fileno())

    def _readable(self, worker: WorkerHandle) -> None:
        buffer, view = self._buffer, self._view
        for _ in range(_READS_AT_ONCE):
            try:
                received = worker.sock.recv_into(buffer)
            except BlockingIOError:
                return
            except OSError:
                received = 0
            if not received:
                self._lost(worker, None, None)
                return
            _size, number, tag = HEADER.unpack_from(buffer)
            self._received(worker, tag, number, bytes(view[HEADER.size : received]))
            if worker.dead:
                return

    def _received(self, worker: WorkerHandle, tag: int, number: int, payload: bytes) -> None:
        if tag == READY:
            worker.ready = True
            self._pause = 0.0
            if worker is not self._spare:
                self._serve_waiting()
            if self._snapshots.current is not None:
                self._send(worker, OPEN, 0, str(self._snapshots.current).encode("utf-8"))
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
                call.fail(_timeout(call.limits))
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
            self._loop.run_in_executor(None, remove, unread)  # folders of files: not on the event loop

    def _serve_waiting(self) -> None:
        while self._waiting:
            worker = self._free_worker()
            if worker is None:
                return
            call = self._waiting.popleft()
            if not call.abandoned and call.error is None:
                self._send_query(worker, call)

    async def _next(self, call: Call) -> bytes | None:
        """The next chunk of a call's answer (None at its end); credit for it goes back to the worker."""
        while True:
            if call.chunks:
                chunk = call.chunks.popleft()
                call.limits.check(len(chunk))
                call.taken = True
                if not call.finished and call.worker is not None:
                    self._send(call.worker, CREDIT, call.number)
                return chunk
            if call.error is not None:
                raise call.error
            if call.finished:
                return None
            call.waiter = call.loop.create_future()
            await call.waiter
            call.waiter = None

    def _abandon(self, call: Call) -> None:
        """The caller wants no more of this answer: tell its worker to stop, kill it if it has not at the deadline."""
        if call.abandoned:
            return
        call.abandoned = True
        call.chunks.clear()
        if call.worker is None:
            if call.timer is not None:
                call.timer.cancel()
            return
        self._send(call.worker, CANCEL, call.number)
        if call.timer is None:  # no deadline: give it the grace period alone
            call.timer = call.loop.call_later(GRACE, self._stop_worker_of, call)

    def _expire(self, call: Call) -> None:
        """A call's deadline: its caller gets a timeout; a worker still running it after GRACE is killed."""
        if call.worker is None:  # still waiting for a worker, or already done
            if not call.finished:
                call.abandoned = True
                call.fail(QueryTimeout("every query worker stayed busy until the time limit"))
            return
        call.fail(_timeout(call.limits))
        if not call.abandoned:
            call.abandoned = True
            self._send(call.worker, CANCEL, call.number)
        # No new query goes to a worker that may be killed in GRACE seconds, unless it stops this one first.
        call.overdue = True
        call.worker.overdue += 1
        call.timer = call.loop.call_later(GRACE, self._stop_worker_of, call)

    def _stop_worker_of(self, call: Call) -> None:
        worker = call.worker
        if worker is not None and call.number in worker.calls:
            self._lost(worker, call, _timeout(call.limits))

    def _watch(self) -> None:
        """Every _WATCH_SECONDS while queries run: kill a worker past the memory limit, blaming its oldest query."""
        try:
            for worker in [worker for worker in self._workers if worker.calls]:
                used = worker.resident_bytes()
                if used is not None and self._memory_limit is not None and used > self._memory_limit:
                    # The memory of one thread cannot be told from another's: the query that has run longest
                    # there is blamed, the others that have run long are stopped with it (a query needs time to
                    # fill that much), and the short ones are answered again elsewhere.
                    blamed = min(worker.calls.values(), key=lambda c: c.sent)
                    limit = self._memory_limit // 2**20
                    self._lost(
                        worker,
                        blamed,
                        QueryMemoryExceeded(
                            f"the query needed more than the limit of {limit} MiB of memory and was stopped"
                        ),
                        long_running=(
                            time.monotonic() - _LONG_RUNNING,
                            QueryMemoryExceeded(
                                f"the query was stopped with its worker, which passed the memory limit of {limit} MiB "
                                "while answering it and others"
                            ),
                        ),
                    )
        finally:
            if any(worker.calls for worker in self._workers) and self._loop is not None and not self._closed:
                self._loop.call_later(_WATCH_SECONDS, self._watch)
            else:
                self._watching = False

    def _lost(
        self,
        worker: WorkerHandle,
        blamed: Call | None,
        error: PolicyKGError | None,
        long_running: tuple[float, PolicyKGError] | None = None,
    ) -> None:
        """Kill a worker (or take note that it died), put the spare in its place, re-run what it held.

        A worker that died by itself while answering one query alone was most likely ended by that query: it
        gets an error rather than a second worker to end. Others are re-run once after such a death, twice
        after a kill at a limit; those sent before long_running's time get its error instead.
        """
        if worker.dead:
            return
        worker.dead = True
        if worker in self._workers:
            self._workers.remove(worker)
            if self._spare is not None:
                self._workers.append(self._spare)
                self._spare = None
        elif worker is self._spare:
            self._spare = None
        if not worker.ready:
            self._pause = min(max(2 * self._pause, 0.1), _LONGEST_PAUSE)
        held, worker.calls = list(worker.calls.values()), {}
        crashed = blamed is None
        for call in held:
            call.worker = None
            self._release_snapshot(call)
            if call is blamed and error is not None:
                call.fail(error)
            elif long_running is not None and call.sent < long_running[0]:
                call.fail(long_running[1])
            elif call.abandoned or call.error is not None or call.finished:
                pass
            elif crashed and len(held) == 1:
                call.fail(StoreError("the worker answering this query ended while it ran; it was not tried again"))
            elif call.taken or call.reruns >= (1 if crashed else _MOST_RERUNS):
                call.fail(StoreError("the worker answering this query was stopped while it sent the answer"))
            else:
                call.reruns += 1
                call.chunks.clear()
                self._dispatch(call)
        loop = self._loop
        assert loop is not None
        loop.remove_reader(worker.sock.fileno())
        if worker.outbox:
            loop.remove_writer(worker.sock.fileno())
        worker.sock.close()
        worker.process.kill()
        _on_thread(loop, worker.process.join, 5)  # reaped off the event loop
        self._ensure_workers()
        self._serve_waiting()

    def _ensure_workers(self) -> None:
        """Start what the pool lacks (a worker in a lost one's place, the spare): one start at a time, after the
        pause that grows while workers die before they are ready (a broken installation must not loop)."""
        if self._closed or self._starting or self._loop is None:
            return
        if len(self._workers) < self._size or self._spare is None:
            self._starting = True
            self._loop.call_later(self._pause, _on_thread, self._loop, self._start_on_thread)

    def _start_on_thread(self) -> None:
        """Start a process (on a thread: it takes a few milliseconds of the parent's time) and hand it to the loop."""
        try:
            worker: WorkerHandle | None = self._start()
        except (OSError, StoreError):  # no process could be started now (memory, process limit): try again later
            worker = None
        loop = self._loop
        if loop is None or loop.is_closed() or self._closed:
            if worker is not None:
                worker.end()
            return
        try:
            loop.call_soon_threadsafe(self._adopt, worker)
        except RuntimeError:  # the loop closed meanwhile
            if worker is not None:
                worker.end()

    def _adopt(self, worker: WorkerHandle | None) -> None:
        self._starting = False
        if worker is None:
            self._pause = min(max(2 * self._pause, 0.1), _LONGEST_PAUSE)
        elif self._closed:
            assert self._loop is not None  # a worker is adopted on the loop that started it
            _on_thread(self._loop, worker.end)
            return
        else:
            assert self._loop is not None
            self._loop.add_reader(worker.sock.fileno(), self._readable, worker)
            if len(self._workers) < self._size:  # a worker was lost while there was no spare
                self._workers.append(worker)
            else:
                self._spare = worker
        self._ensure_workers()

    def _start(self) -> WorkerHandle:
        worker = WorkerHandle()
        self._started += 1
        return worker

    def _announce(self, folder: Path) -> None:
        """Ask every ready worker to open the new snapshot before queries need it (unless a newer one came)."""
        if folder != self._snapshots.current:
            return
        for worker in [*self._workers, *([self._spare] if self._spare else [])]:
            if worker.ready:
                self._send(worker, OPEN, 0, str(folder).encode("utf-8"))


async def _close(rest: AsyncGenerator[bytes, None], answer: Answer) -> None:
    await rest.aclose()
    answer.close()  # also when the rest was never read


def _on_thread(loop: asyncio.AbstractEventLoop, work: Callable[..., object], *arguments: object) -> None:
    """Run blocking work on the loop's default threads (nothing, once they have shut down with the loop)."""
    with contextlib.suppress(RuntimeError):
        loop.run_in_executor(None, work, *arguments)


def _timeout(limits: Limits) -> QueryTimeout:
    if limits.timeout is None:
        return QueryTimeout("the query was stopped")
    return QueryTimeout(f"the query ran longer than the limit of {limits.timeout:g} s and was stopped")


def _loop_time(loop: asyncio.AbstractEventLoop, deadline: float) -> float:
    """A time.monotonic() deadline on the loop's clock (the same clock for asyncio's loops, uvloop's too)."""
    return loop.time() + (deadline - time.monotonic())

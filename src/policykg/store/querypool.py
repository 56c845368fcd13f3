"""Query worker processes over read-only snapshots of an on-disk store: real time limits, every core.

pyoxigraph cannot cancel a running query, and a store folder can be opened by one process only.
So the writer process keeps the store and, after each write, takes a RocksDB checkpoint (hard links,
cheap); worker processes open the newest checkpoint read-only and answer queries. A query past its
deadline is stopped by killing its worker, which is replaced at once: the work really stops, and the
other workers keep answering meanwhile. A reader sees a write as soon as the write call has returned.

Fairness: a worker answers one query at a time, so a few long queries could hold every worker while
short ones wait. The pool therefore keeps one spare worker started whenever all the others are busy, up
to a ceiling (twice the configured number, plus two), and lets the operating system share the cores
among the running queries; the extra workers stop again once two of them sit idle. Memory: a worker
whose resident memory grows past the limit is killed like one past its deadline.
"""

import multiprocessing
import os
import queue
import shutil
import threading
import time
from dataclasses import dataclass
from multiprocessing.connection import Connection
from pathlib import Path

import pyoxigraph as ox

from policykg.errors import QueryError, QueryMemoryExceeded, QueryTimeout, StoreError
from policykg.store.base import Dataset, Limits, Sink, limited_writer
from policykg.store.formats import GRAPH_FORMATS, RESULT_FORMATS, dataset_arguments

_DATA, _END, _QUERY_ERROR, _STORE_ERROR = b"D", b"Z", b"Q", b"S"
_CONTEXT = multiprocessing.get_context("spawn")
_WATCH_SECONDS = 0.1  # how often a running query's worker is checked against the memory limit
_PAGE_BYTES = os.sysconf("SC_PAGE_SIZE") if hasattr(os, "sysconf") else 4096


@dataclass(frozen=True)
class _Request:
    sparql: str
    format_name: str
    base_iri: str | None
    dataset: Dataset
    union: bool
    snapshot: str


class _PipeWriter:
    """A file-like object that sends what is written to the parent process, tagged as data."""

    def __init__(self, conn: Connection) -> None:
        self._conn = conn

    def write(self, data: bytes) -> int:
        self._conn.send_bytes(_DATA + bytes(data))
        return len(data)

    def flush(self) -> None:
        pass


def _serve(conn: Connection) -> None:
    """The worker's loop: open the snapshot a request names, answer it, send the bytes back."""
    opened: tuple[str, ox.Store] | None = None
    while True:
        try:
            request: _Request = conn.recv()
        except EOFError:
            return
        try:
            if opened is None or opened[0] != request.snapshot:
                opened = None
                opened = (request.snapshot, ox.Store.read_only(request.snapshot))
            result = opened[1].query(
                request.sparql,
                base_iri=request.base_iri,
                **dataset_arguments(request.dataset.default_graphs, request.dataset.named_graphs, request.union),
            )
            formats = GRAPH_FORMATS if isinstance(result, ox.QueryTriples) else RESULT_FORMATS
            writer = limited_writer(_PipeWriter(conn).write, Limits(None, None))
            result.serialize(writer, formats[request.format_name])
            writer.flush()
            conn.send_bytes(_END)
        except (SyntaxError, RuntimeError, KeyError) as error:
            conn.send_bytes(_QUERY_ERROR + str(error).encode("utf-8"))
        except Exception as error:  # reported to the parent, which answers 502; the worker carries on
            conn.send_bytes(_STORE_ERROR + f"{type(error).__name__}: {error}".encode("utf-8"))


def most_workers(size: int) -> int:
    """How many worker processes a pool of `size` may grow to while all are busy."""
    return 2 * size + 2


class _Worker:
    def __init__(self) -> None:
        self.next_watch = 0.0  # when its memory is next measured
        self.conn, child = _CONTEXT.Pipe()
        self.process = _CONTEXT.Process(target=_serve, args=(child,), daemon=True, name="policykg-query-worker")
        self.process.start()
        child.close()

    def kill(self) -> None:
        self.process.kill()
        self.process.join(timeout=5)
        self.conn.close()

    def resident_bytes(self) -> int | None:
        """The worker's resident memory, where the system tells it (Linux /proc)."""
        try:
            with open(f"/proc/{self.process.pid}/statm", "rb") as statm:
                return int(statm.read().split()[1]) * _PAGE_BYTES
        except (OSError, ValueError, IndexError):
            return None


class QueryPool:
    """Worker processes answering queries over the newest snapshot of a store: size of them, more while busy."""

    def __init__(self, snapshots: Path, size: int, memory_limit: int | None = None) -> None:
        self._snapshots = snapshots
        self._size = size
        self._ceiling = most_workers(size)
        self._memory_limit = memory_limit
        self._idle: queue.Queue[_Worker] = queue.Queue()
        self._lock = threading.Lock()
        self._workers = size  # started or starting, busy or idle
        self._generation = 0
        self._current: Path | None = None
        self._readers: dict[Path, int] = {}
        self._closed = False
        for _ in range(size):
            self._idle.put(_Worker())

    def publish(self, take_snapshot) -> None:  # type: ignore[no-untyped-def]
        """Take a new snapshot with take_snapshot(folder) and send the following queries to it."""
        with self._lock:
            self._generation += 1
            folder = self._snapshots / f"{self._generation:08d}"
            take_snapshot(folder)
            self._current = folder
            self._prune()

    def query(self, sparql: str, *, sink: Sink, format_name: str, base_iri: str | None, dataset: Dataset,
              union: bool, limits: Limits) -> None:
        """Answer a query in a worker, passing its bytes to sink; kill the worker at the deadline."""
        with self._lock:
            snapshot = self._current
            if snapshot is None:
                raise StoreError("the store has no snapshot to query yet")
            self._readers[snapshot] = self._readers.get(snapshot, 0) + 1
        keep = False
        worker: _Worker | None = None
        try:
            worker = self._acquire(limits)
            worker.conn.send(_Request(sparql, format_name, base_iri, dataset, union, str(snapshot)))
            while True:
                message = self._next_message(worker, limits)
                tag, data = message[:1], message[1:]
                if tag == _DATA:
                    limits.check(len(data))
                    sink(data)
                elif tag == _END:
                    keep = True
                    return
                elif tag == _QUERY_ERROR:
                    keep = True
                    raise QueryError(data.decode("utf-8"))
                else:
                    keep = True
                    raise StoreError(data.decode("utf-8"))
        except (EOFError, OSError) as error:
            raise StoreError(f"a query worker failed: {error}") from None
        finally:
            if worker is not None:
                if keep and not self._closed:
                    self._release(worker)
                else:
                    self._replace(worker)
            with self._lock:
                self._readers[snapshot] -= 1
                self._prune()

    def close(self) -> None:
        """Stop every worker and remove the snapshots (busy workers stop as their query ends)."""
        with self._lock:  # no worker starting meanwhile is put among the idle after they are emptied
            self._closed = True
        while True:
            try:
                self._idle.get_nowait().kill()
            except queue.Empty:
                break
        shutil.rmtree(self._snapshots, ignore_errors=True)

    def _next_message(self, worker: _Worker, limits: Limits) -> bytes:
        """Wait for the worker's next message, stopping it at the deadline or past the memory limit."""
        while True:
            remaining = limits.remaining()
            if remaining is not None and remaining <= 0:
                raise QueryTimeout(f"the query ran longer than the limit of {limits.timeout:g} s and was stopped")
            # Measured every _WATCH_SECONDS, whether the worker is quiet or sends a stream of answers.
            if self._memory_limit is not None and time.monotonic() >= worker.next_watch:
                worker.next_watch = time.monotonic() + _WATCH_SECONDS
                used = worker.resident_bytes()
                if used is not None and used > self._memory_limit:
                    raise QueryMemoryExceeded(f"the query needed more than the limit of {self._memory_limit // 2**20} "
                                              "MiB of memory and was stopped")
            wait = _WATCH_SECONDS if remaining is None else min(remaining, _WATCH_SECONDS)
            if worker.conn.poll(wait if self._memory_limit is not None else remaining):
                return worker.conn.recv_bytes()

    def _acquire(self, limits: Limits) -> _Worker:
        """An idle worker; when that leaves none idle, a spare is started for the next query."""
        try:
            worker = self._idle.get_nowait()
        except queue.Empty:
            self._grow()
            remaining = limits.remaining()
            try:
                worker = self._idle.get(timeout=None if remaining is None else max(remaining, 0.001))
            except queue.Empty:
                raise QueryTimeout("every query worker stayed busy until the time limit") from None
        if self._idle.empty():
            self._grow()
        return worker

    def _grow(self) -> None:
        """Start one more worker in the background, unless the pool is at its ceiling."""
        with self._lock:
            if self._closed or self._workers >= self._ceiling:
                return
            self._workers += 1
        threading.Thread(target=self._start_worker, daemon=True).start()

    def _release(self, worker: _Worker) -> None:
        """Take a worker back after a query; stop it instead if the pool has grown and others sit idle."""
        with self._lock:
            surplus = self._workers > self._size and self._idle.qsize() >= 2
            if surplus:
                self._workers -= 1
        if surplus:
            worker.kill()
        else:
            self._idle.put(worker)

    def _replace(self, worker: _Worker) -> None:
        """Kill a worker that is mid-query (timed out, client gone, failed) and start a fresh one."""
        worker.kill()
        if not self._closed:
            threading.Thread(target=self._start_worker, daemon=True).start()

    def _start_worker(self) -> None:
        try:
            worker = _Worker()
        except OSError:  # no process could be started (out of memory, process limit): one worker fewer
            with self._lock:
                self._workers -= 1
            return
        with self._lock:
            closed = self._closed
            if not closed:
                self._idle.put(worker)
        if closed:
            worker.kill()

    def _prune(self) -> None:
        """Remove the snapshots no query reads any more, all but the current one (under the lock)."""
        for folder, readers in list(self._readers.items()):
            if readers == 0 and folder != self._current:
                shutil.rmtree(folder, ignore_errors=True)
                del self._readers[folder]
        self._readers.setdefault(self._current, 0)  # type: ignore[arg-type]

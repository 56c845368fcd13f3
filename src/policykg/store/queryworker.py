"""A query worker process: several queries at once, each on a thread of its own, over one socket to the parent.

Spawned by the query pool (`querypool.py`), so this module imports as little as it can: a worker is ready
as soon as Python, pyoxigraph and these few lines are loaded. The socket is a SOCK_SEQPACKET pair: each
message is one frame (a header with the call number and a tag, then a payload), read whole by whichever
thread asks. So every thread waits on the socket itself and runs the query it receives: no hand-off
between a reading thread and a querying one (measured: 50-90 µs of a 130 µs point lookup). The parent
keeps at most MOST_CALLS queries in a worker, so that one thread is always free to read control frames.

A query's answer goes back in chunks; a call may have at most WINDOW chunks in flight, each further one
waits for the parent's credit, so a slow client holds back its own query and no other. A query whose
deadline passes, or that the parent cancels, stops at its next write; one that writes nothing until it is
done (a COUNT, an ORDER BY) is stopped by the parent, which kills the whole process.
"""

import os
import pickle
import socket
import struct
import threading
import time
from contextlib import suppress
from dataclasses import dataclass
from typing import IO, cast

import pyoxigraph as ox

from policykg.store.base import CHUNK_BYTES
from policykg.store.formats import GRAPH_FORMATS, RESULT_FORMATS, dataset_arguments

HEADER = struct.Struct("!IIB")  # payload length, call number, tag
# From the parent (a request longer than a frame comes in pieces, each numbered: PIECE)
QUERY, CREDIT, CANCEL, OPEN = b"qcxo"
PIECE = struct.Struct("!II")  # which piece of a request, of how many
# From the worker
READY, DATA, END, QUERY_ERROR, STORE_ERROR, STOPPED = b"rdeESs"

FRAME_BYTES = HEADER.size + PIECE.size + CHUNK_BYTES  # a datagram of the socket pair at the most
WINDOW = 8  # chunks a query may send ahead of what its client has read
THREADS = 16  # threads of a worker, each waiting for a frame
MOST_CALLS = THREADS - 1  # queries a worker answers at once: one thread is left to read credits and cancellations
_CREDIT_WAIT = 0.1  # how often a query waiting for credit looks whether it was cancelled
_KEPT_CANCELLATIONS = 1024


@dataclass(frozen=True)
class Request:
    """One query as the parent sends it: the text, the answer's syntax, the dataset and when it must stop."""

    sparql: str
    format_name: str
    base_iri: str | None
    default_graphs: tuple[str, ...]
    named_graphs: tuple[str, ...]
    union: bool
    snapshot: str
    deadline: float | None  # time.monotonic() of the whole machine, as the parent reads it


def frame(tag: int, call: int, payload: bytes = b"") -> bytes:
    """The bytes of one frame (its payload at most CHUNK_BYTES)."""
    return HEADER.pack(len(payload), call, tag) + payload


def split_request(request: bytes) -> list[bytes]:
    """A request's bytes as the payloads of its QUERY frames: numbered pieces of at most CHUNK_BYTES each."""
    count = max(1, -(-len(request) // CHUNK_BYTES))  # a long query text goes in several
    return [
        PIECE.pack(index, count) + request[index * CHUNK_BYTES : (index + 1) * CHUNK_BYTES] for index in range(count)
    ]


def read_piece(payload: bytes) -> tuple[int, int, bytes]:
    """Which piece of its request a QUERY frame's payload is, of how many, and the piece's bytes."""
    index, count = PIECE.unpack_from(payload)
    return index, count, payload[PIECE.size :]


class _Stopped(Exception):
    """The query was cancelled or ran past its deadline."""


class _Call:
    def __init__(self, deadline: float | None) -> None:
        self.deadline = deadline
        self.credits = threading.Semaphore(WINDOW)
        self.cancelled = False
        self.stopped = False  # a _Stopped was raised: whatever pyoxigraph makes of it, the query stopped

    def check(self) -> None:
        if self.cancelled or (self.deadline is not None and time.monotonic() > self.deadline):
            self.stopped = True
            raise _Stopped


class _Channel:
    """The socket to the parent: a datagram per frame, sent whole whichever thread sends it."""

    def __init__(self, sock: socket.socket) -> None:
        self._sock = sock

    def send(self, tag: int, call: int, payload: bytes = b"") -> None:
        self._sock.send(frame(tag, call, payload[:CHUNK_BYTES]))


class _Snapshots:
    """The newest snapshot opened read-only, shared by every thread; an older one is opened for its query alone."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._newest: tuple[str, ox.Store] | None = None

    def get(self, path: str) -> ox.Store:
        with self._lock:
            newest = self._newest
            if newest is not None and newest[0] == path:
                return newest[1]
            store = ox.Store.read_only(path)
            if newest is None or path > newest[0]:  # folders are numbered in the order they were taken
                self._newest = (path, store)
            return store

    def open_newer(self, path: str) -> None:
        """Open a snapshot ahead of the queries that will read it, unless a newer one is open (or it is gone)."""
        newest = self._newest
        if newest is None or path > newest[0]:
            with suppress(OSError):  # already replaced and removed: the next query names the newer one
                self.get(path)


class _Output:
    """A file-like object for pyoxigraph's serialize: bytes gathered into chunks, each sent when it is full."""

    def __init__(self, number: int, call: _Call, channel: _Channel) -> None:
        self._number = number
        self._call = call
        self._channel = channel
        self._buffer = bytearray()

    def write(self, data: bytes) -> int:
        self._call.check()
        self._buffer += data
        while len(self._buffer) >= CHUNK_BYTES:
            while not self._call.credits.acquire(timeout=_CREDIT_WAIT):
                self._call.check()
            self._channel.send(DATA, self._number, bytes(self._buffer[:CHUNK_BYTES]))
            del self._buffer[:CHUNK_BYTES]
        return len(data)

    def flush(self) -> None:
        pass

    def finish(self) -> None:
        self._channel.send(END, self._number, bytes(self._buffer))


def _answer(number: int, request: Request, call: _Call, snapshots: _Snapshots, channel: _Channel) -> None:
    """Evaluate one query and send its answer; the result never leaves this thread (pyoxigraph requires it)."""
    try:
        store = snapshots.get(request.snapshot)
        result = store.query(
            request.sparql,
            base_iri=request.base_iri,
            **dataset_arguments(request.default_graphs, request.named_graphs, request.union),
        )
        output = _Output(number, call, channel)
        # pyoxigraph writes to any object with write(); its stubs ask for IO[bytes]
        target = cast(IO[bytes], output)
        if isinstance(result, ox.QueryTriples):
            result.serialize(target, GRAPH_FORMATS[request.format_name])
        else:
            result.serialize(target, RESULT_FORMATS[request.format_name])
        output.finish()
    except Exception as error:
        if call.stopped:  # raised in a write, and passed back through serialize as it was or wrapped
            channel.send(STOPPED, number)
        elif isinstance(error, (SyntaxError, RuntimeError, KeyError)):
            channel.send(QUERY_ERROR, number, str(error).encode("utf-8"))
        else:  # reported to the parent, which answers 502; the worker carries on
            channel.send(STORE_ERROR, number, f"{type(error).__name__}: {error}".encode())


class _Worker:
    """What the threads of a worker share: the socket, the snapshot, the calls running and query texts in pieces."""

    def __init__(self, sock: socket.socket) -> None:
        self.sock = sock
        self.channel = _Channel(sock)
        self.snapshots = _Snapshots()
        self.lock = threading.Lock()
        self.calls: dict[int, _Call] = {}
        # Cancellations read before their query (by another thread), the most recent only: one that crossed
        # its query's end on the way is never claimed.
        self.cancelled: dict[int, None] = {}
        self.pieces: dict[int, dict[int, bytes]] = {}

    def run(self) -> None:
        """A thread's loop: take the next frame, run it if it is a query; end the process when the parent is gone."""
        buffer = bytearray(FRAME_BYTES)  # one per thread, reused: no 64 KiB allocated for each frame
        view = memoryview(buffer)
        while True:
            received = self.sock.recv_into(buffer)
            if not received:
                os._exit(0)  # the parent is gone: nothing left to answer for
            _size, number, tag = HEADER.unpack_from(buffer)
            try:
                self._take(number, tag, bytes(view[HEADER.size : received]))
            except Exception as error:  # a thread never dies: the parent counts on each one to read frames
                if tag == QUERY:
                    self.channel.send(STORE_ERROR, number, f"{type(error).__name__}: {error}".encode())

    def _take(self, number: int, tag: int, payload: bytes) -> None:
        if tag == QUERY:
            whole = self._whole(number, payload)
            if whole is not None:
                self._query(number, pickle.loads(whole))
        elif tag == CREDIT:
            if (call := self.calls.get(number)) is not None:
                call.credits.release()
        elif tag == CANCEL:
            with self.lock:
                if (call := self.calls.get(number)) is not None:
                    call.cancelled = True
                else:
                    self.cancelled[number] = None
                    if len(self.cancelled) > _KEPT_CANCELLATIONS:
                        del self.cancelled[next(iter(self.cancelled))]
        elif tag == OPEN:
            self.snapshots.open_newer(payload.decode("utf-8"))

    def _whole(self, number: int, payload: bytes) -> bytes | None:
        """The request once every piece of it has come (pieces may be read by several threads, in any order)."""
        index, count, piece = read_piece(payload)
        if count == 1:
            return piece
        with self.lock:
            pieces = self.pieces.setdefault(number, {})
            pieces[index] = piece
            if len(pieces) < count:
                return None
            del self.pieces[number]
        return b"".join(pieces[i] for i in range(count))

    def _query(self, number: int, request: Request) -> None:
        call = _Call(request.deadline)
        with self.lock:
            self.calls[number] = call
            call.cancelled = number in self.cancelled
            self.cancelled.pop(number, None)
        try:
            _answer(number, request, call, self.snapshots, self.channel)
        finally:
            with self.lock:
                self.calls.pop(number, None)


def serve(sock: socket.socket) -> None:
    """The worker: THREADS threads waiting for frames; it ends when the parent does."""
    worker = _Worker(sock)
    for index in range(THREADS - 1):
        threading.Thread(target=worker.run, daemon=True, name=f"policykg-query-{index}").start()
    worker.channel.send(READY, 0)
    worker.run()

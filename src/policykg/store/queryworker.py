"""A query worker process: several queries at once, each on a thread of its own, over one socket to the parent.

Spawned by the query pool (`querypool.py`), so this module imports as little as it can: a worker is ready
as soon as Python, pyoxigraph and these few lines are loaded. Messages in both directions are frames: a
header (payload length, call number, tag) and a payload. A query's answer goes back in chunks; a call may
have at most WINDOW chunks in flight, each further one waits for the parent's credit, so a slow client holds
back its own query and no other. A query whose deadline passes, or that the parent cancels, stops at its
next write; one that writes nothing until it is done (a COUNT, an ORDER BY) is stopped by the parent, which
kills the whole process.
"""

import os
import pickle
import socket
import struct
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import pyoxigraph as ox

from policykg.store.formats import GRAPH_FORMATS, RESULT_FORMATS, dataset_arguments

HEADER = struct.Struct("!IIB")  # payload length, call number, tag
# From the parent
QUERY, CREDIT, CANCEL, OPEN = b"qcxo"
# From the worker
READY, DATA, END, QUERY_ERROR, STORE_ERROR, STOPPED = b"rdeESs"

CHUNK_BYTES = 64 * 1024  # an answer up to this size goes back in one frame, with its end
WINDOW = 8  # chunks a query may send ahead of what its client has read
THREADS = 16  # queries one worker answers at once
_CREDIT_WAIT = 0.1  # how often a query waiting for credit looks whether it was cancelled


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
    """The bytes of one frame."""
    return HEADER.pack(len(payload), call, tag) + payload


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
    """The socket to the parent; frames from several threads are written whole, one after the other."""

    def __init__(self, sock: socket.socket) -> None:
        self._sock = sock
        self._lock = threading.Lock()

    def send(self, tag: int, call: int, payload: bytes = b"") -> None:
        with self._lock:
            self._sock.sendall(frame(tag, call, payload))


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
        if len(self._buffer) >= CHUNK_BYTES:
            while not self._call.credits.acquire(timeout=_CREDIT_WAIT):
                self._call.check()
            self._channel.send(DATA, self._number, bytes(self._buffer))
            self._buffer.clear()
        return len(data)

    def flush(self) -> None:
        pass

    def finish(self) -> None:
        self._channel.send(END, self._number, bytes(self._buffer))


def _answer(number: int, request: Request, call: _Call, snapshots: _Snapshots, channel: _Channel,
            calls: dict[int, _Call]) -> None:
    """Evaluate one query and send its answer; the result never leaves this thread (pyoxigraph requires it)."""
    try:
        store = snapshots.get(request.snapshot)
        result = store.query(request.sparql, base_iri=request.base_iri,
                             **dataset_arguments(request.default_graphs, request.named_graphs, request.union))
        formats = GRAPH_FORMATS if isinstance(result, ox.QueryTriples) else RESULT_FORMATS
        output = _Output(number, call, channel)
        result.serialize(output, formats[request.format_name])
        output.finish()
    except Exception as error:
        if call.stopped:  # raised in a write, and passed back through serialize as it was or wrapped
            channel.send(STOPPED, number)
        elif isinstance(error, (SyntaxError, RuntimeError, KeyError)):
            channel.send(QUERY_ERROR, number, str(error).encode("utf-8"))
        else:  # reported to the parent, which answers 502; the worker carries on
            channel.send(STORE_ERROR, number, f"{type(error).__name__}: {error}".encode("utf-8"))
    finally:
        calls.pop(number, None)


def serve(sock: socket.socket) -> None:
    """The worker's loop: read frames from the parent, answer each query on a thread; end when the parent does."""
    channel = _Channel(sock)
    snapshots = _Snapshots()
    calls: dict[int, _Call] = {}
    threads = ThreadPoolExecutor(max_workers=THREADS, thread_name_prefix="policykg-query")
    incoming = sock.makefile("rb")
    channel.send(READY, 0)
    while True:
        header = incoming.read(HEADER.size)
        if len(header) < HEADER.size:
            os._exit(0)  # the parent is gone: nothing left to answer for
        size, number, tag = HEADER.unpack(header)
        payload = incoming.read(size) if size else b""
        if tag == QUERY:
            request: Request = pickle.loads(payload)
            call = calls[number] = _Call(request.deadline)
            threads.submit(_answer, number, request, call, snapshots, channel, calls)
        elif tag == CREDIT:
            if (call := calls.get(number)) is not None:
                call.credits.release()
        elif tag == CANCEL:
            if (call := calls.get(number)) is not None:
                call.cancelled = True
        elif tag == OPEN:
            threads.submit(snapshots.get, payload.decode("utf-8"))

"""The pool's handles on its workers: one per worker process (its socket, its calls) and one per query it follows.

Both belong to the event loop that drives the pool (querypool.py). A `WorkerHandle` frames its socket onto
that loop: it writes frames (keeping those the socket cannot take yet until it can) and reads them as they
come, handing each to the pool. Only `WorkerHandle.end` blocks, and is called off that loop. A `Call` is
read by its caller through a `CallAnswer`. `after_loss` decides what becomes of the queries a worker held
when it is lost.
"""

import asyncio
import os
import socket
from collections import deque
from collections.abc import AsyncGenerator, Callable
from pathlib import Path

from policykg.errors import PolicyKGError, StoreError
from policykg.store.base import Answer, Limits
from policykg.store.queryworker import CREDIT, FRAME_BYTES, HEADER, Request, frame, serve

_PAGE_BYTES = os.sysconf("SC_PAGE_SIZE") if hasattr(os, "sysconf") else 4096
_READS_AT_ONCE = 64  # frames read from one worker before other work on the event loop gets its turn
_MOST_RERUNS = 2  # a query whose worker died under it this often is not tried again (it may be the cause)


class WorkerHandle:
    """One worker process, its socket, and the calls it is answering."""

    # Set by attach(), before the loop reads or writes the socket:
    _buffer: bytearray
    _view: memoryview
    _on_frame: "Callable[[WorkerHandle, int, int, bytes], None]"
    _on_lost: "Callable[[WorkerHandle], None]"

    def __init__(self) -> None:
        import multiprocessing  # here: the parent needs it, a worker importing this module does not

        self.sock, child = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        for end in (self.sock, child):  # a datagram must fit the sender's buffer whole
            end.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 4 * FRAME_BYTES)
            if end.getsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF) < 2 * FRAME_BYTES:
                raise StoreError(
                    f"the system allows socket buffers below {2 * FRAME_BYTES} bytes "
                    "(net.core.wmem_max): query workers cannot run"
                )
        self.process = multiprocessing.get_context("spawn").Process(
            target=serve, args=(child,), daemon=True, name="policykg-query-worker"
        )
        self.process.start()
        child.close()
        self.sock.setblocking(False)
        self.ready = False
        self.dead = False
        self.overdue = 0  # its calls past their deadline and still running: it may be killed any moment
        self.calls: dict[int, Call] = {}
        self.outbox: deque[bytes] = deque()  # frames the socket could not take yet
        self._loop: asyncio.AbstractEventLoop | None = None  # the loop that drives the socket, once attached

    def attach(
        self,
        loop: asyncio.AbstractEventLoop,
        buffer: bytearray,
        on_frame: "Callable[[WorkerHandle, int, int, bytes], None]",
        on_lost: "Callable[[WorkerHandle], None]",
    ) -> None:
        """Let loop drive the socket: read its frames, write those the socket could not take at once.

        Frames are read into buffer (FRAME_BYTES, shared by the loop's workers) and handed to
        on_frame(worker, tag, number, payload); on_lost(worker) is told when the socket fails or closes.
        """
        self._loop = loop
        self._buffer, self._view = buffer, memoryview(buffer)
        self._on_frame, self._on_lost = on_frame, on_lost
        loop.add_reader(self.sock.fileno(), self._readable)

    def detach(self) -> None:
        """Stop reading and writing the socket on the loop, and close it."""
        assert self._loop is not None  # only an attached worker can be lost
        self._loop.remove_reader(self.sock.fileno())
        if self.outbox:
            self._loop.remove_writer(self.sock.fileno())
        self.sock.close()

    def send(self, tag: int, number: int, payload: bytes = b"") -> None:
        """Send a frame now, or once the socket can take it (nothing once the worker is dead)."""
        if self.dead:
            return
        message = frame(tag, number, payload)
        if not self.outbox:
            try:
                self.sock.send(message)
                return
            except BlockingIOError:
                assert self._loop is not None
                self._loop.add_writer(self.sock.fileno(), self._writable)
            except OSError:  # the worker is gone, or the frame cannot go: either way it is of no more use
                assert self._loop is not None
                self._loop.call_soon(self._on_lost, self)
                return
        self.outbox.append(message)

    def end(self) -> None:
        """Kill the process, wait for it, close the socket (blocking: not on the event loop)."""
        self.process.kill()
        self.process.join(timeout=5)
        self.sock.close()

    def resident_bytes(self) -> int | None:
        """The process's resident memory, where the system tells it (Linux /proc)."""
        try:
            with open(f"/proc/{self.process.pid}/statm", "rb") as statm:
                return int(statm.read().split()[1]) * _PAGE_BYTES
        except (OSError, ValueError, IndexError):
            return None

    def _writable(self) -> None:
        try:
            while self.outbox:
                self.sock.send(self.outbox[0])
                self.outbox.popleft()
        except BlockingIOError:
            return
        except OSError:
            self.outbox.clear()
            assert self._loop is not None
            self._loop.call_soon(self._on_lost, self)
        if self._loop is not None and not self.dead:
            self._loop.remove_writer(self.sock.fileno())

    def _readable(self) -> None:
        buffer, view = self._buffer, self._view
        for _ in range(_READS_AT_ONCE):
            try:
                received = self.sock.recv_into(buffer)
            except BlockingIOError:
                return
            except OSError:
                received = 0
            if not received:
                self._on_lost(self)
                return
            _size, number, tag = HEADER.unpack_from(buffer)
            self._on_frame(self, tag, number, bytes(view[HEADER.size : received]))
            if self.dead:
                return


class Call:
    """One query as the parent follows it: its request, where it runs, what has come back."""

    def __init__(self, number: int, request: Request, limits: Limits, loop: asyncio.AbstractEventLoop) -> None:
        self.number = number
        self.request = request
        self.limits = limits
        self.loop = loop
        self.worker: WorkerHandle | None = None
        self.snapshot: Path | None = None
        self.sent = 0.0  # when it was last sent to a worker
        self.chunks: deque[bytes] = deque()
        self.finished = False  # its end has come back
        self.error: PolicyKGError | None = None
        self.taken = False  # the client has had part of the answer: it can no longer be re-run unseen
        self.abandoned = False
        self.overdue = False
        self.reruns = 0
        self.waiter: asyncio.Future[None] | None = None
        self.timer: asyncio.TimerHandle | None = None

    def wake(self) -> None:
        """Let the reader of the answer look again."""
        if self.waiter is not None and not self.waiter.done():
            self.waiter.set_result(None)

    def fail(self, error: PolicyKGError) -> None:
        """End the answer with an error, unless it has ended already."""
        if self.error is None and not self.finished:
            self.error = error
        self.wake()

    async def next_chunk(self) -> bytes | None:
        """The next chunk of the answer (None at its end); credit for it goes back to the worker."""
        while True:
            if self.chunks:
                chunk = self.chunks.popleft()
                self.limits.check(len(chunk))
                self.taken = True
                if not self.finished and self.worker is not None:
                    self.worker.send(CREDIT, self.number)
                return chunk
            if self.error is not None:
                raise self.error
            if self.finished:
                return None
            self.waiter = self.loop.create_future()
            await self.waiter
            self.waiter = None


class CallAnswer(Answer):
    """An answer coming from a worker: the rest is read as the client takes it, with credit given back."""

    def __init__(self, call: Call, first: bytes, complete: bool, abandon: Callable[[Call], None]) -> None:
        super().__init__(first, complete)
        self._call = call
        self._abandon = abandon

    async def rest(self) -> AsyncGenerator[bytes, None]:
        """The chunks after the first, as the worker sends them; the query stops when this is closed early."""
        try:
            while (chunk := await self._call.next_chunk()) is not None:
                yield chunk
        finally:
            self.close()

    def close(self) -> None:
        """Stop the query (abandon(call)): the rest is not wanted."""
        self._abandon(self._call)


def after_loss(
    held: list[Call],
    blamed: Call | None,
    error: PolicyKGError | None,
    long_running: tuple[float, PolicyKGError] | None = None,
) -> dict[Call, PolicyKGError | None]:
    """What becomes of the calls a lost worker held: the error each fails with, or None for one to re-run.

    A call left out is over already (abandoned, failed or finished) and needs nothing. blamed (None: the
    worker died by itself) gets error. Those sent before long_running's time get its error. A worker that
    died by itself while answering one live call alone (the others over) was most likely ended by that
    call: it gets an error rather than a second worker to end. A call whose client has had part of its
    answer cannot be re-run unseen: it gets an error. Others are re-run once after a death, _MOST_RERUNS
    times after a kill at a limit.
    """
    crashed = blamed is None
    live = [call for call in held if not (call.abandoned or call.error is not None or call.finished)]
    fates: dict[Call, PolicyKGError | None] = {}
    for call in held:
        if call is blamed and error is not None:
            fates[call] = error
        elif long_running is not None and call.sent < long_running[0]:
            fates[call] = long_running[1]
        elif call.abandoned or call.error is not None or call.finished:
            pass
        elif crashed and len(live) == 1:
            fates[call] = StoreError("the worker answering this query ended while it ran; it was not tried again")
        elif call.taken:
            fates[call] = StoreError("the worker answering this query was stopped while it sent the answer")
        elif call.reruns >= (1 if crashed else _MOST_RERUNS):
            fates[call] = StoreError(
                "the workers answering this query were stopped each time it ran; it was not tried again"
            )
        else:
            fates[call] = None
    return fates

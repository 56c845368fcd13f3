"""The pool's handles on its workers: one per worker process (its socket, its calls) and one per query it follows.

Both belong to the event loop that drives the pool (querypool.py); only `WorkerHandle.end` blocks, and is
called off that loop.
"""

import asyncio
import os
import socket
from collections import deque
from pathlib import Path

from policykg.errors import PolicyKGError, StoreError
from policykg.store.base import Limits
from policykg.store.queryworker import FRAME_BYTES, Request, serve

_PAGE_BYTES = os.sysconf("SC_PAGE_SIZE") if hasattr(os, "sysconf") else 4096


class WorkerHandle:
    """One worker process, its socket, and the calls it is answering."""

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

"""The query pool's worker processes: size of them serving and a warm spare, each lost one replaced.

A process takes a few milliseconds of the parent's time to start, so a new one starts on a thread, one at
a time, and is handed to the event loop once started; the spare then takes a lost worker's place at once,
and the next spare starts off the request path. Workers that keep dying before they are ready (a broken
installation) are started after a pause that grows, so the pool never loops starting them.

The set belongs to the event loop that drives it (`bind`), like the pool (querypool.py) that holds it.
"""

import asyncio
import contextlib
from collections.abc import Callable

from policykg.errors import StoreError
from policykg.store.poolhandles import WorkerHandle

_LONGEST_PAUSE = 10.0  # seconds between starts of workers that keep dying before they are ready


class WorkerSet:
    """size worker processes serving and a spare: started, handed to the loop, and replaced when lost."""

    def __init__(
        self, size: int, attach: Callable[[WorkerHandle], None], start: Callable[[], WorkerHandle] = WorkerHandle
    ) -> None:
        """Start the processes with start(); attach(worker) is called on the loop for each one it is to drive."""
        self._size = size
        self._attach = attach
        self._start_process = start
        self.loop: asyncio.AbstractEventLoop | None = None  # the loop that drives the workers (set by bind)
        self.closed = False
        self.started = 0  # processes started so far
        self._starting = False  # a process is being started for the pool
        self._pause = 0.0  # before the next start, while workers die before they are ready
        self.serving = [self._start() for _ in range(size)]
        self.spare: WorkerHandle | None = self._start()

    def all(self) -> list[WorkerHandle]:
        """Every worker: those serving, then the spare."""
        return [*self.serving, *([self.spare] if self.spare else [])]

    def bind(self, loop: asyncio.AbstractEventLoop) -> None:
        """Let loop drive the workers (a start under way for a closed one is forgotten); start what is lacking."""
        if self.loop is not None:
            self._starting = False
        self.loop = loop
        for worker in self.all():
            self._attach(worker)
        self.ensure()

    def ready(self, worker: WorkerHandle) -> None:
        """A worker said it is ready: it can take queries, and the next start need not wait."""
        worker.ready = True
        self._pause = 0.0

    def take_out(self, worker: WorkerHandle) -> bool:
        """Mark a worker dead and put the spare in its place; False if it was dead already."""
        if worker.dead:
            return False
        worker.dead = True
        if worker in self.serving:
            self.serving.remove(worker)
            if self.spare is not None:
                self.serving.append(self.spare)
                self.spare = None
        elif worker is self.spare:
            self.spare = None
        if not worker.ready:
            self._pause = min(max(2 * self._pause, 0.1), _LONGEST_PAUSE)
        return True

    def end(self, worker: WorkerHandle) -> None:
        """Close a worker taken out, kill its process and reap it off the loop; start what the set now lacks."""
        assert self.loop is not None
        worker.detach()
        worker.process.kill()
        on_thread(self.loop, worker.process.join, 5)  # reaped off the event loop
        self.ensure()

    def close(self) -> list[WorkerHandle]:
        """Start no more processes; return every worker, for the caller to end."""
        self.closed = True
        return self.all()

    def ensure(self) -> None:
        """Start what the set lacks (a worker in a lost one's place, the spare), one start at a time.

        Each start waits for the pause that grows while workers die before they are ready (a broken
        installation must not loop).
        """
        if self.closed or self._starting or self.loop is None:
            return
        if len(self.serving) < self._size or self.spare is None:
            self._starting = True
            self.loop.call_later(self._pause, on_thread, self.loop, self._start_on_thread)

    def _start_on_thread(self) -> None:
        """Start a process (on a thread: it takes a few milliseconds of the parent's time) and hand it to the loop."""
        try:
            worker: WorkerHandle | None = self._start()
        except (OSError, StoreError):  # no process could be started now (memory, process limit): try again later
            worker = None
        loop = self.loop
        if loop is None or loop.is_closed() or self.closed:
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
        elif self.closed:
            assert self.loop is not None  # a worker is adopted on the loop that started it
            on_thread(self.loop, worker.end)
            return
        else:
            assert self.loop is not None
            self._attach(worker)
            if len(self.serving) < self._size:  # a worker was lost while there was no spare
                self.serving.append(worker)
            else:
                self.spare = worker
        self.ensure()

    def _start(self) -> WorkerHandle:
        worker = self._start_process()
        self.started += 1
        return worker


def on_thread(loop: asyncio.AbstractEventLoop, work: Callable[..., object], *arguments: object) -> None:
    """Run blocking work on the loop's default threads (nothing, once they have shut down with the loop)."""
    with contextlib.suppress(RuntimeError):
        loop.run_in_executor(None, work, *arguments)

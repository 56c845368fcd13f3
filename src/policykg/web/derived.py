"""What is made from the whole store (the statistics of VoID and DCAT, the dumps), remade in the background.

Counting or dumping a million triples takes seconds; made on the request path after every write, it made the
catalogue's readers wait 10 s under steady writes (benchmarks/RESULTS.md, the load mix). Here a reader gets at
once the newest one made, with the revision it was made from (its ETag and Last-Modified say which): it is
exactly that revision's, as it is made from the store frozen between two writes (Writer.frozen: a checkpoint
of an on-disk store). Only the first reader after a start waits. After a write the next one is made in the
background: one at a time, and no sooner after the last than that one took to make, so that under steady
writes at most about half of one core goes to remaking.
"""

import asyncio
import logging
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Generic, TypeVar

from policykg.store import Store
from policykg.web.context import run
from policykg.writing.writer import Revision, Writer

T = TypeVar("T")
_log = logging.getLogger("policykg.derived")


class Derived(Generic[T]):
    """One thing made from the store by make(store, revision), kept with its revision and remade after writes."""

    def __init__(self, make: Callable[[Store, Revision], T], writer: Writer, executor: ThreadPoolExecutor) -> None:
        self._make = make
        self._writer = writer
        self._executor = executor
        self._made: tuple[Revision, T] | None = None
        self._lock = asyncio.Lock()  # one making at a time
        self._task: asyncio.Task[None] | None = None
        self._took = 0.0  # how long the last making took
        self._ended = 0.0  # when it ended (monotonic)
        self.makings = 0  # how many times it was made

    async def get(self) -> tuple[Revision, T]:
        """The newest one made, with its revision; made now only when none is (then the caller waits)."""
        made = self._made
        if made is None:
            async with self._lock:
                if self._made is None:
                    await self._remake()
            made = self._made
            assert made is not None
        if made[0].tag != self._writer.revision.tag and (self._task is None or self._task.done()):
            self._task = asyncio.get_running_loop().create_task(self._catch_up())
        return made

    async def _catch_up(self) -> None:
        """Remake until what is made is the current revision's, spaced by the time a making takes."""
        while self._made is not None and self._made[0].tag != self._writer.revision.tag:
            await asyncio.sleep(max(0.0, self._ended + self._took - time.monotonic()))
            async with self._lock:
                try:
                    await self._remake()
                except Exception:  # kept as it was: the next reader tries again
                    _log.exception("remaking %s failed", self._make.__name__)
                    return

    async def _remake(self) -> None:
        def make() -> tuple[Revision, T]:
            with self._writer.frozen() as (revision, store):
                return revision, self._make(store, revision)

        started = time.monotonic()
        self._made = await run(self._executor, make)
        self._ended = time.monotonic()
        self._took = self._ended - started
        self.makings += 1

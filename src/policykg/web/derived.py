"""What is made from the whole store (the dumps, a remote store's figures) or from what is kept (VoID and DCAT
from the figures of publish/tally.py), remade in the background.

Counting or dumping a million triples takes seconds; made on the request path after every write, it made the
catalogue's readers wait 10 s under steady writes (benchmarks/RESULTS.md, the load mix). Here a reader gets at
once the newest one made, with the revision it was made from (its ETag and Last-Modified say which): it is
exactly that revision's, as it is made from the store frozen between two writes (Writer.frozen: a checkpoint
of an on-disk store), or from figures published with their revision. Only the first reader after a start
waits. After a write the next one is made in the background: one at a time, and no sooner after the last than
that one took to make, so that under steady writes at most about half of one core goes to remaking.
"""

import asyncio
import logging
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Generic, TypeVar

from starlette.requests import Request

from policykg.store import Store
from policykg.web.context import context, run
from policykg.writing.writer import Revision, Writer

T = TypeVar("T")
_log = logging.getLogger("policykg.derived")


class Derived(Generic[T]):
    """One thing made by make() with the revision it is of, kept, and made again when newest() names another.

    eager: made again after every write of writer (dumps: a harvester finds them ready); else when next asked
    for (nobody may ask).
    """

    def __init__(
        self,
        make: Callable[[], tuple[Revision, T]],
        newest: Callable[[], str | None],
        executor: ThreadPoolExecutor,
        eager: Writer | None = None,
    ) -> None:
        self._make = make
        self._newest = newest
        self._executor = executor
        self._made: tuple[Revision, T] | None = None
        self._lock = asyncio.Lock()  # one making at a time
        self._task: asyncio.Task[None] | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._took = 0.0  # how long the last making took
        self._ended = 0.0  # when it ended (monotonic)
        self.makings = 0  # how many times it was made
        if eager is not None:
            eager.on_written(self._written)

    @property
    def revision(self) -> str | None:
        """The tag of the revision the newest one made is of (None before the first)."""
        return None if self._made is None else self._made[0].tag

    async def get(self) -> tuple[Revision, T]:
        """The newest one made, with its revision; made now only when none is (then the caller waits)."""
        if self._made is None:
            async with self._lock:
                if self._made is None:
                    await self._remake()
        newest = self.peek()
        assert newest is not None
        return newest

    def peek(self) -> tuple[Revision, T] | None:
        """The newest one made, if any, without waiting; a making starts in the background when it is not current."""
        self._loop = asyncio.get_running_loop()
        self._catch_up_soon()
        return self._made

    def _written(self) -> None:
        """After a write (on the writer's thread): remake soon, once someone has asked (the loop is known)."""
        loop = self._loop
        if loop is not None and not loop.is_closed():
            loop.call_soon_threadsafe(self._catch_up_soon)

    def _catch_up_soon(self) -> None:
        if self.revision != self._newest() and (self._task is None or self._task.done()):
            self._task = asyncio.get_running_loop().create_task(self._catch_up())

    async def _catch_up(self) -> None:
        """Remake until what is made is the newest revision's, spaced by the time a making takes."""
        while self.revision != self._newest():
            await asyncio.sleep(max(0.0, self._ended + self._took - time.monotonic()))
            async with self._lock:
                try:
                    await self._remake()
                except Exception:  # kept as it was: the next reader or write tries again
                    _log.exception("remaking %s failed", self._make.__name__)
                    return

    async def _remake(self) -> None:
        started = time.monotonic()
        try:
            self._made = await run(self._executor, self._make)
            self.makings += 1
        finally:  # a making that failed is spaced like one that did not: the next waits as long as it took
            self._ended = time.monotonic()
            self._took = self._ended - started


def derived(request: Request, name: str, make: Callable[[Store, Revision], T], eager: bool = False) -> Derived[T]:
    """The app's Derived of that name, made from the store frozen between two writes (on first use: kept in the
    app's state, never in a module global)."""
    writer = context(request).writer

    def made() -> tuple[Revision, T]:
        with writer.frozen() as (revision, store):
            return revision, make(store, revision)

    made.__name__ = name
    return derived_from(request, name, made, lambda: writer.revision.tag, writer if eager else None)


def derived_from(
    request: Request,
    name: str,
    make: Callable[[], tuple[Revision, T]],
    newest: Callable[[], str | None],
    eager: Writer | None = None,
) -> Derived[T]:
    """The app's Derived of that name, made by make() (on first use: kept in the app's state)."""
    state = request.app.state
    if not hasattr(state, "derived"):
        state.derived = {}
    if name not in state.derived:
        state.derived[name] = Derived(make, newest, context(request).executor, eager)
    return state.derived[name]  # a name always holds the same kind


def made(request: Request) -> dict[str, dict[str, object]]:
    """What each Derived of the app has made: the revision of the newest, and how many times it was made."""
    return {
        name: {"revision": d.revision, "makings": d.makings}
        for name, d in getattr(request.app.state, "derived", {}).items()
    }

"""Group commit: writes that arrive together are run together and made visible once.

Alone, each entry pays for what follows its write: a new snapshot for the query workers (a checkpoint, and
each worker opening it), a commit of the search index, a new revision (every cache made anew). Under many
writers those costs queued: entries took 3.3 s (p50) under the load mix (benchmarks/RESULTS.md). Here the
first writer to find no group running takes every write waiting and runs them one after the other, each
its own transaction with its own verdict (one refused does not touch the others, nor they it), inside one
publication; the others wait until their write's group is done, and every call returns (or raises) only once
its group is visible. A group holds the writes that came while the one before ran: under light load, one.
"""

import threading
from collections.abc import Callable
from typing import Generic, TypeVar, cast

R = TypeVar("R")


class GroupCommit:
    """The writes waiting for the next group, and who runs groups: one thread at a time."""

    def __init__(self) -> None:
        self._queue = threading.Lock()  # held only to add to, or take, the waiting writes
        self._running = threading.Lock()  # held by the thread running a group
        self._waiting: list[_Ticket[object]] = []
        self.groups = 0  # how many groups ran
        self.writes = 0  # how many writes they held

    def run(self, write: Callable[[], R], as_one: Callable[[Callable[[], None]], None]) -> R:
        """Run write in the next group; as_one(run_all) runs a group's writes as one publication."""
        ticket = _Ticket(write)
        with self._queue:
            self._waiting.append(cast("_Ticket[object]", ticket))
        with self._running:
            if not ticket.done.is_set():
                with self._queue:
                    group, self._waiting = self._waiting, []
                self.groups, self.writes = self.groups + 1, self.writes + len(group)

                def run_all() -> None:
                    for waiting in group:
                        waiting.run()

                try:
                    as_one(run_all)
                except Exception as failure:  # the group could not be made visible: no write of it is acknowledged
                    for waiting in group:
                        waiting.error = waiting.error or failure
                finally:
                    for waiting in group:
                        waiting.done.set()
        return ticket.outcome()


class _Ticket(Generic[R]):
    """A write waiting for its group: what to run, then its result or its error, and when it is done."""

    def __init__(self, write: Callable[[], R]) -> None:
        self.write = write
        self.done = threading.Event()
        self.result: R | None = None
        self.error: BaseException | None = None

    def run(self) -> None:
        """Run the write, keeping its result or its error (the group goes on either way)."""
        try:
            self.result = self.write()
        except Exception as error:
            self.error = error

    def outcome(self) -> R:
        """The write's result, or its error raised again (in the caller's thread)."""
        if self.error is not None:
            raise self.error
        return cast(R, self.result)

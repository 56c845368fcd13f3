"""The store's table files merged once writes pause: a freshly compacted store answers 20-25 % faster.

Why, measured (1,000,000 generated triples, the heavy questions of benchmarks/sparql_throughput.py;
benchmarks/compaction.py, figures in benchmarks/RESULTS.md): every write ends with a checkpoint for the
query workers (store/snapshots.py), and a checkpoint writes what was written into small new table files
beside the large ones (store/tablefiles.py). From then on each step of a query looks into both: the heavy
questions took about a quarter longer after a single write of a few hundred triples, as long after five,
and were back to their first speed once the files were merged again (Oxigraph's optimize, a full
compaction: about 2 s per million quads on one core, the interpreter lock released). RocksDB merges small
files by itself only once several have gathered, and not back into one run.

So once the store has not been written to for `pause` seconds, a thread of its own merges the files
(writes may go on meanwhile: RocksDB compacts beside them), then, between two writes, gives the query
workers a snapshot of the merged files; queries already running finish on the snapshot they started on.
A compaction that took T seconds is followed by no other for SPACING × T seconds, so that it takes at
most a tenth of a core however the writes come. At a start, the files are merged after the first pause if
they are not as the last compaction left them (a load compacts them; the writes of a run do not).
"""

import logging
import threading
import time
from dataclasses import dataclass

from policykg.errors import StoreError
from policykg.store import Store
from policykg.writing.writer import Writer

SPACING = 10  # a compaction that took T seconds is followed by no other for SPACING × T seconds

_log = logging.getLogger(__name__)


@dataclass(frozen=True)
class CompactionState:
    """Whether the files wait to be merged, whether they are being merged, how often and how long it took."""

    due: bool
    running: bool
    runs: int
    last_seconds: float | None


class Compaction:
    """Merges an on-disk store's table files after each pause in the writes, on a thread of its own."""

    def __init__(self, store: Store, writer: Writer, pause: float) -> None:
        self._store = store
        self._writer = writer
        self._pause = pause
        self._changes = threading.Condition()
        self._thread: threading.Thread | None = None
        self._closed = False
        self._due = False
        self._running = False
        self._runs = 0
        self._last_seconds: float | None = None
        self._last_write = time.monotonic()
        self._not_before = 0.0

    def start(self) -> None:
        """Watch the writes and merge the files after each pause (nothing to do for a store without files)."""
        compacted = self._store.compacted()
        if compacted is None or self._pause <= 0:
            return
        self._due = not compacted
        self._writer.on_written(self._wrote)
        self._thread = threading.Thread(target=self._run, name="policykg-compact", daemon=True)
        self._thread.start()

    def close(self) -> None:
        """Start no more compactions; wait for one under way (it cannot be cut short)."""
        with self._changes:
            self._closed = True
            self._changes.notify_all()
        if self._thread is not None:
            self._thread.join()

    @property
    def state(self) -> CompactionState | None:
        """Where compaction stands (None: this store's files are not merged by the service)."""
        if self._thread is None:
            return None
        with self._changes:
            return CompactionState(self._due, self._running, self._runs, self._last_seconds)

    def _wrote(self) -> None:
        """A write made a new revision (on the writing thread): the files wait for the next pause."""
        with self._changes:
            self._due = True
            self._last_write = time.monotonic()
            self._changes.notify_all()

    def _wait(self) -> float | None:
        """Seconds until a compaction may start, under the lock (0: now; None: none is due)."""
        if not self._due:
            return None
        return max(0.0, self._last_write + self._pause - time.monotonic(), self._not_before - time.monotonic())

    def _run(self) -> None:
        while True:
            with self._changes:
                while not self._closed and (wait := self._wait()) != 0:
                    self._changes.wait(wait)
                if self._closed:
                    return
                self._due, self._running = False, True
            started = time.monotonic()
            failed = self._compact()
            took = time.monotonic() - started
            with self._changes:
                self._running = False
                self._runs += 1
                self._last_seconds = took
                self._not_before = time.monotonic() + max(SPACING * took, self._pause)  # a failure too
                self._due = self._due or failed

    def _compact(self) -> bool:
        """Merge the files, then give the query workers a snapshot of them; whether it failed."""
        try:
            self._store.optimize()
            with self._writer.between_writes():
                self._store.republish()
        except (OSError, RuntimeError, StoreError) as error:  # a full disk, say: tried again after the spacing
            _log.warning("policykg: merging the store's files failed, to be tried again: %s", error)
            return True
        return False

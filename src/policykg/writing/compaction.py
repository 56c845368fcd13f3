"""The query workers served from a merged copy of the store once writes pause: a fifth faster heavy reads.

Why, measured (1,000,000 generated triples, the heavy questions of benchmarks/sparql_throughput.py;
benchmarks/compaction.py, figures in benchmarks/RESULTS.md): every write ends with a checkpoint for the
query workers (store/snapshots.py), and a checkpoint writes what was written into small new table files
beside the large ones (store/tablefiles.py). From then on each step of a query looks into both: the heavy
questions took about a fifth longer after a single write of a few hundred triples, as long after five,
and were back to their first speed once the files were merged (Oxigraph's optimize, a full compaction:
about 2 s per million quads on one core, the interpreter lock released). RocksDB merges small files by
itself only among themselves, never back into one run.

Why a copy: merged in place, the store held back the checkpoints of the writes that came meanwhile (at
10,000,000 quads, beside a merge of 21 s: 2.6 s at the 90th percentile, 9.8 s the slowest), where the writes
beside the merging of a copy, on the same disk, took 85 ms at the most (benchmarks/compaction.py). So once
the store has not been written to for `pause` seconds, a thread of its own takes a checkpoint of it (hard
links, between two writes), merges the copy's files, and, if no write came meanwhile, hands the merged copy
to the query workers as their snapshot; queries already running finish on the one they started on. A write
that came meanwhile makes the copy stale: it is dropped, and the next pause tries again. The merged copy's
files are its own: while it is the newest snapshot, the disk holds the store twice; the next write's
snapshot replaces it. The store itself keeps its files (reads of the server's own threads, such as pages
and point lookups, are short, and pay little for them).

A merge that took T seconds is followed by no other for SPACING × T seconds, so that merging takes at most
a tenth of a core however the writes come. At a start, a merged copy is made after the first pause unless
the store's files are as a compaction left them (a load or a restore compacts them; a run's writes do not).
"""

import logging
import shutil
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from policykg.errors import StoreError
from policykg.store import Store
from policykg.store.tablefiles import merge_files
from policykg.writing.writer import Writer

SPACING = 10  # a merge that took T seconds is followed by no other for SPACING × T seconds

_log = logging.getLogger(__name__)


@dataclass(frozen=True)
class CompactionState:
    """Whether a merged copy is due, whether one is being made, how many were made or tried, the last one's time."""

    due: bool
    running: bool
    runs: int
    last_seconds: float | None


class Compaction:
    """Serves the query workers a merged copy of an on-disk store after each pause in the writes (a thread)."""

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
        """Watch the writes and merge a copy after each pause (nothing to do for a store without query workers)."""
        compacted = self._store.compacted()
        if compacted is None or self._pause <= 0:
            return
        self._due = not compacted
        self._writer.on_written(self._wrote)
        self._thread = threading.Thread(target=self._run, name="policykg-compact", daemon=True)
        self._thread.start()

    def close(self) -> None:
        """Start no more merges; wait for one under way (it cannot be cut short)."""
        with self._changes:
            self._closed = True
            self._changes.notify_all()
        if self._thread is not None:
            self._thread.join()

    @property
    def state(self) -> CompactionState | None:
        """Where merging stands (None: this store's query workers are not served merged copies)."""
        if self._thread is None:
            return None
        with self._changes:
            return CompactionState(self._due, self._running, self._runs, self._last_seconds)

    def _wrote(self) -> None:
        """A write made a new revision (on the writing thread): a merged copy is due after the next pause."""
        with self._changes:
            self._due = True
            self._last_write = time.monotonic()
            self._changes.notify_all()

    def _wait(self) -> float | None:
        """Seconds until a merge may start, under the lock (0: now; None: none is due)."""
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
        """Merge a copy of the store and hand it to the query workers; whether it is to be tried again."""
        copy: Path | None = None
        try:
            with self._writer.between_writes():
                revision = self._writer.revision
                copy = self._store.merging_copy()
            merge_files(copy)
            with self._writer.between_writes():
                if not self._writer.unchanged_since(revision):
                    return True  # the copy is behind a write that came meanwhile
                self._store.adopt_snapshot(copy)
                copy = None
        except (OSError, RuntimeError, StoreError) as error:  # a full disk, say: tried again after the spacing
            _log.warning("policykg: merging a copy of the store's files failed, to be tried again: %s", error)
            return True
        finally:
            if copy is not None:
                shutil.rmtree(copy, ignore_errors=True)
        return False

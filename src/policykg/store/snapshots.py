"""The snapshots query workers read: a checkpoint of the store after each write, kept while a query reads it.

Folders are numbered in the order they are taken, so the newest is the greatest. A query counts as a
reader of the snapshot it was sent to until it is done; a folder no query reads, and that is not the
newest, can go (its removal is the caller's, off the event loop: it deletes files).
"""

import shutil
import threading
from collections.abc import Callable
from pathlib import Path


class Snapshots:
    """Numbered snapshot folders under one folder: the newest one, how many queries read each, which can go."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self._lock = threading.Lock()  # the writer's thread takes snapshots, the event loop's counts readers
        self._taken = 0
        self._current: Path | None = None
        self._readers: dict[Path, int] = {}

    @property
    def current(self) -> Path | None:
        """The newest snapshot (None before the first)."""
        return self._current

    def take(self, take_snapshot: Callable[[Path], None]) -> tuple[Path, list[Path]]:
        """Take the next snapshot with take_snapshot(folder); return it and the folders no query reads any more."""
        with self._lock:
            self._taken += 1
            folder = self.folder / f"{self._taken:08d}"
        take_snapshot(folder)
        with self._lock:
            if self._current is None or folder > self._current:
                self._current = folder
            return folder, self._unread()

    def read(self) -> Path | None:
        """The newest snapshot, counted as read by one more query until done() (None: none taken yet)."""
        with self._lock:
            snapshot = self._current
            if snapshot is not None:
                self._readers[snapshot] = self._readers.get(snapshot, 0) + 1
            return snapshot

    def done(self, snapshot: Path) -> list[Path]:
        """One query fewer reads snapshot; return the folders no query reads any more."""
        with self._lock:
            self._readers[snapshot] -= 1
            return self._unread()

    def remove_all(self) -> None:
        """Remove every snapshot (the pool has stopped)."""
        shutil.rmtree(self.folder, ignore_errors=True)

    def _unread(self) -> list[Path]:
        """Forget the snapshots no query reads, all but the newest (under the lock); return them."""
        unread = [folder for folder, readers in self._readers.items() if readers == 0 and folder != self._current]
        for folder in unread:
            del self._readers[folder]
        if self._current is not None:
            self._readers.setdefault(self._current, 0)
        return unread


def remove(folders: list[Path]) -> None:
    """Delete snapshot folders (blocking: not on the event loop)."""
    for folder in folders:
        shutil.rmtree(folder, ignore_errors=True)

"""The files of a backup, shared by writing one and restoring one: names, the manifest, checksums, safe renames."""

import hashlib
import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from policykg.store import EmbeddedStore

Progress = Callable[[str, int, int], None]
"""progress(label, done, total), as policykg.model.loading.progress_bar shows it."""
MANIFEST = "policykg-backup.json"
HEADER = b"# policykg backup of "
BLOCK = 1 << 20


def is_dump_name(path: Path) -> bool:
    """Whether a path names a dump (.nq or .nq.gz) rather than a checkpoint folder."""
    return path.name.endswith((".nq", ".nq.gz"))


def holds_store(folder: Path) -> bool:
    """Whether a folder holds an on-disk store (RocksDB's CURRENT file names its live manifest)."""
    return (folder / "CURRENT").is_file()


@contextmanager
def opened_store(folder: Path) -> Iterator[EmbeddedStore]:
    """An on-disk store opened for a moment and flushed on the way out.

    pyoxigraph lets go of the folder's lock only when its store object goes: callers keep no reference
    to it past the function they open it in.
    """
    store = EmbeddedStore.on_disk(folder)
    try:
        yield store
    finally:
        store.close()


def sha256(path: Path, copy_to: Path | None = None) -> str:
    """The SHA-256 of a file, copied on the way (and made durable) if copy_to is given."""
    digest = hashlib.sha256()
    with open(path, "rb") as given, open(copy_to or os.devnull, "wb") as copy:
        while block := given.read(BLOCK):
            digest.update(block)
            if copy_to is not None:
                copy.write(block)
        if copy_to is not None:
            copy.flush()
            os.fsync(copy.fileno())
    return digest.hexdigest()


def sibling(path: Path, purpose: str) -> Path:
    """A hidden name beside path for work in progress (the same file system, so a rename puts it in place)."""
    return path.with_name(f".{path.name}.{purpose}")


def sync_folder(folder: Path) -> None:
    """Make the names in a folder (a rename into it) durable."""
    descriptor = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


def show(progress: Progress | None, label: str, done: int, total: int) -> None:
    if progress is not None:
        progress(label, done, max(total, done))

"""Restores from a backup (a checkpoint folder, a .nq or .nq.gz dump): whole, checked, or not at all.

A restore loads into a folder beside the destination, checks what it loaded against the backup's mark or
manifest (a dump cut short, a file damaged), and only then renames it into place: it fails leaving nothing.
"""

import gzip
import io
import json
import os
import re
import shutil
import time
import zlib
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import IO, TYPE_CHECKING, TypedDict

from policykg.errors import BackupError, RdfSyntaxError, StoreError, StoreInUse
from policykg.publish.backupfiles import (
    BLOCK,
    HEADER,
    MANIFEST,
    Progress,
    holds_store,
    is_dump_name,
    opened_store,
    sha256,
    show,
    sibling,
    sync_folder,
)
from policykg.store import Readable

if TYPE_CHECKING:
    from typing_extensions import Buffer  # collections.abc.Buffer from Python 3.12

_MARK = re.compile(rb"# policykg backup: (\d+) quads")
_TAIL_BYTES = 4096  # enough to hold the last line, the mark
_UNREADABLE = (EOFError, gzip.BadGzipFile, zlib.error)  # a .gz cut short or damaged


@dataclass(frozen=True)
class RestoreReport:
    """What a restore did: the store it made, its quads, the time it took, and what it could not check."""

    destination: Path
    quads: int
    seconds: float
    notes: tuple[str, ...] = ()

    @property
    def rate(self) -> float:
        """Quads restored per second."""
        return self.quads / self.seconds if self.seconds > 0 else float("inf")


def restore(
    source: Path, destination: Path, *, replace: bool = False, progress: Progress | None = None
) -> RestoreReport:
    """Restore a backup (a checkpoint folder, a .nq or .nq.gz dump) as the store in destination, whole or not at all.

    The destination must be new or empty; with replace, an existing store there (held by no process) is
    replaced, once the backup is restored and checked beside it.
    """
    start = time.monotonic()
    if not (source.is_dir() and holds_store(source)) and not (source.is_file() and is_dump_name(source)):
        raise BackupError(f"there is no backup at {source}: a backup is a checkpoint folder or a .nq or .nq.gz dump")
    _check_destination(destination, replace)
    temporary = sibling(destination, "restoring")
    shutil.rmtree(temporary, ignore_errors=True)  # left by a restore that was killed
    try:
        if source.is_dir():
            quads, notes = _restore_checkpoint(source, temporary, progress)
        else:
            quads, notes = _restore_dump(source, temporary, progress)
        _put_in_place(temporary, destination)
    except BaseException:
        shutil.rmtree(temporary, ignore_errors=True)
        raise
    return RestoreReport(destination, quads, time.monotonic() - start, notes)


class _Watched(io.RawIOBase):
    """A readable stream that shows every piece read from it to a callback (progress, the tail kept)."""

    def __init__(self, inner: Readable, seen: Callable[[bytes], None]) -> None:
        self._inner = inner
        self._seen = seen

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: "Buffer", /) -> int:
        view = memoryview(buffer)
        data = self._inner.read(len(view))
        view[: len(data)] = data
        self._seen(data)
        return len(data)


class _Ends:
    """The first and last bytes of a stream, kept as it is read: a dump's header and its mark."""

    def __init__(self) -> None:
        self.head = b""
        self.tail = b""

    def see(self, chunk: bytes) -> None:
        if len(self.head) < len(HEADER):
            self.head += chunk[: len(HEADER) - len(self.head)]
        self.tail = (self.tail + chunk[-_TAIL_BYTES:])[-_TAIL_BYTES:]

    def has_header(self) -> bool:
        """Whether the stream begins as a dump written by policykg backup does."""
        return self.head == HEADER

    def stated_quads(self) -> int | None:
        """The number of quads the dump's mark states, if its last line is one."""
        found = _MARK.match(self.tail.rstrip(b"\n").rsplit(b"\n", 1)[-1])
        return int(found.group(1)) if found else None


def _restore_dump(source: Path, temporary: Path, progress: Progress | None) -> tuple[int, tuple[str, ...]]:
    """Load a dump into a new store in temporary, blank-node labels kept; check it against its mark."""
    ends = _Ends()
    with opened_store(temporary) as store:
        with open(source, "rb") as raw, _reading(source, raw, progress) as text:
            try:
                store.load_dump(io.BufferedReader(_Watched(text, ends.see), BLOCK))
            except RdfSyntaxError as error:
                raise BackupError(
                    f"{source} is not whole N-Quads (cut short or damaged?): line {error.line}, "
                    f"column {error.column}: {error.message}"
                ) from None
            except _UNREADABLE as error:
                raise BackupError(f"{source} is cut short or damaged: cannot decompress it ({error})") from None
        quads = store.count()
        stated = ends.stated_quads()
        if stated is None and ends.has_header():
            raise BackupError(f"{source} lacks the last line its first line announces: it is cut short")
        if stated is not None and stated != quads:
            raise BackupError(f"{source} says it holds {stated} quads but {quads} were read: it is incomplete")
        if quads == 0:
            raise BackupError(f"{source} holds no quads: it is not a backup of a store")
        store.optimize()
    if stated is None and not source.name.endswith(".gz"):
        return quads, (
            (
                f"{source} has no completeness mark (it was not written by policykg backup): a plain "
                "N-Quads file cut at a line's end cannot be told from a whole one"
            ),
        )
    return quads, ()


@contextmanager
def _reading(source: Path, raw: IO[bytes], progress: Progress | None) -> Iterator[Readable]:
    """The file's N-Quads text (inflated for .gz), with progress counted in the file's own bytes."""
    size, done = source.stat().st_size, 0

    def counted(chunk: bytes) -> None:
        nonlocal done
        done += len(chunk)
        show(progress, f"restoring {source.name}", done, size)

    watched = io.BufferedReader(_Watched(raw, counted), BLOCK)
    if source.name.endswith(".gz"):
        with gzip.GzipFile(fileobj=watched) as text:
            yield text
    else:
        yield watched


def _restore_checkpoint(source: Path, temporary: Path, progress: Progress | None) -> tuple[int, tuple[str, ...]]:
    """Copy a checkpoint's files into temporary, each checked against the manifest's SHA-256, and open it."""
    manifest = _read_manifest(source)
    names = sorted(manifest["files"]) if manifest else sorted(p.name for p in source.iterdir() if p.is_file())
    temporary.mkdir(parents=True)
    total, done = sum((source / name).stat().st_size for name in names if (source / name).is_file()), 0
    for name in names:
        if not (source / name).is_file():
            raise BackupError(f"{source} lacks {name}, which its manifest lists: the backup is damaged")
        digest = sha256(source / name, copy_to=temporary / name)
        if manifest and digest != manifest["files"][name]:
            raise BackupError(f"{source / name} differs from the checksum in its manifest: the backup is damaged")
        done += (source / name).stat().st_size
        show(progress, f"restoring {source.name}", done, total)
    try:
        with opened_store(temporary) as store:
            quads = store.count()
    except StoreError as error:
        raise BackupError(f"{source} does not open as a store: {error}") from None
    if manifest and quads != manifest["quads"]:
        raise BackupError(f"{source} says it holds {manifest['quads']} quads but {quads} were found: it is damaged")
    if quads == 0:
        raise BackupError(f"{source} holds no quads: it is not a backup of a store")
    sync_folder(temporary)
    notes = () if manifest else (f"{source} has no manifest ({MANIFEST}): its files could not be checked",)
    return quads, notes


class _Manifest(TypedDict):
    """What restore reads of a checkpoint's manifest: its quads and each file's SHA-256."""

    quads: int
    files: dict[str, str]


def _read_manifest(folder: Path) -> _Manifest | None:
    """A checkpoint's manifest (None if it has none); refuse one that is damaged or names files elsewhere."""
    path = folder / MANIFEST
    if not path.is_file():
        return None
    try:
        manifest = json.loads(path.read_text("utf-8"))
        files, quads = manifest["files"], manifest["quads"]
        well_formed = (
            isinstance(files, dict)
            and isinstance(quads, int)
            and all(
                isinstance(digest, str) and Path(name).name == name and name not in ("", ".", "..", MANIFEST)
                for name, digest in files.items()
            )
        )
    except (ValueError, KeyError, TypeError):
        well_formed = False
    if not well_formed:
        raise BackupError(f"{path} is damaged: it is not a manifest of policykg backup")
    return manifest


def _check_destination(destination: Path, replace: bool) -> None:
    """Refuse a destination with something in it, unless told to replace a store no process holds."""
    if destination.exists() and not destination.is_dir():
        raise BackupError(f"{destination} is a file, not a store folder")
    if not destination.exists() or not any(destination.iterdir()):
        return
    if not replace:
        raise BackupError(
            f"{destination} is not empty: restore into a new folder, or pass --replace to put the "
            "backup in place of the store there"
        )
    if not holds_store(destination):
        raise BackupError(f"{destination} holds files that are not a store: it is not replaced")
    try:
        with opened_store(destination):
            pass
    except StoreInUse as error:
        raise BackupError(f"{error}: stop the service before restoring over its store") from None


def _put_in_place(temporary: Path, destination: Path) -> None:
    """Rename the restored store to its destination; an old store there goes only once the new one is in."""
    destination.parent.mkdir(parents=True, exist_ok=True)
    if destination.is_dir() and not any(destination.iterdir()):
        destination.rmdir()
    old = sibling(destination, "replaced") if destination.exists() else None
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)
        os.rename(destination, old)
    os.rename(temporary, destination)
    sync_folder(destination.parent)
    if old is not None:
        shutil.rmtree(old)

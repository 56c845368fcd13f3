"""The dumps written to files, once per revision, so that a harvester's download is a file streamed from disk.

Written from a frozen copy of the store (Store.frozen), so each file holds exactly one revision; N-Quads is
read from the store once and written both plain and gzip-compressed; each file is written under a temporary
name, flushed to disk and renamed, so a file of a dump's name is always whole. Each revision's files have a
folder of their own; the newest KEEP folders stay (a download that opened a file before it goes keeps
reading it: an open file outlives its name).

While files are written, a download may follow one (Progress, Follower): it reads what is written so far and
waits for more, so that before the first files after a start are whole, downloads share the one making
instead of each dumping and compressing the store on its own (7.9 s of a core per download at 1M quads).
"""

import os
import re
import shutil
import threading
import zlib
from collections.abc import Callable
from enum import Enum
from pathlib import Path
from typing import BinaryIO

from policykg.publish.catalogue import DUMPS
from policykg.store import Store

KEEP = 2  # revisions whose files are kept: the newest, and the one before (for downloads still reading it)
_TEMPORARY = ".partial"


class Stage(Enum):
    """Where the writing of one file stands."""

    WAITING = "waiting"  # not begun: the files of another syntax are written first
    WRITING = "writing"
    WHOLE = "whole"  # every byte written and flushed
    FAILED = "failed"


class DumpFailed(Exception):
    """The files a download followed could not be written to the end."""


class Progress:
    """The files of one revision as they are written, for downloads that follow them (safe across threads)."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.paths = {dump.file_name: folder / dump.file_name for dump in DUMPS}
        self._lock = threading.Lock()
        self._stages = dict.fromkeys(self.paths, Stage.WAITING)

    def stage(self, name: str) -> Stage:
        """Where the file of that name stands."""
        with self._lock:
            return self._stages[name]

    def mark(self, names: list[str], stage: Stage) -> None:
        """Say where the files of these names stand (a whole file stays whole whatever fails after it)."""
        with self._lock:
            for name in names:
                if self._stages[name] is not Stage.WHOLE or stage is not Stage.FAILED:
                    self._stages[name] = stage


class Follower:
    """One download reading a file while it is written: what is there, then more as it comes, to the end."""

    def __init__(self, progress: Progress, name: str) -> None:
        self._progress = progress
        self._name = name
        self._file: BinaryIO | None = None

    def begun(self) -> bool:
        """Whether there is anything to read yet (or to fail on): the file's writing has begun, or ended."""
        return self._file is not None or self._progress.stage(self._name) is not Stage.WAITING

    def read(self, size: int) -> bytes | None:
        """Up to size bytes; b"" at the end of the whole file; None when nothing more is written yet."""
        stage = self._progress.stage(self._name)  # before reading: whole then, all is there to read
        if stage is Stage.FAILED:
            raise DumpFailed(f"the dump {self._name} could not be written")
        if self._file is None:
            if stage is Stage.WAITING:
                return None
            self._file = _open_either(self._progress.paths[self._name])
        data = self._file.read(size)
        if data or stage is Stage.WHOLE:
            return data
        return None

    def close(self) -> None:
        """Let go of the file."""
        if self._file is not None:
            self._file.close()


def _open_either(path: Path) -> BinaryIO:
    """The file being written under its temporary name, or under its own once it has been renamed."""
    try:
        return open(path.with_name(path.name + _TEMPORARY), "rb")
    except FileNotFoundError:
        return open(path, "rb")


def write_dumps(store: Store, folder: Path, progress: Progress | None = None) -> dict[str, Path]:
    """Write every dump (publish/catalogue.DUMPS) of the store into folder; their paths by file name.

    progress, if given (made for the same folder), says how far each file is, for downloads that follow it.
    """
    progress = progress or Progress(folder)
    assert progress.folder == folder, "a progress is made for the folder its files are written to"
    paths = progress.paths
    by_syntax: dict[str, list[tuple[Path, bool]]] = {}
    for dump in DUMPS:
        syntax = "trig" if dump.media_type == "application/trig" else "nquads"
        by_syntax.setdefault(syntax, []).append((paths[dump.file_name], dump.compressed))
    try:  # whatever fails, from the folder on, ends the downloads that follow these files
        folder.mkdir(parents=True, exist_ok=True)
        for syntax, targets in by_syntax.items():
            _write(store, syntax, targets, progress)
    except BaseException:
        progress.mark(list(paths), Stage.FAILED)
        raise
    return paths


def prune(root: Path, keep: int = KEEP) -> None:
    """Remove all but the newest `keep` revisions' folders under root, and anything left half-written."""
    if not root.is_dir():
        return
    folders = sorted((f for f in root.iterdir() if f.is_dir()), key=lambda f: f.stat().st_mtime, reverse=True)
    for folder in folders[keep:]:
        shutil.rmtree(folder, ignore_errors=True)
    for partial in root.glob(f"*/*{_TEMPORARY}"):
        partial.unlink(missing_ok=True)


def folder_name(tag: str) -> str:
    """A revision's folder name: its tag, with anything but letters, digits, dots and dashes left out."""
    return re.sub(r"[^A-Za-z0-9.-]", "", tag) or "revision"


def _write(store: Store, syntax: str, targets: list[tuple[Path, bool]], progress: Progress) -> None:
    """Dump the store once in a syntax into each target (path, compressed), each atomically."""
    names = [path.name for path, _ in targets]
    files: list[tuple[BinaryIO, Callable[[bytes], bytes] | None, Callable[[], bytes] | None]] = []
    try:
        for path, compressed in targets:
            file: BinaryIO = open(path.with_name(path.name + _TEMPORARY), "wb")  # noqa: SIM115 -- closed below
            if compressed:
                compressor = zlib.compressobj(6, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
                files.append((file, compressor.compress, compressor.flush))
            else:
                files.append((file, None, None))
        progress.mark(names, Stage.WRITING)

        def sink(chunk: bytes) -> None:
            for target, compress, _ in files:
                target.write(compress(chunk) if compress else chunk)

        store.dump(syntax, sink)
        for target, _, flush in files:
            if flush is not None:
                target.write(flush())
            target.flush()
            os.fsync(target.fileno())
        progress.mark(names, Stage.WHOLE)
    finally:
        for target, _, _ in files:
            target.close()
    for path, _ in targets:
        os.replace(path.with_name(path.name + _TEMPORARY), path)
    directory = os.open(targets[0][0].parent, os.O_RDONLY)
    try:
        os.fsync(directory)  # the renames, on disk too
    finally:
        os.close(directory)

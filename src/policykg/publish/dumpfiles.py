"""The dumps written to files, once per revision, so that a harvester's download is a file streamed from disk.

Written from a frozen copy of the store (Store.frozen), so each file holds exactly one revision; N-Quads is
read from the store once and written both plain and gzip-compressed; each file is written under a temporary
name, flushed to disk and renamed, so a file of a dump's name is always whole. Each revision's files have a
folder of their own; the newest KEEP folders stay (a download that opened a file before it goes keeps
reading it: an open file outlives its name).
"""

import os
import re
import shutil
import zlib
from collections.abc import Callable
from pathlib import Path
from typing import BinaryIO

from policykg.publish.catalogue import DUMPS
from policykg.store import Store

KEEP = 2  # revisions whose files are kept: the newest, and the one before (for downloads still reading it)
_TEMPORARY = ".partial"


def write_dumps(store: Store, folder: Path) -> dict[str, Path]:
    """Write every dump (publish/catalogue.DUMPS) of the store into folder; their paths by file name."""
    folder.mkdir(parents=True, exist_ok=True)
    paths = {dump.file_name: folder / dump.file_name for dump in DUMPS}
    by_syntax: dict[str, list[tuple[Path, bool]]] = {}
    for dump in DUMPS:
        syntax = "trig" if dump.media_type == "application/trig" else "nquads"
        by_syntax.setdefault(syntax, []).append((paths[dump.file_name], dump.compressed))
    for syntax, targets in by_syntax.items():
        _write(store, syntax, targets)
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


def _write(store: Store, syntax: str, targets: list[tuple[Path, bool]]) -> None:
    """Dump the store once in a syntax into each target (path, compressed), each atomically."""
    files: list[tuple[BinaryIO, Callable[[bytes], bytes] | None, Callable[[], bytes] | None]] = []
    try:
        for path, compressed in targets:
            file: BinaryIO = open(path.with_name(path.name + _TEMPORARY), "wb")  # noqa: SIM115 -- closed below
            if compressed:
                compressor = zlib.compressobj(6, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
                files.append((file, compressor.compress, compressor.flush))
            else:
                files.append((file, None, None))

        def sink(chunk: bytes) -> None:
            for target, compress, _ in files:
                target.write(compress(chunk) if compress else chunk)

        store.dump(syntax, sink)
        for target, _, flush in files:
            if flush is not None:
                target.write(flush())
            target.flush()
            os.fsync(target.fileno())
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

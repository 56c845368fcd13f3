"""Backups of a store: a snapshot of one instant (restore.py restores it whole or not at all).

A backup is one of two things, as with Oxigraph's own `dump` and `backup` commands:

- a **dump**, N-Quads (`.nq`, or `.nq.gz`), portable to any engine and any version. A running service is
  backed up this way (`backup_service`): it streams `/dumps/policykg.nq.gz`, which it writes from one
  read of the store, and the embedded store answers a read from one snapshot. So the dump is the store at
  one instant: every entry with its record, or neither; nothing is locked, writes go on meanwhile. It
  needs no token and no new route (the dump is public), and works the same over a remote engine.
- a **checkpoint** folder (RocksDB, hard links where it can, so instant), of a store no process holds
  (`backup_folder`); it opens as a store of its own.

What a dump cannot hold: named graphs that exist but are empty (N-Quads has no way to say them).

Every dump written here ends with a comment line `# policykg backup: N quads …` (and, where it is written
as text, begins with one that announces it); every checkpoint holds a manifest of its quads and its
files' SHA-256. So a restore refuses a backup cut short or damaged, even where the syntax alone could not
tell (a plain `.nq` cut at a line's end). A restore loads into a folder beside the destination, checks
what it loaded, and only then renames it into place: it fails leaving nothing.
"""

import datetime as dt
import gzip
import json
import os
import shutil
import time
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Self

import httpx

from policykg.errors import BackupError, StoreInUse
from policykg.iris import DUMP
from policykg.model.loading import QuadRate
from policykg.publish.backupfiles import (
    HEADER,
    MANIFEST,
    Progress,
    holds_store,
    is_dump_name,
    sha256,
    show,
    sibling,
    sync_folder,
)
from policykg.store import EmbeddedStore, Store

DUMP_PATH = DUMP


@dataclass(frozen=True)
class BackupReport(QuadRate):
    """What a backup wrote: where, of which kind (dump or checkpoint), how many quads and bytes, how fast."""

    target: Path
    kind: str
    quads: int
    size: int
    seconds: float


def backup_service(url: str, target: Path, progress: Progress | None = None) -> BackupReport:
    """Back up a running service: its gzip N-Quads dump (one read of its store), checked whole, kept as target."""
    _require_dump_name(target, "a backup from a running service is a dump")
    _refuse_existing(target)
    base = url.rstrip("/") + "/"
    start = time.monotonic()
    try:
        with httpx.Client(timeout=httpx.Timeout(30, read=300)) as client:
            expected = _announced_quads(client, base)
            with client.stream("GET", base + DUMP_PATH) as response:
                if response.status_code != 200:
                    raise BackupError(f"{base}{DUMP_PATH} answered {response.status_code}, not the dump")
                with _DumpFile(target, base, compressed_input=True) as dump:
                    for chunk in response.iter_bytes():
                        dump.write(chunk)
                        show(progress, f"backing up {base}", dump.quads, expected)
                    quads = dump.finish()
    except httpx.HTTPError as error:
        raise BackupError(f"cannot fetch the dump from {base}: {error}; nothing was kept") from None
    return BackupReport(target, "dump", quads, target.stat().st_size, time.monotonic() - start)


def backup_folder(folder: Path, target: Path, progress: Progress | None = None) -> BackupReport:
    """Back up the on-disk store in folder, which no process may hold: a checkpoint, or a dump if target says so."""
    if not holds_store(folder):
        raise BackupError(f"there is no store in {folder}")
    _refuse_existing(target)
    try:
        store = EmbeddedStore.on_disk(folder)
    except StoreInUse as error:
        online = target if is_dump_name(target) else target.with_name(target.name + ".nq.gz")
        raise BackupError(
            f"{error}. Back it up through the service instead, e.g. "
            f"`policykg backup --from-url http://127.0.0.1:8000/ {online}`"
        ) from None
    try:
        if is_dump_name(target):
            return dump_store(store, target, str(folder), progress)
        return _checkpoint(store, target, progress)
    finally:
        store.close()


def dump_store(store: Store, target: Path, source: str, progress: Progress | None = None) -> BackupReport:
    """Back up an open store (embedded, or a remote engine) as a dump, from one read of it."""
    _require_dump_name(target, "a backup of this store is a dump")
    _refuse_existing(target)
    start = time.monotonic()
    expected = store.count()
    with _DumpFile(target, source, compressed_input=False) as dump:

        def take(chunk: bytes) -> None:
            dump.write(chunk)
            show(progress, f"backing up {source}", dump.quads, expected)

        store.dump("nquads", take)
        quads = dump.finish()
    return BackupReport(target, "dump", quads, target.stat().st_size, time.monotonic() - start)


class _DumpFile:
    """A dump being written beside its name: N-Quads counted (a quad a line), renamed into place when whole.

    The input is N-Quads text, or the gzip stream of a service's dump: that one is inflated on the way to
    count it and to check its end (a stream cut short never inflates to its end marker), and kept as it
    came for a .nq.gz. The dump begins with a header line (where it is written as text: a gzip stream
    kept as it came has its own check) and ends with the mark, which states the number of quads.
    """

    def __init__(self, target: Path, source: str, *, compressed_input: bool) -> None:
        self.target = target
        self.quads = 0
        self._source = source
        self._partial = sibling(target, "partial")
        self._gzipped = target.name.endswith(".gz")
        self._inflate = zlib.decompressobj(16 + zlib.MAX_WBITS) if compressed_input else None
        self._deflate = (
            zlib.compressobj(6, zlib.DEFLATED, 16 + zlib.MAX_WBITS) if self._gzipped and not compressed_input else None
        )
        self._headed = not (compressed_input and self._gzipped)

    def __enter__(self) -> Self:
        self._out: IO[bytes] = open(self._partial, "wb")  # closed by __exit__
        if self._headed:
            self._put(f"{HEADER.decode()}{self._source}, begun at {_now()}; its last line states its quads\n".encode())
        return self

    def __exit__(self, kind: object, error: object, trace: object) -> None:
        self._out.close()
        if kind is not None:
            self._partial.unlink(missing_ok=True)

    def write(self, chunk: bytes) -> None:
        """Take a piece of the dump as it comes."""
        if self._inflate is None:
            self.quads += chunk.count(b"\n")
            self._put(chunk)
            return
        try:
            text = self._inflate.decompress(chunk)
        except zlib.error as error:
            raise BackupError(f"the dump from {self._source} is damaged: {error}; nothing was kept") from None
        self.quads += text.count(b"\n")
        if self._gzipped:
            self._out.write(chunk)
        else:
            self._put(text)

    def finish(self) -> int:
        """Check the dump is whole, end it with the mark, make it durable and give it its name; return its quads."""
        if self._inflate is not None and (not self._inflate.eof or self._inflate.unused_data):
            raise BackupError(f"the dump from {self._source} ended before its end; nothing was kept")
        mark = f"# policykg backup: {self.quads} quads, ended at {_now()}\n".encode()
        if self._deflate is None and self._gzipped:  # the service's gzip stream kept: the mark is a member of its own
            self._out.write(gzip.compress(mark))
        else:
            self._put(mark)
        if self._deflate is not None:
            self._out.write(self._deflate.flush())
        self._out.flush()
        os.fsync(self._out.fileno())
        self._out.close()
        os.rename(self._partial, self.target)
        sync_folder(self.target.parent)
        return self.quads

    def _put(self, text: bytes) -> None:
        """Write N-Quads text, compressed for a .nq.gz."""
        self._out.write(self._deflate.compress(text) if self._deflate is not None else text)


def _checkpoint(store: EmbeddedStore, target: Path, progress: Progress | None) -> BackupReport:
    """Write a checkpoint of the store into target, with a manifest of its quads and its files' SHA-256."""
    start = time.monotonic()
    partial = sibling(target, "partial")
    shutil.rmtree(partial, ignore_errors=True)
    try:
        store.backup(partial)
        files = sorted(p for p in partial.iterdir() if p.is_file())
        total, done, digests = sum(p.stat().st_size for p in files), 0, {}
        for path in files:
            digests[path.name] = sha256(path)
            done += path.stat().st_size
            show(progress, f"checking {target.name}", done, total)
        quads = store.count()
        (partial / MANIFEST).write_text(json.dumps({"quads": quads, "taken": _now(), "files": digests}, indent=1))
        sync_folder(partial)
        os.rename(partial, target)
        sync_folder(target.parent)
    except BaseException:
        shutil.rmtree(partial, ignore_errors=True)
        raise
    return BackupReport(target, "checkpoint", quads, total, time.monotonic() - start)


def _announced_quads(client: httpx.Client, base: str) -> int:
    """The number of quads the service says it holds (for progress), checking that it is a policykg service."""
    response = client.get(base + "dumps", headers={"Accept": "application/json"})
    try:
        return int(response.json()["quads"])
    except (ValueError, KeyError, TypeError):
        raise BackupError(
            f"{base} is not a policykg service: {base}dumps answered {response.status_code} without the list of dumps"
        ) from None


def _require_dump_name(target: Path, what: str) -> None:
    if not is_dump_name(target):
        raise BackupError(f"{what}: name it .nq.gz (or .nq), not {target.name}")


def _refuse_existing(target: Path) -> None:
    if target.exists():
        raise BackupError(f"{target} exists already: a backup never overwrites; choose a new name")
    target.parent.mkdir(parents=True, exist_ok=True)


def _now() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="seconds").replace("+00:00", "Z")

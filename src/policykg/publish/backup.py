"""Backups of a store and restores from them: a snapshot of one instant, restored whole or not at all.

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
import hashlib
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
from typing import IO, Self

import httpx

from policykg.errors import BackupError, RdfSyntaxError, StoreError, StoreInUse
from policykg.iris import DUMP
from policykg.model.loading import QuadRate
from policykg.store import EmbeddedStore, Store

Progress = Callable[[str, int, int], None]
"""progress(label, done, total), as policykg.loading.progress_bar shows it."""
MANIFEST = "policykg-backup.json"
DUMP_PATH = DUMP
HEADER = b"# policykg backup of "
_MARK = re.compile(rb"# policykg backup: (\d+) quads")
_TAIL_BYTES = 4096  # enough to hold the last line, the mark
_BLOCK = 1 << 20
_UNREADABLE = (EOFError, gzip.BadGzipFile, zlib.error)  # a .gz cut short or damaged


@dataclass(frozen=True)
class BackupReport(QuadRate):
    """What a backup wrote: where, of which kind (dump or checkpoint), how many quads and bytes, how fast."""

    target: Path
    kind: str
    quads: int
    size: int
    seconds: float


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


def is_dump_name(path: Path) -> bool:
    """Whether a path names a dump (.nq or .nq.gz) rather than a checkpoint folder."""
    return path.name.endswith((".nq", ".nq.gz"))


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
                        _show(progress, f"backing up {base}", dump.quads, expected)
                    quads = dump.finish()
    except httpx.HTTPError as error:
        raise BackupError(f"cannot fetch the dump from {base}: {error}; nothing was kept") from None
    return BackupReport(target, "dump", quads, target.stat().st_size, time.monotonic() - start)


def backup_folder(folder: Path, target: Path, progress: Progress | None = None) -> BackupReport:
    """Back up the on-disk store in folder, which no process may hold: a checkpoint, or a dump if target says so."""
    if not _holds_store(folder):
        raise BackupError(f"there is no store in {folder}")
    _refuse_existing(target)
    try:
        store = EmbeddedStore.on_disk(folder)
    except StoreInUse as error:
        online = target if is_dump_name(target) else target.with_name(target.name + ".nq.gz")
        raise BackupError(f"{error}. Back it up through the service instead, e.g. "
                          f"`policykg backup --from-url http://127.0.0.1:8000/ {online}`") from None
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
            _show(progress, f"backing up {source}", dump.quads, expected)

        store.dump("nquads", take)
        quads = dump.finish()
    return BackupReport(target, "dump", quads, target.stat().st_size, time.monotonic() - start)


def restore(source: Path, destination: Path, *, replace: bool = False,
            progress: Progress | None = None) -> RestoreReport:
    """Restore a backup (a checkpoint folder, a .nq or .nq.gz dump) as the store in destination, whole or not at all.

    The destination must be new or empty; with replace, an existing store there (held by no process) is
    replaced, once the backup is restored and checked beside it.
    """
    start = time.monotonic()
    if not (source.is_dir() and _holds_store(source)) and not (source.is_file() and is_dump_name(source)):
        raise BackupError(f"there is no backup at {source}: a backup is a checkpoint folder or a .nq or .nq.gz dump")
    _check_destination(destination, replace)
    temporary = _sibling(destination, "restoring")
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
        self._partial = _sibling(target, "partial")
        self._gzipped = target.name.endswith(".gz")
        self._inflate = zlib.decompressobj(16 + zlib.MAX_WBITS) if compressed_input else None
        self._deflate = (zlib.compressobj(6, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
                         if self._gzipped and not compressed_input else None)
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
        _sync_folder(self.target.parent)
        return self.quads

    def _put(self, text: bytes) -> None:
        """Write N-Quads text, compressed for a .nq.gz."""
        self._out.write(self._deflate.compress(text) if self._deflate is not None else text)


class _Watched(io.RawIOBase):
    """A readable stream that shows every piece read from it to a callback (progress, the tail kept)."""

    def __init__(self, inner: IO[bytes], seen: Callable[[bytes], None]) -> None:
        self._inner = inner
        self._seen = seen

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: bytearray) -> int:  # type: ignore[override]
        data = self._inner.read(len(buffer))
        buffer[: len(data)] = data
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
    with _opened_store(temporary) as store:
        with open(source, "rb") as raw, _reading(source, raw, progress) as text:
            try:
                store.load_dump(io.BufferedReader(_Watched(text, ends.see), _BLOCK))
            except RdfSyntaxError as error:
                raise BackupError(f"{source} is not whole N-Quads (cut short or damaged?): line {error.line}, "
                                  f"column {error.column}: {error.message}") from None
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
        return quads, ((f"{source} has no completeness mark (it was not written by policykg backup): a plain "
                        "N-Quads file cut at a line's end cannot be told from a whole one"),)
    return quads, ()


@contextmanager
def _reading(source: Path, raw: IO[bytes], progress: Progress | None) -> Iterator[IO[bytes]]:
    """The file's N-Quads text (inflated for .gz), with progress counted in the file's own bytes."""
    size, done = source.stat().st_size, 0

    def counted(chunk: bytes) -> None:
        nonlocal done
        done += len(chunk)
        _show(progress, f"restoring {source.name}", done, size)

    watched = io.BufferedReader(_Watched(raw, counted), _BLOCK)
    if source.name.endswith(".gz"):
        with gzip.GzipFile(fileobj=watched) as text:
            yield text  # type: ignore[misc]
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
        digest = _sha256(source / name, copy_to=temporary / name)
        if manifest and digest != manifest["files"][name]:
            raise BackupError(f"{source / name} differs from the checksum in its manifest: the backup is damaged")
        done += (source / name).stat().st_size
        _show(progress, f"restoring {source.name}", done, total)
    try:
        with _opened_store(temporary) as store:
            quads = store.count()
    except StoreError as error:
        raise BackupError(f"{source} does not open as a store: {error}") from None
    if manifest and quads != manifest["quads"]:
        raise BackupError(f"{source} says it holds {manifest['quads']} quads but {quads} were found: it is damaged")
    if quads == 0:
        raise BackupError(f"{source} holds no quads: it is not a backup of a store")
    _sync_folder(temporary)
    notes = () if manifest else (f"{source} has no manifest ({MANIFEST}): its files could not be checked",)
    return quads, notes


def _checkpoint(store: EmbeddedStore, target: Path, progress: Progress | None) -> BackupReport:
    """Write a checkpoint of the store into target, with a manifest of its quads and its files' SHA-256."""
    start = time.monotonic()
    partial = _sibling(target, "partial")
    shutil.rmtree(partial, ignore_errors=True)
    try:
        store.backup(partial)
        files = sorted(p for p in partial.iterdir() if p.is_file())
        total, done, digests = sum(p.stat().st_size for p in files), 0, {}
        for path in files:
            digests[path.name] = _sha256(path)
            done += path.stat().st_size
            _show(progress, f"checking {target.name}", done, total)
        quads = store.count()
        (partial / MANIFEST).write_text(json.dumps({"quads": quads, "taken": _now(), "files": digests}, indent=1))
        _sync_folder(partial)
        os.rename(partial, target)
        _sync_folder(target.parent)
    except BaseException:
        shutil.rmtree(partial, ignore_errors=True)
        raise
    return BackupReport(target, "checkpoint", quads, total, time.monotonic() - start)


def _read_manifest(folder: Path) -> dict | None:  # type: ignore[type-arg]
    """A checkpoint's manifest (None if it has none); refuse one that is damaged or names files elsewhere."""
    path = folder / MANIFEST
    if not path.is_file():
        return None
    try:
        manifest = json.loads(path.read_text("utf-8"))
        files, quads = manifest["files"], manifest["quads"]
        well_formed = isinstance(files, dict) and isinstance(quads, int) and all(
            isinstance(digest, str) and Path(name).name == name and name not in ("", ".", "..", MANIFEST)
            for name, digest in files.items())
    except (ValueError, KeyError, TypeError):
        well_formed = False
    if not well_formed:
        raise BackupError(f"{path} is damaged: it is not a manifest of policykg backup")
    return manifest  # type: ignore[no-any-return]


def _check_destination(destination: Path, replace: bool) -> None:
    """Refuse a destination with something in it, unless told to replace a store no process holds."""
    if destination.exists() and not destination.is_dir():
        raise BackupError(f"{destination} is a file, not a store folder")
    if not destination.exists() or not any(destination.iterdir()):
        return
    if not replace:
        raise BackupError(f"{destination} is not empty: restore into a new folder, or pass --replace to put the "
                          "backup in place of the store there")
    if not _holds_store(destination):
        raise BackupError(f"{destination} holds files that are not a store: it is not replaced")
    try:
        with _opened_store(destination):
            pass
    except StoreInUse as error:
        raise BackupError(f"{error}: stop the service before restoring over its store") from None


def _put_in_place(temporary: Path, destination: Path) -> None:
    """Rename the restored store to its destination; an old store there goes only once the new one is in."""
    destination.parent.mkdir(parents=True, exist_ok=True)
    if destination.is_dir() and not any(destination.iterdir()):
        destination.rmdir()
    old = _sibling(destination, "replaced") if destination.exists() else None
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)
        os.rename(destination, old)
    os.rename(temporary, destination)
    _sync_folder(destination.parent)
    if old is not None:
        shutil.rmtree(old)


@contextmanager
def _opened_store(folder: Path) -> Iterator[EmbeddedStore]:
    """An on-disk store opened for a moment and flushed on the way out.

    pyoxigraph lets go of the folder's lock only when its store object goes: callers keep no reference
    to it past the function they open it in.
    """
    store = EmbeddedStore.on_disk(folder)
    try:
        yield store
    finally:
        store.close()


def _holds_store(folder: Path) -> bool:
    """Whether a folder holds an on-disk store (RocksDB's CURRENT file names its live manifest)."""
    return (folder / "CURRENT").is_file()


def _announced_quads(client: httpx.Client, base: str) -> int:
    """The number of quads the service says it holds (for progress), checking that it is a policykg service."""
    response = client.get(base + "dumps", headers={"Accept": "application/json"})
    try:
        return int(response.json()["quads"])
    except (ValueError, KeyError, TypeError):
        raise BackupError(f"{base} is not a policykg service: {base}dumps answered {response.status_code} "
                          "without the list of dumps") from None


def _sha256(path: Path, copy_to: Path | None = None) -> str:
    """The SHA-256 of a file, copied on the way (and made durable) if copy_to is given."""
    digest = hashlib.sha256()
    with open(path, "rb") as given, open(copy_to or os.devnull, "wb") as copy:
        while block := given.read(_BLOCK):
            digest.update(block)
            if copy_to is not None:
                copy.write(block)
        if copy_to is not None:
            copy.flush()
            os.fsync(copy.fileno())
    return digest.hexdigest()


def _require_dump_name(target: Path, what: str) -> None:
    if not is_dump_name(target):
        raise BackupError(f"{what}: name it .nq.gz (or .nq), not {target.name}")


def _refuse_existing(target: Path) -> None:
    if target.exists():
        raise BackupError(f"{target} exists already: a backup never overwrites; choose a new name")
    target.parent.mkdir(parents=True, exist_ok=True)


def _sibling(path: Path, purpose: str) -> Path:
    """A hidden name beside path for work in progress (the same file system, so a rename puts it in place)."""
    return path.with_name(f".{path.name}.{purpose}")


def _sync_folder(folder: Path) -> None:
    """Make the names in a folder (a rename into it) durable."""
    descriptor = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


def _now() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def _show(progress: Progress | None, label: str, done: int, total: int) -> None:
    if progress is not None:
        progress(label, done, max(total, done))

"""Bulk loading of RDF files into a store, in constant memory, with progress and a quads-per-second figure."""

import gzip
import itertools
import sys
import time
import zlib
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import IO, cast

import pyoxigraph as ox

from policykg.errors import RdfSyntaxError
from policykg.iris import genid_prefix
from policykg.rdf.input import expand_paths, format_of
from policykg.rdf.skolem import fresh
from policykg.store import Readable, Store

Progress = Callable[[str, int, int], None]
"""progress(label, done, total): how far a step has got, in bytes (or another unit the caller chose)."""
Notice = Callable[[str], None]
_BATCH = 50_000  # quads per request to a remote store
_UNREADABLE = (EOFError, gzip.BadGzipFile, zlib.error)  # a truncated or corrupt .gz
_REPORT_EVERY = 1 << 20  # bytes read between two progress reports: the parser reads a few KiB at a time


class QuadRate:
    """For a report of quads written in some seconds (a load, a backup): how many a second."""

    quads: int
    seconds: float

    @property
    def rate(self) -> float:
        """Quads a second."""
        return self.quads / self.seconds if self.seconds > 0 else float("inf")


@dataclass(frozen=True)
class LoadReport(QuadRate):
    """What a load did: files, quads added and the time it took."""

    files: int
    quads: int
    seconds: float


class _Reading:
    """A binary file object over another: what it reads passes through read(), which a subclass watches."""

    def __init__(self, raw: Readable) -> None:
        self._raw = raw

    def read(self, size: int = -1) -> bytes:
        return self._raw.read(size)

    def readinto(self, buffer: bytearray) -> int:
        data = self.read(len(buffer))
        buffer[: len(data)] = data
        return len(data)

    def readable(self) -> bool:
        return True


class _Counting(_Reading):
    """A binary file object that reports, about every MiB and at the end, how many bytes were read from it."""

    def __init__(self, raw: Readable, report: Callable[[int], None]) -> None:
        super().__init__(raw)
        self._report = report
        self._read = 0
        self._reported = 0

    def read(self, size: int = -1) -> bytes:
        data = self._raw.read(size)
        self._read += len(data)
        if not data or self._read - self._reported >= _REPORT_EVERY:
            self._reported = self._read
            self._report(self._read)
        return data


class _BlankMarks(_Reading):
    """A binary file object that notes whether the bytes read through it may write a blank node.

    In N-Triples and N-Quads a blank node is always written `_:label`: input without those two bytes has
    none, and the store needs no scan for them after the load. Other syntaxes write blank nodes without
    a mark ([ ], lists, nested elements), so for them it always says there may be some.
    """

    def __init__(self, raw: Readable, rdf_format: ox.RdfFormat) -> None:
        super().__init__(raw)
        self.seen = rdf_format not in (ox.RdfFormat.N_TRIPLES, ox.RdfFormat.N_QUADS)
        self._last = b""

    def read(self, size: int = -1) -> bytes:
        data = self._raw.read(size)
        if not self.seen and data:
            self.seen = b"_:" in self._last + data[:1] or b"_:" in data
            self._last = data[-1:]
        return data


def load_files(
    store: Store,
    paths: list[Path],
    base_iri: str,
    graph: str,
    format_name: str | None = None,
    progress: Progress | None = None,
    notice: Notice | None = None,
) -> LoadReport:
    """Load files into the store in constant memory, each file all or nothing; graph receives default-graph triples.

    The embedded store uses Oxigraph's bulk loader, which commits a file at once, and then names the blank
    nodes it may have brought (skolemisation); a remote store gets batches of quads, their blank nodes named
    on the way (the same IRI for the same blank node of a file), and the file is parsed once before the first
    batch, so a syntax error sends nothing. Progress counts the bytes taken from each file (compressed bytes
    for .gz).
    """
    files = expand_paths(paths)
    before = 0 if store.is_empty() else store.count()
    start = time.monotonic()
    for path in files:
        rdf_format = format_of(path, format_name)
        if store.bulk_loads:
            with _opened(path, _reporter(progress, f"loading {path.name}", path)) as source:
                marked = _BlankMarks(source, rdf_format)
                try:
                    store.bulk_load_stream(marked, rdf_format, base_iri, graph)
                except RdfSyntaxError as error:
                    raise RdfSyntaxError(str(path), error.message, error.line, error.column) from None
                except _UNREADABLE as error:
                    raise RdfSyntaxError(str(path), f"cannot decompress: {error}") from None
            if marked.seen:
                store.skolemise_blank_nodes(genid_prefix(base_iri))
        else:
            with _opened(path, _reporter(progress, f"checking {path.name}", path)) as source:
                for _ in _parsed(source, path, rdf_format, base_iri):
                    pass
            names: dict[str, ox.NamedNode] = {}
            with _opened(path, _reporter(progress, f"loading {path.name}", path)) as source:
                for batch in _batched(_parsed(source, path, rdf_format, base_iri), _BATCH):
                    store.add(fresh(batch, genid_prefix(base_iri), names), graph)
    if store.bulk_loads:
        if notice is not None:
            notice("compacting the store's files after the load (2 to 4 s per million quads)")
        store.optimize()
    return LoadReport(len(files), store.count() - before, time.monotonic() - start)


def progress_bar(stream: IO[str] | None = None, *, unit: str = "MB", scale: float = 1e6) -> Progress:
    """A progress display: one terminal line, redrawn when its text changes; a line every 10 % when not a terminal."""
    out = stream if stream is not None else sys.stderr
    terminal = out.isatty()  # asked once, not at every report
    shown: dict[str, str] = {}

    def show(label: str, done: int, total: int) -> None:
        percent = min(100, int(100 * done / total)) if total else 100
        if terminal:
            text = f"\r{label}: {percent:3d}% ({done / scale:,.1f} of {total / scale:,.1f} {unit})"
            text += "\n" if done >= total else ""
        else:
            text = f"{label}: {percent // 10 * 10}%\n"
        if shown.get(label) != text:
            shown[label] = text
            out.write(text)
            out.flush()

    return show


def _reporter(progress: Progress | None, label: str, path: Path) -> Callable[[int], None]:
    if progress is None:
        return lambda done: None
    size = path.stat().st_size
    return lambda done: progress(label, done, size)


@contextmanager
def _opened(path: Path, report: Callable[[int], None]) -> Iterator[Readable]:
    """The file's bytes, decompressed for .gz; report counts the bytes taken from the file itself."""
    with open(path, "rb") as raw:
        counted = _Counting(raw, report)
        if path.suffix.lower() == ".gz":
            # GzipFile reading forward calls read() alone; typeshed asks for seek() too
            with gzip.GzipFile(fileobj=cast(IO[bytes], counted)) as unpacked:
                yield unpacked
        else:
            yield counted


def _parsed(source: Readable, path: Path, rdf_format: ox.RdfFormat, base_iri: str) -> Iterator[ox.Quad]:
    """The quads of a file, one at a time; errors name the file, line and column."""
    try:
        # pyoxigraph reads any object with read(); its stubs ask for IO[bytes]
        yield from ox.parse(cast(IO[bytes], source), format=rdf_format, base_iri=base_iri)
    except SyntaxError as error:
        message = (str(error).splitlines() or ["syntax error"])[0]
        raise RdfSyntaxError(str(path), message, error.lineno, error.offset) from None
    except _UNREADABLE as error:
        raise RdfSyntaxError(str(path), f"cannot decompress: {error}") from None
    except (OSError, ValueError) as error:
        raise RdfSyntaxError(str(path), str(error)) from None


def _batched(quads: Iterable[ox.Quad], size: int) -> Iterator[list[ox.Quad]]:
    iterator = iter(quads)
    while batch := list(itertools.islice(iterator, size)):
        yield batch

"""Bulk loading of RDF files into a store, with progress and a quads-per-second figure."""

import gzip
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import IO


from policykg.rdfinput import expand_paths, format_of, read_quads
from policykg.store import EmbeddedStore, Store

Progress = Callable[[str, int, int], None]
_BATCH = 50_000


@dataclass(frozen=True)
class LoadReport:
    """What a load did: files, quads added and the time it took."""

    files: int
    quads: int
    seconds: float

    @property
    def rate(self) -> float:
        """Quads loaded per second."""
        return self.quads / self.seconds if self.seconds > 0 else float("inf")


class _Counting:
    """A binary file object that reports how many bytes have been read from it."""

    def __init__(self, raw: IO[bytes], report: Callable[[int], None]) -> None:
        self._raw = raw
        self._report = report
        self._read = 0

    def read(self, size: int = -1) -> bytes:
        data = self._raw.read(size)
        self._read += len(data)
        self._report(self._read)
        return data

    def readinto(self, buffer: bytearray) -> int:
        data = self.read(len(buffer))
        buffer[: len(data)] = data
        return len(data)

    def readable(self) -> bool:
        return True


def load_files(store: Store, paths: list[Path], base_iri: str, graph: str, format_name: str | None = None,
               progress: Progress | None = None) -> LoadReport:
    """Load files into the store (the embedded store's bulk loader; batches for a remote one)."""
    files = expand_paths(paths)
    before = store.count()
    start = time.monotonic()
    for path in files:
        rdf_format = format_of(path, format_name)
        size = path.stat().st_size
        report = (lambda done, p=path, s=size: progress(p.name, done, s)) if progress else (lambda done: None)
        if isinstance(store, EmbeddedStore):
            # Progress counts the bytes taken from the file itself (compressed bytes for .gz).
            with open(path, "rb") as raw:
                counted = _Counting(raw, report)
                source = gzip.GzipFile(fileobj=counted) if path.suffix == ".gz" else counted  # type: ignore[arg-type]
                store.bulk_load_stream(source, rdf_format, base_iri, graph)
        else:
            quads = read_quads(path, base_iri, format_name)
            for offset in range(0, len(quads), _BATCH):
                store.add(quads[offset:offset + _BATCH], graph)
                report(int(size * min(1.0, (offset + _BATCH) / max(len(quads), 1))))
    if isinstance(store, EmbeddedStore):
        store.optimize()
    return LoadReport(len(files), store.count() - before, time.monotonic() - start)


def progress_bar(stream: IO[str] = sys.stderr) -> Progress:
    """A progress display on one terminal line (a line every 10 % when not a terminal)."""
    last: dict[str, int] = {}

    def show(name: str, done: int, total: int) -> None:
        percent = int(100 * done / total) if total else 100
        if stream.isatty():
            stream.write(f"\rloading {name}: {percent:3d}% ({done / 1e6:,.1f} of {total / 1e6:,.1f} MB)")
            if done >= total:
                stream.write("\n")
        elif percent // 10 != last.get(name, -1):
            last[name] = percent // 10
            stream.write(f"loading {name}: {percent}%\n")
        stream.flush()

    return show




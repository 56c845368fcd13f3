"""Downloads that follow a dump file while it is written: every byte of the whole file, the store dumped once."""

import gzip
import threading
import time

import pyoxigraph as ox
import pytest

from policykg.publish.dumpfiles import DumpFailed, Follower, Progress, Stage, write_dumps
from policykg.store import EmbeddedStore

B = "http://localhost:8000/"


def filled_store(count: int) -> EmbeddedStore:
    store = EmbeddedStore.in_memory()
    quads = [
        ox.Quad(
            ox.NamedNode(f"{B}id/test/thing-{n}"),
            ox.NamedNode("http://www.w3.org/2000/01/rdf-schema#label"),
            ox.Literal(f"thing number {n}, named at length so that the dump runs to many chunks"),
            ox.NamedNode(f"{B}graph/test-{n % 7}"),
        )
        for n in range(count)
    ]
    store.add(quads, B + "graph/test-0")
    return store


class Paced:
    """A store's own dump handed over a chunk at a time with a pause after each, as a large store's comes."""

    def __init__(self, store: EmbeddedStore, pause: float, fail: str | None = None) -> None:
        self.store, self.pause, self.fail = store, pause, fail

    def dump(self, syntax: str, sink) -> None:  # type: ignore[no-untyped-def]
        def paced(chunk: bytes) -> None:
            sink(chunk)
            time.sleep(self.pause)
            if syntax == self.fail:
                raise OSError("no space left on the device")

        self.store.dump(syntax, paced)


def follow(progress: Progress, name: str) -> tuple[bytes, int]:
    """Read a file to its end as a download does; its bytes, and how many of them came while it was written."""
    follower, read, early = Follower(progress, name), bytearray(), 0
    try:
        while (chunk := follower.read(1 << 16)) != b"":
            if chunk is None:
                time.sleep(0.001)
            else:
                read += chunk
                early += len(chunk) if progress.stage(name) is Stage.WRITING else 0
    finally:
        follower.close()
    return bytes(read), early


def test_downloads_that_follow_the_files_being_written_get_every_byte_of_each(tmp_path):
    store = filled_store(20_000)
    progress = Progress(tmp_path / "r1")
    followed: dict[str, tuple[bytes, int]] = {}
    readers = [
        threading.Thread(target=lambda name=name: followed.__setitem__(name, follow(progress, name)))
        for name in progress.paths
    ]
    for reader in readers:  # before the writing begins: each waits for its file
        reader.start()
    paths = write_dumps(Paced(store, 0.002), tmp_path / "r1", progress)  # type: ignore[arg-type]
    for reader in readers:
        reader.join(timeout=60)
    assert set(followed) == set(paths) == {"policykg.nq", "policykg.nq.gz", "policykg.trig"}
    for name, path in paths.items():
        data, early = followed[name]
        assert data == path.read_bytes() and 0 < early <= len(data)  # the whole file, read as it was written
    plain = followed["policykg.nq"][0]
    assert gzip.decompress(followed["policykg.nq.gz"][0]) == plain
    assert set(ox.parse(plain, format=ox.RdfFormat.N_QUADS)) == set(
        ox.parse(paths["policykg.trig"].read_bytes(), format=ox.RdfFormat.TRIG)
    )
    assert len(set(ox.parse(plain, format=ox.RdfFormat.N_QUADS))) == 20_000
    assert all(progress.stage(name) is Stage.WHOLE for name in paths)
    # one that comes once the files are whole and renamed reads them as they are
    assert follow(progress, "policykg.trig") == (paths["policykg.trig"].read_bytes(), 0)


def test_a_download_following_a_file_that_cannot_be_finished_ends_in_an_error_and_whole_ones_stay_readable(tmp_path):
    store = filled_store(5_000)
    progress = Progress(tmp_path / "r1")
    with pytest.raises(OSError, match="no space"):
        write_dumps(Paced(store, 0, fail="trig"), tmp_path / "r1", progress)  # type: ignore[arg-type]
    assert progress.stage("policykg.trig") is Stage.FAILED
    with pytest.raises(DumpFailed, match=r"policykg\.trig"):
        follow(progress, "policykg.trig")
    assert progress.stage("policykg.nq") is Stage.WHOLE  # written before the TriG failed
    plain = follow(progress, "policykg.nq")[0]
    assert len(set(ox.parse(plain, format=ox.RdfFormat.N_QUADS))) == 5_000
    assert not (tmp_path / "r1" / "policykg.trig").exists()  # no file of a dump's name is ever partial


def test_downloads_waiting_for_files_that_cannot_even_begin_end_in_an_error(tmp_path):
    (tmp_path / "taken").write_text("a file where the dumps' folder should be")
    progress = Progress(tmp_path / "taken" / "r1")
    with pytest.raises(OSError):
        write_dumps(filled_store(10), progress.folder, progress)
    for name in progress.paths:
        assert progress.stage(name) is Stage.FAILED
        with pytest.raises(DumpFailed):
            follow(progress, name)

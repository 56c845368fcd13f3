"""The store's table files merged once writes pause: noted across restarts, one compaction per pause, the
query workers moved to the merged files, answers unchanged. Real on-disk stores and worker processes."""

import time
from pathlib import Path

import httpx
import pytest
from conftest import TOKEN, start_service, stop

from policykg.model.files import load_model
from policykg.store import EmbeddedStore
from policykg.store.tablefiles import NOTE, PASSES, compact
from policykg.validation.incremental import ChangeValidator
from policykg.writing import compaction as compacting
from policykg.writing.compaction import Compaction, CompactionState
from policykg.writing.writer import Writer

B = "http://localhost:8000/"
EX = "http://example.org/"


def tables(folder: Path) -> set[str]:
    return {path.name for path in folder.glob("*.sst")}


def inodes(folder: Path) -> set[int]:
    """The table files' inodes: a checkpoint's hard links share the store's, a merged copy's files are its own."""
    return {path.stat().st_ino for path in folder.glob("*.sst")}


def merged_copy_served(folder: Path) -> bool:
    """Whether the newest snapshot is a merged copy of a store that small files of writes had made to merge:
    fewer table files than the store, some of them its own (a checkpoint hard-links the store's), none left over."""
    newest = inodes(max(folder.with_name(folder.name + ".snapshots").iterdir()))
    live = inodes(folder)
    merged = len(newest) < len(live) and bool(newest - live)
    return merged and not list(folder.parent.glob(folder.name + ".frozen-*"))


def insert(writer: Writer, number: int) -> None:
    writer.update(f"INSERT DATA {{ GRAPH <{EX}g> {{ <{EX}s{number}> <{EX}p> {number} }} }}", B)


def values(store: EmbeddedStore) -> list[str]:
    """The objects written by insert(), read the way queries go: through a query worker."""
    sink = bytearray()
    store.query(f"SELECT ?o WHERE {{ ?s <{EX}p> ?o }} ORDER BY ?o", sink=sink.extend, format_name="csv")
    return bytes(sink).decode().split()[1:]


def wait_for(compaction: Compaction, runs: int, seconds: float = 60, settle: bool = True) -> CompactionState:
    """The state once that many merges were made or tried (and, if settle, none is due or running)."""
    deadline = time.monotonic() + seconds
    while (state := compaction.state) is not None and (state.runs < runs or state.running or (settle and state.due)):
        assert time.monotonic() < deadline, f"no compaction number {runs} within {seconds} s: {state}"
        time.sleep(0.05)
    assert state is not None
    return state


@pytest.fixture
def written(tmp_path, settings, shapes, ontology):  # type: ignore[no-untyped-def]
    """An on-disk store with the model and one query worker, and its writer."""
    store = EmbeddedStore.on_disk(tmp_path / "store", query_workers=1)
    load_model(store, settings)
    writer = Writer(store, ChangeValidator(shapes, ontology), B)
    for number in (-2, -1):  # small files over the model's: something to merge
        insert(writer, number)
    yield store, writer
    store.close()


def test_a_write_the_workers_see_leaves_files_to_merge_and_a_compaction_notes_them_across_restarts(tmp_path):
    folder = tmp_path / "store"
    store = EmbeddedStore.on_disk(folder, query_workers=1)
    assert store.compacted() is False  # never compacted: no note
    store.optimize()
    assert store.compacted() is True
    assert (folder / NOTE).read_text().split() == sorted(tables(folder))
    store.update(f"INSERT DATA {{ GRAPH <{EX}g> {{ <{EX}s> <{EX}p> 1 }} }}")  # its snapshot writes new files
    assert store.compacted() is False
    store.optimize()
    assert store.compacted() is True
    store.close()
    del store  # lets go of the folder's lock
    again = EmbeddedStore.on_disk(folder, query_workers=1)
    assert again.compacted() is True and values(again) == ["1"]
    again.close()
    del again
    without_workers = EmbeddedStore.on_disk(folder)
    assert without_workers.compacted() is None  # no snapshots to serve a merged copy to
    without_workers.close()


def test_a_store_in_memory_has_no_files_to_merge(store, writer):
    assert store.compacted() is None
    compaction = Compaction(store, writer, 0.01)
    compaction.start()
    assert compaction.state is None
    compaction.close()


def test_a_merged_copy_is_served_once_after_a_pause_and_each_write_replaces_it(written):
    store, writer = written
    folder = store._folder
    compaction = Compaction(store, writer, 2.0)  # longer than any write here takes
    compaction.start()
    try:
        assert compaction.state == CompactionState(True, False, 0, None)  # the model's load left files to merge
        first = wait_for(compaction, 1)
        assert first.runs == 1 and first.last_seconds is not None
        assert merged_copy_served(folder)
        assert store.compacted() is False  # the store keeps its own files: only the copy is merged

        for number in range(5):  # five writes, none a pause long enough: one merge after them all
            insert(writer, number)
            assert compaction.state.due and not merged_copy_served(folder)  # the write's own snapshot
        assert compaction.state.runs == 1
        second = wait_for(compaction, 2)
        assert (second.runs, second.due) == (2, False) and merged_copy_served(folder)
        assert values(store) == ["-2", "-1", "0", "1", "2", "3", "4"]  # every write, through the worker, from the copy

        time.sleep(1.5)  # no write, no merge
        assert compaction.state.runs == 2
    finally:
        compaction.close()


def test_a_copy_that_a_write_overtook_is_dropped_and_the_next_pause_serves_one_with_the_write(written, monkeypatch):
    store, writer = written
    folder = store._folder
    merge = compacting.merge_files

    def merge_after_a_write(copy: Path) -> None:
        if compaction.state.runs == 0:
            insert(writer, 9)  # comes while the copy is merged: the copy lacks it
        merge(copy)

    monkeypatch.setattr(compacting, "merge_files", merge_after_a_write)
    compaction = Compaction(store, writer, 1.0)
    compaction.start()
    try:
        first = wait_for(compaction, 1, settle=False)
        assert first.runs == 1
        assert not merged_copy_served(folder) and "9" in values(store)  # the write's snapshot, not the stale copy
        assert not list(folder.parent.glob(folder.name + ".frozen-*"))  # the stale copy is gone
        second = wait_for(compaction, 2)
        assert second.runs == 2 and merged_copy_served(folder) and "9" in values(store)
    finally:
        compaction.close()


def test_closing_waits_for_a_compaction_under_way_and_starts_no_other(written):
    store, writer = written
    compaction = Compaction(store, writer, 0.0001)
    compaction.start()
    deadline = time.monotonic() + 30
    while not compaction.state.running and compaction.state.runs == 0:
        assert time.monotonic() < deadline
        time.sleep(0.001)
    compaction.close()
    closed = compaction.state
    assert (closed.running, closed.runs) == (False, 1) and merged_copy_served(store._folder)
    insert(writer, 7)
    time.sleep(0.2)
    assert compaction.state.runs == 1 and compaction.state.due


def test_the_service_merges_its_files_after_a_write_and_answers_the_same(tmp_path):
    process, url = start_service(
        tmp_path,
        POLICYKG_STORE=str(tmp_path / "store"),
        POLICYKG_QUERY_WORKERS="1",
        POLICYKG_UPDATE_TOKEN=TOKEN,
        POLICYKG_COMPACTION_PAUSE="0.5",
    )
    auth = {"Authorization": f"Bearer {TOKEN}"}
    try:
        first = ready_when_merged(url, 1)
        update = f"INSERT DATA {{ GRAPH <{EX}g> {{ <{EX}s> <{EX}p> 'merged' }} }}"
        assert httpx.post(url + "/sparql", data={"update": update}, headers=auth).status_code == 204
        second = ready_when_merged(url, first["runs"] + 1)
        assert second["runs"] == first["runs"] + 1 and second["last_seconds"] > 0
        answer = httpx.get(
            url + "/sparql",
            params={"query": f"SELECT ?o WHERE {{ <{EX}s> <{EX}p> ?o }}"},
            headers={"Accept": "application/sparql-results+json"},
        )
        assert [row["o"]["value"] for row in answer.json()["results"]["bindings"]] == ["merged"]
        assert merged_copy_served(tmp_path / "store")
    finally:
        stop(process)


def ready_when_merged(url: str, runs: int) -> dict:
    deadline = time.monotonic() + 60
    while True:
        state = httpx.get(url + "/ready", timeout=10).json()["compaction"]
        if state["runs"] >= runs and not state["due"] and not state["running"]:
            return state
        assert time.monotonic() < deadline, f"no compaction number {runs} within 60 s: {state}"
        time.sleep(0.1)


def test_a_copy_left_by_a_run_that_was_killed_mid_merge_is_removed_at_the_next_start(tmp_path):
    folder = tmp_path / "store"
    store = EmbeddedStore.on_disk(folder, query_workers=1)
    store.update(f"INSERT DATA {{ GRAPH <{EX}g> {{ <{EX}s> <{EX}p> 1 }} }}")
    left = store.merging_copy()  # as a run killed while merging it would leave it
    store.close()
    del store
    assert left.is_dir() and left.name.startswith("store.frozen-merging-")
    again = EmbeddedStore.on_disk(folder, query_workers=1)
    assert not left.exists() and values(again) == ["1"]
    again.close()


class _Layers:
    """A stand-in for a store whose compaction needs several passes (as a bulk load of ten million quads did):
    each pass but the last rewrites its table files; the passes it took are counted."""

    def __init__(self, folder: Path, rewriting_passes: int) -> None:
        self.folder, self.left, self.passes = folder, rewriting_passes, 0

    def optimize(self) -> None:
        self.passes += 1
        if self.left:
            self.left -= 1
            for old in self.folder.glob("*.sst"):
                old.unlink()
            (self.folder / f"{100 + self.passes:06d}.sst").write_bytes(b"")


@pytest.mark.parametrize(("rewriting", "passes"), [(0, 1), (1, 2), (2, 3), (5, PASSES)])
def test_compacting_goes_on_until_a_pass_changes_no_file(tmp_path, rewriting, passes):
    (tmp_path / "000001.sst").write_bytes(b"")
    layers = _Layers(tmp_path, rewriting)
    compact(layers, tmp_path)  # type: ignore[arg-type]
    assert layers.passes == passes

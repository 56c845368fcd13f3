"""Backups: a store backed up (offline, or from its running service amid submissions) and restored is the same
store, byte for byte; damaged backups and occupied destinations are refused, leaving nothing behind."""

import gzip
import json
import threading
import time
from pathlib import Path

import httpx
import pytest
from conftest import Service, start_service, stop
from consistency import Submission, audit_change_stream, audit_dump, audit_entries, meeting_entry, select, submission
from test_service_statistics import assert_documents_equal_a_full_recount

from policykg.cli import main
from policykg.config import Settings
from policykg.model.files import load_model
from policykg.publish.backupfiles import MANIFEST
from policykg.store import EmbeddedStore, RemoteStore

B = "http://localhost:8000/"
TOKEN = "backup-test-token"
PROV = "http://www.w3.org/ns/prov#"


def sorted_nquads(folder: Path) -> list[bytes]:
    """The quads of the store in folder as N-Quads lines, sorted; the store is closed (and let go of) again."""
    store = EmbeddedStore.on_disk(folder)
    chunks: list[bytes] = []
    try:
        store.dump("nquads", chunks.append)
    finally:
        store.close()
    return sorted(b"".join(chunks).splitlines())


def data_lines(dump: Path) -> list[bytes]:
    """The quads of a dump file (comments left out), sorted."""
    text = gzip.decompress(dump.read_bytes()) if dump.name.endswith(".gz") else dump.read_bytes()
    return sorted(line for line in text.splitlines() if not line.startswith(b"#"))


def names(folder: Path) -> set[str]:
    return {p.name for p in folder.iterdir()}


def data_files(store: Path) -> list[str]:
    """A store folder's files but RocksDB's information log (an attempt to open a held store rotates it)."""
    return sorted(p.name for p in store.iterdir() if not p.name.startswith("LOG"))


@pytest.fixture(scope="module")
def stored(tmp_path_factory) -> Path:
    """An on-disk store holding the model and the seed (blank nodes among them); no process holds it."""
    folder = tmp_path_factory.mktemp("stored") / "store"
    store = EmbeddedStore.on_disk(folder)
    try:
        load_model(store, Settings())
    finally:
        store.close()
    return folder


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    """A service over an on-disk store of its own (one query worker), taking entries; yields (folder, url)."""
    folder = tmp_path_factory.mktemp("served")
    process, url = start_service(
        folder, POLICYKG_STORE=str(folder / "store"), POLICYKG_QUERY_WORKERS="1", POLICYKG_UPDATE_TOKEN=TOKEN
    )
    try:
        yield folder, url
    finally:
        stop(process)


@pytest.mark.parametrize("kind", ["backup.nq.gz", "backup.nq", "checkpoint"])
def test_backup_and_restore_of_a_store_folder_give_the_same_quads_byte_for_byte(stored, tmp_path, capsys, kind):
    assert main(["backup", str(tmp_path / kind), "--store", str(stored)]) == 0
    assert main(["restore", str(tmp_path / kind), "--store", str(tmp_path / "restored")]) == 0
    said = capsys.readouterr().err
    original = sorted_nquads(stored)
    assert sorted_nquads(tmp_path / "restored") == original
    assert f"backed up {len(original):,} quads from {stored} to {tmp_path / kind}" in said
    assert f"restored {len(original):,} quads from {tmp_path / kind} into {tmp_path / 'restored'}" in said
    assert "note:" not in said  # the backup carries its own check
    assert names(tmp_path) == {kind, "restored"}  # nothing left beside


def test_backup_dump_states_its_quads_and_loads_elsewhere_as_plain_nquads(stored, tmp_path):
    assert main(["backup", str(tmp_path / "backup.nq"), "--store", str(stored)]) == 0
    lines = (tmp_path / "backup.nq").read_bytes().splitlines()
    original = sorted_nquads(stored)
    assert lines[0].startswith(b"# policykg backup of ")
    assert lines[-1].startswith(f"# policykg backup: {len(original)} quads, ended at ".encode())
    assert data_lines(tmp_path / "backup.nq") == original


def test_backup_of_a_remote_engine_restores_as_an_embedded_store_with_the_same_quads(
    oxigraph_server, tmp_path, monkeypatch
):
    engine = RemoteStore(
        oxigraph_server + "/query", update_url=oxigraph_server + "/update", store_url=oxigraph_server + "/store"
    )
    try:
        engine.update("DROP SILENT ALL")
        load_model(engine, Settings())
        chunks: list[bytes] = []
        engine.dump("nquads", chunks.append)
        monkeypatch.setenv("POLICYKG_REMOTE_UPDATE_URL", oxigraph_server + "/update")
        monkeypatch.setenv("POLICYKG_REMOTE_STORE_URL", oxigraph_server + "/store")
        assert main(["backup", str(tmp_path / "engine.nq.gz"), "--store", oxigraph_server + "/query"]) == 0
        assert main(["restore", str(tmp_path / "engine.nq.gz"), "--store", str(tmp_path / "restored")]) == 0
        assert sorted_nquads(tmp_path / "restored") == sorted(b"".join(chunks).splitlines())
    finally:
        engine.update("DROP SILENT ALL")
        engine.close()


def test_backup_while_serving_and_entries_arrive_restores_a_store_at_one_instant(served, tmp_path, capsys, settings):
    _, url = served
    submissions: list[Submission] = []
    acknowledged_at: dict[str, float] = {}
    stopping = threading.Event()

    def send() -> None:
        number = 5000
        with httpx.Client(timeout=30) as client:
            while not stopping.is_set():
                number += 1
                body = meeting_entry(B, number, participants=2)
                sent = submission(body, B)
                submissions.append(sent)
                response = client.post(
                    url + "/entries",
                    content=body.encode(),
                    headers={"Content-Type": "text/turtle", "Authorization": f"Bearer {TOKEN}"},
                )
                if response.status_code == 201:
                    sent.entry = response.json()["entry"]
                    acknowledged_at[sent.entry] = time.monotonic()

    sender = threading.Thread(target=send)
    sender.start()
    try:
        _wait_for(lambda: len(acknowledged_at) >= 4)
        started = time.monotonic()
        assert main(["backup", "--from-url", url, str(tmp_path / "live.nq.gz")]) == 0
        after = len(acknowledged_at)
        _wait_for(lambda: len(acknowledged_at) >= after + 2)  # entries went on being taken after the backup
    finally:
        stopping.set()
        sender.join()
    assert "backed up" in capsys.readouterr().err
    before = {entry for entry, at in acknowledged_at.items() if at < started}
    assert main(["restore", str(tmp_path / "live.nq.gz"), "--store", str(tmp_path / "restored")]) == 0

    process, restored_url = start_service(
        tmp_path, POLICYKG_STORE=str(tmp_path / "restored"), POLICYKG_QUERY_WORKERS="1", POLICYKG_UPDATE_TOKEN=TOKEN
    )
    try:
        # Entries acknowledged before the backup began must be there; later ones may be, but whole.
        expected = [s if s.entry in before else Submission(s.triples) for s in submissions]
        audit = audit_entries(restored_url, B, expected)
        assert audit.problems == []
        assert before <= set(audit.entries)
        assert audit_change_stream(restored_url, B, set(audit.entries)) == []
        assert audit_dump(restored_url) == []
        restored_dump = httpx.get(restored_url + "/dumps/policykg.nq", timeout=60).content
        assert sorted(restored_dump.splitlines()) == data_lines(tmp_path / "live.nq.gz")
        assert_documents_equal_a_full_recount(Service(restored_url, TOKEN), settings)  # VoID, DCAT: counted anew
        # The change stream goes on after the restored entries: a new entry is stamped after all of them.
        response = httpx.post(
            restored_url + "/entries",
            content=meeting_entry(B, 9000).encode(),
            timeout=30,
            headers={"Content-Type": "text/turtle", "Authorization": f"Bearer {TOKEN}"},
        )
        assert response.status_code == 201
        newest = select(
            restored_url,
            f"SELECT ?e WHERE {{ GRAPH <{B}graph/entries> {{ ?e <{PROV}generatedAtTime> ?t "
            "} } ORDER BY DESC(?t) LIMIT 1",
        )
        assert newest[0][0].value == response.json()["entry"]
    finally:
        stop(process)


def test_backup_of_a_store_folder_a_service_holds_is_refused_pointing_to_the_online_way(served, tmp_path, capsys):
    folder, _ = served
    assert main(["backup", str(tmp_path / "held.nq.gz"), "--store", str(folder / "store")]) == 2
    said = capsys.readouterr().err
    assert "is in use by another process" in said
    assert "policykg backup --from-url http://127.0.0.1:8000/" in said
    assert "Traceback" not in said
    assert names(tmp_path) == set()


def test_restore_with_replace_refuses_the_store_a_service_holds(served, stored, tmp_path, capsys):
    folder, _ = served
    assert main(["backup", str(tmp_path / "backup.nq.gz"), "--store", str(stored)]) == 0
    before = data_files(folder / "store")
    assert main(["restore", str(tmp_path / "backup.nq.gz"), "--store", str(folder / "store"), "--replace"]) == 2
    assert "stop the service before restoring over its store" in capsys.readouterr().err
    assert data_files(folder / "store") == before
    assert names(folder) == {"store", "store.snapshots", "store.search", "store.sessions", "store.dumps", "serve.log"}


def test_backup_never_overwrites_a_file(stored, tmp_path, capsys):
    (tmp_path / "backup.nq.gz").write_bytes(b"earlier")
    assert main(["backup", str(tmp_path / "backup.nq.gz"), "--store", str(stored)]) == 2
    assert "exists already" in capsys.readouterr().err
    assert (tmp_path / "backup.nq.gz").read_bytes() == b"earlier"


@pytest.mark.parametrize("occupant", ["a file", "a store"])
def test_restore_refuses_a_destination_with_something_in_it_and_leaves_it_unchanged(stored, tmp_path, capsys, occupant):
    assert main(["backup", str(tmp_path / "backup.nq.gz"), "--store", str(stored)]) == 0
    destination = tmp_path / "destination"
    if occupant == "a file":
        destination.mkdir()
        (destination / "notes.txt").write_text("keep me")
    else:
        _store_with_one_quad(destination)
    before = {p.name: p.read_bytes() for p in destination.iterdir()}
    assert main(["restore", str(tmp_path / "backup.nq.gz"), "--store", str(destination)]) == 2
    assert "is not empty: restore into a new folder, or pass --replace" in capsys.readouterr().err
    assert {p.name: p.read_bytes() for p in destination.iterdir()} == before
    assert names(tmp_path) == {"backup.nq.gz", "destination"}


def test_restore_with_replace_puts_the_backup_in_place_of_a_store(stored, tmp_path):
    assert main(["backup", str(tmp_path / "backup.nq.gz"), "--store", str(stored)]) == 0
    _store_with_one_quad(tmp_path / "destination")
    assert main(["restore", str(tmp_path / "backup.nq.gz"), "--store", str(tmp_path / "destination"), "--replace"]) == 0
    assert sorted_nquads(tmp_path / "destination") == sorted_nquads(stored)
    assert names(tmp_path) == {"backup.nq.gz", "destination"}


def test_restore_with_replace_drops_the_full_text_index_of_the_replaced_store(stored, tmp_path, capsys):
    _store_with_one_quad(tmp_path / "destination")
    (tmp_path / "destination.search").mkdir()
    (tmp_path / "destination.search" / "state.json").write_text('{"quads": 1}', encoding="utf-8")
    assert main(["backup", str(tmp_path / "backup.nq.gz"), "--store", str(stored)]) == 0
    assert main(["restore", str(tmp_path / "backup.nq.gz"), "--store", str(tmp_path / "destination"), "--replace"]) == 0
    assert "removed the full-text index" in capsys.readouterr().err
    assert names(tmp_path) == {"backup.nq.gz", "destination"}


def test_restore_with_replace_refuses_a_folder_that_is_not_a_store(stored, tmp_path, capsys):
    assert main(["backup", str(tmp_path / "backup.nq.gz"), "--store", str(stored)]) == 0
    (tmp_path / "destination").mkdir()
    (tmp_path / "destination" / "notes.txt").write_text("keep me")
    assert main(["restore", str(tmp_path / "backup.nq.gz"), "--store", str(tmp_path / "destination"), "--replace"]) == 2
    assert "holds files that are not a store: it is not replaced" in capsys.readouterr().err
    assert (tmp_path / "destination" / "notes.txt").read_text() == "keep me"


def _cut_gzip(path: Path) -> None:
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])


def _flip_gzip_byte(path: Path) -> None:
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0xFF
    path.write_bytes(bytes(data))


def _cut_at_a_line_end(path: Path) -> None:
    lines = path.read_bytes().splitlines(keepends=True)
    path.write_bytes(b"".join(lines[: len(lines) // 2]))


def _cut_mid_line(path: Path) -> None:
    data = path.read_bytes()
    end = data.index(b"\n", len(data) // 2)
    path.write_bytes(data[: end - 5])


def _drop_a_line(path: Path) -> None:
    lines = path.read_bytes().splitlines(keepends=True)
    path.write_bytes(b"".join(lines[:10] + lines[11:]))


def _damage_a_checkpoint_file(path: Path) -> None:
    largest = max((p for p in path.iterdir() if p.name.endswith(".sst")), key=lambda p: p.stat().st_size)
    data = bytearray(largest.read_bytes())  # a copy: the checkpoint's files are hard links to the store's
    largest.unlink()
    data[len(data) // 3] ^= 0xFF
    largest.write_bytes(bytes(data))


DAMAGES = {
    "gzip cut short": ("backup.nq.gz", _cut_gzip, "is cut short or damaged: cannot decompress it"),
    # inflated to garbage: refused by the parser, or else by gzip's checksum at the end
    "gzip byte flipped": ("backup.nq.gz", _flip_gzip_byte, "cut short or damaged"),
    "cut at a line end": ("backup.nq", _cut_at_a_line_end, "lacks the last line its first line announces"),
    "cut mid-line": ("backup.nq", _cut_mid_line, "is not whole N-Quads (cut short or damaged?): line "),
    "a line dropped": ("backup.nq", _drop_a_line, "quads but"),
    "checkpoint file damaged": ("checkpoint", _damage_a_checkpoint_file, "differs from the checksum in its manifest"),
}


@pytest.mark.parametrize("damage", list(DAMAGES))
def test_restore_refuses_a_damaged_backup_and_leaves_nothing(stored, tmp_path, capsys, damage):
    name, spoil, message = DAMAGES[damage]
    assert main(["backup", str(tmp_path / name), "--store", str(stored)]) == 0
    spoil(tmp_path / name)
    capsys.readouterr()
    assert main(["restore", str(tmp_path / name), "--store", str(tmp_path / "restored")]) == 2
    said = capsys.readouterr().err
    assert message in said
    assert "Traceback" not in said
    assert names(tmp_path) == {name}  # no store, no half-restored folder beside


def test_restore_of_a_plain_dump_without_its_mark_says_it_could_not_check_it(stored, tmp_path, capsys):
    (tmp_path / "foreign.nq").write_bytes(b"\n".join(sorted_nquads(stored)) + b"\n")
    assert main(["restore", str(tmp_path / "foreign.nq"), "--store", str(tmp_path / "restored")]) == 0
    assert "note: " in capsys.readouterr().err
    assert sorted_nquads(tmp_path / "restored") == sorted_nquads(stored)


def test_checkpoint_manifest_lists_its_quads_and_files(stored, tmp_path):
    assert main(["backup", str(tmp_path / "checkpoint"), "--store", str(stored)]) == 0
    manifest = json.loads((tmp_path / "checkpoint" / MANIFEST).read_text())
    assert manifest["quads"] == len(sorted_nquads(stored))
    assert set(manifest["files"]) == names(tmp_path / "checkpoint") - {MANIFEST}


def _store_with_one_quad(folder: Path) -> None:
    store = EmbeddedStore.on_disk(folder)
    try:
        store.update(f"INSERT DATA {{ GRAPH <{B}graph/other> {{ <{B}id/a> <{B}p> 'a' }} }}")
    finally:
        store.close()


def _wait_for(condition, seconds: float = 60) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "the service did not take entries in time"
        time.sleep(0.05)

"""Contributors' sessions: signed-in ones kept in a file that holds no usable secret, visitors' in memory."""

import time

from policykg.web.sessions import Sessions

ALICE = "http://localhost:8000/id/agent/alice"


def test_a_signed_in_session_is_found_again_by_another_process_reading_the_same_file(tmp_path):
    path = tmp_path / "store.sessions"
    started = Sessions(path=path).start(ALICE)
    found = Sessions(path=path).get(started.id)  # as after a restart, or in another server process
    assert found == started


def test_the_file_holds_neither_the_session_id_nor_anything_that_opens_it(tmp_path):
    path = tmp_path / "store.sessions"
    started = Sessions(path=path).start(ALICE)
    content = path.read_bytes()
    assert started.id.encode() not in content
    assert path.stat().st_mode & 0o777 == 0o600
    assert Sessions(path=path).get("not-" + started.id) is None


def test_signing_out_removes_the_session_from_the_file(tmp_path):
    path = tmp_path / "store.sessions"
    sessions = Sessions(path=path)
    started = sessions.start(ALICE)
    sessions.end(started.id)
    assert Sessions(path=path).get(started.id) is None
    assert _rows(path) == 0


def test_an_expired_session_opens_nothing_and_is_purged_when_another_starts(tmp_path):
    path = tmp_path / "store.sessions"
    old = Sessions(lifetime=0.05, path=path).start(ALICE)
    time.sleep(0.1)
    assert Sessions(path=path).get(old.id) is None
    Sessions(path=path).start(ALICE)
    assert _rows(path) == 1


def test_a_visitors_session_before_sign_in_is_kept_in_memory_only(tmp_path):
    path = tmp_path / "store.sessions"
    sessions = Sessions(path=path)
    visitor = sessions.start()
    assert sessions.get(visitor.id) == visitor
    assert _rows(path) == 0 and Sessions(path=path).get(visitor.id) is None


def test_without_a_file_sessions_live_in_memory():
    sessions = Sessions()
    started = sessions.start(ALICE)
    assert sessions.get(started.id) == started
    sessions.end(started.id)
    assert sessions.get(started.id) is None


def _rows(path) -> int:
    import sqlite3

    with sqlite3.connect(path) as db:
        return db.execute("SELECT COUNT(*) FROM session").fetchone()[0]

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
    content = b"".join(p.read_bytes() for p in tmp_path.iterdir())  # with SQLite's log beside the file
    assert started.id.encode() not in content and started.csrf.encode() in content
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


def test_a_visitors_session_before_sign_in_is_shared_too_and_opens_no_sign_in(tmp_path):
    path = tmp_path / "store.sessions"
    visitor = Sessions(path=path).start()
    found = Sessions(path=path).get(visitor.id)  # a form loaded from one process, posted to another
    assert found == visitor and found.agent is None
    assert _rows(path) == 1


def test_the_visitors_kept_are_bounded_and_the_newest_stay(tmp_path, monkeypatch):
    import policykg.web.sessions as sessions_module

    monkeypatch.setattr(sessions_module, "_MAX_SESSIONS", 5)
    path = tmp_path / "store.sessions"
    sessions = Sessions(path=path)
    alice = sessions.start(ALICE)
    visitors = [sessions.start() for _ in range(8)]
    assert _rows(path) == 6  # five visitors and Alice, whom no visitor pushes out
    assert sessions.get(alice.id) == alice
    assert [sessions.get(v.id) is not None for v in visitors] == [False] * 3 + [True] * 5


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

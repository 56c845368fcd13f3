"""A contributor's session survives a restart of the service (a real server, stopped and started on one folder),
and neither the token nor the session id is ever logged."""

import re
import sqlite3
import time

import httpx
from conftest import SERVICE_SETTINGS, start_service, stop


def test_a_signed_in_contributor_stays_signed_in_across_a_restart(tmp_path):
    settings = {**SERVICE_SETTINGS, "POLICYKG_STORE": str(tmp_path / "store"), "POLICYKG_QUERY_WORKERS": "0"}
    process, url = start_service(tmp_path, **settings)
    try:
        with httpx.Client(base_url=url, timeout=60) as browser:
            csrf = re.search(r'name="csrf" value="([^"]+)"', browser.get("/signin").text).group(1)
            signed = browser.post("/signin", data={"csrf": csrf, "token": "contributor-token-alice", "next": "/"})
            assert signed.status_code == 303
            cookie = browser.cookies["policykg_session"]
    finally:
        stop(process)
    assert_not_logged(tmp_path, "/signin", cookie)
    assert (tmp_path / "store.sessions").is_file()
    assert cookie.encode() not in (tmp_path / "store.sessions").read_bytes()
    process, url = start_service(tmp_path, **settings)
    try:
        with httpx.Client(base_url=url, timeout=60, cookies={"policykg_session": cookie}) as browser:
            page = browser.get("/contribute")
            assert "Signed in as" in page.text and "alice" in page.text
            csrf = re.search(r'name="csrf" value="([^"]+)"', page.text).group(1)
            assert browser.post("/signout", data={"csrf": csrf}).status_code == 303
        with httpx.Client(base_url=url, timeout=60, cookies={"policykg_session": cookie}) as replay:
            assert "Signed in as" not in replay.get("/contribute").text  # the old cookie opens nothing now
    finally:
        stop(process)
    assert_not_logged(tmp_path, "/signout", cookie)


def test_an_expired_session_is_refused_and_the_file_holds_neither_cookie_nor_token(tmp_path):
    settings = {**SERVICE_SETTINGS, "POLICYKG_STORE": str(tmp_path / "store"), "POLICYKG_QUERY_WORKERS": "0"}
    sessions = tmp_path / "store.sessions"
    process, url = start_service(tmp_path, **settings)
    try:
        cookies = []
        for token in ("contributor-token-alice", "contributor-token-bob"):
            with httpx.Client(base_url=url, timeout=60) as browser:
                csrf = re.search(r'name="csrf" value="([^"]+)"', browser.get("/signin").text).group(1)
                browser.post("/signin", data={"csrf": csrf, "token": token, "next": "/"})
                cookies.append(browser.cookies["policykg_session"])
        content = sessions.read_bytes() + _sidecars(sessions)
        for secret in (*cookies, "contributor-token-alice", "contributor-token-bob"):
            assert secret.encode() not in content
        # Alice's working day is over (her row says so); Bob's is not.
        with sqlite3.connect(sessions) as db:
            (alice_csrf,) = db.execute("SELECT csrf FROM session WHERE agent LIKE '%/alice'").fetchone()
            db.execute("UPDATE session SET expires = ? WHERE agent LIKE '%/alice'", (time.time() - 1,))
        alice = {"Cookie": f"policykg_session={cookies[0]}"}
        page = httpx.get(url + "/contribute", headers=alice)
        assert "Signed in as" not in page.text and cookies[0] not in page.headers["set-cookie"]  # a new visitor's
        form = {"csrf": alice_csrf, "type": "Organisation", "action": "submit", "label": "Expired 75999"}
        refused = httpx.post(url + "/contribute/new", data=form, headers={**alice, "Accept": "application/json"})
        assert refused.status_code == 403  # with its own CSRF token, an expired session's cookie opens nothing
        with httpx.Client(base_url=url, timeout=60, cookies={"policykg_session": cookies[1]}) as bob:
            assert "Signed in as <strong>bob</strong>" in bob.get("/contribute").text
            csrf = re.search(r'name="csrf" value="([^"]+)"', bob.get("/signin").text).group(1)
            assert bob.post("/signin", data={"csrf": csrf, "token": "contributor-token-bob"}).status_code == 303
        # Signing in again started a new session and purged the expired one; a signed-in row ends on sign-in.
        with sqlite3.connect(sessions) as db:
            agents = [a.rsplit("/", 1)[-1] for (a,) in db.execute("SELECT agent FROM session WHERE agent != ''")]
        assert agents == ["bob"]
    finally:
        stop(process)


def _sidecars(path) -> bytes:
    """What SQLite may keep beside its file while it writes (a journal, a write-ahead log)."""
    found = b""
    for ending in ("-journal", "-wal"):
        side = path.with_name(path.name + ending)
        if side.exists():
            found += side.read_bytes()
    return found


def test_two_server_processes_share_the_sessions_file(tmp_path):
    settings = {**SERVICE_SETTINGS, "POLICYKG_STORE": "memory", "POLICYKG_SESSIONS_FILE": str(tmp_path / "shared")}
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    first, one = start_service(tmp_path / "a", **settings)
    try:
        second, two = start_service(tmp_path / "b", **settings)
        try:
            # The sign-in form from one process, posted to the other: the visitor's session (its CSRF) is shared.
            form = httpx.get(one + "/signin")
            visitor = form.cookies["policykg_session"]
            csrf = re.search(r'name="csrf" value="([^"]+)"', form.text).group(1)
            signed = httpx.post(
                two + "/signin",
                data={"csrf": csrf, "token": "contributor-token-alice", "next": "/contribute"},
                cookies={"policykg_session": visitor},
            )
            assert signed.status_code == 303
            cookie = signed.cookies["policykg_session"]
            assert cookie != visitor  # a new id on sign-in
            page = httpx.get(one + "/contribute", cookies={"policykg_session": cookie})
            assert "Signed in as <strong>alice</strong>" in page.text
            # Signing out on one ends the session on both.
            csrf = re.search(r'name="csrf" value="([^"]+)"', page.text).group(1)
            assert httpx.post(one + "/signout", data={"csrf": csrf}, cookies={"policykg_session": cookie}).is_redirect
            assert "Signed in as" not in httpx.get(two + "/contribute", cookies={"policykg_session": cookie}).text
        finally:
            stop(second)
    finally:
        stop(first)


def assert_not_logged(folder, path: str, cookie: str) -> None:
    """The token went in a form's body, the session id in a cookie: neither is ever logged (nor in an address)."""
    log = (folder / "serve.log").read_text(encoding="utf-8")
    assert f'"path": "{path}"' in log  # the request is in the log, without them
    assert "contributor-token-alice" not in log and cookie not in log

"""Sessions for people who contribute through forms: signed in once with their token, then a cookie.

The cookie holds a random session id and nothing else: the token stays on the server's side of the sign-in
form and is never stored, echoed or logged. Each session has a CSRF token that every form POST must carry
(SameSite=Strict already keeps other sites' forms from sending the cookie; the token is the second lock).

Sessions are kept in a small SQLite file beside the store (settings: sessions_file), so that a restart signs
nobody out and several server processes share them: a visitor's session too (made by the first visit to a form,
to hold its CSRF token), so that a form loaded from one process can be posted to another, or after a restart.
The file holds a hash of each session id, never the id (the cookie's value) nor the token, so a copy of it opens
no session. Signing out deletes the session's row at once; expired rows are purged as sessions start, and the
visitors' rows are kept to a bounded number. Over the in-memory store, sessions live in memory.
"""

import contextlib
import hashlib
import hmac
import os
import secrets
import sqlite3
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from starlette.requests import Request
from starlette.responses import Response

from policykg.errors import FormRefused, NotSignedIn

COOKIE = "policykg_session"
LIFETIME_SECONDS = 8 * 3600  # a working day; then the person signs in again
_MAX_SESSIONS = 10_000  # anonymous sessions are made by every visit to a form: keep their number bounded


@dataclass(frozen=True)
class Session:
    """One browser's session: its id (the cookie), the agent signed in (None before), its CSRF token, its end."""

    id: str
    agent: str | None
    csrf: str
    expires: float


class Sessions:
    """The open sessions, by id: in the file (if any), else in memory; thread-safe, and shared by processes."""

    def __init__(self, lifetime: float = LIFETIME_SECONDS, path: Path | None = None) -> None:
        self._lifetime = lifetime
        self._open: dict[str, Session] = {}
        self._lock = threading.Lock()
        self._path = path
        if path is not None:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.touch(mode=0o600, exist_ok=True)
            with self._file() as db:
                # agent '' is a visitor who has not signed in (a file of an earlier version holds no visitor).
                db.execute(
                    "CREATE TABLE IF NOT EXISTS session (id_hash TEXT PRIMARY KEY, agent TEXT NOT NULL, "
                    "csrf TEXT NOT NULL, expires REAL NOT NULL)"
                )
                db.execute("CREATE INDEX IF NOT EXISTS session_expires ON session (expires)")
            with contextlib.closing(sqlite3.connect(os.fspath(path), timeout=10)) as db:
                # Readers never wait for a writer, and a commit needs no sync of its own (the log is synced
                # at checkpoints): what a lost session costs is a new sign-in, not worth a disk flush per visit.
                db.execute("PRAGMA journal_mode=WAL")

    def start(self, agent: str | None = None) -> Session:
        """A new session (new id, new CSRF token), for an agent or for a visitor not yet signed in."""
        now = time.time()
        session = Session(secrets.token_urlsafe(32), agent, secrets.token_urlsafe(32), now + self._lifetime)
        if self._path is not None:
            with self._file() as db:
                db.execute("DELETE FROM session WHERE expires <= ?", (now,))
                db.execute(
                    "INSERT INTO session VALUES (?, ?, ?, ?)",
                    (_hashed(session.id), agent or "", session.csrf, session.expires),
                )
                if agent is None:  # visits to a form make these: the newest are kept
                    db.execute(
                        "DELETE FROM session WHERE agent = '' AND id_hash NOT IN "
                        "(SELECT id_hash FROM session WHERE agent = '' ORDER BY expires DESC LIMIT ?)",
                        (_MAX_SESSIONS,),
                    )
            return session
        with self._lock:
            if len(self._open) >= _MAX_SESSIONS:
                self._open = {k: s for k, s in self._open.items() if s.expires > now}
                if len(self._open) >= _MAX_SESSIONS:  # still full: the oldest anonymous ones go first
                    anonymous = sorted((s.expires, k) for k, s in self._open.items() if s.agent is None)
                    for _, key in anonymous[: len(anonymous) // 2 + 1]:
                        del self._open[key]
            self._open[session.id] = session
        return session

    def get(self, session_id: str | None) -> Session | None:
        """The open session of that id; None for an unknown, ended or expired one."""
        if not session_id:
            return None
        now = time.time()
        if self._path is not None:
            with self._file() as db:
                row = db.execute(
                    "SELECT agent, csrf, expires FROM session WHERE id_hash = ? AND expires > ?",
                    (_hashed(session_id), now),
                ).fetchone()
            return None if row is None else Session(session_id, row[0] or None, row[1], row[2])
        with self._lock:
            session = self._open.get(session_id)
            if session is not None and session.expires <= now:
                del self._open[session_id]
                return None
        return session

    def end(self, session_id: str | None) -> None:
        """End a session on the server: its cookie no longer opens anything."""
        if self._path is not None:
            if session_id:
                with self._file() as db:
                    db.execute("DELETE FROM session WHERE id_hash = ?", (_hashed(session_id),))
            return
        with self._lock:
            self._open.pop(session_id or "", None)

    @contextlib.contextmanager
    def _file(self) -> Iterator[sqlite3.Connection]:
        """A connection to the sessions' file, committed and closed after use (each thread its own)."""
        assert self._path is not None
        db = sqlite3.connect(os.fspath(self._path), timeout=10)
        try:
            db.execute("PRAGMA synchronous=NORMAL")
            with db:  # one transaction: committed, or rolled back on an error
                yield db
        finally:
            db.close()


def _hashed(session_id: str) -> str:
    """What the file keeps of a session id: its SHA-256 (the id is 256 random bits: no salt is needed)."""
    return hashlib.sha256(session_id.encode("ascii", "replace")).hexdigest()


def current(sessions: Sessions, request: Request) -> Session | None:
    """The request's session, from its cookie, if it is open."""
    return sessions.get(request.cookies.get(COOKIE))


def checked(sessions: Sessions, request: Request, form_token: str | None) -> Session:
    """The session of a form POST whose CSRF token matches it; 403 otherwise, before anything is done."""
    session = current(sessions, request)
    if session is None or not form_token or not hmac.compare_digest(form_token.encode(), session.csrf.encode()):
        raise FormRefused("the form did not carry this session's CSRF token: reload the form and send it again")
    return session


def signed_in(session: Session) -> str:
    """The agent of a signed-in session; 401 for a visitor who has not signed in."""
    if session.agent is None:
        raise NotSignedIn("sign in with your token at /signin first")
    return session.agent


def set_cookie(response: Response, request: Request, session: Session) -> None:
    """Give the browser the session's cookie: HttpOnly, SameSite=Strict, Secure when the request came over https."""
    response.set_cookie(
        COOKIE,
        session.id,
        max_age=int(session.expires - time.time()),
        path="/",
        httponly=True,
        samesite="strict",
        # Behind a proxy, uvicorn sets the scheme from X-Forwarded-Proto of the proxies it trusts.
        secure=request.url.scheme == "https",
    )


def clear_cookie(response: Response, request: Request) -> None:
    """Tell the browser to forget the session's cookie."""
    response.delete_cookie(COOKIE, path="/", httponly=True, samesite="strict", secure=request.url.scheme == "https")

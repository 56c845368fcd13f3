"""Crash rounds: a serving policykg killed (SIGKILL, with its query workers) amid entry submissions, restarted, audited.

Shared by tests/test_crash.py (a few rounds) and benchmarks/crash_loop.py (twenty or more).
"""

import itertools
import os
import random
import shutil
import signal
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import httpx
import pyoxigraph as ox
from conftest import launch_service, start_service, stop
from consistency import (
    Submission,
    audit_change_stream,
    audit_dump,
    audit_entries,
    audit_model,
    meeting_entry,
    settle,
    submission,
)

from policykg.config import Settings

B = "http://localhost:8000/"


@dataclass
class Round:
    """What one round saw: its entries acknowledged before the kill, those in flight at it, and the audits."""

    acknowledged: int
    in_flight: int
    kept: int  # in-flight entries the restarted store holds (whole), since the 201 never came
    stored: int  # entries in the store after the restart, from every round so far
    killed_after: float  # seconds after the round's first 201
    restart_seconds: float
    problems: list[str]


class CrashedService:
    """A service over an on-disk store, sent entries from several threads and killed once per round."""

    def __init__(self, folder: Path, env: dict[str, str], senders: int = 3, seed: int | None = None) -> None:
        self.folder = folder
        self.env = env
        self.token = env["POLICYKG_UPDATE_TOKEN"]
        self.senders = senders
        self.rng = random.Random(seed)
        self.submissions: list[Submission] = []
        self._numbers = itertools.count(1000)  # series numbers: the seed's meeting is number 11
        self._lock = threading.Lock()
        self.process, self.url = start_service(folder, **env)

    def round(self, spread: float, participants: int = 3) -> Round:
        """Submit until a random moment within `spread` s after the first 201, SIGKILL, restart, audit."""
        sent, refusals, pause = self._submit_and_kill(spread, participants)
        acknowledged = sum(1 for s in sent if s.entry)
        started = time.monotonic()
        self.process, self.url = start_service(self.folder, **self.env)
        restart = time.monotonic() - started
        audit = audit_entries(self.url, B, self.submissions)
        kept = settle(self.submissions, audit)
        problems = (
            refusals + audit.problems + audit_change_stream(self.url, B, set(audit.entries)) + audit_dump(self.url)
        )
        return Round(acknowledged, len(sent) - acknowledged, kept, len(audit.entries), pause, restart, problems)

    def _submit_and_kill(self, spread: float, participants: int) -> tuple[list[Submission], list[str], float]:
        """Send from several threads; kill the server within `spread` s of the first 201; return what was sent."""
        sent: list[Submission] = []
        refusals: list[str] = []
        stopping = threading.Event()
        threads = [
            threading.Thread(target=self._send, args=(sent, refusals, stopping, participants))
            for _ in range(self.senders)
        ]
        for thread in threads:
            thread.start()
        deadline = time.monotonic() + 30
        while not any(s.entry for s in sent) and time.monotonic() < deadline:
            time.sleep(0.01)
        pause = self.rng.uniform(0, spread)
        time.sleep(pause)
        os.killpg(self.process.pid, signal.SIGKILL)  # the server and its query workers, at once
        self.process.wait()
        stopping.set()
        for thread in threads:
            thread.join()
        return sent, refusals, pause

    def close(self) -> None:
        """Stop the service (a clean shutdown)."""
        stop(self.process)

    def _send(self, sent: list[Submission], refusals: list[str], stopping: threading.Event, participants: int) -> None:
        """Send new entries one after another until the server is gone; note each before it is sent."""
        headers = {"Content-Type": "text/turtle", "Authorization": f"Bearer {self.token}"}
        with httpx.Client(timeout=30) as client:
            while not stopping.is_set():
                with self._lock:
                    number = next(self._numbers)
                body = meeting_entry(B, number, participants)
                pending = submission(body, B)
                with self._lock:
                    sent.append(pending)
                    self.submissions.append(pending)
                try:
                    response = client.post(self.url + "/entries", content=body.encode("utf-8"), headers=headers)
                except httpx.ConnectError:  # never reached the server: not in flight
                    with self._lock:
                        sent.remove(pending)
                        self.submissions.remove(pending)
                    return
                except httpx.TransportError:
                    return
                if response.status_code == 201:
                    pending.entry = response.json()["entry"]
                else:
                    refusals.append(f"a valid entry got {response.status_code}: {response.text[:200]}")


def kill_first_start(folder: Path, env: dict[str, str], delay: float) -> tuple[int, list[str]]:
    """Start the service on a new store, SIGKILL it `delay` s after it opened the store (perhaps mid-way through
    loading the model), and restart it: return the quads the kill left and how the restarted store differs from
    the model (nothing, whether the kill left the whole model or none of it)."""
    store = Path(env["POLICYKG_STORE"])
    for path in (store, store.with_name(store.name + ".snapshots")):
        shutil.rmtree(path, ignore_errors=True)
    process, _ = launch_service(folder, **env)
    deadline = time.monotonic() + 60
    while not store.exists() and process.poll() is None and time.monotonic() < deadline:
        time.sleep(0.002)
    time.sleep(delay)
    os.killpg(process.pid, signal.SIGKILL)
    process.wait()
    left = len(ox.Store(str(store)))  # nobody holds the store now; released at once (no other reference)
    process, url = start_service(folder, **env)
    try:
        return left, audit_model(url, Settings())
    finally:
        stop(process)

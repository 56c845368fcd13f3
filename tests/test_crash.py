"""Crash safety: a server killed (SIGKILL) amid submissions keeps every acknowledged entry whole, and no other;
after the restart its change stream, its dump and its VoID and DCAT figures agree with its store."""

import shutil

import httpx
import pytest
from conftest import Service, start_service, stop
from consistency import Submission, audit_change_stream, audit_entries, audit_model, meeting_entry, submission
from crashing import B, CrashedService
from test_service_statistics import assert_documents_equal_a_full_recount

TOKEN = "crash-test-token"


@pytest.fixture(scope="module")
def crashed(tmp_path_factory):
    """A service over a fresh on-disk store (one query worker), sent entries by two threads."""
    folder = tmp_path_factory.mktemp("crash")
    env = {"POLICYKG_STORE": str(folder / "store"), "POLICYKG_UPDATE_TOKEN": TOKEN, "POLICYKG_QUERY_WORKERS": "1"}
    service = CrashedService(folder, env, senders=2, seed=8)
    yield service
    service.close()


def test_sigkill_amid_submissions_keeps_acknowledged_entries_whole_and_the_ldes_and_dump_in_step(crashed):
    rounds = [crashed.round(spread=1.0) for _ in range(3)]
    assert [r.problems for r in rounds] == [[], [], []]
    assert sum(r.acknowledged for r in rounds) > 0
    # Every acknowledged entry, and every in-flight one the store kept, is there once and nothing else is.
    assert rounds[-1].stored == sum(r.acknowledged + r.kept for r in rounds)


def test_after_sigkill_amid_submissions_and_a_restart_void_and_dcat_equal_a_full_recount(crashed, settings):
    assert crashed.round(spread=1.0).problems == []
    assert_documents_equal_a_full_recount(Service(crashed.url, TOKEN), settings)


def test_sigkill_amid_grouped_submissions_from_many_clients_keeps_each_entry_whole_or_absent(tmp_path):
    # Eight senders at once: entries are committed in groups (writing/grouping.py), and a kill may fall inside one.
    env = {"POLICYKG_STORE": str(tmp_path / "store"), "POLICYKG_UPDATE_TOKEN": TOKEN, "POLICYKG_QUERY_WORKERS": "1"}
    service = CrashedService(tmp_path, env, senders=8, seed=12)
    try:
        rounds = [service.round(spread=1.0) for _ in range(2)]
        assert [r.problems for r in rounds] == [[], []]
        assert sum(r.acknowledged for r in rounds) > 0
        assert rounds[-1].stored == sum(r.acknowledged + r.kept for r in rounds)
    finally:
        service.close()


def test_audits_report_a_lost_an_invalid_and_an_unknown_entry(crashed):
    body = meeting_entry(B, 900)
    response = httpx.post(
        crashed.url + "/entries",
        content=body.encode(),
        timeout=30,
        headers={"Content-Type": "text/turtle", "Authorization": f"Bearer {TOKEN}"},
    )
    assert response.status_code == 201
    entry = response.json()["entry"]
    refused = submission(body, B, valid=False)  # as if the service had refused it
    lost = Submission(frozenset({f"<{B}id/event/never-stored> <{B}p> <{B}o>"}), entry=B + "entries/never-stored")
    others = frozenset(audit_entries(crashed.url, B, []).entries) - {entry}
    assert sorted(audit_entries(crashed.url, B, [refused, lost], earlier=others).problems) == [
        f"<{entry}> holds an invalid submission",
        f"<{B}entries/never-stored>, acknowledged, is not in the store",
    ]
    assert audit_change_stream(crashed.url, B, set(others)) == [
        f"<{entry}> is in the change stream but not in the store"
    ]


def test_a_first_start_stopped_part_way_leaves_no_partial_model(tmp_path, settings):
    # A start that stops while it loads the model (killed, or here a shapes file it cannot read) once left the
    # ontology alone in the store; later starts saw a store that was not empty and never loaded the rest.
    root = tmp_path / "model"
    for part in ("ontology", "shapes", "data"):
        shutil.copytree(settings.root / part, root / part)
    shapes = root / "shapes" / "policykg.ttl"
    readable = shapes.read_text(encoding="utf-8")
    shapes.write_text(readable + "\nthis is not Turtle", encoding="utf-8")
    env = {"POLICYKG_STORE": str(tmp_path / "store"), "POLICYKG_ROOT": str(root), "POLICYKG_QUERY_WORKERS": "1"}
    with pytest.raises(RuntimeError, match="exited with status 2"):
        start_service(tmp_path, **env)
    assert "cannot read" in (tmp_path / "serve.log").read_text()
    shapes.write_text(readable, encoding="utf-8")
    process, url = start_service(tmp_path, **env)
    try:
        assert audit_model(url, settings) == []
    finally:
        stop(process)

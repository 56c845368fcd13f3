"""The change stream read by a real LDES client: the npm package ldes-client, as a harvester would run it.

The service runs with its base IRI equal to its own address, so the client can follow every link it is
given. tests/ldes-client/read.mjs drives the client's JavaScript API (`make test` installs it with
`npm ci`) and prints one JSON line per page it fetched and per member it emitted, in ascending time order.
"""

import datetime as dt
import json
import shutil
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from conftest import TOKEN, Service, free_port, start_service, stop
from test_service_entries import B, meeting, post

CLIENT = Path(__file__).parent / "ldes-client"
READER = CLIENT / "read.mjs"
DELETE = "https://www.w3.org/ns/activitystreams#Delete"
UPDATE = "https://www.w3.org/ns/activitystreams#Update"


@dataclass(frozen=True)
class Run:
    """What the client printed, and the changes written before it ran."""

    url: str
    members: list[dict]
    fragments: list[dict]
    first: str  # a meeting's entry …
    revised: str  # … its revision …
    gone: str  # … another entry, retracted …
    kept: str  # … and a last one, a second later


def node() -> str:
    """The node executable, with the client installed beside read.mjs; a clear failure when `make test` did not run."""
    executable = shutil.which("node")
    assert executable, "the LDES client test needs Node.js: `make test` installs it (Debian's nodejs and npm)"
    assert (CLIENT / "node_modules" / "ldes-client").is_dir(), (
        "the npm LDES client is not installed in tests/ldes-client/node_modules: `make test` installs it "
        "(npm ci --prefix tests/ldes-client)"
    )
    return executable


def entry_body(number: int) -> str:
    """A new meeting in Turtle, its IRIs relative so that they resolve against the service's own base."""
    return meeting(number)[1].replace(B, "")


def path_of(service: Service, iri: str) -> str:
    return "/" + iri.removeprefix(service.url + "/")


@pytest.fixture(scope="module")
def run(tmp_path_factory) -> Iterator[Run]:
    """Submit, revise and retract entries on a service with pages of two, then read its stream with the client."""
    executable = node()
    folder = tmp_path_factory.mktemp("ldes-client")
    port = free_port()
    process, url = start_service(
        folder,
        port=port,
        POLICYKG_BASE_IRI=f"http://127.0.0.1:{port}/",
        POLICYKG_STORE="memory",
        POLICYKG_UPDATE_TOKEN=TOKEN,
        POLICYKG_QUERY_WORKERS="0",
        POLICYKG_LDES_PAGE_SIZE="2",
    )
    service = Service(url, TOKEN)
    try:

        def submit(body: str) -> str:
            response = post(service, "/entries", body)
            assert response.status_code == 201, response.text
            return response.json()["entry"]

        body = entry_body(4001)
        first = submit(body)
        # The same meeting a day later, as a new version of its entry.
        revision = httpx.put(
            url + path_of(service, first),
            content=body.replace('-01"', '-02"').encode(),
            headers={"Content-Type": "text/turtle", **service.auth()},
            timeout=60,
        )
        assert revision.status_code == 201, revision.text
        gone = submit(entry_body(4002))
        assert httpx.delete(url + path_of(service, gone), headers=service.auth(), timeout=60).status_code == 204
        kept = submit(entry_body(4003))
        done = subprocess.run(
            [executable, str(READER), url + "/ldes"], capture_output=True, text=True, timeout=60, check=False
        )
        assert done.returncode == 0, f"ldes-client failed ({done.returncode}):\n{done.stderr}\n{done.stdout}"
        lines = [json.loads(line) for line in done.stdout.splitlines() if line.startswith("{")]
        yield Run(
            url,
            [x for x in lines if "id" in x],
            [x for x in lines if "fragment" in x],
            first,
            revision.json()["entry"],
            gone,
            kept,
        )
    finally:
        stop(process)


def test_the_client_emits_one_member_per_entry_revision_and_retraction(run):
    ids = [member["id"] for member in run.members]
    assert sorted(ids) == sorted([run.first, run.revised, run.gone, run.gone + "/retraction", run.kept])
    version_of = {member["id"]: member["isVersionOf"] for member in run.members}
    assert version_of == {
        run.first: run.first,
        run.revised: run.first,
        run.gone: run.gone,
        run.gone + "/retraction": run.gone,
        run.kept: run.kept,
    }


def test_the_client_sees_the_revision_as_an_update_and_the_retraction_as_a_delete(run):
    types = {member["id"]: member["types"] for member in run.members}
    assert UPDATE in types[run.revised]
    assert types[run.gone + "/retraction"] == [DELETE]
    assert [iri for iri, kinds in types.items() if DELETE in kinds] == [run.gone + "/retraction"]


def test_the_client_reads_timestamps_that_order_the_members_as_they_were_written(run):
    times = [dt.datetime.fromisoformat(member["timestamp"]) for member in run.members]
    # The client's own emission order is not relied on: ldes-client 0.3.0 was seen, under load, to emit a member
    # of a later page before one of an earlier page. What it read must be ordered by our timestamps, though.
    assert len(set(times)) == len(times)  # stamped to the microsecond, never twice
    by_time = [member["id"] for _, member in sorted(zip(times, run.members, strict=True), key=lambda pair: pair[0])]
    assert by_time == [run.first, run.revised, run.gone, run.gone + "/retraction", run.kept]  # the order of the writes


def test_the_client_reads_every_page_and_sees_the_full_ones_as_immutable(run):
    pages = {
        fragment["fragment"]: fragment.get("immutable")
        for fragment in run.fragments
        if fragment["fragment"].startswith(run.url + "/ldes/")
    }
    assert pages == {run.url + "/ldes/0": True, run.url + "/ldes/1": True, run.url + "/ldes/2": False}

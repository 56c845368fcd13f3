"""Dump files: written once per revision in the background, equal to the store, whole even after a SIGKILL."""

import gzip
import os
import random
import signal
import threading
import time

import httpx
import pyoxigraph as ox
from conftest import SERVICE_SETTINGS, TOKEN, start_service, stop
from consistency import current_dump

B = "http://localhost:8000/"
LABEL = "http://www.w3.org/2000/01/rdf-schema#label"


def stored_quads(url: str) -> int:
    """How many quads the store holds, as SPARQL counts them."""
    rows = httpx.post(
        url + "/sparql",
        data={"query": "SELECT (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } }"},
        headers={"Accept": "application/sparql-results+json"},
    ).json()["results"]["bindings"]
    return int(rows[0]["n"]["value"])


def files_written(url: str, seconds: float = 120) -> None:
    """Wait until the dump files of the store's current revision are written."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        ready = httpx.get(url + "/ready").json()
        if ready["derived"].get("dumps", {}).get("revision") == ready["revision"]["tag"]:
            return
        httpx.head(url + "/dumps/policykg.nq")  # asked for once, the files are kept up to date after writes
        time.sleep(0.05)
    raise AssertionError("the dump files of the current revision were not written")


def quads_of(data: bytes, syntax: ox.RdfFormat) -> set[ox.Quad]:
    return set(ox.parse(data, format=syntax))


def write(url: str, n: int) -> None:
    answer = httpx.post(
        url + "/sparql",
        data={"update": f'INSERT DATA {{ GRAPH <{B}graph/test-dumps> {{ <{B}id/test/dumps-{n}> <{LABEL}> "{n}" }} }}'},
        headers={"Authorization": f"Bearer {TOKEN}"},
    )
    assert answer.status_code in (200, 204), answer.text


def test_the_dump_files_hold_exactly_the_store_after_writes_in_every_syntax(tmp_path):
    settings = {**SERVICE_SETTINGS, "POLICYKG_STORE": str(tmp_path / "store"), "POLICYKG_QUERY_WORKERS": "1"}
    process, url = start_service(tmp_path, **settings)
    try:
        for n in random.Random(4).sample(range(1000), 12):
            write(url, n)
        files_written(url)
        plain = current_dump(url, "policykg.nq")
        packed = httpx.get(url + "/dumps/policykg.nq.gz")
        trig = httpx.get(url + "/dumps/policykg.trig")
        assert plain.headers["etag"].split("-")[:2] == packed.headers["etag"].split("-")[:2]
        assert gzip.decompress(packed.content) == plain.content
        quads = quads_of(plain.content, ox.RdfFormat.N_QUADS)
        assert quads == quads_of(trig.content, ox.RdfFormat.TRIG)
        assert len(quads) == stored_quads(url)
        assert {q for q in quads if q.graph_name == ox.NamedNode(B + "graph/test-dumps")} == {
            ox.Quad(
                ox.NamedNode(f"{B}id/test/dumps-{n}"),
                ox.NamedNode(LABEL),
                ox.Literal(str(n)),
                ox.NamedNode(B + "graph/test-dumps"),
            )
            for n in random.Random(4).sample(range(1000), 12)
        }
        assert int(plain.headers["content-length"]) == len(plain.content)
        # Each revision's files in a folder of their own, the newest two kept, nothing half-written left.
        folders = list((tmp_path / "store.dumps").iterdir())
        assert 1 <= len(folders) <= 2
        assert not list((tmp_path / "store.dumps").glob("*/*.partial"))
        made = httpx.get(url + "/ready").json()["derived"]["dumps"]
        assert plain.headers["etag"] == f'"{made["revision"]}-policykg.nq"' and made["makings"] >= 1
    finally:
        stop(process)


def test_a_sigkill_while_dumps_are_written_leaves_no_broken_file_served(tmp_path):
    settings = {**SERVICE_SETTINGS, "POLICYKG_STORE": str(tmp_path / "store"), "POLICYKG_QUERY_WORKERS": "1"}
    process, url = start_service(tmp_path, **settings)
    try:
        files_written(url)  # files exist; each write now starts writing new ones
        for n in range(5):
            write(url, n)
    finally:
        os.kill(process.pid, signal.SIGKILL)
        process.wait()
    process, url = start_service(tmp_path, **settings)
    try:
        files_written(url)
        packed = current_dump(url, "policykg.nq.gz")
        quads = quads_of(gzip.decompress(packed.content), ox.RdfFormat.N_QUADS)
        assert len(quads) == stored_quads(url)
        assert not list((tmp_path / "store.dumps").glob("*/*.partial"))
    finally:
        stop(process)


def test_the_first_downloads_after_a_start_are_the_files_of_the_one_making(tmp_path):
    settings = {**SERVICE_SETTINGS, "POLICYKG_STORE": str(tmp_path / "store"), "POLICYKG_QUERY_WORKERS": "1"}
    process, url = start_service(tmp_path, **settings)
    try:
        first: dict[str, httpx.Response] = {}
        names = ("policykg.nq.gz", "policykg.nq", "policykg.trig", "policykg.nq.gz")
        downloads = [
            threading.Thread(target=lambda n=n, i=i: first.__setitem__(f"{i} {n}", httpx.get(f"{url}/dumps/{n}")))
            for i, n in enumerate(names)
        ]
        for download in downloads:  # at once, before any file is written
            download.start()
        for download in downloads:
            download.join(timeout=120)
        files_written(url)
        assert httpx.get(url + "/ready").json()["derived"]["dumps"]["makings"] == 1
        for key, answer in first.items():
            served = httpx.get(f"{url}/dumps/{key.split()[1]}")  # from the files, with their length
            assert answer.status_code == 200 and answer.content == served.content, key
            assert answer.headers["etag"] == served.headers["etag"] and "content-length" in served.headers
        dumped = quads_of(gzip.decompress(first["0 policykg.nq.gz"].content), ox.RdfFormat.N_QUADS)
        assert len(dumped) == stored_quads(url)
        assert "written from the store as it was asked for" not in (tmp_path / "serve.log").read_text()  # followed
    finally:
        stop(process)


def test_a_service_whose_dump_files_cannot_be_written_writes_each_download_from_the_store(tmp_path):
    (tmp_path / "taken").write_text("a file where the dumps' folder should be")
    settings = {
        **SERVICE_SETTINGS,
        "POLICYKG_STORE": str(tmp_path / "store"),
        "POLICYKG_QUERY_WORKERS": "1",
        "POLICYKG_DUMPS_FOLDER": str(tmp_path / "taken" / "dumps"),
    }
    process, url = start_service(tmp_path, **settings)
    try:
        httpx.head(url + "/dumps/policykg.nq")  # starts the first making, which fails at once
        deadline = time.monotonic() + 60
        while "remaking dumps failed" not in (tmp_path / "serve.log").read_text() and time.monotonic() < deadline:
            time.sleep(0.05)
        for _ in range(3):  # the next makings fail too: no download is cut by following one of them
            answer = httpx.get(url + "/dumps/policykg.nq.gz", timeout=60)
            assert answer.status_code == 200 and "content-length" not in answer.headers
            assert len(quads_of(gzip.decompress(answer.content), ox.RdfFormat.N_QUADS)) == stored_quads(url)
        assert (tmp_path / "serve.log").read_text().count("written from the store as it was asked for") == 3
    finally:
        stop(process)

"""The query worker pool at its edges: a query stopped at a limit, cancelled, or whose worker dies harms no other
query, and nothing is left behind. Real worker processes over a real on-disk store."""

import asyncio
import json
import os
import signal
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pyoxigraph as ox
import pytest

from policykg.errors import QueryTimeout
from policykg.store import EmbeddedStore, Limits

EX = "http://example.org/"
GRAPH = EX + "g1"
QUADS = 2000
# Far past any limit here: a thousand million rows, and nothing written before the count is done.
RUNAWAY = "SELECT (COUNT(*) AS ?n) WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i }"
# Long enough to be running when a runaway beside it is stopped (about a second on two cores), then right.
MEDIUM = "SELECT (COUNT(*) AS ?n) WHERE { ?a ?b ?c . ?d ?e ?f FILTER(STR(?c) != STR(?f)) }"
MEDIUM_ANSWER = str(QUADS * QUADS - QUADS)
# Streams for ever: a graph of four million triples, written as it is computed.
STREAMING = "CONSTRUCT { ?a ?b ?f } WHERE { ?a ?b ?c . ?d ?e ?f }"
CHEAP = "SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }"


@pytest.fixture
def pooled(tmp_path):  # type: ignore[no-untyped-def]
    """A store with one query worker (and its spare) over QUADS triples."""
    store = EmbeddedStore.on_disk(tmp_path / "store", query_workers=1)
    store.add(
        [
            ox.Quad(ox.NamedNode(f"{EX}s{i}"), ox.NamedNode(EX + "p"), ox.Literal(str(i)), ox.NamedNode(GRAPH))
            for i in range(QUADS)
        ],
        GRAPH,
    )
    yield store
    store.close()


@pytest.fixture(scope="module")
def threads():  # type: ignore[no-untyped-def]
    with ThreadPoolExecutor(max_workers=4) as executor:
        yield executor


def run(coroutine):  # type: ignore[no-untyped-def]
    """Run a scenario on an event loop of its own, on a thread: other suites may leave one running on this one."""
    with ThreadPoolExecutor(max_workers=1) as thread:
        return thread.submit(asyncio.run, coroutine).result()


async def count(store: EmbeddedStore, threads: ThreadPoolExecutor, sparql: str, seconds: float) -> str:
    answer = await store.answer(sparql, format_name="json", executor=threads, limits=Limits(seconds, None))
    return json.loads(await answer.read())["results"]["bindings"][0]["n"]["value"]  # type: ignore[no-any-return]


async def settled(store: EmbeddedStore, seconds: float = 10.0):  # type: ignore[no-untyped-def]
    """The pool's statistics once no query runs and its spare is ready again."""
    deadline = time.monotonic() + seconds
    while True:
        statistics = store.query_workers()
        assert statistics is not None
        if (
            statistics.running == 0 and len(worker_processes()) == statistics.workers + 1
        ) or time.monotonic() > deadline:
            return statistics
        await asyncio.sleep(0.05)


def worker_processes() -> dict[int, str]:
    """This process's query worker children: pid -> state (R, S, Z …)."""
    found = {}
    for children in Path(f"/proc/{os.getpid()}/task").glob("*/children"):
        for child in children.read_text().split():
            try:
                if (
                    b"spawn_main" in Path(f"/proc/{child}/cmdline").read_bytes()
                    or Path(f"/proc/{child}/stat").read_text().rsplit(")", 1)[1].split()[0] == "Z"
                ):
                    found[int(child)] = Path(f"/proc/{child}/stat").read_text().rsplit(")", 1)[1].split()[0]
            except (OSError, IndexError):
                continue
    return found


def test_a_query_stopped_at_its_deadline_leaves_the_queries_beside_it_their_right_answers(pooled, threads):
    async def scenario() -> tuple[list[object], int]:
        before = (await settled(pooled)).started
        medium = [asyncio.ensure_future(count(pooled, threads, MEDIUM, 60)) for _ in range(3)]
        outcomes = await asyncio.gather(count(pooled, threads, RUNAWAY, 0.5), *medium, return_exceptions=True)
        return outcomes, (await settled(pooled)).started - before

    outcomes, started = run(scenario())
    assert isinstance(outcomes[0], QueryTimeout)
    # The three ran in the same worker as the runaway, which was killed: they were answered again, elsewhere.
    assert outcomes[1:] == [MEDIUM_ANSWER] * 3
    assert started == 1  # the spare took the killed worker's place, and one new spare was started


def test_a_query_whose_worker_dies_is_answered_by_another(pooled, threads):
    async def scenario() -> list[str]:
        await settled(pooled)
        victims = list(worker_processes())
        running = [asyncio.ensure_future(count(pooled, threads, MEDIUM, 60)) for _ in range(2)]
        await asyncio.sleep(0.3)
        os.kill(min(victims), signal.SIGKILL)  # the serving worker started first, the spare after it
        return await asyncio.gather(*running)

    assert run(scenario()) == [MEDIUM_ANSWER] * 2


def test_a_streaming_query_cancelled_by_its_client_stops_without_its_worker_being_killed(pooled, threads):
    async def scenario() -> tuple[int, int, str]:
        before = (await settled(pooled)).started
        answer = await pooled.answer(STREAMING, format_name="ntriples", executor=threads, limits=Limits(60, None))
        assert not answer.complete and answer.first.count(b"\n") > 100
        rest = answer.rest()
        await rest.__anext__()
        await rest.aclose()  # the client went away
        deadline = time.monotonic() + 5
        while pooled.query_workers().running and time.monotonic() < deadline:  # type: ignore[union-attr]
            await asyncio.sleep(0.02)
        stopped_after = pooled.query_workers().running  # type: ignore[union-attr]
        return stopped_after, pooled.query_workers().started - before, await count(pooled, threads, CHEAP, 5)  # type: ignore[union-attr]

    running, started, cheap = run(scenario())
    assert (running, started, cheap) == (0, 0, str(QUADS))


def test_a_hundred_timeouts_leave_no_process_and_no_snapshot_behind(pooled, threads, tmp_path):
    async def one(number: int) -> None:
        with pytest.raises(QueryTimeout):
            if number % 2:  # stopped by a kill: it writes nothing until done
                await count(pooled, threads, RUNAWAY, 0.1)
            else:  # stopped at its next write
                answer = await pooled.answer(
                    STREAMING, format_name="ntriples", executor=threads, limits=Limits(0.1, None)
                )
                await answer.read()

    async def scenario() -> None:
        for batch in range(10):
            pooled.add(
                [ox.Quad(ox.NamedNode(f"{EX}w{batch}"), ox.NamedNode(EX + "p"), ox.Literal("w"), ox.NamedNode(GRAPH))],
                GRAPH,
            )  # a new snapshot each time
            await asyncio.gather(*(one(batch * 10 + i) for i in range(10)))
        statistics = await settled(pooled, 60)
        assert (statistics.running, statistics.waiting, statistics.workers) == (0, 0, 1)
        assert await count(pooled, threads, CHEAP, 10) == str(QUADS + 10)

    run(scenario())
    processes = worker_processes()
    assert len(processes) == 2 and "Z" not in processes.values(), processes  # the worker and its spare; no zombie
    assert len(list((tmp_path / "store.snapshots").iterdir())) == 1  # the current snapshot only


def test_a_query_text_longer_than_a_frame_is_answered_whole(pooled, threads):
    values = " ".join(str(i) for i in range(40_000))  # about 230 KB: four frames
    sparql = f"SELECT (COUNT(*) AS ?n) WHERE {{ VALUES ?x {{ {values} }} }}"
    assert run(count(pooled, threads, sparql, 30)) == "40000"

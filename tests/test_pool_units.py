"""The query pool's pure parts, without worker processes: what becomes of a lost worker's queries, a request in
numbered pieces, the worker set's replacement of a lost worker, and a thread reading an answer made on a loop."""

import asyncio
import threading
from collections.abc import AsyncGenerator, Callable, Iterator
from types import SimpleNamespace
from typing import Any, cast

import pytest

from policykg.errors import PolicyKGError, QueryMemoryExceeded, QueryTimeout, StoreError
from policykg.store.base import CHUNK_BYTES, Answer, Limits
from policykg.store.poolhandles import Call, WorkerHandle, after_loss
from policykg.store.poolworkers import WorkerSet
from policykg.store.queryworker import PIECE, Request, read_piece, split_request
from policykg.store.streaming import read_from_loop

ENDED_ALONE = ("StoreError", "the worker answering this query ended while it ran; it was not tried again")
STOPPED_SENDING = ("StoreError", "the worker answering this query was stopped while it sent the answer")
STOPPED_EACH_TIME = (
    "StoreError",
    "the workers answering this query were stopped each time it ran; it was not tried again",
)
KILLED = QueryTimeout("the query ran longer than the limit of 2 s and was stopped")
BESIDE = QueryMemoryExceeded("stopped with its worker")


@pytest.fixture
def loop() -> Iterator[asyncio.AbstractEventLoop]:
    """An event loop for calls to belong to (never run)."""
    loop = asyncio.new_event_loop()
    yield loop
    loop.close()


def make_call(loop: asyncio.AbstractEventLoop, number: int, **state: Any) -> Call:
    """A call as a worker held it, with the given state (sent, taken, reruns, abandoned, finished, error)."""
    request = Request("ASK {}", "json", None, (), (), True, "", None)
    call = Call(number, request, Limits(None, None), loop)
    for name, value in state.items():
        setattr(call, name, value)
    return call


def described(fates: dict[Call, PolicyKGError | None]) -> dict[int, tuple[str, str] | None]:
    """The fates by call number: the error's kind and message, or None for a re-run."""
    return {call.number: None if error is None else (type(error).__name__, str(error)) for call, error in fates.items()}


# --- what becomes of the queries a lost worker held


def test_the_query_blamed_for_a_kill_gets_the_kill_s_error_and_the_others_are_re_run(
    loop: asyncio.AbstractEventLoop,
) -> None:
    blamed, other = make_call(loop, 1), make_call(loop, 2)
    assert described(after_loss([blamed, other], blamed, KILLED)) == {
        1: ("QueryTimeout", "the query ran longer than the limit of 2 s and was stopped"),
        2: None,
    }


def test_queries_sent_before_the_long_running_time_are_stopped_with_the_blamed_one(
    loop: asyncio.AbstractEventLoop,
) -> None:
    blamed = make_call(loop, 1, sent=10.0)
    long_one, short_one = make_call(loop, 2, sent=20.0), make_call(loop, 3, sent=40.0)
    fates = after_loss([blamed, long_one, short_one], blamed, KILLED, long_running=(30.0, BESIDE))
    assert described(fates) == {
        1: ("QueryTimeout", "the query ran longer than the limit of 2 s and was stopped"),
        2: ("QueryMemoryExceeded", "stopped with its worker"),
        3: None,
    }


def test_queries_already_over_are_left_out(loop: asyncio.AbstractEventLoop) -> None:
    blamed = make_call(loop, 1)
    abandoned = make_call(loop, 2, abandoned=True)
    failed = make_call(loop, 3, error=StoreError("earlier"))
    finished = make_call(loop, 4, finished=True)
    assert described(after_loss([blamed, abandoned, failed, finished], blamed, KILLED)) == {
        1: ("QueryTimeout", "the query ran longer than the limit of 2 s and was stopped"),
    }


def test_the_only_query_of_a_worker_that_died_by_itself_is_not_tried_again(loop: asyncio.AbstractEventLoop) -> None:
    alone = make_call(loop, 1)
    assert described(after_loss([alone], None, None)) == {1: ENDED_ALONE}


def test_queries_of_a_worker_that_died_by_itself_with_others_are_re_run_once(loop: asyncio.AbstractEventLoop) -> None:
    first_time, second_time = make_call(loop, 1), make_call(loop, 2, reruns=1)
    assert described(after_loss([first_time, second_time], None, None)) == {1: None, 2: STOPPED_EACH_TIME}


def test_the_only_live_query_of_a_worker_that_died_by_itself_is_not_tried_again(
    loop: asyncio.AbstractEventLoop,
) -> None:
    alone, abandoned = make_call(loop, 1), make_call(loop, 2, abandoned=True)
    assert described(after_loss([alone, abandoned], None, None)) == {1: ENDED_ALONE}


def test_queries_beside_one_killed_at_a_limit_are_re_run_twice(loop: asyncio.AbstractEventLoop) -> None:
    blamed = make_call(loop, 1)
    once, twice = make_call(loop, 2, reruns=1), make_call(loop, 3, reruns=2)
    fates = after_loss([blamed, once, twice], blamed, KILLED)
    assert described(fates) == {
        1: ("QueryTimeout", "the query ran longer than the limit of 2 s and was stopped"),
        2: None,
        3: STOPPED_EACH_TIME,
    }


def test_a_query_whose_client_has_had_part_of_the_answer_is_not_re_run(loop: asyncio.AbstractEventLoop) -> None:
    blamed, taken = make_call(loop, 1), make_call(loop, 2, taken=True)
    fates = after_loss([blamed, taken], blamed, KILLED)
    assert described(fates) == {
        1: ("QueryTimeout", "the query ran longer than the limit of 2 s and was stopped"),
        2: STOPPED_SENDING,
    }


def test_the_fates_come_in_the_order_the_worker_held_the_queries(loop: asyncio.AbstractEventLoop) -> None:
    calls = [make_call(loop, number) for number in (5, 3, 9, 1)]
    assert [call.number for call in after_loss(calls, None, None)] == [5, 3, 9, 1]


# --- a request in numbered pieces


def test_a_short_request_goes_in_one_piece() -> None:
    assert split_request(b"query") == [PIECE.pack(0, 1) + b"query"]


def test_an_empty_request_still_goes_in_one_piece() -> None:
    assert split_request(b"") == [PIECE.pack(0, 1)]


def test_a_request_of_exactly_two_chunks_goes_in_two_full_pieces() -> None:
    request = bytes(range(256)) * (2 * CHUNK_BYTES // 256)
    pieces = [read_piece(payload) for payload in split_request(request)]
    assert [(index, count, len(piece)) for index, count, piece in pieces] == [(0, 2, CHUNK_BYTES), (1, 2, CHUNK_BYTES)]


def test_a_long_request_is_numbered_and_joined_back_from_pieces_in_any_order() -> None:
    request = b"x" * CHUNK_BYTES + b"y" * CHUNK_BYTES + b"z"
    pieces = [read_piece(payload) for payload in reversed(split_request(request))]
    assert [(index, count, len(piece)) for index, count, piece in pieces] == [
        (2, 3, 1),
        (1, 3, CHUNK_BYTES),
        (0, 3, CHUNK_BYTES),
    ]
    assert b"".join(piece for _index, _count, piece in sorted(pieces)) == request


# --- the worker set, with stand-ins for the processes


class _Loop:
    """A stand-in for the event loop: records what would be started when."""

    def __init__(self) -> None:
        self.later: list[tuple[float, Callable[..., object]]] = []

    def call_later(self, delay: float, callback: Callable[..., object], *arguments: object) -> None:
        self.later.append((delay, callback))


def make_set(size: int) -> tuple[WorkerSet, list[SimpleNamespace], _Loop]:
    """A worker set of size stand-in workers (ready) and a spare, bound to a stand-in loop."""
    started: list[SimpleNamespace] = []

    def start() -> WorkerHandle:
        started.append(SimpleNamespace(name=f"w{len(started)}", dead=False, ready=True))
        return cast(WorkerHandle, started[-1])

    workers = WorkerSet(size, lambda worker: None, start)
    fake = _Loop()
    workers.bind(cast(asyncio.AbstractEventLoop, fake))
    return workers, started, fake


def names(workers: list[WorkerHandle]) -> list[str]:
    return [cast(SimpleNamespace, worker).name for worker in workers]


def test_a_full_set_starts_nothing_when_bound() -> None:
    workers, _started, fake = make_set(2)
    assert (names(workers.all()), workers.started, fake.later) == (["w0", "w1", "w2"], 3, [])


def test_the_spare_takes_a_lost_worker_s_place_and_a_new_spare_is_started_at_once() -> None:
    workers, started, fake = make_set(2)
    assert workers.take_out(cast(WorkerHandle, started[0])) is True
    assert (started[0].dead, names(workers.serving), workers.spare) == (True, ["w1", "w2"], None)
    workers.ensure()
    assert [delay for delay, _start in fake.later] == [0.0]


def test_a_worker_lost_twice_is_taken_out_once() -> None:
    workers, started, _fake = make_set(2)
    workers.take_out(cast(WorkerHandle, started[0]))
    assert workers.take_out(cast(WorkerHandle, started[0])) is False
    assert names(workers.serving) == ["w1", "w2"]


def test_a_lost_spare_leaves_the_serving_workers_as_they_were() -> None:
    workers, started, _fake = make_set(2)
    workers.take_out(cast(WorkerHandle, started[2]))
    assert (names(workers.serving), workers.spare) == (["w0", "w1"], None)


def test_a_worker_that_dies_before_it_is_ready_makes_the_next_start_wait() -> None:
    workers, started, fake = make_set(1)
    started[0].ready = False
    workers.take_out(cast(WorkerHandle, started[0]))
    workers.ensure()
    assert [delay for delay, _start in fake.later] == [0.1]


def test_a_worker_that_becomes_ready_lets_the_next_start_go_without_waiting() -> None:
    workers, started, fake = make_set(1)
    started[0].ready = False
    workers.take_out(cast(WorkerHandle, started[0]))
    workers.ready(cast(WorkerHandle, started[1]))
    workers.ensure()
    assert (started[1].ready, [delay for delay, _start in fake.later]) == (True, [0.0])


# --- a thread reading an answer made on an event loop


class _Chunks(Answer):
    """An answer of a first chunk and more, that notes the thread that closes it."""

    def __init__(self, first: bytes, more: list[bytes]) -> None:
        super().__init__(first, not more)
        self.more = more
        self.closed_on: list[str] = []

    async def rest(self) -> AsyncGenerator[bytes, None]:
        for chunk in self.more:
            yield chunk

    def close(self) -> None:
        self.closed_on.append(threading.current_thread().name)


@pytest.fixture
def running_loop() -> Iterator[asyncio.AbstractEventLoop]:
    """An event loop running on a thread of its own, named "the-loop"."""
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, name="the-loop")
    thread.start()
    yield loop
    loop.call_soon_threadsafe(loop.stop)
    thread.join()
    loop.close()


def test_a_thread_gets_every_chunk_of_an_answer_made_on_the_loop_which_closes_it(
    running_loop: asyncio.AbstractEventLoop,
) -> None:
    answer = _Chunks(b"first", [b"second", b"third"])

    async def answering() -> Answer:
        return answer

    received: list[bytes] = []
    read_from_loop(running_loop, answering(), received.append)
    assert (received, answer.closed_on) == ([b"first", b"second", b"third"], ["the-loop"])


def test_a_complete_answer_gives_its_first_chunk_alone(running_loop: asyncio.AbstractEventLoop) -> None:
    answer = _Chunks(b"all of it", [])

    async def answering() -> Answer:
        return answer

    received: list[bytes] = []
    read_from_loop(running_loop, answering(), received.append)
    assert (received, answer.closed_on) == ([b"all of it"], ["the-loop"])


def test_the_answer_is_closed_on_the_loop_when_the_sink_fails(running_loop: asyncio.AbstractEventLoop) -> None:
    answer = _Chunks(b"first", [b"second"])

    async def answering() -> Answer:
        return answer

    def refuse(chunk: bytes) -> None:
        raise StoreError(f"refused {chunk!r}")

    with pytest.raises(StoreError) as raised:
        read_from_loop(running_loop, answering(), refuse)
    assert (str(raised.value), answer.closed_on) == ("refused b'first'", ["the-loop"])

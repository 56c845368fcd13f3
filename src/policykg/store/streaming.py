"""The bridges between threads and the event loop: an answer made on a thread read from the loop, and back.

`stream` is the bridge for blocking backends: the store writes in a worker thread (Oxigraph's answers stay
in the thread that made them); the event loop reads. At most _WINDOW chunks are in flight, so a slow client
holds back its own answer only. `read_from_loop` is the other way: a thread outside the event loop (the
command line, tests) reads an answer made on the loop, as the query pool's answers are.
"""

import asyncio
import threading
from collections.abc import AsyncGenerator, Callable, Coroutine
from concurrent.futures import Executor
from typing import Any, TypeVar

from policykg.errors import PolicyKGError, QueryTimeout
from policykg.store.base import CHUNK_BYTES, Answer, Sink

_END = object()
_UNREAD = object()  # the chunk after the first is still to be read from the queue
_WINDOW = 16  # chunks in flight between the worker and the client: bounds the memory one answer uses
_STALLED = 120.0  # seconds a client may leave the answer unread before the query is abandoned
T = TypeVar("T")


class ClientGone(PolicyKGError):
    """The client closed the connection; the query is abandoned."""


class _ThreadAnswer(Answer):
    def __init__(
        self,
        first: bytes,
        complete: bool,
        following: object,
        queue: "asyncio.Queue[object]",
        window: threading.Semaphore,
        gone: threading.Event,
    ) -> None:
        super().__init__(first, complete)
        self._following = following
        self._queue = queue
        self._window = window
        self._gone = gone

    async def rest(self) -> AsyncGenerator[bytes, None]:
        item = self._following if self._following is not _UNREAD else await self._queue.get()
        try:
            while item is not _END:
                if isinstance(item, BaseException):
                    raise item
                assert isinstance(item, bytes)  # the queue holds chunks, an error or _END
                self._window.release()
                yield item
                item = await self._queue.get()
        finally:
            self.close()

    def close(self) -> None:
        self._gone.set()


async def stream(executor: Executor | None, produce: Callable[[Sink], None], timeout: float | None) -> Answer:
    """Run produce(sink) in a worker and return its answer once the first chunk (or all of a small one) is in.

    Errors that happen before the first chunk are raised here, so the caller can still answer with a
    proper status; later ones end the stream (the client then sees a cut-off answer).
    """
    loop = asyncio.get_running_loop()
    queue: asyncio.Queue[object] = asyncio.Queue()
    window = threading.Semaphore(_WINDOW)
    gone = threading.Event()

    def sink(chunk: bytes) -> None:
        waited = 0.0
        while not window.acquire(timeout=0.25):
            waited += 0.25
            if gone.is_set() or waited > _STALLED:
                raise ClientGone("the client went away")
        if gone.is_set():
            raise ClientGone("the client went away")
        loop.call_soon_threadsafe(queue.put_nowait, chunk)

    def work() -> None:
        try:
            produce(sink)
            outcome: object = _END
        except BaseException as error:  # handed to the event loop, raised there
            outcome = error
        loop.call_soon_threadsafe(queue.put_nowait, outcome)

    loop.run_in_executor(executor, work)
    try:
        first = await asyncio.wait_for(queue.get(), timeout)
        if isinstance(first, BaseException):
            raise first
        body, following = b"", _END
        if first is not _END:
            assert isinstance(first, bytes)  # the queue holds chunks, an error or _END
            body = first
            window.release()
            # A chunk smaller than a full one is most likely all there is: wait for the end to say so.
            following = await asyncio.wait_for(queue.get(), timeout) if len(first) < CHUNK_BYTES else _UNREAD
            if isinstance(following, BaseException):
                raise following
    except TimeoutError:
        gone.set()
        raise QueryTimeout(f"the query ran longer than the limit of {timeout:g} s and was stopped") from None
    except BaseException:
        gone.set()
        raise
    if following is _END:
        return Answer(body, True)
    return _ThreadAnswer(body, False, following, queue, window, gone)


def read_from_loop(loop: asyncio.AbstractEventLoop, answering: Coroutine[Any, Any, Answer], sink: Sink) -> None:
    """From a thread outside loop: run answering on loop and pass its answer's chunks to sink, as they come.

    Each chunk is read on the loop, and the answer is closed there (also when sink raises): it is the loop's.
    """

    def on_loop(coroutine: Coroutine[Any, Any, T]) -> T:
        return asyncio.run_coroutine_threadsafe(coroutine, loop).result()

    answer = on_loop(answering)
    rest = answer.rest()
    try:
        if answer.first:
            sink(answer.first)
        if answer.complete:
            return
        while True:
            try:
                chunk = on_loop(rest.__anext__())
            except StopAsyncIteration:
                return
            sink(chunk)
    finally:
        on_loop(_close(rest, answer))


async def _close(rest: AsyncGenerator[bytes, None], answer: Answer) -> None:
    await rest.aclose()
    answer.close()  # also when the rest was never read

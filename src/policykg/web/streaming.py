"""Streaming a store's answer to the client: the store writes in a worker thread, the event loop sends."""

import asyncio
import threading
from collections.abc import AsyncIterator, Callable
from concurrent.futures import Executor

from policykg.errors import PolicyKGError, QueryTimeout
from policykg.store import Sink

_END = object()
_WINDOW = 16  # chunks in flight between the worker and the client: bounds the memory one answer uses
_STALLED = 120.0  # seconds a client may leave the answer unread before the query is abandoned


class ClientGone(PolicyKGError):
    """The client closed the connection; the query is abandoned."""


async def stream(executor: Executor, produce: Callable[[Sink], None], timeout: float | None) -> AsyncIterator[bytes]:
    """Run produce(sink) in a worker and yield its chunks; the first item is awaited before returning.

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
    except TimeoutError:
        gone.set()
        raise QueryTimeout(f"the query ran longer than the limit of {timeout:g} s and was stopped") from None
    except BaseException:
        gone.set()
        raise
    if isinstance(first, BaseException):
        gone.set()
        raise first
    return _rest(first, queue, window, gone)


async def _rest(first: object, queue: "asyncio.Queue[object]", window: threading.Semaphore,
                gone: threading.Event) -> AsyncIterator[bytes]:
    item = first
    try:
        while item is not _END:
            if isinstance(item, BaseException):
                raise item
            window.release()
            yield item  # type: ignore[misc]
            item = await queue.get()
    finally:
        gone.set()

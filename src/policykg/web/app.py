"""The FastAPI application: create_app(settings, store) wires routes, errors and CORS; nothing global."""

import ctypes
import os
import sys
from collections.abc import AsyncIterator, Callable
from concurrent.futures import ThreadPoolExecutor
from contextlib import asynccontextmanager

from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware
from starlette.types import ASGIApp

from policykg import __version__
from policykg.config import Settings, beside_store
from policykg.publish.tally import KeptStatistics
from policykg.search.index import open_index
from policykg.store import Store
from policykg.web import (
    problems,
    routes_catalogue,
    routes_contribute,
    routes_docs,
    routes_dumps,
    routes_editor,
    routes_entries,
    routes_feeds,
    routes_health,
    routes_ldes,
    routes_lists,
    routes_pages,
    routes_pickers,
    routes_pictures,
    routes_resources,
    routes_search,
    routes_signin,
    routes_sparql,
    routes_store,
)
from policykg.web.context import ServiceContext
from policykg.web.fastpath import FastPath
from policykg.web.headers import (
    CROSS_ORIGIN_EXPOSED,
    CROSS_ORIGIN_METHODS,
    CROSS_ORIGIN_REQUEST_HEADERS,
    PagePolicy,
)
from policykg.web.requestlog import RequestLog
from policykg.web.sessions import Sessions
from policykg.writing.compaction import Compaction
from policykg.writing.entries import Entries
from policykg.writing.writer import make_writer

# The routers, in the order their paths are matched (the first route that matches a path answers it).
ROUTES = (
    routes_sparql,
    routes_store,
    routes_entries,
    routes_ldes,
    routes_feeds,
    routes_lists,
    routes_pages,
    routes_pictures,
    routes_docs,
    routes_editor,
    routes_resources,
    routes_dumps,
    routes_catalogue,
    routes_health,
    routes_signin,
    routes_pickers,
    routes_contribute,
    routes_search,
)


def create_app(settings: Settings, store: Store) -> FastAPI:
    """Build the service over an open store; the caller owns the store and closes it."""
    # Oxigraph releases the GIL while it evaluates: threads run queries on every core (without query
    # workers), reads for the pages, and requests to a remote engine, which mostly wait on the network.
    # Queries to query workers take no thread here: the event loop drives them.
    threads = max(32, 4 * (os.cpu_count() or 1))
    executor = _threads(threads, "policykg-query")
    # Writes: entries waiting on one another are committed in groups (writing/grouping.py), so many may wait.
    write_executor = _threads(16, "policykg-write")
    # Whole-dataset dumps hold a thread for as long as the client reads: threads of their own, so that
    # slow harvesters never take the queries' threads, and few, since each keeps a dump's working memory.
    dump_executor = _threads(4, "policykg-dump")

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        compaction.start()
        yield
        compaction.close()
        # Let running work on threads finish (reads, writes, dumps) before the caller closes the store; the
        # queries in worker processes end with them.
        for pool in (write_executor, dump_executor, executor):
            pool.shutdown(wait=True, cancel_futures=True)
        index.close(store)

    app = _Application(
        title="policykg",
        summary="A policy-tracking knowledge graph for European cultural-heritage policy",
        description="SPARQL 1.1 Protocol (query and update) at /sparql and the Graph Store HTTP Protocol at /store. "
        "Writes need `Authorization: Bearer <token>`. Errors are RFC 9457 problem details.",
        version=__version__,
        lifespan=lifespan,
        # FastAPI's /docs and /redoc load their scripts from a CDN; routes_docs serves /docs from the service.
        docs_url=None,
        redoc_url=None,
    )
    index = open_index(settings, store)
    writer = make_writer(settings, store, index)
    writer.keep_closure()  # after a bulk load, a restore or a crash between a write and its closure
    compaction = Compaction(store, writer, settings.compaction_pause)
    figures = None
    if store.exclusive:  # every write goes through the writer, which keeps the figures (publish/tally.py)
        figures = KeptStatistics(store, writer.frozen, settings.base_iri, executor)
        writer.watch(figures)
    app.state.context = ServiceContext(
        settings=settings,
        store=store,
        executor=executor,
        writer=writer,
        entries=Entries(store, writer, settings),
        search=index,
        write_executor=write_executor,
        dump_executor=dump_executor,
        sessions=Sessions(path=beside_store(settings.store, settings.sessions_file, ".sessions")),
        figures=figures,
        compaction=compaction,
    )
    problems.install(app)

    app.add_middleware(PagePolicy)
    app.add_middleware(
        CORSMiddleware,
        allow_origins=["*"],
        allow_methods=CROSS_ORIGIN_METHODS,
        allow_headers=CROSS_ORIGIN_REQUEST_HEADERS,
        expose_headers=CROSS_ORIGIN_EXPOSED,
    )
    for routes in ROUTES:
        app.include_router(routes.router)
    return app


def _threads(count: int, name: str) -> ThreadPoolExecutor:
    """A pool of threads that the operating system also knows by name (`top -H`, /proc: on Linux)."""
    return ThreadPoolExecutor(max_workers=count, thread_name_prefix=name, initializer=_os_thread_name(name))


def _os_thread_name(name: str) -> Callable[[], None]:
    """An initializer naming the thread that runs it for the operating system (15 bytes at most; Linux only)."""
    set_name = getattr(ctypes.CDLL(None), "prctl", None) if sys.platform == "linux" else None
    pr_set_name = 15

    def name_thread() -> None:
        if set_name is not None:
            set_name(pr_set_name, name.encode("ascii")[:15], 0, 0, 0)

    return name_thread


class _Application(FastAPI):
    """FastAPI with two layers outside its own: the request log, then the fast path (web/fastpath.py)."""

    def build_middleware_stack(self) -> ASGIApp:
        """The request log around the fast path, around the application's middlewares and routes."""
        on_fault = self.exception_handlers[Exception]
        stack = super().build_middleware_stack()
        fast = FastPath(stack, routes_sparql.RESPONDERS, routes_resources.RESPONDERS, on_fault)  # type: ignore[arg-type]
        return RequestLog(fast)

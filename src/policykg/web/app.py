"""The FastAPI application: create_app(settings, store) wires routes, errors and CORS; nothing global."""

import os
from collections.abc import AsyncIterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import asynccontextmanager

from fastapi import FastAPI, Request
from fastapi.middleware.cors import CORSMiddleware

from policykg.config import Settings
from policykg.entries import Entries
from policykg.writes import make_writer
from policykg.store import Store
from policykg.web import (problems, routes_catalogue, routes_dumps, routes_entries, routes_ldes, routes_pages,
                          routes_resources, routes_sparql, routes_store)
from policykg.web.context import ServiceContext


_PAGE_POLICY = "default-src 'none'; style-src 'unsafe-inline'; img-src 'self' data:; form-action 'self'; base-uri 'none'"


def create_app(settings: Settings, store: Store) -> FastAPI:
    """Build the service over an open store; the caller owns the store and closes it."""
    # Oxigraph releases the GIL while it evaluates: threads run queries on every core. With query
    # workers, a thread mostly waits on a worker's pipe: there are enough for every worker the pool may
    # start, so that a few long queries never leave a short one waiting for a thread.
    executor = ThreadPoolExecutor(max_workers=max(32, 4 * (os.cpu_count() or 1)), thread_name_prefix="policykg-query")
    write_executor = ThreadPoolExecutor(max_workers=2, thread_name_prefix="policykg-write")

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        yield
        # Let running work finish (queries end at their time limit) before the caller closes the store.
        for pool in (write_executor, executor):
            pool.shutdown(wait=True, cancel_futures=True)

    app = FastAPI(
        title="policykg",
        summary="A policy-tracking knowledge graph for European cultural-heritage policy",
        description="SPARQL 1.1 Protocol (query and update) at /sparql and the Graph Store HTTP Protocol at /store. "
        "Writes need `Authorization: Bearer <token>`. Errors are RFC 9457 problem details.",
        version="0.1.0",
        lifespan=lifespan,
    )
    writer = make_writer(settings, store)
    app.state.context = ServiceContext(settings=settings, store=store, executor=executor, writer=writer,
                                       entries=Entries(store, writer, settings), write_executor=write_executor)
    problems.install(app)

    @app.middleware("http")
    async def page_policy(request: Request, call_next):  # type: ignore[no-untyped-def]
        # The pages run no script and load nothing from elsewhere: say so, so that a browser refuses to.
        response = await call_next(request)
        if response.headers.get("content-type", "").startswith("text/html"):
            response.headers.setdefault("Content-Security-Policy", _PAGE_POLICY)
            response.headers.setdefault("X-Content-Type-Options", "nosniff")
        return response

    # Reads may come from any web page; writes need the token, which a browser never sends on its own.
    app.add_middleware(CORSMiddleware, allow_origins=["*"], allow_methods=["GET", "HEAD", "POST"],
                       allow_headers=["Accept", "Content-Type"], expose_headers=["Content-Type", "Location", "ETag", "Last-Modified", "Link", "Content-Location"])
    app.include_router(routes_sparql.router)
    app.include_router(routes_store.router)
    app.include_router(routes_entries.router)
    app.include_router(routes_ldes.router)
    app.include_router(routes_pages.router)
    app.include_router(routes_resources.router)
    app.include_router(routes_dumps.router)
    app.include_router(routes_catalogue.router)
    return app

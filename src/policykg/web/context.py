"""What every route needs, built once by create_app: settings, the store, the query workers."""

import asyncio
import hmac
import threading
from collections import OrderedDict
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import TypeVar

from fastapi import Request
from starlette.datastructures import FormData

from policykg.config import Settings
from policykg.errors import PayloadTooLarge, ProtocolError, Unauthorized, WritesDisabled
from policykg.iris import agent_iri, operator_iri
from policykg.publish.tally import KeptStatistics
from policykg.search.index import SearchIndex
from policykg.store import Store
from policykg.web.sessions import Sessions
from policykg.writing.compaction import Compaction
from policykg.writing.entries import Entries
from policykg.writing.writer import Revision, Writer

T = TypeVar("T")


@dataclass
class ServiceContext:
    """The service's state, held by the app (never in module globals)."""

    settings: Settings
    store: Store
    executor: ThreadPoolExecutor  # queries and reads
    writer: Writer
    entries: Entries
    write_executor: ThreadPoolExecutor  # writes: committed in groups, and never in the readers' way
    dump_executor: ThreadPoolExecutor  # whole-dataset dumps, which last as long as their client reads
    search: SearchIndex  # the full-text index, kept in step by the writer
    sessions: Sessions = field(default_factory=Sessions)  # people signed in through /signin
    figures: KeptStatistics[Revision] | None = None  # VoID's figures, kept by the writer (None: a remote store)
    compaction: Compaction | None = None  # merges the store's files once writes pause
    _memo: dict[tuple[str, str], object] = field(default_factory=dict)
    _documents: "Documents" = field(default_factory=lambda: Documents())  # defined below
    _model: dict[str, object] = field(default_factory=dict)

    def memo(self, name: str, compute: Callable[[], T]) -> T:
        """A value computed from the store, kept until the next write."""
        key = (name, self.writer.revision.tag)
        kept = self._memo  # one read: another thread may replace the dictionary meanwhile
        if key in kept:
            return kept[key]  # type: ignore[return-value]  # a name always keeps the same kind of value
        value = compute()
        self._memo = {k: v for k, v in kept.items() if k[1] == key[1]} | {key: value}
        return value

    def model(self, name: str, compute: Callable[[], T]) -> T:
        """A value computed from the model's files (the forms read from the shapes), kept for the run."""
        if name not in self._model:
            self._model[name] = compute()  # two threads may both compute at first: either result does
        return self._model[name]  # type: ignore[return-value]  # a name always keeps the same kind of value

    def document(self, key: tuple[str, ...], compute: Callable[[], bytes]) -> bytes:
        """A document made from the store (a resource's description in one syntax), kept until the next write."""
        return self._documents.get(self.writer.revision.tag, key, compute)

    def kept_document(self, key: tuple[str, ...]) -> bytes | None:
        """The document under key if it is kept for the current revision (None: it must be made)."""
        return self._documents.kept(self.writer.revision.tag, key)


class Documents:
    """The most recently asked-for documents of the current revision, within a count and a size.

    Describing a resource takes a handful of queries and some serialising (1.5 ms for a generated event); a
    page or a crawler asks for the same resources again and again between writes. Safe across threads: two
    that miss at once both compute, and one result stays.
    """

    ENTRIES = 2048
    BYTES = 64 * 1024 * 1024

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._revision = ""
        self._kept: OrderedDict[tuple[str, ...], bytes] = OrderedDict()
        self._bytes = 0

    def get(self, revision: str, key: tuple[str, ...], compute: Callable[[], bytes]) -> bytes:
        """The document under key for this revision, computed on a miss."""
        found = self.kept(revision, key)
        if found is not None:
            return found
        made = compute()
        with self._lock:
            if revision == self._revision and key not in self._kept and len(made) <= self.BYTES // 16:
                self._kept[key] = made
                self._bytes += len(made)
                while len(self._kept) > self.ENTRIES or self._bytes > self.BYTES:
                    self._bytes -= len(self._kept.popitem(last=False)[1])
        return made

    def kept(self, revision: str, key: tuple[str, ...]) -> bytes | None:
        """The document under key if it is kept for this revision (a few dictionary steps: fine on the event loop)."""
        with self._lock:
            if revision != self._revision:
                self._revision, self._kept, self._bytes = revision, OrderedDict(), 0
            found = self._kept.get(key)
            if found is not None:
                self._kept.move_to_end(key)
            return found


def context(request: Request) -> ServiceContext:
    """The context of the app that received the request."""
    return request.app.state.context


async def read_body(request: Request, limit: int) -> bytes:
    """Read the request body, refusing (413) one larger than limit without reading it all."""
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > limit:
        raise PayloadTooLarge(f"the body has {declared} bytes; this service takes at most {limit}")
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > limit:
            raise PayloadTooLarge(f"the body is larger than the limit of {limit} bytes")
    return bytes(body)


async def read_form(request: Request, limit: int) -> FormData:
    """A posted form (urlencoded or multipart), refused (413) when its declared length is over the limit."""
    declared = request.headers.get("content-length", "")
    if not declared.isdigit():
        raise ProtocolError("send a form with its Content-Length, as browsers do")
    if int(declared) > limit:
        raise PayloadTooLarge(f"the form has {declared} bytes; this service takes at most {limit}")
    return await request.form(max_files=1, max_fields=2000, max_part_size=limit)


def require_contributor(request: Request, settings: Settings) -> str:
    """The IRI of the agent a request's bearer token belongs to: a contributor, or the operator."""
    agent = agent_of_token(settings, _bearer(request))
    if agent is None:
        raise Unauthorized("send your token as 'Authorization: Bearer <token>'")
    return agent


def agent_of_token(settings: Settings, given: str) -> str | None:
    """The agent a token belongs to (compared in constant time), None for no known token; 403 with none set."""
    if settings.update_token is None and not settings.contributor_tokens:
        raise WritesDisabled(
            "writes are disabled: the operator has set no token (POLICYKG_UPDATE_TOKEN, POLICYKG_CONTRIBUTOR_TOKENS)"
        )
    for token, name in settings.contributor_tokens.items():
        if given and hmac.compare_digest(given.encode("utf-8"), token.encode("utf-8")):
            return agent_iri(settings.base_iri, name)
    if (
        settings.update_token is not None
        and given
        and hmac.compare_digest(given.encode("utf-8"), settings.update_token.get_secret_value().encode("utf-8"))
    ):
        return operator_iri(settings.base_iri)
    return None


def require_writer(request: Request, settings: Settings) -> None:
    """Let a raw write through only with the operator's bearer token (compared in constant time)."""
    if settings.update_token is None:
        raise WritesDisabled("writes are disabled: the operator has set no update token (POLICYKG_UPDATE_TOKEN)")
    given = _bearer(request)
    expected = settings.update_token.get_secret_value().encode("utf-8")
    if not given or not hmac.compare_digest(given.encode("utf-8"), expected):
        raise Unauthorized("send the update token as 'Authorization: Bearer <token>'")


def _bearer(request: Request) -> str:
    scheme, _, given = request.headers.get("authorization", "").partition(" ")
    return given.strip() if scheme.lower() == "bearer" else ""


async def run(executor: ThreadPoolExecutor, work: Callable[[], T]) -> T:
    """Run blocking work (store reads, validation) in a pool, off the event loop."""
    return await asyncio.get_running_loop().run_in_executor(executor, work)

"""Virtuoso's queries on the wire: the form a query is sent as, and its answer read back as any engine's.

The store (virtuoso.py) sends each query as a form POST asking for SPARQL XML results or N-Triples, and
reads the answer through these helpers: Virtuoso's `nodeID://` blank-node labels are made plain, an answer
stopped at the deadline or cut at its row limit is refused, and a query Virtuoso calls malformed gets
Oxigraph's message with its line and column.
"""

import io
from collections.abc import Iterator
from typing import TYPE_CHECKING

import httpx
import pyoxigraph as ox

from policykg.errors import QueryError, QueryTimeout, ResultTooLarge
from policykg.rdf.mediatypes import GRAPH_MEDIA, RESULT_MEDIA
from policykg.store import virtuosoupdates as updates
from policykg.store.base import Dataset, Limits

if TYPE_CHECKING:
    from typing_extensions import Buffer  # collections.abc.Buffer from Python 3.12

RESULTS = RESULT_MEDIA["xml"]
TRIPLES = GRAPH_MEDIA["ntriples"]
_NO_GRAPH = "urn:x-policykg:empty-default-graph"  # never written: an empty default graph, or no named graph
_NODE_ID = b"<bnode>nodeID://"


def request_form(
    sparql: str,
    base_iri: str | None,
    prefixes: dict[str, str] | None,
    dataset: Dataset,
    limits: Limits | None,
) -> dict[str, object]:
    """The form a query is sent as: its text with one prologue, its dataset, and the time left as Virtuoso's timeout."""
    # SPARQL 1.1 Protocol §2.1.4, Query §13.2: named graphs alone leave the default graph empty, default
    # graphs alone leave no named graph; Virtuoso reads a missing list as all graphs, so a graph never written
    # stands for none.
    defaults, named = list(dataset.default_graphs), list(dataset.named_graphs)
    if not defaults and named:
        defaults = [_NO_GRAPH]
    elif defaults and not named:
        named = [_NO_GRAPH]
    source, base, declarations, operations = updates.split(sparql)
    ours = "".join(f"PREFIX {p}: <{ns}> " for p, ns in (prefixes or {}).items())
    body = source[operations[0][0].start :] if operations else ""
    newlines = source[: operations[0][0].start].count("\n") if operations else 0  # the request's own prologue
    head = updates.prologue(base or (f"<{base_iri}>" if base_iri else None), ours + declarations)
    text = head + "\n" * newlines + body
    form: dict[str, object] = {
        "query": text,
        "default-graph-uri": defaults,
        "named-graph-uri": named,
    }
    remaining = None if limits is None else limits.remaining()
    if remaining is not None:
        form["timeout"] = str(max(int(remaining * 1000), 1))  # Virtuoso then stops near the deadline itself
    return form


class Answer(io.RawIOBase):
    """A readable file over the chunks of an answer, Virtuoso's `nodeID://` blank-node labels made plain."""

    def __init__(self, chunks: Iterator[bytes]) -> None:
        self._chunks = chunks
        self._ready = b""
        self._held = b""  # the end of the last chunk, which could hold the start of a label

    def readable(self) -> bool:
        """Always True: the answer is read, never written."""
        return True

    def readinto(self, buffer: "Buffer", /) -> int:
        """Fill buffer with the next bytes of the answer; return how many (0 at its end)."""
        view = memoryview(buffer)
        while not self._ready:
            chunk = next(self._chunks, None)
            if chunk is None:
                self._ready, self._held = self._held, b""
                if not self._ready:
                    return 0
                break
            text = (self._held + chunk).replace(_NODE_ID, b"<bnode>")
            keep = len(_NODE_ID) - 1
            self._ready, self._held = text[:-keep], text[-keep:]
        size = min(len(view), len(self._ready))
        view[:size] = self._ready[:size]
        self._ready = self._ready[size:]
        return size


def raise_syntax_error(sparql: str, base_iri: str | None, prefixes: dict[str, str] | None) -> None:
    """Raise Oxigraph's message, with line and column, for a query Virtuoso found malformed, if Oxigraph does too.

    Oxigraph parses and plans the query over an empty store, and evaluates nothing: its answers are lazy.
    """
    try:
        ox.Store().query(sparql, base_iri=base_iri, prefixes=prefixes)
    except SyntaxError as error:
        raise QueryError(str(error)) from None
    except (OSError, RuntimeError, ValueError):
        pass  # not a syntax error: Virtuoso's own message follows


def check_whole(response: httpx.Response, limits: Limits | None) -> None:
    """Refuse an answer Virtuoso sends incomplete: stopped at the deadline, or cut at its row limit."""
    if response.headers.get("x-sql-state") == "S1TAT":
        seconds = "" if limits is None or limits.timeout is None else f" of {limits.timeout:g} s"
        raise QueryTimeout(f"the query ran longer than the limit{seconds} and was stopped")
    if "x-sparql-maxrows" in response.headers:
        raise ResultTooLarge(
            f"Virtuoso cut the answer at {response.headers['x-sparql-maxrows']} rows, its "
            "[SPARQL] ResultSetMaxRows: raise that limit for answers (and dumps) this large"
        )

"""Which dialect a remote engine speaks: the generic SPARQL 1.1 store (remote.py) or Virtuoso's (virtuoso.py).

Kept apart from both, so that the dialect builds on the generic store and nothing imports back.
"""

from typing import Unpack

import httpx

from policykg.errors import StoreError
from policykg.rdf.mediatypes import RESULT_MEDIA
from policykg.store.remote import Connection, RemoteStore
from policykg.store.virtuoso import VirtuosoStore


def open_remote(query_url: str, *, engine: str = "auto", **connection: Unpack[Connection]) -> RemoteStore:
    """A store kept by a remote engine, in its dialect: the one named, or for 'auto' the one it says it is."""
    if engine == "auto":
        engine = detect_engine(query_url)
    dialect = VirtuosoStore if engine == "virtuoso" else RemoteStore
    return dialect(query_url, **connection)


def detect_engine(query_url: str) -> str:
    """'virtuoso' when the engine's Server header names Virtuoso, else 'generic'."""
    try:
        response = httpx.get(query_url, params={"query": "ASK {}"}, timeout=30, headers={"Accept": RESULT_MEDIA["xml"]})
    except httpx.HTTPError as error:
        raise StoreError(f"the store at {query_url} did not answer, so its engine is unknown: {error}") from None
    return "virtuoso" if response.headers.get("server", "").lower().startswith("virtuoso") else "generic"

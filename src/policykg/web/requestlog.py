"""Request logs: one JSON line per request on the logger policykg.access, each request named by an id.

A pure ASGI middleware, so that streamed answers keep streaming: it counts the bytes and notes the status
as they pass. The id is the client's `X-Request-ID` when it is well-formed, else a new one; it goes back
in the `X-Request-ID` response header and into problem details, so that a user can quote it. Nothing of
the request's headers but that id is logged, and of its address only the path: the `Authorization`
header, cookies and the query string (a SPARQL query can be long, or personal) never reach the log.
"""

import json
import logging
import re
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

ACCESS_LOGGER = "policykg.access"
HEADER = "X-Request-ID"
_STATE_KEY = "request_id"
# Bounded and plain, so that a client's id can go into a header, a log line and a page as it is.
_WELL_FORMED = re.compile(r"[A-Za-z0-9._:+=/-]{1,128}")
_HEADER_NAME = HEADER.lower().encode("latin-1")


def choose_request_id(headers: list[tuple[bytes, bytes]]) -> str:
    """The id a request gives itself in X-Request-ID when it is well-formed, else a new one."""
    for name, value in headers:
        if name.lower() == _HEADER_NAME:
            given = value.decode("latin-1")
            return given if _WELL_FORMED.fullmatch(given) else _new_id()
    return _new_id()


def request_id_of(scope: Scope) -> str | None:
    """The id the middleware gave the request in scope (None outside it)."""
    return scope.get("state", {}).get(_STATE_KEY)


def _new_id() -> str:
    return str(uuid.uuid4())


@dataclass
class _Exchange:
    """What is known of one request and its answer, filled in as the messages pass."""

    request_id: str
    started: float
    status: int | None = None
    bytes_read: int = 0
    bytes_sent: int = 0
    error: str | None = None


class RequestLog:
    """ASGI middleware: give each HTTP request an id, echo it, and log one JSON line when the request ends."""

    def __init__(self, app: ASGIApp, logger_name: str = ACCESS_LOGGER) -> None:
        self.app = app
        self.logger = logging.getLogger(logger_name)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        exchange = _Exchange(choose_request_id(scope["headers"]), time.perf_counter())
        scope.setdefault("state", {})[_STATE_KEY] = exchange.request_id

        async def counted_receive() -> Message:
            message = await receive()
            if message["type"] == "http.request":
                exchange.bytes_read += len(message.get("body", b""))
            return message

        async def stamped_send(message: Message) -> None:
            if message["type"] == "http.response.start":
                exchange.status = message["status"]
                MutableHeaders(scope=message)[HEADER] = exchange.request_id
            elif message["type"] == "http.response.body" and scope["method"] != "HEAD":  # the server drops that body
                exchange.bytes_sent += len(message.get("body", b""))
            await send(message)

        try:
            await self.app(scope, counted_receive, stamped_send)
        except BaseException as error:
            # Starlette wraps an error raised after the answer began; the cause says what happened.
            exchange.error = type(error.__cause__ or error).__name__
            raise
        finally:
            self.logger.info(_access_line(scope, exchange))


def _access_line(scope: Scope, exchange: _Exchange) -> str:
    """The JSON line that records one request: ASCII, every control or line-separating character escaped."""
    client = scope.get("client")
    record = {
        "time": datetime.now(UTC).isoformat(timespec="milliseconds"),
        "request_id": exchange.request_id,
        "method": scope["method"],
        "path": scope["path"],
        # With no answer begun, the server's error handler sends a 500.
        "status": exchange.status if exchange.status is not None else 500,
        "duration_ms": round((time.perf_counter() - exchange.started) * 1000, 1),
        "bytes_read": exchange.bytes_read,
        "bytes_sent": exchange.bytes_sent,
        "client": client[0] if client else None,
    }
    if exchange.error is not None:
        record["error"] = exchange.error
    return json.dumps(record)


def logging_config(level: str) -> dict[str, object]:
    """A logging.config.dictConfig for the server: uvicorn's messages as text, request lines as bare JSON, both
    on standard error; below `level` nothing is written (warning and up: no request lines)."""
    level = level.upper()
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {
            "text": {"format": "%(levelname)s: %(name)s: %(message)s"},
            "line": {"format": "%(message)s"},
        },
        "handlers": {
            "text": {"class": "logging.StreamHandler", "formatter": "text", "stream": "ext://sys.stderr"},
            "line": {"class": "logging.StreamHandler", "formatter": "line", "stream": "ext://sys.stderr"},
        },
        "loggers": {
            "uvicorn": {"handlers": ["text"], "level": level, "propagate": False},
            "uvicorn.error": {"level": level},
            "policykg": {"handlers": ["text"], "level": level, "propagate": False},
            ACCESS_LOGGER: {"handlers": ["line"], "level": level, "propagate": False},
        },
    }

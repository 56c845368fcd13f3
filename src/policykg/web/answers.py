"""A store's answer as an HTTP response: one message with its length when it is small, a stream otherwise."""

from collections.abc import Mapping

from fastapi.responses import Response, StreamingResponse
from starlette.types import Receive, Scope, Send

from policykg.store import Answer


class _AnswerStream(StreamingResponse):
    """A streamed answer whose query is stopped however the response ends, even before its first chunk."""

    def __init__(self, answer: Answer, media_type: str, headers: Mapping[str, str] | None) -> None:
        super().__init__(answer.chunks(), media_type=media_type, headers=headers)
        self._answer = answer

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        try:
            await super().__call__(scope, receive, send)
        finally:
            self._answer.close()


def answer_response(answer: Answer, media_type: str, headers: Mapping[str, str] | None = None) -> Response:
    """A Response holding a complete answer (sent at once, with Content-Length), or streaming the rest as it comes."""
    if answer.complete:
        return Response(answer.first, media_type=media_type, headers=headers)
    return _AnswerStream(answer, media_type, headers)

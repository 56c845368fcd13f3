"""A store's answer as an HTTP response: one message with its length when it is small, a stream otherwise."""

from collections.abc import Mapping

from fastapi.responses import Response, StreamingResponse

from policykg.store import Answer


def answer_response(answer: Answer, media_type: str, headers: Mapping[str, str] | None = None) -> Response:
    """A Response holding a complete answer (sent at once, with Content-Length), or streaming the rest as it comes."""
    if answer.complete:
        return Response(answer.first, media_type=media_type, headers=headers)
    return StreamingResponse(answer.chunks(), media_type=media_type, headers=headers)

"""Request body size limits per route, enforced before the body is read (413 problem+json).

:data:`BODY_LIMITS` names the routes that take more than :data:`DEFAULT_BODY_BYTES`; every
other request gets the default. :class:`BodyLimit` is a pure ASGI middleware: a declared
``Content-Length`` over the limit is refused without reading a byte, and a body streamed
without one (chunked) is counted as it arrives and refused at the first chunk past the
limit, so no handler ever holds more than its route's limit.
"""

from __future__ import annotations

from typing import Final

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from guanghe.api.problems import problem
from guanghe.originality.images import MAX_FRAME_FILES, MAX_IMAGE_BYTES, MAX_VIDEO_BYTES

#: A JSON object or a form: far more than any such body needs.
DEFAULT_BODY_BYTES: Final = 64 * 1024
#: A list of up to a thousand items (boost candidates, deliveries).
LIST_BODY_BYTES: Final = 1024 * 1024
#: A work upload: a cover, then either pictures (up to the frame count) or one video, and
#: the form's text fields (as the picture rules of :mod:`guanghe.originality.images` allow).
UPLOAD_BODY_BYTES: Final = (
    MAX_IMAGE_BYTES + max(MAX_FRAME_FILES * MAX_IMAGE_BYTES, MAX_VIDEO_BYTES) + 64 * 1024
)
#: A cover alone and a form (the dashboard's diagnosis of a draft).
COVER_BODY_BYTES: Final = MAX_IMAGE_BYTES + 64 * 1024

#: An iCalendar import (:data:`guanghe.hotspots.MAX_ICS_BYTES`) and its form.
ICS_BODY_BYTES: Final = 2_000_000 + 64 * 1024

#: The routes (method, path) allowed more than the default.
BODY_LIMITS: Final[dict[tuple[str, str], int]] = {
    ("POST", "/v1/boost"): LIST_BODY_BYTES,
    ("POST", "/v1/boost/deliveries"): LIST_BODY_BYTES,
    ("POST", "/v1/works"): UPLOAD_BODY_BYTES,
    ("POST", "/v1/diagnosis"): UPLOAD_BODY_BYTES,
    ("POST", "/dashboard/originality/diagnosis"): COVER_BODY_BYTES,
    ("POST", "/v1/calendar/import"): ICS_BODY_BYTES,
}


def body_limit(method: str, path: str) -> int:
    """The most bytes a request body of ``method path`` may hold."""
    return BODY_LIMITS.get((method, path.rstrip("/") or "/"), DEFAULT_BODY_BYTES)


class BodyLimit:
    """Refuse request bodies over their route's limit with a 413 problem, reading no more
    than the limit."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = body_limit(str(scope["method"]), str(scope["path"]))
        declared = _content_length(scope)
        if declared is not None and declared > limit:
            await _refuse(scope, receive, send, limit)
            return
        received = 0
        over = started = False

        async def counted() -> Message:
            nonlocal received, over
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    over = True
                    raise BodyTooLarge
            return message

        async def tracked(message: Message) -> None:
            nonlocal started
            if over:  # the app's answer to the cut stream is replaced by the 413
                return
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, counted, tracked)
        except Exception:
            if not over:  # only what the cut stream caused is replaced by the 413
                raise
        if over and not started:
            await _refuse(scope, receive, send, limit)


class BodyTooLarge(Exception):
    """Raised to the application when its body stream passes the route's limit."""


def _content_length(scope: Scope) -> int | None:
    for name, value in scope.get("headers", ()):
        if name == b"content-length":
            try:
                return int(value)
            except ValueError:
                return None
    return None


async def _refuse(scope: Scope, receive: Receive, send: Send, limit: int) -> None:
    response = problem(
        413,
        "too-large",
        "Content too large",
        f"the request body is larger than the {limit:,} bytes this route accepts",
        str(scope.get("path", "")),
    )
    response.headers["Connection"] = "close"
    await response(scope, receive, send)

"""Guanghe's error tree. Every error has a stable machine ``code``.

::

    GuangheError
    ├── InvalidInput        (invalid-input)     bad values, files or parameters
    │   ├── RejectedBatch   (rejected-batch)    a batch file with bad rows; nothing applied
    │   └── TooLarge        (too-large)         an upload over its size or pixel limit
    ├── NotFound            (not-found)         an id that does not exist (or is not visible)
    ├── Conflict            (conflict)          an id reused with different content
    ├── Unauthenticated     (unauthenticated)   missing or unknown credentials
    ├── Forbidden           (forbidden)         known caller, not allowed
    ├── TooManyRequests     (too-many-requests) over a per-account limit (community posting)
    └── Unavailable         (unavailable)       a required server cannot be reached

The API maps these once to RFC 9457 problem+json; the CLI maps them once to a line on stderr
and a non-zero exit. Domain errors carry no HTTP types.
"""

from __future__ import annotations

from pathlib import Path
from typing import ClassVar


class GuangheError(Exception):
    """Base of every error Guanghe raises on purpose."""

    code: ClassVar[str] = "error"
    title: ClassVar[str] = "Error"

    def __init__(self, detail: str) -> None:
        super().__init__(detail)
        self.detail = detail


class InvalidInput(GuangheError):
    """A request, file or parameter failed validation."""

    code = "invalid-input"
    title = "Invalid input"


class RejectedBatch(InvalidInput):
    """A batch file had bad rows; nothing was applied and a row-level report was written."""

    code = "rejected-batch"
    title = "Batch rejected"

    def __init__(self, detail: str, report_path: Path, bad_rows: int) -> None:
        super().__init__(detail)
        self.report_path = report_path
        self.bad_rows = bad_rows


class TooLarge(InvalidInput):
    """An upload (a file, a picture's pixels, a request's total) is over its limit."""

    code = "too-large"
    title = "Too large"


class NotFound(GuangheError):
    """The addressed entity does not exist, or is not visible to the caller."""

    code = "not-found"
    title = "Not found"


class Conflict(GuangheError):
    """An idempotency key or unique id was reused with different content."""

    code = "conflict"
    title = "Conflict"


class Unauthenticated(GuangheError):
    """The caller presented no credentials, or unknown ones."""

    code = "unauthenticated"
    title = "Unauthenticated"


class Forbidden(GuangheError):
    """The caller is known but may not do this."""

    code = "forbidden"
    title = "Forbidden"


class TooManyRequests(GuangheError):
    """The caller is over a per-account limit; ``retry_after_seconds`` says when trying again
    makes sense."""

    code = "too-many-requests"
    title = "Too many requests"

    def __init__(self, detail: str, *, retry_after_seconds: int) -> None:
        super().__init__(detail)
        self.retry_after_seconds = retry_after_seconds


class Unavailable(GuangheError):
    """A server the operation needs (database, Redis, Spark) cannot be reached; when it is
    known, ``retry_after_seconds`` says when trying again makes sense."""

    code = "unavailable"
    title = "Service unavailable"

    def __init__(self, detail: str, *, retry_after_seconds: int | None = None) -> None:
        super().__init__(detail)
        self.retry_after_seconds = retry_after_seconds

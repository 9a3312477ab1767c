"""Keyset pagination, one way for every list: ``limit`` items a page and an opaque cursor.

A cursor is the URL-safe base64 of a JSON list: the sort key of the last item of the page
(its id, or a time and an id). A query fetches ``limit + 1`` rows after the cursor's key;
the extra row only says that another page follows. A cursor that does not decode, or holds
an id outside 1 .. 2**63 - 1, is :class:`~guanghe.errors.InvalidInput` naming ``cursor``.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Final, Generic, TypeVar

from guanghe.bounds import MAX_INT63
from guanghe.errors import InvalidInput

#: Most items one page holds.
MAX_PAGE: Final = 200

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class Page(Generic[T]):
    """One page of results; ``next_cursor`` is None on the last page."""

    items: list[T]
    next_cursor: str | None


def check_limit(limit: int) -> None:
    """:class:`InvalidInput` unless ``1 <= limit <= MAX_PAGE``."""
    if not 1 <= limit <= MAX_PAGE:
        raise InvalidInput(f"limit must be between 1 and {MAX_PAGE}")


def encode_cursor(key: list[Any]) -> str:
    """The cursor that resumes after the item whose sort key is ``key``."""
    return base64.urlsafe_b64encode(json.dumps(key).encode()).decode().rstrip("=")


def decode_cursor(cursor: str, arity: int) -> list[Any]:
    """The sort key in ``cursor``: ``arity`` values, the last an id in 63 bits."""
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        key = json.loads(base64.urlsafe_b64decode(padded.encode()))
    except (binascii.Error, ValueError, UnicodeDecodeError) as exc:
        raise InvalidInput("cursor is malformed") from exc
    if not isinstance(key, list) or len(key) != arity:
        raise InvalidInput("cursor is malformed")
    last = key[-1]
    if not isinstance(last, int) or isinstance(last, bool) or not 1 <= last <= MAX_INT63:
        raise InvalidInput("cursor is malformed: its id is not in 1 .. 2**63 - 1")
    return key


def after_id(cursor: str | None) -> int | None:
    """The id a list in id order resumes after, or ``None`` for the first page."""
    return None if cursor is None else int(decode_cursor(cursor, 1)[0])


def page_of(rows: Sequence[T], limit: int, key: Callable[[T], list[Any]]) -> Page[T]:
    """The page of the first ``limit`` of ``rows`` (fetched as ``limit + 1``), its cursor made
    from ``key`` of its last item when more rows follow."""
    items = list(rows[:limit])
    more = len(rows) > limit and bool(items)
    return Page(items, encode_cursor(key(items[-1])) if more else None)

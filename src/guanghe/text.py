"""The one rule for text Guanghe accepts from outside: what every store can hold.

PostgreSQL refuses a NUL character in ``text``, and no store can encode a lone UTF-16
surrogate; a value past its field's length is refused rather than cut. The API's models
(:data:`StorableText`), the CLI and ingest all apply :func:`text_problem`, so bad text is a 4xx
or a row in a report at the edge, never a 500 or a poisoned row further in.
"""

from __future__ import annotations

import re
from typing import Annotated, Final

from pydantic import AfterValidator

from guanghe.errors import InvalidInput

#: Longest text any free-form field holds unless it says otherwise (characters).
MAX_TEXT_CHARS: Final = 10_000

_UNSTORABLE: Final = re.compile("[\x00\ud800-\udfff]")


def text_problem(value: str, *, max_chars: int = MAX_TEXT_CHARS) -> str | None:
    """Why ``value`` cannot be stored, in a phrase, or ``None`` when it can."""
    bad = _UNSTORABLE.search(value)
    if bad is not None:
        what = "a NUL character" if bad.group() == "\x00" else "a lone surrogate"
        return f"holds {what} at position {bad.start()}"
    if len(value) > max_chars:
        return f"is {len(value)} characters long; at most {max_chars} are allowed"
    return None


def check_text(value: str, *, field: str, max_chars: int = MAX_TEXT_CHARS) -> str:
    """``value`` unchanged, or :class:`InvalidInput` naming ``field`` and what is wrong."""
    problem = text_problem(value, max_chars=max_chars)
    if problem is not None:
        raise InvalidInput(f"{field} {problem}")
    return value


def _storable(value: str) -> str:
    problem = text_problem(value)
    if problem is not None:
        raise ValueError(f"text {problem}")
    return value


#: A ``str`` field of an API model that only admits storable text.
StorableText = Annotated[str, AfterValidator(_storable)]

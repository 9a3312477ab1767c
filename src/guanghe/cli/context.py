"""Building the runtime for a command, only when the command needs it."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from pydantic import ValidationError

from guanghe.errors import InvalidInput
from guanghe.runtime import Runtime
from guanghe.settings import Settings


@contextmanager
def open_runtime() -> Iterator[Runtime]:
    """The runtime from ``GUANGHE_*`` settings, schema up to date; closed on exit."""
    try:
        settings = Settings()
    except ValidationError as exc:
        first = exc.errors()[0]
        raise InvalidInput(f"bad GUANGHE_ setting {first['loc']}: {first['msg']}") from exc
    with Runtime(settings) as runtime:
        runtime.init()
        yield runtime

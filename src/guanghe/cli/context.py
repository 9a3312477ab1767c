"""Building the runtime for a command, only when the command needs it."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

from guanghe.errors import InvalidInput

if TYPE_CHECKING:
    from guanghe.runtime import Runtime


@contextmanager
def open_runtime() -> Iterator[Runtime]:
    """The runtime from ``GUANGHE_*`` settings, schema up to date; closed on exit.

    Imports the stores here, not at module load, so ``guanghe --help`` stays instant."""
    from pydantic import ValidationError

    from guanghe.runtime import Runtime
    from guanghe.settings import Settings

    try:
        settings = Settings()
    except ValidationError as exc:
        first = exc.errors()[0]
        raise InvalidInput(f"bad GUANGHE_ setting {first['loc']}: {first['msg']}") from exc
    with Runtime(settings) as runtime:
        runtime.init()
        yield runtime

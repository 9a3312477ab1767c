"""Building the runtime for a command, only when the command needs it."""

from __future__ import annotations

from pydantic import ValidationError

from guanghe.errors import InvalidInput
from guanghe.runtime import Runtime
from guanghe.settings import Settings


def open_runtime(*, init: bool = True) -> Runtime:
    """The runtime from ``GUANGHE_*`` settings, its schema brought up to date."""
    try:
        settings = Settings()
    except ValidationError as exc:
        first = exc.errors()[0]
        raise InvalidInput(f"bad GUANGHE_ setting {first['loc']}: {first['msg']}") from exc
    runtime = Runtime(settings)
    if init:
        runtime.init()
    return runtime

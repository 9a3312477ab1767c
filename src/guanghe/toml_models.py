"""Configuration files: TOML text validated into a Pydantic model, with errors that name the
file, the line and the key (the one loader of the rules and traffic programme files)."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path
from typing import Any, TypeVar

from pydantic import TypeAdapter, ValidationError

from guanghe.errors import InvalidInput

M = TypeVar("M")


def read_toml_file(path: Path, what: str) -> str:
    """The text of the ``what`` file at ``path`` (e.g. ``what="rules"``); :class:`InvalidInput`
    naming the file when it cannot be read."""
    try:
        return path.read_text(encoding="utf-8")
    except OSError as exc:
        raise InvalidInput(f"cannot read {what} file {path}: {exc.strerror}") from exc


def parse_toml_model(text: str, source: str, adapter: TypeAdapter[M]) -> M:
    """The TOML ``text`` validated by ``adapter``; ``source`` names the file in errors, which
    give the line and dotted key of the first problem and how many more there are."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise InvalidInput(f"{source}: not valid TOML: {exc}") from exc
    try:
        return adapter.validate_python(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        loc = tuple(first["loc"])
        more = f" (and {exc.error_count() - 1} more)" if exc.error_count() > 1 else ""
        raise InvalidInput(f"{where(text, source, loc)}: {first['msg']}{more}") from exc


def where(text: str, source: str, loc: tuple[Any, ...]) -> str:
    """``source, line N: dotted.key`` for the key ``loc`` points at in ``text``."""
    line = line_of(text, loc)
    at = f", line {line}" if line else ""
    return f"{source}{at}: {'.'.join(str(part) for part in loc) or '(top level)'}"


def line_of(text: str, loc: tuple[Any, ...]) -> int | None:
    """The 1-based line of the TOML key ``loc`` points at (or of its table), best effort."""
    strings = [i for i, part in enumerate(loc) if isinstance(part, str)]
    if not strings:
        return None
    last = strings[-1]
    key = loc[last]
    header = ".".join(str(p) for p in loc[:last] if isinstance(p, str))
    ints = [p for p in loc[:last] if isinstance(p, int)]
    occurrence = ints[-1] if ints else 0
    current, seen, header_line = "", {"": 0}, None
    key_pattern = re.compile(rf"^\s*{re.escape(str(key))}\s*=")
    for number, line in enumerate(text.splitlines(), start=1):
        match = re.match(r"^\s*\[\[?\s*([^\]]+?)\s*\]\]?", line)
        if match:
            current = match.group(1)
            seen[current] = seen.get(current, -1) + 1
            if current == header and seen[current] == occurrence:
                header_line = number
            if current == ".".join(str(p) for p in loc if isinstance(p, str)):
                header_line = header_line or number
            continue
        if current == header and seen.get(current) == occurrence and key_pattern.match(line):
            return number
    return header_line

"""Reading event files (CSV, JSON Lines, Parquet) into rows of canonical text for validation.

What is wrong with the file as a whole (an unsupported type, an unreadable file, a CSV header
or Parquet schema naming unknown or too few columns) is :class:`InvalidInput`. What is wrong
with one row is a problem of that row, so the report can list every one of them:

- a JSON Lines line that is empty, not JSON or not an object;
- a JSON object with a key that is not an event field (each JSON line names its own fields);
- a CSV record with more fields than the header names;
- text no store can hold (:func:`guanghe.text.text_problem`: a NUL, a lone surrogate, or a
  value too long; ``event_id`` and ``ref_event_id`` hold at most 128 characters) in any field.

A cell whose text cannot be stored is kept, for the report only, as an escaped excerpt
(``ev\\x001``), and no other check is made of it.
"""

from __future__ import annotations

import csv
import datetime as dt
import json
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from guanghe.errors import InvalidInput
from guanghe.events.schema import EVENT_SCHEMA, REQUIRED_COLUMNS
from guanghe.text import MAX_TEXT_CHARS, text_problem

SUFFIXES: Final = {".csv": "csv", ".jsonl": "jsonl", ".ndjson": "jsonl", ".parquet": "parquet"}
#: Longest ``event_id`` or ``ref_event_id`` (characters).
MAX_EVENT_ID_CHARS: Final = 128
_MAX_CHARS: Final = {"event_id": MAX_EVENT_ID_CHARS, "ref_event_id": MAX_EVENT_ID_CHARS}
_SHOWN_CHARS: Final = 64


@dataclass(slots=True)
class EventRows:
    """A file's rows as text, with the problems found while reading them.

    ``frame`` has every :data:`EVENT_SCHEMA` column, one row per record, ``""`` for missing.
    ``problems`` are ``(row, field, error)`` with ``row`` 1-based; ``unreadable`` marks rows
    with no usable fields, ``blocked`` the cells (per column) that no other check may look at.
    """

    frame: pd.DataFrame
    problems: list[tuple[int, str, str]] = field(default_factory=list)
    unreadable: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=bool))
    blocked: dict[str, np.ndarray] = field(default_factory=dict)


def read_event_file(path: Path) -> EventRows:
    """The records of ``path``, checked for what reading alone can tell."""
    kind = SUFFIXES.get(path.suffix.lower())
    if kind is None:
        raise InvalidInput(
            f"{path.name}: unsupported file type; expected one of {', '.join(sorted(SUFFIXES))}"
        )
    if not path.is_file():
        raise InvalidInput(f"{path}: no such file")
    problems: list[tuple[int, str, str]] = []
    unreadable: set[int] = set()
    try:
        if kind == "csv":
            columns = _read_csv(path, problems)
        elif kind == "parquet":
            columns = _read_parquet(path)
        else:
            columns = _read_jsonl(path, problems, unreadable)
    except (ValueError, OSError, pa.ArrowException, UnicodeDecodeError, csv.Error) as exc:
        raise InvalidInput(f"{path.name}: cannot read as {kind}: {exc}") from exc
    rows = len(columns["event_id"])
    text = {name: [_canonical(v) for v in columns[name]] for name in EVENT_SCHEMA.names}
    blocked = {name: _unstorable(name, values, problems) for name, values in text.items()}
    mask = np.zeros(rows, dtype=bool)
    mask[[r - 1 for r in unreadable]] = True
    frame = pd.DataFrame(text, columns=list(EVENT_SCHEMA.names), dtype=str)
    return EventRows(frame, problems, mask, blocked)


def _read_csv(path: Path, problems: list[tuple[int, str, str]]) -> dict[str, list[Any]]:
    with path.open(encoding="utf-8-sig", newline="") as handle:
        reader = csv.reader(handle, skipinitialspace=True)
        header = [name.strip() for name in next(reader, [])]
        if not any(header):
            raise InvalidInput(f"{path.name}: cannot read as csv: no header row")
        _check_columns(header, path)
        width = len(header)
        records = [r for r in reader if r and (len(r) > 1 or r[0].strip())]
    for row, record in enumerate(records, start=1):
        if len(record) > width:
            problems.append((row, "record", f"has {len(record)} fields; the header names {width}"))
    columns = {name: [r[i] if i < len(r) else "" for r in records] for i, name in enumerate(header)}
    return {name: columns.get(name, [""] * len(records)) for name in EVENT_SCHEMA.names}


def _read_parquet(path: Path) -> dict[str, list[Any]]:
    table = pq.read_table(path)
    _check_columns(table.column_names, path)
    empty = [None] * table.num_rows
    return {
        name: table.column(name).to_pylist() if name in table.column_names else empty
        for name in EVENT_SCHEMA.names
    }


def _read_jsonl(
    path: Path, problems: list[tuple[int, str, str]], unreadable: set[int]
) -> dict[str, list[Any]]:
    columns: dict[str, list[Any]] = {name: [] for name in EVENT_SCHEMA.names}
    with path.open(encoding="utf-8") as handle:
        for row, line in enumerate(handle, start=1):
            record = _json_object(line)
            if isinstance(record, str):
                problems.append((row, "record", record))
                unreadable.add(row)
                record = {}
            for key in record:
                if key not in columns:
                    problems.append((row, _shown(key), "not an event field"))
            for name, values in columns.items():
                values.append(record.get(name))
    return columns


def _json_object(line: str) -> dict[str, Any] | str:
    """The line's JSON object, or why it is not one."""
    if not line.strip():
        return "empty line"
    try:
        value = json.loads(line)
    except json.JSONDecodeError as exc:
        return f"not valid JSON: {exc.msg}"
    return value if isinstance(value, dict) else "not a JSON object"


def _check_columns(columns: list[str], path: Path) -> None:
    """A CSV header or Parquet schema names each required column, each column once, and
    only event fields."""
    missing = [c for c in REQUIRED_COLUMNS if c not in columns]
    unknown = [c for c in columns if c not in EVENT_SCHEMA.names]
    repeated = sorted({c for c in columns if columns.count(c) > 1})
    if missing:
        raise InvalidInput(f"{path.name}: missing required column(s): {', '.join(missing)}")
    if unknown:
        raise InvalidInput(
            f"{path.name}: unknown column(s): {', '.join(_shown(str(c)) for c in unknown)}; "
            f"allowed: {', '.join(EVENT_SCHEMA.names)}"
        )
    if repeated:
        raise InvalidInput(f"{path.name}: column(s) named twice: {', '.join(repeated)}")


def _canonical(value: object) -> str:
    """One cell as text: missing → "", booleans lower-case, integral floats without ".0",
    timestamps in ISO form (marked with "?" when they carry no time zone)."""
    if value is None or value is pd.NaT:
        return ""
    if isinstance(value, bool | np.bool_):
        return "true" if value else "false"
    if isinstance(value, float | np.floating):
        if math.isnan(value):
            return ""
        return str(int(value)) if float(value).is_integer() else repr(float(value))
    if isinstance(value, dt.datetime):
        return value.isoformat() if value.tzinfo is not None else value.isoformat() + "?"
    return str(value).strip()


def _unstorable(name: str, values: list[str], problems: list[tuple[int, str, str]]) -> np.ndarray:
    """Mark (and report) the cells of column ``name`` that no store can hold; replace each
    with an escaped excerpt for the report."""
    limit = _MAX_CHARS.get(name, MAX_TEXT_CHARS)
    why = {
        value: problem
        for value in set(values)
        if (problem := text_problem(value, max_chars=limit)) is not None
    }
    blocked = np.zeros(len(values), dtype=bool)
    if not why:
        return blocked
    for index, value in enumerate(values):
        if value in why:
            problems.append((index + 1, name, why[value]))
            values[index] = _shown(value)
            blocked[index] = True
    return blocked


def unprocessable_event_id(event_id: str) -> str | None:
    """Why a logged ``event_id`` cannot key a ledger transfer (it holds text no store keeps,
    or is too long), as ``"event id <escaped> <why>"``; ``None`` when it can. Such ids reached
    the log only before ingest refused them; the cycle reports and skips their rows, and
    ``guanghe events quarantine --escaped`` takes them out of the log's view."""
    problem = text_problem(event_id, max_chars=MAX_EVENT_ID_CHARS)
    return None if problem is None else f"event id {_shown(event_id)} {problem}"


def _shown(value: str) -> str:
    """``value`` as printable ASCII for a report, cut to a readable length."""
    excerpt = ascii(value[:_SHOWN_CHARS])[1:-1]
    return excerpt + "…" if len(value) > _SHOWN_CHARS else excerpt

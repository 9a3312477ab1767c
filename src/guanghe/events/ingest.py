"""Validated, idempotent, all-or-nothing ingest of event files (CSV, JSON Lines, Parquet).

Every row is checked against the schema in :mod:`guanghe.events.schema` and against the
relational store (the creator exists; the work exists and is that creator's; an ad row's
campaign and an order's or refund's product exist). A file with any
bad row applies nothing and yields a row-level report. Rows whose ``event_id`` is already in
the log with identical content are skipped, so ingesting a file twice changes nothing; the same
``event_id`` with different content is a bad row. The log is read for those ids and appended to
under one hold of its lock, so two overlapping ingests of one file still log each event once.

Reports are CSV with columns ``row, event_id, field, error``; rows are numbered from 1 in file
order (data records of a CSV, header not counted; lines of a JSON Lines file; rows of Parquet).
Every problem of every row is reported, those found while reading the file included
(:mod:`guanghe.events.files`: unknown JSON keys, extra CSV fields, text no store can hold).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import numpy as np
import pandas as pd
import pyarrow as pa

from guanghe.errors import RejectedBatch
from guanghe.events.files import EventRows, read_event_file
from guanghe.events.log import EventLog
from guanghe.events.schema import (
    EVENT_SCHEMA,
    EVENT_TYPES,
    REQUIRED_COLUMNS,
    TYPE_ALLOWS,
    TYPE_REQUIRES,
    TYPE_SPECIFIC_COLUMNS,
)

REPORT_COLUMNS = ["row", "event_id", "field", "error"]
_ID = r"^\+?0*[1-9]\d{0,17}(\.0*)?$"  # integral decimals ("100.0") from CSV exports
_NON_NEGATIVE = r"^\+?\d{1,18}(\.0*)?$"
_RFC3339 = r"^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(\.\d{1,9})?([Zz]|[+-]\d{2}:\d{2})$"
_POSITIVE_INTS = ("creator_id", "work_id", "campaign_id", "product_id", "amount_fen", "count")
_BOOLS = {"true": True, "false": False, "1": True, "0": False}
#: The stages of :func:`ingest_file`, in order, as its ``progress`` callback names them.
INGEST_STAGES = ("read", "validate", "check the log", "append")


class Referents(Protocol):
    """What ingest needs to know of the relational store."""

    def unknown_creators(self, creator_ids: list[int]) -> set[int]:
        """The ids among ``creator_ids`` that are not creators."""
        ...

    def work_owners(self, work_ids: list[int]) -> dict[int, int]:
        """Creator id of each existing work among ``work_ids``."""
        ...

    def unknown_campaigns(self, campaign_ids: list[int]) -> set[int]:
        """The ids among ``campaign_ids`` that are not advertisers' campaigns."""
        ...

    def unknown_products(self, product_ids: list[int]) -> set[int]:
        """The ids among ``product_ids`` that are not merchants' products."""
        ...


@dataclass(frozen=True, slots=True)
class IngestResult:
    """Rows read, rows appended and rows already logged; ``appended`` holds the appended
    events (for hooks that follow an ingest, such as the hotspots' hourly counts)."""

    rows: int
    added: int
    already_logged: int
    appended: pa.Table


def ingest_file(
    log: EventLog,
    path: Path,
    referents: Referents,
    report_path: Path,
    progress: Callable[[str, int, int], None] | None = None,
) -> IngestResult:
    """Validate ``path`` and append its new events to ``log`` as one atomic batch.

    ``progress(stage, done, total)`` is called before each of :data:`INGEST_STAGES` and once,
    as ``("done", total, total)``, when the events are appended. Raises
    :class:`InvalidInput` for an unreadable file or wrong columns and :class:`RejectedBatch`
    (report written to ``report_path``) when any row is bad.
    """
    report = progress or (lambda stage, done, total: None)
    stages = len(INGEST_STAGES)
    report("read", 0, stages)
    rows = read_event_file(path)
    raw = rows.frame
    report("validate", 1, stages)
    table, problems = validate_events(rows, referents)
    with log.writer() as writer:  # what is already logged is read and appended under one lock
        report("check the log", 2, stages)
        fresh, conflicts = _split_against_log(writer.existing(table), table, raw)
        problems = pd.concat([p for p in (problems, conflicts) if not p.empty] or [problems])
        if not problems.empty:
            _write_report(problems, report_path)
            bad = problems["row"].nunique()
            raise RejectedBatch(
                f"{bad} of {len(raw)} rows in {path.name} are invalid; nothing was ingested "
                f"(report: {report_path})",
                report_path,
                bad,
            )
        report("append", 3, stages)
        added = writer.append(fresh)
    report("done", stages, stages)
    return IngestResult(
        rows=len(raw), added=added, already_logged=table.num_rows - added, appended=fresh
    )


def validate_events(rows: EventRows, referents: Referents) -> tuple[pa.Table, pd.DataFrame]:
    """The valid rows as an :data:`EVENT_SCHEMA` table (duplicates collapsed), and a report
    frame of every problem (columns :data:`REPORT_COLUMNS`, ``row`` 1-based), those found
    while reading included."""
    frame = rows.frame
    unreadable = pd.Series(rows.unreadable, index=frame.index)
    problems = [_read_problems(rows)]

    def flag(mask: pd.Series, field: str, message: str | pd.Series) -> None:
        mask = mask & ~unreadable & ~rows.blocked[field]
        if mask.any():
            text = message[mask] if isinstance(message, pd.Series) else message
            problems.append(
                pd.DataFrame(
                    {
                        "row": frame.index[mask] + 1,
                        "event_id": frame["event_id"][mask],
                        "field": field,
                        "error": text,
                    }
                )
            )

    flag(frame["event_id"] == "", "event_id", "missing")
    flag(~frame["type"].isin(EVENT_TYPES), "type", "must be one of " + ", ".join(EVENT_TYPES))

    ts_shape = frame["ts"].str.fullmatch(_RFC3339)
    flag(~ts_shape, "ts", "not an RFC 3339 timestamp with a time zone offset")
    ts = pd.to_datetime(frame["ts"].where(ts_shape), format="ISO8601", utc=True, errors="coerce")
    flag(ts_shape & ts.isna(), "ts", "not a valid date and time")

    ints: dict[str, pd.Series] = {}
    for column in (*_POSITIVE_INTS, "commission_fen"):
        present = frame[column] != ""
        positive = column in _POSITIVE_INTS
        shaped = frame[column].str.fullmatch(_ID if positive else _NON_NEGATIVE)
        if column in REQUIRED_COLUMNS:
            flag(~present, column, "missing")
        flag(
            present & ~shaped,
            column,
            "must be a positive integer" if positive else "must be a non-negative integer",
        )
        digits = frame[column].where(present & shaped, "0").str.split(".").str[0]
        ints[column] = digits.astype("int64")

    boosted_text = frame["boosted"].str.lower()
    flag((frame["boosted"] != "") & ~boosted_text.isin(_BOOLS), "boosted", "must be true or false")

    kind = frame["type"]
    for column in TYPE_SPECIFIC_COLUMNS:
        present = frame[column] != ""
        needs = kind.isin([t for t, cols in TYPE_REQUIRES.items() if column in cols])
        allows = kind.isin([t for t, cols in TYPE_ALLOWS.items() if column in cols])
        flag(needs & ~present, column, "required for " + kind.where(needs, "") + " events")
        flag(
            present & ~allows & kind.isin(EVENT_TYPES), column, "not allowed on " + kind + " events"
        )
    flag(
        (kind == "order") & (frame["count"] != "") & (ints["count"] != 1),
        "count",
        "orders are one per row (count 1)",
    )

    report = pd.concat([p for p in problems if not p.empty] or [problems[0]])
    good = ~frame.index.isin(report["row"] - 1)
    table = pa.table(
        {
            "event_id": frame["event_id"][good],
            "type": kind[good],
            "ts": ts[good],
            "creator_id": ints["creator_id"][good],
            "work_id": _nullable(ints["work_id"], frame["work_id"])[good],
            "count": ints["count"].where(frame["count"] != "", 1)[good],
            "boosted": boosted_text.map(_BOOLS)[good],
            "amount_fen": _nullable(ints["amount_fen"], frame["amount_fen"])[good],
            "campaign_id": _nullable(ints["campaign_id"], frame["campaign_id"])[good],
            "product_id": _nullable(ints["product_id"], frame["product_id"])[good],
            "commission_fen": _nullable(ints["commission_fen"], frame["commission_fen"])[good],
            "ref_event_id": frame["ref_event_id"].where(frame["ref_event_id"] != "", None)[good],
            "__row": (frame.index + 1)[good],
        }
    )
    table, duplicate_problems = _collapse_duplicates(table)
    referent_problems = _check_referents(table, referents)
    extra = [p for p in (duplicate_problems, referent_problems) if not p.empty]
    if extra:
        report = pd.concat([report, *extra])
        table = table.filter(pa.array(~np.isin(table["__row"].to_numpy(), report["row"])))
    return table.drop_columns(["__row"]).cast(EVENT_SCHEMA), report.sort_values(["row", "field"])


def _read_problems(rows: EventRows) -> pd.DataFrame:
    """The problems found while reading, with each row's ``event_id`` as the frame shows it."""
    numbers = [row for row, _, _ in rows.problems]
    return pd.DataFrame(
        {
            "row": pd.Series(numbers, dtype="int64"),
            "event_id": rows.frame["event_id"].to_numpy()[np.array(numbers, dtype=int) - 1],
            "field": [field for _, field, _ in rows.problems],
            "error": [error for _, _, error in rows.problems],
        },
        columns=REPORT_COLUMNS,
    )


def _nullable(values: pd.Series, text: pd.Series) -> pd.Series:
    return values.astype("Int64").where(text != "", pd.NA)


def _collapse_duplicates(table: pa.Table) -> tuple[pa.Table, pd.DataFrame]:
    frame = table.to_pandas()
    content = [c for c in frame.columns if c != "__row"]
    exact = frame.duplicated(subset=content, keep="first")
    frame = frame[~exact]
    clash = frame.duplicated(subset=["event_id"], keep="first")
    first_row = frame.groupby("event_id")["__row"].transform("first")
    report = pd.DataFrame(
        {
            "row": frame["__row"][clash],
            "event_id": frame["event_id"][clash],
            "field": "event_id",
            "error": "repeats the event_id of row "
            + first_row[clash].astype(str)
            + " with different content",
        }
    )
    return pa.Table.from_pandas(frame, schema=table.schema, preserve_index=False), report


def _check_referents(table: pa.Table, referents: Referents) -> pd.DataFrame:
    frame = table.select(
        ["__row", "event_id", "creator_id", "work_id", "campaign_id", "product_id"]
    ).to_pandas()
    unknown = referents.unknown_creators(sorted(set(frame["creator_id"].tolist())))
    work_ids = frame["work_id"].dropna().astype("int64")
    owners = referents.work_owners(sorted(set(work_ids.tolist())))
    owner = frame["work_id"].map(owners)
    campaigns = frame["campaign_id"].dropna().astype("int64")
    unknown_campaigns = referents.unknown_campaigns(sorted(set(campaigns.tolist())))
    products = frame["product_id"].dropna().astype("int64")
    unknown_products = referents.unknown_products(sorted(set(products.tolist())))
    problems = [
        _rows(frame, frame["creator_id"].isin(unknown), "creator_id", "no such creator"),
        _rows(frame, frame["work_id"].notna() & owner.isna(), "work_id", "no such work"),
        _rows(
            frame,
            owner.notna() & (owner != frame["creator_id"]),
            "work_id",
            "the work belongs to creator " + owner.astype("Int64").astype(str),
        ),
        _rows(
            frame, frame["campaign_id"].isin(unknown_campaigns), "campaign_id", "no such campaign"
        ),
        _rows(frame, frame["product_id"].isin(unknown_products), "product_id", "no such product"),
    ]
    return pd.concat(problems)


def _rows(frame: pd.DataFrame, mask: pd.Series, field: str, error: str | pd.Series) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "row": frame["__row"][mask],
            "event_id": frame["event_id"][mask],
            "field": field,
            "error": error[mask] if isinstance(error, pd.Series) else error,
        },
        columns=REPORT_COLUMNS,
    )


def _split_against_log(
    existing: pa.Table, table: pa.Table, raw: pd.DataFrame
) -> tuple[pa.Table, pd.DataFrame]:
    """The rows not yet logged (``existing``: the logged rows sharing an ``event_id`` with
    ``table``), and a report of those logged with different content."""
    if existing.num_rows == 0:
        return table, pd.DataFrame(columns=REPORT_COLUMNS)
    incoming = table.to_pandas().assign(row=_row_numbers(table, raw))
    merged = incoming.merge(existing.to_pandas(), on="event_id", suffixes=("", "_logged"))
    differs = np.zeros(len(merged), dtype=bool)
    for column in EVENT_SCHEMA.names[1:]:
        a, b = merged[column], merged[f"{column}_logged"]
        same = (a == b).fillna(False) | (a.isna() & b.isna())
        differs |= ~same.to_numpy(dtype=bool)
    clash = merged[differs]
    conflicts = pd.DataFrame(
        {
            "row": clash["row"],
            "event_id": clash["event_id"],
            "field": "event_id",
            "error": "already in the event log with different content",
        },
        columns=REPORT_COLUMNS,
    )
    fresh = table.filter(pa.array(~incoming["event_id"].isin(merged["event_id"]).to_numpy()))
    return fresh, conflicts


def _row_numbers(table: pa.Table, raw: pd.DataFrame) -> np.ndarray:
    first = pd.Series(raw.index + 1, index=raw["event_id"])
    first = first[~first.index.duplicated()]
    return first.reindex(table["event_id"].to_pylist()).to_numpy()


def _write_report(problems: pd.DataFrame, report_path: Path) -> None:
    report_path.parent.mkdir(parents=True, exist_ok=True)
    problems.sort_values(["row", "field"]).to_csv(report_path, index=False, columns=REPORT_COLUMNS)

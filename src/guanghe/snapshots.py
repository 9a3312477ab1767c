"""Dated snapshots the daily cycle writes and other capabilities read.

A snapshot is one Parquet file, ``<data_dir>/snapshots/<name>/date=YYYY-MM-DD/part-0.parquet``
(or one JSON document, ``.../date=YYYY-MM-DD/document.json``, for records such as the cycle's
step reports), written atomically (a temporary file renamed over the old one), so a re-run of
a date replaces it whole and a reader never sees half of one.
"""

from __future__ import annotations

import datetime as dt
import os
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Final

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from guanghe.errors import NotFound

FILE_NAME: Final = "part-0.parquet"
DOCUMENT_NAME: Final = "document.json"


def snapshot_path(root: Path, name: str, date: dt.date) -> Path:
    """Where the snapshot ``name`` of ``date`` lives under ``root`` (``<data_dir>/snapshots``)."""
    return root / name / f"date={date.isoformat()}" / FILE_NAME


def write_snapshot(root: Path, name: str, date: dt.date, table: pa.Table) -> Path:
    """Write ``table`` as the snapshot ``name`` of ``date``, replacing any earlier one."""
    path = snapshot_path(root, name, date)
    _replace(path, lambda tmp: pq.write_table(table, tmp, compression="zstd"))
    return path


def document_path(root: Path, name: str, date: dt.date) -> Path:
    """Where the JSON document snapshot ``name`` of ``date`` lives under ``root``."""
    return root / name / f"date={date.isoformat()}" / DOCUMENT_NAME


def write_document(root: Path, name: str, date: dt.date, text: str) -> Path:
    """Write the JSON ``text`` as the document snapshot ``name`` of ``date`` (atomically)."""
    path = document_path(root, name, date)
    _replace(path, lambda tmp: tmp.write_text(text, encoding="utf-8"))
    return path


def document_dates(root: Path, name: str) -> list[dt.date]:
    """The dates that have a document snapshot ``name``, oldest first."""
    folder = root / name
    if not folder.exists():
        return []
    return sorted(
        dt.date.fromisoformat(p.parent.name.removeprefix("date="))
        for p in folder.glob(f"date=*/{DOCUMENT_NAME}")
    )


def _replace(path: Path, write: Callable[[Path], object]) -> None:
    """Write ``path`` through a synced temporary file renamed over it."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex}.tmp")
    try:
        write(tmp)
        with tmp.open("rb") as handle:
            os.fsync(handle.fileno())
        tmp.replace(path)
    finally:
        tmp.unlink(missing_ok=True)


def snapshot_dates(root: Path, name: str) -> list[dt.date]:
    """The dates that have a snapshot ``name``, oldest first."""
    folder = root / name
    if not folder.exists():
        return []
    return sorted(
        dt.date.fromisoformat(p.parent.name.removeprefix("date="))
        for p in folder.glob(f"date=*/{FILE_NAME}")
    )


def latest_date(root: Path, name: str, on_or_before: dt.date | None = None) -> dt.date | None:
    """The newest snapshot date of ``name`` (not after ``on_or_before``), if any."""
    dates = [d for d in snapshot_dates(root, name) if on_or_before is None or d <= on_or_before]
    return dates[-1] if dates else None


def snapshot_metadata(root: Path, name: str, date: dt.date) -> dict[str, str]:
    """The schema metadata of the snapshot ``name`` of ``date`` (its rows are not read).

    Raises :class:`NotFound` if the cycle has not written it.
    """
    path = snapshot_path(root, name, date)
    if not path.exists():
        raise NotFound(f"no {name} snapshot for {date.isoformat()}; run `guanghe cycle` first")
    raw = pq.read_schema(path).metadata or {}
    return {k.decode(): v.decode() for k, v in raw.items() if not k.startswith(b"ARROW")}


def read_snapshot(
    root: Path, name: str, date: dt.date, *, creator_id: int | None = None
) -> pa.Table:
    """The snapshot ``name`` of ``date`` (only ``creator_id``'s rows if given).

    Raises :class:`NotFound` if the cycle has not written it.
    """
    path = snapshot_path(root, name, date)
    if not path.exists():
        raise NotFound(f"no {name} snapshot for {date.isoformat()}; run `guanghe cycle` first")
    if creator_id is None:
        return pq.read_table(path)
    table = pq.read_table(path, filters=[("creator_id", "=", creator_id)])
    return table.filter(pc.equal(table["creator_id"], creator_id))

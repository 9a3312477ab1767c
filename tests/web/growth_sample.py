"""A hand-written ``creator_growth`` snapshot, so pages can be checked against known values."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pyarrow as pa

from guanghe.creators.growth import GROWTH_SNAPSHOT
from guanghe.creators.rules import QUALITY_SIGNALS
from guanghe.snapshots import write_snapshot

#: creator id -> (tier, stage, quality, followers, works_28d, active_days_28d, continuous_months)
Assessment = tuple[str, str, float, int, int, int, int]


def write_growth_snapshot(
    data_dir: Path,
    as_of: dt.date,
    rows: dict[int, Assessment],
    ranks: dict[int, dict[str, float]] | None = None,
) -> None:
    """Write the growth assessment of ``as_of`` with one row per creator of ``rows`` (and,
    given ``ranks``, each creator's quality-signal ranks as ``rank_<signal>`` columns)."""
    columns: dict[str, list[Any]] = {
        name: []
        for name in (
            "creator_id",
            "vertical_id",
            "stage",
            "quality",
            "in_pool",
            "tier",
            "follower_count",
            "works_28d",
            "active_days_28d",
            "continuous_months",
        )
    }
    for creator_id, (tier, stage, quality, followers, works, active, months) in rows.items():
        values = (creator_id, 1, stage, quality, quality >= 70, tier, followers, works, active)
        for name, value in zip(columns, (*values, months), strict=True):
            columns[name].append(value)
    if ranks is not None:
        for signal in QUALITY_SIGNALS:
            columns[f"rank_{signal}"] = [ranks[c][signal] for c in rows]
    write_snapshot(data_dir / "snapshots", GROWTH_SNAPSHOT, as_of, pa.table(columns))

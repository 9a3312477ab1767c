"""Incentive fixtures: a small programme over the seed platform, and plays tables."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pyarrow as pa

from guanghe.incentives import Candidates, DailyPlays, Programme, parse_programmes

WINDOW_START = dt.date(2026, 11, 19)
DAY = dt.date(2026, 11, 28)

PROGRAMME_TOML = """
[[programs]]
name = "test_plan"
title = "Test plan"
starts_on = 2026-11-19
ends_on = 2027-12-31
window_days = 14

[programs.eligibility]
stages = ["novice", "growing", "mature"]

[programs.rules]
original_works = 1
[programs.rules.targets.novice]
uplift = 0.5
min_plays = 100
max_plays = 1000
[programs.rules.targets.growing]
uplift = 0.5
min_plays = 100
max_plays = 1000
[programs.rules.targets.mature]
uplift = 0.5
min_plays = 100
max_plays = 1000

[programs.reward]
cash_fen = 1000
impressions = 500

[programs.budget]
cash_fen = {cash}
impressions = {impressions}
"""


def programme(cash: int = 100_000, impressions: int = 50_000) -> Programme:
    text = PROGRAMME_TOML.replace("{cash}", str(cash)).replace("{impressions}", str(impressions))
    return parse_programmes(text)[0]


def seed_candidates() -> Candidates:
    """The seed platform's six creators (ids 1..6, verticals 1,1,2,2,3,3)."""
    return Candidates(
        creator_id=np.arange(1, 7, dtype=np.int64),
        vertical_id=np.array([1, 1, 2, 2, 3, 3], np.int64),
        stage=np.array(["novice", "growing", "mature", "novice", "growing", "mature"], np.str_),
        in_pool=np.array([False, True, True, False, True, False]),
        tenure_days=np.array([30, 400, 900, 10, 300, 800], np.int64),
    )


def plays_table(rows: list[tuple[int, int | None, dt.date, int]]) -> DailyPlays:
    """Plays by creator, work and day, as the step reads them from the event log."""
    table = pa.table(
        {
            "creator_id": pa.array([r[0] for r in rows], pa.int64()),
            "work_id": pa.array([r[1] for r in rows], pa.int64()),
            "date": pa.array([r[2] for r in rows], pa.date32()),
            "plays": pa.array([r[3] for r in rows], pa.int64()),
        }
    )
    return DailyPlays.from_arrow(table)

"""Ingest checks what event rows refer to: an ad impression or click naming no existing
campaign, or an order or refund naming no existing product, is a bad row in the report, and
the file applies nothing."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from guanghe.creators import StoreReferents
from guanghe.errors import RejectedBatch
from guanghe.events import ingest_file
from guanghe.runtime import Runtime
from tests.events.market import insert_campaigns_and_products
from tests.seed import SeedPlatform

CAMPAIGN, PRODUCT = 5, 77
TS = "2026-11-28T10:00:00Z"
ROWS: list[dict[str, object]] = [
    {"event_id": "imp", "type": "ad_impression", "ts": TS, "creator_id": 1, "count": 100,
     "campaign_id": CAMPAIGN, "amount_fen": 300},
    {"event_id": "clk", "type": "ad_click", "ts": TS, "creator_id": 1, "campaign_id": CAMPAIGN},
    {"event_id": "ord", "type": "order", "ts": TS, "creator_id": 2, "amount_fen": 12_900,
     "product_id": PRODUCT, "commission_fen": 1_290},
    {"event_id": "ret", "type": "refund", "ts": TS, "creator_id": 2, "ref_event_id": "ord",
     "amount_fen": 12_900, "product_id": PRODUCT},
    {"event_id": "bare", "type": "ad_click", "ts": TS, "creator_id": 3},
]  # fmt: skip


@pytest.fixture
def referents(runtime: Runtime, seed_platform: SeedPlatform) -> Runtime:
    insert_campaigns_and_products(runtime, campaign_ids=[CAMPAIGN], product_ids=[PRODUCT])
    return runtime


def _ingest(runtime: Runtime, rows: list[dict[str, object]], path: Path) -> int:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    with runtime.sessions() as session:
        return ingest_file(
            runtime.event_log, path, StoreReferents(session), path.with_suffix(".report.csv")
        ).added


def test_rows_naming_existing_campaigns_and_products_are_ingested(
    referents: Runtime, tmp_path: Path
) -> None:
    assert _ingest(referents, ROWS, tmp_path / "events.jsonl") == len(ROWS)
    assert referents.event_log.count() == len(ROWS)


def test_unknown_campaigns_and_products_reject_the_whole_file(
    referents: Runtime, tmp_path: Path
) -> None:
    rows = [
        *ROWS,
        {**ROWS[0], "event_id": "imp-x", "campaign_id": 404},
        {**ROWS[1], "event_id": "clk-x", "campaign_id": 405},
        {**ROWS[2], "event_id": "ord-x", "product_id": 999},
        {**ROWS[3], "event_id": "ret-x", "product_id": 998},
    ]
    path = tmp_path / "events.jsonl"
    with pytest.raises(RejectedBatch, match="4 of 9 rows") as rejected:
        _ingest(referents, rows, path)
    assert rejected.value.bad_rows == 4
    report = pd.read_csv(path.with_suffix(".report.csv"), dtype=str)
    assert report.to_dict("records") == [
        {"row": "6", "event_id": "imp-x", "field": "campaign_id", "error": "no such campaign"},
        {"row": "7", "event_id": "clk-x", "field": "campaign_id", "error": "no such campaign"},
        {"row": "8", "event_id": "ord-x", "field": "product_id", "error": "no such product"},
        {"row": "9", "event_id": "ret-x", "field": "product_id", "error": "no such product"},
    ]
    assert referents.event_log.count() == 0


def test_a_reference_check_joins_the_other_problems_of_a_row(
    runtime: Runtime, seed_platform: SeedPlatform, tmp_path: Path
) -> None:
    """Without any campaign or product, the rows naming them are bad beside an unknown
    creator; the one row naming neither is fine but not applied."""
    rows = [*ROWS, {**ROWS[4], "event_id": "nobody", "creator_id": 9_999}]
    path = tmp_path / "events.jsonl"
    with pytest.raises(RejectedBatch, match="5 of 6 rows"):
        _ingest(runtime, rows, path)
    report = pd.read_csv(path.with_suffix(".report.csv"), dtype=str)
    assert list(zip(report["event_id"], report["field"], strict=True)) == [
        ("imp", "campaign_id"),
        ("clk", "campaign_id"),
        ("ord", "product_id"),
        ("ret", "product_id"),
        ("nobody", "creator_id"),
    ]
    assert runtime.event_log.count() == 0

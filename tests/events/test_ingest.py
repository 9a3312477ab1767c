"""Event ingest: validated, idempotent on event_id, all or nothing, with a row-level report."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from guanghe.creators import StoreReferents
from guanghe.errors import InvalidInput, RejectedBatch
from guanghe.events import INGEST_STAGES, IngestResult, ingest_file
from guanghe.runtime import Runtime
from tests.conftest import insert_seed_platform
from tests.events.market import insert_campaigns_and_products
from tests.seed import SeedPlatform

GOOD = [
    {
        "event_id": "e1",
        "type": "exposure",
        "ts": "2026-11-27T08:00:00Z",
        "creator_id": 1,
        "work_id": 100,
        "count": 300,
        "boosted": False,
    },
    {
        "event_id": "e2",
        "type": "exposure",
        "ts": "2026-11-27T09:00:00+08:00",
        "creator_id": 1,
        "work_id": 100,
        "count": 50,
        "boosted": True,
    },
    {
        "event_id": "e3",
        "type": "play",
        "ts": "2026-11-28T10:00:00Z",
        "creator_id": 2,
        "work_id": 101,
        "count": 20,
    },
    {"event_id": "e4", "type": "follow", "ts": "2026-11-28T10:01:00Z", "creator_id": 2},
    {
        "event_id": "e5",
        "type": "order",
        "ts": "2026-11-28T11:00:00Z",
        "creator_id": 3,
        "amount_fen": 12_900,
        "product_id": 77,
        "commission_fen": 1_290,
    },
    {
        "event_id": "e7",
        "type": "refund",
        "ts": "2026-11-28T13:00:00Z",
        "creator_id": 3,
        "ref_event_id": "e5",
        "amount_fen": 12_900,
    },
    {
        "event_id": "e6",
        "type": "ad_click",
        "ts": "2026-11-28T12:00:00Z",
        "creator_id": 3,
        "campaign_id": 5,
    },
]


@pytest.fixture
def seed_platform(runtime: Runtime) -> SeedPlatform:
    """The seed platform with the campaign and product GOOD's rows name."""
    platform = insert_seed_platform(runtime)
    insert_campaigns_and_products(runtime, campaign_ids=[5], product_ids=[77])
    return platform


def write(rows: list[dict[str, object]], path: Path) -> Path:
    if path.suffix == ".jsonl":
        path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    elif path.suffix == ".csv":
        pd.DataFrame(rows).to_csv(path, index=False)
    else:
        pq.write_table(pa.Table.from_pandas(pd.DataFrame(rows), preserve_index=False), path)
    return path


def ingest(runtime: Runtime, path: Path) -> IngestResult:
    with runtime.sessions() as session:
        return ingest_file(
            runtime.event_log, path, StoreReferents(session), path.with_suffix(".report.csv")
        )


def logged(runtime: Runtime) -> pd.DataFrame:
    con = runtime.event_log.connect()
    frame: pd.DataFrame = con.sql("SELECT * FROM events ORDER BY event_id").df()
    return frame


@pytest.mark.parametrize("suffix", [".csv", ".jsonl", ".parquet"])
def test_ingest_is_idempotent(
    runtime: Runtime, seed_platform: SeedPlatform, tmp_path: Path, suffix: str
) -> None:
    path = write(GOOD, tmp_path / f"events{suffix}")
    first = ingest(runtime, path)
    assert (first.rows, first.added, first.already_logged) == (7, 7, 0)
    files_before = runtime.event_log.files()
    table_before = logged(runtime)
    second = ingest(runtime, path)
    assert (second.added, second.already_logged) == (0, 7)
    assert runtime.event_log.files() == files_before
    pd.testing.assert_frame_equal(logged(runtime), table_before)
    assert runtime.event_log.dates() == ["2026-11-27", "2026-11-28"]


def test_progress_names_each_stage_then_done(
    runtime: Runtime, seed_platform: SeedPlatform, tmp_path: Path
) -> None:
    calls: list[tuple[str, int, int]] = []
    path = write(GOOD, tmp_path / "events.jsonl")
    with runtime.sessions() as session:
        ingest_file(
            runtime.event_log,
            path,
            StoreReferents(session),
            tmp_path / "report.csv",
            lambda stage, done, total: calls.append((stage, done, total)),
        )
    assert calls == [
        *((stage, n, 4) for n, stage in enumerate(INGEST_STAGES)),
        ("done", 4, 4),
    ]
    calls.clear()
    path = write([dict(GOOD[0], creator_id="one")], tmp_path / "bad.jsonl")
    with runtime.sessions() as session, pytest.raises(RejectedBatch):
        ingest_file(
            runtime.event_log,
            path,
            StoreReferents(session),
            tmp_path / "bad.csv",
            lambda stage, done, total: calls.append((stage, done, total)),
        )
    assert [stage for stage, _, _ in calls] == ["read", "validate", "check the log"]


def test_values_are_normalised(
    runtime: Runtime, seed_platform: SeedPlatform, tmp_path: Path
) -> None:
    ingest(runtime, write(GOOD, tmp_path / "events.csv"))
    rows = logged(runtime).set_index("event_id")
    assert rows.loc["e2", "ts"] == pd.Timestamp("2026-11-27T01:00:00Z")
    assert bool(rows.loc["e2", "boosted"]) is True
    assert rows.loc["e4", "count"] == 1
    assert rows["work_id"].isna()["e4"]
    assert rows.loc["e5", "amount_fen"] == 12_900


def test_partial_overlap_adds_only_new_rows(
    runtime: Runtime, seed_platform: SeedPlatform, tmp_path: Path
) -> None:
    ingest(runtime, write(GOOD[:3], tmp_path / "a.jsonl"))
    result = ingest(runtime, write(GOOD, tmp_path / "b.jsonl"))
    assert (result.added, result.already_logged) == (4, 3)
    assert runtime.event_log.count() == 7


def test_exact_duplicate_rows_in_one_file_collapse(
    runtime: Runtime, seed_platform: SeedPlatform, tmp_path: Path
) -> None:
    result = ingest(runtime, write([*GOOD, GOOD[0]], tmp_path / "dup.csv"))
    assert result.added == 7


BAD_ROWS: list[tuple[dict[str, object], str, str]] = [
    ({"type": "refund"}, "ref_event_id", "required for refund"),
    ({"ref_event_id": "e5"}, "ref_event_id", "not allowed on play"),
    ({"type": "order", "amount_fen": 5, "commission_fen": -1}, "commission_fen", "non-negative"),
    ({"commission_fen": 3}, "commission_fen", "not allowed on play"),
    ({"type": "like"}, "type", ""),
    ({"type": "teleport"}, "type", "must be one of"),
    ({"ts": "2026-11-28 10:00:00"}, "ts", "time zone"),
    ({"ts": "2026-13-28T10:00:00Z"}, "ts", "valid date"),
    ({"creator_id": "abc"}, "creator_id", "positive integer"),
    ({"creator_id": 0}, "creator_id", "positive integer"),
    ({"creator_id": 424242}, "creator_id", "no such creator"),
    ({"work_id": 999999}, "work_id", "no such work"),
    ({"work_id": 103}, "work_id", "belongs to creator 4"),
    ({"count": -3}, "count", "positive integer"),
    ({"boosted": True}, "boosted", "not allowed on play"),
    ({"type": "exposure"}, "boosted", "required for exposure"),
    ({"type": "order", "work_id": None}, "amount_fen", "required for order"),
    ({"amount_fen": 100}, "amount_fen", "not allowed on play"),
    ({"event_id": ""}, "event_id", "missing"),
]


@pytest.mark.parametrize(("change", "field", "message"), BAD_ROWS)
def test_one_bad_row_rejects_the_whole_file(
    runtime: Runtime,
    seed_platform: SeedPlatform,
    tmp_path: Path,
    change: dict[str, object],
    field: str,
    message: str,
) -> None:
    bad = {
        "event_id": "bad",
        "type": "play",
        "ts": "2026-11-28T10:00:00Z",
        "creator_id": 2,
        "work_id": 101,
    } | change
    if change == {"type": "like"}:  # a valid like, so the row is fine: control case
        ingest(runtime, write([*GOOD, bad], tmp_path / "ok.csv"))
        assert runtime.event_log.count() == 8
        return
    path = write([*GOOD[:3], bad, *GOOD[3:]], tmp_path / "events.csv")
    with pytest.raises(RejectedBatch) as caught:
        ingest(runtime, path)
    assert runtime.event_log.count() == 0
    report = pd.read_csv(caught.value.report_path, dtype=str, keep_default_na=False)
    assert list(report.columns) == ["row", "event_id", "field", "error"]
    assert set(report["row"]) == {"4"}, report
    assert field in set(report["field"])
    assert message in " ".join(report["error"])
    assert caught.value.bad_rows == 1


def test_reused_event_id_with_different_content_is_rejected(
    runtime: Runtime, seed_platform: SeedPlatform, tmp_path: Path
) -> None:
    ingest(runtime, write(GOOD, tmp_path / "a.jsonl"))
    changed = [dict(GOOD[2], count=21), GOOD[3]]
    with pytest.raises(RejectedBatch) as caught:
        ingest(runtime, write(changed, tmp_path / "b.jsonl"))
    report = pd.read_csv(caught.value.report_path)
    assert report["row"].tolist() == [1]
    assert "different content" in report["error"][0]
    assert runtime.event_log.count() == 7


def test_conflicting_duplicates_within_a_file_name_the_first_row(
    runtime: Runtime, seed_platform: SeedPlatform, tmp_path: Path
) -> None:
    with pytest.raises(RejectedBatch) as caught:
        ingest(runtime, write([*GOOD, dict(GOOD[0], count=1)], tmp_path / "d.jsonl"))
    report = pd.read_csv(caught.value.report_path)
    assert report["row"].tolist() == [8]
    assert "row 1" in report["error"][0]


def test_malformed_json_line_is_a_bad_row(
    runtime: Runtime, seed_platform: SeedPlatform, tmp_path: Path
) -> None:
    path = tmp_path / "broken.jsonl"
    path.write_text(json.dumps(GOOD[0]) + "\n{not json\n[1, 2]\n")
    with pytest.raises(RejectedBatch) as caught:
        ingest(runtime, path)
    report = pd.read_csv(caught.value.report_path)
    assert report["row"].tolist() == [2, 3]
    assert runtime.event_log.count() == 0


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("events.txt", "x", "unsupported file type"),
        ("missing.csv", None, "no such file"),
        ("cols.csv", "event_id,type\ne1,play\n", "missing required column(s): ts, creator_id"),
        ("extra.csv", "event_id,type,ts,creator_id,colour\n", "unknown column(s): colour"),
        ("garbage.parquet", "not parquet", "cannot read as parquet"),
    ],
)
def test_unreadable_files_are_invalid_input(
    runtime: Runtime, tmp_path: Path, name: str, content: str | None, message: str
) -> None:
    path = tmp_path / name
    if content is not None:
        path.write_text(content)
    with pytest.raises(InvalidInput, match=message.replace("(", r"\(").replace(")", r"\)")):
        ingest(runtime, path)
    assert runtime.event_log.count() == 0


def test_a_csv_record_with_an_extra_field_is_a_bad_row_among_the_others(
    runtime: Runtime, seed_platform: SeedPlatform, tmp_path: Path
) -> None:
    path = write(GOOD[:4], tmp_path / "events.csv")
    header, *lines = path.read_text().splitlines()
    lines[1] += ",surplus"
    lines[3] = lines[3].replace(",2,", ",424242,", 1)  # creator_id: no such creator
    path.write_text("\n".join([header, *lines]) + "\n")
    with pytest.raises(RejectedBatch) as caught:
        ingest(runtime, path)
    report = pd.read_csv(caught.value.report_path, dtype=str, keep_default_na=False)
    assert report[["row", "event_id", "field"]].values.tolist() == [
        ["2", "e2", "record"],
        ["4", "e4", "creator_id"],
    ]
    assert "has 8 fields; the header names 7" in report["error"][0]
    assert caught.value.bad_rows == 2
    assert runtime.event_log.count() == 0


def test_json_lines_with_unknown_or_missing_keys_are_bad_rows_among_the_others(
    runtime: Runtime, seed_platform: SeedPlatform, tmp_path: Path
) -> None:
    rows = [dict(GOOD[0], colour="red"), GOOD[1], dict(GOOD[2], creator_id="two")]
    rows.append({k: v for k, v in GOOD[3].items() if k != "ts"})
    with pytest.raises(RejectedBatch) as caught:
        ingest(runtime, write(rows, tmp_path / "events.jsonl"))
    report = pd.read_csv(caught.value.report_path, dtype=str, keep_default_na=False)
    assert report[["row", "field"]].values.tolist() == [
        ["1", "colour"],
        ["3", "creator_id"],
        ["4", "ts"],
    ]
    assert report["error"][0] == "not an event field"
    assert runtime.event_log.count() == 0


UNSTORABLE: list[tuple[str, dict[str, object], str, str]] = [
    ("event_id", {"event_id": "e\x001"}, "e\\x001", "holds a NUL character at position 1"),
    ("event_id", {"event_id": "e\ud8001"}, "e\\ud8001", "holds a lone surrogate"),
    ("event_id", {"event_id": "e" * 129}, "e" * 64 + "…", "at most 128 are allowed"),
    ("ref_event_id", {"ref_event_id": "e5\x00"}, "bad", "holds a NUL character"),
    ("type", {"type": "play\x00"}, "bad", "holds a NUL character"),
    ("ts", {"ts": "2026-11-28T10:00:00Z\ud800"}, "bad", "holds a lone surrogate"),
]


@pytest.mark.parametrize(
    ("suffix", "field", "change", "shown", "message"),
    [
        (suffix, *case)
        for suffix in (".jsonl", ".csv", ".parquet")
        for case in UNSTORABLE
        # only JSON's escapes can carry a lone surrogate, not UTF-8 text or Parquet
        if suffix == ".jsonl" or not any("\ud800" in str(v) for v in case[1].values())
    ],
)
def test_text_no_store_can_hold_is_a_bad_row(
    runtime: Runtime,
    seed_platform: SeedPlatform,
    tmp_path: Path,
    suffix: str,
    field: str,
    change: dict[str, object],
    shown: str,
    message: str,
) -> None:
    bad = {"event_id": "bad", "type": "refund", "ts": "2026-11-28T13:00:00Z", "creator_id": 3}
    bad |= {"ref_event_id": "e5", "amount_fen": 100} | change
    with pytest.raises(RejectedBatch) as caught:
        ingest(runtime, write([*GOOD, bad], tmp_path / f"events{suffix}"))
    report = pd.read_csv(caught.value.report_path, dtype=str, keep_default_na=False)
    assert report[["row", "event_id", "field"]].values.tolist() == [["8", shown, field]]
    assert message in report["error"][0]
    assert runtime.event_log.count() == 0

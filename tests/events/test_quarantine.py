"""Quarantine: an append-only tombstone takes a logged event out of every reader of the log."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pyarrow as pa
import pytest

from guanghe.errors import InvalidInput, NotFound
from guanghe.events import (
    EVENT_SCHEMA,
    EventLog,
    Tombstone,
    ingest_file,
    quarantine_events,
    tombstones,
)
from tests.events.test_concurrent_ingest import AnyReferents

AT = dt.datetime(2026, 11, 29, 9, 30, tzinfo=dt.UTC)
POISON = "ad\x00poison"


def plays(*event_ids: str) -> pa.Table:
    ts = dt.datetime(2026, 11, 28, 10, tzinfo=dt.UTC)
    rows = [
        {"event_id": e, "type": "play", "ts": ts, "creator_id": 1, "count": 10} for e in event_ids
    ]
    return pa.Table.from_pylist(rows, schema=EVENT_SCHEMA)


@pytest.fixture
def log(tmp_path: Path) -> EventLog:
    log = EventLog(tmp_path / "events")
    log.append(plays("a", "b", POISON))  # logged before ingest refused NUL characters
    return log


def visible(log: EventLog) -> list[str]:
    return sorted(e for (e,) in log.connect().sql("SELECT event_id FROM events").fetchall())


def test_a_quarantined_event_is_left_out_of_the_events_view(log: EventLog) -> None:
    result = quarantine_events(log, [POISON], reason="NUL in the id", by="ops-li", at=AT)
    assert result.added == [Tombstone(POISON, AT, "ops-li", "NUL in the id")]
    assert visible(log) == ["a", "b"]
    everything = log.connect(quarantined=True).execute("SELECT count(*) FROM events").fetchone()
    assert everything == (3,)
    assert log.count() == 3  # the log itself is not edited
    total = log.connect().execute("SELECT sum(count) FROM events").fetchone()
    assert total == (20,)


def test_tombstones_are_appended_never_rewritten(log: EventLog) -> None:
    quarantine_events(log, ["a"], reason="sent twice", by="ops-li", at=AT)
    [first] = log.quarantine_files()
    written = first.read_bytes()
    later = AT + dt.timedelta(hours=1)
    result = quarantine_events(log, ["a", "b"], reason="test traffic", by="ops-wu", at=later)
    assert [t.event_id for t in result.added] == ["b"]
    assert result.already == [Tombstone("a", AT, "ops-li", "sent twice")]
    assert log.quarantine_files()[0] == first
    assert first.read_bytes() == written
    assert len(log.quarantine_files()) == 2
    assert [(t.event_id, t.quarantined_by) for t in tombstones(log)] == [
        ("a", "ops-li"),
        ("b", "ops-wu"),
    ]
    assert visible(log) == [POISON]


def test_an_event_not_in_the_log_quarantines_nothing(log: EventLog) -> None:
    with pytest.raises(NotFound, match=r"1 event\(s\) not in the event log: 'nope'"):
        quarantine_events(log, ["a", "nope"], reason="typo", by="ops-li", at=AT)
    with pytest.raises(NotFound):
        quarantine_events(log, ["\ud800"], reason="no such id", by="ops-li", at=AT)
    assert log.quarantine_files() == []
    assert visible(log) == sorted(["a", "b", POISON])


@pytest.mark.parametrize(
    ("reason", "by", "message"),
    [
        ("", "ops-li", "needs a reason"),
        ("why", "  ", "needs a reason and who"),
        ("bad\x00reason", "ops-li", "reason holds a NUL character"),
        ("x" * 1_001, "ops-li", "at most 1000"),
    ],
)
def test_a_quarantine_says_why_and_who(log: EventLog, reason: str, by: str, message: str) -> None:
    with pytest.raises(InvalidInput, match=message):
        quarantine_events(log, ["a"], reason=reason, by=by, at=AT)
    assert log.quarantine_files() == []


def test_ingesting_a_quarantined_event_again_leaves_it_quarantined(
    log: EventLog, tmp_path: Path
) -> None:
    quarantine_events(log, ["a"], reason="test traffic", by="ops-li", at=AT)
    path = tmp_path / "again.jsonl"
    path.write_text(
        '{"event_id": "a", "type": "play", "ts": "2026-11-28T10:00:00Z", "creator_id": 1, '
        '"count": 10}\n'
    )
    result = ingest_file(log, path, AnyReferents(), tmp_path / "report.csv")
    assert (result.added, result.already_logged) == (0, 1)
    assert visible(log) == sorted(["b", POISON])


def test_the_commands_quarantine_by_escaped_id_and_list_the_tombstones(
    log: EventLog, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from guanghe.cli.app import main

    monkeypatch.setenv("GUANGHE_DATA_DIR", str(log.root.parent))
    monkeypatch.setenv("GUANGHE_DATABASE_URL", "")

    def run(*argv: str) -> tuple[int, str, str]:
        with pytest.raises(SystemExit) as exited:
            main(list(argv))
        out, err = capsys.readouterr()
        return int(exited.value.code or 0), out, err

    quarantine = ["events", "quarantine", "--reason", "NUL in the id", "--actor", "ops-li"]
    assert run(*quarantine, "ad\\x00poison", "--escaped")[:2] == (0, "quarantined ad\\x00poison\n")
    code, out, _ = run(*quarantine, "a", "ad\\x00poison", "--escaped")
    assert code == 0
    assert out.splitlines()[0] == "quarantined a"
    assert out.splitlines()[1].startswith("ad\\x00poison already quarantined ")
    code, out, err = run("events", "quarantined")
    assert code == 0
    assert err == "2 quarantined events\n"
    assert [line.split("\t")[0::2] for line in out.splitlines()] == [
        ["ad\\x00poison", "ops-li"],
        ["a", "ops-li"],
    ]
    code, _, err = run(*quarantine, "nope")
    assert (code, err) == (3, "guanghe: error: 1 event(s) not in the event log: 'nope'\n")
    assert visible(log) == ["b"]

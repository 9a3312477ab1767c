"""The daily cycle's reports: every step says what it did and what it could not do, the run
is kept as a dated snapshot that operators list (API, dashboard), ``guanghe cycle`` prints it
and exits 1 when money was left unpaid, every unsettled day up to the date is settled, and the
same date on two copies of one store gives the same snapshots and ledger postings."""

from __future__ import annotations

import datetime as dt
import logging
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient

from guanghe.app import create_app
from guanghe.cli.app import main
from guanghe.ledger import reconcile
from guanghe.pipelines import CYCLE_STEPS, load_run, run_cycle
from guanghe.runtime import Runtime
from guanghe.settings import Settings
from guanghe.store import LedgerTransfer, SettledDay
from tests.conftest import insert_seed_platform
from tests.pipelines.conftest import at, events, funded_campaign
from tests.pipelines.sample import AS_OF, log_sample_events

SQLITE_ONLY = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
#: The sample events start 39 days before AS_OF: the first cycle settles 40 days.
DAYS_IN_LOG = 40


def revenue_store(runtime: Runtime) -> None:
    """The seed platform, the sample events, a funded campaign charged for one ad, an ad
    naming a campaign that does not exist, and an order whose commission closes in the log."""
    insert_seed_platform(runtime)
    log_sample_events(runtime)
    campaign = funded_campaign(runtime, budget_fen=10_000)
    two_days_back = AS_OF - dt.timedelta(days=2)
    runtime.event_log.append(
        events(
            [
                {
                    "event_id": "paid-ad",
                    "type": "ad_impression",
                    "ts": at(two_days_back),
                    "creator_id": 3,
                    "count": 10,
                    "amount_fen": 800,
                    "campaign_id": campaign,
                },
                {
                    "event_id": "ghost-ad",
                    "type": "ad_impression",
                    "ts": at(two_days_back),
                    "creator_id": 4,
                    "count": 10,
                    "amount_fen": 500,
                    "campaign_id": 999,
                },
                {
                    "event_id": "sale",
                    "type": "order",
                    "ts": at(AS_OF - dt.timedelta(days=20)),
                    "creator_id": 1,
                    "amount_fen": 9_900,
                    "commission_fen": 500,
                },
            ]
        )
    )


def problems_of(runtime: Runtime, step: str) -> set[tuple[str, str, bool]]:
    run = load_run(runtime.settings.snapshots_dir, AS_OF)
    report = next(r for r in run.reports if r.step == step)
    return {(p.kind, p.id, p.affects_money) for p in report.problems}


def test_cycle_keeps_every_steps_report_and_settles_the_days_before(
    runtime: Runtime, caplog: pytest.LogCaptureFixture
) -> None:
    revenue_store(runtime)
    caplog.set_level(logging.INFO, logger="guanghe.pipelines.cycle")
    run = run_cycle(runtime, AS_OF)

    assert [r.step for r in run.reports] == [s.name for s in CYCLE_STEPS]
    assert run.now == dt.datetime.combine(AS_OF, dt.time.max, tzinfo=dt.UTC)
    steps = {r.step: r for r in run.reports}
    assert steps["settlement"].counts["days_settled"] == DAYS_IN_LOG
    assert steps["ad_spend"].counts["spent_fen"] == 800
    assert {(p.kind, p.id, p.affects_money) for p in steps["ad_spend"].problems} == {
        ("ad_event", "ghost-ad", True)
    }
    assert {(p.kind, p.id, p.affects_money) for p in steps["settlement"].problems} == {
        ("ad_event", "ghost-ad", True)
    }
    assert "campaign 999" in steps["ad_spend"].problems[0].reason
    assert load_run(runtime.settings.snapshots_dir, AS_OF) == run
    with runtime.sessions() as session:
        settled = session.scalars(sa.select(SettledDay.day).order_by(SettledDay.day)).all()
        commission = session.scalar(
            sa.select(LedgerTransfer.amount).where(LedgerTransfer.source_id == "sale")
        )
        assert reconcile(session) == []
    assert len(settled) == DAYS_IN_LOG
    assert settled[-1] == AS_OF
    assert commission == 500  # its return window closed on a day settled before AS_OF

    logged = [r for r in caplog.records if getattr(r, "step", None) == "settlement"]
    assert logged[0].counts["days_settled"] == DAYS_IN_LOG  # type: ignore[attr-defined]
    assert logged[0].duration_s >= 0  # type: ignore[attr-defined]

    again = run_cycle(runtime, AS_OF)
    assert {r.step: r for r in again.reports}["settlement"].counts["days_settled"] == 1
    assert {r.step: r for r in again.reports}["settlement"].counts["transfers_created"] == 0


@SQLITE_ONLY
def test_cli_prints_the_steps_and_exits_1_on_unpaid_money(
    runtime: Runtime, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    revenue_store(runtime)
    monkeypatch.setenv("GUANGHE_DATA_DIR", str(runtime.settings.data_dir))
    monkeypatch.setenv("GUANGHE_DATABASE_URL", runtime.settings.resolved_database_url)
    with pytest.raises(SystemExit) as done:
        main(["cycle", "--date", AS_OF.isoformat()])
    assert done.value.code == 1
    out = capsys.readouterr().out
    for step in CYCLE_STEPS:
        assert step.name in out
    assert "money problem in ad_spend: ad_event ghost-ad: names campaign 999" in out
    assert f"{DAYS_IN_LOG} days settled" in out
    assert problems_of(runtime, "settlement") == {("ad_event", "ghost-ad", True)}


@SQLITE_ONLY
def test_operators_list_the_runs(runtime: Runtime, token_for: Callable[..., str]) -> None:
    revenue_store(runtime)
    run_cycle(runtime, AS_OF - dt.timedelta(days=1))
    run_cycle(runtime, AS_OF)
    client = TestClient(create_app(runtime), raise_server_exceptions=False, follow_redirects=False)
    operator = {"Authorization": f"Bearer {token_for('operator')}"}

    first = client.get("/v1/cycle/runs", params={"limit": 1}, headers=operator).json()
    assert [r["date"] for r in first["items"]] == [AS_OF.isoformat()]
    second = client.get(
        "/v1/cycle/runs", params={"limit": 1, "cursor": first["next_cursor"]}, headers=operator
    ).json()
    assert [r["date"] for r in second["items"]] == [str(AS_OF - dt.timedelta(days=1))]
    assert second["next_cursor"] is None

    latest = client.get(f"/v1/cycle/runs/{AS_OF}", headers=operator).json()
    settled = next(s for s in latest["steps"] if s["step"] == "settlement")
    assert settled["counts"]["days_settled"] == 1  # the day before settled the rest
    assert latest["money_problems"] == 0
    one = client.get(f"/v1/cycle/runs/{AS_OF - dt.timedelta(days=1)}", headers=operator)
    assert one.status_code == 200
    body = one.json()
    assert body["money_problems"] == 2
    settlement = next(s for s in body["steps"] if s["step"] == "settlement")
    assert settlement["counts"]["days_settled"] == DAYS_IN_LOG - 1
    assert settlement["problems"][0] == {
        "kind": "ad_event",
        "id": "ghost-ad",
        "reason": "names no existing campaign to charge; its revenue is not paid",
        "affects_money": True,
    }
    creator = {"Authorization": f"Bearer {token_for('creator', 3)}"}
    assert client.get("/v1/cycle/runs", headers=creator).status_code == 403
    assert client.get(f"/v1/cycle/runs/{AS_OF}", headers=creator).status_code == 403
    missing = client.get("/v1/cycle/runs/2020-01-01", headers=operator)
    assert missing.status_code == 404
    assert missing.headers["content-type"] == "application/problem+json"
    for bad in ("2026-13-01", "yesterday", "20261128"):
        assert client.get(f"/v1/cycle/runs/{bad}", headers=operator).status_code == 422
    bad_cursor = client.get("/v1/cycle/runs", params={"cursor": "x"}, headers=operator)
    assert bad_cursor.status_code == 422

    assert client.post("/login", data={"token": token_for("operator")}).status_code == 303
    page = client.get("/dashboard/cycle", params={"date": str(AS_OF - dt.timedelta(days=1))})
    assert page.status_code == 200
    assert 'id="step-settlement"' in page.text
    assert "ghost-ad" in page.text
    assert f'id="run-{AS_OF}"' in page.text
    assert client.get("/dashboard/cycle", params={"date": "2020-01-01"}).status_code == 404
    assert client.post("/login", data={"token": token_for("creator", 3)}).status_code == 303
    assert client.get("/dashboard/cycle").status_code == 403


def test_same_date_on_two_copies_of_a_store_gives_the_same_result(tmp_path: Path) -> None:
    original = Runtime(Settings(data_dir=tmp_path / "a", database_url=""))
    original.init()
    revenue_store(original)
    original.close()
    shutil.copytree(tmp_path / "a", tmp_path / "b")
    results = []
    for name in ("a", "b"):
        with Runtime(Settings(data_dir=tmp_path / name, database_url="")) as runtime:
            run = run_cycle(runtime, AS_OF)
            with runtime.sessions() as session:
                postings = session.execute(
                    sa.select(LedgerTransfer.__table__).order_by(LedgerTransfer.id)
                ).all()
            root = runtime.settings.snapshots_dir
            snapshots = {
                str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*.parquet"))
            }
            reports = [(r.step, dict(r.counts), r.problems) for r in run.reports]
            results.append((reports, run.now, postings, snapshots))
    assert results[0][2]  # the cycle posted transfers
    assert len(results[0][3]) >= 5
    assert results[0] == results[1]

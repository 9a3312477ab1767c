"""Statements and payouts over a settled fortnight: balances add up, access is scoped, a payout
batch pays each account once however often it runs."""

from __future__ import annotations

import csv
import datetime as dt
import io
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient

from guanghe.app import create_app
from guanghe.cli.app import main
from guanghe.errors import Conflict
from guanghe.ledger import (
    TransferRequest,
    list_accounts,
    pay_out,
    post_adjustment,
    post_batch,
    reconcile,
    statements,
)
from guanghe.pipelines.settlement_step import settle_day
from guanghe.runtime import Runtime
from guanghe.store import Notice
from tests.pipelines.conftest import day

NOW = dt.datetime(2026, 12, 1, tzinfo=dt.UTC)


@pytest.fixture
def settled(revenue_platform: Runtime) -> Runtime:
    for n in range(12):
        settle_day(revenue_platform, day(n))
    return revenue_platform


@pytest.fixture
def client(settled: Runtime) -> Iterator[TestClient]:
    with TestClient(create_app(settled), raise_server_exceptions=False) as test_client:
        yield test_client


def account_id(runtime: Runtime, kind: str, owner: int) -> int:
    with runtime.sessions() as session:
        return next(
            a.id
            for a in list_accounts(session, owner_kind=kind, owner_id=owner)
            if a.purpose == "earnings"
        )


def test_statement_lines_add_up_to_the_balance(
    settled: Runtime, client: TestClient, token_for: Callable[..., str]
) -> None:
    month = "2026-11"  # the business days settled: 2026-11-20 to 2026-12-01
    creator3 = account_id(settled, "creator", 3)
    headers = {"Authorization": f"Bearer {token_for('creator', 3)}"}
    body = client.get(f"/v1/ledger/accounts/{creator3}/statements/{month}", headers=headers).json()
    assert body["opening_balance"] == 0
    assert body["closing_balance"] == body["account"]["balance"] == 860
    signed = [t["amount"] if t["direction"] == "credit" else -t["amount"] for t in body["lines"]]
    assert sum(signed) == 860
    # Each line is for the day it settled, whenever that ran; the posting time is beside it.
    days = {dt.date.fromisoformat(t["business_day"]) for t in body["lines"]}
    assert len(days) > 1
    assert days <= {day(n) for n in range(12)}
    assert all(t["created_at"] for t in body["lines"])
    text = client.get(
        f"/v1/ledger/accounts/{creator3}/statements/{month}?format=csv", headers=headers
    ).text
    rows = list(csv.DictReader(io.StringIO(text)))
    assert rows[0]["code"] == "opening_balance"
    assert rows[-1]["code"] == "closing_balance"
    assert rows[-1]["balance_fen"] == "860"
    assert [r["business_day"] for r in rows[1:-1]] == [t["business_day"] for t in body["lines"]]
    assert all(r["posted_at"] for r in rows[1:-1])
    other = account_id(settled, "creator", 1)
    denied = client.get(f"/v1/ledger/accounts/{other}/statements/{month}", headers=headers)
    assert denied.status_code == 403
    bad = client.get(f"/v1/ledger/accounts/{creator3}/statements/2026-13", headers=headers)
    assert bad.status_code == 422


def test_institution_sees_its_split_lines(
    settled: Runtime, client: TestClient, token_for: Callable[..., str]
) -> None:
    month = "2026-11"
    institution = account_id(settled, "institution", 2)
    headers = {"Authorization": f"Bearer {token_for('institution', 2)}"}
    body = client.get(
        f"/v1/ledger/accounts/{institution}/statements/{month}", headers=headers
    ).json()
    assert [(t["code"], t["amount"]) for t in body["lines"]] == [("ad_institution_split", 40)]
    assert body["lines"][0]["counterparty_account_id"] == account_id(settled, "creator", 3)


def test_payout_pays_each_account_once(settled: Runtime) -> None:
    first = pay_out(settled.engine, dt.date(2026, 12, 1), minimum_fen=100, now=NOW)
    assert first.refused == ()
    assert {(p.owner_kind, p.owner_id, p.amount_fen) for p in first.payouts} == {
        ("creator", 1, 400),
        ("creator", 3, 860),
        ("institution", 1, 100),
    }
    again = pay_out(settled.engine, dt.date(2026, 12, 1), minimum_fen=100, now=NOW)
    assert again == first
    with settled.sessions() as session:
        earnings = {
            (a.owner_kind, a.owner_id): a.balance
            for a in list_accounts(session)
            if a.purpose == "earnings"
        }
        assert earnings[("creator", 3)] == 0
        assert earnings[("institution", 2)] == 40  # under the minimum: stays
        assert reconcile(session) == []
        # each creator paid is told once, however often the payout runs
        notices = session.execute(
            sa.select(Notice.creator_id, Notice.kind, Notice.data).order_by(Notice.creator_id)
        ).all()
    assert [(c, k, d["amount_fen"]) for c, k, d in notices] == [
        (1, "payout", 400),
        (3, "payout", 860),
    ]


def test_cli_statement_and_payout(
    settled: Runtime,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("GUANGHE_DATA_DIR", str(settled.settings.data_dir))
    monkeypatch.setenv("GUANGHE_DATABASE_URL", settled.settings.resolved_database_url)
    out = tmp_path / "payouts.csv"
    with pytest.raises(SystemExit) as done:
        main(["ledger", "payout", "--date", "2026-12-01", "--out", str(out)])
    assert done.value.code in (0, None)
    assert len(list(csv.DictReader(io.StringIO(out.read_text())))) == 0  # nobody has 10 CNY
    with pytest.raises(SystemExit) as bad:
        main(["ledger", "statement", "--account", "1", "--month", "November"])
    assert bad.value.code == 2
    assert "month must look like" in capsys.readouterr().err


def test_payout_the_ledger_refuses_is_reported_not_dropped(
    settled: Runtime,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """Creator 3's payout source was already paid by another transfer: the ledger refuses the
    batch's payout, which is listed with the reason (and the CLI exits 1), never left out of
    the file in silence."""
    creator3 = account_id(settled, "creator", 3)
    other = account_id(settled, "institution", 2)
    manual = TransferRequest(
        "manual-payout",
        "payout",
        debit_account_id=creator3,
        credit_account_id=other,
        amount=10,
        source=("payout", f"2026-12-01:{creator3}"),
    )
    assert post_batch(settled.engine, [manual], now=NOW)[0].status == "created"
    batch = pay_out(settled.engine, dt.date(2026, 12, 1), minimum_fen=100, now=NOW)
    assert [(r.owner_kind, r.owner_id, r.amount_fen, r.reason) for r in batch.refused] == [
        ("creator", 3, 850, "source_already_paid")
    ]
    assert {(p.owner_kind, p.owner_id) for p in batch.payouts} == {
        ("creator", 1),
        ("institution", 1),
    }

    monkeypatch.setenv("GUANGHE_DATA_DIR", str(settled.settings.data_dir))
    monkeypatch.setenv("GUANGHE_DATABASE_URL", settled.settings.resolved_database_url)
    out = tmp_path / "payouts.csv"
    with pytest.raises(SystemExit) as done:
        main(
            ["ledger", "payout", "--date", "2026-12-01", "--out", str(out), "--minimum-fen", "100"]
        )
    assert done.value.code == 1
    err = capsys.readouterr().err
    assert f"not paid: creator 3 (account {creator3}), 850 fen" in err
    assert "source already paid" in err
    assert len(list(csv.DictReader(io.StringIO(out.read_text())))) == 2


def test_payout_reads_balances_under_the_lock_it_pays_under(
    settled: Runtime, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A withdrawal racing the payout, started after the payout has read the balances, waits
    for it (and is then refused): the payout pays what it read, never a stale balance."""
    creator3 = account_id(settled, "creator", 3)
    other = account_id(settled, "institution", 2)
    racing: list[str] = []
    real = statements.TransferRequest  # type: ignore[attr-defined]

    def withdraw() -> None:
        try:
            post_adjustment(
                settled.engine,
                key="racing-withdrawal",
                debit_account_id=creator3,
                credit_account_id=other,
                amount=100,
                actor="test",
                reason="races the payout",
                now=NOW,
            )
            racing.append("posted")
        except Conflict as exc:
            racing.append(exc.detail)

    def request_after_a_race(*args: Any, **kwargs: Any) -> TransferRequest:
        if not racing and not threads:
            threads.append(threading.Thread(target=withdraw))
            threads[0].start()
            threads[0].join(timeout=2.0)  # done at once if the payout holds no lock
        return real(*args, **kwargs)

    threads: list[threading.Thread] = []
    monkeypatch.setattr(statements, "TransferRequest", request_after_a_race)
    batch = pay_out(settled.engine, dt.date(2026, 12, 1), minimum_fen=100, now=NOW)
    threads[0].join()
    assert batch.refused == ()
    assert ("creator", 3, 860) in {(p.owner_kind, p.owner_id, p.amount_fen) for p in batch.payouts}
    assert racing == ["adjustment 'racing-withdrawal' not posted: exceeds credits"]
    with settled.sessions() as session:
        assert reconcile(session) == []

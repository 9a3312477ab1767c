"""The ledger over HTTP and on the command line: who may read what, adjustments, reconcile."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import update

from guanghe.app import create_app
from guanghe.cli.app import main
from guanghe.runtime import Runtime
from guanghe.store import LedgerTransfer, transaction
from tests.ledger.conftest import Books


@pytest.fixture
def client(runtime: Runtime) -> Iterator[TestClient]:
    with TestClient(create_app(runtime), raise_server_exceptions=False) as test_client:
        yield test_client


def auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def test_operator_sees_every_account_creator_only_its_own(
    client: TestClient, books: Books, token_for: Callable[..., str], seed_platform: object
) -> None:
    everything = client.get("/v1/ledger/accounts", headers=auth(token_for("operator"))).json()
    assert len(everything) == 7
    mine = client.get("/v1/ledger/accounts", headers=auth(token_for("creator", 2))).json()
    assert [(a["owner_kind"], a["owner_id"]) for a in mine] == [("creator", 2)]
    creator = auth(token_for("creator", 2))
    other = books.creators[0].id
    response = client.get(f"/v1/ledger/accounts/{other}", headers=creator)
    assert response.status_code == 403
    assert response.headers["content-type"] == "application/problem+json"
    assert client.get(f"/v1/ledger/accounts/{other}/transfers", headers=creator).status_code == 403
    ranker = client.get("/v1/ledger/accounts", headers=auth(token_for("ranker")))
    assert ranker.status_code == 403


def test_adjustment_names_actor_and_reason_and_is_idempotent(
    client: TestClient, books: Books, token_for: Callable[..., str], runtime: Runtime
) -> None:
    operator = auth(token_for("operator"))
    body = {
        "key": "fix-1",
        "debit_account_id": books.budget.id,
        "credit_account_id": books.creators[1].id,
        "amount": 250,
        "reason": "missed reward for task 17",
    }
    first = client.post("/v1/ledger/adjustments", json=body, headers=operator)
    assert first.status_code == 201, first.text
    again = client.post("/v1/ledger/adjustments", json=body, headers=operator)
    assert again.status_code == 200
    assert again.json()["transfer_id"] == first.json()["transfer_id"]
    changed = client.post("/v1/ledger/adjustments", json=body | {"amount": 251}, headers=operator)
    assert changed.status_code == 409
    with runtime.sessions() as session:
        row = session.get_one(LedgerTransfer, first.json()["transfer_id"])
        assert row.actor is not None
        assert row.actor.startswith("user:")
        assert row.memo == "missed reward for task 17"
    history = client.get(
        f"/v1/ledger/accounts/{books.creators[1].id}/transfers", headers=operator
    ).json()
    assert [(t["code"], t["direction"], t["amount"]) for t in history] == [
        ("adjustment", "credit", 250)
    ]


@pytest.mark.parametrize(
    ("change", "status"),
    [
        ({"amount": 0}, 422),
        ({"amount": "lots"}, 422),
        ({"reason": ""}, 422),
        ({"credit_account_id": 99_999}, 404),
        ({"amount": 10**12}, 409),
    ],
)
def test_bad_adjustments_are_4xx_and_change_nothing(
    client: TestClient,
    books: Books,
    token_for: Callable[..., str],
    runtime: Runtime,
    change: dict[str, object],
    status: int,
) -> None:
    body = {
        "key": "fix-2",
        "debit_account_id": books.budget.id,
        "credit_account_id": books.creators[1].id,
        "amount": 5,
        "reason": "correction",
    }
    response = client.post(
        "/v1/ledger/adjustments", json=body | change, headers=auth(token_for("operator"))
    )
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    with runtime.sessions() as session:
        assert session.query(LedgerTransfer).count() == 1  # the funding only


def test_an_adjustment_overflowing_an_account_is_a_409_problem(
    client: TestClient, books: Books, token_for: Callable[..., str], runtime: Runtime
) -> None:
    """Two adjustments of 2^62 to one account: the second would take its credits past 2^63 - 1;
    the ledger refuses it with its own status, a 409 problem, never a 500."""
    operator = auth(token_for("operator"))
    body = {
        "debit_account_id": books.platform.id,
        "credit_account_id": books.creators[1].id,
        "amount": 2**62,
        "reason": "stress",
    }
    first = client.post("/v1/ledger/adjustments", json=body | {"key": "a1"}, headers=operator)
    assert first.status_code == 201, first.text
    second = client.post("/v1/ledger/adjustments", json=body | {"key": "a2"}, headers=operator)
    assert second.status_code == 409, second.text
    assert second.headers["content-type"] == "application/problem+json"
    assert "overflows totals" in second.json()["detail"]
    account = client.get(f"/v1/ledger/accounts/{books.creators[1].id}", headers=operator)
    assert account.json()["balance"] == 2**62
    reconciliation = client.get("/v1/ledger/reconciliation", headers=operator)
    assert reconciliation.status_code == 200, reconciliation.text


def test_only_operators_adjust(
    client: TestClient, books: Books, token_for: Callable[..., str], seed_platform: object
) -> None:
    body = {
        "key": "x",
        "debit_account_id": books.budget.id,
        "credit_account_id": books.creators[1].id,
        "amount": 5,
        "reason": "because",
    }
    response = client.post(
        "/v1/ledger/adjustments", json=body, headers=auth(token_for("creator", 2))
    )
    assert response.status_code == 403


def test_reconcile_command_reports_tampering(
    runtime: Runtime,
    books: Books,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    client: TestClient,
    token_for: Callable[..., str],
) -> None:
    monkeypatch.setenv("GUANGHE_DATA_DIR", str(runtime.settings.data_dir))
    monkeypatch.setenv("GUANGHE_DATABASE_URL", runtime.settings.resolved_database_url)
    with pytest.raises(SystemExit) as clean:
        main(["ledger", "reconcile"])
    assert clean.value.code in (0, None)
    assert "every invariant holds" in capsys.readouterr().out
    with transaction(runtime.sessions) as session:  # someone edits a balance behind its back
        session.execute(update(LedgerTransfer).values(amount=99_999))
    with pytest.raises(SystemExit) as dirty:
        main(["ledger", "reconcile"])
    assert dirty.value.code == 1
    out = capsys.readouterr().out
    assert "totals_equal_transfers" in out
    problems = client.get("/v1/ledger/reconciliation", headers=auth(token_for("operator")))
    assert {p["rule"] for p in problems.json()} >= {"totals_equal_transfers"}

"""Operators' view of the Torch programme by level: counts, mean results, budgets and spend
per level, the institutions behind them; over the API and on the dashboard."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

import pytest
from fastapi.testclient import TestClient

from guanghe.access import Principal
from guanghe.app import create_app
from guanghe.errors import Forbidden
from guanghe.institutions.levels import METRICS, LevelAssessment
from guanghe.institutions.overview import levels_overview
from guanghe.institutions.pools import PoolRules
from guanghe.institutions.standing import record_levels
from guanghe.institutions.torch import BudgetLine, reward_creator, set_budgets
from guanghe.runtime import Runtime
from guanghe.store import transaction
from tests.conftest import insert_seed_platform

TODAY = dt.datetime.now(dt.UTC).date()
NOW = dt.datetime.now(dt.UTC)
OPERATOR = Principal(0, "operator", None)


def _levels(value: float) -> dict[str, float]:
    return dict.fromkeys(METRICS, value)


@pytest.fixture
def programme(runtime: Runtime) -> Runtime:
    """Institution 1 judged B (its level's budget), 2 judged B with a budget of its own, and
    a third never judged; institution 1 rewarded a creator ¥30."""
    insert_seed_platform(runtime)  # institutions 1 (creators 1, 2) and 2 (3, 5)
    with transaction(runtime.sessions) as session:
        from guanghe.store import Institution

        session.add(Institution(id=3, name="New MCN", founded_on=dt.date(2026, 1, 1)))
        session.flush()
        record_levels(
            session,
            TODAY.replace(day=1),
            [
                LevelAssessment(1, _levels(2.0), "B", "A", ()),
                LevelAssessment(2, _levels(4.0), "B", "A", ()),
            ],
            now=NOW,
        )
        set_budgets(
            session,
            starts_on=TODAY - dt.timedelta(days=1),
            ends_on=TODAY + dt.timedelta(days=5),
            lines=[
                BudgetLine("level:B", 10_000, 70_000),
                BudgetLine("institution:2", 50_000, 0),
            ],
            rules=PoolRules(),
            nomination_slots=0,
            now=NOW,
        )
        reward_creator(
            session, OPERATOR, 1, creator_id=1, amount_fen=3_000, key="r1", day=TODAY, now=NOW
        )
    return runtime


def test_levels_count_budgets_and_spend(programme: Runtime) -> None:
    with programme.sessions() as session:
        found = levels_overview(session, OPERATOR, TODAY)
        with pytest.raises(Forbidden):
            levels_overview(session, Principal(1, "institution", 1), TODAY)
    by_level = {level.level: level for level in found.levels}
    assert [level.level for level in found.levels] == ["S", "A", "B", "C", "unjudged"]
    b = by_level["B"]
    assert (b.institutions, b.creators) == (2, 4)
    assert b.mean_metrics == _levels(3.0)
    assert (b.cash_budget_fen, b.cash_spent_fen) == (10_000 + 50_000, 3_000)
    assert b.traffic_budget == 70_000  # institution 2's own budget has no traffic
    assert by_level["unjudged"].institutions == 1
    assert by_level["unjudged"].mean_metrics == {}
    assert by_level["S"].institutions == 0
    assert [i.id for i in found.institutions] == [1, 2, 3]


def test_the_api_and_the_page(programme: Runtime, token_for: Callable[..., str]) -> None:
    client = TestClient(create_app(programme))
    operator = {"Authorization": f"Bearer {token_for('operator')}"}
    body = client.get("/v1/torch/levels", params={"day": TODAY.isoformat()}, headers=operator)
    assert body.status_code == 200
    levels = {row["level"]: row for row in body.json()["levels"]}
    assert levels["B"]["cash_spent_fen"] == 3_000
    institution = {"Authorization": f"Bearer {token_for('institution', 1)}"}
    assert client.get("/v1/torch/levels", headers=institution).status_code == 403

    assert client.post("/login", data={"token": token_for("operator")}).status_code == 200
    page = client.get("/dashboard/institutions")
    assert page.status_code == 200
    assert 'id="level-B"' in page.text
    assert "¥30.00 / ¥600.00" in page.text
    assert 'id="institution-3"' in page.text
    assert client.get("/dashboard/institutions", params={"day": "2026-02-30"}).status_code == 422
    client.cookies.clear()
    assert client.post("/login", data={"token": token_for("institution", 1)}).status_code == 200
    assert client.get("/dashboard/institutions").status_code == 403

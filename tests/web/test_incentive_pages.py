"""Incentives on the dashboard: the creator's progress bars towards their personal targets;
operators' programme budgets used and completion by vertical and stage."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from guanghe.app import create_app
from guanghe.incentives import WindowActivity, enrol_and_update, settle_rewards, sync_programmes
from guanghe.runtime import Runtime
from tests.conftest import NOW
from tests.incentives.sample import DAY, programme, seed_candidates
from tests.seed import SeedPlatform
from tests.web.test_pages import sign_in


@pytest.fixture
def client(runtime: Runtime, seed_platform: SeedPlatform) -> Iterator[TestClient]:
    def enrol(session: Session) -> None:
        stored = sync_programmes(session, [programme()], now=NOW)[0]
        activity = WindowActivity(baseline={1: 280, 2: 0}, plays={1: 40, 2: 5_000})
        enrol_and_update(session, stored, seed_candidates(), (), activity, DAY, set())
        settle_rewards(session, stored, day=DAY, now=NOW)

    runtime.write(enrol)
    with TestClient(
        create_app(runtime), raise_server_exceptions=False, follow_redirects=False
    ) as test_client:
        yield test_client


def test_the_creator_sees_a_progress_bar_towards_their_target(
    client: TestClient, token_for: Callable[..., str]
) -> None:
    sign_in(client, token_for("creator", 1))
    html = client.get("/dashboard").text
    assert 'id="incentive-progress"' in html
    assert "40 / 210" in html
    assert '<progress max="1" value="0.1905">' in html


def test_a_completed_window_shows_its_reward(
    client: TestClient, token_for: Callable[..., str]
) -> None:
    sign_in(client, token_for("creator", 2))
    html = client.get("/dashboard").text
    assert "completed 2026-11-28" in html
    assert "¥10.00 + 500 boosted impressions" in html


def test_operators_see_budgets_used_and_completion_by_vertical_and_stage(
    client: TestClient, token_for: Callable[..., str]
) -> None:
    sign_in(client, token_for("operator"))
    html = client.get("/dashboard").text
    assert 'data-programme="test_plan"' in html
    assert "¥10.00 / ¥1000.00" in html
    assert 'id="incentive-completion"' in html
    assert "<td>food</td><td>growing</td>" in html

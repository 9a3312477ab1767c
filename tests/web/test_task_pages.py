"""The task center on the dashboard: a creator's recommended tasks with their reasons and the
accept form; operators' fill and reserved budget; an advertiser's own tasks; the links in the
navigation for those roles only."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from guanghe.access import Principal
from guanghe.app import create_app
from guanghe.monetize import deposit, register_party
from guanghe.pipelines.tasks_step import recommend_offers
from guanghe.runtime import Runtime
from guanghe.tasks import TaskSpec, create_task, fund_platform_tasks
from tests.seed import SeedPlatform
from tests.web.test_pages import sign_in

OPERATOR = Principal(user_id=0, role="operator", subject_id=None)


def _spec(title: str, slots: int, reward_fen: int) -> TaskSpec:
    now = dt.datetime.now(dt.UTC)
    return TaskSpec(
        kind="shooting",
        title=title,
        starts_at=now - dt.timedelta(days=60),
        ends_at=now + dt.timedelta(days=5),
        slots=slots,
        reward_fen=reward_fen,
        hashtag="demo",
    )


@pytest.fixture
def advertiser(runtime: Runtime) -> int:
    """An advertiser with a funded task of 2 slots at ¥8.00, and a platform task of 3 slots
    at ¥5.00; the day's offers made."""
    now = dt.datetime.now(dt.UTC)
    posted = now - dt.timedelta(days=2)  # their priority window is over

    def post(session: Session) -> int:
        fund_platform_tasks(session, key="t", amount_fen=100_000, now=now)
        party = register_party(session, "advertiser", "Acme Noodles", now=now).id
        deposit(session, party, key="t", amount_fen=100_000, now=now)
        create_task(session, OPERATOR, _spec("Platform noodles", 3, 500), now=posted)
        create_task(
            session,
            OPERATOR,
            _spec("Acme noodles", 2, 800),
            sponsor=("advertiser", party),
            now=posted,
        )
        return party

    party = runtime.write(post)
    recommend_offers(runtime, now.date(), now)
    return party


@pytest.fixture
def client(runtime: Runtime, seed_platform: SeedPlatform) -> Iterator[TestClient]:
    app = create_app(runtime)
    with TestClient(app, raise_server_exceptions=False, follow_redirects=False) as test_client:
        yield test_client


def test_a_creator_sees_recommended_tasks_with_why_and_accepts_one(
    client: TestClient, advertiser: int, token_for: Callable[..., str]
) -> None:
    sign_in(client, token_for("creator", 1))
    page = client.get("/dashboard/tasks")
    assert page.status_code == 200
    assert 'id="nav-tasks"' in page.text
    assert 'id="task-offers"' in page.text
    assert "Why: " in page.text
    assert "model prior" in page.text
    assert "You hold no task slot." in page.text
    task_id = int(page.text.split('data-task="')[1].split('"')[0])
    accepted = client.post(f"/dashboard/tasks/{task_id}/accept")
    assert accepted.status_code == 303
    after = client.get(accepted.headers["location"])
    assert f"Accepted task {task_id}: slot 1 is yours" in after.text
    assert '<tr data-claim="' in after.text
    assert "<td>accepted</td>" in after.text
    again = client.post(f"/dashboard/tasks/{task_id}/accept")
    assert again.status_code == 409
    assert 'id="tasks-error"' in again.text
    assert "already" in again.text


def test_operators_see_fill_rate_and_budget_reserved(
    client: TestClient, advertiser: int, token_for: Callable[..., str]
) -> None:
    sign_in(client, token_for("operator"))
    html = client.get("/dashboard/tasks").text
    assert 'id="task-fill"' in html
    assert "Platform noodles" in html
    assert "Acme noodles" in html
    assert '<td class="num">¥15.00</td>' in html  # 3 slots x ¥5.00 reserved
    assert f"advertiser {advertiser}" in html
    assert "<th>Sponsor</th>" in html
    refused = client.post("/dashboard/tasks/1/accept")
    assert refused.status_code == 403


def test_an_advertiser_sees_only_its_own_tasks(
    client: TestClient, advertiser: int, token_for: Callable[..., str]
) -> None:
    sign_in(client, token_for("advertiser", advertiser))
    html = client.get("/dashboard/tasks").text
    assert "Your tasks and their results" in html
    assert "Acme noodles" in html
    assert "Platform noodles" not in html
    assert '<td class="num">¥16.00</td>' in html


def test_other_roles_have_no_task_center(
    client: TestClient, advertiser: int, token_for: Callable[..., str]
) -> None:
    sign_in(client, token_for("institution", 1))
    assert 'id="nav-tasks"' not in client.get("/dashboard").text
    assert client.get("/dashboard/tasks").status_code == 403


def test_signed_out_goes_to_login(client: TestClient) -> None:
    assert client.get("/dashboard/tasks").status_code == 303
    assert client.post("/dashboard/tasks/1/accept").status_code == 303
    assert client.post("/dashboard/tasks/abc/accept").status_code in (303, 422)

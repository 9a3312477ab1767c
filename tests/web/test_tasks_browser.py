"""The task center in headless Chromium: a creator opens the task center from the navigation,
reads why a task is recommended, accepts it and sees the slot held; an operator sees the fill.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from playwright.sync_api import expect
from sqlalchemy.orm import Session

from guanghe.access import Principal
from guanghe.app import create_app
from guanghe.pipelines.tasks_step import recommend_offers
from guanghe.runtime import Runtime
from guanghe.settings import Settings
from guanghe.tasks import TaskSpec, create_task, fund_platform_tasks
from tests.live import serve
from tests.web.browser import BrowserTab, sign_in
from tests.web.test_dashboard_browser import _seed

pytestmark = pytest.mark.browser


@dataclass(frozen=True)
class TaskServer:
    url: str
    operator_token: str
    creator_token: str


def _post_task(session: Session) -> int:
    now = dt.datetime.now(dt.UTC)
    fund_platform_tasks(session, key="browser", amount_fen=10_000, now=now)
    spec = TaskSpec(
        kind="shooting",
        title="Film your best level",
        starts_at=now - dt.timedelta(days=3),
        ends_at=now + dt.timedelta(days=5),
        slots=2,
        reward_fen=1_200,
        hashtag="speedrun",
    )
    operator = Principal(user_id=0, role="operator", subject_id=None)
    return create_task(session, operator, spec, now=now - dt.timedelta(days=2)).id


@pytest.fixture(scope="module")
def task_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TaskServer]:
    runtime = Runtime(Settings(data_dir=tmp_path_factory.mktemp("tasks"), database_url=""))
    runtime.init()
    operator, creator = _seed(runtime)
    runtime.write(_post_task)
    now = dt.datetime.now(dt.UTC)
    recommend_offers(runtime, now.date(), now)
    with serve(create_app(runtime)) as url:
        yield TaskServer(url, operator, creator)
    runtime.engine.dispose()


def test_a_creator_accepts_a_recommended_task(task_server: TaskServer, tab: BrowserTab) -> None:
    page = tab.page
    sign_in(page, task_server.url, task_server.creator_token)
    page.click("#nav-tasks")
    offer = page.locator("#task-offers article.offer").first
    expect(offer).to_contain_text("Film your best level")
    expect(offer.locator(".why")).to_contain_text("model prior")
    with page.expect_navigation():
        offer.locator("button[type=submit]").click()
    expect(page.locator("#tasks-message")).to_contain_text("slot 1 is yours")
    expect(page.locator("#task-claims")).to_contain_text("accepted")
    expect(page.locator("#task-offers")).to_contain_text("No task is recommended")
    tab.assert_local_and_clean()


def test_an_operator_sees_the_fill(task_server: TaskServer, tab: BrowserTab) -> None:
    page = tab.page
    sign_in(page, task_server.url, task_server.operator_token)
    page.click("#nav-tasks")
    row = page.locator("#task-fill tbody tr").first
    expect(row).to_contain_text("Film your best level")
    expect(row).to_contain_text("¥24.00")
    tab.assert_local_and_clean()

"""Operators schedule a live session from the dashboard: the form posts to the API, the new
session's room opens and the sessions page lists it; a session that ends before it starts is
refused with the API's reason on the page and nothing scheduled."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from playwright.sync_api import expect

from guanghe import community
from guanghe.access import Principal, create_token
from guanghe.app import create_app
from guanghe.runtime import Runtime
from guanghe.settings import Settings
from guanghe.store import transaction
from tests.conftest import insert_seed_platform
from tests.live import serve
from tests.web.browser import BrowserTab, sign_in

pytestmark = pytest.mark.browser

OPERATOR = Principal(user_id=1, role="operator", subject_id=None)


@dataclass(frozen=True)
class Site:
    url: str
    runtime: Runtime
    operator: str
    creator: str


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    runtime = Runtime(Settings(data_dir=tmp_path_factory.mktemp("schedule"), database_url=""))
    runtime.init()
    insert_seed_platform(runtime)
    now = dt.datetime.now(dt.UTC)
    with transaction(runtime.sessions) as session:
        operator = create_token(session, role="operator", subject_id=None, name="o", now=now)[1]
        creator = create_token(session, role="creator", subject_id=2, name="c", now=now)[1]
    with serve(create_app(runtime)) as url:
        yield Site(url, runtime, operator, creator)
    runtime.engine.dispose()


def _sessions(site: Site) -> list[community.LiveSessionView]:
    with transaction(site.runtime.sessions) as session:
        return community.list_sessions(session, OPERATOR, when=None, now=dt.datetime.now(dt.UTC))


def _fill(tab: BrowserTab, starts: dt.datetime, ends: dt.datetime) -> None:
    page = tab.page
    page.fill("#schedule-topic", "Hooks that hold the first three seconds")
    page.fill("#schedule-host", "1")
    page.fill("#schedule-starts", starts.strftime("%Y-%m-%dT%H:%M"))
    page.fill("#schedule-ends", ends.strftime("%Y-%m-%dT%H:%M"))
    page.fill("#schedule-capacity", "40")


def test_an_operator_schedules_a_session_from_the_dashboard(site: Site, tab: BrowserTab) -> None:
    page = tab.page
    sign_in(page, site.url, site.operator)
    page.goto(f"{site.url}/dashboard/live")
    starts = dt.datetime.now(dt.UTC).replace(second=0, microsecond=0) + dt.timedelta(days=2)
    before = len(_sessions(site))

    _fill(tab, starts, starts - dt.timedelta(hours=1))
    page.click("#schedule-form button[type=submit]")
    expect(page.locator("#schedule-status")).to_contain_text("end")
    assert len(_sessions(site)) == before
    assert [e for e in tab.errors if "422" not in e] == []
    tab.errors.clear()

    _fill(tab, starts, starts + dt.timedelta(hours=1))
    with page.expect_navigation():
        page.click("#schedule-form button[type=submit]")
    scheduled = [s for s in _sessions(site) if s.topic.startswith("Hooks that hold")]
    assert [(s.starts_at, s.capacity, s.host_creator_id) for s in scheduled] == [(starts, 40, 1)]
    assert page.url.endswith(f"/dashboard/live/{scheduled[0].id}")
    page.goto(f"{site.url}/dashboard/live")
    expect(page.locator(f"#live-session-{scheduled[0].id}")).to_contain_text("0 / 40")
    tab.assert_local_and_clean()


def test_a_creator_is_not_offered_the_form(site: Site, tab: BrowserTab) -> None:
    sign_in(tab.page, site.url, site.creator)
    tab.page.goto(f"{site.url}/dashboard/live")
    expect(tab.page.locator("#live-upcoming")).to_be_visible()
    expect(tab.page.locator("#schedule-form")).to_have_count(0)

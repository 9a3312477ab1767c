"""Operators' institutions by level in headless Chromium: an operator opens it from the
navigation, reads each level's institutions, results and Torch spend, and picks another day;
an institution's token is refused the page."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from playwright.sync_api import expect

from guanghe.access import Principal, create_token
from guanghe.app import create_app
from guanghe.institutions.levels import METRICS, LevelAssessment
from guanghe.institutions.pools import PoolRules
from guanghe.institutions.standing import record_levels
from guanghe.institutions.torch import BudgetLine, reward_creator, set_budgets
from guanghe.runtime import Runtime
from guanghe.settings import Settings
from guanghe.store import transaction
from tests.conftest import insert_seed_platform
from tests.live import serve
from tests.web.browser import BrowserTab, sign_in

pytestmark = pytest.mark.browser

NOW = dt.datetime.now(dt.UTC)
TODAY = NOW.date()
OPERATOR = Principal(user_id=0, role="operator", subject_id=None)


@dataclass(frozen=True)
class ProgrammeServer:
    url: str
    operator_token: str
    institution_token: str


@pytest.fixture(scope="module")
def programme_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ProgrammeServer]:
    """Institution 1 at level A with a ¥20 reward paid of ¥100, institution 2 at level C."""
    runtime = Runtime(Settings(data_dir=tmp_path_factory.mktemp("levels"), database_url=""))
    runtime.init()
    insert_seed_platform(runtime)
    with transaction(runtime.sessions) as session:
        record_levels(
            session,
            TODAY.replace(day=1),
            [
                LevelAssessment(1, dict.fromkeys(METRICS, 5.0), "A", "S", ()),
                LevelAssessment(2, dict.fromkeys(METRICS, 1.0), "C", "B", ()),
            ],
            now=NOW,
        )
        set_budgets(
            session,
            starts_on=TODAY,
            ends_on=TODAY + dt.timedelta(days=6),
            lines=[BudgetLine("level:A", 10_000, 50_000)],
            rules=PoolRules(),
            nomination_slots=0,
            now=NOW,
        )
        reward_creator(
            session, OPERATOR, 1, creator_id=2, amount_fen=2_000, key="b1", day=TODAY, now=NOW
        )
        _, operator = create_token(session, role="operator", subject_id=None, name="o", now=NOW)
        _, institution = create_token(session, role="institution", subject_id=1, name="i", now=NOW)
    with serve(create_app(runtime)) as url:
        yield ProgrammeServer(url, operator, institution)
    runtime.engine.dispose()


def test_an_operator_reads_the_programme_by_level(
    programme_server: ProgrammeServer, tab: BrowserTab
) -> None:
    page = tab.page
    sign_in(page, programme_server.url, programme_server.operator_token)
    page.click("#nav-institutions")
    level_a = page.locator("#institution-levels #level-A")
    expect(level_a).to_contain_text("¥20.00 / ¥100.00")
    expect(level_a).to_contain_text("0 / 50,000")
    expect(page.locator("#institution-levels #level-C")).to_contain_text("1.00")
    rows = page.locator("#institution-list tbody tr")
    expect(rows).to_have_count(2)
    expect(rows.first).to_contain_text("Starlight MCN")
    expect(rows.nth(1)).to_contain_text("Riverbank MCN")
    # A day before the budget: nothing budgeted, the levels stay.
    page.fill("#institutions-day input[name=day]", (TODAY - dt.timedelta(days=1)).isoformat())
    with page.expect_navigation():
        page.click("#institutions-day button[type=submit]")
    expect(page.locator("#institution-levels #level-A")).to_contain_text("¥0.00 / ¥0.00")
    tab.assert_local_and_clean()


def test_an_institution_is_refused(programme_server: ProgrammeServer, tab: BrowserTab) -> None:
    page = tab.page
    sign_in(page, programme_server.url, programme_server.institution_token)
    expect(page.locator("#nav-institutions")).to_have_count(0)
    response = page.goto(programme_server.url + "/dashboard/institutions")
    assert response is not None
    assert response.status == 403
    expect(page.locator("#institutions-error")).to_contain_text("for operators")
    assert all("status of 403" in error for error in tab.errors)  # the refusal, nothing else

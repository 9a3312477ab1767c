"""The live room and courses in headless Chromium: a vote cast on one creator's page moves the
count on another's open page without a reload (and a new question appears there); a novice
short of works is recommended the lesson for that rule first, and the growth page links it."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from playwright.sync_api import Browser, Page, expect

from guanghe import community
from guanghe.access import Principal, create_token
from guanghe.app import create_app
from guanghe.runtime import Runtime
from guanghe.settings import Settings
from guanghe.sim.live_room import seed_live_room
from guanghe.store import transaction
from tests.conftest import insert_seed_platform
from tests.live import serve
from tests.web.growth_sample import write_growth_snapshot

pytestmark = pytest.mark.browser

OPERATOR = Principal(user_id=1, role="operator", subject_id=None)
RANKS = {
    "engagement_rate": 0.7,
    "follow_rate": 0.5,
    "play_rate": 0.6,
    "consistency": 0.4,
    "retention": 0.8,
}


@dataclass(frozen=True)
class Site:
    url: str
    tokens: dict[int, str]  # creator id -> token
    upcoming: int
    question: int


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    runtime = Runtime(Settings(data_dir=tmp_path_factory.mktemp("live"), database_url=""))
    runtime.init()
    insert_seed_platform(runtime)
    now = dt.datetime.now(dt.UTC)
    runtime.write(lambda s: seed_live_room(s, now=now))
    # Creator 1: a novice with 1 of the 4 works the rising tier needs (its weakest rule).
    write_growth_snapshot(
        runtime.settings.data_dir,
        now.date(),
        {1: ("starter", "novice", 45.0, 9_000, 1, 1, 0)},
        ranks={1: RANKS},
    )
    with transaction(runtime.sessions) as session:
        upcoming = community.list_sessions(session, OPERATOR, when="upcoming", now=now)[0]
        question = community.list_questions(session, OPERATOR, upcoming.id)[0]
        tokens = {
            c: create_token(session, role="creator", subject_id=c, name="t", now=now)[1]
            for c in (1, 2, 5)
        }
    with serve(create_app(runtime)) as url:
        yield Site(url, tokens, upcoming.id, question.id)
    runtime.engine.dispose()


def _signed_in(browser: Browser, site: Site, creator_id: int) -> Page:
    page = browser.new_context(viewport={"width": 1280, "height": 900}).new_page()
    page.goto(f"{site.url}/login")
    page.fill("#token", site.tokens[creator_id])
    with page.expect_navigation():
        page.click("button[type=submit]")
    return page


def test_votes_move_on_an_open_page_without_reloading(browser: Browser, site: Site) -> None:
    watcher = _signed_in(browser, site, 2)
    watcher.click("#nav-live")
    with watcher.expect_navigation():
        watcher.click(f"#live-session-{site.upcoming} a")
    expect(watcher.locator("#live-connection")).to_contain_text("Live")
    expect(watcher.locator(f"#votes-{site.question}")).to_have_text("2")
    watcher.evaluate("window.stillTheSamePage = true")

    voter = _signed_in(browser, site, 5)
    voter.goto(f"{site.url}/dashboard/live/{site.upcoming}")
    expect(voter.locator("#live-connection")).to_contain_text("Live")
    voter.click(f"#question-{site.question} button.vote")
    expect(voter.locator(f"#votes-{site.question}")).to_have_text("3")
    voter.fill("#ask-body", "Which covers work for food?")
    voter.click("#ask-form button[type=submit]")

    expect(watcher.locator(f"#votes-{site.question}")).to_have_text("3")
    expect(watcher.locator("#questions")).to_contain_text("Which covers work for food?")
    assert watcher.evaluate("window.stillTheSamePage") is True


def test_a_past_session_keeps_its_answers_and_recording(browser: Browser, site: Site) -> None:
    page = _signed_in(browser, site, 2)
    page.goto(f"{site.url}/dashboard/live")
    with page.expect_navigation():
        page.click("#live-past tbody a")
    expect(page.locator("#live-recording a")).to_have_attribute(
        "href", "https://creators.example/live/recordings/1"
    )
    expect(page.locator("#questions li.question")).to_have_count(2)
    expect(page.locator("#questions")).to_contain_text("Answered live.")


def test_a_novice_is_recommended_the_lesson_for_their_weakest_rule(
    browser: Browser, site: Site
) -> None:
    page = _signed_in(browser, site, 1)
    expect(page.locator("#next-tier-lessons li").first).to_contain_text(
        "A rhythm you can keep: four works a month"
    )
    page.click("#nav-courses")
    expect(page.locator("#weakest-rule")).to_contain_text("works published in 28 days")
    first = page.locator("#recommended-lessons li").first
    expect(first).to_contain_text("A rhythm you can keep: four works a month")
    expect(first).to_have_attribute("data-addresses", "min_works_28d")
    lesson = first.get_attribute("data-lesson")
    page.click(f"#lesson-{lesson} button.complete")
    expect(page.locator(f"#lesson-{lesson} .done")).to_have_text("completed")
    page.reload()
    expect(page.locator("#recommended-lessons li").first).not_to_contain_text("A rhythm")

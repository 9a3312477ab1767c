"""The notification pages in headless Chromium: a creator reads a notice from the inbox and
saves notification settings; an operator replays a dead letter."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy.orm import Session

from guanghe import notifications
from guanghe.access import Principal, create_token
from guanghe.app import create_app
from guanghe.notifications import DeliveryPolicy, NoticeDraft, claim_due, fail, notify_many
from guanghe.runtime import Runtime
from guanghe.settings import Settings
from guanghe.store import Creator, transaction
from tests.live import serve
from tests.web.browser import sign_in

pytestmark = pytest.mark.browser

NOW = dt.datetime(2026, 11, 28, 12, tzinfo=dt.UTC)
OPERATOR = Principal(0, "operator", None)


@dataclass(frozen=True)
class Site:
    url: str
    runtime: Runtime
    operator: str
    creator: str
    dead_notice: int


def _seed(runtime: Runtime) -> Site:
    with transaction(runtime.sessions) as session:
        session.add(
            Creator(
                id=1,
                handle="maker1",
                display_name="Maker 1",
                vertical_id=1,
                joined_on=dt.date(2025, 1, 1),
                follower_count=5_000,
                stage="growing",
            )
        )
        session.flush()
        change = notifications.PreferencesChange(
            channels={"payout": ["inbox", "webhook"]},
            timezone="Asia/Shanghai",
            quiet_start_minute=0,
            quiet_end_minute=0,
            digest=False,
            digest_minute=540,
            webhook_url="http://127.0.0.1:9/closed",
            webhook_secret="s" * 24,
            email=None,
        )
        notifications.put_preferences(session, OPERATOR, 1, change, now=NOW)
        notify_many(
            session,
            [
                NoticeDraft(1, "tier_change", "Your growth tier is now star", "", "t1"),
                NoticeDraft(1, "payout", "Payout of 12.50 CNY", "Paid.", "p1"),
            ],
            now=NOW,
        )
        _, operator = create_token(session, role="operator", subject_id=None, name="op", now=NOW)
        _, creator = create_token(session, role="creator", subject_id=1, name="c1", now=NOW)
    policy = DeliveryPolicy()
    lease = runtime.write(lambda s: claim_due(s, now=NOW, policy=policy))

    def give_up(session: Session) -> None:
        for ids in lease.messages:
            fail(
                session,
                ids,
                lease.token,
                "connection refused",
                now=NOW,
                policy=policy,
                permanent=True,
            )

    runtime.write(give_up)
    with runtime.sessions() as session:
        (dead,) = notifications.list_dead_letters(session, OPERATOR).items
    return Site("", runtime, operator, creator, dead.notice_id)


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    settings = Settings(
        data_dir=tmp_path_factory.mktemp("notifications"), database_url="", notify_in_serve=False
    )
    runtime = Runtime(settings)
    runtime.init()
    seeded = _seed(runtime)
    with serve(create_app(runtime)) as url:
        yield Site(url, runtime, seeded.operator, seeded.creator, seeded.dead_notice)
    runtime.engine.dispose()


def test_a_creator_reads_a_notice_and_saves_settings(site: Site, page: Page) -> None:
    sign_in(page, site.url, site.creator)
    page.click("#nav-inbox")
    expect(page.locator("#unread-count")).to_contain_text("2 unread")
    rows = page.locator("#notices tbody tr")
    expect(rows.first).to_contain_text("Payout of 12.50 CNY")  # newest first
    expect(rows.first).to_have_class("unread")
    rows.first.get_by_role("button", name="Mark as read").click()
    expect(page.locator("#unread-count")).to_contain_text("1 unread")
    expect(rows.first).to_have_class("read")

    page.click("#nav-notification-settings")
    expect(page.locator("#secret-state")).to_contain_text("A secret is set")
    expect(page.locator("#webhook-secret")).to_have_value("")
    page.check("#ch-tier_change-email")
    page.fill("#email", "maker@example.com")
    page.fill("#quiet-start", "22:00")
    page.fill("#quiet-end", "07:30")
    page.click("#save-settings")
    expect(page.locator("#settings-message")).to_have_text("Saved.")
    expect(page.locator("#ch-tier_change-email")).to_be_checked()
    expect(page.locator("#quiet-end")).to_have_value("07:30")
    with site.runtime.sessions() as session:
        prefs = notifications.get_preferences(session, OPERATOR, 1)
    assert prefs.channels["tier_change"] == ("inbox", "email")
    assert (prefs.quiet_start_minute, prefs.email) == (22 * 60, "maker@example.com")
    assert prefs.webhook_secret == "s" * 24  # kept: the empty field changes nothing


def test_an_operator_replays_a_dead_letter(site: Site, page: Page) -> None:
    sign_in(page, site.url, site.operator)
    page.click("#nav-dead-letters")
    table = page.locator("#dead-letters")
    expect(table).to_contain_text("connection refused")
    table.get_by_role("button", name=re.compile(f"Replay notice {site.dead_notice}")).click()
    expect(page.locator("#dead-letters-message")).to_contain_text("queued again")
    expect(table).to_contain_text("No dead letters.")

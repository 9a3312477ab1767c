"""The community in headless Chromium: creators post, reply and search; a script in a post is
rendered inert; a member reports a post and an operator hides it (gone from the thread and
from search at once); a suspended creator's post is refused."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from playwright.sync_api import Browser, Page, expect
from sqlalchemy.orm import Session

from guanghe import community
from guanghe.access import Principal, create_token
from guanghe.app import create_app
from guanghe.runtime import Runtime
from guanghe.settings import Settings
from guanghe.store import transaction
from tests.conftest import insert_seed_platform
from tests.live import serve

pytestmark = pytest.mark.browser

OPERATOR = Principal(user_id=1, role="operator", subject_id=None)
SCRIPT_POST = (
    "**Steam** shows best against a dark wall.\n\n"
    "<script>window.pwned = 'script'</script>\n\n"
    '<img src="x" onerror="window.pwned = \'img\'">\n\n'
    "[click me](javascript:window.pwned='link')"
)


@dataclass(frozen=True)
class Site:
    base: str
    board_id: int
    thread_id: int
    tokens: dict[str, str]


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    runtime = Runtime(Settings(data_dir=tmp_path_factory.mktemp("community"), database_url=""))
    runtime.init()
    insert_seed_platform(runtime)
    now = dt.datetime.now(dt.UTC)

    def open_forum(session: Session) -> tuple[int, int]:
        spec = community.BoardSpec("food", "Food creators", "Recipes, shooting, growth", "food")
        board = community.create_board(session, OPERATOR, spec, now=now)
        thread, _ = community.open_thread(
            session,
            Principal(user_id=2, role="creator", subject_id=1),
            board.id,
            "冬至饺子怎么拍出热气",
            "灯光怎么打？",
            tier_order=("starter", "rising", "star", "elite"),
            now=now,
        )
        return board.id, thread.id

    board_id, thread_id = runtime.write(open_forum)
    tokens = {}
    with transaction(runtime.sessions) as session:
        for name, role, subject in (
            ("operator", "operator", None),
            ("creator1", "creator", 1),
            ("creator2", "creator", 2),
            ("creator3", "creator", 3),
        ):
            _, tokens[name] = create_token(
                session, role=role, subject_id=subject, name=name, now=now
            )
    with serve(create_app(runtime)) as base:
        yield Site(base, board_id, thread_id, tokens)
    runtime.engine.dispose()


def signed_in(browser: Browser, site: Site, who: str) -> Page:
    page = browser.new_context(viewport={"width": 1280, "height": 900}).new_page()
    page.goto(f"{site.base}/login")
    page.fill("#token", site.tokens[who])
    with page.expect_navigation():
        page.click("button[type=submit]")
    return page


def test_post_reply_search_report_and_moderate(browser: Browser, site: Site) -> None:
    writer = signed_in(browser, site, "creator2")
    writer.click("#nav-community")
    writer.click(f"[data-board='{site.board_id}'] a")
    writer.click(f"[data-thread='{site.thread_id}'] a")
    expect(writer.locator("#thread-title")).to_have_text("冬至饺子怎么拍出热气")
    writer.fill("#body", SCRIPT_POST)
    with writer.expect_navigation():
        writer.click("#reply-button")
    post = writer.locator("#posts article").last
    expect(post).to_contain_text("@creator2")
    expect(post.locator(".post-body strong")).to_have_text("Steam")
    # the script is shown as text and nothing ran: no handler, no script element, no link
    expect(post.locator(".post-body")).to_contain_text("<script>window.pwned = 'script'</script>")
    assert writer.evaluate("() => window.pwned") is None
    assert post.locator(".post-body script, .post-body img, .post-body a").count() == 0
    post_id = int(str(post.get_attribute("id")).removeprefix("post-"))

    reader = signed_in(browser, site, "creator3")
    reader.goto(f"{site.base}/dashboard/community")
    reader.fill("#q", "热气")
    with reader.expect_navigation():
        reader.click("#search-button")
    expect(reader.locator("#search-results")).to_contain_text("冬至饺子怎么拍出热气")
    reader.fill("#q", "steam")
    with reader.expect_navigation():
        reader.click("#search-button")
    expect(reader.locator(f"#search-results [data-post='{post_id}']")).to_be_visible()
    reader.goto(f"{site.base}/dashboard/community/threads/{site.thread_id}")
    reported = reader.locator(f"#post-{post_id}")
    reported.locator("summary").click()
    reported.locator("input[name=reason]").fill("script injection attempt")
    with reader.expect_navigation():
        reported.locator(".report-button").click()
    expect(reader.locator("#community-message")).to_have_text("Reported to the operators")

    operator = signed_in(browser, site, "operator")
    operator.goto(f"{site.base}/dashboard/community")
    operator.click("#moderation-link")
    report = operator.locator("#open-reports .report").first
    expect(report).to_contain_text("script injection attempt")
    report.locator("input[name=reason]").first.fill("unsafe markup")
    with operator.expect_navigation():
        report.locator(".hide-reported").click()
    expect(operator.locator("#community-message")).to_contain_text("Hide post: unsafe markup")
    expect(operator.locator(f"#post-{post_id}")).to_contain_text("hidden")

    reader.reload()
    expect(reader.locator("#posts article")).to_have_count(1)
    reader.goto(f"{site.base}/dashboard/community?q=steam")
    expect(reader.locator("#no-results")).to_be_visible()
    operator.goto(f"{site.base}/dashboard/community/moderation")
    expect(operator.locator("#no-reports")).to_be_visible()
    expect(operator.locator("#moderation-log")).to_contain_text("unsafe markup")


def test_a_suspended_creators_post_is_refused(browser: Browser, site: Site) -> None:
    operator = signed_in(browser, site, "operator")
    operator.goto(f"{site.base}/dashboard/community/moderation")
    operator.fill("#creator_id", "3")
    operator.fill("#hours", "24")
    operator.fill("#suspend-reason", "repeated spam")
    with operator.expect_navigation():
        operator.click("#suspend-button")
    expect(operator.locator("#community-message")).to_contain_text("Creator 3 suspended until")

    member = signed_in(browser, site, "creator3")
    member.goto(f"{site.base}/dashboard/community/threads/{site.thread_id}")
    before = member.locator("#posts article").count()
    member.fill("#body", "buy followers now")
    with member.expect_navigation() as navigation:
        member.click("#reply-button")
    response = navigation.value
    assert response is not None
    assert response.status == 403
    expect(member.locator("#community-error")).to_contain_text("suspended")
    expect(member.locator("#community-error")).to_contain_text("repeated spam")
    member.goto(f"{site.base}/dashboard/community/threads/{site.thread_id}")
    expect(member.locator("#posts article")).to_have_count(before)

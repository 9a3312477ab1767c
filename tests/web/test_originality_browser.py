"""The originality pages in headless Chromium: an operator resolves a suspect copy and sees
duplicates linked to their originals; an entitled creator diagnoses a draft; an author
monetizes copies of a work and the copy's uploader sees the match, why, and disputes it."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from guanghe import originality
from guanghe.access import create_token
from guanghe.app import create_app
from guanghe.runtime import Runtime
from guanghe.settings import Settings
from guanghe.store import Creator, CreatorTierHistory, transaction
from tests.live import serve
from tests.originality.pictures import edits, encode, picture
from tests.web.browser import sign_in

pytestmark = pytest.mark.browser

NOW = dt.datetime(2026, 11, 28, 12, tzinfo=dt.UTC)


@dataclass(frozen=True)
class Site:
    url: str
    operator: str
    creator: str
    uploader: str
    original_id: int
    duplicate_id: int
    suspect_id: int


def _publish(runtime: Runtime, creator_id: int, image: object, title: str, at: dt.datetime) -> int:
    with transaction(runtime.sessions) as session:
        principal, _ = create_token(session, role="operator", subject_id=None, name="seed", now=at)
        data = encode(image)  # type: ignore[arg-type]
        draft = originality.WorkDraft(
            creator_id=creator_id,
            title=title,
            caption="",
            hashtags=(),
            cover=originality.decode_picture(data, "cover"),
        )
        published = originality.publish_work(
            session,
            principal,
            draft,
            index=runtime.fingerprint_index,
            covers_dir=runtime.settings.covers_dir,
            now=at,
        )
    return published.id


def _seed(runtime: Runtime) -> Site:
    with transaction(runtime.sessions) as session:
        session.add_all(
            Creator(
                id=cid,
                handle=f"maker{cid}",
                display_name=f"Maker {cid}",
                vertical_id=1,
                joined_on=dt.date(2025, 1, 1),
                follower_count=followers,
                stage="growing",
            )
            for cid, followers in ((1, 150_000), (2, 3_000), (3, 9_000))
        )
        session.flush()
        session.add(
            CreatorTierHistory(
                creator_id=1, since=dt.date(2026, 11, 1), tier="star", stage="growing", quality=70.0
            )
        )
    original = _publish(runtime, 1, picture(70), "Grandma's dumplings", NOW)
    duplicate = _publish(runtime, 2, edits(picture(70))["overlaid"], "dumplings!!", NOW)
    lost = _publish(runtime, 1, picture(71), "Night market", NOW)
    (runtime.settings.covers_dir / f"0/{lost}.png").unlink()  # unverifiable match: a suspect
    suspect = _publish(runtime, 3, picture(71), "Market at night", NOW)
    with transaction(runtime.sessions) as session:
        _, operator = create_token(session, role="operator", subject_id=None, name="op", now=NOW)
        _, creator = create_token(session, role="creator", subject_id=1, name="c1", now=NOW)
        _, uploader = create_token(session, role="creator", subject_id=2, name="c2", now=NOW)
    return Site("", operator, creator, uploader, original, duplicate, suspect)


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    runtime = Runtime(Settings(data_dir=tmp_path_factory.mktemp("originality"), database_url=""))
    runtime.init()
    seeded = _seed(runtime)
    with serve(create_app(runtime)) as url:
        yield Site(
            url,
            seeded.operator,
            seeded.creator,
            seeded.uploader,
            seeded.original_id,
            seeded.duplicate_id,
            seeded.suspect_id,
        )
    runtime.engine.dispose()


def test_operator_sees_copies_and_resolves_a_review(site: Site, page: Page) -> None:
    sign_in(page, site.url, site.operator)
    page.click("#nav-originality")
    copies = page.locator("#copies tbody tr")
    expect(copies).to_have_count(2)
    duplicate_row = copies.filter(has_text="dumplings!!")
    expect(duplicate_row).to_contain_text("duplicate")
    expect(duplicate_row).to_contain_text(str(site.original_id))
    expect(copies.filter(has_text="Market at night")).to_contain_text("suspect")
    case_row = page.locator("#open-cases tbody tr").filter(has_text="review")
    expect(case_row).to_contain_text(str(site.suspect_id))
    case_row.locator("input[name=note]").fill("same stall, same angle")
    with page.expect_navigation():
        case_row.locator("button[value=uphold]").click()
    expect(page.locator("#originality-message")).to_contain_text("upheld")
    expect(page.locator("#open-cases")).to_contain_text("No open cases.")
    expect(page.locator("#copies tbody tr").filter(has_text="Market at night")).to_contain_text(
        "duplicate"
    )


def test_entitled_creator_diagnoses_a_draft(site: Site, page: Page, tmp_path: Path) -> None:
    sign_in(page, site.url, site.creator)
    page.goto(f"{site.url}/dashboard/originality")
    expect(page.locator("#copies")).to_contain_text("dumplings!!")  # a copy of their work
    cover = tmp_path / "draft.png"
    cover.write_bytes(encode(edits(picture(70))["cropped"]))
    page.fill("#diagnosis-form input[name=title]", "ok")
    page.set_input_files("#diagnosis-form input[name=cover]", str(cover))
    with page.expect_navigation():
        page.click("#diagnosis-form button[type=submit]")
    expect(page.locator("#duplicate-risk")).to_have_text("original")  # their own work
    expect(page.locator("#suggestions li").first).to_be_visible()
    expect(page.locator("#suggestions")).to_contain_text("characters")


def test_author_sets_a_policy_and_the_uploader_sees_the_match_and_disputes(
    site: Site, page: Page
) -> None:
    sign_in(page, site.url, site.creator)
    page.goto(f"{site.url}/dashboard/originality")
    form = page.locator("#policy-work-form")
    form.locator("select[name=work_id]").select_option(str(site.original_id))
    form.locator("select[name=policy]").select_option("monetize")
    with page.expect_navigation():
        form.locator("button[type=submit]").click()
    expect(page.locator("#originality-message")).to_contain_text("monetize")
    expect(form.locator("select[name=work_id]")).to_contain_text("now monetize")

    sign_in(page, site.url, site.uploader)
    page.goto(f"{site.url}/dashboard/originality")
    row = page.locator("#matches tbody tr").filter(has_text="dumplings!!")
    expect(row).to_contain_text(f"{site.original_id} · Grandma's dumplings")  # which, whose
    expect(row.locator(".match-why")).to_contain_text("checked at publication")  # why
    expect(row).to_contain_text("monetize")
    row.locator("input[name=statement]").fill("I filmed this at my grandmother's")
    with page.expect_navigation():
        row.locator("button[type=submit]").click()
    expect(page.locator("#originality-message")).to_contain_text("Dispute")
    expect(page.locator("#matches tbody tr").filter(has_text="dumplings!!")).to_contain_text("open")

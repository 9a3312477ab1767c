"""The demo at a small size (500 creators x 14 days): generated, re-uploaded to and cycled,
it has every work fingerprinted, its re-uploads on its own timeline, orders, an originality
case, a creator with pre-diagnosis and every growth tier."""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Iterator

import numpy as np
import pyarrow.parquet as pq
import pytest
from fastapi.testclient import TestClient
from PIL import Image
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from guanghe import creators, originality, tasks
from guanghe.access import Principal, create_token
from guanghe.analytics import ecosystem_report, parse_period
from guanghe.app import create_app
from guanghe.ledger import find_account
from guanghe.pipelines import run_cycle
from guanghe.runtime import Runtime
from guanghe.sim import PlatformSummary, generate_platform, videos
from guanghe.sim.population import draw_population
from guanghe.sim.reuploads import DemoUpload, publish_demo_reuploads
from guanghe.sim.tasks import PROPENSITY_FILE, draw_truth, post_agent_task
from guanghe.store import Creator, LedgerTransfer, Work, transaction
from guanghe.tasks import funding as task_funding
from tests.sim.conftest import make_runtime

CREATORS, DAYS, SEED = 500, 14, 7


@pytest.fixture(scope="module")
def demo(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[tuple[Runtime, PlatformSummary, list[DemoUpload]]]:
    runtime = make_runtime(tmp_path_factory.mktemp("demo"))
    summary = generate_platform(runtime, creators=CREATORS, days=DAYS, seed=SEED)
    with runtime.sessions() as session:
        assert originality.count_unindexed(session) == 0  # indexed at generation
    uploads = publish_demo_reuploads(runtime, seed=SEED)
    run_cycle(runtime, summary.last_date)  # charges and settles the earlier days too
    yield runtime, summary, uploads
    runtime.engine.dispose()


def test_an_exact_copy_of_a_simulated_work_is_not_original(
    demo: tuple[Runtime, PlatformSummary, list[DemoUpload]],
) -> None:
    runtime, _, _ = demo
    with runtime.sessions() as session:
        work = session.scalars(select(Work).order_by(Work.id).limit(1)).one()
        cover = (runtime.settings.covers_dir / str(work.cover_path)).read_bytes()
        copier = 2 if work.creator_id == 1 else 1
        index = runtime.fingerprint_index
        check = originality.check_originality(
            session,
            index,
            runtime.settings.covers_dir,
            creator_id=copier,
            cover=Image.open(io.BytesIO(cover)).convert("RGB"),
        )
    assert (check.verdict, check.original_work_id) == ("duplicate", work.id)


def test_the_demo_re_uploads_happen_in_the_simulated_period_and_protect_their_authors(
    demo: tuple[Runtime, PlatformSummary, list[DemoUpload]],
) -> None:
    runtime, summary, uploads = demo
    assert [u.kind for u in uploads][:2] == ["cropped copy", "own re-post"]
    with runtime.sessions() as session:
        published = [session.get_one(Work, u.work_id).published_at.date() for u in uploads]
        assert all(summary.first_date <= day <= summary.last_date for day in published)
        authors = {
            session.get_one(Work, u.original_work_id).creator_id
            for u in uploads
            if u.verdict == "duplicate" and u.original_work_id is not None
        }
        report = ecosystem_report(
            session, runtime.event_log, parse_period(summary.first_date, summary.last_date)
        )
    protected = {m.key: m for m in report.metrics}["protected_original_authors"]
    assert authors
    assert protected.current.value == len(authors)


def test_the_demo_video_re_uploads_are_each_caught_and_linked_to_their_segment(
    demo: tuple[Runtime, PlatformSummary, list[DemoUpload]],
) -> None:
    _, _, uploads = demo
    by_kind = {u.kind: u for u in uploads}
    original = by_kind["original video"]
    assert original.verdict == "original"
    copies = [k for k in by_kind if k.startswith("video re-upload")]
    assert len(copies) == len(videos.EDITS)
    for kind in [*copies, "new pictures over its sound"]:
        upload = by_kind[kind]
        assert (upload.verdict, upload.original_work_id) == ("duplicate", original.work_id), kind
        assert upload.segments, kind
        assert all(f"work {original.work_id}" in line for line in upload.segments)
    assert [line.split()[0] for line in by_kind["new pictures over its sound"].segments] == [
        "sound"
    ]
    shared = by_kind["video over shared music"]
    assert shared.verdict == "original"
    assert shared.segments == ()


OPERATOR = Principal(0, "operator", None)


def test_orders_happen_and_each_is_settled_into_the_ledger(
    demo: tuple[Runtime, PlatformSummary, list[DemoUpload]],
) -> None:
    runtime, _, _ = demo
    con = runtime.event_log.connect()
    try:
        orders = con.sql(
            "SELECT event_id, product_id, commission_fen FROM events WHERE type = 'order'"
        ).fetchnumpy()
    finally:
        con.close()
    assert orders["event_id"].size > 0
    assert (np.asarray(orders["commission_fen"]) > 0).all()
    assert (np.asarray(orders["product_id"]) >= 1).all()
    with runtime.sessions() as session:
        keys = set(
            session.scalars(select(LedgerTransfer.key).where(LedgerTransfer.code == "commission"))
        )
        posted = session.scalar(
            select(func.count())
            .select_from(LedgerTransfer)
            .where(LedgerTransfer.code == "commission_post")
        )
    assert keys == {f"commission:{event_id}" for event_id in orders["event_id"].tolist()}
    assert posted  # return windows closed within the period: commissions were paid


def test_an_originality_case_waits_for_the_operator(
    demo: tuple[Runtime, PlatformSummary, list[DemoUpload]],
) -> None:
    runtime, _, _ = demo
    with runtime.sessions() as session:
        assert originality.list_cases(session, OPERATOR, status="open")


def test_every_growth_tier_has_creators(
    demo: tuple[Runtime, PlatformSummary, list[DemoUpload]],
) -> None:
    runtime, summary, _ = demo
    data_dir = runtime.settings.data_dir
    rules = creators.load_rules(creators.rules_path(data_dir))
    counts = creators.tier_counts(OPERATOR, snapshots=data_dir / "snapshots", rules=rules)
    assert counts.as_of == summary.last_date
    assert [t.tier for t in counts.tiers] == [t.name for t in rules.tiers]
    assert all(t.creators > 0 for t in counts.tiers), counts


def test_a_creator_with_100_000_followers_can_use_pre_diagnosis(
    demo: tuple[Runtime, PlatformSummary, list[DemoUpload]],
) -> None:
    runtime, _, _ = demo
    with transaction(runtime.sessions) as session:
        creator = session.scalars(
            select(Creator).where(Creator.follower_count >= 100_000).order_by(Creator.id).limit(1)
        ).one()
        _, token = create_token(
            session,
            role="creator",
            subject_id=creator.id,
            name="demo test",
            now=dt.datetime.now(dt.UTC),
        )
    cover = io.BytesIO()
    Image.fromarray(np.random.default_rng(SEED).integers(0, 255, (240, 135, 3), np.uint8)).save(
        cover, "PNG"
    )
    with TestClient(create_app(runtime), raise_server_exceptions=False) as client:
        response = client.post(
            "/v1/diagnosis",
            headers={"Authorization": f"Bearer {token}"},
            data={"creator_id": str(creator.id), "title": "A draft to check before posting"},
            files={"cover": ("cover.png", cover.getvalue(), "image/png")},
        )
    assert response.status_code == 200, response.text


def test_creators_are_offered_funded_tasks_with_why(
    demo: tuple[Runtime, PlatformSummary, list[DemoUpload]],
) -> None:
    runtime, summary, _ = demo
    now = dt.datetime.combine(summary.last_date, dt.time(23), tzinfo=dt.UTC)
    operator = Principal(user_id=0, role="operator", subject_id=None)
    with runtime.sessions() as session:
        offers = [
            offer
            for creator_id in range(1, CREATORS + 1)
            for offer in tasks.creator_offers(session, operator, creator_id, now=now)
        ]
        assert len({o.task.id for o in offers}) >= 2
        shown = tasks.showcase_creator(session)  # the demo's creator with tasks to show
        assert shown is not None
        assert tasks.creator_offers(session, operator, shown, now=now)
        assert all({"features", "model", "rule"} <= set(o.why) for o in offers)
        funded = []
        for offer in offers[:20]:
            t = offer.task
            account = find_account(
                session, task_funding.escrow(t.sponsor_kind, t.sponsor_id, t.id, "CNY")
            )
            if t.reward_fen and account is not None:
                funded.append(account.credits_pending == t.slots * t.reward_fen)
        assert funded
        assert all(funded)
        ended = tasks.list_tasks(session, operator, status="ended", now=now).items
        assert any(t.approved for t in ended)  # the past outcomes paid through the ledger
    truth = pq.read_table(runtime.settings.ground_truth_dir / PROPENSITY_FILE)
    assert truth.num_rows == 3 * CREATORS


def test_task_propensities_are_deterministic_from_the_seed() -> None:
    rng = np.random.default_rng(5)
    population = draw_population(rng, 50, 10)
    first = draw_truth(np.random.default_rng(1), population)
    again = draw_truth(np.random.default_rng(1), population)
    assert np.array_equal(first.accept, again.accept)
    assert first.accept.shape == (50, 3)
    assert ((first.complete > 0) & (first.complete < 1)).all()


def test_the_demo_agent_sees_the_brand_task_it_brought(
    demo: tuple[Runtime, PlatformSummary, list[DemoUpload]],
) -> None:
    runtime, _, _ = demo
    now = dt.datetime.now(dt.UTC)

    def bring(session: Session) -> tuple[Principal, int]:
        agent, _ = create_token(session, role="agent", subject_id=1, name="demo", now=now)
        return agent, post_agent_task(session, agent.user_id, now=now)

    agent, task_id = runtime.write(bring)
    with runtime.sessions() as session:
        mine = tasks.list_tasks(session, agent, now=now).items
    assert [t.id for t in mine] == [task_id]
    assert (mine[0].sponsor_kind, mine[0].agent_commission_fen) == ("advertiser", 1_200)
    assert mine[0].reserved_fen == 10 * (8_000 + 1_200)


def test_the_demo_copys_earnings_go_to_its_author_under_monetize(
    demo: tuple[Runtime, PlatformSummary, list[DemoUpload]],
) -> None:
    runtime, _, uploads = demo
    copy = uploads[0]
    assert copy.verdict == "duplicate"
    operator = Principal(user_id=0, role="operator", subject_id=None)
    with runtime.sessions() as session:
        (match,) = [
            m for m in originality.list_matches(session, operator) if m.copy_work_id == copy.work_id
        ]
    assert match.policy == "monetize"
    # 4 rows of 500 fen, the creator's 50 % share (less an institution's split, if any)
    assert 0 < match.redirected_fen <= 1_000
    assert match.dispute_status == "open"  # the copier's dispute waits for the operator

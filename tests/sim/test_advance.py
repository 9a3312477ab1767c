"""``advance``: the platform answers Guanghe's decisions, day by day, deterministically."""

from __future__ import annotations

import datetime as dt
import shutil
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from sqlalchemy import func, select, update

from guanghe.errors import Conflict, InvalidInput, NotFound
from guanghe.monetize.slots import (
    MAX_PRODUCTS,
    AdPlacement,
    decide_profile_slot,
    preview_profile_slots,
)
from guanghe.pipelines import CYCLE_STEPS
from guanghe.runtime import Runtime
from guanghe.settings import Settings
from guanghe.sim import AdvanceResult, advance, generate_platform, revenue, uptake
from guanghe.sim.tasks import PROPENSITY_FILE
from guanghe.sim.truth import load_work_truth
from guanghe.sim.uptake import INTENTS_FILE
from guanghe.snapshots import read_snapshot
from guanghe.store import (
    BoostDelivery,
    Campaign,
    Creator,
    CreatorMonetization,
    LedgerTransfer,
    ProductPlacement,
    Task,
    TaskClaim,
    TaskOffer,
    Work,
    WorkOriginality,
)
from guanghe.tasks import normal_tag

STEPS = tuple(s for s in CYCLE_STEPS if s.name in ("features", "growth", "originality", "traffic"))
CREATORS = 150
HISTORY_DAYS = 14


@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A small generated platform's data directory (copied by each test that changes it)."""
    data_dir = tmp_path_factory.mktemp("advance") / "template"
    with Runtime(Settings(data_dir=data_dir, database_url="")) as runtime:
        generate_platform(runtime, creators=CREATORS, days=HISTORY_DAYS, seed=5)
    return data_dir


def copied(generated: Path, tmp_path: Path, name: str) -> Runtime:
    data_dir = tmp_path / name
    shutil.copytree(generated, data_dir)
    return Runtime(Settings(data_dir=data_dir, database_url=""))


def advanced_events(runtime: Runtime, first: dt.date) -> pa.Table:
    with runtime.event_log.connect() as con:
        return con.sql(
            "SELECT * EXCLUDE (date) FROM events WHERE CAST(ts AS DATE) >= ? ORDER BY event_id",
            params=[first],
        ).to_arrow_table()


@pytest.fixture
def played(
    generated: Path, tmp_path: Path
) -> Iterator[tuple[Runtime, AdvanceResult, dict[int, int]]]:
    runtime = copied(generated, tmp_path, "played")
    with runtime.sessions() as session:
        before = dict(session.execute(select(Creator.id, Creator.follower_count)).all())
    result = advance(runtime, 2, seed=3, steps=STEPS)
    yield runtime, result, before
    runtime.close()


def test_boosts_are_delivered_through_the_boost_path_and_answered(
    played: tuple[Runtime, AdvanceResult, dict[int, int]],
) -> None:
    runtime, result, _ = played
    last_generated = result.first_day - dt.timedelta(days=1)
    assert [d.day for d in result.days] == [
        last_generated + dt.timedelta(days=1),
        last_generated + dt.timedelta(days=2),
    ]
    for k, day in enumerate(result.days):
        plan = read_snapshot(runtime.settings.snapshots_dir, "traffic_plan", day.day)
        quota = dict(zip(plan["creator_id"].to_pylist(), plan["quota"].to_pylist(), strict=True))
        with runtime.sessions() as session:
            rows = session.execute(
                select(BoostDelivery.creator_id, func.sum(BoostDelivery.impressions))
                .where(BoostDelivery.day == day.day)
                .group_by(BoostDelivery.creator_id)
            ).all()
        stored = dict(rows)
        assert day.boosted_impressions > 0
        assert sum(stored.values()) == day.boosted_impressions
        boosted = result.boosted[k]
        assert stored == {
            int(c): int(x) for c, x in zip(result.creator_id, boosted, strict=True) if x > 0
        }
        # Only planned creators are served, and never much past their quota.
        for creator, impressions in stored.items():
            assert quota.get(creator, 0) > 0
            assert impressions <= quota[creator] * 1.05 + 4
        assert day.boost_calls > 0
        assert day.cycle is not None
        assert [r.step for r in day.cycle.reports] == [s.name for s in STEPS]
    # The next day is planned, and the boost exposures logged match what was delivered.
    events = advanced_events(runtime, result.first_day).to_pandas()
    boosted_exposures = events[(events["type"] == "exposure") & (events["boosted"] == True)]  # noqa: E712
    assert int(boosted_exposures["count"].sum()) == sum(d.boosted_impressions for d in result.days)
    assert int(events.loc[events["type"] == "follow", "count"].sum()) == sum(
        d.follows for d in result.days
    )
    assert (
        read_snapshot(
            runtime.settings.snapshots_dir, "traffic_plan", result.last_day + dt.timedelta(days=1)
        ).num_rows
        > 0
    )


def test_follower_counts_move_by_the_days_follows_and_unfollows(
    played: tuple[Runtime, AdvanceResult, dict[int, int]],
) -> None:
    runtime, result, before = played
    events = advanced_events(runtime, result.first_day).to_pandas()
    follows = events[events["type"] == "follow"].groupby("creator_id")["count"].sum()
    unfollows = events[events["type"] == "unfollow"].groupby("creator_id")["count"].sum()
    net = follows.reindex(list(before), fill_value=0) - unfollows.reindex(
        list(before), fill_value=0
    )
    with runtime.sessions() as session:
        after = dict(session.execute(select(Creator.id, Creator.follower_count)).all())
    assert {c: after[c] - before[c] for c in before} == {c: int(net[c]) for c in before}
    assert np.array_equal(
        np.sum(result.follows, axis=0), follows.reindex(list(before), fill_value=0).to_numpy()
    )


def test_same_seed_same_decisions_same_events(generated: Path, tmp_path: Path) -> None:
    tables = []
    for name, seed in (("one", 9), ("two", 9), ("other", 10)):
        with copied(generated, tmp_path, name) as runtime:
            result = advance(runtime, 1, seed=seed, steps=STEPS)
            tables.append(advanced_events(runtime, result.first_day))
    one, two, other = tables
    assert one.num_rows > 0
    assert one.equals(two)
    assert not one.select(["count"]).equals(other.select(["count"]))


def test_bad_input_and_no_platform(generated: Path, tmp_path: Path) -> None:
    with copied(generated, tmp_path, "bad") as runtime:
        for days in (0, -1, 367):
            with pytest.raises(InvalidInput, match="days must be between 1 and 366"):
                advance(runtime, days, seed=1)
        with pytest.raises(InvalidInput, match="seed"):
            advance(runtime, 1, seed=-1)
    with (
        Runtime(Settings(data_dir=tmp_path / "empty", database_url="")) as runtime,
        pytest.raises(NotFound, match="no generated platform"),
    ):
        advance(runtime, 1, seed=1)


def test_a_day_left_part_played_is_refused_not_replayed(
    generated: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A run that stops after a day's works are stored but before its events are logged
    leaves the day marked: the next run says so instead of publishing its works again."""
    with copied(generated, tmp_path, "interrupted") as runtime:
        with runtime.sessions() as session:
            works_before = session.scalars(select(func.count()).select_from(Work)).one()

        def lost(table: pa.Table) -> int:
            raise OSError("disk full")

        with monkeypatch.context() as patched:
            patched.setattr(runtime.event_log, "append", lost)
            with pytest.raises(OSError, match="disk full"):
                advance(runtime, 1, seed=4, steps=STEPS)
        with runtime.sessions() as session:
            part_played = session.scalars(select(func.count()).select_from(Work)).one()
        assert part_played > works_before  # the day's works were stored
        with pytest.raises(Conflict, match="was left part-played by an interrupted"):
            advance(runtime, 1, seed=4, steps=STEPS)
        with runtime.sessions() as session:
            assert session.scalar(select(func.count()).select_from(Work)) == part_played


def run_cli(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    from guanghe.cli.app import main

    with pytest.raises(SystemExit) as exited:
        main(argv)
    out, err = capsys.readouterr()
    code = exited.value.code
    return (code if isinstance(code, int) else 1), out, err


def test_cli_bad_input_is_one_line_and_non_zero(
    generated: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("GUANGHE_DATA_DIR", str(tmp_path / "empty"))
    monkeypatch.delenv("GUANGHE_DATABASE_URL", raising=False)
    code, _, err = run_cli(["sim", "advance", "--days", "0"], capsys)
    assert code == 2
    assert err.strip().splitlines() == ["guanghe: error: days must be between 1 and 366, got 0"]
    code, _, err = run_cli(["sim", "advance", "--days", "2"], capsys)
    assert code == 3
    assert len(err.strip().splitlines()) == 1
    assert "no generated platform" in err


@pytest.mark.slow
def test_cli_advances_with_the_whole_cycle(
    generated: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    data_dir = tmp_path / "cli"
    shutil.copytree(generated, data_dir)
    monkeypatch.setenv("GUANGHE_DATA_DIR", str(data_dir))
    monkeypatch.delenv("GUANGHE_DATABASE_URL", raising=False)
    code, out, _ = run_cli(["sim", "advance", "--days", "1", "--seed", "4"], capsys)
    assert code == 0
    assert "advanced 1 days" in out
    assert "boosted impressions" in out.splitlines()[-1]


def test_advances_on_either_store(runtime: Runtime) -> None:
    """On SQLite and PostgreSQL: deliveries are stored, logged and settled into the ledger."""
    generate_platform(runtime, creators=60, days=10, seed=2)
    result = advance(runtime, 1, seed=1, steps=STEPS)
    (day,) = result.days
    with runtime.sessions() as session:
        stored = session.scalar(
            select(func.sum(BoostDelivery.impressions)).where(BoostDelivery.day == day.day)
        )
    assert day.boosted_impressions > 0
    assert stored == day.boosted_impressions
    assert day.cycle is not None
    traffic = next(r for r in day.cycle.reports if r.step == "traffic")
    assert traffic.counts["delivery_transfers"] > 0


def test_creators_publish_new_works_that_are_boosted_and_watched(
    played: tuple[Runtime, AdvanceResult, dict[int, int]],
) -> None:
    """Works drawn from the publishing habit are stored, added to the truth, watched the day
    they appear and, as their creators' latest works, boosted the next day."""
    runtime, result, _ = played
    first = dt.datetime.combine(result.first_day, dt.time(), tzinfo=dt.UTC)
    with runtime.sessions() as session:
        new = session.execute(
            select(Work.id, Work.creator_id, Work.published_at).where(Work.published_at >= first)
        ).all()
        before = session.scalar(select(func.max(Work.id)).where(Work.published_at < first))
    assert len(new) == sum(d.works_published for d in result.days) > 0
    assert min(r[0] for r in new) > (before or 0)
    truth = load_work_truth(runtime.settings)
    known = dict(zip(truth["work_id"].to_pylist(), truth["creator_id"].to_pylist(), strict=True))
    assert all(known[r[0]] == r[1] for r in new)
    events = advanced_events(runtime, result.first_day).to_pandas()
    new_ids = {r[0] for r in new}
    organic = events[(events["type"] == "exposure") & (events["boosted"] == False)]  # noqa: E712
    assert organic["work_id"].isin(new_ids).any()
    day_one = {r[0] for r in new if _utc(r[2]).date() == result.first_day}
    boosted = events[(events["type"] == "exposure") & (events["boosted"] == True)]  # noqa: E712
    second = boosted[boosted["ts"].dt.date == result.last_day]
    assert second["work_id"].isin(day_one).any()
    # Works published on the second day are not yet boosted: candidates are the works of the
    # day before.
    day_two = new_ids - day_one
    assert not second["work_id"].isin(day_two).any()
    # No event names a work before its publication.
    published = pd.Series({r[0]: _utc(r[2]) for r in new})
    named = events[events["work_id"].isin(new_ids)]
    assert len(named) > 0
    assert (named["ts"].to_numpy() >= published[named["work_id"]].to_numpy()).all()


def _utc(moment: dt.datetime) -> dt.datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)


def test_blocked_copies_get_no_boost(generated: Path, tmp_path: Path) -> None:
    """A creator whose latest work is judged a duplicate of another creator's original gets
    no boosted impressions for it; the others still do."""
    with copied(generated, tmp_path, "blocked") as runtime:
        first = advance(runtime, 1, seed=2, steps=STEPS)
        boosted = first.creator_id[first.boosted[0] > 0]
        assert boosted.shape[0] >= 4
        with runtime.sessions() as session:
            latest = dict(
                session.execute(
                    select(Work.creator_id, func.max(Work.id))
                    .where(Work.creator_id.in_(boosted.tolist()))
                    .group_by(Work.creator_id)
                ).all()
            )
            original = session.scalar(select(Work.id).where(Work.creator_id.not_in(latest)))
            owner = session.scalar(select(Work.creator_id).where(Work.id == original))
        blocked = sorted(latest)[::2]
        now = dt.datetime.combine(first.last_day, dt.time(23), tzinfo=dt.UTC)
        # The originality step judged them originals; the verdict changes to a duplicate.
        runtime.write(
            lambda s: [
                s.merge(
                    WorkOriginality(
                        work_id=latest[c],
                        verdict="duplicate",
                        original_work_id=original,
                        original_creator_id=owner,
                        decided_at=now,
                    )
                )
                for c in blocked
            ]
        )
        second = advance(runtime, 1, seed=2, steps=STEPS)
        delivered = dict(zip(second.creator_id.tolist(), second.boosted[0].tolist(), strict=True))
        assert all(delivered[c] == 0 for c in blocked)
        assert any(delivered[c] > 0 for c in latest if c not in blocked)


def test_orders_come_only_from_products_the_profile_slot_shows(
    generated: Path, tmp_path: Path
) -> None:
    """Profile visitors buy the products the slot shows: switching a creator's product display
    off leaves them no orders, while creators still showing products get some."""
    matched = tuple(s for s in CYCLE_STEPS if s.name in {*(t.name for t in STEPS), "matching"})
    with copied(generated, tmp_path, "orders") as runtime:
        advance(runtime, 1, seed=6, steps=matched)  # the matching step places products
        with runtime.sessions() as session:
            shown = session.execute(
                select(ProductPlacement.creator_id, ProductPlacement.product_id)
                .join(
                    CreatorMonetization,
                    CreatorMonetization.creator_id == ProductPlacement.creator_id,
                )
                .where(CreatorMonetization.product_display)
            ).all()
        creators = sorted({c for c, _ in shown})
        assert len(creators) >= 10
        hidden = set(creators[::2])
        runtime.write(
            lambda s: s.execute(
                update(CreatorMonetization)
                .where(CreatorMonetization.creator_id.in_(hidden))
                .values(product_display=False)
            )
        )
        result = advance(runtime, 2, seed=6, steps=STEPS)
        events = advanced_events(runtime, result.first_day).to_pandas()
        orders = events[events["type"] == "order"]
        assert len(orders) == sum(d.orders for d in result.days) > 0
        pairs = set(zip(orders["creator_id"], orders["product_id"], strict=True))
        assert pairs <= set(shown)
        assert not set(orders["creator_id"]) & hidden
        assert (orders["amount_fen"] > 0).all()


def test_previewed_slots_in_bulk_are_the_single_preview_decisions(
    generated: Path, tmp_path: Path
) -> None:
    """The advanced days' profile visits decide every visited creator's slot in a few reads
    (``preview_profile_slots``): each is exactly what one preview ``decide_profile_slot`` of
    that creator shows, ads, products and their order included, whatever the product limit."""
    matched = tuple(s for s in CYCLE_STEPS if s.name in {*(t.name for t in STEPS), "matching"})
    with copied(generated, tmp_path, "slots") as runtime:
        result = advance(runtime, 1, seed=6, steps=matched)  # the matching step places products
        now = dt.datetime.combine(result.last_day, dt.time(12), tzinfo=dt.UTC)
        ids = [int(c) for c in result.creator_id[::-1]]  # any order, aligned with the input
        with runtime.sessions() as session:
            for limit in (MAX_PRODUCTS, 2):
                bulk = preview_profile_slots(session, ids, now=now, product_limit=limit)
                single = [
                    decide_profile_slot(session, c, now=now, preview=True, product_limit=limit)
                    for c in ids
                ]
                assert bulk == single
            assert sum(slot.ad is not None for slot in bulk) >= 10
            assert sum(len(slot.products) == 2 for slot in bulk) >= 10
            with pytest.raises(NotFound, match="creator 999999 does not exist"):
                preview_profile_slots(session, [1, 999_999], now=now)
            with pytest.raises(InvalidInput, match="product_limit"):
                preview_profile_slots(session, [1], now=now, product_limit=0)


def test_the_ad_the_profile_slot_shows_is_seen_clicked_and_charged(
    generated: Path, tmp_path: Path
) -> None:
    """Visitors of a profile whose slot shows an ad see it (impressions, clicks of the
    campaign the slot chose) and the cycle's ad_spend step charges exactly what the events
    say; switching a creator's profile ads off leaves them no ad event."""
    charged = tuple(s for s in CYCLE_STEPS if s.name in {*(t.name for t in STEPS), "ad_spend"})
    with copied(generated, tmp_path, "ads") as runtime:
        with runtime.sessions() as session:
            reserved_before = dict(
                session.execute(select(Campaign.id, Campaign.reserved_millifen)).all()
            )
        first = advance(runtime, 1, seed=6, steps=charged)
        events = advanced_events(runtime, first.first_day).to_pandas()
        impressions = events[events["type"] == "ad_impression"]
        (day,) = first.days
        assert int(impressions["count"].sum()) == day.ad_impressions > 0
        assert int(events.loc[events["type"] == "ad_click", "count"].sum()) == day.ad_clicks
        assert impressions["campaign_id"].notna().all()
        assert day.ad_charged_fen == int(
            events.loc[events["type"].isin(["ad_impression", "ad_click"]), "amount_fen"].sum()
        )
        assert day.ad_charged_fen > 0
        assert day.cycle is not None
        spend = next(r for r in day.cycle.reports if r.step == "ad_spend")
        assert spend.counts["spent_fen"] == day.ad_charged_fen
        assert spend.counts["transfers_created"] > 0
        # The campaigns' committed spend moved by what they served, never past a budget.
        with runtime.sessions() as session:
            rows = session.execute(
                select(Campaign.id, Campaign.reserved_millifen, Campaign.budget_fen)
            ).all()
        served = impressions.groupby("campaign_id")["count"].sum()
        for campaign_id, reserved, budget in rows:
            assert reserved <= budget * 1_000
            assert (reserved > reserved_before[campaign_id]) == (campaign_id in served.index)
        # A creator whose slot shows no ad gets no ad event; the others still do.
        creators = sorted({int(c) for c in impressions["creator_id"]})
        assert len(creators) >= 4
        hidden = set(creators[::2])
        runtime.write(
            lambda s: s.execute(
                update(CreatorMonetization)
                .where(CreatorMonetization.creator_id.in_(hidden))
                .values(profile_ads=False)
            )
        )
        second = advance(runtime, 2, seed=6, steps=STEPS)
        later = advanced_events(runtime, second.first_day).to_pandas()
        ads = later[later["type"].isin(["ad_impression", "ad_click"])]
        assert not set(ads["creator_id"]) & hidden
        assert (
            int(ads.loc[ads["type"] == "ad_impression", "count"].sum())
            == sum(d.ad_impressions for d in second.days)
            > 0
        )


@pytest.mark.parametrize("hour", [13, 10])
def test_a_campaign_ending_during_the_day_is_served_only_until_its_end(
    generated: Path, tmp_path: Path, hour: int
) -> None:
    """Every campaign ends at ``hour`` of the advanced day: its ad is still chosen by the slot
    (decided at noon; by the slot decided at the day's start for a campaign ending by noon),
    seen only by the visits before its end, and charged for those."""
    charged = tuple(s for s in CYCLE_STEPS if s.name in {*(t.name for t in STEPS), "ad_spend"})
    with copied(generated, tmp_path, "ending") as runtime:
        first = dt.date.fromisoformat(runtime.event_log.dates()[-1]) + dt.timedelta(days=1)
        ends = dt.datetime.combine(first, dt.time(hour), tzinfo=dt.UTC)
        runtime.write(
            lambda s: s.execute(
                update(Campaign).where(Campaign.ends_at > ends).values(ends_at=ends)
            )
        )
        (day,) = advance(runtime, 1, seed=6, steps=charged).days
        events = advanced_events(runtime, first).to_pandas()
        ads = events[events["type"].isin(["ad_impression", "ad_click"])]
        assert len(ads) >= 10
        assert int(ads.loc[ads["type"] == "ad_impression", "count"].sum()) == day.ad_impressions
        assert (ads["ts"] < pd.Timestamp(ends)).all()
        assert day.cycle is not None
        spend = next(r for r in day.cycle.reports if r.step == "ad_spend")
        assert spend.counts["spent_fen"] == day.ad_charged_fen > 0


def test_orders_of_advanced_days_are_refunded_and_their_commission_voided(
    generated: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Orders of advanced days are drawn for refund as the generator draws them (here every
    one, the next day), kept for their day across runs, refunded by a ``refund`` event naming
    the order, and the settlement step voids the order's pending commission."""
    monkeypatch.setattr(revenue, "REFUND_RATE", 1.0)
    monkeypatch.setattr(revenue, "REFUND_DELAY_DAYS", (1, 2))
    settled = tuple(
        s
        for s in CYCLE_STEPS
        if s.name in {*(t.name for t in STEPS), "matching", "ad_spend", "settlement"}
    )
    with copied(generated, tmp_path, "refunds") as runtime:
        # Without the generated history's refunds (their own test is below).
        (runtime.settings.ground_truth_dir / revenue.REFUNDS_FILE).unlink()
        days = [*advance(runtime, 2, seed=6, steps=settled).days]
        days += advance(runtime, 1, seed=6, steps=settled).days
        events = advanced_events(runtime, days[0].day).to_pandas()
        events["day"] = events["ts"].dt.date
        orders = events[events["type"] == "order"].set_index("event_id")
        refunds = events[events["type"] == "refund"]
        assert [d.refunds for d in days] == [0, days[0].orders, days[1].orders]
        assert days[0].orders > 0
        assert sorted(refunds["ref_event_id"]) == sorted(orders.index[orders["day"] < days[2].day])
        refunded = orders.loc[refunds["ref_event_id"]]
        for column in ("creator_id", "amount_fen", "product_id"):
            assert list(refunds[column]) == list(refunded[column])
        assert (refunds["day"].to_numpy() == refunded["day"].to_numpy() + dt.timedelta(1)).all()
        with runtime.sessions() as session:
            voided = set(
                session.scalars(
                    select(LedgerTransfer.key).where(LedgerTransfer.code == "commission_void")
                )
            )
        owed = refunded[refunded["commission_fen"] > 0].index
        assert len(owed) > 0
        assert {f"commission-void:{e}" for e in owed} <= voided


def test_orders_of_the_history_refunded_after_its_last_day_are_refunded_when_advanced(
    generated: Path, tmp_path: Path
) -> None:
    """The generator keeps its history's orders whose refund falls after its last day in the
    refunds file ``sim advance`` reads, with the day of their refund; advancing to that day
    refunds them (a ``refund`` event naming each order, its creator, amount and product)."""
    with copied(generated, tmp_path, "history-refunds") as runtime:
        last = dt.date.fromisoformat(runtime.event_log.dates()[-1])
        due = pq.read_table(runtime.settings.ground_truth_dir / revenue.REFUNDS_FILE).to_pandas()
        latest = last.toordinal() + revenue.REFUND_DELAY_DAYS[1] - 1
        assert due["due"].between(last.toordinal() + 1, latest).all()
        with runtime.event_log.connect() as con:
            history = con.sql(
                "SELECT event_id, type, creator_id, amount_fen, product_id, ref_event_id "
                "FROM events"
            ).to_df()
        orders = history[history["type"] == "order"].set_index("event_id")
        assert set(due["event_id"]) <= set(orders.index)
        assert not set(due["event_id"]) & set(history["ref_event_id"].dropna())
        first = last + dt.timedelta(days=1)
        today = due[due["due"] == first.toordinal()].set_index("event_id")
        assert len(today) > 0
        advance(runtime, 1, seed=6, steps=())
        events = advanced_events(runtime, first).to_pandas()
        refunds = events[events["type"] == "refund"].set_index("ref_event_id")
        assert set(today.index) <= set(refunds.index)
        for column in ("creator_id", "amount_fen", "product_id"):
            assert list(refunds.loc[today.index, column]) == list(today[column])
        left = pq.read_table(runtime.settings.ground_truth_dir / revenue.REFUNDS_FILE)
        assert not set(today.index) & set(left["event_id"].to_pylist())


def _propensity_one(runtime: Runtime) -> None:
    """Every creator accepts every in-vertical offer and completes every accepted task."""
    path = runtime.settings.ground_truth_dir / PROPENSITY_FILE
    table = pq.read_table(path)
    ones = pa.array(np.ones(table.num_rows))
    table = table.set_column(table.schema.get_field_index("p_accept"), "p_accept", ones)
    table = table.set_column(table.schema.get_field_index("p_complete"), "p_complete", ones)
    pq.write_table(table, path)


def test_a_creator_with_no_offer_never_accepts(generated: Path, tmp_path: Path) -> None:
    """Without the tasks step nobody is offered anything, so even creators certain to accept
    an offer take no task."""
    with copied(generated, tmp_path, "no-offers") as runtime:
        _propensity_one(runtime)
        with runtime.sessions() as session:
            claims = session.scalar(select(func.count()).select_from(TaskClaim))
            open_tasks = session.scalar(select(func.count(Task.id)).where(Task.status == "open"))
            assert (open_tasks or 0) > 0
        result = advance(runtime, 2, seed=4, steps=STEPS)
        assert all(
            d.tasks_accepted == d.tasks_refused == d.tasks_submitted == 0 for d in result.days
        )
        with runtime.sessions() as session:
            assert session.scalar(select(func.count()).select_from(TaskClaim)) == claims


def test_offered_creators_certain_to_accept_accept_submit_and_are_checked(
    generated: Path, tmp_path: Path
) -> None:
    """With propensities of 1, the offers the tasks step made the day before are accepted
    through the accept path (only offered pairs, within the slots), every acceptance is
    completed by a published work carrying the task's hashtag and submitted before its
    deadline once its hidden moment comes, and the cycle checks it."""
    steps = tuple(s for s in CYCLE_STEPS if s.name in ("features", "growth", "tasks"))
    with copied(generated, tmp_path, "tasks") as runtime:
        _propensity_one(runtime)
        result = advance(runtime, 4, seed=4, steps=steps)
        start = dt.datetime.combine(result.first_day, dt.time(), tzinfo=dt.UTC)
        with runtime.sessions() as session:
            offered = {
                (o.offered_on, o.creator_id, o.task_id)
                for o in session.scalars(
                    select(TaskOffer).where(
                        TaskOffer.offered_on >= start.date() - dt.timedelta(days=1)
                    )
                )
            }
            claims = session.scalars(
                select(TaskClaim).where(TaskClaim.accepted_at >= start).order_by(TaskClaim.id)
            ).all()
            tasks = {t.id: t for t in session.scalars(select(Task))}
            works = {
                w.id: w
                for w in session.scalars(
                    select(Work).where(Work.id.in_([c.work_id for c in claims if c.work_id]))
                )
            }
            slots_held = session.execute(
                select(TaskClaim.task_id, func.count())
                .where(TaskClaim.status.in_(("accepted", "submitted", "checked", "approved")))
                .group_by(TaskClaim.task_id)
            ).all()
        assert len(claims) == sum(d.tasks_accepted for d in result.days) > 0
        for claim in claims:
            accepted_on = _utc(claim.accepted_at).date()
            assert (accepted_on - dt.timedelta(days=1), claim.creator_id, claim.task_id) in offered
        assert all(n <= tasks[t].slots for t, n in slots_held)
        # Every claim whose hidden moment to submit fell within the days played is submitted.
        intents = pq.read_table(runtime.settings.ground_truth_dir / INTENTS_FILE).to_pylist()
        end = start + dt.timedelta(days=len(result.days))
        due = {int(i["claim_id"]) for i in intents if i["complete"] and i["submit_at"] < end}
        assert {c.id for c in claims} <= {int(i["claim_id"]) for i in intents}
        submitted = [c for c in claims if c.id in due]
        assert submitted
        for claim in submitted:
            assert claim.status in ("submitted", "checked", "approved", "rejected"), claim.reason
            assert claim.work_id is not None
            work = works[claim.work_id]
            task = tasks[claim.task_id]
            assert work.creator_id == claim.creator_id
            assert _utc(claim.accepted_at) <= _utc(work.published_at) < _utc(claim.deadline_at)
            assert claim.submitted_at is not None
            assert _utc(claim.submitted_at) < _utc(claim.deadline_at)
            if task.hashtag is not None:
                assert task.hashtag in {normal_tag(t) for t in work.hashtags}
        assert sum(d.tasks_submitted for d in result.days) == sum(
            c.work_id is not None for c in claims
        )
        # The cycle judged the submissions whose plays are in (or those that failed at once).
        assert any(c.status != "submitted" for c in claims if c.work_id is not None)
        assert sum(d.tasks_approved for d in result.days) == sum(
            c.status == "approved" for c in claims
        )


def test_clicks_of_a_cpc_ad_are_never_charged_past_what_its_impressions_committed(
    runtime: Runtime, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A CPC campaign with 1 fen left and a click rate above its prediction: the simulated
    ad server stops charging clicks at what the day's impressions committed (the cycle's
    ad_spend step would refuse the rest as over budget)."""
    monkeypatch.setattr(
        uptake, "_room", lambda runtime, day, campaign: np.full(np.unique(campaign).shape, 1e3)
    )
    ad = AdPlacement(7, 1, "cpc", "t", "https://example.com", None, 5, click_price_fen=1)
    n = 5
    day = uptake.profile_ads(
        runtime,
        np.random.default_rng(0),
        dt.date(2026, 11, 29),
        "cpc-",
        np.arange(1, n + 1, dtype=np.int64),
        np.ones(n),
        np.full(n, 100, dtype=np.int64),
        [ad] * n,
    )
    assert day.impressions == 200  # 1 fen of room at 5 milli-fen an impression
    assert day.charged_fen <= 1
    clicks = day.events.to_pandas()
    assert int(clicks.loc[clicks["type"] == "ad_click", "count"].sum()) == day.clicks

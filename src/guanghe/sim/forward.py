"""``advance``: play a generated platform forward, day by day, answering Guanghe's decisions.

Each advanced day ``D`` (the day after the event log's last day, then the next, …):

1. **Boost delivery through the boost path.** One :class:`~guanghe.traffic.serving.BoostService`
   for the run, over the store and snapshots (the plan of ``D`` the cycle wrote, the
   originality exclusions, in-process quota counters, its clock set to each round), is asked
   for weights the way the feed ranker asks ``/v1/boost``: every creator's latest work
   (published before ``D``) is a candidate, in batches of
   :data:`~guanghe.traffic.serving.MAX_CANDIDATES`, in :data:`BOOST_ROUNDS` rounds spread over
   the day. A candidate with weight ``w > 0`` gets ``round(w * quota / rounds)`` boosted
   impressions in that round — the feed has the boost inventory to pace any plan; the weight
   alone decides who is pushed, held back or skipped (a blocked copy gets weight 0) — and the
   round's deliveries are recorded through :meth:`BoostService.record` in one store transaction
   (stored, counted against the quota, settled into the ledger by the next cycle's traffic
   step).
2. **Creators publish** new works from their hidden habit (stored, added to the works' truth,
   boost candidates from the next day).
3. **The audience answers from the hidden truth** (:mod:`guanghe.sim.truth`): organic
   exposures of each work of the last :data:`~guanghe.sim.audience.ACTIVE_DAYS` days as the
   generator draws them; plays, likes, comments and shares of all exposures; follows
   ``Poisson(organic * organic_follow_rate + a * (1 - exp(-boosted / s)))`` on the creator's
   hidden curve; unfollows at the hidden churn rate.
4. The day's events are appended to the event log (event ids ``adv-<seed>-<YYYYMMDD>-<n>``),
   creators' follower counts are updated in the store, and **the cycle runs for ``D``**
   (planning ``D + 1``).

Before the first advanced day, the cycle of the log's last day runs when that day has no
``traffic_plan`` for the next day yet. Deterministic: the same seed and the same store give the
same events (each day's random stream is ``SeedSequence([seed, D.toordinal()])``).

5. **Profile visits see what the profile slot shows** (:func:`_profile_traffic`): they buy its
   products and see its ad (impressions, clicks at the hidden click probability, charged by
   the cycle's ``ad_spend`` step; :mod:`guanghe.sim.uptake`).
6. **Creators take up the task center's offers** (:func:`~guanghe.sim.uptake.take_up_tasks`):
   the offers of the day before are accepted at the hidden acceptance probability through the
   real accept path; accepted claims are completed at the hidden completion probability by a
   published work carrying the task's hashtag, submitted through the real submit path, checked
   by the cycle and approved by the simulated operator the next morning (paid in the ledger).
   Incentive programmes need nothing more: the cycle enrols creators and computes progress
   from the event log.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from functools import partial
from pathlib import Path
from typing import Final, cast

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
from sqlalchemy import bindparam, func, insert, select, update
from sqlalchemy.orm import Session

from guanghe.batch_gc import batch_collection
from guanghe.errors import Conflict, InvalidInput, NotFound
from guanghe.events.schema import EVENT_SCHEMA
from guanghe.monetize.slots import AdPlacement, ProfileSlot, preview_profile_slots
from guanghe.originality import duplicate_work_ids
from guanghe.pipelines import CYCLE_STEPS, CycleRun, CycleStep, run_cycle
from guanghe.runtime import Runtime
from guanghe.sim.audience import ACTIVE_DAYS, AGE_DECAY, VERTICAL_REACH
from guanghe.sim.content import write_texts
from guanghe.sim.monetize import AFFINITY_FILE, MARKET_FILE, pair_purchase_probability
from guanghe.sim.population import VERTICAL_POPULARITY
from guanghe.sim.revenue import load_refunds, save_refunds
from guanghe.sim.truth import PLATFORM_FILE, WORKS_FILE, load_ground_truth, load_work_truth
from guanghe.sim.uptake import (
    AdDay,
    TaskDay,
    TaskTruth,
    TaskWork,
    profile_ads,
    submit_task_works,
    take_up_tasks,
)
from guanghe.snapshots import snapshot_path
from guanghe.store import Campaign, Creator, Work
from guanghe.traffic.serving import MAX_CANDIDATES, BoostService, InProcessCounters

Ints = npt.NDArray[np.int64]
Floats = npt.NDArray[np.float64]
#: ``progress(stage, done, total)``; stages ``"days"`` and ``"cycle"``.
Progress = Callable[[str, int, int], None]

#: Feed-ranker rounds per day, each a pass of boost calls over all candidates.
BOOST_ROUNDS: Final = 4
MAX_ADVANCE_DAYS: Final = 366
_DAY_US: Final = 86_400_000_000
_EPOCH: Final = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
_PLAN: Final = "traffic_plan"


@dataclass(frozen=True, slots=True)
class DayOutcome:
    """What one advanced day delivered and drew (totals over all creators)."""

    day: dt.date
    boost_calls: int
    boosted_creators: int
    boosted_impressions: int
    organic_impressions: int
    plays: int
    follows: int
    boost_follows_expected: float  # on the hidden curves, from the delivered impressions
    unfollows: int
    events: int
    cycle: CycleRun | None
    delivery_s: float  # wall time of the boost calls and deliveries
    response_s: float  # wall time of drawing and writing the audience's answer
    works_published: int = 0
    orders: int = 0  # orders of products the profile slots showed
    refunds: int = 0  # refunds of earlier advanced days' orders
    delivery_cpu_s: float = 0.0  # CPU time (this process) of the boost calls and deliveries
    response_cpu_s: float = 0.0  # … of the audience's answer
    cycle_cpu_s: float = 0.0  # … of the cycle run after the day
    ad_impressions: int = 0  # impressions of the ads the profile slots showed
    ad_clicks: int = 0
    ad_charged_fen: int = 0  # what the ad events charge (the next cycle's ad_spend step)
    tasks_approved: int = 0  # checked submissions the simulated operator approved (paid)
    tasks_accepted: int = 0  # offers accepted through the accept path
    tasks_refused: int = 0  # acceptances the platform refused (no slot, priority, requirements)
    tasks_submitted: int = 0  # task works published and submitted


@dataclass(frozen=True, slots=True)
class AdvanceResult:
    """The advanced days in order, with per-creator boosted impressions and follows of each."""

    days: tuple[DayOutcome, ...]
    creator_id: Ints
    boosted: tuple[Ints, ...]  # per day, aligned with creator_id
    follows: tuple[Ints, ...]  # per day, aligned with creator_id

    @property
    def first_day(self) -> dt.date:
        return self.days[0].day

    @property
    def last_day(self) -> dt.date:
        return self.days[-1].day


#: Present while a day is being played (it holds the day): a run that stopped part-way leaves
#: it, and the next run refuses to replay that day on top of what it stored.
PLAYING_FILE: Final = "advance_in_progress.txt"


@batch_collection()
def advance(
    runtime: Runtime,
    days: int,
    *,
    seed: int,
    steps: tuple[CycleStep, ...] = CYCLE_STEPS,
    rounds: int = BOOST_ROUNDS,
    progress: Progress | None = None,
) -> AdvanceResult:
    """Play the platform in ``runtime`` forward ``days`` days from its event log's last day.

    ``steps`` are the cycle steps run after each day (all of them by default; a benchmark may
    run only those its decisions need). Raises :class:`InvalidInput` for ``days`` outside
    ``1..366`` or a negative seed, :class:`NotFound` when the data directory holds no
    generated platform (no ground truth or no events) and :class:`Conflict` when an earlier
    run stopped part-way through a day (see :data:`PLAYING_FILE`).
    """
    check_arguments(days, seed, rounds)
    report: Progress = progress or (lambda stage, done, total: None)
    runtime.init()
    platform = _Platform.load(runtime)
    last = platform.last_day
    marker = runtime.settings.ground_truth_dir / PLAYING_FILE
    if marker.exists():
        raise Conflict(
            f"{marker.read_text().strip()} was left part-played by an interrupted `sim advance` "
            "(its works, task reviews or ad reservations may be stored without its events); "
            "restore the data directory and the store from before that run"
        )
    if not snapshot_path(
        runtime.settings.snapshots_dir, _PLAN, last + dt.timedelta(days=1)
    ).exists():
        run_cycle(runtime, last, steps=steps, progress=_cycle_progress(report))
    feed = _Feed(runtime)
    outcomes: list[DayOutcome] = []
    boosted_days: list[Ints] = []
    follow_days: list[Ints] = []
    for k in range(days):
        day = last + dt.timedelta(days=k + 1)
        rng = np.random.default_rng(np.random.SeedSequence([seed, day.toordinal()]))
        started, started_cpu = time.perf_counter(), time.process_time()
        marker.write_text(day.isoformat())  # removed once the day's answer is all stored
        boosted, boosted_work, calls = _deliver_boosts(runtime, feed, platform, day, seed, rounds)
        delivered, delivered_cpu = time.perf_counter(), time.process_time()
        outcome, follows = _answer(runtime, platform, rng, day, seed, boosted, boosted_work, calls)
        marker.unlink()
        answered, answered_cpu = time.perf_counter(), time.process_time()
        run = run_cycle(runtime, day, steps=steps, progress=_cycle_progress(report))
        outcomes.append(
            replace(
                outcome,
                cycle=run,
                delivery_s=round(delivered - started, 3),
                response_s=round(answered - delivered, 3),
                delivery_cpu_s=round(delivered_cpu - started_cpu, 3),
                response_cpu_s=round(answered_cpu - delivered_cpu, 3),
                cycle_cpu_s=round(time.process_time() - answered_cpu, 3),
            )
        )
        boosted_days.append(boosted)
        follow_days.append(follows)
        report("days", k + 1, days)
    return AdvanceResult(
        tuple(outcomes), platform.creator_id.copy(), tuple(boosted_days), tuple(follow_days)
    )


def check_arguments(days: int, seed: int, rounds: int = BOOST_ROUNDS) -> None:
    """Raise :class:`InvalidInput` unless ``1 <= days <= 366``, ``seed >= 0`` and
    ``rounds >= 1``."""
    for name, value in (("days", days), ("seed", seed), ("rounds", rounds)):
        if isinstance(value, bool) or not isinstance(value, int):
            raise InvalidInput(f"{name} must be an integer, got {value!r}")
    if not 1 <= days <= MAX_ADVANCE_DAYS:
        raise InvalidInput(f"days must be between 1 and {MAX_ADVANCE_DAYS}, got {days}")
    if seed < 0:
        raise InvalidInput(f"seed must be non-negative, got {seed}")
    if rounds < 1:
        raise InvalidInput(f"rounds must be at least 1, got {rounds}")


def _cycle_progress(report: Progress) -> Callable[[str, int, int], None]:
    return lambda step, done, total: report("cycle", done, total)


@dataclass(slots=True)
class _Platform:
    """The hidden truth and the current state the advanced days need, per creator (index
    ``i`` is creator id ``i + 1``), and the works still drawing an audience (published in the
    last :data:`ACTIVE_DAYS` days)."""

    last_day: dt.date
    creator_id: Ints
    followers: Ints
    latest_work: Ints  # work id, 0: the creator has no work
    vertical: Ints
    quality: Floats
    appeal: Floats  # mean appeal of the creator's works
    works: Floats  # number of the creator's works
    response_a: Floats
    response_s: Floats
    organic_follow_rate: Floats
    churn_rate: Floats
    publish_rate: Floats
    publish_consistency: Floats
    next_work_id: int
    active_work: Ints  # work ids of the works published in the last ACTIVE_DAYS days
    active_owner: Ints  # their creators' indices
    active_vertical: Ints
    active_day: Ints  # publication day (ordinal)
    active_appeal: Floats
    #: The market's hidden truth: product category index and appeal (by product id - 1) and
    #: the verticals' affinity per category; None for a platform generated without one.
    market: tuple[Ints, Floats, Floats] | None = None
    #: The hidden task propensities; None for a platform generated without a task center.
    tasks: TaskTruth | None = None
    #: The works published on the day being played (ascending ids) and their moment of
    #: publication, microseconds into the day: no event names a work before it.
    today_work: Ints = field(default_factory=lambda: np.zeros(0, np.int64))
    today_offset: Ints = field(default_factory=lambda: np.zeros(0, np.int64))

    @classmethod
    def load(cls, runtime: Runtime) -> _Platform:
        settings = runtime.settings
        if not (settings.ground_truth_dir / PLATFORM_FILE).exists():
            raise NotFound(
                f"no generated platform in {settings.data_dir} (run `guanghe sim generate` first)"
            )
        dates = runtime.event_log.dates()
        if not dates:
            raise NotFound(f"the event log at {runtime.event_log.root} has no events")
        last_day = dt.date.fromisoformat(dates[-1])
        truth = load_ground_truth(settings)
        works = load_work_truth(settings)
        n = truth.num_rows

        def column(name: str) -> Floats:
            return np.asarray(truth[name].to_numpy(zero_copy_only=False), dtype=np.float64)

        creator_id = truth["creator_id"].to_numpy().astype(np.int64)
        if not np.array_equal(creator_id, np.arange(1, n + 1)):
            raise InvalidInput("the ground truth's creators are not numbered 1..n")
        owner = works["creator_id"].to_numpy().astype(np.int64) - 1
        work_id = works["work_id"].to_numpy().astype(np.int64)
        work_appeal = works["appeal"].to_numpy().astype(np.float64)
        latest = np.zeros(n, np.int64)
        np.maximum.at(latest, owner, work_id)
        counts = np.bincount(owner, minlength=n).astype(np.float64)
        appeal_sum = np.bincount(owner, weights=work_appeal, minlength=n)
        appeal = np.where(counts > 0, appeal_sum / np.maximum(counts, 1.0), 0.0)
        appeal_of = np.zeros(int(work_id.max(initial=0)) + 1)
        appeal_of[work_id] = work_appeal
        since = dt.datetime.combine(
            last_day - dt.timedelta(days=ACTIVE_DAYS - 2), dt.time(), tzinfo=dt.UTC
        )
        with runtime.sessions() as session:
            rows = session.execute(select(Creator.id, Creator.follower_count)).all()
            recent = session.execute(
                select(Work.id, Work.creator_id, Work.vertical_id, Work.published_at)
                .where(Work.published_at >= since)
                .order_by(Work.id)
            ).all()
            top = session.scalar(select(func.max(Work.id))) or 0
        followers = np.zeros(n, np.int64)
        ids = np.array([r[0] for r in rows], np.int64)
        followers[ids - 1] = np.array([r[1] for r in rows], np.int64)
        active = np.array([r[0] for r in recent], np.int64)
        known = active[active < appeal_of.shape[0]]
        return cls(
            last_day=last_day,
            creator_id=creator_id,
            followers=followers,
            latest_work=latest,
            vertical=truth["vertical_id"].to_numpy().astype(np.int64),
            quality=column("latent_quality"),
            appeal=appeal,
            works=counts,
            response_a=column("response_a"),
            response_s=column("response_s"),
            organic_follow_rate=column("organic_follow_rate"),
            churn_rate=column("churn_rate"),
            publish_rate=column("publish_rate"),
            publish_consistency=column("publish_consistency"),
            next_work_id=max(int(top), int(work_id.max(initial=0))) + 1,
            active_work=known,
            active_owner=np.array([r[1] for r in recent], np.int64)[active < appeal_of.shape[0]]
            - 1,
            active_vertical=np.array([r[2] for r in recent], np.int64)[active < appeal_of.shape[0]],
            active_day=np.array([_as_utc(r[3]).date().toordinal() for r in recent], np.int64)[
                active < appeal_of.shape[0]
            ],
            active_appeal=appeal_of[known],
            market=_market_truth(settings.ground_truth_dir),
            tasks=TaskTruth.load(settings.ground_truth_dir, n),
        )


def _market_truth(directory: Path) -> tuple[Ints, Floats, Floats] | None:
    if not (directory / MARKET_FILE).exists() or not (directory / AFFINITY_FILE).exists():
        return None
    market = pq.read_table(directory / MARKET_FILE)
    affinity = pq.read_table(directory / AFFINITY_FILE)
    if not np.array_equal(
        market["product_id"].to_numpy(), np.arange(1, market.num_rows + 1, dtype=np.int64)
    ):
        return None
    return (
        market["category"].to_numpy().astype(np.int64),
        market["appeal"].to_numpy().astype(np.float64),
        np.column_stack([c.to_numpy() for c in affinity.columns]).astype(np.float64),
    )


def _as_utc(moment: dt.datetime) -> dt.datetime:
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=dt.UTC)


class _Feed:
    """The simulated feed ranker's side of the boost path: one :class:`BoostService` for the
    whole run (its clock set by the days and rounds played), so the works' owners and the
    exclusions are read incrementally rather than again each day."""

    def __init__(self, runtime: Runtime) -> None:
        self.moment = _EPOCH
        self.service = BoostService(
            runtime.settings.snapshots_dir,
            runtime.sessions,
            InProcessCounters(),
            excluded_works=duplicate_work_ids,
            clock=lambda: self.moment,
        )


def _deliver_boosts(
    runtime: Runtime, feed: _Feed, platform: _Platform, day: dt.date, seed: int, rounds: int
) -> tuple[Ints, Ints, int]:
    """Simulate the feed ranker's boost calls over ``day``; returns the boosted impressions
    recorded per creator (aligned with the platform's creators), the work boosted and the calls
    made.

    Each round asks the service for the weights of every candidate, :data:`MAX_CANDIDATES` per
    call (the ranker's batches), then records the round's deliveries through
    :meth:`BoostService.record` — the same checks, storage and quota counting as
    ``POST /v1/boost/deliveries``, :data:`MAX_CANDIDATES` per call — in one store transaction
    for the round (the deliveries of one round are disjoint by creator, so recording them after
    the round's calls changes no weight)."""
    start = dt.datetime.combine(day, dt.time(), tzinfo=dt.UTC)
    service = feed.service
    n = platform.creator_id.shape[0]
    delivered = np.zeros(n, np.int64)
    boosted_work = platform.latest_work.copy()
    candidates = np.flatnonzero(platform.latest_work > 0)
    creators = platform.creator_id[candidates]
    works = platform.latest_work[candidates]
    stamp = day.strftime("%Y%m%d")
    calls = 0
    for r in range(rounds):
        feed.moment = start + dt.timedelta(seconds=86_400 * r / rounds + 1)
        plan = service.plan()
        if plan is None or plan.day != day:
            break
        quota = np.zeros(creators.shape[0], np.int64)
        rows = plan.rows(creators)
        quota[rows >= 0] = plan.quota[rows[rows >= 0]]
        amounts = np.zeros(creators.shape[0], np.int64)
        for at in range(0, creators.shape[0], MAX_CANDIDATES):
            batch = slice(at, at + MAX_CANDIDATES)
            weights = service.weights(creators[batch], works[batch])
            calls += 1
            amounts[batch] = np.rint(weights * quota[batch] / rounds).astype(np.int64)
        served = np.flatnonzero(amounts > 0)
        if served.shape[0] == 0:
            continue
        ids, wids, sizes = creators[served], works[served], amounts[served]
        deliveries = [
            (f"adv-{seed}-{stamp}-{r}-{c}", c, w, x)
            for c, w, x in zip(ids.tolist(), wids.tolist(), sizes.tolist(), strict=True)
        ]
        statuses = runtime.write(partial(_record, service, deliveries))
        recorded = np.array([s == "recorded" for s in statuses], np.bool_)
        np.add.at(delivered, ids[recorded] - 1, sizes[recorded])
    return delivered, boosted_work, calls


def _record(
    service: BoostService, deliveries: list[tuple[str, int, int, int]], session: Session
) -> list[str]:
    """Record ``deliveries`` in ``session`` through the service, a ranker's batch per call."""
    statuses: list[str] = []
    for at in range(0, len(deliveries), MAX_CANDIDATES):
        reports = service.record(session, deliveries[at : at + MAX_CANDIDATES])
        statuses += [report.status for report in reports]
    return statuses


def _publish(runtime: Runtime, platform: _Platform, rng: np.random.Generator, day: dt.date) -> int:
    """Draw the works creators publish on ``day`` from their hidden publishing habit (the
    generator's: ``Poisson(rate x Gamma(consistency))``, 90 % in the creator's own vertical,
    a hidden appeal drawn as the generator draws it), store them (one bulk insert), add them to
    the works' truth and make them the creators' latest works (boosted from the next day).
    Returns the number published."""
    p = platform
    n = p.creator_id.shape[0]
    shape = np.maximum(p.publish_consistency, 1e-6)
    counts = rng.poisson(p.publish_rate * rng.gamma(shape, 1.0 / shape))
    owner = np.repeat(np.arange(n, dtype=np.int64), counts)
    w = owner.shape[0]
    offsets = np.sort(rng.integers(0, _DAY_US, size=w))
    owner = owner[rng.permutation(w)]
    other = 1 + rng.choice(16, size=w, p=VERTICAL_POPULARITY / VERTICAL_POPULARITY.sum())
    vertical = np.where(rng.random(w) < 0.9, p.vertical[owner], other).astype(np.int64)
    _add_works(runtime, p, rng, day, owner, offsets, vertical, [None] * w)
    return w


def _publish_task_works(
    runtime: Runtime,
    platform: _Platform,
    rng: np.random.Generator,
    day: dt.date,
    due: tuple[TaskWork, ...],
) -> Ints:
    """Publish the task works due on ``day`` (in the creator's vertical, at the intended
    moment, carrying the task's hashtag); returns their work ids, aligned with ``due``."""
    owner = np.array([w.creator_id - 1 for w in due], np.int64)
    start = dt.datetime.combine(day, dt.time(), tzinfo=dt.UTC)
    offsets = np.array([(w.at - start) // dt.timedelta(microseconds=1) for w in due], np.int64)
    tags = [w.hashtag for w in due]
    return _add_works(runtime, platform, rng, day, owner, offsets, platform.vertical[owner], tags)


def _add_works(
    runtime: Runtime,
    platform: _Platform,
    rng: np.random.Generator,
    day: dt.date,
    owner: Ints,
    offsets: Ints,
    vertical: Ints,
    required_tags: list[str | None],
) -> Ints:
    """Store works of ``owner`` (creator indices) published ``offsets`` microseconds into
    ``day`` (a duration, hidden appeal and texts drawn as the generator draws them, the
    required hashtag added where one is given), add them to the works' truth and to the
    works drawing an audience; returns their ids."""
    p = platform
    n = p.creator_id.shape[0]
    w = owner.shape[0]
    duration = np.asarray(
        np.clip(np.round(np.exp(rng.normal(np.log(35.0), 0.8, size=w))), 7, 600), np.float64
    )
    appeal: Floats = np.exp(rng.normal(-0.5, 1.0, size=w))
    title, caption, drawn_tags = write_texts(rng, vertical)
    hashtags = [
        tags if tag is None or tag in tags else [*tags[:4], tag]
        for tags, tag in zip(drawn_tags, required_tags, strict=True)
    ]
    work_id = p.next_work_id + np.arange(w, dtype=np.int64)
    if w:
        start = dt.datetime.combine(day, dt.time(), tzinfo=dt.UTC)
        rows = [
            {
                "id": i,
                "creator_id": c + 1,
                "published_at": start + dt.timedelta(microseconds=o),
                "title": t,
                "caption": cap,
                "hashtags": tags,
                "vertical_id": v,
                "duration_s": d,
            }
            for i, c, o, t, cap, tags, v, d in zip(
                work_id.tolist(),
                owner.tolist(),
                offsets.tolist(),
                title,
                caption,
                hashtags,
                vertical.tolist(),
                np.asarray(duration, np.int64).tolist(),
                strict=True,
            )
        ]
        runtime.write(lambda session: session.execute(insert(Work), rows))
        _append_work_truth(runtime, work_id, owner + 1, appeal)
    p.next_work_id += w
    p.today_work = np.concatenate([p.today_work, work_id])
    p.today_offset = np.concatenate([p.today_offset, offsets.astype(np.int64)])
    np.maximum.at(p.latest_work, owner, work_id)
    total = p.appeal * p.works + np.bincount(owner, weights=appeal, minlength=n)
    p.works = p.works + np.bincount(owner, minlength=n)
    p.appeal = np.where(p.works > 0, total / np.maximum(p.works, 1.0), 0.0)
    keep = p.active_day > day.toordinal() - ACTIVE_DAYS
    p.active_work = np.concatenate([p.active_work[keep], work_id])
    p.active_owner = np.concatenate([p.active_owner[keep], owner])
    p.active_vertical = np.concatenate([p.active_vertical[keep], vertical])
    p.active_day = np.concatenate([p.active_day[keep], np.full(w, day.toordinal(), np.int64)])
    p.active_appeal = np.concatenate([p.active_appeal[keep], appeal])
    return work_id


def _append_work_truth(runtime: Runtime, work_id: Ints, creator_id: Ints, appeal: Floats) -> None:
    path = runtime.settings.ground_truth_dir / WORKS_FILE
    old = pq.read_table(path)
    new = pa.table(
        {
            "work_id": pa.array(work_id),
            "creator_id": pa.array(creator_id),
            "appeal": pa.array(appeal),
        }
    ).cast(old.schema)
    pq.write_table(pa.concat_tables([old, new]), path)


def _answer(
    runtime: Runtime,
    platform: _Platform,
    rng: np.random.Generator,
    day: dt.date,
    seed: int,
    boosted: Ints,
    boosted_work: Ints,
    calls: int,
) -> tuple[DayOutcome, Ints]:
    """Draw the day's new works and audience response, append its events and update follower
    counts. Organic exposures per active work as the generator draws them (vertical reach,
    followers, the work's appeal, the creator's quality, the work's age); engagement, follows
    and churn per creator."""
    p = platform
    p.today_work, p.today_offset = np.zeros(0, np.int64), np.zeros(0, np.int64)
    # The day's engagement goes to the work that was the creator's latest as the day began
    # (a work published today takes it only where it is the creator's first).
    began_with = p.latest_work.copy()
    published = _publish(runtime, p, rng, day)
    tasks = (
        take_up_tasks(runtime, p.tasks, p.vertical, rng, day)
        if p.tasks is not None
        else TaskDay(0, 0, 0, ())
    )
    task_works = _publish_task_works(runtime, p, rng, day, tasks.due)
    submitted = submit_task_works(runtime, tasks.due, task_works)
    age = day.toordinal() - p.active_day
    owner = p.active_owner
    reach = (
        VERTICAL_REACH[p.active_vertical - 1]
        * (40.0 + 0.12 * p.followers[owner])
        * p.active_appeal
        * (0.3 + 1.4 * p.quality[owner])
        * AGE_DECAY[np.clip(age, 0, ACTIVE_DAYS - 1)]
    )
    organic_by_work = rng.poisson(reach).astype(np.int64)
    n = p.creator_id.shape[0]
    organic = np.bincount(owner, weights=organic_by_work, minlength=n).astype(np.int64)
    exposures = organic + boosted
    play_rate = np.clip((0.2 + 0.5 * p.quality) * np.sqrt(np.minimum(p.appeal, 4.0)), 0, 0.95)
    plays = rng.binomial(exposures, play_rate)
    likes = rng.binomial(plays, 0.01 + 0.08 * p.quality)
    comments = rng.binomial(plays, 0.001 + 0.01 * p.quality)
    shares = rng.binomial(plays, 0.0005 + 0.006 * p.quality)
    boost_mean = p.response_a * -np.expm1(-boosted / p.response_s)
    follows = rng.poisson(organic * p.organic_follow_rate + boost_mean).astype(np.int64)
    unfollows = np.minimum(rng.poisson(p.followers * p.churn_rate), p.followers + follows)
    everyone = np.arange(n, dtype=np.int64)
    latest = np.where(began_with > 0, began_with, p.latest_work)
    none = np.zeros(n, np.int64)
    table = _events(
        rng,
        day,
        f"adv-{seed}-{day.strftime('%Y%m%d')}-",
        p,
        [
            ("exposure", owner, p.active_work, organic_by_work, False),
            ("exposure", everyone, boosted_work, boosted, True),
            ("play", everyone, latest, plays, None),
            ("like", everyone, latest, likes, None),
            ("comment", everyone, latest, comments, None),
            ("share", everyone, latest, shares, None),
            ("follow", everyone, none, follows, None),
            ("unfollow", everyone, none, unfollows, None),
        ],
    )
    prefix = f"adv-{seed}-{day.strftime('%Y%m%d')}-"
    orders, ads = _profile_traffic(runtime, p, rng, day, prefix, plays)
    refunds = load_refunds(runtime.settings.ground_truth_dir)
    day_start = (dt.datetime.combine(day, dt.time(), tzinfo=dt.UTC) - _EPOCH) // dt.timedelta(
        microseconds=1
    )
    refunded = refunds.refunds_on(rng, day.toordinal(), day_start, prefix)
    refunds.schedule(rng, day.toordinal(), orders)
    events = runtime.event_log.append(pa.concat_tables([table, orders, ads.events, refunded]))
    save_refunds(runtime.settings.ground_truth_dir, refunds)
    p.followers = p.followers + follows - unfollows
    changed = np.flatnonzero((follows - unfollows) != 0)
    runtime.write(lambda s: _update_followers(s, p.creator_id[changed], p.followers[changed]))
    outcome = DayOutcome(
        day=day,
        boost_calls=calls,
        boosted_creators=int((boosted > 0).sum()),
        boosted_impressions=int(boosted.sum()),
        organic_impressions=int(organic.sum()),
        plays=int(plays.sum()),
        follows=int(follows.sum()),
        boost_follows_expected=float(boost_mean.sum()),
        unfollows=int(unfollows.sum()),
        events=events,
        cycle=None,
        delivery_s=0.0,
        response_s=0.0,
        works_published=published + int(task_works.shape[0]),
        orders=orders.num_rows,
        refunds=refunded.num_rows,
        ad_impressions=ads.impressions,
        ad_clicks=ads.clicks,
        ad_charged_fen=ads.charged_fen,
        tasks_approved=tasks.approved,
        tasks_accepted=tasks.accepted,
        tasks_refused=tasks.refused,
        tasks_submitted=submitted,
    )
    return outcome, follows


def _profile_traffic(
    runtime: Runtime,
    platform: _Platform,
    rng: np.random.Generator,
    day: dt.date,
    prefix: str,
    plays: Ints,
) -> tuple[pa.Table, AdDay]:
    """Profile visits (3 % of plays, as the generator draws them) see what the profile slot
    decides to show (:func:`~guanghe.monetize.slots.preview_profile_slots`: one preview
    decision per visited creator and day, committing nothing, read in a few statements for all
    of them): the products, each bought ``Poisson(visits x p)`` times, ``p`` the hidden
    purchase probability (:func:`~guanghe.sim.monetize.pair_purchase_probability`: the
    vertical's affinity for the product's category, its appeal, its price), one ``order``
    event per order; and the ad, which every visit sees
    (:func:`~guanghe.sim.uptake.profile_ads`: impressions, clicks at the hidden click
    probability, charges within the campaign's budget and pacing). A creator whose slot shows
    no product gets no order from it, one whose slot shows no ad no ad event."""
    p = platform
    visits = rng.binomial(plays, 0.03)
    visited = np.flatnonzero(visits > 0)
    noon = dt.datetime.combine(day, dt.time(12), tzinfo=dt.UTC)
    with runtime.sessions() as session:
        slots = preview_profile_slots(session, p.creator_id[visited].tolist(), now=noon)
    creator: list[int] = []
    product: list[int] = []
    price: list[int] = []
    commission: list[int] = []
    rate = np.zeros(0)
    if p.market is not None:
        category, appeal, affinity = p.market
        for i, slot in zip(visited.tolist(), slots, strict=True):
            for card in slot.products:
                if card.product_id > category.shape[0]:
                    continue
                creator.append(i)
                product.append(card.product_id)
                price.append(card.price_fen)
                commission.append(card.price_fen * card.commission_bp // 10_000)
        k = np.array(product, np.int64) - 1
        rate = pair_purchase_probability(
            affinity, appeal[k], category[k], np.array(price, np.int64), p.vertical[creator]
        )
    shown = np.array(creator, np.int64)
    orders = rng.poisson(visits[shown] * rate).astype(np.int64)
    buyer = np.repeat(shown, orders)
    m = buyer.shape[0]
    day_start = (dt.datetime.combine(day, dt.time(), tzinfo=dt.UTC) - _EPOCH) // dt.timedelta(
        microseconds=1
    )
    ts = day_start + np.asarray(rng.random(m) * _DAY_US, dtype=np.int64)
    numbers = pc.cast(pa.array(np.arange(m, dtype=np.int64)), pa.string())
    columns = {
        "event_id": pc.binary_join_element_wise(f"{prefix}o", numbers, ""),
        "type": pa.array(["order"] * m, pa.string()),
        "ts": pa.array(ts, pa.timestamp("us", tz="UTC")),
        "creator_id": pa.array(p.creator_id[buyer]),
        "work_id": pa.nulls(m, pa.int64()),
        "count": pa.array(np.ones(m, np.int64)),
        "boosted": pa.nulls(m, pa.bool_()),
        "amount_fen": pa.array(np.repeat(np.array(price, np.int64), orders)),
        "campaign_id": pa.nulls(m, pa.int64()),
        "product_id": pa.array(np.repeat(np.array(product, np.int64), orders)),
        "commission_fen": pa.array(np.repeat(np.array(commission, np.int64), orders)),
        "ref_event_id": pa.nulls(m, pa.string()),
    }
    at, seen, ads, shown_for = _ad_placements(
        runtime, rng, day, p.creator_id, visited, visits, slots
    )
    ad_day = profile_ads(
        runtime, rng, day, prefix, p.creator_id[at], p.quality[at], seen, ads, shown_for
    )
    return pa.table(columns, schema=EVENT_SCHEMA), ad_day


def _ad_placements(
    runtime: Runtime,
    rng: np.random.Generator,
    day: dt.date,
    creator_id: Ints,
    visited: Ints,
    visits: Ints,
    slots: list[ProfileSlot],
) -> tuple[Ints, Ints, list[AdPlacement | None], tuple[Ints, Ints] | None]:
    """The ads the visited creators' profile slots show through the day, as (creator
    position, visits, ad, part of the day shown: start and length in microseconds or ``None``
    for the whole day) per placement: the noon decision's ad all day, except where the slot
    decided at the day's start shows a campaign ending by noon (which the noon decision cannot
    see): that ad until the campaign's end, then the noon decision's, the creator's visits
    split between the two parts (``Binomial(visits, share of the day before the end)``)."""
    at, seen, ads = visited, visits[visited], [slot.ad for slot in slots]
    start = dt.datetime.combine(day, dt.time(), tzinfo=dt.UTC)
    with runtime.sessions() as session:
        ending = dict(
            session.execute(
                select(Campaign.id, Campaign.ends_at).where(
                    Campaign.starts_at <= start,
                    Campaign.ends_at > start,
                    Campaign.ends_at <= start + dt.timedelta(hours=12),
                )
            ).all()
        )
        early = (
            preview_profile_slots(session, creator_id[visited].tolist(), now=start)
            if ending
            else []
        )
    split = [
        k for k, slot in enumerate(early) if slot.ad is not None and slot.ad.campaign_id in ending
    ]
    if not split:
        return at, seen, ads, None
    ends_us = np.array(
        [
            (_as_utc(ending[cast(AdPlacement, early[k].ad).campaign_id]) - start)
            // dt.timedelta(microseconds=1)
            for k in split
        ],
        np.int64,
    )
    k = np.array(split, np.int64)
    morning = rng.binomial(seen[k], ends_us / _DAY_US)
    seen = seen.copy()
    seen[k] -= morning
    window_from = np.zeros(at.shape[0], np.int64)
    window_from[k] = ends_us
    window_for = _DAY_US - window_from
    return (
        np.concatenate([at, at[k]]),
        np.concatenate([seen, morning]),
        [*ads, *(early[i].ad for i in split)],
        (
            np.concatenate([window_from, np.zeros(k.shape[0], np.int64)]),
            np.concatenate([window_for, ends_us]),
        ),
    )


#: One compiled ``UPDATE`` executed over all the rows (the ORM's bulk update by primary key
#: costs 0.15 to 0.37 s CPU for 20,000 rows, this 0.06 s).
_CREATORS_TABLE = Creator.metadata.tables[Creator.__tablename__]
_SET_FOLLOWERS = (
    update(_CREATORS_TABLE)
    .where(_CREATORS_TABLE.c.id == bindparam("creator"))
    .values(follower_count=bindparam("followers"))
)


def _update_followers(session: Session, creator_id: Ints, followers: Ints) -> int:
    rows = [
        {"creator": c, "followers": f}
        for c, f in zip(creator_id.tolist(), followers.tolist(), strict=True)
    ]
    if rows:
        session.execute(_SET_FOLLOWERS, rows)
    return len(rows)


def _events(
    rng: np.random.Generator,
    day: dt.date,
    prefix: str,
    platform: _Platform,
    blocks: list[tuple[str, Ints, Ints, Ints, bool | None]],
) -> pa.Table:
    """One :data:`EVENT_SCHEMA` row per block entry with a positive count; a block is
    ``(type, creator index, work id (0: none), count, boosted (None: not an exposure))``."""
    kinds: list[str] = []
    creator: list[Ints] = []
    works: list[Ints] = []
    count: list[Ints] = []
    boosted: list[npt.NDArray[np.bool_]] = []
    is_exposure: list[npt.NDArray[np.bool_]] = []
    for kind, index, work_id, counts, flag in blocks:
        keep = np.flatnonzero(counts > 0)
        kinds += [kind] * keep.shape[0]
        creator.append(index[keep])
        works.append(work_id[keep])
        count.append(counts[keep])
        boosted.append(np.full(keep.shape[0], bool(flag)))
        is_exposure.append(np.full(keep.shape[0], flag is not None))
    index = np.concatenate(creator)
    m = index.shape[0]
    day_start = (dt.datetime.combine(day, dt.time(), tzinfo=dt.UTC) - _EPOCH) // dt.timedelta(
        microseconds=1
    )
    work = np.concatenate(works)
    # A row naming a work published today falls after its publication.
    after = np.zeros(m, np.int64)
    if platform.today_work.shape[0]:
        at = np.minimum(
            np.searchsorted(platform.today_work, work), platform.today_work.shape[0] - 1
        )
        after = np.where(platform.today_work[at] == work, platform.today_offset[at], 0)
    ts = day_start + after + np.asarray(rng.random(m) * (_DAY_US - after), dtype=np.int64)
    exposure = np.concatenate(is_exposure)
    numbers = pc.cast(pa.array(np.arange(m, dtype=np.int64)), pa.string())
    columns = {
        "event_id": pc.binary_join_element_wise(prefix, numbers, ""),
        "type": pa.array(kinds, pa.string()),
        "ts": pa.array(ts, pa.timestamp("us", tz="UTC")),
        "creator_id": pa.array(platform.creator_id[index]),
        "work_id": pa.array(work, mask=work <= 0),
        "count": pa.array(np.concatenate(count).astype(np.int64)),
        "boosted": pa.array(np.concatenate(boosted), mask=~exposure),
        "amount_fen": pa.nulls(m, pa.int64()),
        "campaign_id": pa.nulls(m, pa.int64()),
        "product_id": pa.nulls(m, pa.int64()),
        "commission_fen": pa.nulls(m, pa.int64()),
        "ref_event_id": pa.nulls(m, pa.string()),
    }
    return pa.table(columns, schema=EVENT_SCHEMA)

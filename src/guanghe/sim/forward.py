"""``advance``: play a generated platform forward, day by day, answering Guanghe's decisions.

Each advanced day ``D`` (the day after the event log's last day, then the next, …):

1. **Boost delivery through the boost path.** A :class:`~guanghe.traffic.serving.BoostService`
   over the store and snapshots (the plan of ``D`` the cycle wrote, the originality
   exclusions, in-process quota counters) is asked for weights the way the feed ranker asks
   ``/v1/boost``: every creator's latest work is a candidate, in batches of
   :data:`~guanghe.traffic.serving.MAX_CANDIDATES`, in :data:`BOOST_ROUNDS` rounds spread over
   the day (the service's clock at each round's start). A candidate with weight ``w > 0`` gets
   ``round(w * quota / rounds)`` boosted impressions in that round — the feed has the boost
   inventory to pace any plan; the weight alone decides who is pushed, held back or skipped —
   and the deliveries are recorded through :meth:`BoostService.record` (stored, counted against
   the quota, settled into the ledger by the next cycle's traffic step).
2. **The audience answers from the hidden truth** (:mod:`guanghe.sim.truth`): organic
   exposures of each creator's latest work at the reach the creator's publishing habit, works'
   appeal, quality and followers give; plays, likes, comments and shares of all exposures;
   follows ``Poisson(organic * organic_follow_rate + a * (1 - exp(-boosted / s)))`` on the
   creator's hidden curve; unfollows at the hidden churn rate.
3. The day's events are appended to the event log (event ids ``adv-<seed>-<YYYYMMDD>-<n>``),
   creators' follower counts are updated in the store, and **the cycle runs for ``D``**
   (planning ``D + 1``).

Before the first advanced day, the cycle of the log's last day runs when that day has no
``traffic_plan`` for the next day yet. Deterministic: the same seed and the same store give the
same events (each day's random stream is ``SeedSequence([seed, D.toordinal()])``).

Advanced days publish no new works (creators' reach keeps the level their habit gives,
attributed to their latest work); orders, ads and task outcomes are not simulated on them.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from functools import partial
from typing import Final

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from guanghe.errors import InvalidInput, NotFound
from guanghe.events.schema import EVENT_SCHEMA
from guanghe.originality import duplicate_work_ids
from guanghe.pipelines import CYCLE_STEPS, CycleRun, CycleStep, run_cycle
from guanghe.runtime import Runtime
from guanghe.sim.audience import AGE_DECAY, VERTICAL_REACH
from guanghe.sim.truth import PLATFORM_FILE, load_ground_truth, load_work_truth
from guanghe.snapshots import snapshot_path
from guanghe.store import Creator
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
    ``1..366`` or a negative seed and :class:`NotFound` when the data directory holds no
    generated platform (no ground truth or no events).
    """
    check_arguments(days, seed, rounds)
    report: Progress = progress or (lambda stage, done, total: None)
    runtime.init()
    platform = _Platform.load(runtime)
    last = platform.last_day
    if not snapshot_path(
        runtime.settings.snapshots_dir, _PLAN, last + dt.timedelta(days=1)
    ).exists():
        run_cycle(runtime, last, steps=steps, progress=_cycle_progress(report))
    outcomes: list[DayOutcome] = []
    boosted_days: list[Ints] = []
    follow_days: list[Ints] = []
    for k in range(days):
        day = last + dt.timedelta(days=k + 1)
        rng = np.random.default_rng(np.random.SeedSequence([seed, day.toordinal()]))
        started = time.perf_counter()
        boosted, calls = _deliver_boosts(runtime, platform, day, seed, rounds)
        delivered = time.perf_counter()
        outcome, follows = _answer(runtime, platform, rng, day, seed, boosted, calls)
        answered = time.perf_counter()
        run = run_cycle(runtime, day, steps=steps, progress=_cycle_progress(report))
        outcomes.append(
            replace(
                outcome,
                cycle=run,
                delivery_s=round(delivered - started, 3),
                response_s=round(answered - delivered, 3),
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
    ``i`` is creator id ``i + 1``)."""

    last_day: dt.date
    creator_id: Ints
    followers: Ints
    latest_work: Ints  # work id, 0: the creator has no work
    reach: Floats  # expected organic exposures per day per (40 + 0.12 * followers)
    quality: Floats
    appeal: Floats  # mean appeal of the creator's works
    response_a: Floats
    response_s: Floats
    organic_follow_rate: Floats
    churn_rate: Floats

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
        latest = np.zeros(n, np.int64)
        np.maximum.at(latest, owner, work_id)
        counts = np.bincount(owner, minlength=n).astype(np.float64)
        appeal_sum = np.bincount(owner, weights=works["appeal"].to_numpy(), minlength=n)
        appeal = np.where(counts > 0, appeal_sum / np.maximum(counts, 1.0), 0.0)
        quality = column("latent_quality")
        vertical = truth["vertical_id"].to_numpy().astype(np.int64)
        reach = (
            VERTICAL_REACH[vertical - 1]
            * appeal
            * (0.3 + 1.4 * quality)
            * column("publish_rate")
            * float(AGE_DECAY.sum())
        )
        with runtime.sessions() as session:
            rows = session.execute(select(Creator.id, Creator.follower_count)).all()
        followers = np.zeros(n, np.int64)
        ids = np.array([r[0] for r in rows], np.int64)
        followers[ids - 1] = np.array([r[1] for r in rows], np.int64)
        return cls(
            last_day=dt.date.fromisoformat(dates[-1]),
            creator_id=creator_id,
            followers=followers,
            latest_work=latest,
            reach=np.where(latest > 0, reach, 0.0),
            quality=quality,
            appeal=appeal,
            response_a=column("response_a"),
            response_s=column("response_s"),
            organic_follow_rate=column("organic_follow_rate"),
            churn_rate=column("churn_rate"),
        )


def _deliver_boosts(
    runtime: Runtime, platform: _Platform, day: dt.date, seed: int, rounds: int
) -> tuple[Ints, int]:
    """Simulate the feed ranker's boost calls over ``day``; returns the boosted impressions
    recorded per creator (aligned with the platform's creators) and the calls made."""
    start = dt.datetime.combine(day, dt.time(), tzinfo=dt.UTC)
    moment = [start]
    service = BoostService(
        runtime.settings.snapshots_dir,
        runtime.sessions,
        InProcessCounters(),
        excluded_works=duplicate_work_ids,
        clock=lambda: moment[0],
    )
    n = platform.creator_id.shape[0]
    delivered = np.zeros(n, np.int64)
    candidates = np.flatnonzero(platform.latest_work > 0)
    creators = platform.creator_id[candidates]
    works = platform.latest_work[candidates]
    stamp = day.strftime("%Y%m%d")
    calls = 0
    for r in range(rounds):
        moment[0] = start + dt.timedelta(seconds=86_400 * r / rounds + 1)
        plan = service.plan()
        if plan is None or plan.day != day:
            break
        quota = np.zeros(creators.shape[0], np.int64)
        rows = plan.rows(creators)
        quota[rows >= 0] = plan.quota[rows[rows >= 0]]
        for at in range(0, creators.shape[0], MAX_CANDIDATES):
            batch = slice(at, at + MAX_CANDIDATES)
            weights = service.weights(creators[batch], works[batch])
            calls += 1
            amounts = np.rint(weights * quota[batch] / rounds).astype(np.int64)
            served = np.flatnonzero(amounts > 0)
            if served.shape[0] == 0:
                continue
            ids, wids, sizes = creators[batch][served], works[batch][served], amounts[served]
            deliveries = [
                (f"adv-{seed}-{stamp}-{r}-{c}", c, w, x)
                for c, w, x in zip(ids.tolist(), wids.tolist(), sizes.tolist(), strict=True)
            ]
            statuses = runtime.write(partial(service.record, deliveries=deliveries))
            recorded = np.array([s.status == "recorded" for s in statuses])
            np.add.at(delivered, ids[recorded] - 1, sizes[recorded])
    return delivered, calls


def _answer(
    runtime: Runtime,
    platform: _Platform,
    rng: np.random.Generator,
    day: dt.date,
    seed: int,
    boosted: Ints,
    calls: int,
) -> tuple[DayOutcome, Ints]:
    """Draw the day's audience response, append its events and update follower counts."""
    p = platform
    organic = rng.poisson(p.reach * (40.0 + 0.12 * p.followers)).astype(np.int64)
    exposures = organic + boosted
    play_rate = np.clip((0.2 + 0.5 * p.quality) * np.sqrt(np.minimum(p.appeal, 4.0)), 0, 0.95)
    plays = rng.binomial(exposures, play_rate)
    likes = rng.binomial(plays, 0.01 + 0.08 * p.quality)
    comments = rng.binomial(plays, 0.001 + 0.01 * p.quality)
    shares = rng.binomial(plays, 0.0005 + 0.006 * p.quality)
    boost_mean = p.response_a * -np.expm1(-boosted / p.response_s)
    follows = rng.poisson(organic * p.organic_follow_rate + boost_mean).astype(np.int64)
    unfollows = np.minimum(rng.poisson(p.followers * p.churn_rate), p.followers + follows)
    table = _events(
        rng,
        day,
        f"adv-{seed}-{day.strftime('%Y%m%d')}-",
        p,
        [
            ("exposure", organic, False),
            ("exposure", boosted, True),
            ("play", plays, None),
            ("like", likes, None),
            ("comment", comments, None),
            ("share", shares, None),
            ("follow", follows, None),
            ("unfollow", unfollows, None),
        ],
    )
    events = runtime.event_log.append(table)
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
    )
    return outcome, follows


def _update_followers(session: Session, creator_id: Ints, followers: Ints) -> int:
    rows = [
        {"id": c, "follower_count": f}
        for c, f in zip(creator_id.tolist(), followers.tolist(), strict=True)
    ]
    if rows:
        session.execute(update(Creator), rows)
    return len(rows)


def _events(
    rng: np.random.Generator,
    day: dt.date,
    prefix: str,
    platform: _Platform,
    blocks: list[tuple[str, Ints, bool | None]],
) -> pa.Table:
    """One :data:`EVENT_SCHEMA` row per creator and block with a positive count."""
    kinds: list[str] = []
    creator: list[Ints] = []
    count: list[Ints] = []
    boosted: list[npt.NDArray[np.bool_]] = []
    is_exposure: list[npt.NDArray[np.bool_]] = []
    with_work: list[npt.NDArray[np.bool_]] = []
    for kind, counts, flag in blocks:
        keep = np.flatnonzero(counts > 0)
        kinds += [kind] * keep.shape[0]
        creator.append(keep)
        count.append(counts[keep])
        boosted.append(np.full(keep.shape[0], bool(flag)))
        is_exposure.append(np.full(keep.shape[0], flag is not None))
        with_work.append(np.full(keep.shape[0], kind not in ("follow", "unfollow")))
    index = np.concatenate(creator)
    m = index.shape[0]
    day_start = (dt.datetime.combine(day, dt.time(), tzinfo=dt.UTC) - _EPOCH) // dt.timedelta(
        microseconds=1
    )
    ts = day_start + np.asarray(rng.random(m) * _DAY_US, dtype=np.int64)
    work = platform.latest_work[index]
    has_work = np.concatenate(with_work) & (work > 0)
    exposure = np.concatenate(is_exposure)
    numbers = pc.cast(pa.array(np.arange(m, dtype=np.int64)), pa.string())
    columns = {
        "event_id": pc.binary_join_element_wise(prefix, numbers, ""),
        "type": pa.array(kinds, pa.string()),
        "ts": pa.array(ts, pa.timestamp("us", tz="UTC")),
        "creator_id": pa.array(platform.creator_id[index]),
        "work_id": pa.array(work, mask=~has_work),
        "count": pa.array(np.concatenate(count).astype(np.int64)),
        "boosted": pa.array(np.concatenate(boosted), mask=~exposure),
        "amount_fen": pa.nulls(m, pa.int64()),
        "campaign_id": pa.nulls(m, pa.int64()),
        "product_id": pa.nulls(m, pa.int64()),
        "commission_fen": pa.nulls(m, pa.int64()),
        "ref_event_id": pa.nulls(m, pa.string()),
    }
    return pa.table(columns, schema=EVENT_SCHEMA)

"""Real-time boost serving: a weight per feed candidate from the day's pacing plan and each
creator's remaining quota, and the delivered impressions that use the quota up.

The weight multiplies the ranker's score of a candidate. It is 0 when the creator has no plan
today, has used their quota, the work is not the creator's, or the work is excluded (a
copy its original's author blocks); otherwise it is the creator's remaining quota over
what the plan expects to remain at this time of day, capped at :data:`MAX_WEIGHT`: a creator
behind pace is pushed harder, one ahead of pace is held back.

Quotas are atomic counters of delivered impressions per creator and day: in process (one lock,
for the embedded default) or in Redis (``GUANGHE_REDIS_URL``, shared by every server process).
Redis gets :data:`COUNTER_TIMEOUT_SECONDS` per call (``GUANGHE_REDIS_TIMEOUT_MS``) and no
retries; one that does not answer in time is :class:`CountersUnavailable` (a 503 with
``Retry-After``) for that call and, without being asked, for the next
:data:`RETRY_AFTER_SECONDS`, so a stalled Redis costs callers no waiting and gets no flood of
new connections. Boost calls wait for Redis off the event loop, in a few threads of the
counters' own (so a stalled Redis cannot take the threads other requests run in), and never
longer than twice the timeout, queueing included.
Deliveries are stored first (idempotent on the delivery id) and counted after, so a creator's
delivered impressions exceed the quota by at most what was decided while quota was left and
delivered after it ran out: what was in flight.

A creator's quota is their platform quota (``traffic_plan``) plus any quota from pools that
institutions direct (``directed_traffic_plan`` of the same day, written later in the same
cycle: the plan is read again when it appears, with the same rows, so the counters stay
aligned); a directed quota of a creator the platform did not plan is not served.

A plan is valid on its day only. Past it (the cycle did not plan the next day) the service
says so: the plan's status is ``expired``, every weight 0, and :class:`ServingCounts` counts the
calls; deliveries are booked to the day they happened, never to the plan's day.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Final, Literal, ParamSpec, Protocol, TypeVar

import numba
import numpy as np
from numpy.typing import NDArray
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from guanghe.errors import InvalidInput, Unavailable
from guanghe.snapshots import latest_date, read_snapshot, snapshot_path
from guanghe.store import BoostDelivery, Work, member_of, select_rows, transaction
from guanghe.traffic.deliveries import DIRECTED_PLAN, Delivery, record_deliveries

_log = logging.getLogger(__name__)
P = ParamSpec("P")
T = TypeVar("T")
IntArray = NDArray[np.int64]
FloatArray = NDArray[np.float64]

PLAN: Final = "traffic_plan"
MAX_WEIGHT: Final = 4.0
MAX_CANDIDATES: Final = 1_000
#: How often (seconds) the service looks for a newer plan.
RELOAD_SECONDS: Final = 30.0
_DAY_SECONDS: Final = 86_400.0
#: The most one call to Redis counters may take by default (connecting included; the setting
#: ``GUANGHE_REDIS_TIMEOUT_MS``): a healthy Redis answers in well under 1 ms, and a boost call
#: that cannot be answered had better fail fast than hold up the feed.
COUNTER_TIMEOUT_SECONDS: Final = 0.1
#: How long counters that did not answer are reported unavailable without being asked again.
RETRY_AFTER_SECONDS: Final = 1
#: Threads that wait for Redis on behalf of the event loop (per counters object).
_REDIS_THREADS: Final = 8


class CountersUnavailable(Unavailable):
    """The quota counters did not answer in time; retry after ``retry_after_seconds``."""

    def __init__(self, detail: str) -> None:
        super().__init__(detail, retry_after_seconds=RETRY_AFTER_SECONDS)


#: ``current``: the plan in force is today's; ``expired``: it is an earlier day's (no boost);
#: ``none``: there is no plan at all.
PlanStatus = Literal["current", "expired", "none"]


@dataclass(frozen=True, slots=True)
class DayPlan:
    """One day's quotas: ``row_of[creator_id]`` is the creator's row (-1: not planned)."""

    day: dt.date
    creator_id: IntArray
    quota: IntArray
    row_of: NDArray[np.int32]

    @classmethod
    def from_arrays(cls, day: dt.date, creator_id: IntArray, quota: IntArray) -> DayPlan:
        top = int(creator_id.max()) + 1 if creator_id.shape[0] else 0
        row_of = np.full(top, -1, np.int32)
        row_of[creator_id] = np.arange(creator_id.shape[0], dtype=np.int32)
        return cls(day, creator_id, quota, row_of)

    def rows(self, creator_id: IntArray) -> NDArray[np.int32]:
        """The row of each creator id, -1 for creators without a plan."""
        inside = (creator_id >= 0) & (creator_id < self.row_of.shape[0])
        rows = np.full(creator_id.shape[0], -1, np.int32)
        rows[inside] = self.row_of[creator_id[inside]]
        return rows


class QuotaCounters(Protocol):
    """Delivered impressions per plan row of a day, updated atomically."""

    def delivered(self, plan: DayPlan, rows: NDArray[np.int32]) -> IntArray:
        """Delivered so far for each of ``rows`` (all valid)."""
        ...

    def add(self, plan: DayPlan, rows: NDArray[np.int32], amounts: IntArray) -> None:
        """Add ``amounts`` to the counters of ``rows`` (repeats allowed)."""
        ...

    def raise_to(self, plan: DayPlan, rows: NDArray[np.int32], amounts: IntArray) -> None:
        """Make each counter at least ``amounts`` (a restart catching up with the store)."""
        ...


class InProcessCounters:
    """Counters in this process's memory: one array per day, guarded by one lock."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._days: dict[dt.date, IntArray] = {}

    def _array(self, plan: DayPlan) -> IntArray:
        array = self._days.get(plan.day)
        if array is None:
            array = self._days[plan.day] = np.zeros(plan.creator_id.shape[0], np.int64)
            for old in [d for d in self._days if d < plan.day - dt.timedelta(days=2)]:
                del self._days[old]
        return array

    def delivered(self, plan: DayPlan, rows: NDArray[np.int32]) -> IntArray:
        with self._lock:
            return self._array(plan)[rows]

    def add(self, plan: DayPlan, rows: NDArray[np.int32], amounts: IntArray) -> None:
        with self._lock:
            np.add.at(self._array(plan), rows, amounts)

    def raise_to(self, plan: DayPlan, rows: NDArray[np.int32], amounts: IntArray) -> None:
        with self._lock:
            array = self._array(plan)
            np.maximum.at(array, rows, amounts)

    def array(self, plan: DayPlan) -> IntArray:
        """The day's counters (read without the lock by the batched decision kernel)."""
        with self._lock:
            return self._array(plan)


_RAISE_TO: Final = """
for i = 1, #ARGV, 2 do
  local current = tonumber(redis.call('HGET', KEYS[1], ARGV[i]) or '0')
  if current < tonumber(ARGV[i + 1]) then redis.call('HSET', KEYS[1], ARGV[i], ARGV[i + 1]) end
end
redis.call('EXPIRE', KEYS[1], 259200)
return 0
"""


class RedisCounters:
    """Counters in one Redis hash per day (field: creator id), shared by every process;
    keys start with ``prefix``.

    Each call gets ``timeout_seconds`` and no retry; a failed one raises
    :class:`CountersUnavailable`, and so does every call for :data:`RETRY_AFTER_SECONDS` after
    it. :meth:`off_loop` runs work that calls them in one of :data:`_REDIS_THREADS` threads of
    their own, for callers on an event loop.
    """

    def __init__(
        self, url: str, *, prefix: str = "guanghe", timeout_seconds: float = COUNTER_TIMEOUT_SECONDS
    ) -> None:
        import redis
        from redis.backoff import NoBackoff
        from redis.retry import Retry

        self._timeout_seconds = timeout_seconds
        self._client = redis.Redis.from_url(
            url,
            socket_timeout=timeout_seconds,
            socket_connect_timeout=timeout_seconds,
            retry=Retry(NoBackoff(), 0),
        )
        self._raise_to = self._client.register_script(_RAISE_TO)
        self._prefix = prefix
        self._threads = ThreadPoolExecutor(_REDIS_THREADS, thread_name_prefix="guanghe-counters")
        self._down_until = 0.0

    def _key(self, plan: DayPlan) -> str:
        return f"{self._prefix}:boost:delivered:{plan.day}"

    def _check_up(self) -> None:
        if time.monotonic() < self._down_until:
            raise CountersUnavailable("the quota counters are not answering")

    def _unavailable(self, exc: BaseException) -> CountersUnavailable:
        self._down_until = time.monotonic() + RETRY_AFTER_SECONDS
        _log.warning("Redis counters failed, not asked for %s s: %r", RETRY_AFTER_SECONDS, exc)
        return CountersUnavailable(
            f"the quota counters did not answer within {self._timeout_seconds} s"
        )

    @contextmanager
    def _answering(self) -> Iterator[None]:
        """Run one call, turning a Redis that is (or was just now) not answering into
        :class:`CountersUnavailable`."""
        import redis

        self._check_up()
        try:
            yield
        except (redis.RedisError, OSError) as exc:
            raise self._unavailable(exc) from exc

    def delivered(self, plan: DayPlan, rows: NDArray[np.int32]) -> IntArray:
        if rows.shape[0] == 0:
            return np.zeros(0, np.int64)
        unique, inverse = np.unique(rows, return_inverse=True)
        with self._answering():
            values = self._client.hmget(self._key(plan), plan.creator_id[unique].tolist())
        counts = np.array([int(v) if v is not None else 0 for v in values], dtype=np.int64)
        return counts[inverse]

    async def off_loop(self, work: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
        """Run ``work`` (which calls these counters) in one of their threads, without blocking
        the event loop; :class:`CountersUnavailable` once twice the timeout has passed,
        waiting for a thread included."""
        self._check_up()
        call = asyncio.wrap_future(self._threads.submit(work, *args, **kwargs))
        try:
            return await asyncio.wait_for(call, 2 * self._timeout_seconds)
        except TimeoutError as exc:
            raise CountersUnavailable(
                f"the quota counters did not answer within {2 * self._timeout_seconds} s"
            ) from exc

    def add(self, plan: DayPlan, rows: NDArray[np.int32], amounts: IntArray) -> None:
        pipe = self._client.pipeline(transaction=True)
        key = self._key(plan)
        for row, amount in zip(rows.tolist(), amounts.tolist(), strict=True):
            pipe.hincrby(key, str(int(plan.creator_id[row])), int(amount))
        pipe.expire(key, 259_200)
        with self._answering():
            pipe.execute()

    def raise_to(self, plan: DayPlan, rows: NDArray[np.int32], amounts: IntArray) -> None:
        if rows.shape[0] == 0:
            return
        args: list[int] = []
        for row, amount in zip(rows.tolist(), amounts.tolist(), strict=True):
            args += [int(plan.creator_id[row]), int(amount)]
        with self._answering():
            self._raise_to(keys=[self._key(plan)], args=args)


# The two kernels spell the same decision out on purpose: factoring it into a shared jitted
# helper measured 2.5x slower (88 M to 35 M decisions/s, `python -m bench boost_serving`).
@numba.njit(cache=True, nogil=True)
def _weights_kernel(
    rows: NDArray[np.int32],
    work_id: IntArray,
    quota: IntArray,
    delivered: IntArray,
    excluded: NDArray[np.bool_],
    remaining_fraction: float,
    max_weight: float,
    out: FloatArray,
) -> None:
    for k in range(rows.shape[0]):
        row = rows[k]
        work = work_id[k]
        if row < 0 or (0 <= work < excluded.shape[0] and excluded[work]):
            out[k] = 0.0
            continue
        left = quota[row] - delivered[k]
        if left <= 0:
            out[k] = 0.0
            continue
        out[k] = min(max_weight, left / (quota[row] * remaining_fraction + 1.0))


@numba.njit(cache=True, nogil=True)
def _weights_in_process(
    creator_id: IntArray,
    work_id: IntArray,
    row_of: NDArray[np.int32],
    quota: IntArray,
    delivered: IntArray,
    excluded: NDArray[np.bool_],
    remaining_fraction: float,
    max_weight: float,
    out: FloatArray,
) -> None:
    for k in range(creator_id.shape[0]):
        creator = creator_id[k]
        work = work_id[k]
        row = row_of[creator] if 0 <= creator < row_of.shape[0] else -1
        if row < 0 or (0 <= work < excluded.shape[0] and excluded[work]):
            out[k] = 0.0
            continue
        left = quota[row] - delivered[row]
        if left <= 0:
            out[k] = 0.0
            continue
        out[k] = min(max_weight, left / (quota[row] * remaining_fraction + 1.0))


@numba.njit(cache=True, nogil=True)
def _zero_foreign(
    creator_id: IntArray, work_id: IntArray, owner: IntArray, out: FloatArray
) -> None:
    """Zero the weight of every candidate whose work is not known to be its creator's."""
    for k in range(creator_id.shape[0]):
        work = work_id[k]
        if work < 0 or work >= owner.shape[0] or owner[work] != creator_id[k]:
            out[k] = 0.0


@dataclass(slots=True)
class ServingCounts:
    """What this process served since it started: boost calls by the status of the plan in
    force, and deliveries booked while no plan was valid (the metrics of plan validity)."""

    calls_current: int = 0
    calls_expired: int = 0
    calls_without_plan: int = 0
    deliveries_without_current_plan: int = 0


@dataclass(frozen=True, slots=True)
class DeliveryReport:
    """One delivery's outcome: ``recorded``, ``duplicate``, ``conflict``, ``not_planned``
    (the creator has no traffic support on the plan's day) or ``unknown_work``."""

    delivery_id: str
    status: str


class BoostService:
    """Answers boost calls and records deliveries against the latest plan not after today.

    Decisions touch no database: the plan, each work's creator, the excluded works and the
    counters are in memory (or Redis). ``sessions`` serves the reload, at most every
    :data:`RELOAD_SECONDS` and at the turn of a day; works are read incrementally (by id).
    """

    def __init__(
        self,
        snapshots: Path,
        sessions: sessionmaker[Session],
        counters: QuotaCounters,
        *,
        excluded_works: Callable[[Session], Iterable[int]] | None = None,
        clock: Callable[[], dt.datetime] = lambda: dt.datetime.now(dt.UTC),
    ) -> None:
        self._snapshots = snapshots
        self._sessions = sessions
        self._counters = counters
        self._excluded_works = excluded_works
        self._clock = clock
        self._lock = threading.Lock()
        self._plan: DayPlan | None = None
        self._plan_directed = False  # whether the plan holds the day's directed quotas
        self._excluded = np.zeros(0, np.bool_)
        self._owner = np.full(0, -1, np.int64)  # creator of each work id, -1: unknown
        self._next_work = 0  # the lowest work id not read yet
        self._checked = -np.inf
        self._checked_day: dt.date | None = None
        self._counts_lock = threading.Lock()
        self.counts = ServingCounts()

    @property
    def reload_due(self) -> bool:
        """Whether the next :meth:`plan` call reloads (and so reads files and the store)."""
        return (
            time.monotonic() - self._checked >= RELOAD_SECONDS
            or self._checked_day != self._clock().date()
        )

    def plan_status(self, plan: DayPlan | None) -> PlanStatus:
        """``plan``'s status today: valid on its own day only."""
        if plan is None:
            return "none"
        return "current" if plan.day == self._clock().date() else "expired"

    def plan(self) -> DayPlan | None:
        """The plan in force: the newest plan snapshot dated today or earlier. Every
        :data:`RELOAD_SECONDS` the plan is looked for again and the excluded works re-read."""
        if not self.reload_due:
            return self._plan
        with self._lock:
            if self.reload_due:
                today = self._clock().date()
                with transaction(self._sessions) as session:
                    self._load(session)
                self._checked = time.monotonic()
                if self._plan is not None and self._plan.day < today != self._checked_day:
                    _log.warning("boost plan of %s expired; no plan for %s", self._plan.day, today)
                self._checked_day = today
        return self._plan

    def _load(self, session: Session) -> None:
        excluded = list(self._excluded_works(session)) if self._excluded_works else []
        mask = np.zeros(max(excluded, default=-1) + 1, np.bool_)
        mask[np.array(excluded, dtype=np.int64)] = True
        self._excluded = mask
        self._load_owners(session)
        day = latest_date(self._snapshots, PLAN, self._clock().date())
        if day is None:
            return
        directed = snapshot_path(self._snapshots, DIRECTED_PLAN, day).exists()
        if self._plan is not None and (self._plan.day, self._plan_directed) == (day, directed):
            return
        table = read_snapshot(self._snapshots, PLAN, day)
        plan = DayPlan.from_arrays(
            day,
            table["creator_id"].to_numpy().astype(np.int64),
            table["quota"].to_numpy().astype(np.int64),
        )
        if directed:
            extra = read_snapshot(self._snapshots, DIRECTED_PLAN, day)
            at = plan.rows(extra["creator_id"].to_numpy().astype(np.int64))
            np.add.at(plan.quota, at[at >= 0], extra["quota"].to_numpy()[at >= 0])
        rows = session.execute(
            select(BoostDelivery.creator_id, BoostDelivery.impressions).where(
                BoostDelivery.day == day
            )
        ).all()
        if rows:
            ids = np.array([r[0] for r in rows], np.int64)
            amounts = np.array([r[1] for r in rows], np.int64)
            creators, totals = np.unique(ids, return_inverse=True)
            summed = np.bincount(totals, weights=amounts).astype(np.int64)
            found = plan.rows(creators)
            self._counters.raise_to(plan, found[found >= 0], summed[found >= 0])
        self._plan, self._plan_directed = plan, directed

    def _load_owners(self, session: Session) -> None:
        """Add the creator of every work newer than those known (a work keeps its creator).

        The owner array grows by doubling, so its length is not the next id to read: that is
        kept apart (reading from the array's length skipped every work published between
        the last one read and the end of the grown array)."""
        found = session.execute(
            select(Work.id, Work.creator_id).where(Work.id >= self._next_work).order_by(Work.id)
        ).all()
        if not found:
            return
        ids = np.array([r[0] for r in found], np.int64)
        known = self._owner.shape[0]
        owner = self._owner
        if int(ids[-1]) >= known:
            owner = np.full(max(int(ids[-1]) + 1, 2 * known), -1, np.int64)
            owner[:known] = self._owner
        owner[ids] = np.array([r[1] for r in found], np.int64)
        self._owner = owner
        self._next_work = int(ids[-1]) + 1

    def remaining_fraction(self, plan: DayPlan) -> float:
        """The share of the plan's day still ahead (0 once the day is over)."""
        now = self._clock()
        start = dt.datetime.combine(plan.day, dt.time(), tzinfo=dt.UTC)
        elapsed = (now - start).total_seconds() / _DAY_SECONDS
        return float(min(max(1.0 - elapsed, 0.0), 1.0))

    def weights(self, creator_id: IntArray, work_id: IntArray) -> FloatArray:
        """The boost weight of each candidate (aligned arrays of any length)."""
        out = np.zeros(creator_id.shape[0])
        plan = self.plan()
        status = self.plan_status(plan)
        with self._counts_lock:
            if status == "current":
                self.counts.calls_current += 1
            elif status == "expired":
                self.counts.calls_expired += 1
            else:
                self.counts.calls_without_plan += 1
        if plan is None or status != "current" or creator_id.shape[0] == 0:
            return out
        self._decide(plan, creator_id, work_id, out)
        _zero_foreign(creator_id, work_id, self._owner, out)
        return out

    def _decide(
        self, plan: DayPlan, creator_id: IntArray, work_id: IntArray, out: FloatArray
    ) -> None:
        fraction = self.remaining_fraction(plan)
        if isinstance(self._counters, InProcessCounters):
            _weights_in_process(
                creator_id,
                work_id,
                plan.row_of,
                plan.quota,
                self._counters.array(plan),
                self._excluded,
                fraction,
                MAX_WEIGHT,
                out,
            )
            return
        rows = plan.rows(creator_id)
        delivered = np.zeros(rows.shape[0], np.int64)
        planned = rows >= 0
        delivered[planned] = self._counters.delivered(plan, rows[planned])
        _weights_kernel(
            rows, work_id, plan.quota, delivered, self._excluded, fraction, MAX_WEIGHT, out
        )

    async def weights_async(self, creator_id: IntArray, work_id: IntArray) -> FloatArray:
        """:meth:`weights` without blocking the event loop on shared counters (call
        :meth:`plan` off the loop first when :attr:`reload_due`); :class:`CountersUnavailable`
        if they do not answer in time."""
        if isinstance(self._counters, RedisCounters):
            return await self._counters.off_loop(self.weights, creator_id, work_id)
        return self.weights(creator_id, work_id)

    def record(
        self, session: Session, deliveries: Sequence[tuple[str, int, int, int]]
    ) -> list[DeliveryReport]:
        """Record ``(delivery_id, creator_id, work_id, impressions)`` deliveries on the day they
        happened (today); each is stored once (flushed in ``session``) and counted once against
        today's quota. Under an expired plan its creators' deliveries are still booked (to
        today) but count against no quota. Counting before the caller commits errs on the safe
        side: a failed commit leaves quota unused, never overspent."""
        if len(deliveries) > MAX_CANDIDATES:
            raise InvalidInput(f"at most {MAX_CANDIDATES} deliveries per call")
        today = self._clock().date()
        plan = self.plan()
        creators = np.array([d[1] for d in deliveries], np.int64)
        rows = plan.rows(creators) if plan is not None else np.full(len(deliveries), -1, np.int32)
        owners = dict(
            select_rows(
                session,
                select(Work.id, Work.creator_id).where(
                    member_of(session, Work.id, {d[2] for d in deliveries})
                ),
            ).all()
        )
        statuses: dict[int, str] = {}
        accepted: list[int] = []
        for k, (_, creator, work, _) in enumerate(deliveries):
            if owners.get(work) != creator:
                statuses[k] = "unknown_work"
            elif rows[k] < 0:
                statuses[k] = "not_planned"
            else:
                accepted.append(k)
        if plan is not None and accepted:
            stored = record_deliveries(
                session,
                [
                    Delivery(
                        deliveries[k][0],
                        deliveries[k][1],
                        deliveries[k][2],
                        deliveries[k][3],
                        today,
                    )
                    for k in accepted
                ],
                now=self._clock(),
            )
            statuses.update(zip(accepted, stored, strict=True))
        counted = [k for k in accepted if statuses[k] == "recorded"]
        if counted and self.plan_status(plan) == "expired":
            with self._counts_lock:
                self.counts.deliveries_without_current_plan += len(counted)
        elif plan is not None and counted:
            self._counters.add(
                plan,
                rows[counted],
                np.array([deliveries[k][3] for k in counted], np.int64),
            )
        return [DeliveryReport(d[0], statuses[k]) for k, d in enumerate(deliveries)]


def counters_for(
    redis_url: str | None, *, timeout_seconds: float = COUNTER_TIMEOUT_SECONDS
) -> QuotaCounters:
    """Redis counters (each call bounded by ``timeout_seconds``) when a URL is configured,
    else in-process ones."""
    if redis_url:
        return RedisCounters(redis_url, timeout_seconds=timeout_seconds)
    return InProcessCounters()

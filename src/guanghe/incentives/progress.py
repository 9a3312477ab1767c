"""The cycle's incentive work for one date: enrol the eligible creators of each running
window with their personal target, update progress from the event log, and pay completed
windows once.

What counts: plays, within the window up to the date, of the creator's works that the
originality check has not judged duplicates; works published in the window in the programme's
verticals (or the creator's own vertical when the programme names none), duplicates excluded.
A creator's baseline is their plays over the :data:`BASELINE_DAYS` days before the window.
A reward is one linked pair of ledger transfers (cash to the creator's earnings, impressions to
their incentive-traffic account) out of the programme's budget accounts, idempotent on the key
``incentive:<programme>:<creator>:<window start>``: settled once, never past the budget.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Final, cast

import numpy as np
import pyarrow as pa
from numpy.typing import NDArray
from sqlalchemy import Table, bindparam, insert, select, update
from sqlalchemy.orm import Session

from guanghe.incentives.programmes import BASELINE_DAYS, Programme
from guanghe.incentives.registry import StoredProgramme, budget_account
from guanghe.incentives.targets import (
    BoolArray,
    Candidates,
    IntArray,
    eligible,
    flat_history,
    personal_targets,
)
from guanghe.ledger import (
    AccountKey,
    TransferRequest,
    TransferStatus,
    find_accounts,
    open_account_groups,
    post_chains,
)
from guanghe.ledger.settlement import earnings
from guanghe.notifications import NoticeDraft, notify_many
from guanghe.store import IncentiveEnrolment, Work, select_rows
from guanghe.store.bulk import execute_many, execute_many_tuples
from guanghe.traffic.floors import reward_account

_OK = (TransferStatus.CREATED, TransferStatus.EXISTS)
CASH_CODE = "incentive_cash"
TRAFFIC_CODE = "incentive_traffic"
DayArray = NDArray[np.datetime64]


@dataclass(frozen=True, slots=True)
class WindowActivity:
    """Per creator: plays before the window (``baseline``, with ``history`` their plays per
    day of the :data:`BASELINE_DAYS` days, oldest first) and in it on works that count. A
    creator with a baseline but no history is taken to have spread it evenly."""

    baseline: Mapping[int, int]
    plays: Mapping[int, int]
    history: Mapping[int, IntArray] = field(default_factory=dict)

    def histories(self, creator_ids: IntArray) -> IntArray:
        """The baseline days of ``creator_ids``, shape ``(n, BASELINE_DAYS)`` (zeros for a
        creator without plays)."""
        ids = creator_ids.tolist()
        result = flat_history(np.array([self.baseline.get(c, 0) for c in ids], np.int64))
        for i, creator_id in enumerate(ids):
            days = self.history.get(creator_id)
            if days is not None:
                result[i] = days
        return result


@dataclass(slots=True)
class ProgressReport:
    """What one programme's day did, and the rewards it could not pay (with why)."""

    enrolled: int = 0
    updated: int = 0
    completed: int = 0
    paid: int = 0
    unpaid: list[tuple[str, str]] = field(default_factory=list)  # (reward key, status)


def baseline_window(window_starts_on: dt.date) -> tuple[dt.date, dt.date]:
    """The days whose plays are the baseline of a window starting ``window_starts_on``."""
    return (
        window_starts_on - dt.timedelta(days=BASELINE_DAYS),
        window_starts_on - dt.timedelta(days=1),
    )


@dataclass(frozen=True, slots=True)
class DailyPlays:
    """The event log's plays by creator, work (0: none) and day, as arrays (converted once
    for all of a cycle's programmes)."""

    creator_id: IntArray
    work_id: IntArray
    day: DayArray
    plays: IntArray

    @classmethod
    def from_arrow(cls, table: pa.Table) -> DailyPlays:
        """From a table of columns ``creator_id``, ``work_id`` (nullable), ``date`` and
        ``plays``."""
        work = table["work_id"].to_numpy(zero_copy_only=False)
        return cls(
            creator_id=table["creator_id"].to_numpy().astype(np.int64),
            work_id=np.nan_to_num(work.astype(np.float64), nan=0).astype(np.int64),
            day=table["date"].to_numpy(zero_copy_only=False).astype("datetime64[D]"),
            plays=table["plays"].to_numpy(zero_copy_only=False).astype(np.int64),
        )


def window_activity(
    plays: DailyPlays, window_starts_on: dt.date, day: dt.date, duplicates: Collection[int]
) -> WindowActivity:
    """Baseline and window plays per creator from ``plays``; plays of ``duplicates`` never
    count."""
    creator, work, day_of, count = plays.creator_id, plays.work_id, plays.day, plays.plays
    first, last = baseline_window(window_starts_on)
    original = ~np.isin(work, np.fromiter(duplicates, np.int64, len(duplicates)))
    before = (day_of >= np.datetime64(first)) & (day_of <= np.datetime64(last))
    within = (day_of >= np.datetime64(window_starts_on)) & (day_of <= np.datetime64(day))
    counted = before & original
    offset = (day_of[counted] - np.datetime64(first)).astype(np.int64)
    return WindowActivity(
        baseline=_sum_by(creator[counted], count[counted]),
        plays=_sum_by(
            creator[within & original & (work > 0)], count[within & original & (work > 0)]
        ),
        history=_days_by(creator[counted], offset, count[counted]),
    )


def original_works(
    session: Session,
    programme: Programme,
    vertical_ids: Collection[int],
    creators: Mapping[int, int],
    window: tuple[dt.date, dt.date],
    duplicates: Collection[int],
) -> dict[int, int]:
    """Works per creator published from ``window[0]`` to ``window[1]`` in the programme's
    verticals (``vertical_ids``; none: the creator's own, ``creators`` maps creator to
    vertical), duplicates left out."""
    since = dt.datetime.combine(window[0], dt.time(), tzinfo=dt.UTC)
    until = dt.datetime.combine(window[1] + dt.timedelta(days=1), dt.time(), tzinfo=dt.UTC)
    rows = session.execute(
        select(Work.id, Work.creator_id, Work.vertical_id).where(
            Work.published_at >= since, Work.published_at < until
        )
    )
    counted: dict[int, int] = {}
    for work_id, creator_id, vertical_id in rows:
        if creator_id not in creators or work_id in duplicates:
            continue
        if vertical_id in vertical_ids if vertical_ids else vertical_id == creators[creator_id]:
            counted[creator_id] = counted.get(creator_id, 0) + 1
    return counted


_ENROLMENTS: Final = cast(Table, IncentiveEnrolment.__table__)
#: Progress written back over the rows whose progress moved (one compiled statement executed
#: over them all: the ORM's unit of work costs seconds per programme at 100,000 creators).
_SET_PROGRESS: Final = (
    update(_ENROLMENTS)
    .where(_ENROLMENTS.c.id == bindparam("row_id"))
    .values(
        plays=bindparam("new_plays"),
        original_works=bindparam("new_works"),
        progress_on=bindparam("new_progress_on"),
        completed_on=bindparam("new_completed_on"),
    )
)
#: The date of every other enrolment of a window, whose counts stood still, in one statement.
_MARK_PROGRESS: Final = (
    update(_ENROLMENTS)
    .where(
        _ENROLMENTS.c.program_id == bindparam("stored_program_id"),
        _ENROLMENTS.c.window_starts_on == bindparam("stored_window_starts_on"),
        _ENROLMENTS.c.progress_on != bindparam("new_progress_on"),
    )
    .values(progress_on=bindparam("new_progress_on"))
)
_INSERT_CHUNK: Final = 5_000
#: A completion day that is not there (a window not completed).
_NOT_DONE: Final = np.datetime64("NaT", "D")


def enrol_and_update(
    session: Session,
    stored: StoredProgramme,
    candidates: Candidates,
    vertical_ids: Collection[int],
    activity: WindowActivity,
    day: dt.date,
    duplicates: Collection[int],
) -> ProgressReport:
    """Enrol ``stored``'s newly eligible creators in the window covering ``day`` and bring
    every enrolment of that window up to date (completed when both rules are met).

    Set-based: the window's enrolments are read as rows, the new ones inserted with their
    progress, only the rows whose counts or completion changed written back, and the others'
    ``progress_on`` moved to ``day`` in one statement."""
    programme, report = stored.programme, ProgressReport()
    window = programme.window_of(day)
    if window is None:
        return report
    t = _ENROLMENTS
    enrolments = select_rows(
        session,
        select(
            t.c.id,
            t.c.creator_id,
            t.c.vertical_id,
            t.c.target_plays,
            t.c.target_works,
            t.c.plays,
            t.c.original_works,
            t.c.completed_on,
            t.c.paid_on,
        ).where(t.c.program_id == stored.id, t.c.window_starts_on == window[0]),
    ).all()
    columns = list(zip(*enrolments, strict=True)) or [()] * 9
    row_id, enrolled, _, target_plays, target_works, old_plays, old_works = (
        np.array(c, np.int64) for c in columns[:7]
    )
    completed_on = np.array(columns[7], "datetime64[D]")
    unpaid = np.isnat(np.array(columns[8], "datetime64[D]"))
    joining = eligible(programme.eligibility, candidates, tuple(vertical_ids))
    joining &= ~np.isin(candidates.creator_id, enrolled)
    ids = candidates.creator_id[joining]
    history = activity.histories(ids)
    baseline = history.sum(axis=1)
    targets = personal_targets(
        history, candidates.stage[joining], programme.rules.targets, programme.window_days
    )
    verticals = candidates.vertical_id[joining].tolist()
    stages = candidates.stage[joining].tolist()
    creators = dict(zip(columns[1], columns[2], strict=True))
    creators.update(zip(ids.tolist(), verticals, strict=True))
    works = original_works(session, programme, vertical_ids, creators, (window[0], day), duplicates)
    today = np.datetime64(day, "D")

    def progress(
        creator_id: IntArray,
        target_plays: IntArray,
        target_works: IntArray,
        completed_on: DayArray,
        unpaid: BoolArray,
    ) -> tuple[IntArray, IntArray, DayArray]:
        """Plays, works and completion day (NaT: not complete) of each enrolment as of
        ``day``: completed on the first day both rules are met, no longer once they are not
        (unless the reward is paid)."""
        plays, made = _values_of(activity.plays, creator_id), _values_of(works, creator_id)
        met = (plays >= target_plays) & (made >= target_works)
        newly = met & (np.isnat(completed_on) | (today < completed_on))
        report.completed += int(newly.sum())
        cleared = ~met & unpaid
        return plays, made, np.where(newly, today, np.where(cleared, _NOT_DONE, completed_on))

    plays, made, completed = progress(enrolled, target_plays, target_works, completed_on, unpaid)
    moved = (
        (plays != old_plays)
        | (made != old_works)
        | ((completed != completed_on) & ~(np.isnat(completed) & np.isnat(completed_on)))
    )
    if moved.any():
        execute_many_tuples(
            session.connection(),
            _SET_PROGRESS,
            ("row_id", "new_plays", "new_works", "new_progress_on", "new_completed_on"),
            [
                (row, p, w, day, c)
                for row, p, w, c in zip(
                    row_id[moved].tolist(),
                    plays[moved].tolist(),
                    made[moved].tolist(),
                    completed[moved].astype(object).tolist(),
                    strict=True,
                )
            ],
        )
    session.execute(
        _MARK_PROGRESS,
        {
            "stored_program_id": stored.id,
            "stored_window_starts_on": window[0],
            "new_progress_on": day,
        },
    )
    works_needed = programme.rules.original_works
    n = ids.shape[0]
    plays, made, completed = progress(
        ids,
        targets.astype(np.int64),
        np.full(n, works_needed, np.int64),
        np.full(n, _NOT_DONE),
        np.ones(n, bool),
    )
    new_rows = [
        {
            "program_id": stored.id,
            "creator_id": creator_id,
            "window_starts_on": window[0],
            "window_ends_on": window[1],
            "vertical_id": int(verticals[i]),
            "stage": str(stages[i]),
            "baseline_plays": int(baseline[i]),
            "target_plays": int(targets[i]),
            "target_works": works_needed,
            "enrolled_on": day,
            "progress_on": day,
            "plays": p,
            "original_works": w,
            "completed_on": c,
            "reward_fen": 0,
            "reward_impressions": 0,
            "paid_on": None,
            "floor_period_starts_on": None,
        }
        for i, (creator_id, p, w, c) in enumerate(
            zip(
                ids.tolist(),
                plays.tolist(),
                made.tolist(),
                completed.astype(object).tolist(),
                strict=True,
            )
        )
    ]
    for at in range(0, len(new_rows), _INSERT_CHUNK):
        execute_many(session.connection(), insert(t), new_rows[at : at + _INSERT_CHUNK])
    report.enrolled = len(new_rows)
    report.updated = len(enrolments) + len(new_rows)
    return report


def reward_key(programme: str, creator_id: int, window_starts_on: dt.date) -> str:
    """The idempotency key of a creator's reward for one window of a programme."""
    return f"incentive:{programme}:{creator_id}:{window_starts_on.isoformat()}"


def settle_rewards(
    session: Session, stored: StoredProgramme, *, day: dt.date, now: dt.datetime
) -> ProgressReport:
    """Pay every completed, unpaid enrolment of ``stored`` (each once, as one linked pair of
    transfers); those the budget cannot pay stay unpaid and are reported with the status."""
    report = ProgressReport()
    rows = session.scalars(
        select(IncentiveEnrolment)
        .where(
            IncentiveEnrolment.program_id == stored.id,
            IncentiveEnrolment.completed_on.is_not(None),
            IncentiveEnrolment.paid_on.is_(None),
        )
        .order_by(IncentiveEnrolment.completed_on, IncentiveEnrolment.creator_id)
    ).all()
    for row, status in zip(rows, pay_rewards(session, stored, rows, day=day, now=now), strict=True):
        if status.ok:
            report.paid += 1
        else:
            key = reward_key(stored.programme.name, row.creator_id, row.window_starts_on)
            report.unpaid.append((key, status.value))
    return report


def pay_reward(
    session: Session,
    stored: StoredProgramme,
    row: IncentiveEnrolment,
    *,
    day: dt.date,
    now: dt.datetime,
) -> TransferStatus:
    """Pay ``row``'s reward (cash and traffic together or neither) and mark it paid; the
    status of the refusal otherwise (e.g. the budget is spent)."""
    return pay_rewards(session, stored, [row], day=day, now=now)[0]


def pay_rewards(
    session: Session,
    stored: StoredProgramme,
    rows: Sequence[IncentiveEnrolment],
    *,
    day: dt.date,
    now: dt.datetime,
) -> list[TransferStatus]:
    """Pay each of ``rows``' rewards in turn as :func:`pay_reward` does, in one posting: per
    row ``created``, or the status of its refusal. The accounts, transfers and notices
    written, ids included, are those of paying the rows one at a time in order; except that
    when a budget cannot pay one more reward, every row is refused (``exceeds_credits``, as
    the ledger would) without opening the creators' accounts or posting."""
    reward = stored.programme.reward
    legs = [
        (unit, amount, code)
        for unit, amount, code in (
            ("CNY", reward.cash_fen, CASH_CODE),
            ("IMPRESSION", reward.impressions, TRAFFIC_CODE),
        )
        if amount > 0
    ]
    budgets = [budget_account(stored.id, unit) for unit, *_ in legs]
    if rows and _spent(session, budgets, [amount for _, amount, _ in legs]):
        return [TransferStatus.EXCEEDS_CREDITS] * len(rows)
    creator_keys = [[_rewarded_account(unit, row.creator_id) for unit, *_ in legs] for row in rows]
    ids = open_account_groups(session, [budgets + keys for keys in creator_keys], now=now)
    chains = []
    for row, keys in zip(rows, creator_keys, strict=True):
        key = reward_key(stored.programme.name, row.creator_id, row.window_starts_on)
        source = f"{stored.id}:{row.creator_id}:{row.window_starts_on.isoformat()}"
        chains.append(
            [
                TransferRequest(
                    key=f"{key}:{unit}",
                    code=code,
                    debit_account_id=ids[budget],
                    credit_account_id=ids[creator_key],
                    amount=amount,
                    source=("incentive_reward", source),
                    memo=f"{stored.programme.title}: window from {row.window_starts_on}",
                )
                for (unit, amount, code), budget, creator_key in zip(
                    legs, budgets, keys, strict=True
                )
            ]
        )
    posted = post_chains(session, chains, business_day=day, now=now, reuse_failed_ids=True)
    statuses: list[TransferStatus] = []
    drafts: list[NoticeDraft] = []
    paid = " and ".join(
        part
        for part in (
            f"{reward.cash_fen / 100:.2f} CNY to your earnings" if reward.cash_fen else "",
            f"{reward.impressions:,} boosted impressions" if reward.impressions else "",
        )
        if part
    )
    for row, results in zip(rows, posted, strict=True):
        failed = next(
            (
                r.status
                for r in results
                if r.status not in (*_OK, TransferStatus.LINKED_EVENT_FAILED)
            ),
            None,
        )
        if failed is not None:
            statuses.append(TransferStatus(failed))
            continue
        statuses.append(TransferStatus.CREATED)
        row.reward_fen, row.reward_impressions, row.paid_on = (
            reward.cash_fen,
            reward.impressions,
            day,
        )
        drafts.append(
            NoticeDraft(
                row.creator_id,
                "reward",
                f"{stored.programme.title}: target reached",
                f"You reached your target for the window from {row.window_starts_on}: {paid}.",
                dedupe_key=reward_key(stored.programme.name, row.creator_id, row.window_starts_on),
                data={
                    "programme": stored.programme.name,
                    "window_starts_on": row.window_starts_on.isoformat(),
                    "amount_fen": reward.cash_fen,
                    "impressions": reward.impressions,
                },
            )
        )
    session.flush()
    notify_many(session, drafts, now=now)
    return statuses


def _spent(session: Session, budgets: Sequence[AccountKey], amounts: Sequence[int]) -> bool:
    """Whether one of ``budgets`` (opened already) has less left than its reward ``amounts``:
    the ledger would refuse every reward (read without a lock: a budget topped up meanwhile
    pays on the next cycle, one spent meanwhile is refused by the ledger)."""
    found = find_accounts(session, budgets)
    return any(
        (account := found.get(budget)) is not None and account.available < amount
        for budget, amount in zip(budgets, amounts, strict=True)
    )


def _rewarded_account(unit: str, creator_id: int) -> AccountKey:
    """The creator's account a reward's ``unit`` goes to: their earnings (cash) or their
    incentive-traffic account (impressions)."""
    if unit == "CNY":
        return earnings("creator", creator_id)
    return reward_account(creator_id, "incentive_traffic")


def _sum_by(keys: np.ndarray, values: np.ndarray) -> dict[int, int]:
    if keys.shape[0] == 0:
        return {}
    unique, inverse = np.unique(keys, return_inverse=True)
    sums = np.bincount(inverse, weights=values.astype(np.float64))
    return {int(k): int(v) for k, v in zip(unique.tolist(), sums.tolist(), strict=True)}


def _days_by(keys: np.ndarray, days: np.ndarray, values: np.ndarray) -> dict[int, IntArray]:
    """Per key, the sum of ``values`` on each of the :data:`BASELINE_DAYS` ``days``."""
    if keys.shape[0] == 0:
        return {}
    unique, inverse = np.unique(keys, return_inverse=True)
    grid = np.zeros((unique.shape[0], BASELINE_DAYS), np.int64)
    np.add.at(grid, (inverse, days), values.astype(np.int64))
    return {int(k): grid[i] for i, k in enumerate(unique.tolist())}


def _values_of(counts: Mapping[int, int], keys: IntArray) -> IntArray:
    """``counts`` of each of ``keys`` (0 for a key it lacks)."""
    get = counts.get
    return np.fromiter((get(k, 0) for k in keys.tolist()), np.int64, keys.shape[0])

"""The store's side of recommendations: open tasks and creators as frames, past outcomes to
learn from, the day's offers written, and a creator's current offers read back."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any, Final, cast

import numpy as np
import pyarrow as pa
from sqlalchemy import Table, delete, func, insert, select
from sqlalchemy.orm import Session

from guanghe.access import Principal
from guanghe.errors import InvalidInput
from guanghe.notifications import NoticeDraft, notify_many
from guanghe.store import Creator, Notice, Task, TaskClaim, TaskOffer, select_rows
from guanghe.store.bulk import execute_many
from guanghe.store.task_tables import HOLDING_STATUSES
from guanghe.tasks.catalog import TaskView, task_views
from guanghe.tasks.claims import check_acts_for_creator
from guanghe.tasks.propensity import FEATURES, KINDS, OutcomeModel
from guanghe.tasks.recommend import CreatorFrame, Offers, TaskFrame
from guanghe.vocabulary import STAGES

_NO_MAX = np.iinfo(np.int64).max
#: Rows are inserted through the table (Core executemany), not the ORM's bulk insert.
_OFFERS = cast(Table, TaskOffer.__table__)


def _ints(values: list[int]) -> np.ndarray[Any, np.dtype[np.int64]]:
    return np.array(values, dtype=np.int64)


def open_tasks(session: Session, now: dt.datetime) -> TaskFrame:
    """Tasks accepting now with free slots."""
    rows = session.scalars(
        select(Task)
        .where(Task.status == "open", Task.starts_at <= now, Task.ends_at > now)
        .order_by(Task.id)
    ).all()
    held = dict(
        session.execute(
            select(TaskClaim.task_id, func.count())
            .where(TaskClaim.status.in_(HOLDING_STATUSES))
            .group_by(TaskClaim.task_id)
        ).all()
    )
    rows = [r for r in rows if r.slots > held.get(r.id, 0)]
    return TaskFrame(
        ids=_ints([r.id for r in rows]),
        kind=_ints([KINDS.index(r.kind) for r in rows]),
        verticals=[frozenset(r.vertical_ids) for r in rows],
        stages=[frozenset(STAGES.index(s) for s in r.stages) for r in rows],
        min_followers=_ints([r.min_followers for r in rows]),
        max_followers=_ints(
            [_NO_MAX if r.max_followers is None else r.max_followers for r in rows]
        ),
        reward_fen=_ints([r.reward_fen for r in rows]),
        reward_impressions=_ints([r.reward_impressions for r in rows]),
        min_plays=_ints([r.min_plays for r in rows]),
        free=_ints([r.slots - held.get(r.id, 0) for r in rows]),
        in_priority=np.array([now < r.priority_until for r in rows], dtype=bool),
    )


def creator_frame(
    session: Session, growth: pa.Table | None, priority_tiers: frozenset[str]
) -> CreatorFrame:
    """Every creator; quality, works and tier from the day's ``creator_growth`` snapshot when
    there is one (``priority_tiers``: the tiers holding ``priority_tasks``)."""
    rows = session.execute(
        select(Creator.id, Creator.vertical_id, Creator.follower_count, Creator.stage).order_by(
            Creator.id
        )
    ).all()
    ids = np.array([r[0] for r in rows], dtype=np.int64)
    quality = np.zeros(ids.shape[0])
    works = np.zeros(ids.shape[0], dtype=np.int64)
    priority = np.zeros(ids.shape[0], dtype=bool)
    if growth is not None and growth.num_rows:
        g = {
            c: growth[c].to_numpy(zero_copy_only=False)
            for c in ("creator_id", "quality", "works_28d", "tier")
        }
        at = np.searchsorted(ids, g["creator_id"])
        found = (at < ids.shape[0]) & (
            ids[np.minimum(at, max(ids.shape[0] - 1, 0))] == g["creator_id"]
        )
        quality[at[found]] = g["quality"][found]
        works[at[found]] = g["works_28d"][found]
        priority[at[found]] = np.isin(g["tier"][found], list(priority_tiers))
    return CreatorFrame(
        ids=ids,
        vertical=np.array([r[1] for r in rows], dtype=np.int64),
        followers=np.array([r[2] for r in rows], dtype=np.int64),
        stage=np.array([STAGES.index(r[3]) for r in rows], dtype=np.int64),
        quality=quality,
        works_28d=works,
        priority=priority,
    )


def taken_pairs(session: Session) -> set[tuple[int, int]]:
    """(creator, task) pairs with a claim of any state: never offered again."""
    return {
        (int(c), int(t))
        for c, t in session.execute(select(TaskClaim.creator_id, TaskClaim.task_id))
    }


@dataclass(frozen=True, slots=True)
class Outcomes:
    """Past offers (features, accepted?) and past accepted offers (features, completed?)."""

    accept_x: np.ndarray[Any, np.dtype[np.float64]]
    accepted: np.ndarray[Any, np.dtype[np.bool_]]
    complete_x: np.ndarray[Any, np.dtype[np.float64]]
    completed: np.ndarray[Any, np.dtype[np.bool_]]


def past_outcomes(session: Session, before: dt.date) -> Outcomes:
    """Offers made before ``before`` with the features they were made on (``why.x``), whether
    the creator accepted, and, for those whose claim is settled, whether it was approved."""
    claims = {
        (int(c), int(t)): str(s)
        for c, t, s in select_rows(
            session, select(TaskClaim.creator_id, TaskClaim.task_id, TaskClaim.status)
        )
    }
    rows = select_rows(
        session,
        select(TaskOffer.creator_id, TaskOffer.task_id, TaskOffer.why).where(
            TaskOffer.offered_on < before
        ),
    ).all()
    seen: set[tuple[int, int]] = set()
    ax, ay, cx, cy = [], [], [], []
    for creator, task, why in rows:
        pair = (int(creator), int(task))
        x = (why or {}).get("x")
        if pair in seen or not isinstance(x, list) or len(x) != len(FEATURES):
            continue
        seen.add(pair)
        status = claims.get(pair)
        ax.append(x)
        ay.append(status is not None)
        if status in ("approved", "rejected", "expired"):
            cx.append(x)
            cy.append(status == "approved")
    shape = (-1, len(FEATURES))
    return Outcomes(
        np.array(ax, dtype=np.float64).reshape(shape),
        np.array(ay, dtype=bool),
        np.array(cx, dtype=np.float64).reshape(shape),
        np.array(cy, dtype=bool),
    )


def fit_models(outcomes: Outcomes, rng: np.random.Generator) -> tuple[OutcomeModel, OutcomeModel]:
    """The acceptance and completion models learned from ``outcomes``."""
    accept = OutcomeModel("accept").fit(outcomes.accept_x, outcomes.accepted, rng)
    complete = OutcomeModel("complete").fit(outcomes.complete_x, outcomes.completed, rng)
    return accept, complete


@dataclass(frozen=True, slots=True)
class TaskNoticePolicy:
    """When a creator hears of a task (a setting of the offers step).

    A creator's best-ranked offer brings a task-offer notice only when the task was never
    announced to them, no task-offer notice reached them within ``every``, and either their
    last announced task is no longer among their offers (it is new) or the new one's expected
    value is at least ``1 + min_gain`` times the last announced one's (materially better).
    """

    every: dt.timedelta = dt.timedelta(days=3)
    min_gain: float = 0.25

    def __post_init__(self) -> None:
        if self.every < dt.timedelta(0) or not 0.0 <= self.min_gain <= 100.0:
            raise InvalidInput("every is not negative and min_gain is 0 to 100")


NOTICE_KEY_PREFIX: Final = "task-offer:"


def replace_offers(
    session: Session,
    day: dt.date,
    offers: Offers,
    *,
    now: dt.datetime,
    notices: TaskNoticePolicy | None = None,
) -> int:
    """Write ``day``'s offers (replacing any written for it before; ``why.x`` keeps the
    features each was made on, to learn from) and tell creators of a new best task as
    ``notices`` allows (:class:`TaskNoticePolicy`). Returns how many offers."""
    session.execute(delete(TaskOffer).where(TaskOffer.offered_on == day))
    rows = [
        {
            "offered_on": day,
            "creator_id": int(offers.creator_id[n]),
            "task_id": int(offers.task_id[n]),
            "rank": int(offers.rank[n]),
            "p_accept": float(offers.p_accept[n]),
            "p_complete": float(offers.p_complete[n]),
            "value_fen": float(offers.value_fen[n]),
            "why": offers.why[n],
        }
        for n in range(len(offers))
    ]
    for start in range(0, len(rows), 5_000):
        execute_many(session.connection(), insert(_OFFERS), rows[start : start + 5_000])
    _notify_best_offers(session, day, offers, now=now, policy=notices or TaskNoticePolicy())
    return len(rows)


@dataclass(slots=True)
class _Announced:
    """A creator's task-offer notices: the tasks announced, and the latest one."""

    tasks: set[int]
    last_at: dt.datetime
    last_task: int
    last_value_fen: float


def _announced(session: Session, creators: list[int]) -> dict[int, _Announced]:
    found: dict[int, _Announced] = {}
    for start in range(0, len(creators), 5_000):
        rows = session.execute(
            select(Notice.creator_id, Notice.created_at, Notice.data)
            .where(
                Notice.kind == "task",
                Notice.dedupe_key.startswith(NOTICE_KEY_PREFIX),
                Notice.creator_id.in_(creators[start : start + 5_000]),
            )
            .order_by(Notice.creator_id, Notice.created_at, Notice.id)
        )
        for creator, created_at, data in rows:
            facts = data or {}
            task_id = int(facts.get("task_id", 0))
            at = created_at if created_at.tzinfo else created_at.replace(tzinfo=dt.UTC)
            value = float(facts.get("value_fen", 0.0))
            known = found.get(int(creator))
            if known is None:
                found[int(creator)] = _Announced({task_id}, at, task_id, value)
            else:
                known.tasks.add(task_id)
                known.last_at, known.last_task, known.last_value_fen = at, task_id, value
    return found


def _notify_best_offers(
    session: Session,
    day: dt.date,
    offers: Offers,
    *,
    now: dt.datetime,
    policy: TaskNoticePolicy,
) -> None:
    """Tell creators of a new best task as ``policy`` allows: never twice of one task (the
    notice's dedupe key), at most one task-offer notice per ``policy.every``, and only for a
    task that is new (the last announced one is no longer offered) or materially better.
    Re-running a day writes nothing more."""
    best: dict[int, int] = {}
    offered: dict[int, set[int]] = {}
    for n in np.argsort(offers.rank, kind="stable").tolist():
        creator = int(offers.creator_id[n])
        best.setdefault(creator, n)
        offered.setdefault(creator, set()).add(int(offers.task_id[n]))
    if not best:
        return
    announced = _announced(session, sorted(best))
    chosen: dict[int, int] = {}
    for creator, n in best.items():
        task_id, value = int(offers.task_id[n]), float(offers.value_fen[n])
        before = announced.get(creator)
        if before is not None and (
            task_id in before.tasks
            or now - before.last_at < policy.every
            or (
                before.last_task in offered[creator]
                and value < (1.0 + policy.min_gain) * before.last_value_fen
            )
        ):
            continue
        chosen[creator] = n
    if not chosen:
        return
    task_ids = {int(offers.task_id[n]) for n in chosen.values()}
    titles = {
        int(task_id): str(title)
        for task_id, title in session.execute(
            select(Task.id, Task.title).where(Task.id.in_(task_ids))
        )
    }
    notify_many(
        session,
        [
            NoticeDraft(
                creator,
                "task",
                f"A task for you: {titles[int(offers.task_id[n])]}",
                f"Task {int(offers.task_id[n])} suits you best among today's tasks "
                f"(expected reward {float(offers.value_fen[n]) / 100:.2f} CNY); see the task "
                "center for why and to accept it.",
                dedupe_key=f"{NOTICE_KEY_PREFIX}{int(offers.task_id[n])}",
                data={
                    "task_id": int(offers.task_id[n]),
                    "offered_on": day.isoformat(),
                    "value_fen": round(float(offers.value_fen[n]), 2),
                },
            )
            for creator, n in chosen.items()
        ],
        now=now,
    )


@dataclass(frozen=True, slots=True)
class OfferView:
    """A task recommended to a creator, with the reasons."""

    task: TaskView
    rank: int
    offered_on: dt.date
    p_accept: float
    p_complete: float
    value_fen: float
    why: dict[str, Any]


def creator_offers(
    session: Session, principal: Principal, creator_id: int, *, now: dt.datetime
) -> list[OfferView]:
    """The creator's offers of the latest day that has any, still open and not yet taken."""
    check_acts_for_creator(session, principal, creator_id)
    latest = session.scalar(
        select(func.max(TaskOffer.offered_on)).where(TaskOffer.creator_id == creator_id)
    )
    if latest is None:
        return []
    rows = session.execute(
        select(TaskOffer, Task)
        .join(Task, Task.id == TaskOffer.task_id)
        .where(
            TaskOffer.creator_id == creator_id,
            TaskOffer.offered_on == latest,
            Task.status == "open",
            Task.ends_at > now,
        )
        .order_by(TaskOffer.rank)
    ).all()
    taken = {t for _, t in taken_pairs_of(session, creator_id)}
    kept = [(o, t) for o, t in rows if t.id not in taken]
    views = {v.id: v for v in task_views(session, [t for _, t in kept])}
    return [
        OfferView(
            views[t.id],
            o.rank,
            o.offered_on,
            o.p_accept,
            o.p_complete,
            o.value_fen,
            {k: v for k, v in (o.why or {}).items() if k != "x"},
        )
        for o, t in kept
    ]


def taken_pairs_of(session: Session, creator_id: int) -> set[tuple[int, int]]:
    return {
        (creator_id, int(t))
        for t in session.scalars(
            select(TaskClaim.task_id).where(TaskClaim.creator_id == creator_id)
        )
    }


def showcase_creator(session: Session) -> int | None:
    """The creator holding the newest day's most valuable offer (whose task-center page the
    demo shows), or None before any offer."""
    latest = session.scalar(select(func.max(TaskOffer.offered_on)))
    if latest is None:
        return None
    best = session.scalar(
        select(TaskOffer.creator_id)
        .where(TaskOffer.offered_on == latest)
        .order_by(TaskOffer.value_fen.desc(), TaskOffer.creator_id)
        .limit(1)
    )
    return None if best is None else int(best)

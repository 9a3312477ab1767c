"""The synthetic platform's task center: sponsors' tasks, the hidden propensities creators
accept and complete them with, and the past outcomes the recommender learns from.

Sponsors are the platform (its task budget funded by :func:`guanghe.tasks.fund_platform_tasks`)
and the market's advertisers (a deposit into their prepaid funds); every task is posted with
:func:`guanghe.tasks.create_task`, which reserves its slots in the ledger. *Past* tasks ran in
the first part of the period: each was offered to a sample of creators (``task_offers`` rows
with the features they were made on), who accepted and completed it as their hidden propensity
says; completed slots were approved through :func:`guanghe.tasks.review_submission` (paid once
in the ledger), the others expired. *Current* tasks open a few days before the period's end and
run past it, for the cycle to offer. The truth (``task_propensity.parquet``: per creator and
task kind, the chance to accept an in-vertical offer and to complete an accepted one) goes to
the ground-truth directory.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.parquet as pq
from sqlalchemy import insert
from sqlalchemy.orm import Session

from guanghe.access import Principal
from guanghe.monetize import deposit
from guanghe.runtime import Runtime
from guanghe.sim.content import WorkPlan
from guanghe.sim.monetize import ADVERTISERS
from guanghe.sim.population import Population
from guanghe.store import TaskClaim, TaskOffer
from guanghe.tasks import TaskSpec, create_task, fund_platform_tasks, review_submission
from guanghe.tasks.propensity import KINDS, feature_rows

Ints = npt.NDArray[np.int64]
Floats = npt.NDArray[np.float64]

PROPENSITY_FILE: Final = "task_propensity.parquet"
PLATFORM_TASKS: Final = 8
TASKS_PER_ADVERTISER: Final = 1
PAST_TASKS: Final = 6
#: Creators each past task was offered to (at most).
PAST_OFFERS: Final = 80
#: An offer outside the creator's vertical is accepted this much less often.
OFF_VERTICAL: Final = 0.35
_SIM = Principal(user_id=0, role="operator", subject_id=None)
_TITLES: Final = {
    "shooting": "Shoot a short on {v}",
    "promotion": "Promote our {v} pick",
    "topic": "Join the #{v} topic week",
}


@dataclass(frozen=True, slots=True)
class TaskTruth:
    """Hidden propensities, shape (creators, len(KINDS))."""

    accept: Floats
    complete: Floats


@dataclass(frozen=True, slots=True)
class PlannedTask:
    sponsor: tuple[str, int]
    spec: TaskSpec
    past: bool


def draw_truth(rng: np.random.Generator, population: Population) -> TaskTruth:
    """Each creator's chance to accept an in-vertical offer of each kind (keener when small
    and good) and to complete an accepted one (likelier with quality and stage)."""
    n = population.size
    taste = rng.normal(0.0, 0.7, size=(n, len(KINDS)))
    kind_base = np.array([-0.6, -1.0, -0.3])
    small = -0.15 * np.log10(1.0 + population.followers_initial.astype(np.float64))[:, None]
    accept = _sigmoid(kind_base[None, :] + taste + 1.5 * population.quality[:, None] + small)
    stage = population.stage_initial.astype(np.float64)[:, None]
    grit = rng.normal(0.0, 0.5, size=(n, 1))
    complete = _sigmoid(-1.2 + 2.5 * population.quality[:, None] + 0.4 * stage + grit)
    return TaskTruth(accept=accept, complete=np.repeat(complete, len(KINDS), axis=1))


def plan_tasks(
    rng: np.random.Generator, population: Population, first: dt.date, last: dt.date
) -> list[PlannedTask]:
    """Past tasks in the period's first part, current ones open at its end; half of them
    limited to one vertical, rewards of 20 to 300 yuan (a few platform ones in impressions)."""
    start = dt.datetime.combine(first, dt.time(), tzinfo=dt.UTC)
    end = dt.datetime.combine(last, dt.time(), tzinfo=dt.UTC)
    past_end = start + max((end - start) / 2, dt.timedelta(hours=12))
    verticals = np.unique(population.vertical_id)
    sponsors = [("platform", 0)] * (PAST_TASKS + PLATFORM_TASKS) + [
        ("advertiser", a) for a in range(1, ADVERTISERS + 1) for _ in range(TASKS_PER_ADVERTISER)
    ]
    planned = []
    for n, sponsor in enumerate(sponsors):
        past = n < PAST_TASKS
        kind = KINDS[int(rng.integers(len(KINDS)))]
        vertical = int(rng.choice(verticals)) if rng.random() < 0.5 else None
        impressions = sponsor[0] == "platform" and not past and rng.random() < 0.25
        spec = TaskSpec(
            kind=kind,
            title=_TITLES[kind].format(v=f"vertical {vertical}" if vertical else "anything"),
            description="Synthetic task of the demo platform.",
            vertical_ids=() if vertical is None else (vertical,),
            starts_at=start if past else end - dt.timedelta(days=3),
            ends_at=past_end if past else end + dt.timedelta(days=int(rng.integers(7, 22))),
            slots=PAST_OFFERS if past else int(rng.integers(3, 21)),
            reward_fen=0 if impressions else int(rng.integers(20, 301)) * 100,
            reward_impressions=int(rng.integers(5, 51)) * 1_000 if impressions else 0,
            hashtag=f"task{n + 1}",
            min_plays=int(rng.choice([0, 100, 500])),
            accept_hours=72,
        )
        planned.append(PlannedTask(sponsor, spec, past))
    return planned


def write_tasks(
    runtime: Runtime,
    rng: np.random.Generator,
    population: Population,
    works: WorkPlan,
    truth: TaskTruth,
    first: dt.date,
    last: dt.date,
) -> int:
    """Fund the sponsors, post every planned task and write the past tasks' offers and
    claims, in one writer transaction; returns how many tasks were posted."""
    planned = plan_tasks(rng, population, first, last)
    posted_at = dt.datetime.combine(first, dt.time(), tzinfo=dt.UTC)

    def work(session: Session) -> None:
        platform_fen = sum(
            p.spec.slots * p.spec.reward_fen for p in planned if p.sponsor[0] == "platform"
        )
        fund_platform_tasks(session, key="sim", amount_fen=max(platform_fen, 1), now=posted_at)
        for advertiser in range(1, ADVERTISERS + 1):
            mine = [p for p in planned if p.sponsor == ("advertiser", advertiser)]
            if total := sum(p.spec.slots * p.spec.reward_fen for p in mine):
                deposit(session, advertiser, key="sim-tasks", amount_fen=total, now=posted_at)
        for plan in planned:
            view = create_task(session, _SIM, plan.spec, sponsor=plan.sponsor, now=posted_at)
            if plan.past:
                _past_outcomes(session, rng, view.id, plan.spec, population, works, truth)

    runtime.write(work)
    return len(planned)


def post_agent_task(session: Session, agent_user_id: int, *, now: dt.datetime) -> int:
    """A brand's task that agent ``agent_user_id`` brought (advertiser 1 sponsors it, funding
    it into its prepaid account), with the agent's commission per approved slot; its id."""
    spec = TaskSpec(
        kind="promotion",
        title="Promote the brand's spring launch",
        description="A brand's paid task brought by an institution's agent.",
        starts_at=now - dt.timedelta(days=1),
        ends_at=now + dt.timedelta(days=14),
        slots=10,
        reward_fen=8_000,
        hashtag="springlaunch",
        agent_commission_fen=1_200,
    )
    total = spec.slots * (spec.reward_fen + spec.agent_commission_fen)
    deposit(session, 1, key=f"agent-task:{agent_user_id}", amount_fen=total, now=now)
    view = create_task(
        session, _SIM, spec, sponsor=("advertiser", 1), agent_id=agent_user_id, now=now
    )
    return view.id


def _past_outcomes(
    session: Session,
    rng: np.random.Generator,
    task_id: int,
    spec: TaskSpec,
    population: Population,
    works: WorkPlan,
    truth: TaskTruth,
) -> None:
    """Offer the task to a sample of creators, then accept and complete by the truth."""
    offered = rng.choice(population.size, size=min(PAST_OFFERS, population.size), replace=False)
    offered.sort()
    kind = KINDS.index(spec.kind)
    in_vertical = (
        np.ones(offered.shape[0], dtype=bool)
        if not spec.vertical_ids
        else np.isin(population.vertical_id[offered], spec.vertical_ids)
    )
    p_accept = truth.accept[offered, kind] * np.where(in_vertical, 1.0, OFF_VERTICAL)
    accepted = rng.random(offered.shape[0]) < p_accept
    completed = accepted & (rng.random(offered.shape[0]) < truth.complete[offered, kind])
    day_us = (spec.starts_at - dt.datetime(1970, 1, 1, tzinfo=dt.UTC)) // dt.timedelta(
        microseconds=1
    )
    x = feature_rows(
        stage=population.stage_initial[offered].astype(np.int64),
        kind=np.full(offered.shape[0], kind, dtype=np.int64),
        vertical_match=in_vertical,
        followers=population.followers_initial[offered].astype(np.int64),
        quality=np.round(100.0 * population.quality[offered], 2),
        works_28d=_works_before(works, offered, day_us),
        reward_fen=np.full(offered.shape[0], spec.reward_fen, dtype=np.int64),
        reward_impressions=np.full(offered.shape[0], spec.reward_impressions, dtype=np.int64),
        min_plays=np.full(offered.shape[0], spec.min_plays, dtype=np.int64),
    )
    session.execute(
        insert(TaskOffer),
        [
            {
                "offered_on": spec.starts_at.date(),
                "creator_id": int(c) + 1,
                "task_id": task_id,
                "rank": 1,
                "p_accept": 0.0,
                "p_complete": 0.0,
                "value_fen": 0.0,
                "why": {"rule": "synthetic history", "x": row.tolist()},
            }
            for c, row in zip(offered.tolist(), x, strict=True)
        ],
    )
    _claims(session, task_id, spec, offered[accepted], completed[accepted], works)


def _claims(
    session: Session,
    task_id: int,
    spec: TaskSpec,
    creators: Ints,
    completed: npt.NDArray[np.bool_],
    works: WorkPlan,
) -> None:
    """Completed acceptances approved (paid through the ledger), the others expired."""
    accepted_at = spec.starts_at + dt.timedelta(hours=1)
    deadline = accepted_at + dt.timedelta(hours=spec.accept_hours)
    decided = accepted_at + dt.timedelta(hours=2)
    for slot, (creator, done) in enumerate(zip(creators.tolist(), completed.tolist(), strict=True)):
        own = np.flatnonzero(works.creator_index == creator)
        work_id = int(own[0]) + 1 if done and own.size else None
        row = TaskClaim(
            task_id=task_id,
            creator_id=creator + 1,
            slot_no=slot + 1,
            status="expired" if work_id is None else "checked",
            accepted_at=accepted_at,
            deadline_at=deadline,
            work_id=work_id,
            submitted_at=None if work_id is None else accepted_at,
            checked_at=None if work_id is None else accepted_at,
            check_note="" if work_id is None else "synthetic history",
            reason="accepted and not submitted in time" if work_id is None else "",
        )
        session.add(row)
        session.flush()
        if work_id is not None:
            review_submission(
                session, _SIM, task_id, row.id, "approve", "", duplicates=frozenset(), now=decided
            )


def _works_before(works: WorkPlan, creators: Ints, day_us: int) -> Ints:
    """Works each creator published in the 28 days before ``day_us``."""
    recent = (works.published_us < day_us) & (works.published_us >= day_us - 28 * 86_400_000_000)
    counts = np.bincount(works.creator_index[recent], minlength=int(creators.max(initial=0)) + 1)
    return counts[creators].astype(np.int64)


def write_task_truth(directory: Path, truth: TaskTruth) -> None:
    """One row per creator and task kind: ``p_accept`` (an in-vertical offer) and
    ``p_complete`` (an accepted one)."""
    directory.mkdir(parents=True, exist_ok=True)
    n, k = truth.accept.shape
    table: dict[str, Any] = {
        "creator_id": np.repeat(np.arange(1, n + 1, dtype=np.int64), k),
        "kind": pa.array([KINDS[j] for _ in range(n) for j in range(k)]),
        "p_accept": truth.accept.reshape(-1),
        "p_complete": truth.complete.reshape(-1),
    }
    pq.write_table(pa.table(table), directory / PROPENSITY_FILE)


def _sigmoid(z: Floats) -> Floats:
    return np.asarray(1.0 / (1.0 + np.exp(-z)), dtype=np.float64)

"""What creators and profile visitors do on an advanced day with what Guanghe showed them:
the profile slot's ad (impressions, clicks and their charges) and the task center's offers
(acceptance, a task work published and submitted, the operator's review).

**Ads.** Every visit of a profile whose slot shows an ad (the day's decision of
:func:`~guanghe.monetize.slots.decide_profile_slot`) is an impression of that ad, clicked at
the generator's hidden click probability ``0.01 + 0.03 x quality``. What a campaign can still
commit — its budget, and its pacing cap at the end of the day
(:func:`~guanghe.monetize.auction.spend_cap_millifen`) less what it committed already — bounds
its impressions (scaled down proportionally, as the generator does), the committed price, the
served impressions and the clicks are added to the campaign's row (what the serving path's
per-view commit would have done), and the events are those the generator writes: one
``ad_impression`` and one ``ad_click`` row per creator and day with the campaign, CPM
campaigns charged ``impressions x price / 1000`` fen on the impression row, CPC campaigns the
click price on the click row. The cycle's ``ad_spend`` step charges them to the campaign's
budget and its ``settlement`` step pays the creator's share.

**Tasks.** A creator holding an offer of the last cycle (``task_offers`` of the day before)
accepts it with their hidden probability (``task_propensity.parquet``: the kind's
``p_accept``, times :data:`~guanghe.sim.tasks.OFF_VERTICAL` off the task's verticals) through
:func:`guanghe.tasks.accept_task` with the creator as principal, so the slot limits, the
priority window and the requirements hold (a refused acceptance is counted, not forced). Each
accepted claim then gets a hidden intent, drawn once (``task_intents.parquet`` in the
ground-truth directory): whether the creator completes it (the kind's ``p_complete``) and when
(uniformly within the first 90 % of the acceptance window). When that moment comes the creator
publishes a work carrying the task's hashtag and submits it through
:func:`guanghe.tasks.submit_work`; the cycle's ``tasks`` step checks it (window, hashtag,
originality, plays) and the simulated operator approves the checked ones the next day through
:func:`guanghe.tasks.review_submission`, which pays the slot's reward in the ledger.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path
from typing import Final, cast

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
from sqlalchemy import Table, bindparam, select, update
from sqlalchemy.orm import Session

from guanghe.access import Principal
from guanghe.creators import CreatorRules, load_rules, rules_path
from guanghe.errors import Conflict, Forbidden, NotFound
from guanghe.events.schema import EVENT_SCHEMA
from guanghe.monetize.auction import spend_cap_millifen
from guanghe.monetize.slots import AdPlacement
from guanghe.originality import blocked_work_ids
from guanghe.runtime import Runtime
from guanghe.sim.tasks import OFF_VERTICAL, PROPENSITY_FILE
from guanghe.store import Campaign, Task, TaskClaim, TaskOffer
from guanghe.store.bulk import execute_many
from guanghe.tasks import accept_task, priority_holder, review_submission, submit_work
from guanghe.tasks.propensity import KINDS

Ints = npt.NDArray[np.int64]
Floats = npt.NDArray[np.float64]

INTENTS_FILE: Final = "task_intents.parquet"
#: A completing creator submits within this share of the acceptance window.
SUBMIT_WITHIN: Final = 0.9
_DAY_US: Final = 86_400_000_000
_EPOCH: Final = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
_OPERATOR: Final = Principal(user_id=0, role="operator", subject_id=None)
_INTENTS_SCHEMA: Final = pa.schema(
    [("claim_id", pa.int64()), ("complete", pa.bool_()), ("submit_at", pa.timestamp("us", "UTC"))]
)


def click_probability(quality: Floats) -> Floats:
    """The generator's hidden chance that a profile-ad impression is clicked."""
    return np.asarray(0.01 + 0.03 * quality, dtype=np.float64)


@dataclass(frozen=True, slots=True)
class AdDay:
    """The day's profile-ad events and totals."""

    events: pa.Table
    impressions: int
    clicks: int
    charged_fen: int


def profile_ads(
    runtime: Runtime,
    rng: np.random.Generator,
    day: dt.date,
    prefix: str,
    creator_id: Ints,
    quality: Floats,
    visits: Ints,
    ads: list[AdPlacement | None],
    shown_for: tuple[Ints, Ints] | None = None,
) -> AdDay:
    """Impressions and clicks of the ad each visited creator's slot shows (``ads`` aligned
    with ``creator_id``, ``visits`` and ``quality``; a creator may have several placements),
    bounded by what each campaign can still commit; the campaigns' rows are updated and the
    events returned (see the module). ``shown_for`` is, per placement, the part of the day
    the slot shows it (start and length, microseconds into the day; the whole day when
    omitted), in which its ``visits`` fall."""
    shown = np.array([a is not None for a in ads], np.bool_)
    index = np.flatnonzero(shown & (visits > 0))
    window_from, window_for = (
        (shown_for[0][index], shown_for[1][index])
        if shown_for is not None
        else (np.zeros(index.shape[0], np.int64), np.full(index.shape[0], _DAY_US, np.int64))
    )
    placed = [ads[i] for i in index.tolist()]
    campaign = np.array([a.campaign_id for a in placed if a is not None], np.int64)
    price = np.array([a.price_millifen for a in placed if a is not None], np.int64)
    cpc = np.array([a.billing == "cpc" for a in placed if a is not None], np.bool_)
    click_price = np.array([a.click_price_fen or 0 for a in placed if a is not None], np.int64)
    wanted = visits[index].astype(np.int64)
    ids, inverse = np.unique(campaign, return_inverse=True)
    with runtime.sessions() as session:
        live_from, live_for = _live_hours(session, day, ids)
    since = np.maximum(live_from[inverse], window_from)
    until = np.minimum(live_from[inverse] + live_for[inverse], window_from + window_for)
    seen_for = np.maximum(until - since, 0)
    part = seen_for < window_for
    if part.any():
        # Visits fall uniformly over the day: a campaign live for part of the time the slot
        # shows it (one ending during the day) is seen only by the visits of that part.
        wanted[part] = rng.binomial(wanted[part], seen_for[part] / window_for[part])

    def reserve(session: Session) -> Ints:
        # The room is read and taken in one writer transaction (campaign rows locked), so a
        # profile view served meanwhile cannot push a reservation past the budget.
        room = _room(session, day, ids)
        requested = np.bincount(inverse, weights=wanted * price, minlength=ids.shape[0])
        fraction = np.minimum(1.0, room / np.maximum(requested, 1.0))
        served = np.floor(wanted * fraction[inverse]).astype(np.int64)
        _add_to_campaigns(session, ids, inverse, reserved=served * price, impressions=served)
        return served

    impressions = runtime.write(reserve) if ids.shape[0] else np.zeros(0, np.int64)
    clicks = rng.binomial(impressions, click_probability(quality[index])).astype(np.int64)
    clicks = _within_committed(clicks, impressions * price, cpc, click_price, inverse, ids)
    impression_fen = np.where(cpc, 0, impressions * price // 1_000)
    click_fen = np.where(cpc, clicks * click_price, 0)
    if ids.shape[0]:
        runtime.write(lambda s: _add_to_campaigns(s, ids, inverse, clicks=clicks))
    table = _ad_events(
        rng,
        day,
        prefix,
        creator_id[index],
        campaign,
        [("ad_impression", impressions, impression_fen), ("ad_click", clicks, click_fen)],
        since,
        seen_for,
    )
    return AdDay(
        table,
        int(impressions.sum()),
        int(clicks.sum()),
        int(impression_fen.sum() + click_fen.sum()),
    )


def _within_committed(
    clicks: Ints,
    committed: Ints,
    cpc: npt.NDArray[np.bool_],
    click_price: Ints,
    inverse: Ints,
    ids: Ints,
) -> Ints:
    """Clicks of each CPC campaign scaled down so that they cost no more than its impressions
    committed (milli-fen), as an ad server stops charging a campaign at its committed spend:
    clicks drawn above the predicted rate would otherwise be charged past the budget."""
    if not cpc.any():
        return clicks
    n = ids.shape[0]
    allowed = np.bincount(inverse, weights=np.where(cpc, committed, 0), minlength=n) // 1_000
    wanted = np.bincount(inverse, weights=np.where(cpc, clicks * click_price, 0), minlength=n)
    share = np.minimum(1.0, allowed / np.maximum(wanted, 1.0))[inverse]
    return np.where(cpc, np.floor(clicks * share), clicks).astype(np.int64)


def _live_hours(session: Session, day: dt.date, ids: Ints) -> tuple[Ints, Ints]:
    """Per campaign of ``ids``, when it is live on ``day``: the start (microseconds into the
    day) and the length of the part of the day between its start and its end (the whole day
    for a campaign not stored)."""
    start = dt.datetime.combine(day, dt.time(), tzinfo=dt.UTC)
    end = start + dt.timedelta(days=1)
    live_from = np.zeros(ids.shape[0], np.int64)
    live_for = np.full(ids.shape[0], _DAY_US, np.int64)
    if not ids.shape[0]:
        return live_from, live_for
    rows = session.execute(
        select(Campaign.id, Campaign.starts_at, Campaign.ends_at).where(
            Campaign.id.in_(ids.tolist())
        )
    )
    position = {c: k for k, c in enumerate(ids.tolist())}
    for campaign_id, starts_at, ends_at in rows:
        k = position[int(campaign_id)]
        since, until = max(_utc(starts_at), start), min(_utc(ends_at), end)
        live_from[k] = (since - start) // dt.timedelta(microseconds=1)
        live_for[k] = max((until - since) // dt.timedelta(microseconds=1), 0)
    return live_from, live_for


def _room(session: Session, day: dt.date, ids: Ints) -> Floats:
    """Per campaign of ``ids`` (sorted), the milli-fen it may still commit by the day's end;
    the campaigns' rows are locked until the transaction ends."""
    end = dt.datetime.combine(day + dt.timedelta(days=1), dt.time(), tzinfo=dt.UTC)
    rows = {
        int(r.id): r
        for r in session.execute(
            select(
                Campaign.id,
                Campaign.budget_fen,
                Campaign.reserved_millifen,
                Campaign.starts_at,
                Campaign.ends_at,
                Campaign.pacing,
            )
            .where(Campaign.id.in_(ids.tolist()))
            .order_by(Campaign.id)
            .with_for_update()
        )
    }
    room = np.zeros(ids.shape[0])
    for k, c in enumerate(ids.tolist()):
        r = rows.get(c)
        if r is None:
            continue
        cap = spend_cap_millifen(
            int(r.budget_fen), _utc(r.starts_at), _utc(r.ends_at), end, str(r.pacing)
        )
        room[k] = max(min(cap, int(r.budget_fen) * 1_000) - int(r.reserved_millifen), 0)
    return room


def _add_to_campaigns(
    session: Session,
    ids: Ints,
    inverse: Ints,
    *,
    reserved: Ints | None = None,
    impressions: Ints | None = None,
    clicks: Ints | None = None,
) -> None:
    """Add each placement's reserved milli-fen, impressions and clicks to its campaign's
    counters (``inverse`` maps placements to ``ids``)."""
    table = cast(Table, Campaign.__table__)

    def per_campaign(values: Ints | None) -> list[int]:
        if values is None:
            return [0] * ids.shape[0]
        sums = np.bincount(inverse, weights=values, minlength=ids.shape[0]).astype(np.int64)
        return [int(v) for v in sums]

    rows = [
        {"cid": int(c), "dr": r, "di": i, "dc": k}
        for c, r, i, k in zip(
            ids.tolist(),
            per_campaign(reserved),
            per_campaign(impressions),
            per_campaign(clicks),
            strict=True,
        )
    ]
    statement = (
        update(table)
        .where(table.c.id == bindparam("cid"))
        .values(
            reserved_millifen=table.c.reserved_millifen + bindparam("dr"),
            served_impressions=table.c.served_impressions + bindparam("di"),
            clicks=table.c.clicks + bindparam("dc"),
        )
    )
    execute_many(session.connection(), statement, rows)


def _ad_events(
    rng: np.random.Generator,
    day: dt.date,
    prefix: str,
    creator_id: Ints,
    campaign: Ints,
    blocks: list[tuple[str, Ints, Ints]],
    live_from: Ints,
    live_for: Ints,
) -> pa.Table:
    """One row per block and creator with a positive count (``amount_fen`` null when 0), at
    a moment of the part of the day its campaign is live (``live_from``, ``live_for``:
    microseconds into the day, per placement)."""
    kinds: list[str] = []
    creators, campaigns, counts, amounts, since, span = [], [], [], [], [], []
    for kind, count, amount in blocks:
        keep = np.flatnonzero(count > 0)
        kinds += [kind] * keep.shape[0]
        creators.append(creator_id[keep])
        campaigns.append(campaign[keep])
        counts.append(count[keep])
        amounts.append(amount[keep])
        since.append(live_from[keep])
        span.append(live_for[keep])
    m = len(kinds)
    start = (dt.datetime.combine(day, dt.time(), tzinfo=dt.UTC) - _EPOCH) // dt.timedelta(
        microseconds=1
    )
    offset = np.asarray(rng.random(m) * np.concatenate(span), dtype=np.int64)
    ts = start + np.concatenate(since) + offset
    amount = np.concatenate(amounts).astype(np.int64)
    numbers = pc.cast(pa.array(np.arange(m, dtype=np.int64)), pa.string())
    columns = {
        "event_id": pc.binary_join_element_wise(f"{prefix}a", numbers, ""),
        "type": pa.array(kinds, pa.string()),
        "ts": pa.array(ts, pa.timestamp("us", tz="UTC")),
        "creator_id": pa.array(np.concatenate(creators).astype(np.int64)),
        "work_id": pa.nulls(m, pa.int64()),
        "count": pa.array(np.concatenate(counts).astype(np.int64)),
        "boosted": pa.nulls(m, pa.bool_()),
        "amount_fen": pa.array(amount, mask=amount <= 0),
        "campaign_id": pa.array(np.concatenate(campaigns).astype(np.int64)),
        "product_id": pa.nulls(m, pa.int64()),
        "commission_fen": pa.nulls(m, pa.int64()),
        "ref_event_id": pa.nulls(m, pa.string()),
    }
    return pa.table(columns, schema=EVENT_SCHEMA)


@dataclass(frozen=True, slots=True)
class TaskTruth:
    """Hidden propensities by creator index and kind (``KINDS`` order)."""

    accept: Floats
    complete: Floats

    @classmethod
    def load(cls, directory: Path, creators: int) -> TaskTruth | None:
        """The truth of ``task_propensity.parquet``; None for a platform without one."""
        if not (directory / PROPENSITY_FILE).exists():
            return None
        table = pq.read_table(directory / PROPENSITY_FILE)
        creator = table["creator_id"].to_numpy().astype(np.int64) - 1
        kind = np.array([KINDS.index(k) for k in table["kind"].to_pylist()], np.int64)
        accept = np.zeros((creators, len(KINDS)))
        complete = np.zeros((creators, len(KINDS)))
        ok = (creator >= 0) & (creator < creators)
        accept[creator[ok], kind[ok]] = table["p_accept"].to_numpy()[ok]
        complete[creator[ok], kind[ok]] = table["p_complete"].to_numpy()[ok]
        return cls(accept, complete)


@dataclass(frozen=True, slots=True)
class TaskWork:
    """A task work to publish: its creator (id), the moment, the hashtag it must carry, and
    the claim it is submitted for."""

    creator_id: int
    at: dt.datetime
    hashtag: str | None
    task_id: int
    claim_id: int


@dataclass(frozen=True, slots=True)
class TaskDay:
    approved: int
    accepted: int
    refused: int
    due: tuple[TaskWork, ...]


def take_up_tasks(
    runtime: Runtime,
    truth: TaskTruth,
    vertical: Ints,
    rng: np.random.Generator,
    day: dt.date,
) -> TaskDay:
    """The morning's review of checked submissions, the day's acceptances of the offers the
    cycle made the day before, the hidden intents of claims new to the simulator, and the
    task works due today (to publish, then :func:`submit_task_works`)."""
    start = dt.datetime.combine(day, dt.time(), tzinfo=dt.UTC)
    approved = runtime.write(lambda s: _review(s, start + dt.timedelta(hours=9)))
    with runtime.sessions() as session:
        offers = session.execute(
            select(TaskOffer.creator_id, TaskOffer.task_id, Task.kind, Task.vertical_ids)
            .join(Task, Task.id == TaskOffer.task_id)
            .where(TaskOffer.offered_on == day - dt.timedelta(days=1))
            .order_by(TaskOffer.creator_id, TaskOffer.rank)
        ).all()
    creator = np.array([int(r[0]) for r in offers], np.int64)
    task = np.array([int(r[1]) for r in offers], np.int64)
    kind = np.array([KINDS.index(str(r[2])) for r in offers], np.int64)
    own = np.array([not r[3] or int(vertical[int(r[0]) - 1]) in r[3] for r in offers], np.bool_)
    p = truth.accept[creator - 1, kind] * np.where(own, 1.0, OFF_VERTICAL)
    takes = rng.random(creator.shape[0]) < p
    moments: Floats = np.asarray(rng.random(size=creator.shape[0]) * _DAY_US, np.float64)
    order = np.flatnonzero(takes)[np.argsort(moments[takes], kind="stable")]
    acceptances = [
        (int(creator[i]), int(task[i]), start + dt.timedelta(microseconds=int(moments[i])))
        for i in order.tolist()
    ]
    rules = load_rules(rules_path(runtime.settings.data_dir))
    accepted = runtime.write(lambda s: _accept(s, rules, acceptances))
    due = _intents(runtime, truth, rng, day)
    return TaskDay(approved, accepted, len(acceptances) - accepted, due)


def _review(session: Session, now: dt.datetime) -> int:
    """The simulated operator approves every checked submission (as the generator does for
    past tasks); one judged a duplicate since is rejected."""
    rows = session.execute(
        select(TaskClaim.id, TaskClaim.task_id, TaskClaim.work_id)
        .where(TaskClaim.status == "checked")
        .order_by(TaskClaim.id)
    ).all()
    duplicates = frozenset(blocked_work_ids(session)) if rows else frozenset()
    approved = 0
    for claim_id, task_id, work_id in rows:
        decision = "reject" if work_id in duplicates else "approve"
        reason = "the work is judged a duplicate" if decision == "reject" else ""
        review_submission(
            session,
            _OPERATOR,
            int(task_id),
            int(claim_id),
            decision,
            reason,
            duplicates=duplicates,
            now=now,
        )
        approved += decision == "approve"
    return approved


def _accept(
    session: Session, rules: CreatorRules, acceptances: list[tuple[int, int, dt.datetime]]
) -> int:
    """Accept through the real path, each creator as its own principal; returns how many the
    platform took (slots full, priority window, requirements: refused)."""
    holds = priority_holder(session, rules)
    taken = 0
    for creator_id, task_id, now in acceptances:
        principal = Principal(user_id=0, role="creator", subject_id=creator_id)
        try:
            accept_task(session, principal, task_id, creator_id, holds_priority=holds, now=now)
        except (Conflict, Forbidden, NotFound):
            continue
        taken += 1
    return taken


def _intents(
    runtime: Runtime, truth: TaskTruth, rng: np.random.Generator, day: dt.date
) -> tuple[TaskWork, ...]:
    """Draw the hidden intent of every accepted claim that has none yet (in claim order) and
    return the task works due on ``day``: completing claims still accepted whose moment has
    come (one whose moment passed unseen is done at the day's start), before the deadline."""
    path = runtime.settings.ground_truth_dir / INTENTS_FILE
    known = pq.read_table(path) if path.exists() else _INTENTS_SCHEMA.empty_table()
    with runtime.sessions() as session:
        claims = session.execute(
            select(
                TaskClaim.id,
                TaskClaim.creator_id,
                TaskClaim.task_id,
                TaskClaim.accepted_at,
                TaskClaim.deadline_at,
                Task.kind,
                Task.hashtag,
            )
            .join(Task, Task.id == TaskClaim.task_id)
            .where(TaskClaim.status == "accepted")
            .order_by(TaskClaim.id)
        ).all()
    seen = set(known["claim_id"].to_pylist())
    new = [c for c in claims if int(c.id) not in seen]
    if new:
        creator = np.array([int(c.creator_id) - 1 for c in new], np.int64)
        kind = np.array([KINDS.index(str(c.kind)) for c in new], np.int64)
        complete = rng.random(len(new)) < truth.complete[creator, kind]
        share = rng.random(len(new)) * SUBMIT_WITHIN
        moments = [
            _utc(c.accepted_at) + (_utc(c.deadline_at) - _utc(c.accepted_at)) * float(s)
            for c, s in zip(new, share.tolist(), strict=True)
        ]
        drawn = pa.table(
            {
                "claim_id": pa.array([int(c.id) for c in new], pa.int64()),
                "complete": pa.array(complete),
                "submit_at": pa.array(moments, pa.timestamp("us", "UTC")),
            },
            schema=_INTENTS_SCHEMA,
        )
        known = pa.concat_tables([known, drawn])
        path.parent.mkdir(parents=True, exist_ok=True)
        pq.write_table(known, path)
    intent = {
        int(c): (bool(k), s)
        for c, k, s in zip(
            known["claim_id"].to_pylist(),
            known["complete"].to_pylist(),
            known["submit_at"].to_pylist(),
            strict=True,
        )
    }
    start = dt.datetime.combine(day, dt.time(), tzinfo=dt.UTC)
    end = start + dt.timedelta(days=1)
    due = []
    for c in claims:
        completes, at = intent[int(c.id)]
        moment = max(_utc(at), start + dt.timedelta(minutes=1))
        if completes and moment < end and moment + dt.timedelta(seconds=1) < _utc(c.deadline_at):
            due.append(TaskWork(int(c.creator_id), moment, c.hashtag, int(c.task_id), int(c.id)))
    return tuple(sorted(due, key=lambda w: (w.at, w.claim_id)))


def submit_task_works(runtime: Runtime, due: tuple[TaskWork, ...], work_ids: Ints) -> int:
    """Submit each published task work (``work_ids`` aligned with ``due``) for its claim, the
    creator as principal, a second after publishing; returns how many were submitted."""

    def work(session: Session) -> int:
        done = 0
        for task_work, work_id in zip(due, work_ids.tolist(), strict=True):
            principal = Principal(user_id=0, role="creator", subject_id=task_work.creator_id)
            try:
                submit_work(
                    session,
                    principal,
                    task_work.task_id,
                    task_work.creator_id,
                    int(work_id),
                    now=task_work.at + dt.timedelta(seconds=1),
                )
            except (Conflict, Forbidden, NotFound):
                continue
            done += 1
        return done

    return runtime.write(work) if due else 0


def _utc(moment: dt.datetime) -> dt.datetime:
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=dt.UTC)

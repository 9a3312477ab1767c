"""The most suitable tasks for every creator: open tasks ranked by predicted value to the
creator, ``P(accept) x P(complete) x reward``, assigned under the slot limits.

Candidates: for each open task with free slots, the creators meeting its requirements who
hold no claim on it (during its priority window, only creators holding ``priority_tasks``);
each creator keeps its ``candidates`` best. A task is offered to enough creators that their
expected acceptances fill its free slots with a margin (an acceptance holds a slot until its
deadline, so an unfilled slot is a completion lost): the target is
``free x overbooking + fill_z x sqrt(free)`` acceptances, counted on the offers actually made
(``P(accept)`` of each); capacities start at ``target / mean P(accept)`` of the task's
candidates and grow, over a few re-solves, for tasks whose offers fall short, up to
``max_offers_per_slot`` per slot. ``novice_share`` of a task's offers is reserved for novices;
a creator gets at most ``max_per_creator``. Values rank offers by ``P(accept) x P(complete) x
reward``, so the slots go to likely completers. Holders of ``priority_tasks`` have their
values raised by ``priority_boost`` in the assignment. Each offer's ``why`` names the features,
the model (learned or prior) and the rule that placed it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Final

import numpy as np
from numpy.typing import NDArray

from guanghe.errors import InvalidInput
from guanghe.tasks.assignment import AssignmentResult, SlotAssignment
from guanghe.tasks.propensity import KINDS, OutcomeModel, feature_rows
from guanghe.vocabulary import STAGES

IntArray = NDArray[np.int64]
FloatArray = NDArray[np.float64]
BoolArray = NDArray[np.bool_]
#: What one boosted impression is worth to a creator, to rank impression rewards with money.
IMPRESSION_VALUE_FEN: Final = 0.03


@dataclass(frozen=True, slots=True)
class OfferRules:
    """What operators configure."""

    max_per_creator: int = 3
    novice_share: float = 0.2
    candidates: int = 20
    priority_boost: float = 0.2
    max_offers_per_slot: int = 20
    overbooking: float = 1.25
    fill_z: float = 1.65
    fill_rounds: int = 3

    def __post_init__(self) -> None:
        if not 1.0 <= self.overbooking <= 5.0 or not 0.0 <= self.fill_z <= 5.0:
            raise InvalidInput("overbooking is 1 to 5 and fill_z 0 to 5")
        if not 0 <= self.fill_rounds <= 10 or not 1 <= self.max_offers_per_slot <= 1_000:
            raise InvalidInput("fill_rounds is 0 to 10 and max_offers_per_slot 1 to 1,000")
        if not 1 <= self.max_per_creator <= 50 or not 1 <= self.candidates <= 200:
            raise InvalidInput("max_per_creator is 1 to 50 and candidates 1 to 200")
        if not 0.0 <= self.novice_share <= 1.0 or not 0.0 <= self.priority_boost <= 10.0:
            raise InvalidInput("novice_share is 0 to 1 and priority_boost 0 to 10")


@dataclass(frozen=True, slots=True)
class CreatorFrame:
    """Creators, one entry per array position (``stage``: index into STAGES)."""

    ids: IntArray
    vertical: IntArray
    followers: IntArray
    stage: IntArray
    quality: FloatArray
    works_28d: IntArray
    priority: BoolArray


@dataclass(frozen=True, slots=True)
class TaskFrame:
    """Open tasks with free slots (``in_priority``: still in their priority window)."""

    ids: IntArray
    kind: IntArray
    verticals: list[frozenset[int]]
    stages: list[frozenset[int]]
    min_followers: IntArray
    max_followers: IntArray
    reward_fen: IntArray
    reward_impressions: IntArray
    min_plays: IntArray
    free: IntArray
    in_priority: BoolArray


@dataclass(frozen=True, slots=True)
class Offers:
    """The offers made, one entry per position, ranked per creator (1 = best)."""

    creator_id: IntArray
    task_id: IntArray
    rank: IntArray
    p_accept: FloatArray
    p_complete: FloatArray
    value_fen: FloatArray
    why: list[dict[str, Any]] = field(default_factory=list)

    def __len__(self) -> int:
        return int(self.creator_id.shape[0])


def eligible_pairs(
    creators: CreatorFrame, tasks: TaskFrame, taken: set[tuple[int, int]]
) -> tuple[IntArray, IntArray]:
    """(creator position, task position) of every pair that may be offered."""
    ci: list[IntArray] = []
    tj: list[IntArray] = []
    taken_by_task: dict[int, list[int]] = {}
    for creator_id, task_id in taken:
        taken_by_task.setdefault(task_id, []).append(creator_id)
    for j in range(tasks.ids.shape[0]):
        ok = (creators.followers >= tasks.min_followers[j]) & (
            creators.followers <= tasks.max_followers[j]
        )
        if tasks.verticals[j]:
            ok &= np.isin(creators.vertical, list(tasks.verticals[j]))
        if tasks.stages[j]:
            ok &= np.isin(creators.stage, list(tasks.stages[j]))
        if tasks.in_priority[j]:
            ok &= creators.priority
        rows = np.flatnonzero(ok)
        taken_creators = taken_by_task.get(int(tasks.ids[j]))
        if taken_creators:
            rows = rows[~np.isin(creators.ids[rows], taken_creators)]
        ci.append(rows.astype(np.int64))
        tj.append(np.full(rows.shape[0], j, dtype=np.int64))
    if not ci:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
    return np.concatenate(ci), np.concatenate(tj)


def pair_features(
    creators: CreatorFrame, tasks: TaskFrame, ci: IntArray, tj: IntArray
) -> FloatArray:
    """The propensity features of each pair."""
    return feature_rows(
        stage=creators.stage[ci],
        kind=tasks.kind[tj],
        vertical_match=_vertical_match(creators, tasks, ci, tj),
        followers=creators.followers[ci],
        quality=creators.quality[ci],
        works_28d=creators.works_28d[ci],
        reward_fen=tasks.reward_fen[tj],
        reward_impressions=tasks.reward_impressions[tj],
        min_plays=tasks.min_plays[tj],
    )


def _vertical_match(
    creators: CreatorFrame, tasks: TaskFrame, ci: IntArray, tj: IntArray
) -> BoolArray:
    """Whether each pair's creator is in one of its task's verticals (any, for a task naming
    none): a lookup in a (task, vertical) table."""
    named = [v for verticals in tasks.verticals for v in verticals]
    width = max([int(creators.vertical.max(initial=0)), *named]) + 1
    allowed = np.ones((len(tasks.verticals), width), dtype=bool)
    for j, verticals in enumerate(tasks.verticals):
        if verticals:
            allowed[j] = False
            allowed[j, list(verticals)] = True
    return allowed[tj, creators.vertical[ci]]


def recommend(
    creators: CreatorFrame,
    tasks: TaskFrame,
    taken: set[tuple[int, int]],
    accept: OutcomeModel,
    complete: OutcomeModel,
    rules: OfferRules,
) -> Offers:
    """The offers of the day: predicted values, then the assignment under slot limits."""
    ci, tj = eligible_pairs(creators, tasks, taken)
    if not ci.shape[0]:
        return _no_offers()
    x = pair_features(creators, tasks, ci, tj)
    p_accept, p_complete = accept.predict_proba(x), complete.predict_proba(x)
    reward = tasks.reward_fen[tj] + IMPRESSION_VALUE_FEN * tasks.reward_impressions[tj]
    value = p_accept * p_complete * reward
    boosted = value * np.where(creators.priority[ci], 1.0 + rules.priority_boost, 1.0)
    layout = _dense(
        ci,
        _candidate_key(tj, boosted, p_accept, tasks.free, rules),
        len(creators.ids),
        rules.candidates,
    )
    pair_at = np.where(layout >= 0, layout, 0)
    task = np.where(layout >= 0, tj[pair_at], -1)
    score = np.where(layout >= 0, boosted[pair_at], 0.0)
    novice = creators.stage == STAGES.index("novice")
    solved, reserved = _fill_slots(tasks, task, score, p_accept[pair_at], novice, rules)
    rows, cols = np.nonzero(solved.chosen)
    pairs = layout[rows, cols]
    order = np.lexsort((-score[rows, cols], rows))
    rows, pairs = rows[order], pairs[order]
    starts = np.searchsorted(rows, rows, side="left")
    rank = np.arange(rows.shape[0]) - starts + 1
    why = [
        _why(
            creators,
            tasks,
            int(ci[p]),
            int(tj[p]),
            x[p],
            accept.source,
            solved.price,
            bool(novice[ci[p]]),
            reserved,
            (float(p_accept[p]), float(p_complete[p]), float(value[p])),
        )
        for p in pairs.tolist()
    ]
    return Offers(
        creator_id=creators.ids[ci[pairs]],
        task_id=tasks.ids[tj[pairs]],
        rank=rank.astype(np.int64),
        p_accept=p_accept[pairs],
        p_complete=p_complete[pairs],
        value_fen=value[pairs],
        why=why,
    )


def _candidate_key(
    tj: IntArray, value: FloatArray, accept: FloatArray, free: IntArray, rules: OfferRules
) -> FloatArray:
    """Which pairs a creator keeps among its ``candidates``: first those where the creator is
    among the task's best-valued creators that filling its slots could need (twice its
    fill target in offers), then the rest, each by value. Without this, tasks paying less than
    the best open ones would be in nobody's list and keep their slots empty."""
    n_tasks = free.shape[0]
    order = np.lexsort((-value, tj))
    sorted_tj = tj[order]
    rank = np.empty(tj.shape[0], dtype=np.int64)
    rank[order] = np.arange(tj.shape[0]) - np.searchsorted(sorted_tj, sorted_tj, side="left")
    eligible = np.bincount(tj, minlength=n_tasks)
    mean_accept = np.bincount(tj, accept, n_tasks) / np.maximum(eligible, 1)
    target = free * rules.overbooking + rules.fill_z * np.sqrt(free)
    needed = np.minimum(
        2.0 * target / np.maximum(mean_accept, 1e-3), free * rules.max_offers_per_slot
    )
    top = value.max() + 1.0 if value.shape[0] else 1.0
    return value + np.where(rank < needed[tj], top, 0.0)


def _fill_slots(
    tasks: TaskFrame,
    task: IntArray,
    score: FloatArray,
    accept: FloatArray,
    novice: BoolArray,
    rules: OfferRules,
) -> tuple[AssignmentResult, IntArray]:
    """The assignment with offer capacities grown until each task's offers are expected to
    fill its free slots (see the module); returns it and the novice reserve per task."""
    n_tasks = tasks.ids.shape[0]
    valid = task >= 0
    t = np.where(valid, task, 0)
    candidates = np.bincount(t[valid], minlength=n_tasks)
    novice_candidates = np.bincount(t[valid & novice[:, None]], minlength=n_tasks)
    mean_accept = np.bincount(t[valid], accept[valid], n_tasks) / np.maximum(candidates, 1)
    free = tasks.free.astype(np.float64)
    target = free * rules.overbooking + rules.fill_z * np.sqrt(free)
    most = np.minimum(tasks.free * rules.max_offers_per_slot, candidates)
    capacity = np.minimum(np.ceil(target / np.maximum(mean_accept, 1e-3)), most).astype(np.int64)
    solver = SlotAssignment(rules.max_per_creator)
    for attempt in range(rules.fill_rounds + 1):
        # The reserve holds no more places than the task has novice candidates.
        reserved = np.minimum(np.floor(capacity * rules.novice_share), novice_candidates)
        reserved = reserved.astype(np.int64)
        solved = solver.solve(task, score, novice, capacity, reserved)
        if attempt == rules.fill_rounds:
            break
        made = np.bincount(t[solved.chosen], minlength=n_tasks)
        made_open = np.bincount(t[solved.chosen & ~novice[:, None]], minlength=n_tasks)
        expected = np.bincount(t[solved.chosen], accept[solved.chosen], n_tasks)
        # Short of the target while a limit stopped its offers (all of its capacity made, or
        # all of the part open to non-novices while novices left the reserve unused): offer
        # more.
        limited = (made >= capacity) | (made_open >= capacity - reserved)
        short = (expected < target) & limited & (capacity < most)
        if not short.any():
            break
        grown = np.ceil(capacity * target / np.maximum(expected, 1e-9 * target + 1e-12))
        capacity = np.where(
            short, np.minimum(np.maximum(grown, capacity + 1), most), capacity
        ).astype(np.int64)
    return solved, reserved


def _no_offers() -> Offers:
    ints, floats = np.zeros(0, dtype=np.int64), np.zeros(0)
    return Offers(ints, ints, ints, floats, floats, floats, [])


def _dense(ci: IntArray, score: FloatArray, n_creators: int, width: int) -> IntArray:
    """``(n_creators, width)`` pair indices, each creator's best ``width`` by score (-1: none)."""
    order = np.lexsort((-score, ci))
    sorted_ci = ci[order]
    starts = np.searchsorted(sorted_ci, sorted_ci, side="left")
    position = np.arange(sorted_ci.shape[0]) - starts
    keep = position < width
    layout = np.full((n_creators, width), -1, dtype=np.int64)
    layout[sorted_ci[keep], position[keep]] = order[keep]
    return layout


def _why(
    creators: CreatorFrame,
    tasks: TaskFrame,
    i: int,
    j: int,
    x: FloatArray,
    model: str,
    price: FloatArray,
    novice: bool,
    reserved: IntArray,
    predicted: tuple[float, float, float],
) -> dict[str, Any]:
    rules = [f"slot price {price[j]:.2f} fen"]
    if creators.priority[i]:
        rules.append("priority_tasks right: value raised in the assignment")
    if novice and reserved[j] > 0:
        rules.append("novice reserve: a share of this task's offers is kept for novices")
    accept, complete, value = predicted
    stage, kind = STAGES[int(creators.stage[i])], KINDS[int(tasks.kind[j])]
    where = "in your vertical" if x[2] > 0.5 else "open to your vertical"
    extra = ""
    if creators.priority[i]:
        extra = " Your priority-tasks right counts in your favour."
    elif novice and reserved[j] > 0:
        extra = " Some of its offers are kept for novices like you."
    sentence = (
        f"Suggested because this {kind} task is {where} and fits a {stage} creator: creators "
        f"like you accept about {accept:.0%} of such offers and complete {complete:.0%}, so it "
        f"is worth about {value / 100:,.2f} yuan to you, more than the other tasks left for "
        f"its slots.{extra}"
    )
    return {
        "sentence": sentence,
        "p_accept": round(accept, 4),
        "p_complete": round(complete, 4),
        "expected_value_fen": round(value, 2),
        "features": {
            "stage": STAGES[int(creators.stage[i])],
            "kind": KINDS[int(tasks.kind[j])],
            "vertical_match": bool(x[2] > 0.5),
            "followers": int(creators.followers[i]),
            "quality": round(float(creators.quality[i]), 2),
            "works_28d": int(creators.works_28d[i]),
        },
        "model": model,
        "rule": "; ".join(rules),
        "x": [float(v) for v in x.tolist()],
    }

"""The most suitable tasks for every creator: open tasks ranked by predicted value to the
creator, ``P(accept) x P(complete) x reward``, assigned under the slot limits.

Candidates: for each open task with free slots, the creators meeting its requirements who
hold no claim on it (during its priority window, only creators holding ``priority_tasks``);
each creator keeps its ``candidates`` best. A task may be offered to ``free / mean P(accept)``
creators (the offers it takes to fill its free slots), ``novice_share`` of them reserved for
novices; a creator gets at most ``max_per_creator``. Holders of ``priority_tasks`` have their
values raised by ``priority_boost`` in the assignment. Each offer's ``why`` names the features,
the model (learned or prior) and the rule that placed it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Final

import numpy as np
from numpy.typing import NDArray

from guanghe.errors import InvalidInput
from guanghe.tasks.assignment import SlotAssignment
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

    def __post_init__(self) -> None:
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
        task_id = int(tasks.ids[j])
        if taken:
            rows = rows[[(int(creators.ids[r]), task_id) not in taken for r in rows]]
        ci.append(rows.astype(np.int64))
        tj.append(np.full(rows.shape[0], j, dtype=np.int64))
    if not ci:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
    return np.concatenate(ci), np.concatenate(tj)


def pair_features(
    creators: CreatorFrame, tasks: TaskFrame, ci: IntArray, tj: IntArray
) -> FloatArray:
    """The propensity features of each pair."""
    match = np.array(
        [
            not tasks.verticals[j] or int(creators.vertical[i]) in tasks.verticals[j]
            for i, j in zip(ci.tolist(), tj.tolist(), strict=True)
        ],
        dtype=bool,
    )
    return feature_rows(
        stage=creators.stage[ci],
        kind=tasks.kind[tj],
        vertical_match=match,
        followers=creators.followers[ci],
        quality=creators.quality[ci],
        works_28d=creators.works_28d[ci],
        reward_fen=tasks.reward_fen[tj],
        reward_impressions=tasks.reward_impressions[tj],
        min_plays=tasks.min_plays[tj],
    )


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
    layout = _dense(ci, boosted, creators.ids.shape[0], rules.candidates)
    pair_at = np.where(layout >= 0, layout, 0)
    task = np.where(layout >= 0, tj[pair_at], -1)
    score = np.where(layout >= 0, boosted[pair_at], 0.0)
    mean_accept = np.bincount(tj, p_accept, tasks.ids.shape[0]) / np.maximum(
        np.bincount(tj, minlength=tasks.ids.shape[0]), 1
    )
    capacity = np.minimum(
        np.ceil(tasks.free / np.maximum(mean_accept, 1e-3)),
        tasks.free * rules.max_offers_per_slot,
    ).astype(np.int64)
    reserved = np.floor(capacity * rules.novice_share).astype(np.int64)
    novice = creators.stage == STAGES.index("novice")
    solved = SlotAssignment(rules.max_per_creator).solve(task, score, novice, capacity, reserved)
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

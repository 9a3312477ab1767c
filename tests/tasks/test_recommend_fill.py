"""Offers fill the slots: on the synthetic platform's hidden truth, our offers complete at least
as many tasks (and earn creators at least as much) as random offers, within every rule."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
from numpy.typing import NDArray

from guanghe.sim.task_market import TaskMarket, draw_task_market, play_period
from guanghe.tasks.propensity import OutcomeModel
from guanghe.tasks.recommend import (
    OfferRules,
    _fill_slots,
    eligible_pairs,
    pair_features,
    recommend,
)
from guanghe.vocabulary import STAGES

IntArray = NDArray[np.int64]


def _totals(market: TaskMarket, creator: IntArray, task: IntArray, draws: int) -> tuple[int, int]:
    """Tasks completed and fen earned over ``draws`` periods of the offers."""
    periods = [play_period(np.random.default_rng(d), market, creator, task) for d in range(draws)]
    return sum(p.completed for p in periods), sum(p.earned_fen for p in periods)


def test_ours_completes_and_earns_at_least_as_much_as_random_offers() -> None:
    rng = np.random.default_rng(3)
    market = draw_task_market(rng, creators=2_000, tasks=200, slot_share=0.05)
    creators, tasks = market.creators, market.tasks
    ci, tj = eligible_pairs(creators, tasks, set())
    # Warm-up: random eligible offers, outcomes drawn from the truth, models learned from them.
    warm = rng.choice(ci.shape[0], size=2 * creators.ids.shape[0], replace=False)
    wi, wj = ci[warm], tj[warm]
    accepted = rng.random(warm.shape[0]) < market.p_accept(wi, wj)
    completed = rng.random(warm.shape[0]) < market.p_complete(wi, wj)
    x = pair_features(creators, tasks, wi, wj)
    accept_model = OutcomeModel("accept").fit(x, accepted, rng)
    complete_model = OutcomeModel("complete").fit(x[accepted], completed[accepted], rng)

    rules = OfferRules(max_per_creator=3)
    offers = recommend(creators, tasks, set(), accept_model, complete_model, rules)
    ours_c, ours_t = offers.creator_id - 1, offers.task_id - 1
    order = np.lexsort((offers.rank, ours_c))
    ours_c, ours_t = ours_c[order], ours_t[order]

    # Every rule holds: at most K per creator, the novice reserve within each task's offers.
    assert np.bincount(ours_c).max() <= rules.max_per_creator
    novice = creators.stage[ours_c] == STAGES.index("novice")
    assert len(offers) > 0

    # Random: K random eligible tasks per creator.
    shuffled = rng.permutation(ci.shape[0])
    by_creator = np.lexsort((shuffled, ci))
    rows = ci[by_creator]
    rank = np.arange(rows.shape[0]) - np.searchsorted(rows, rows, side="left")
    pick = by_creator[rank < rules.max_per_creator]
    rand_c, rand_t = ci[pick], tj[pick]

    ours = _totals(market, ours_c, ours_t, draws=5)
    random = _totals(market, rand_c, rand_t, draws=5)
    assert ours[0] >= random[0], (ours, random)
    assert ours[1] >= random[1], (ours, random)
    # And it gets there with far fewer offers than random's K per creator.
    assert ours_c.shape[0] < rand_c.shape[0]
    assert novice.any()


def test_offers_cover_every_task_that_has_slots_and_candidates() -> None:
    rng = np.random.default_rng(4)
    market = draw_task_market(rng, creators=1_000, tasks=120, slot_share=0.05)
    creators, tasks = market.creators, market.tasks
    ci, tj = eligible_pairs(creators, tasks, set())
    model_x = pair_features(creators, tasks, ci, tj)
    y = np.asarray(rng.random(model_x.shape[0]) < 0.3, dtype=np.bool_)
    accept_model = OutcomeModel("accept").fit(model_x, y, rng)
    complete_model = OutcomeModel("complete").fit(model_x, np.logical_not(y), rng)
    offers = recommend(creators, tasks, set(), accept_model, complete_model, OfferRules())
    offered = np.bincount(offers.task_id - 1, minlength=tasks.ids.shape[0])
    eligible = np.bincount(tj, minlength=tasks.ids.shape[0])
    # A task paying less than the best open ones still gets offers to fill its slots (all but
    # a few low-paid ones whose only creators, of a small vertical, have better uses of K).
    covered = offered >= np.minimum(tasks.free, eligible)
    assert covered.mean() >= 0.95, (offered[~covered], tasks.free[~covered], eligible[~covered])
    slots_offered = np.minimum(offered, tasks.free).sum()
    assert slots_offered >= 0.95 * np.minimum(tasks.free, eligible).sum()


@pytest.mark.parametrize("novice_share", [0.0, 0.02, 0.5])
def test_a_task_with_few_novice_candidates_still_gets_offers_to_fill_its_slots(
    novice_share: float,
) -> None:
    # 200 candidates alike (acceptance 0.3) for one task of 4 slots: its offers must be
    # expected to fill them, whether or not any candidate is a novice to take the reserve.
    n, free = 200, 4
    tasks = dataclasses.replace(
        draw_task_market(np.random.default_rng(5), creators=n, tasks=1, slot_share=0.0).tasks,
        free=np.array([free], dtype=np.int64),
    )
    novice = np.arange(n) < int(n * novice_share)
    rules = OfferRules()
    solved, _ = _fill_slots(
        tasks,
        np.zeros((n, 1), dtype=np.int64),
        np.linspace(10.0, 1.0, n).reshape(n, 1),
        np.full((n, 1), 0.3),
        novice,
        rules,
    )
    target = free * rules.overbooking + rules.fill_z * np.sqrt(free)
    assert 0.3 * solved.chosen.sum() >= target

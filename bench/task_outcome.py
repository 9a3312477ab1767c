"""Task recommendation outcomes on a hidden truth: ours against most-popular, random and
unconstrained top-k.

``python -m bench task_outcome [--creators N] [--tasks T] [--slot-share S] [--k K]
[--draws D] [--seed S]``

The world (:func:`guanghe.sim.task_market.draw_task_market`): the synthetic platform's creators
and their hidden propensities to accept an in-vertical offer of each task kind and to complete
an accepted task (:func:`guanghe.sim.tasks.draw_truth`; an off-vertical offer is accepted
``OFF_VERTICAL`` times as often). ``T`` open tasks of random kinds, most restricted to one
vertical, rewards drawn from a gamma, and slots for ``S`` of the creators in all (scarce).
A warm-up round offered random eligible tasks to creators: the propensity models
(:class:`guanghe.tasks.OutcomeModel`) learn from its outcomes, and a task's popularity is its
acceptances there. Each policy then offers every creator at most ``K`` tasks:

- **ours**: :func:`guanghe.tasks.recommend` (predicted value under slot limits, novice
  reserve);
- **top-k**: each creator's ``K`` best predicted values, ignoring capacity;
- **most-popular**: the ``K`` eligible tasks with the most warm-up acceptances;
- **random**: ``K`` random eligible tasks.

The period: creators come in a random order; each goes through their offers best first,
accepts as the truth says, takes a slot if one is left, and completes it as the truth says
(earning the reward). ``D`` draws of the period per policy; the means are printed: offers,
acceptances turned away (no slot left), slots taken, tasks completed, creator earnings (fen)
and completed tasks per 1,000 offers.
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import time
from collections.abc import Callable

import numpy as np
from numpy.typing import NDArray

IntArray = NDArray[np.int64]
FloatArray = NDArray[np.float64]
WARM_UP_OFFERS_PER_CREATOR = 2
#: Offers as ``(creator position, task position)``, each creator's best first.
OfferTable = tuple[IntArray, IntArray]


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench task_outcome")
    parser.add_argument("--creators", type=int, default=10_000)
    parser.add_argument("--tasks", type=int, default=200)
    parser.add_argument("--slot-share", type=float, default=0.05)
    parser.add_argument("--k", type=int, default=3)
    parser.add_argument("--draws", type=int, default=3)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--overbooking", type=float, default=None, help="OfferRules.overbooking")
    parser.add_argument("--fill-z", type=float, default=None, help="OfferRules.fill_z")
    args = parser.parse_args(argv)

    from guanghe.sim.task_market import draw_task_market, play_period
    from guanghe.tasks.propensity import OutcomeModel
    from guanghe.tasks.recommend import OfferRules, eligible_pairs, pair_features, recommend

    started = time.perf_counter()
    rng = np.random.default_rng(args.seed)
    n, t = args.creators, args.tasks
    market = draw_task_market(rng, creators=n, tasks=t, slot_share=args.slot_share)
    creators, tasks = market.creators, market.tasks
    ci, tj = eligible_pairs(creators, tasks, set())

    # Warm-up: random eligible offers; models learn, popularity is counted.
    warm_size = min(ci.shape[0], WARM_UP_OFFERS_PER_CREATOR * n)
    warm = rng.choice(ci.shape[0], size=warm_size, replace=False)
    wi, wj = ci[warm], tj[warm]
    accepted = rng.random(warm.shape[0]) < market.p_accept(wi, wj)
    completed = rng.random(warm.shape[0]) < market.p_complete(wi, wj)
    x = pair_features(creators, tasks, wi, wj)
    accept_model = OutcomeModel("accept").fit(x, accepted, rng)
    complete_model = OutcomeModel("complete").fit(x[accepted], completed[accepted], rng)
    popularity = np.bincount(wj[accepted], minlength=t)

    x_all = pair_features(creators, tasks, ci, tj)
    predicted: FloatArray = (
        accept_model.predict_proba(x_all)
        * complete_model.predict_proba(x_all)
        * tasks.reward_fen[tj]
    )
    k = args.k

    def per_creator_best(score: FloatArray) -> OfferTable:
        order = np.lexsort((-score, ci))
        rows = ci[order]
        rank = np.arange(rows.shape[0]) - np.searchsorted(rows, rows, side="left")
        keep = order[rank < k]
        return ci[keep], tj[keep]

    def ours() -> OfferTable:
        rules = OfferRules(k)
        if args.overbooking is not None:
            rules = dataclasses.replace(rules, overbooking=args.overbooking)
        if args.fill_z is not None:
            rules = dataclasses.replace(rules, fill_z=args.fill_z)
        offers = recommend(creators, tasks, set(), accept_model, complete_model, rules)
        return offers.creator_id - 1, offers.task_id - 1

    policies: dict[str, Callable[[], OfferTable]] = {
        "ours": ours,
        "top-k": lambda: per_creator_best(predicted),
        "most-popular": lambda: per_creator_best(
            popularity[tj].astype(np.float64) + rng.random(tj.shape[0]) * 1e-3
        ),
        "random": lambda: per_creator_best(np.asarray(rng.random(tj.shape[0]), np.float64)),
    }
    print(
        f"# {n:,} creators, {t} tasks, {int(tasks.free.sum()):,} slots, K={k}, {args.draws} draws, "
        f"models {accept_model.source}/{complete_model.source}, "
        f"{sum(1 for v in tasks.verticals if v)} tasks for one vertical, "
        f"{ci.shape[0]:,} eligible pairs, "
        f"load {os.getloadavg()[0]:.1f}"
    )
    print(
        f"{'policy':>13} {'offers':>9} {'turned away':>12} {'slots taken':>12} "
        f"{'completed':>10} {'earnings fen':>14} {'per 1k offers':>14} {'time s':>7}"
    )
    for name, policy in policies.items():
        began = time.perf_counter()
        creator, task = policy()
        seconds = time.perf_counter() - began
        # Each creator's offers best first: as the policy ordered them per creator.
        order = np.argsort(creator, kind="stable")
        creator, task = creator[order], task[order]
        periods = [
            play_period(np.random.default_rng(args.seed + d), market, creator, task)
            for d in range(args.draws)
        ]
        away, taken, done, earned = np.mean(
            [(p.turned_away, p.slots_taken, p.completed, p.earned_fen) for p in periods], axis=0
        )
        print(
            f"{name:>13} {creator.shape[0]:9,} {away:12,.0f} {taken:12,.0f} {done:10,.0f} "
            f"{earned:14,.0f} {1_000 * done / max(creator.shape[0], 1):14.1f} {seconds:7.2f}"
        )
    print(f"# {time.perf_counter() - started:.1f} s in all, load {os.getloadavg()[0]:.1f}")
    return 0

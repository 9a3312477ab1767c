"""A task market on the synthetic platform's hidden truth, for judging offer policies offline:
creators of the synthetic population, open tasks with scarce slots, and one period in which
creators take the offers they are given as their hidden propensities say.

``bench task_outcome`` and the recommender's tests play the same market, so that what the
benchmark reports is what the tests hold.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from guanghe.sim.population import draw_population
from guanghe.sim.tasks import OFF_VERTICAL, TaskTruth, draw_truth
from guanghe.tasks.propensity import KINDS
from guanghe.tasks.recommend import CreatorFrame, TaskFrame

Ints = npt.NDArray[np.int64]
Floats = npt.NDArray[np.float64]
#: The days of history the market's population is drawn with.
HISTORY_DAYS = 60
#: Share of open tasks restricted to one vertical.
RESTRICTED_SHARE = 0.7


@dataclass(frozen=True, slots=True)
class TaskMarket:
    """Creators and open tasks (positions ``0..n-1`` and ``0..t-1``; ids are positions + 1)
    and the hidden propensities behind them."""

    creators: CreatorFrame
    tasks: TaskFrame
    truth: TaskTruth

    def p_accept(self, creator: Ints, task: Ints) -> Floats:
        """The chance each creator accepts an offer of each task (off-vertical offers are
        accepted ``OFF_VERTICAL`` times as often as in-vertical ones)."""
        pairs = zip(creator.tolist(), task.tolist(), strict=True)
        fits = np.array(
            [
                not self.tasks.verticals[j]
                or int(self.creators.vertical[i]) in self.tasks.verticals[j]
                for i, j in pairs
            ],
            dtype=bool,
        )
        base = self.truth.accept[creator, self.tasks.kind[task]]
        return np.where(fits, base, OFF_VERTICAL * base)

    def p_complete(self, creator: Ints, task: Ints) -> Floats:
        """The chance each creator completes an accepted task."""
        return self.truth.complete[creator, self.tasks.kind[task]]


@dataclass(frozen=True, slots=True)
class PeriodOutcome:
    """What one period of offers came to."""

    turned_away: int  # acceptances that found no slot left
    slots_taken: int
    completed: int
    earned_fen: int


def draw_task_market(
    rng: np.random.Generator, creators: int, tasks: int, slot_share: float
) -> TaskMarket:
    """``creators`` of the synthetic population and ``tasks`` open tasks of random kinds, most
    restricted to one vertical, rewards drawn from a gamma, and slots for ``slot_share`` of the
    creators in all (at least one a task)."""
    n, t = creators, tasks
    population = draw_population(rng, n, HISTORY_DAYS)
    truth = draw_truth(rng, population)
    frame = CreatorFrame(
        ids=np.arange(1, n + 1, dtype=np.int64),
        vertical=population.vertical_id.astype(np.int64),
        followers=population.followers_initial.astype(np.int64),
        stage=population.stage_initial.astype(np.int64),
        quality=100.0 * population.quality,
        works_28d=rng.poisson(4, n).astype(np.int64),
        priority=np.zeros(n, dtype=bool),
    )
    verticals = np.unique(frame.vertical)
    restricted = rng.random(t) < RESTRICTED_SHARE
    slots = rng.multinomial(int(slot_share * n), rng.dirichlet(np.ones(t))) + 1
    open_tasks = TaskFrame(
        ids=np.arange(1, t + 1, dtype=np.int64),
        kind=rng.integers(0, len(KINDS), t).astype(np.int64),
        verticals=[
            frozenset({int(rng.choice(verticals))}) if r else frozenset() for r in restricted
        ],
        stages=[frozenset() for _ in range(t)],
        min_followers=np.zeros(t, dtype=np.int64),
        max_followers=np.full(t, 2**62, dtype=np.int64),
        reward_fen=rng.gamma(2.0, 3_000.0, t).astype(np.int64) + 100,
        reward_impressions=np.zeros(t, dtype=np.int64),
        min_plays=np.zeros(t, dtype=np.int64),
        free=slots.astype(np.int64),
        in_priority=np.zeros(t, dtype=bool),
    )
    return TaskMarket(frame, open_tasks, truth)


def play_period(
    rng: np.random.Generator, market: TaskMarket, creator: Ints, task: Ints
) -> PeriodOutcome:
    """One period of the offers ``(creator[k], task[k])``, each creator's best first: creators
    come in a random order, go through their offers, accept as the truth says, take a slot if
    one is left and complete as the truth says (earning the reward)."""
    free = market.tasks.free.copy()
    reward = market.tasks.reward_fen
    accepts = rng.random(creator.shape[0]) < market.p_accept(creator, task)
    completes = rng.random(creator.shape[0]) < market.p_complete(creator, task)
    turn = rng.permutation(market.creators.ids.shape[0])[creator]
    away = taken = done = earned = 0
    for position in np.lexsort((np.arange(creator.shape[0]), turn)).tolist():
        if not accepts[position]:
            continue
        j = int(task[position])
        if free[j] <= 0:
            away += 1
            continue
        free[j] -= 1
        taken += 1
        if completes[position]:
            done += 1
            earned += int(reward[j])
    return PeriodOutcome(away, taken, done, earned)

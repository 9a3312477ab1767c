"""The auction engine: generalised second price with quality, the floor, ties; and pacing."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from guanghe.errors import InvalidInput
from guanghe.monetize.auction import (
    bid_ecpm,
    predicted_ctr,
    quality_factor,
    rank_bids,
    spend_cap_millifen,
)


def test_winner_pays_what_beats_the_runner_up_not_its_bid() -> None:
    ranking = rank_bids(np.array([4_000.0, 2_000.0, 3_000.0]), np.ones(3), floor_ecpm_fen=500)
    assert ranking.order.tolist() == [0, 2, 1]
    assert ranking.price_ecpm_fen.tolist() == [3_000, 2_000, 500]


def test_quality_lets_a_lower_bid_win_and_pay_less() -> None:
    # scores: 3000 * 1.5 = 4500 > 4000 * 1.0; the winner pays 4000 / 1.5 rounded up.
    ranking = rank_bids(np.array([4_000.0, 3_000.0]), np.array([1.0, 1.5]), floor_ecpm_fen=1)
    assert ranking.order.tolist() == [1, 0]
    assert ranking.price_ecpm_fen.tolist()[0] == 2_667


def test_bids_under_the_floor_do_not_take_part_and_ties_go_to_the_first() -> None:
    ranking = rank_bids(np.array([400.0, 900.0, 900.0]), np.ones(3), floor_ecpm_fen=500)
    assert ranking.order.tolist() == [1, 2]
    assert ranking.price_ecpm_fen.tolist() == [900, 500]


def test_cpc_bids_become_ecpm_through_predicted_ctr() -> None:
    ctr = predicted_ctr(np.array([0, 10_000]), np.array([0, 500]))
    assert ctr[0] == pytest.approx(0.02)
    assert ctr[1] == pytest.approx((500 + 10) / 10_500)
    assert bid_ecpm(["cpm", "cpc"], np.array([3_000, 100]), ctr).tolist() == pytest.approx(
        [3_000.0, 100 * ctr[1] * 1_000]
    )
    assert quality_factor(np.array([0.001, 0.02, 1.0])).tolist() == [0.5, 1.0, 2.0]


def test_bad_inputs_are_refused() -> None:
    with pytest.raises(InvalidInput):
        rank_bids(np.array([1.0]), np.array([0.0]), floor_ecpm_fen=0)
    with pytest.raises(InvalidInput):
        rank_bids(np.array([1.0, 2.0]), np.array([1.0]), floor_ecpm_fen=0)


@given(
    st.lists(st.tuples(st.floats(1, 100_000), st.floats(0.5, 2.0)), min_size=1, max_size=30),
    st.integers(0, 5_000),
)
def test_prices_are_between_floor_and_bid_and_the_best_score_wins(
    offers: list[tuple[float, float]], floor: int
) -> None:
    bids = np.array([b for b, _ in offers])
    quality = np.array([q for _, q in offers])
    ranking = rank_bids(bids, quality, floor_ecpm_fen=floor)
    taking_part = bids >= floor
    assert set(ranking.order.tolist()) == set(np.flatnonzero(taking_part).tolist())
    if ranking.order.size:
        assert bids[ranking.order[0]] * quality[ranking.order[0]] == pytest.approx(
            (bids * quality)[taking_part].max()
        )
    assert np.all(ranking.price_ecpm_fen >= floor)
    assert np.all(ranking.price_ecpm_fen <= np.ceil(bids[ranking.order] - 1e-9))
    scores = bids[ranking.order] * quality[ranking.order]
    assert np.all(np.diff(scores) <= 1e-9)


START = dt.datetime(2026, 11, 1, tzinfo=dt.UTC)
END = START + dt.timedelta(days=10)


def test_even_pacing_spreads_the_budget_over_the_schedule() -> None:
    cap = [
        spend_cap_millifen(1_000, START, END, START + dt.timedelta(days=d), "even")
        for d in (0, 1, 5, 10, 20)
    ]
    slack = 1_000_000 / 240  # one hour of a ten-day schedule
    assert cap[0] == pytest.approx(slack, abs=1)
    assert cap[1] == pytest.approx(100_000 + slack, abs=1)
    assert cap[2] == pytest.approx(500_000 + slack, abs=1)
    assert cap[3:] == [1_000_000, 1_000_000]
    assert spend_cap_millifen(1_000, START, END, START - dt.timedelta(days=1), "even") == 0
    assert spend_cap_millifen(1_000, START, END, START, "asap") == 1_000_000

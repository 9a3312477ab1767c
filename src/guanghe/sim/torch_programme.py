"""The demo's Torch programme: a week's budget for each institution level, so that the first
cycle solves institution pools and institutions have cash to reward their creators."""

from __future__ import annotations

import datetime as dt
from typing import Final

from sqlalchemy.orm import Session

from guanghe.institutions.pools import PoolRules
from guanghe.institutions.torch import BudgetLine, set_budgets

#: Cash (fen) and traffic (impressions) per institution of each level, for a week.
LEVEL_BUDGETS: Final = {
    "S": (500_000, 2_000_000),
    "A": (200_000, 800_000),
    "B": (80_000, 300_000),
    "C": (20_000, 100_000),
}


def seed_torch_programme(session: Session, day: dt.date, *, now: dt.datetime) -> None:
    """Budgets for the week from ``day``: per level, 20 % at least to new creators, at most
    25 % to one creator, two influential-author places per institution."""
    set_budgets(
        session,
        starts_on=day,
        ends_on=day + dt.timedelta(days=6),
        lines=[
            BudgetLine(f"level:{k}", cash, traffic) for k, (cash, traffic) in LEVEL_BUDGETS.items()
        ],
        rules=PoolRules(min_new_share_bp=2_000, max_creator_share_bp=2_500),
        nomination_slots=2,
        now=now,
    )

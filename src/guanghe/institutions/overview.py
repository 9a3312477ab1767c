"""Operators' view of the Torch programme by level: per service-provider level, how many
institutions and contracted creators it has, their mean results (the level metrics of their
latest judgement), and the programme's cash and traffic budgets covering a day with what was
spent of them; and the institutions behind those figures.

Each institution counts under its latest level judged for a month on or before the day
(``unjudged`` before any); its budget is its own, else its level's
(:func:`guanghe.institutions.torch.budget_on`); cash spent is what its rewards took from the
period's cash account, traffic delivered what the boost service delivered from its pool.
Everything is read in a handful of queries, whatever the number of institutions.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass
from typing import Final

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from guanghe.access import Principal
from guanghe.errors import Forbidden
from guanghe.institutions.levels import METRICS
from guanghe.institutions.support import pool_account
from guanghe.institutions.torch import cash_account
from guanghe.store import (
    INSTITUTION_LEVELS,
    Creator,
    Institution,
    InstitutionLevel,
    LedgerAccount,
    TorchBudget,
)

#: The label of institutions no level was judged for yet.
UNJUDGED: Final = "unjudged"


@dataclass(frozen=True, slots=True)
class InstitutionRow:
    """One institution's level, creators and Torch money on the day."""

    id: int
    name: str
    level: str
    creators: int
    metrics: dict[str, float]
    cash_budget_fen: int
    cash_spent_fen: int
    traffic_budget: int
    traffic_delivered: int


@dataclass(frozen=True, slots=True)
class LevelSummary:
    """The institutions of one level together (metrics: their means)."""

    level: str
    institutions: int
    creators: int
    mean_metrics: dict[str, float]
    cash_budget_fen: int
    cash_spent_fen: int
    traffic_budget: int
    traffic_delivered: int


@dataclass(frozen=True, slots=True)
class LevelsOverview:
    day: dt.date
    levels: list[LevelSummary]
    institutions: list[InstitutionRow]


def levels_overview(session: Session, principal: Principal, day: dt.date) -> LevelsOverview:
    """The programme by level on ``day`` (operators only: :class:`Forbidden` otherwise), levels
    best first, institutions by level then id."""
    if principal.role != "operator":
        raise Forbidden("the Torch programme by level is for operators")
    names = {int(i): str(n) for i, n in session.execute(select(Institution.id, Institution.name))}
    level, metrics = _latest_levels(session, day)
    creators = {
        int(i or 0): int(n)
        for i, n in session.execute(
            select(Creator.institution_id, func.count())
            .where(Creator.institution_id.is_not(None))
            .group_by(Creator.institution_id)
        )
    }
    budgets = _budgets(session, day)
    spent = _accounts(session)
    rows = []
    for institution_id in sorted(names):
        grade = level.get(institution_id, UNJUDGED)
        budget = budgets.get(f"institution:{institution_id}") or budgets.get(f"level:{grade}")
        cash = traffic = 0
        cash_spent = delivered = 0
        if budget is not None:
            cash, traffic = budget.cash_fen, budget.traffic_impressions
            cash_key = cash_account(institution_id, budget.starts_on)
            pool_key = pool_account(institution_id, budget.starts_on)
            cash_spent = spent.get((institution_id, cash_key.purpose), 0)
            delivered = spent.get((institution_id, pool_key.purpose), 0)
        rows.append(
            InstitutionRow(
                institution_id,
                names[institution_id],
                grade,
                int(creators.get(institution_id, 0)),
                metrics.get(institution_id, {}),
                cash,
                cash_spent,
                traffic,
                delivered,
            )
        )
    order = [*INSTITUTION_LEVELS, UNJUDGED]
    rows.sort(key=lambda r: (order.index(r.level), r.id))
    return LevelsOverview(
        day, [_summary(g, [r for r in rows if r.level == g]) for g in order], rows
    )


def _summary(level: str, rows: list[InstitutionRow]) -> LevelSummary:
    judged = [r.metrics for r in rows if r.metrics]
    means = {m: sum(r[m] for r in judged) / len(judged) for m in METRICS} if judged else {}
    return LevelSummary(
        level,
        len(rows),
        sum(r.creators for r in rows),
        means,
        sum(r.cash_budget_fen for r in rows),
        sum(r.cash_spent_fen for r in rows),
        sum(r.traffic_budget for r in rows),
        sum(r.traffic_delivered for r in rows),
    )


def _latest_levels(
    session: Session, day: dt.date
) -> tuple[dict[int, str], dict[int, dict[str, float]]]:
    rows = session.execute(
        select(InstitutionLevel.institution_id, InstitutionLevel.level, InstitutionLevel.metrics)
        .where(InstitutionLevel.month <= day.replace(day=1))
        .order_by(InstitutionLevel.institution_id, InstitutionLevel.month)
    )
    level: dict[int, str] = {}
    metrics: dict[int, dict[str, float]] = {}
    for institution_id, grade, document in rows:  # the latest month comes last
        level[institution_id] = grade
        found = document.get("metrics", {})
        metrics[institution_id] = {m: float(found.get(m, 0.0)) for m in METRICS}
    return level, metrics


def _budgets(session: Session, day: dt.date) -> dict[str, TorchBudget]:
    """The budget per target covering ``day`` (the latest-starting one of a target)."""
    found: dict[str, TorchBudget] = {}
    for row in session.scalars(
        select(TorchBudget)
        .where(TorchBudget.starts_on <= day, TorchBudget.ends_on >= day)
        .order_by(TorchBudget.starts_on)
    ):
        found[row.target] = row
    return found


def _accounts(session: Session) -> dict[tuple[int, str], int]:
    """Debits posted from every institution's Torch cash and traffic accounts."""
    a = LedgerAccount
    spent: dict[tuple[int, str], int] = defaultdict(int)
    for owner, purpose, debits in session.execute(
        select(a.owner_id, a.purpose, a.debits_posted).where(
            a.owner_kind == "institution",
            a.purpose.like("torch_%"),
        )
    ):
        spent[(int(owner), purpose)] += int(debits)
    return spent

"""The Torch programme: operators' budgets per level or institution and period (cash and
traffic), institutions' traffic preferences, cash rewards to their creators through the ledger
(never past the budget), and nominations of influential authors.

A level's budget is each institution's of that level (its level of the month the period
starts in, or its latest before); an institution's own budget replaces its level's.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from guanghe.access import Principal
from guanghe.errors import Conflict, InvalidInput, NotFound
from guanghe.institutions.contracts import check_acts_for_institution
from guanghe.institutions.pools import PoolRules
from guanghe.ledger import (
    AccountKey,
    TransferRequest,
    find_account,
    open_accounts,
    post_transfers,
)
from guanghe.ledger.settlement import earnings
from guanghe.notifications import NoticeDraft, notify_many
from guanghe.store import (
    INSTITUTION_LEVELS,
    AuthorNomination,
    Creator,
    Institution,
    InstitutionLevel,
    TorchBudget,
    TrafficPreference,
)

#: Where the programme's cash comes from (the platform's Torch funds).
TORCH_FUNDS = AccountKey("program", 0, "torch_cash", "CNY")


@dataclass(frozen=True, slots=True)
class BudgetLine:
    """One budget of a period: ``target`` is ``level:S`` or ``institution:12``."""

    target: str
    cash_fen: int
    traffic_impressions: int


@dataclass(frozen=True, slots=True)
class InstitutionBudget:
    """What one institution has for a period, and under which rules."""

    institution_id: int
    starts_on: dt.date
    ends_on: dt.date
    cash_fen: int
    traffic_impressions: int
    rules: PoolRules
    nomination_slots: int
    source: str  # the budget line's target


@dataclass(frozen=True, slots=True)
class Preference:
    creator_id: int
    weight: float
    guarantee_impressions: int


def set_budgets(
    session: Session,
    *,
    starts_on: dt.date,
    ends_on: dt.date,
    lines: Sequence[BudgetLine],
    rules: PoolRules,
    nomination_slots: int,
    now: dt.datetime,
) -> list[BudgetLine]:
    """Set the period's budgets (each replaces the same target's budget of that period)."""
    if ends_on < starts_on:
        raise InvalidInput("ends_on must not be before starts_on")
    if not 0 <= nomination_slots <= 10_000:
        raise InvalidInput("nomination_slots must be 0..10000")
    targets = [line.target for line in lines]
    if len(set(targets)) != len(targets):
        raise InvalidInput("a target appears twice")
    for line in lines:
        _check_target(session, line.target)
        if line.cash_fen < 0 or line.traffic_impressions < 0:
            raise InvalidInput(f"budget of {line.target} must not be negative")
        session.execute(
            delete(TorchBudget).where(
                TorchBudget.target == line.target, TorchBudget.starts_on == starts_on
            )
        )
        session.add(
            TorchBudget(
                target=line.target,
                starts_on=starts_on,
                ends_on=ends_on,
                cash_fen=line.cash_fen,
                traffic_impressions=line.traffic_impressions,
                min_new_share_bp=rules.min_new_share_bp,
                max_creator_share_bp=rules.max_creator_share_bp,
                nomination_slots=nomination_slots,
                created_at=now,
            )
        )
    session.flush()
    return list(lines)


def _check_target(session: Session, target: str) -> None:
    kind, _, value = target.partition(":")
    if kind == "level" and value in INSTITUTION_LEVELS:
        return
    if kind == "institution" and value.isdigit():
        if session.get(Institution, int(value)) is None:
            raise NotFound(f"institution {value} does not exist")
        return
    raise InvalidInput(f"budget target {target!r} must be level:S|A|B|C or institution:<id>")


def level_on(session: Session, institution_id: int, day: dt.date) -> str | None:
    """The institution's level for the month of ``day`` (or its latest before)."""
    return session.scalar(
        select(InstitutionLevel.level)
        .where(
            InstitutionLevel.institution_id == institution_id,
            InstitutionLevel.month <= day.replace(day=1),
        )
        .order_by(InstitutionLevel.month.desc())
        .limit(1)
    )


def budget_on(session: Session, institution_id: int, day: dt.date) -> InstitutionBudget | None:
    """The Torch budget covering ``day`` for the institution (its own, else its level's)."""
    targets = [f"institution:{institution_id}"]
    level = level_on(session, institution_id, day)
    if level is not None:
        targets.append(f"level:{level}")
    rows = session.scalars(
        select(TorchBudget).where(
            TorchBudget.target.in_(targets),
            TorchBudget.starts_on <= day,
            TorchBudget.ends_on >= day,
        )
    ).all()
    if not rows:
        return None
    row = min(rows, key=lambda r: (targets.index(r.target), -r.starts_on.toordinal()))
    return InstitutionBudget(
        institution_id,
        row.starts_on,
        row.ends_on,
        row.cash_fen,
        row.traffic_impressions,
        PoolRules(row.min_new_share_bp, row.max_creator_share_bp),
        row.nomination_slots,
        row.target,
    )


def set_preferences(
    session: Session,
    principal: Principal,
    institution_id: int,
    preferences: Sequence[Preference],
    *,
    day: dt.date,
    now: dt.datetime,
) -> list[Preference]:
    """Replace the institution's weights and guarantees for its creators; refused when a
    creator is not its own, or the guarantees break the rules of its budget covering ``day``."""
    check_acts_for_institution(session, principal, institution_id)
    ids = [p.creator_id for p in preferences]
    if len(set(ids)) != len(ids):
        raise InvalidInput("a creator appears twice")
    own = set(
        session.scalars(
            select(Creator.id).where(Creator.id.in_(ids), Creator.institution_id == institution_id)
        )
    )
    foreign = sorted(set(ids) - own)
    if foreign:
        raise NotFound(f"creator {foreign[0]} is not one of institution {institution_id}'s")
    _check_guarantees(session, institution_id, preferences, day)
    session.execute(
        delete(TrafficPreference).where(TrafficPreference.institution_id == institution_id)
    )
    session.add_all(
        TrafficPreference(
            institution_id=institution_id,
            creator_id=p.creator_id,
            weight=p.weight,
            guarantee_impressions=p.guarantee_impressions,
            updated_at=now,
        )
        for p in preferences
    )
    session.flush()
    return list(preferences)


def _check_guarantees(
    session: Session, institution_id: int, preferences: Sequence[Preference], day: dt.date
) -> None:
    for p in preferences:
        if not (0 <= p.weight < float("inf")) or p.guarantee_impressions < 0:
            raise InvalidInput(f"creator {p.creator_id}: weight and guarantee must be >= 0")
    budget = budget_on(session, institution_id, day)
    pool = budget.traffic_impressions if budget else 0
    most = pool * (budget.rules.max_creator_share_bp if budget else 0) // 10_000
    total = sum(p.guarantee_impressions for p in preferences)
    if total > pool:
        raise Conflict(f"guarantees sum to {total} impressions, more than the pool of {pool}")
    over = [p.creator_id for p in preferences if p.guarantee_impressions > most]
    if over:
        raise Conflict(
            f"creator {over[0]}'s guarantee is more than the most one creator may get ({most})"
        )


def preferences_of(session: Session, institution_id: int) -> list[Preference]:
    rows = session.scalars(
        select(TrafficPreference)
        .where(TrafficPreference.institution_id == institution_id)
        .order_by(TrafficPreference.creator_id)
    )
    return [Preference(r.creator_id, r.weight, r.guarantee_impressions) for r in rows]


def cash_account(institution_id: int, starts_on: dt.date) -> AccountKey:
    """The institution's Torch cash for the period starting ``starts_on`` (never negative)."""
    return AccountKey("institution", institution_id, f"torch_cash:{starts_on}", "CNY", "debits")


def reward_creator(
    session: Session,
    principal: Principal,
    institution_id: int,
    *,
    creator_id: int,
    amount_fen: int,
    key: str,
    day: dt.date,
    now: dt.datetime,
) -> str:
    """Pay one of the institution's creators a Torch reward from the period's cash budget
    (funded from :data:`TORCH_FUNDS` up to the budget first); 409 past the budget. Returns
    the ledger status (``created`` or ``exists`` for a replay of ``key``)."""
    check_acts_for_institution(session, principal, institution_id)
    creator = session.get(Creator, creator_id)
    if creator is None or creator.institution_id != institution_id:
        raise NotFound(f"creator {creator_id} is not one of institution {institution_id}'s")
    if amount_fen <= 0:
        raise InvalidInput("a reward is a positive amount of fen")
    budget = budget_on(session, institution_id, day)
    if budget is None or budget.cash_fen == 0:
        raise Conflict(f"institution {institution_id} has no Torch cash budget on {day}")
    cash = cash_account(institution_id, budget.starts_on)
    accounts = open_accounts(session, [TORCH_FUNDS, cash, earnings("creator", creator_id)], now=now)
    fund = TransferRequest(
        f"torch-cash:{institution_id}:{budget.starts_on}:{budget.cash_fen}",
        "torch_cash_budget",
        debit_account_id=accounts[TORCH_FUNDS],
        credit_account_id=accounts[cash],
        amount=_top_up(session, cash, budget.cash_fen),
        source=("torch_budget", f"{institution_id}:{budget.starts_on}:{budget.cash_fen}"),
    )
    reward = TransferRequest(
        f"torch-reward:{institution_id}:{key}",
        "torch_reward",
        debit_account_id=accounts[cash],
        credit_account_id=accounts[earnings("creator", creator_id)],
        amount=amount_fen,
        source=("torch_reward", f"{institution_id}:{key}"),
    )
    requests = [fund, reward] if fund.amount else [reward]
    results = post_transfers(session, requests, business_day=day, now=now)
    status = results[-1].status
    if not results[-1].ok:
        raise Conflict(f"reward refused by the ledger: {status} (the period's cash is spent)")
    notify_many(
        session,
        [
            NoticeDraft(
                creator_id,
                "reward",
                f"A Torch reward of {amount_fen / 100:.2f} CNY",
                f"Your institution rewarded you {amount_fen / 100:.2f} CNY from its Torch "
                "budget; it is in your earnings.",
                dedupe_key=f"torch-reward:{institution_id}:{key}",
                data={"institution_id": institution_id, "amount_fen": amount_fen},
            )
        ],
        now=now,
    )
    return str(status)


def _top_up(session: Session, cash: AccountKey, budget_fen: int) -> int:
    account = find_account(session, cash)
    funded = account.credits_posted if account else 0
    return max(budget_fen - funded, 0)


def nominate(
    session: Session,
    principal: Principal,
    institution_id: int,
    *,
    creator_id: int,
    starts_on: dt.date,
    now: dt.datetime,
) -> int:
    """Nominate one of the institution's creators as an influential author of the period."""
    check_acts_for_institution(session, principal, institution_id)
    creator = session.get(Creator, creator_id)
    if creator is None or creator.institution_id != institution_id:
        raise NotFound(f"creator {creator_id} is not one of institution {institution_id}'s")
    taken = session.scalar(
        select(AuthorNomination.id).where(
            AuthorNomination.creator_id == creator_id, AuthorNomination.starts_on == starts_on
        )
    )
    if taken is not None:
        raise Conflict(f"creator {creator_id} is already nominated for {starts_on} ({taken})")
    row = AuthorNomination(
        institution_id=institution_id, creator_id=creator_id, starts_on=starts_on, nominated_at=now
    )
    session.add(row)
    session.flush()
    return row.id


def decide_nomination(
    session: Session, nomination_id: int, *, approve: bool, now: dt.datetime
) -> str:
    """Operators approve (within the nomination slots of the institution's budget for the
    period) or reject a nomination."""
    row = session.get(AuthorNomination, nomination_id, with_for_update=True)
    if row is None:
        raise NotFound(f"nomination {nomination_id} does not exist")
    if row.status != "nominated":
        raise Conflict(f"nomination {nomination_id} is already {row.status}")
    if approve:
        budget = budget_on(session, row.institution_id, row.starts_on)
        slots = budget.nomination_slots if budget else 0
        approved = session.scalar(
            select(func.count()).where(
                AuthorNomination.institution_id == row.institution_id,
                AuthorNomination.starts_on == row.starts_on,
                AuthorNomination.status == "approved",
            )
        )
        if (approved or 0) >= slots:
            raise Conflict(f"the period's {slots} influential-author places are taken")
    row.status = "approved" if approve else "rejected"
    row.decided_at = now
    session.flush()
    return row.status


def approved_authors(session: Session, day: dt.date) -> set[int]:
    """Creators approved as influential authors for a period covering ``day`` (the traffic
    bonus of their institution's pool and the badge in their growth rights)."""
    rows = session.execute(
        select(
            AuthorNomination.creator_id, AuthorNomination.institution_id, AuthorNomination.starts_on
        ).where(AuthorNomination.status == "approved", AuthorNomination.starts_on <= day)
    ).all()
    found = set()
    for creator_id, institution_id, starts_on in rows:
        budget = budget_on(session, institution_id, starts_on)
        if budget is not None and budget.ends_on >= day:
            found.add(int(creator_id))
    return found


def is_influential_author(session: Session, creator_id: int, day: dt.date) -> bool:
    """Whether the creator is an approved influential author on ``day`` (see
    :func:`approved_authors`)."""
    rows = session.execute(
        select(AuthorNomination.institution_id, AuthorNomination.starts_on).where(
            AuthorNomination.creator_id == creator_id,
            AuthorNomination.status == "approved",
            AuthorNomination.starts_on <= day,
        )
    ).all()
    return any(
        (budget := budget_on(session, institution_id, starts_on)) is not None
        and budget.ends_on >= day
        for institution_id, starts_on in rows
    )

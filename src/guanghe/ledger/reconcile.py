"""Reconciliation: recompute every account from its transfers and check every invariant."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

from sqlalchemy import and_, func, select
from sqlalchemy.orm import Session, aliased

from guanghe.ledger.accounts import Account, account_from_row, select_accounts
from guanghe.store import LedgerAccount, LedgerTransfer


@dataclass(frozen=True, slots=True)
class Discrepancy:
    """One broken invariant: which rule, and what is off."""

    rule: str
    detail: str


def reconcile(session: Session) -> list[Discrepancy]:
    """Every invariant violation in the ledger; an empty list when the books are right.

    Checks, per unit, that debits equal credits (posted and pending); per account, that the
    cached totals equal the sums of its transfers and that limited accounts are within their
    limits; per transfer, that units match its accounts, that resolutions and reversals do not
    exceed what they resolve or reverse, and that no source event is paid twice for one code.
    """
    accounts = {a.id: a for a in (account_from_row(r) for r in session.execute(select_accounts()))}
    found: list[Discrepancy] = []
    found += _unit_balance(accounts)
    found += _totals_match_transfers(session, accounts)
    found += _limits_hold(accounts)
    found += _transfers_consistent(session)
    return found


def _unit_balance(accounts: dict[int, Account]) -> list[Discrepancy]:
    sums: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0, 0])
    for a in accounts.values():
        s = sums[a.unit]
        s[0] += a.debits_posted
        s[1] += a.credits_posted
        s[2] += a.debits_pending
        s[3] += a.credits_pending
    return [
        Discrepancy(
            "debits_equal_credits",
            f"{unit}: debits {s[0]} posted / {s[2]} pending, "
            f"credits {s[1]} posted / {s[3]} pending",
        )
        for unit, s in sorted(sums.items())
        if s[0] != s[1] or s[2] != s[3]
    ]


def _totals_match_transfers(session: Session, accounts: dict[int, Account]) -> list[Discrepancy]:
    t, resolution = LedgerTransfer, aliased(LedgerTransfer)
    posted = t.kind.in_(("posted", "post_pending"))
    open_pending = and_(t.kind == "pending", resolution.id.is_(None))
    expected: dict[int, list[int]] = defaultdict(lambda: [0, 0, 0, 0])
    for side, column in ((0, t.debit_account_id), (2, t.credit_account_id)):
        rows = session.execute(
            select(
                column,
                func.coalesce(func.sum(t.amount).filter(posted), 0),
                func.coalesce(func.sum(t.amount).filter(open_pending), 0),
            )
            .outerjoin(resolution, resolution.pending_id == t.id)
            .group_by(column)
        )
        for account_id, posted_sum, pending_sum in rows:
            expected[int(account_id)][side] = int(posted_sum)
            expected[int(account_id)][side + 1] = int(pending_sum)
    found = []
    for account_id, a in sorted(accounts.items()):
        want = expected.get(account_id, [0, 0, 0, 0])
        have = [a.debits_posted, a.debits_pending, a.credits_posted, a.credits_pending]
        if have != want:
            found.append(
                Discrepancy(
                    "totals_equal_transfers",
                    f"account {account_id}: cached debits/credits posted+pending {have}, "
                    f"transfers say {want}",
                )
            )
    return found


def _limits_hold(accounts: dict[int, Account]) -> list[Discrepancy]:
    found = []
    for a in accounts.values():
        if a.limit == "debits" and a.debits_posted + a.debits_pending > a.credits_posted:
            found.append(Discrepancy("limit", f"account {a.id} debits exceed credits"))
        if a.limit == "credits" and a.credits_posted + a.credits_pending > a.debits_posted:
            found.append(Discrepancy("limit", f"account {a.id} credits exceed debits"))
    return found


def _transfers_consistent(session: Session) -> list[Discrepancy]:
    t, target = LedgerTransfer, aliased(LedgerTransfer)
    debit, credit = aliased(LedgerAccount), aliased(LedgerAccount)
    found = [
        Discrepancy("unit", f"transfer {tid} in {unit} between {du} and {cu} accounts")
        for tid, unit, du, cu in session.execute(
            select(t.id, t.unit, debit.unit, credit.unit)
            .join(debit, debit.id == t.debit_account_id)
            .join(credit, credit.id == t.credit_account_id)
            .where((t.unit != debit.unit) | (t.unit != credit.unit))
        )
    ]
    found += [
        Discrepancy("resolution", f"transfer {tid} resolves {pid} for {amount} of {limit}")
        for tid, pid, amount, limit in session.execute(
            select(t.id, t.pending_id, t.amount, target.amount)
            .join(target, target.id == t.pending_id)
            .where((t.amount > target.amount) | (target.kind != "pending"))
        )
    ]
    found += [
        Discrepancy("reversal", f"transfer {tid} reverses {rid} for {amount} of {limit}")
        for tid, rid, amount, limit in session.execute(
            select(t.id, t.reversal_of, t.amount, target.amount)
            .join(target, target.id == t.reversal_of)
            .where(t.amount > target.amount)
        )
    ]
    found += [
        Discrepancy("source_paid_once", f"source {kind}:{sid} paid {n} times for {code}")
        for kind, sid, code, n in session.execute(
            select(t.source_kind, t.source_id, t.code, func.count())
            .where(t.source_kind.is_not(None))
            .group_by(t.source_kind, t.source_id, t.code)
            .having(func.count() > 1)
        )
    ]
    return found

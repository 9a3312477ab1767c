"""Ledger accounts: opened once per owner, purpose and unit; balances read from cached totals."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

from sqlalchemy import Select, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from guanghe.errors import InvalidInput, NotFound
from guanghe.store import OWNER_KINDS, UNITS, LedgerAccount, member_of, select_rows

#: ``debits`` — the balance (credits − debits) may not go negative: what the owner holds.
#: ``credits`` — the mirror (debits − credits may not go negative), for liability sources.
Limit = Literal["none", "debits", "credits"]


@dataclass(frozen=True, slots=True)
class Account:
    """An account and its totals; ``balance`` is credits posted minus debits posted."""

    id: int
    owner_kind: str
    owner_id: int
    purpose: str
    unit: str
    limit: Limit
    debits_pending: int
    debits_posted: int
    credits_pending: int
    credits_posted: int

    @property
    def balance(self) -> int:
        return self.credits_posted - self.debits_posted

    @property
    def available(self) -> int:
        """What can still be debited: the balance less pending debits."""
        return self.credits_posted - self.debits_posted - self.debits_pending


def open_account(
    session: Session,
    *,
    owner_kind: str,
    owner_id: int,
    purpose: str,
    unit: str,
    limit: Limit = "none",
    now: dt.datetime,
) -> Account:
    """The account of ``(owner_kind, owner_id, purpose, unit)``, created if it does not exist.

    Safe under concurrent callers (insert-or-ignore). Raises :class:`InvalidInput` for an
    unknown owner kind or unit, or if the account exists with a different limit.
    """
    if owner_kind not in OWNER_KINDS:
        raise InvalidInput(f"unknown owner kind {owner_kind!r}; expected one of {OWNER_KINDS}")
    if unit not in UNITS:
        raise InvalidInput(f"unknown unit {unit!r}; expected one of {UNITS}")
    if limit not in ("none", "debits", "credits"):
        raise InvalidInput(f"unknown limit {limit!r}")
    if not purpose or len(purpose) > 40:
        raise InvalidInput("an account purpose is 1 to 40 characters")
    values = {
        "owner_kind": owner_kind,
        "owner_id": owner_id,
        "purpose": purpose,
        "unit": unit,
        "debits_within_credits": limit == "debits",
        "credits_within_debits": limit == "credits",
        "debits_pending": 0,
        "debits_posted": 0,
        "credits_pending": 0,
        "credits_posted": 0,
        "created_at": now,
    }
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    session.execute(insert(LedgerAccount).values(values).on_conflict_do_nothing())
    row = session.execute(
        select_accounts().where(
            LedgerAccount.owner_kind == owner_kind,
            LedgerAccount.owner_id == owner_id,
            LedgerAccount.purpose == purpose,
            LedgerAccount.unit == unit,
        )
    ).one()
    account = account_from_row(row)
    if account.limit != limit:
        raise InvalidInput(f"account {account.id} exists with limit {account.limit!r}")
    return account


@dataclass(frozen=True, slots=True)
class AccountKey:
    """What identifies an account: owner, purpose and unit (and the limit it is opened with)."""

    owner_kind: str
    owner_id: int
    purpose: str
    unit: str
    limit: Limit = "none"


def open_accounts(
    session: Session, keys: Sequence[AccountKey], *, now: dt.datetime
) -> dict[AccountKey, int]:
    """Ids of the accounts of ``keys``, creating those that do not exist (in bulk). Raises
    :class:`InvalidInput` if one exists with another limit than its key's."""
    return open_account_groups(session, [keys], now=now)


def open_account_groups(
    session: Session, groups: Sequence[Sequence[AccountKey]], *, now: dt.datetime
) -> dict[AccountKey, int]:
    """Ids of the accounts of every group's keys, those missing created as calling
    :func:`open_accounts` on each group in turn creates them (in the same order, so with the
    same ids), with one lookup and one insert for all."""
    wanted = list(dict.fromkeys(k for group in groups for k in sorted(set(group), key=_order)))
    found = _account_ids(session, wanted)
    missing = [k for k in wanted if k not in found]
    if not missing:  # the usual case: only reads, no insert statement built per key
        return found
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    session.execute(
        insert(LedgerAccount).on_conflict_do_nothing(),
        [
            {
                "owner_kind": k.owner_kind,
                "owner_id": k.owner_id,
                "purpose": k.purpose,
                "unit": k.unit,
                "debits_within_credits": k.limit == "debits",
                "credits_within_debits": k.limit == "credits",
                "debits_pending": 0,
                "debits_posted": 0,
                "credits_pending": 0,
                "credits_posted": 0,
                "created_at": now,
            }
            for k in missing
        ],
    )
    return found | _account_ids(session, missing)


def _order(key: AccountKey) -> tuple[str, int, str, str]:
    return key.owner_kind, key.owner_id, key.purpose, key.unit


def _account_ids(session: Session, wanted: Sequence[AccountKey]) -> dict[AccountKey, int]:
    """Ids of the accounts of ``wanted`` that exist; :class:`InvalidInput` if one exists with
    another limit than its key's."""
    found: dict[AccountKey, int] = {}
    by_kind: dict[str, set[int]] = {}
    for k in wanted:
        by_kind.setdefault(k.owner_kind, set()).add(k.owner_id)
    lookup = {(k.owner_kind, k.owner_id, k.purpose, k.unit): k for k in wanted}
    for kind, owners in by_kind.items():
        rows = select_rows(
            session,
            select(
                LedgerAccount.id,
                LedgerAccount.owner_id,
                LedgerAccount.purpose,
                LedgerAccount.unit,
                LedgerAccount.debits_within_credits,
                LedgerAccount.credits_within_debits,
            ).where(
                LedgerAccount.owner_kind == kind,
                member_of(session, LedgerAccount.owner_id, sorted(owners)),
            ),
        )
        for account_id, owner_id, purpose, unit, debits_limited, credits_limited in rows:
            key = lookup.get((kind, owner_id, purpose, unit))
            if key is not None:
                limit = _limit(debits_limited, credits_limited)
                if limit != key.limit:
                    raise InvalidInput(f"account {account_id} exists with limit {limit!r}")
                found[key] = account_id
    return found


def find_accounts(session: Session, keys: Sequence[AccountKey]) -> dict[AccountKey, Account]:
    """The accounts of ``keys`` that exist (none is created), by key; the limit in a key is
    not part of what is looked up."""
    wanted: dict[tuple[str, int, str, str], list[AccountKey]] = {}
    for k in keys:
        wanted.setdefault((k.owner_kind, k.owner_id, k.purpose, k.unit), []).append(k)
    found: dict[AccountKey, Account] = {}
    by_kind: dict[str, set[int]] = {}
    for kind, owner, _, _ in wanted:
        by_kind.setdefault(kind, set()).add(owner)
    for kind, owners in sorted(by_kind.items()):
        rows = select_rows(
            session,
            select_accounts().where(
                LedgerAccount.owner_kind == kind,
                member_of(session, LedgerAccount.owner_id, sorted(owners)),
            ),
        )
        for account in map(account_from_row, rows):
            named = (account.owner_kind, account.owner_id, account.purpose, account.unit)
            for key in wanted.get(named, ()):
                found[key] = account
    return found


def find_account(session: Session, key: AccountKey) -> Account | None:
    """The account of ``key``, or None if it was never opened."""
    return find_accounts(session, [key]).get(key)


def lock_accounts(session: Session, account_ids: Sequence[int]) -> dict[int, Account]:
    """The accounts of ``account_ids``, locked for the rest of the writer transaction (in id
    order, as posting locks them), so that their balances hold until it commits."""
    rows = session.execute(
        select_accounts()
        .where(member_of(session, LedgerAccount.id, sorted(set(account_ids))))
        .order_by(LedgerAccount.id)
        .with_for_update()
    )
    return {a.id: a for a in map(account_from_row, rows)}


def get_account(session: Session, account_id: int) -> Account:
    """One account; :class:`NotFound` if it does not exist."""
    row = session.execute(select_accounts().where(LedgerAccount.id == account_id)).one_or_none()
    if row is None:
        raise NotFound(f"ledger account {account_id} does not exist")
    return account_from_row(row)


def list_accounts(
    session: Session, *, owner_kind: str | None = None, owner_id: int | None = None
) -> list[Account]:
    """Accounts, optionally of one owner, in id order."""
    query = select_accounts().order_by(LedgerAccount.id)
    if owner_kind is not None:
        query = query.where(LedgerAccount.owner_kind == owner_kind)
    if owner_id is not None:
        query = query.where(LedgerAccount.owner_id == owner_id)
    return [account_from_row(row) for row in session.execute(query)]


def select_accounts() -> Select[*tuple[Any, ...]]:
    """The columns an :class:`Account` is built from."""
    return select(
        LedgerAccount.id,
        LedgerAccount.owner_kind,
        LedgerAccount.owner_id,
        LedgerAccount.purpose,
        LedgerAccount.unit,
        LedgerAccount.debits_within_credits,
        LedgerAccount.credits_within_debits,
        LedgerAccount.debits_pending,
        LedgerAccount.debits_posted,
        LedgerAccount.credits_pending,
        LedgerAccount.credits_posted,
    )


def account_from_row(row: Sequence[Any]) -> Account:
    """The account of a row of :func:`select_accounts`' columns (by position: a result row's
    mapping costs more than the rest of the account)."""
    (
        account_id,
        owner_kind,
        owner_id,
        purpose,
        unit,
        debits_within_credits,
        credits_within_debits,
        debits_pending,
        debits_posted,
        credits_pending,
        credits_posted,
    ) = row
    return Account(
        id=int(account_id),
        owner_kind=str(owner_kind),
        owner_id=int(owner_id),
        purpose=str(purpose),
        unit=str(unit),
        limit=_limit(debits_within_credits, credits_within_debits),
        debits_pending=int(debits_pending),
        debits_posted=int(debits_posted),
        credits_pending=int(credits_pending),
        credits_posted=int(credits_posted),
    )


def _limit(debits_within_credits: object, credits_within_debits: object) -> Limit:
    return "debits" if debits_within_credits else "credits" if credits_within_debits else "none"

"""Posting transfers: idempotent, two-phase, linked, checked against account limits.

Every request carries the caller's idempotency ``key``. A key seen before with the same content
answers ``exists`` with the original transfer; with other content, ``exists_with_different_
content``. Balances are changed only in the same transaction as the transfers that explain them,
with the touched accounts locked in id order (``SELECT … FOR UPDATE`` on PostgreSQL; SQLite has
one writer at a time, see :func:`guanghe.store.writer_engine`).

Lock requirement: call inside a writer transaction; :func:`post_batch` opens one and retries
it on unique-key races, deadlocks and serialization failures.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from typing import Literal

from sqlalchemy import bindparam, insert, select, tuple_, update
from sqlalchemy.orm import Session

from guanghe.ledger.accounts import account_from_row, select_accounts
from guanghe.store import LedgerAccount, LedgerTransfer

Kind = Literal["posted", "pending", "post_pending", "void_pending"]
_CHUNK = 500


@dataclass(frozen=True, slots=True)
class TransferRequest:
    """One transfer to post.

    ``posted`` and ``pending`` name both accounts and the amount. ``post_pending`` and
    ``void_pending`` name the pending transfer's key in ``pending_key`` (a post may post less
    than was reserved; the rest is released). A reversal is a ``posted`` transfer with
    ``reverses_key`` set: it moves (part of) a posted amount back, at most once per transfer.
    ``source`` is the business event paid for, e.g. ``("order", "8812")``: the store allows one
    transfer per source and code. Adjustments (code ``adjustment``) must name ``actor`` and give
    the reason in ``memo``.
    """

    key: str
    code: str
    kind: Kind = "posted"
    debit_account_id: int | None = None
    credit_account_id: int | None = None
    amount: int | None = None
    pending_key: str | None = None
    reverses_key: str | None = None
    source: tuple[str, str] | None = None
    memo: str = ""
    actor: str | None = None


@dataclass(frozen=True, slots=True)
class TransferResult:
    """What became of one request: ``created``, ``exists`` or an error code."""

    key: str
    status: str
    transfer_id: int | None = None

    @property
    def ok(self) -> bool:
        return self.status in ("created", "exists")


@dataclass(slots=True)
class _Totals:
    debits_pending: int
    debits_posted: int
    credits_pending: int
    credits_posted: int
    limit: str
    unit: str
    changed: bool = False


@dataclass(slots=True)
class _Row:
    """A transfer row about to be inserted (or one read back)."""

    key: str
    kind: str
    debit_account_id: int
    credit_account_id: int
    amount: int
    unit: str
    code: str
    pending_id: int | None = None
    reversal_of: int | None = None
    source_kind: str | None = None
    source_id: str | None = None
    actor: str | None = None
    memo: str = ""
    id: int | None = None
    refs: dict[str, str] = field(default_factory=dict)  # column → key of an in-batch transfer


def post_transfers(
    session: Session,
    requests: Sequence[TransferRequest],
    *,
    linked: bool = False,
    batch: str | None = None,
    now: dt.datetime,
) -> list[TransferResult]:
    """Post ``requests`` in order and return one result each.

    With ``linked``, all succeed or none is written (the failing one reports its error, the
    others ``linked_event_failed``). Without, each stands alone.
    """
    referenced = _transfers_by_key(
        session, {k for r in requests for k in (r.pending_key, r.reverses_key) if k}
    )
    accounts = _lock_accounts(session, requests, referenced)
    existing = _transfers_by_key(session, {r.key for r in requests})
    resolved = _already_resolved(session, referenced)
    sources = _sources_taken(session, requests)

    rows: list[_Row] = []
    results: list[TransferResult] = []
    staged: dict[str, _Row] = {}
    for request in requests:
        status, row = _check(request, accounts, existing, referenced, staged, resolved, sources)
        if row is not None:
            rows.append(row)
            staged[request.key] = row
            _apply(row, accounts, referenced, staged)
        prior = existing.get(request.key)
        results.append(TransferResult(request.key, status, prior.id if prior else None))
    if linked and not all(r.ok for r in results):
        return [
            r if not r.ok else replace(r, status="linked_event_failed", transfer_id=None)
            for r in results
        ]
    _insert(session, rows, batch, now)
    _write_totals(session, accounts)
    ids = {row.key: row.id for row in rows}
    return [replace(r, transfer_id=ids.get(r.key, r.transfer_id)) for r in results]


def _check(
    request: TransferRequest,
    accounts: dict[int, _Totals],
    existing: dict[str, _Row],
    referenced: dict[str, _Row],
    staged: dict[str, _Row],
    resolved: set[int],
    sources: set[tuple[str, str, str]],
) -> tuple[str, _Row | None]:
    """The request's status, and the row to insert when it is new and valid."""
    prior = existing.get(request.key) or staged.get(request.key)
    if prior is not None:
        row = _resolve(request, accounts, referenced, staged)
        same = isinstance(row, _Row) and _same_content(row, prior)
        return ("exists" if same else "exists_with_different_content"), None
    if not request.key or len(request.key) > 160:
        return "key_must_be_1_to_160_characters", None
    if request.code == "adjustment" and not (request.actor and request.memo):
        return "adjustment_needs_actor_and_memo", None
    row = _resolve(request, accounts, referenced, staged)
    if isinstance(row, str):
        return row, None
    if row.pending_id in resolved or _resolved_in_batch(row, staged, "pending_id"):
        return "pending_already_resolved", None
    if row.reversal_of in resolved or _resolved_in_batch(row, staged, "reversal_of"):
        return "already_reversed", None
    if request.source is not None:
        triple = (request.source[0], request.source[1], request.code)
        if triple in sources:
            return "source_already_paid", None
        if any((s.source_kind, s.source_id, s.code) == triple for s in staged.values()):
            return "source_already_paid", None
    limit_error = _limit_error(row, accounts, referenced, staged)
    if limit_error:
        return limit_error, None
    return "created", row


def _resolve(
    request: TransferRequest,
    accounts: dict[int, _Totals],
    referenced: dict[str, _Row],
    staged: dict[str, _Row],
) -> _Row | str:
    """The row a request stands for, or the error code that makes it impossible."""
    if request.kind in ("post_pending", "void_pending"):
        if not request.pending_key:
            return "pending_key_required"
        pending = staged.get(request.pending_key) or referenced.get(request.pending_key)
        if pending is None or pending.kind != "pending":
            return "pending_not_found"
        amount = (
            pending.amount
            if request.amount is None or request.kind == "void_pending"
            else request.amount
        )
        if amount <= 0:
            return "amount_must_be_positive"
        if amount > pending.amount:
            return "amount_exceeds_pending"
        row = _new_row(
            request, pending.debit_account_id, pending.credit_account_id, amount, pending.unit
        )
        row.pending_id = pending.id
        if pending.id is None:
            row.refs["pending_id"] = pending.key
        return row
    if request.kind not in ("posted", "pending"):
        return "kind_unknown"
    if request.reverses_key:
        if request.kind != "posted":
            return "reversal_must_be_posted"
        original = staged.get(request.reverses_key) or referenced.get(request.reverses_key)
        if original is None:
            return "transfer_not_found"
        if (
            original.kind not in ("posted", "post_pending")
            or original.reversal_of is not None
            or "reversal_of" in original.refs
        ):
            return "cannot_reverse_this_transfer"
        amount = original.amount if request.amount is None else request.amount
        if amount <= 0:
            return "amount_must_be_positive"
        if amount > original.amount:
            return "amount_exceeds_original"
        row = _new_row(
            request, original.credit_account_id, original.debit_account_id, amount, original.unit
        )
        row.reversal_of = original.id
        if original.id is None:
            row.refs["reversal_of"] = original.key
        return row
    if request.debit_account_id is None or request.credit_account_id is None:
        return "accounts_required"
    if request.amount is None or request.amount <= 0:
        return "amount_must_be_positive"
    if request.debit_account_id == request.credit_account_id:
        return "accounts_must_differ"
    debit = accounts.get(request.debit_account_id)
    credit = accounts.get(request.credit_account_id)
    if debit is None or credit is None:
        return "account_not_found"
    if debit.unit != credit.unit:
        return "units_differ"
    return _new_row(
        request, request.debit_account_id, request.credit_account_id, request.amount, debit.unit
    )


def _new_row(request: TransferRequest, debit: int, credit: int, amount: int, unit: str) -> _Row:
    source_kind, source_id = request.source if request.source else (None, None)
    return _Row(
        key=request.key,
        kind=request.kind,
        debit_account_id=debit,
        credit_account_id=credit,
        amount=amount,
        unit=unit,
        code=request.code,
        source_kind=source_kind,
        source_id=source_id,
        actor=request.actor,
        memo=request.memo,
    )


def _resolved_in_batch(row: _Row, staged: dict[str, _Row], column: str) -> bool:
    """Whether another row of this batch already resolves (or reverses) the same transfer."""
    target_key, target_id = row.refs.get(column), getattr(row, column)
    return any(
        (target_key is not None and other.refs.get(column) == target_key)
        or (target_id is not None and getattr(other, column) == target_id)
        for other in staged.values()
    )


def _same_content(new: _Row, old: _Row) -> bool:
    fields = (
        "kind",
        "debit_account_id",
        "credit_account_id",
        "amount",
        "unit",
        "code",
        "source_kind",
        "source_id",
        "actor",
        "memo",
    )
    if any(getattr(new, f) != getattr(old, f) for f in fields):
        return False
    return (new.pending_id, new.reversal_of, new.refs) == (
        old.pending_id,
        old.reversal_of,
        old.refs,
    )


def _deltas(row: _Row, referenced: dict[str, _Row], staged: dict[str, _Row]) -> tuple[int, int]:
    """(pending change, posted change) the row makes to both of its accounts."""
    if row.kind == "posted":
        return 0, row.amount
    if row.kind == "pending":
        return row.amount, 0
    pending = _pending_of(row, referenced, staged)
    released = -pending.amount
    return released, (row.amount if row.kind == "post_pending" else 0)


def _pending_of(row: _Row, referenced: dict[str, _Row], staged: dict[str, _Row]) -> _Row:
    if "pending_id" in row.refs:
        return staged[row.refs["pending_id"]]
    return next(r for r in (*referenced.values(), *staged.values()) if r.id == row.pending_id)


def _limit_error(
    row: _Row, accounts: dict[int, _Totals], referenced: dict[str, _Row], staged: dict[str, _Row]
) -> str | None:
    pending, posted = _deltas(row, referenced, staged)
    debit, credit = accounts[row.debit_account_id], accounts[row.credit_account_id]
    if debit.limit == "debits" and (
        debit.debits_pending + pending + debit.debits_posted + posted > debit.credits_posted
    ):
        return "exceeds_credits"
    if credit.limit == "credits" and (
        credit.credits_pending + pending + credit.credits_posted + posted > credit.debits_posted
    ):
        return "exceeds_debits"
    return None


def _apply(
    row: _Row, accounts: dict[int, _Totals], referenced: dict[str, _Row], staged: dict[str, _Row]
) -> None:
    pending, posted = _deltas(row, referenced, staged)
    debit, credit = accounts[row.debit_account_id], accounts[row.credit_account_id]
    debit.debits_pending += pending
    debit.debits_posted += posted
    credit.credits_pending += pending
    credit.credits_posted += posted
    debit.changed = credit.changed = True


def _transfers_by_key(session: Session, keys: Iterable[str]) -> dict[str, _Row]:
    found: dict[str, _Row] = {}
    wanted = sorted(set(keys))
    t = LedgerTransfer
    for start in range(0, len(wanted), _CHUNK):
        chunk = wanted[start : start + _CHUNK]
        for m in session.execute(
            select(
                t.id,
                t.key,
                t.kind,
                t.debit_account_id,
                t.credit_account_id,
                t.amount,
                t.unit,
                t.code,
                t.pending_id,
                t.reversal_of,
                t.source_kind,
                t.source_id,
                t.actor,
                t.memo,
            ).where(t.key.in_(chunk))
        ).mappings():
            found[m["key"]] = _Row(**m)
    return found


def _lock_accounts(
    session: Session, requests: Sequence[TransferRequest], referenced: dict[str, _Row]
) -> dict[int, _Totals]:
    ids = {i for r in requests for i in (r.debit_account_id, r.credit_account_id) if i is not None}
    ids |= {i for r in referenced.values() for i in (r.debit_account_id, r.credit_account_id)}
    accounts: dict[int, _Totals] = {}
    ordered = sorted(ids)
    for start in range(0, len(ordered), _CHUNK):
        chunk = ordered[start : start + _CHUNK]
        query = select_accounts().where(LedgerAccount.id.in_(chunk)).order_by(LedgerAccount.id)
        for row in session.execute(query.with_for_update()):
            account = account_from_row(row)
            accounts[account.id] = _Totals(
                account.debits_pending,
                account.debits_posted,
                account.credits_pending,
                account.credits_posted,
                account.limit,
                account.unit,
            )
    return accounts


def _already_resolved(session: Session, referenced: dict[str, _Row]) -> set[int]:
    """Ids of referenced transfers already posted/voided (pending) or reversed."""
    ids = [r.id for r in referenced.values() if r.id is not None]
    if not ids:
        return set()
    t = LedgerTransfer
    done: set[int] = set()
    for start in range(0, len(ids), _CHUNK):
        chunk = ids[start : start + _CHUNK]
        for pending_id, reversal_of in session.execute(
            select(t.pending_id, t.reversal_of).where(
                t.pending_id.in_(chunk) | t.reversal_of.in_(chunk)
            )
        ):
            done.update(i for i in (pending_id, reversal_of) if i is not None)
    return done


def _sources_taken(
    session: Session, requests: Sequence[TransferRequest]
) -> set[tuple[str, str, str]]:
    wanted = sorted({(r.source[0], r.source[1], r.code) for r in requests if r.source})
    taken: set[tuple[str, str, str]] = set()
    t = LedgerTransfer
    for start in range(0, len(wanted), _CHUNK):
        chunk = wanted[start : start + _CHUNK]
        rows = session.execute(
            select(t.source_kind, t.source_id, t.code).where(
                tuple_(t.source_kind, t.source_id, t.code).in_(chunk)
            )
        )
        taken.update((str(k), str(i), str(c)) for k, i, c in rows)
    return taken


def _insert(session: Session, rows: list[_Row], batch: str | None, now: dt.datetime) -> None:
    """Insert in waves, so a row referring to an in-batch transfer gets that transfer's id."""
    waiting = rows
    while waiting:
        ready = [r for r in waiting if not r.refs]
        later = [r for r in waiting if r.refs]
        values = [
            {
                "key": r.key,
                "kind": r.kind,
                "debit_account_id": r.debit_account_id,
                "credit_account_id": r.credit_account_id,
                "amount": r.amount,
                "unit": r.unit,
                "code": r.code,
                "pending_id": r.pending_id,
                "reversal_of": r.reversal_of,
                "batch": batch,
                "source_kind": r.source_kind,
                "source_id": r.source_id,
                "actor": r.actor,
                "memo": r.memo,
                "created_at": now,
            }
            for r in ready
        ]
        if values:
            ids = (
                session.execute(
                    insert(LedgerTransfer).returning(
                        LedgerTransfer.id, sort_by_parameter_order=True
                    ),
                    values,
                )
                .scalars()
                .all()
            )
            for row, new_id in zip(ready, ids, strict=True):
                row.id = new_id
        by_key = {r.key: r for r in rows}
        for row in later:
            for column, key in list(row.refs.items()):
                target = by_key[key]
                if target.id is not None:
                    setattr(row, column, target.id)
                    del row.refs[column]
        waiting = later


def _write_totals(session: Session, accounts: dict[int, _Totals]) -> None:
    changed = [
        {
            "account_id": account_id,
            "dp": a.debits_pending,
            "dq": a.debits_posted,
            "cp": a.credits_pending,
            "cq": a.credits_posted,
        }
        for account_id, a in accounts.items()
        if a.changed
    ]
    if changed:
        session.connection().execute(
            update(LedgerAccount)
            .where(LedgerAccount.id == bindparam("account_id"))
            .values(
                debits_pending=bindparam("dp"),
                debits_posted=bindparam("dq"),
                credits_pending=bindparam("cp"),
                credits_posted=bindparam("cq"),
            ),
            changed,
        )

"""Posting transfers: idempotent, two-phase, linked, checked against account limits.

Every request carries the caller's idempotency ``key``. A key seen before with the same content
answers ``exists`` with the original transfer; with other content, ``exists_with_different_
content``. Balances are changed only in the same transaction as the transfers that explain them,
with the touched accounts locked in id order (``SELECT … FOR UPDATE`` on PostgreSQL; SQLite has
one writer at a time, see :func:`guanghe.store.writer_engine`). A transfer that would take
either account's debits or credits (pending plus posted) past :data:`MAX_TOTAL` is refused
(``overflows_totals``), as one past a balance limit is.

Lock requirement: call inside a writer transaction; :func:`post_batch` opens one and retries
it on unique-key races, deadlocks and serialization failures.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from enum import StrEnum
from itertools import accumulate, pairwise
from typing import TYPE_CHECKING, Any, Literal, cast

from sqlalchemy import (
    bindparam,
    func,
    insert,
    select,
    text,
    update,
)
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from guanghe.ledger.accounts import account_from_row, select_accounts
from guanghe.store import LedgerAccount, LedgerTransfer, member_of, select_rows
from guanghe.store.bulk import execute_many, execute_many_tuples

if TYPE_CHECKING:
    from psycopg import Copy

Kind = Literal["posted", "pending", "post_pending", "void_pending"]
_CHUNK = 5_000
#: The most an account's debits (pending plus posted), or its credits, may total: what a
#: signed 64-bit column holds, so that every total and every sum a constraint takes fits.
MAX_TOTAL = 2**63 - 1


class TransferStatus(StrEnum):
    """What became of a transfer request: ``created`` or ``exists`` (done), or why not.

    A ``StrEnum``: each member is its own value, so serialised results read as before.
    """

    CREATED = "created"
    EXISTS = "exists"
    EXISTS_WITH_DIFFERENT_CONTENT = "exists_with_different_content"
    LINKED_EVENT_FAILED = "linked_event_failed"
    KEY_MUST_BE_1_TO_160_CHARACTERS = "key_must_be_1_to_160_characters"
    ADJUSTMENT_NEEDS_ACTOR_AND_MEMO = "adjustment_needs_actor_and_memo"
    KIND_UNKNOWN = "kind_unknown"
    ACCOUNTS_REQUIRED = "accounts_required"
    ACCOUNTS_MUST_DIFFER = "accounts_must_differ"
    ACCOUNT_NOT_FOUND = "account_not_found"
    UNITS_DIFFER = "units_differ"
    AMOUNT_MUST_BE_POSITIVE = "amount_must_be_positive"
    PENDING_KEY_REQUIRED = "pending_key_required"
    PENDING_NOT_FOUND = "pending_not_found"
    AMOUNT_EXCEEDS_PENDING = "amount_exceeds_pending"
    PENDING_ALREADY_RESOLVED = "pending_already_resolved"
    REVERSAL_MUST_BE_POSTED = "reversal_must_be_posted"
    TRANSFER_NOT_FOUND = "transfer_not_found"
    CANNOT_REVERSE_THIS_TRANSFER = "cannot_reverse_this_transfer"
    AMOUNT_EXCEEDS_ORIGINAL = "amount_exceeds_original"
    ALREADY_REVERSED = "already_reversed"
    SOURCE_ALREADY_PAID = "source_already_paid"
    EXCEEDS_CREDITS = "exceeds_credits"
    EXCEEDS_DEBITS = "exceeds_debits"
    OVERFLOWS_TOTALS = "overflows_totals"

    @property
    def ok(self) -> bool:
        """Whether the transfer is in the ledger (created now or before)."""
        return self in _OK


_OK = frozenset((TransferStatus.CREATED, TransferStatus.EXISTS))


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
    """What became of one request: ``created``, ``exists`` or why it was refused."""

    key: str
    status: TransferStatus
    transfer_id: int | None = None

    @property
    def ok(self) -> bool:
        return self.status.ok


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
    target_key: str | None = None  # key of the pending transfer resolved, or transfer reversed
    pending_change: int = 0  # what the row adds to both accounts' pending totals (see _deltas)
    posted_change: int = 0  # … and to their posted totals


def post_transfers(
    session: Session,
    requests: Sequence[TransferRequest],
    *,
    linked: bool = False,
    batch: str | None = None,
    business_day: dt.date | None = None,
    now: dt.datetime,
) -> list[TransferResult]:
    """Post ``requests`` in order and return one result each.

    With ``linked``, all succeed or none is written (the failing one reports its error, the
    others ``linked_event_failed``). Without, each stands alone. The transfers written are
    for ``business_day`` (the UTC day of ``now`` if not given); like ``batch``, it labels the
    posting and is not compared when a key is replayed.
    """
    ends = [len(requests)] if linked else range(1, len(requests) + 1)
    return _post(session, requests, ends, _Labels(batch, business_day, now))


def post_chains(
    session: Session,
    chains: Sequence[Sequence[TransferRequest]],
    *,
    batch: str | None = None,
    business_day: dt.date | None = None,
    now: dt.datetime,
    reuse_failed_ids: bool = False,
) -> list[list[TransferResult]]:
    """Post linked chains in one transaction: each chain all or nothing, chains independent.

    Returns the results chain by chain. In a chain that fails, the failing request reports
    its error and the others ``linked_event_failed``; nothing of it is written. ``batch``
    and ``business_day`` label the transfers as in :func:`post_transfers`. A failed chain's
    rows leave a gap in the ids, unless ``reuse_failed_ids``: then the next rows take them,
    and on SQLite the transfers are those (ids included) that posting each chain with
    :func:`post_transfers` in turn writes.
    """
    requests = [r for chain in chains for r in chain]
    ends = list(accumulate(len(chain) for chain in chains))
    labels = _Labels(batch, business_day, now)
    results = _post(session, requests, ends, labels, reuse_failed_ids=reuse_failed_ids)
    return [results[start:end] for start, end in pairwise([0, *ends])]


@dataclass(frozen=True, slots=True)
class _Labels:
    """What every transfer of one posting is stamped with."""

    batch: str | None
    business_day: dt.date | None
    now: dt.datetime

    def values(self) -> tuple[str | None, dt.date, dt.datetime]:
        """``batch``, ``business_day`` and ``created_at`` of a row."""
        return self.batch, self.business_day or self.now.astimezone(dt.UTC).date(), self.now


def _post(
    session: Session,
    requests: Sequence[TransferRequest],
    ends: Iterable[int],
    labels: _Labels,
    *,
    reuse_failed_ids: bool = False,
) -> list[TransferResult]:
    """Post ``requests``, each chain (from the previous end to the next in ``ends``) all or
    nothing; one result per request. Flat lists throughout: a batch of unlinked transfers
    allocates no per-transfer list, which would otherwise cost more in garbage collection
    than the checks themselves. With ``reuse_failed_ids``, the ids a failed chain's rows took
    go to the next rows staged."""
    referenced = _transfers_by_key(
        session, {k for r in requests for k in (r.pending_key, r.reverses_key) if k}
    )
    accounts = _lock_accounts(session, requests, referenced)
    existing = _transfers_by_key(session, {r.key for r in requests})
    resolved = _already_resolved(session, referenced)
    sources = _sources_taken(session, requests)
    # An id for every request whose key is not yet posted (at most one row each), taken as its
    # row is staged, so that later requests can name it and each chain's rows stream into the
    # store while the next are checked. A request rejected takes none; one undone with its
    # chain leaves a gap in the ids (unless ``reuse_failed_ids``).
    new_ids = iter(_allocate_ids(session, sum(r.key not in existing for r in requests)))
    given_back: list[int] = []  # ids of failed chains' rows to take again, smallest last

    staged: dict[str, _Row] = {}
    statuses: list[TransferStatus] = []
    chain_rows: list[_Row] = []
    start = 0
    with _transfer_writer(session, labels) as write:
        for end in ends:
            failed = False
            for request in requests[start:end]:
                status, row = _check(
                    request, accounts, existing, referenced, staged, resolved, sources
                )
                statuses.append(status)
                if row is None:
                    failed = failed or status not in _OK
                    continue
                row.id = given_back.pop() if given_back else next(new_ids)
                chain_rows.append(row)
                staged[request.key] = row
                _apply(row, accounts)
                if row.target_key is not None:
                    resolved.update(_targets(row))
                if row.source_kind is not None:
                    sources.add((row.source_kind, str(row.source_id), row.code))
            if failed:
                _undo(chain_rows, accounts, staged, resolved, sources)
                if reuse_failed_ids:
                    given_back.extend(cast(int, row.id) for row in reversed(chain_rows))
                statuses[start:end] = [
                    TransferStatus.LINKED_EVENT_FAILED if s in _OK else s
                    for s in statuses[start:end]
                ]
            else:
                write(chain_rows)
            chain_rows.clear()
            start = end
    _write_totals(session, accounts)
    return _results(requests, statuses, existing, staged)


def _undo(
    rows: list[_Row],
    accounts: dict[int, _Totals],
    staged: dict[str, _Row],
    resolved: set[int],
    sources: set[tuple[str, str, str]],
) -> None:
    """Take back the staging of ``rows`` (a chain that failed), last first."""
    for row in reversed(rows):
        _apply(row, accounts, sign=-1)
        if row.target_key is not None:
            resolved.difference_update(_targets(row))
        if row.source_kind is not None:
            sources.discard((row.source_kind, str(row.source_id), row.code))
        del staged[row.key]


def _results(
    requests: Sequence[TransferRequest],
    statuses: list[TransferStatus],
    existing: dict[str, _Row],
    written: dict[str, _Row],
) -> list[TransferResult]:
    """One result per request, with the id of the transfer its key names, written now or
    earlier (none for a request undone with its chain, unless another chain wrote its key)."""
    written_ids = {key: row.id for key, row in written.items()}
    ids = {key: row.id for key, row in existing.items()} | written_ids
    return [
        TransferResult(
            request.key,
            status,
            (written_ids if status == TransferStatus.LINKED_EVENT_FAILED else ids).get(request.key),
        )
        for request, status in zip(requests, statuses, strict=True)
    ]


def _check(
    request: TransferRequest,
    accounts: dict[int, _Totals],
    existing: dict[str, _Row],
    referenced: dict[str, _Row],
    staged: dict[str, _Row],
    resolved: set[int],
    sources: set[tuple[str, str, str]],
) -> tuple[TransferStatus, _Row | None]:
    """The request's status, and the row to insert when it is new and valid."""
    prior = existing.get(request.key) or staged.get(request.key)
    if prior is not None:
        row = _resolve(request, accounts, referenced, staged)
        same = isinstance(row, _Row) and _same_content(row, prior)
        return (
            TransferStatus.EXISTS if same else TransferStatus.EXISTS_WITH_DIFFERENT_CONTENT
        ), None
    if not request.key or len(request.key) > 160:
        return TransferStatus.KEY_MUST_BE_1_TO_160_CHARACTERS, None
    if request.code == "adjustment" and not (request.actor and request.memo):
        return TransferStatus.ADJUSTMENT_NEEDS_ACTOR_AND_MEMO, None
    row = _resolve(request, accounts, referenced, staged)
    if isinstance(row, TransferStatus):
        return row, None
    if row.target_key is not None and _targets(row) & resolved:
        if row.kind == "posted":
            return TransferStatus.ALREADY_REVERSED, None
        return TransferStatus.PENDING_ALREADY_RESOLVED, None
    if request.source is not None and (*request.source, request.code) in sources:
        return TransferStatus.SOURCE_ALREADY_PAID, None
    row.pending_change, row.posted_change = _deltas(row, referenced, staged)
    refusal = _refusal(row, accounts)
    if refusal is not None:
        return refusal, None
    return TransferStatus.CREATED, row


def _resolve(
    request: TransferRequest,
    accounts: dict[int, _Totals],
    referenced: dict[str, _Row],
    staged: dict[str, _Row],
) -> _Row | TransferStatus:
    """The row a request stands for, or the error code that makes it impossible."""
    if request.kind in ("post_pending", "void_pending"):
        if not request.pending_key:
            return TransferStatus.PENDING_KEY_REQUIRED
        pending = staged.get(request.pending_key) or referenced.get(request.pending_key)
        if pending is None or pending.kind != "pending":
            return TransferStatus.PENDING_NOT_FOUND
        amount = (
            pending.amount
            if request.amount is None or request.kind == "void_pending"
            else request.amount
        )
        if amount <= 0:
            return TransferStatus.AMOUNT_MUST_BE_POSITIVE
        if amount > pending.amount:
            return TransferStatus.AMOUNT_EXCEEDS_PENDING
        row = _new_row(
            request, pending.debit_account_id, pending.credit_account_id, amount, pending.unit
        )
        row.pending_id = pending.id
        row.target_key = pending.key
        return row
    if request.kind not in ("posted", "pending"):
        return TransferStatus.KIND_UNKNOWN
    if request.reverses_key:
        if request.kind != "posted":
            return TransferStatus.REVERSAL_MUST_BE_POSTED
        original = staged.get(request.reverses_key) or referenced.get(request.reverses_key)
        if original is None:
            return TransferStatus.TRANSFER_NOT_FOUND
        if original.kind not in ("posted", "post_pending") or original.reversal_of is not None:
            return TransferStatus.CANNOT_REVERSE_THIS_TRANSFER
        amount = original.amount if request.amount is None else request.amount
        if amount <= 0:
            return TransferStatus.AMOUNT_MUST_BE_POSITIVE
        if amount > original.amount:
            return TransferStatus.AMOUNT_EXCEEDS_ORIGINAL
        row = _new_row(
            request, original.credit_account_id, original.debit_account_id, amount, original.unit
        )
        row.reversal_of = original.id
        row.target_key = original.key
        return row
    if request.debit_account_id is None or request.credit_account_id is None:
        return TransferStatus.ACCOUNTS_REQUIRED
    if request.amount is None or request.amount <= 0:
        return TransferStatus.AMOUNT_MUST_BE_POSITIVE
    if request.debit_account_id == request.credit_account_id:
        return TransferStatus.ACCOUNTS_MUST_DIFFER
    debit = accounts.get(request.debit_account_id)
    credit = accounts.get(request.credit_account_id)
    if debit is None or credit is None:
        return TransferStatus.ACCOUNT_NOT_FOUND
    if debit.unit != credit.unit:
        return TransferStatus.UNITS_DIFFER
    return _new_row(
        request, request.debit_account_id, request.credit_account_id, request.amount, debit.unit
    )


def _new_row(request: TransferRequest, debit: int, credit: int, amount: int, unit: str) -> _Row:
    source_kind, source_id = request.source if request.source else (None, None)
    return _Row(
        request.key,
        request.kind,
        debit,
        credit,
        amount,
        unit,
        request.code,
        None,
        None,
        source_kind,
        source_id,
        request.actor,
        request.memo,
    )


def _targets(row: _Row) -> set[int]:
    """The ids of the transfers the row resolves or reverses."""
    return {t for t in (row.pending_id, row.reversal_of) if t is not None}


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
    return (new.pending_id, new.reversal_of) == (old.pending_id, old.reversal_of)


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
    key = str(row.target_key)
    return staged.get(key) or referenced[key]


def _refusal(row: _Row, accounts: dict[int, _Totals]) -> TransferStatus | None:
    """Why the row's change to its accounts' totals is refused, or None: a side's pending
    plus posted total past :data:`MAX_TOTAL`, or a balance limit broken."""
    pending, posted = row.pending_change, row.posted_change
    debit, credit = accounts[row.debit_account_id], accounts[row.credit_account_id]
    debits = debit.debits_pending + pending + debit.debits_posted + posted
    credits = credit.credits_pending + pending + credit.credits_posted + posted
    if debits > MAX_TOTAL or credits > MAX_TOTAL:
        return TransferStatus.OVERFLOWS_TOTALS
    if debit.limit == "debits" and debits > debit.credits_posted:
        return TransferStatus.EXCEEDS_CREDITS
    if credit.limit == "credits" and credits > credit.debits_posted:
        return TransferStatus.EXCEEDS_DEBITS
    return None


def _apply(row: _Row, accounts: dict[int, _Totals], sign: int = 1) -> None:
    """Add (``sign`` 1) or take back (``sign`` -1) the row's effect on its accounts."""
    pending, posted = sign * row.pending_change, sign * row.posted_change
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
    # The columns in _Row's field order: each row is built from its tuple (no mapping per row).
    columns = (
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
        t.id,
    )
    for start in range(0, len(wanted), _CHUNK):
        chunk = wanted[start : start + _CHUNK]
        for values in select_rows(
            session, select(*columns).where(member_of(session, t.key, chunk))
        ):
            row = _Row(*values)
            found[row.key] = row
    return found


def _lock_accounts(
    session: Session, requests: Sequence[TransferRequest], referenced: dict[str, _Row]
) -> dict[int, _Totals]:
    named = {r.debit_account_id for r in requests} | {r.credit_account_id for r in requests}
    ids = {i for i in named if i is not None}
    ids |= {r.debit_account_id for r in referenced.values()}
    ids |= {r.credit_account_id for r in referenced.values()}
    accounts: dict[int, _Totals] = {}
    ordered = sorted(ids)
    for start in range(0, len(ordered), _CHUNK):
        chunk = ordered[start : start + _CHUNK]
        query = (
            select_accounts()
            .where(member_of(session, LedgerAccount.id, chunk))
            .order_by(LedgerAccount.id)
        )
        for row in select_rows(session, query.with_for_update()):
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
        for pending_id, reversal_of in select_rows(
            session,
            select(t.pending_id, t.reversal_of).where(
                member_of(session, t.pending_id, chunk) | member_of(session, t.reversal_of, chunk)
            ),
        ):
            done.update(i for i in (pending_id, reversal_of) if i is not None)
    return done


def _sources_taken(
    session: Session, requests: Sequence[TransferRequest]
) -> set[tuple[str, str, str]]:
    """The (source kind, source id, code) triples among the requests' already paid."""
    wanted = {(r.source[0], r.source[1], r.code) for r in requests if r.source}
    if not wanted or not _is_postgres(session):
        return _sources_taken_by_member(session, wanted)
    # One probe of the unique index per triple (LATERAL … LIMIT 1 keeps the plan so at any
    # table size: the planner would otherwise scan every transfer of the kind).
    query = text(
        "SELECT v.kind, v.id, v.code "
        "FROM json_to_recordset(CAST(:wanted AS json)) AS v(kind text, id text, code text) "
        "CROSS JOIN LATERAL (SELECT 1 FROM ledger_transfers AS t WHERE t.source_kind = v.kind "
        "AND t.source_id = v.id AND t.code = v.code LIMIT 1) AS paid"
    )
    rows = session.execute(
        query, {"wanted": json.dumps([{"kind": k, "id": i, "code": c} for k, i, c in wanted])}
    )
    return {(str(k), str(i), str(c)) for k, i, c in rows}


def _sources_taken_by_member(
    session: Session, wanted: set[tuple[str, str, str]]
) -> set[tuple[str, str, str]]:
    source_kinds = sorted({kind for kind, _, _ in wanted})
    source_ids = sorted({source_id for _, source_id, _ in wanted})
    taken: set[tuple[str, str, str]] = set()
    t = LedgerTransfer
    for start in range(0, len(source_ids), _CHUNK):
        chunk = source_ids[start : start + _CHUNK]
        rows = select_rows(
            session,
            select(t.source_kind, t.source_id, t.code).where(
                member_of(session, t.source_kind, source_kinds),  # leads the unique index
                member_of(session, t.source_id, chunk),
            ),
        )
        found = ((str(k), str(i), str(c)) for k, i, c in rows)
        taken.update(triple for triple in found if triple in wanted)
    return taken


_COLUMNS = (
    "id",
    "key",
    "kind",
    "debit_account_id",
    "credit_account_id",
    "amount",
    "unit",
    "code",
    "pending_id",
    "reversal_of",
    "batch",
    "source_kind",
    "source_id",
    "actor",
    "memo",
    "business_day",
    "created_at",
)


@contextmanager
def _transfer_writer(session: Session, labels: _Labels) -> Iterator[Callable[[list[_Row]], None]]:
    """A function that writes rows; they are all in the store when the block ends.

    On PostgreSQL the rows stream into one ``COPY`` as they come (an order of magnitude faster
    than ``INSERT``, the same constraints checked; the server stores them while the caller
    checks the next), so nothing else may run on the session inside the block. Elsewhere
    they are inserted at the end.
    """
    stamp = labels.values()
    if not _is_postgres(session):
        rows: list[_Row] = []
        yield rows.extend
        if rows:
            values = [_values(r, stamp) for r in rows]
            execute_many_tuples(session.connection(), insert(LedgerTransfer), _COLUMNS, values)
        return
    import psycopg  # the PostgreSQL driver: needed here only

    driver = session.connection().connection.driver_connection
    assert driver is not None
    statement = f"COPY ledger_transfers ({', '.join(_COLUMNS)}) FROM STDIN"
    try:
        with ExitStack() as stack:
            copies: list[Copy] = []  # the COPY, begun with the first row

            def write(rows: list[_Row]) -> None:
                if rows and not copies:
                    copies.append(
                        stack.enter_context(stack.enter_context(driver.cursor()).copy(statement))
                    )
                for row in rows:
                    copies[0].write_row(_values(row, stamp))

            yield write
    except psycopg.Error as exc:
        # As SQLAlchemy raises errors of the statements it runs (a racing writer's unique key
        # is an IntegrityError), so that callers and retries see one kind of error.
        raise DBAPIError.instance(statement, None, exc, psycopg.Error) from exc


def _values(r: _Row, stamp: tuple[str | None, dt.date, dt.datetime]) -> tuple[Any, ...]:
    """The row's values in :data:`_COLUMNS` order."""
    return (
        r.id,
        r.key,
        r.kind,
        r.debit_account_id,
        r.credit_account_id,
        r.amount,
        r.unit,
        r.code,
        r.pending_id,
        r.reversal_of,
        stamp[0],
        r.source_kind,
        r.source_id,
        r.actor,
        r.memo,
        *stamp[1:],
    )


def _allocate_ids(session: Session, count: int) -> list[int]:
    """``count`` fresh transfer ids, ascending: from the sequence on PostgreSQL (named once,
    not looked up per id); after the largest id on SQLite, whose single writer
    (``BEGIN IMMEDIATE``) makes that safe."""
    if not count:
        return []
    if _is_postgres(session):
        ids = session.execute(
            text(
                "SELECT array_agg(id ORDER BY id) FROM (SELECT nextval((SELECT "
                "pg_get_serial_sequence('ledger_transfers', 'id'))::regclass) AS id "
                "FROM generate_series(1, :n)) AS fresh"
            ),
            {"n": count},
        ).scalar_one()
        return list(ids)
    top = session.execute(select(func.coalesce(func.max(LedgerTransfer.id), 0))).scalar_one()
    return list(range(int(top) + 1, int(top) + 1 + count))


def _is_postgres(session: Session) -> bool:
    return session.get_bind().dialect.name == "postgresql"


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
    if not changed:
        return
    if _is_postgres(session):
        session.execute(
            text(
                "UPDATE ledger_accounts AS a SET debits_pending = v.dp, debits_posted = v.dq, "
                "credits_pending = v.cp, credits_posted = v.cq "
                "FROM json_to_recordset(CAST(:changed AS json)) "
                "AS v(account_id bigint, dp bigint, dq bigint, cp bigint, cq bigint) "
                "WHERE a.id = v.account_id"
            ),
            {"changed": json.dumps(changed)},
        )
        return
    execute_many(
        session.connection(),
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

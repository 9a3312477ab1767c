"""Transfers: idempotency, limits, two-phase, linked batches, reversals, source uniqueness."""

from __future__ import annotations

import pytest
from sqlalchemy import insert
from sqlalchemy.exc import IntegrityError

from guanghe.ledger import (
    TransferRequest,
    TransferStatus,
    get_account,
    open_account,
    post_batch,
    reconcile,
)
from guanghe.runtime import Runtime
from guanghe.store import LedgerTransfer, transaction
from tests.ledger.conftest import NOW, Books


def post(runtime: Runtime, *requests: TransferRequest, linked: bool = False) -> list[str]:
    return [r.status for r in post_batch(runtime.engine, requests, linked=linked, now=NOW)]


def pay(key: str, books: Books, creator: int, amount: int, **extra: object) -> TransferRequest:
    fields: dict[str, object] = {
        "code": "reward",
        "debit_account_id": books.budget.id,
        "credit_account_id": books.creators[creator].id,
        "amount": amount,
    } | extra
    return TransferRequest(key, **fields)  # type: ignore[arg-type]


def balance(runtime: Runtime, account_id: int) -> int:
    with runtime.sessions() as session:
        return get_account(session, account_id).balance


def assert_books_clean(runtime: Runtime) -> None:
    with runtime.sessions() as session:
        assert reconcile(session) == []


def test_post_and_replay(runtime: Runtime, books: Books) -> None:
    assert post(runtime, pay("r1", books, 0, 500)) == ["created"]
    assert post(runtime, pay("r1", books, 0, 500)) == ["exists"]
    assert post(runtime, pay("r1", books, 0, 501)) == ["exists_with_different_content"]
    assert post(runtime, pay("r1", books, 1, 500)) == ["exists_with_different_content"]
    assert balance(runtime, books.creators[0].id) == 500
    assert balance(runtime, books.budget.id) == 100_000 - 500
    assert_books_clean(runtime)


def test_replay_returns_the_original_id(runtime: Runtime, books: Books) -> None:
    first = post_batch(runtime.engine, [pay("r1", books, 0, 5)], now=NOW)[0]
    again = post_batch(runtime.engine, [pay("r1", books, 0, 5)], now=NOW)[0]
    assert first.transfer_id is not None
    assert again.transfer_id == first.transfer_id


def test_limited_account_cannot_go_negative(runtime: Runtime, books: Books) -> None:
    assert post(runtime, pay("big", books, 0, 100_001)) == ["exceeds_credits"]
    assert post(runtime, pay("all", books, 0, 100_000)) == ["created"]
    assert post(runtime, pay("one-more", books, 1, 1)) == ["exceeds_credits"]
    assert_books_clean(runtime)


@pytest.mark.parametrize(
    ("request_", "status"),
    [
        (
            TransferRequest("z", "reward", debit_account_id=1, credit_account_id=1, amount=5),
            "accounts_must_differ",
        ),
        (
            TransferRequest("z", "reward", debit_account_id=1, credit_account_id=2, amount=0),
            "amount_must_be_positive",
        ),
        (
            TransferRequest("z", "reward", debit_account_id=1, credit_account_id=999, amount=5),
            "account_not_found",
        ),
        (
            TransferRequest("z", "reward", debit_account_id=1, credit_account_id=2),
            "amount_must_be_positive",
        ),
        (
            TransferRequest("", "reward", debit_account_id=1, credit_account_id=2, amount=5),
            "key_must_be_1_to_160_characters",
        ),
        (
            TransferRequest("z", "adjustment", debit_account_id=1, credit_account_id=3, amount=5),
            "adjustment_needs_actor_and_memo",
        ),
        (
            TransferRequest("z", "reward", kind="post_pending", pending_key="nope"),
            "pending_not_found",
        ),
        (TransferRequest("z", "refund", reverses_key="nope"), "transfer_not_found"),
    ],
)
def test_invalid_requests_change_nothing(
    runtime: Runtime, books: Books, request_: TransferRequest, status: str
) -> None:
    assert post(runtime, request_) == [status]
    assert_books_clean(runtime)


def test_units_must_match(runtime: Runtime, books: Books) -> None:
    request = TransferRequest(
        "x", "grant", debit_account_id=books.budget.id, credit_account_id=books.grants.id, amount=5
    )
    assert post(runtime, request) == ["units_differ"]


def test_two_phase_reserve_then_post_less(runtime: Runtime, books: Books) -> None:
    reserve = pay("hold", books, 0, 60_000, kind="pending")
    assert post(runtime, reserve) == ["created"]
    assert post(runtime, pay("other", books, 1, 50_000)) == ["exceeds_credits"]
    settle = TransferRequest(
        "settle", "reward", kind="post_pending", pending_key="hold", amount=45_000
    )
    assert post(runtime, settle) == ["created"]
    assert post(
        runtime, TransferRequest("void", "reward", kind="void_pending", pending_key="hold")
    ) == ["pending_already_resolved"]
    assert balance(runtime, books.creators[0].id) == 45_000
    assert post(runtime, pay("other2", books, 1, 55_000)) == ["created"]
    assert_books_clean(runtime)


def test_void_releases_the_reservation(runtime: Runtime, books: Books) -> None:
    assert post(runtime, pay("hold", books, 0, 100_000, kind="pending")) == ["created"]
    assert post(runtime, pay("x", books, 1, 1)) == ["exceeds_credits"]
    assert post(
        runtime, TransferRequest("v", "reward", kind="void_pending", pending_key="hold")
    ) == ["created"]
    assert post(runtime, pay("x", books, 1, 100_000)) == ["created"]
    assert_books_clean(runtime)


def test_pending_posted_and_voided_in_one_batch_only_once(runtime: Runtime, books: Books) -> None:
    statuses = post(
        runtime,
        pay("hold", books, 0, 10, kind="pending"),
        TransferRequest("p", "reward", kind="post_pending", pending_key="hold"),
        TransferRequest("v", "reward", kind="void_pending", pending_key="hold"),
    )
    assert statuses == ["created", "created", "pending_already_resolved"]
    assert balance(runtime, books.creators[0].id) == 10
    assert_books_clean(runtime)


def test_linked_batch_is_all_or_nothing(runtime: Runtime, books: Books) -> None:
    statuses = post(runtime, pay("a", books, 0, 10), pay("b", books, 1, 10**9), linked=True)
    assert statuses == ["linked_event_failed", "exceeds_credits"]
    assert balance(runtime, books.creators[0].id) == 0
    assert post(runtime, pay("a", books, 0, 10), pay("b", books, 1, 10), linked=True) == [
        "created",
        "created",
    ]
    assert_books_clean(runtime)


def test_reversal_once_and_not_more_than_the_original(runtime: Runtime, books: Books) -> None:
    assert post(runtime, pay("c", books, 0, 900)) == ["created"]
    assert post(runtime, TransferRequest("r", "refund", reverses_key="c", amount=901)) == [
        "amount_exceeds_original"
    ]
    assert post(runtime, TransferRequest("r", "refund", reverses_key="c", amount=300)) == [
        "created"
    ]
    assert post(runtime, TransferRequest("r2", "refund", reverses_key="c")) == ["already_reversed"]
    assert post(runtime, TransferRequest("r3", "refund", reverses_key="r")) == [
        "cannot_reverse_this_transfer"
    ]
    assert balance(runtime, books.creators[0].id) == 600
    assert_books_clean(runtime)


def test_a_source_event_is_paid_once_per_code(runtime: Runtime, books: Books) -> None:
    order = ("order", "8812")
    assert post(runtime, pay("k1", books, 0, 100, source=order)) == ["created"]
    assert post(runtime, pay("k2", books, 0, 100, source=order)) == ["source_already_paid"]
    assert post(runtime, pay("k3", books, 1, 10, source=order, code="split")) == ["created"]
    assert_books_clean(runtime)


def test_the_store_itself_refuses_a_second_payment_of_a_source(
    runtime: Runtime, books: Books
) -> None:
    """Even code that bypasses the ledger's checks cannot pay a source event twice."""
    row = {
        "kind": "posted",
        "debit_account_id": books.budget.id,
        "credit_account_id": books.creators[0].id,
        "amount": 1,
        "unit": "CNY",
        "code": "reward",
        "source_kind": "order",
        "source_id": "1",
        "memo": "",
        "business_day": NOW.date(),
        "created_at": NOW,
    }
    with transaction(runtime.sessions) as session:
        session.execute(insert(LedgerTransfer), [dict(row, key="a")])
    with pytest.raises(IntegrityError), transaction(runtime.sessions) as session:
        session.execute(insert(LedgerTransfer), [dict(row, key="b")])


def test_open_account_is_idempotent(runtime: Runtime, books: Books) -> None:
    with transaction(runtime.sessions) as session:
        again = open_account(
            session,
            owner_kind="creator",
            owner_id=1,
            purpose="earnings",
            unit="CNY",
            limit="debits",
            now=NOW,
        )
    assert again.id == books.creators[0].id


def test_totals_past_64_bits_are_refused_with_their_own_status(
    runtime: Runtime, books: Books
) -> None:
    """Two amounts of 2^62 to one account would take its credits to 2^63, past what a 64-bit
    total holds: the second is refused (``overflows_totals``), nothing of it written."""
    half = 2**62
    platform, creator = books.platform.id, books.creators[2].id
    grant = TransferRequest(
        "g1", "grant", debit_account_id=platform, credit_account_id=creator, amount=half
    )
    assert post(runtime, grant) == ["created"]
    second = TransferRequest(
        "g2", "grant", debit_account_id=platform, credit_account_id=creator, amount=half
    )
    assert post(runtime, second) == [TransferStatus.OVERFLOWS_TOTALS]
    assert balance(runtime, creator) == half
    # The platform's debits overflow too when its other side would: one amount past the cap.
    too_big = TransferRequest(
        "g3",
        "grant",
        debit_account_id=platform,
        credit_account_id=books.creators[0].id,
        amount=2**63,
    )
    assert post(runtime, too_big) == [TransferStatus.OVERFLOWS_TOTALS]
    # Up to the cap exactly is fine: the platform has debited the 100,000 funding and 2^62.
    room = 2**63 - 1 - 100_000 - half
    rest = TransferRequest(
        "g4", "grant", debit_account_id=platform, credit_account_id=creator, amount=room
    )
    assert post(runtime, rest) == ["created"]
    assert balance(runtime, creator) == half + room
    with runtime.sessions() as session:
        assert get_account(session, platform).debits_posted == 2**63 - 1
    assert_books_clean(runtime)

"""Transfer ids in a batch of chains: a chain that fails gives back nothing it staged but the
ids its rows took, so a later chain of the same batch that posts one of its keys needs an id
of its own. Ids are drawn one per request whose key is not yet posted; a variant drawing one per
distinct new key runs out and must be caught."""

from __future__ import annotations

from dataclasses import dataclass, field

import pytest
from sqlalchemy import func, select

from guanghe.ledger import TransferRequest, TransferResult, get_account, post_chain_batch, reconcile
from guanghe.ledger import post_chains as post_chains_in
from guanghe.ledger import transfers as transfers_module
from guanghe.runtime import Runtime
from guanghe.store import LedgerTransfer, write_transaction
from tests.ledger.conftest import NOW, Books


@dataclass
class Posted:
    results: list[list[TransferResult]] = field(default_factory=list)
    error: BaseException | None = None


def chains_retrying_a_failed_chain(books: Books) -> list[list[TransferRequest]]:
    """The first chain overspends the budget (100,000) on its last transfer after staging two;
    the second posts the same three keys within budget; the third posts new keys."""

    def pay(key: str, creator: int, amount: int) -> TransferRequest:
        return TransferRequest(
            key,
            "reward",
            debit_account_id=books.budget.id,
            credit_account_id=books.creators[creator].id,
            amount=amount,
        )

    return [
        [pay("k1", 0, 1_000), pay("k2", 1, 1_000), pay("k3", 2, 200_000)],
        [pay("k1", 0, 1_000), pay("k2", 1, 1_000), pay("k3", 2, 500)],
        [pay("k4", 0, 700), pay("k5", 1, 800)],
    ]


def post_chains(runtime: Runtime, chains: list[list[TransferRequest]]) -> Posted:
    posted = Posted()
    try:
        posted.results = post_chain_batch(runtime.engine, chains, now=NOW)
    except Exception as exc:  # reported by the checks
        posted.error = exc
    return posted


def check_posted(runtime: Runtime, books: Books, posted: Posted) -> None:
    """The failed chain wrote nothing; every later transfer posted under an id of its own."""
    assert posted.error is None, repr(posted.error)
    failed, retried, fresh = posted.results
    assert [r.status for r in failed] == ["linked_event_failed"] * 2 + ["exceeds_credits"]
    assert all(r.status == "created" for r in (*retried, *fresh))
    ids = {r.key: r.transfer_id for r in (*retried, *fresh)}
    assert None not in ids.values()
    assert len(set(ids.values())) == 5
    # each of the failed chain's keys names the transfer the second chain wrote under it
    assert [r.transfer_id for r in failed] == [ids["k1"], ids["k2"], ids["k3"]]
    with runtime.sessions() as session:
        assert reconcile(session) == []
        stored = session.execute(
            select(LedgerTransfer.key, LedgerTransfer.id, LedgerTransfer.amount).where(
                LedgerTransfer.key != "fund"
            )
        ).all()
        assert {key: id_ for key, id_, _ in stored} == ids
        assert sum(amount for _, _, amount in stored) == 4_000
        balances = [get_account(session, a.id).balance for a in books.creators]
        assert balances == [1_700, 1_800, 500]
        assert get_account(session, books.budget.id).balance == 100_000 - 4_000


def test_a_later_chain_reposting_a_failed_chains_key_gets_its_own_id(
    runtime: Runtime, books: Books
) -> None:
    posted = post_chains(runtime, chains_retrying_a_failed_chain(books))
    check_posted(runtime, books, posted)


def test_the_id_test_catches_one_id_per_distinct_key(
    runtime: Runtime, books: Books, monkeypatch: pytest.MonkeyPatch
) -> None:
    chains = chains_retrying_a_failed_chain(books)
    distinct_new_keys = len({r.key for chain in chains for r in chain})  # none posted yet
    allocate_ids = transfers_module._allocate_ids
    monkeypatch.setattr(
        transfers_module,
        "_allocate_ids",
        lambda session, _: allocate_ids(session, distinct_new_keys),
    )
    posted = post_chains(runtime, chains)
    assert isinstance(posted.error, StopIteration)  # the ids ran out
    with pytest.raises(AssertionError):
        check_posted(runtime, books, posted)


def test_reusing_a_failed_chains_ids_writes_what_posting_chain_by_chain_does(
    runtime: Runtime, books: Books
) -> None:
    with runtime.sessions() as session:
        top = session.scalar(select(func.max(LedgerTransfer.id)))
    assert top is not None
    chains = chains_retrying_a_failed_chain(books)
    results = write_transaction(
        runtime.engine, lambda s: post_chains_in(s, chains, now=NOW, reuse_failed_ids=True)
    )
    assert [r.status for r in results[0]] == ["linked_event_failed"] * 2 + ["exceeds_credits"]
    # Posted one chain at a time, each posting's ids start after the largest id stored: the
    # failed chain's stay free, so the transfers written take the next ids in turn.
    with runtime.sessions() as session:
        stored = session.execute(
            select(LedgerTransfer.id, LedgerTransfer.key)
            .where(LedgerTransfer.id > top)
            .order_by(LedgerTransfer.id)
        ).all()
    assert [tuple(row) for row in stored] == [
        (top + 1, "k1"),
        (top + 2, "k2"),
        (top + 3, "k3"),
        (top + 4, "k4"),
        (top + 5, "k5"),
    ]
    assert [r.transfer_id for r in results[0]] == [top + 1, top + 2, top + 3]

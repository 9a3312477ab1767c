"""Property-based: random sequences of transfers, replays, pendings, voids, reversals and linked
batches keep every invariant, and the books agree with a model that applies only what the
ledger said it created (so nothing is ever paid twice)."""

from __future__ import annotations

import itertools
from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import HealthCheck, Phase, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    rule,
    run_state_machine_as_test,
)

from guanghe.ledger import (
    Limit,
    TransferRequest,
    list_accounts,
    open_account,
    post_batch,
    reconcile,
)
from guanghe.ledger import transfers as transfers_module
from guanghe.store import Base, make_engine, session_factory, transaction
from tests.ledger.conftest import NOW

LIMITS: tuple[Limit, ...] = ("none", "debits", "debits", "debits", "credits")
amounts = st.integers(min_value=1, max_value=2_000)


class LedgerMachine(RuleBasedStateMachine):
    """Drives the ledger and a model of what its answers imply."""

    def __init__(self) -> None:
        super().__init__()
        self.engine = make_engine("sqlite://")
        Base.metadata.create_all(self.engine)
        self.sessions = session_factory(self.engine)
        self.keys = (f"k{i}" for i in itertools.count())
        self.accounts: list[int] = []
        self.model: dict[int, list[int]] = {}  # account → [debits posted, credits posted, dp, cp]
        self.requests: dict[str, TransferRequest] = {}
        self.created: dict[str, dict[str, Any]] = {}  # key → what the ledger did

    @initialize()
    def open_accounts(self) -> None:
        with transaction(self.sessions) as session:
            for owner, limit in enumerate(LIMITS):
                account = open_account(
                    session,
                    owner_kind="creator",
                    owner_id=owner,
                    purpose="main",
                    unit="CNY",
                    limit=limit,
                    now=NOW,
                )
                self.accounts.append(account.id)
                self.model[account.id] = [0, 0, 0, 0]
        seed = TransferRequest(
            "seed",
            "funding",
            debit_account_id=self.accounts[0],
            credit_account_id=self.accounts[1],
            amount=5_000,
        )
        self.requests[seed.key] = seed
        self.post([seed])

    def post(self, requests: list[TransferRequest], linked: bool = False) -> list[str]:
        results = post_batch(self.engine, requests, linked=linked, now=NOW)
        for request, result in zip(requests, results, strict=True):
            if result.status == "created":
                self.apply(request)
            elif result.status == "exists":
                assert request.key in self.created
        if linked:
            assert all(r.ok for r in results) or not any(r.status == "created" for r in results)
        return [r.status for r in results]

    def apply(self, request: TransferRequest) -> None:
        """Model the effect of a transfer the ledger reported as created."""
        assert request.key not in self.created, f"{request.key} created twice"
        if request.kind in ("post_pending", "void_pending"):
            pending = self.created[str(request.pending_key)]
            assert not pending.get("resolved"), "pending resolved twice"
            pending["resolved"] = True
            debit, credit, reserved = pending["debit"], pending["credit"], pending["amount"]
            self.model[debit][2] -= reserved
            self.model[credit][3] -= reserved
            amount = 0 if request.kind == "void_pending" else request.amount or reserved
            self.model[debit][0] += amount
            self.model[credit][1] += amount
            self.created[request.key] = {
                "kind": request.kind,
                "debit": debit,
                "credit": credit,
                "amount": amount,
            }
            return
        if request.reverses_key:
            original = self.created[request.reverses_key]
            assert not original.get("reversed"), "reversed twice"
            original["reversed"] = True
            debit, credit = original["credit"], original["debit"]
            amount = request.amount or original["amount"]
        else:
            debit, credit = request.debit_account_id, request.credit_account_id
            amount = request.amount
        assert amount is not None, "a posted or pending transfer names its amount"
        is_pending = request.kind == "pending"
        self.model[debit][2 if is_pending else 0] += amount
        self.model[credit][3 if is_pending else 1] += amount
        self.created[request.key] = {
            "kind": request.kind,
            "debit": debit,
            "credit": credit,
            "amount": amount,
            "reversal": bool(request.reverses_key),
        }

    def transfer_request(self, data: st.DataObject, kind: str) -> TransferRequest:
        debit, credit = data.draw(st.permutations(self.accounts))[:2]
        request = TransferRequest(
            next(self.keys),
            "reward",
            kind=kind,  # type: ignore[arg-type]
            debit_account_id=debit,
            credit_account_id=credit,
            amount=data.draw(amounts),
        )
        self.requests[request.key] = request
        return request

    @rule(data=st.data(), kind=st.sampled_from(["posted", "pending"]))
    def transfer(self, data: st.DataObject, kind: str) -> None:
        self.post([self.transfer_request(data, kind)])

    @rule(data=st.data())
    def replay(self, data: st.DataObject) -> None:
        if not self.requests:
            return
        key = data.draw(st.sampled_from(sorted(self.requests)))
        was_created = key in self.created
        before = self.balances()
        status = self.post([self.requests[key]])[0]
        if was_created:
            assert status == "exists"
            assert self.balances() == before

    @rule(data=st.data())
    def replay_changed(self, data: st.DataObject) -> None:
        created = [
            k
            for k, v in self.created.items()
            if v["kind"] in ("posted", "pending") and not v.get("reversal")
        ]
        if not created:
            return
        key = data.draw(st.sampled_from(sorted(created)))
        original = self.requests[key]
        changed = TransferRequest(
            key,
            original.code,
            kind=original.kind,
            debit_account_id=original.debit_account_id,
            credit_account_id=original.credit_account_id,
            amount=(original.amount or 0) + 1,
        )
        assert self.post([changed]) == ["exists_with_different_content"]

    @rule(data=st.data(), void=st.booleans(), partial=st.booleans())
    def resolve(self, data: st.DataObject, void: bool, partial: bool) -> None:
        pendings = [k for k, v in self.created.items() if v["kind"] == "pending"]
        if not pendings:
            return
        pending_key = data.draw(st.sampled_from(sorted(pendings)))
        amount = None
        if partial and not void:
            amount = data.draw(st.integers(1, self.created[pending_key]["amount"]))
        request = TransferRequest(
            next(self.keys),
            "reward",
            kind="void_pending" if void else "post_pending",
            pending_key=pending_key,
            amount=amount,
        )
        self.requests[request.key] = request
        status = self.post([request])[0]
        if self.created[pending_key].get("resolved") and status != "created":
            assert status in ("pending_already_resolved", "exceeds_credits", "exceeds_debits")

    @rule(data=st.data(), partial=st.booleans())
    def reverse(self, data: st.DataObject, partial: bool) -> None:
        posted = [
            k
            for k, v in self.created.items()
            if v["kind"] in ("posted", "post_pending") and not v.get("reversal") and v["amount"] > 0
        ]
        if not posted:
            return
        original = data.draw(st.sampled_from(sorted(posted)))
        amount = data.draw(st.integers(1, self.created[original]["amount"])) if partial else None
        request = TransferRequest(next(self.keys), "refund", reverses_key=original, amount=amount)
        self.requests[request.key] = request
        status = self.post([request])[0]
        if self.created[original].get("reversed") and status != "created":
            assert status in ("already_reversed", "exceeds_credits", "exceeds_debits")

    @rule(data=st.data(), size=st.integers(2, 4))
    def linked_batch(self, data: st.DataObject, size: int) -> None:
        batch = [self.transfer_request(data, "posted") for _ in range(size)]
        self.post(batch, linked=True)

    def balances(self) -> dict[int, list[int]]:
        with self.sessions() as session:
            return {
                a.id: [a.debits_posted, a.credits_posted, a.debits_pending, a.credits_pending]
                for a in list_accounts(session)
            }

    @invariant()
    def books_match_model_and_reconcile(self) -> None:
        if not self.accounts:
            return
        assert self.balances() == self.model
        with self.sessions() as session:
            assert reconcile(session) == []

    def teardown(self) -> None:
        self.engine.dispose()


def run_machine(max_examples: int, shrink: bool = True) -> None:
    phases = [Phase.generate, Phase.shrink] if shrink else [Phase.generate]
    run_state_machine_as_test(
        LedgerMachine,
        settings=settings(
            max_examples=max_examples,
            stateful_step_count=25,
            deadline=None,
            phases=phases,
            suppress_health_check=list(HealthCheck),
        ),
    )


@pytest.mark.slow
def test_random_histories_keep_every_invariant() -> None:
    run_machine(max_examples=40)


def _void_forgets_to_release(
    row: Any, referenced: Any, staged: Any, real: Callable[..., tuple[int, int]]
) -> tuple[int, int]:
    pending, posted = real(row, referenced, staged)
    return (0, posted) if row.kind == "void_pending" else (pending, posted)


@pytest.mark.slow
def test_the_property_test_catches_a_void_that_keeps_the_reservation(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    real = transfers_module._deltas
    monkeypatch.setattr(
        transfers_module,
        "_deltas",
        lambda row, referenced, staged: _void_forgets_to_release(row, referenced, staged, real),
    )
    with pytest.raises(AssertionError):
        run_machine(max_examples=200, shrink=False)


@pytest.mark.slow
def test_the_property_test_catches_replays_that_post_again(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(
        transfers_module, "_transfers_by_key", _forgetful_lookup(transfers_module._transfers_by_key)
    )
    with pytest.raises(Exception):  # noqa: B017, PT011 - any failure shows the bug is caught
        run_machine(max_examples=200, shrink=False)


def _forgetful_lookup(real: Callable[..., dict[str, Any]]) -> Callable[..., dict[str, Any]]:
    """A broken idempotency lookup that never finds an earlier transfer by its own key."""

    def lookup(session: Any, keys: Any) -> dict[str, Any]:
        found = real(session, keys)
        return {} if all(not k.startswith("seed") for k in found) and len(found) == 1 else found

    return lookup

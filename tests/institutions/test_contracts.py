"""Contract rules: proposal, acceptance, decline, ending with notice, the kept history, one
taker per income source and day, and the migration of single-split contracts."""

from __future__ import annotations

import datetime as dt

import pytest
import sqlalchemy as sa
from alembic import command

from guanghe.access import Principal
from guanghe.errors import Conflict, Forbidden, InvalidInput, NotFound
from guanghe.institutions import (
    accept_contract,
    contract_book,
    decline_contract,
    end_contract,
    get_contract,
    propose_contract,
)
from guanghe.runtime import Runtime
from guanghe.store import Notice, transaction
from guanghe.store.engine import alembic_config
from tests.seed import SeedPlatform

NOW = dt.datetime(2026, 11, 1, 9, tzinfo=dt.UTC)
TODAY = NOW.date()
OPERATOR = Principal(0, "operator", None)
ALL = {"ads": 2_000, "commerce": 2_000, "tasks": 2_000, "incentives": 2_000}


def institution(n: int) -> Principal:
    return Principal(100 + n, "institution", n)


def creator(n: int) -> Principal:
    return Principal(200 + n, "creator", n)


def propose(
    runtime: Runtime, by: int, to: int, *, exclusive: bool = False, splits: dict[str, int] = ALL
) -> int:
    with transaction(runtime.sessions) as session:
        return propose_contract(
            session,
            institution(by),
            by,
            creator_id=to,
            splits=splits,
            valid_from=TODAY,
            valid_to=None,
            exclusive=exclusive,
            notice_days=30,
            now=NOW,
        ).id


def accept(runtime: Runtime, contract_id: int, who: Principal) -> None:
    with transaction(runtime.sessions) as session:
        accept_contract(session, who, contract_id, now=NOW)


def test_the_creator_is_told_of_a_proposal_once(
    runtime: Runtime, seed_platform: SeedPlatform
) -> None:
    contract = propose(runtime, 1, 1)
    with runtime.sessions() as session:
        (notice,) = session.scalars(sa.select(Notice).where(Notice.kind == "contract_proposal"))
    assert (notice.creator_id, notice.data["contract_id"]) == (1, contract)
    assert "ads 20 %" in notice.body


def test_an_overlapping_exclusive_contract_is_a_conflict_naming_it(
    runtime: Runtime, seed_platform: SeedPlatform
) -> None:
    first = propose(runtime, 1, 4, exclusive=True)
    accept(runtime, first, creator(4))
    with pytest.raises(Conflict, match=f"exclusive contract {first} "):
        propose(runtime, 2, 4, splits={"tasks": 1_000})
    # two proposals racing: the second acceptance is refused
    other = propose(runtime, 2, 6, exclusive=True)
    racing = propose(runtime, 1, 6, splits={"ads": 500})
    accept(runtime, other, creator(6))
    with pytest.raises(Conflict, match=f"contract {other} "):
        accept(runtime, racing, creator(6))


def test_non_exclusive_contracts_may_share_days_but_not_a_source(
    runtime: Runtime, seed_platform: SeedPlatform
) -> None:
    ads = propose(runtime, 1, 4, splits={"ads": 1_000})
    accept(runtime, ads, creator(4))
    commerce = propose(runtime, 2, 4, splits={"commerce": 1_500})
    accept(runtime, commerce, creator(4))
    with pytest.raises(Conflict, match="already splits ads"):
        propose(runtime, 2, 4, splits={"ads": 100})
    with runtime.sessions() as session:
        book = contract_book(session, [4])
    assert book.in_force(4, TODAY, "ads").institution_id == 1  # type: ignore[union-attr]
    assert book.in_force(4, TODAY, "commerce").institution_id == 2  # type: ignore[union-attr]
    assert book.in_force(4, TODAY, "tasks") is None


def test_only_the_creator_accepts_or_declines_and_only_once(
    runtime: Runtime, seed_platform: SeedPlatform
) -> None:
    contract = propose(runtime, 1, 4)
    with pytest.raises(Forbidden):
        accept(runtime, contract, institution(1))
    with pytest.raises(Forbidden):
        accept(runtime, contract, creator(5))  # another creator's
    with pytest.raises(NotFound):
        accept(runtime, 999, creator(5))
    with transaction(runtime.sessions) as session:
        assert decline_contract(session, creator(4), contract, now=NOW).status == "declined"
    with pytest.raises(Conflict, match="declined"):
        accept(runtime, contract, creator(4))
    with runtime.sessions() as session:
        assert contract_book(session, [4]).in_force(4, TODAY, "ads") is None


def test_ending_keeps_the_notice_and_the_history(
    runtime: Runtime, seed_platform: SeedPlatform
) -> None:
    contract = propose(runtime, 1, 4)
    accept(runtime, contract, creator(4))
    with transaction(runtime.sessions) as session:
        ended = end_contract(
            session, institution(1), contract, last_day=TODAY, now=NOW + dt.timedelta(hours=1)
        )
    assert ended.status == "ended"
    assert ended.valid_to == TODAY + dt.timedelta(days=31)  # 30 days' notice, last day included
    with runtime.sessions() as session:
        book = contract_book(session, [4])
        seen, history = get_contract(session, creator(4), contract)
        with pytest.raises(Forbidden):
            get_contract(session, institution(2), contract)
    assert book.in_force(4, TODAY + dt.timedelta(days=30), "ads") is not None
    assert book.in_force(4, TODAY + dt.timedelta(days=31), "ads") is None
    assert seen.id == contract
    assert [(s.action, s.actor_role) for s in history] == [
        ("proposed", "institution"),
        ("accepted", "creator"),
        ("ended", "institution"),
    ]
    with pytest.raises(Conflict, match="ended"), transaction(runtime.sessions) as session:
        end_contract(session, creator(4), contract, last_day=None, now=NOW)


@pytest.mark.parametrize(
    ("splits", "message"),
    [({"ads": 10_001}, "0..10000"), ({"royalties": 10}, "unknown income source")],
)
def test_bad_terms_are_invalid_input(
    runtime: Runtime, seed_platform: SeedPlatform, splits: dict[str, int], message: str
) -> None:
    with pytest.raises(InvalidInput, match=message):
        propose(runtime, 1, 4, splits=splits)


def test_another_institution_cannot_propose_for_one(
    runtime: Runtime, seed_platform: SeedPlatform
) -> None:
    with pytest.raises(Forbidden), transaction(runtime.sessions) as session:
        propose_contract(
            session,
            institution(2),
            1,
            creator_id=4,
            splits=ALL,
            valid_from=TODAY,
            valid_to=None,
            exclusive=False,
            notice_days=0,
            now=NOW,
        )


def test_the_migration_turns_a_single_split_into_every_source(
    runtime: Runtime, seed_platform: SeedPlatform
) -> None:
    config = alembic_config(runtime.engine)
    command.downgrade(config, "0008")
    with runtime.engine.begin() as connection:
        connection.execute(
            sa.text(
                "INSERT INTO institution_contracts (id, institution_id, creator_id, split_bp, "
                "valid_from) VALUES (1, 1, 1, 2500, '2024-01-01')"
            )
        )
    command.upgrade(config, "head")
    with runtime.sessions() as session:
        contract = contract_book(session, [1]).in_force(1, TODAY, "tasks")
    assert contract is not None
    assert dict(contract.splits) == dict.fromkeys(ALL, 2_500)
    assert (contract.status, contract.exclusive) == ("active", False)

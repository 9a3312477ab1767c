"""Institution contracts: proposed by an institution, accepted or declined by the creator,
ended by either side with notice; per-source splits of the creator's income while in force.

Rules, checked here and kept by the tables:

- a contract is in force on ``valid_from <= day < valid_to`` once accepted (``active``, or
  ``ended`` with its last day set); proposed and declined ones never were;
- a creator is under at most one exclusive contract on any day, and an exclusive contract
  shares no day with any other; two non-exclusive contracts may overlap only where they split
  different income sources, so every source of every day has at most one taker;
- no change reaches into the past: a contract starts no earlier than the day it is accepted,
  and ends no earlier than the day it is ended plus its notice;
- every step is kept in ``contract_events`` (the history is never edited).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from guanghe.access import Principal
from guanghe.errors import Conflict, Forbidden, InvalidInput, NotFound
from guanghe.notifications import NoticeDraft, notify_many
from guanghe.store import (
    INCOME_SOURCES,
    ContractEvent,
    ContractSplit,
    Creator,
    Institution,
    InstitutionContract,
)

_CHUNK = 5_000
#: Statuses of contracts that are (or were) in force for their term.
IN_FORCE_STATUSES = ("active", "ended")


@dataclass(frozen=True, slots=True)
class Contract:
    """A contract's terms: ``splits`` maps each income source to the institution's basis
    points of the creator's income from it, on ``valid_from <= day < valid_to``."""

    id: int
    institution_id: int
    creator_id: int
    splits: Mapping[str, int]
    valid_from: dt.date
    valid_to: dt.date | None
    exclusive: bool = False
    notice_days: int = 30
    status: str = "active"

    def in_force(self, day: dt.date) -> bool:
        return (
            self.status in IN_FORCE_STATUSES
            and self.valid_from <= day
            and (self.valid_to is None or day < self.valid_to)
        )

    def overlaps(self, other: Contract) -> bool:
        return (self.valid_to is None or other.valid_from < self.valid_to) and (
            other.valid_to is None or self.valid_from < other.valid_to
        )

    def split_bp(self, source: str) -> int:
        return self.splits.get(source, 0)


@dataclass(frozen=True, slots=True)
class ContractStep:
    """One kept step of a contract's history."""

    action: str
    actor_role: str
    effective_on: dt.date | None
    at: dt.datetime


@dataclass(frozen=True, slots=True)
class ContractBook:
    """The contracts of a set of creators, answering who splits which income on a day."""

    by_creator: dict[int, list[Contract]]

    def in_force(self, creator_id: int, day: dt.date, source: str) -> Contract | None:
        """The contract splitting the creator's ``source`` income on ``day`` (at most one)."""
        for contract in self.by_creator.get(creator_id, []):
            if contract.in_force(day) and contract.split_bp(source) > 0:
                return contract
        return None


def contract_book(session: Session, creator_ids: Iterable[int]) -> ContractBook:
    """All contracts ever in force of ``creator_ids``."""
    wanted = sorted(set(creator_ids))
    by_creator: dict[int, list[Contract]] = {}
    for start in range(0, len(wanted), _CHUNK):
        chunk = wanted[start : start + _CHUNK]
        query = select(InstitutionContract).where(
            InstitutionContract.creator_id.in_(chunk),
            InstitutionContract.status.in_(IN_FORCE_STATUSES),
        )
        for contract in load_contracts(session, query):
            by_creator.setdefault(contract.creator_id, []).append(contract)
    return ContractBook(by_creator)


def load_contracts(session: Session, query: object) -> list[Contract]:
    """The contracts ``query`` (a select of :class:`InstitutionContract`) finds, with splits."""
    rows = list(session.scalars(query))  # type: ignore[call-overload]
    splits: dict[int, dict[str, int]] = {row.id: {} for row in rows}
    ids = list(splits)
    for start in range(0, len(ids), _CHUNK):
        for split in session.scalars(
            select(ContractSplit).where(ContractSplit.contract_id.in_(ids[start : start + _CHUNK]))
        ):
            splits[split.contract_id][split.source] = split.split_bp
    return [_contract(row, splits[row.id]) for row in rows]


def sign_contract(
    session: Session,
    *,
    institution_id: int,
    creator_id: int,
    splits: Mapping[str, int],
    valid_from: dt.date,
    valid_to: dt.date | None = None,
    exclusive: bool = False,
    notice_days: int = 30,
    status: str = "proposed",
) -> Contract:
    """Write a contract with its splits (no checks of who asks: see :func:`propose_contract`)."""
    _check_terms(splits, valid_from, valid_to, notice_days)
    row = InstitutionContract(
        institution_id=institution_id,
        creator_id=creator_id,
        valid_from=valid_from,
        valid_to=valid_to,
        exclusive=exclusive,
        notice_days=notice_days,
        status=status,
    )
    session.add(row)
    session.flush()
    for source in INCOME_SOURCES:
        session.add(
            ContractSplit(contract_id=row.id, source=source, split_bp=splits.get(source, 0))
        )
    session.flush()
    return _contract(row, {s: splits.get(s, 0) for s in INCOME_SOURCES})


def propose_contract(
    session: Session,
    principal: Principal,
    institution_id: int,
    *,
    creator_id: int,
    splits: Mapping[str, int],
    valid_from: dt.date,
    valid_to: dt.date | None,
    exclusive: bool,
    notice_days: int,
    now: dt.datetime,
) -> Contract:
    """An institution (or an operator for it) proposes a contract to a creator; 409 when it
    would overlap a contract in force (see the module's rules)."""
    check_acts_for_institution(session, principal, institution_id)
    if session.get(Creator, creator_id) is None:
        raise NotFound(f"creator {creator_id} does not exist")
    if valid_from < now.date():
        raise InvalidInput("valid_from must not be in the past")
    contract = sign_contract(
        session,
        institution_id=institution_id,
        creator_id=creator_id,
        splits=splits,
        valid_from=valid_from,
        valid_to=valid_to,
        exclusive=exclusive,
        notice_days=notice_days,
    )
    _check_no_overlap(session, contract)
    _record(session, contract.id, "proposed", principal, valid_from, now)
    institution = session.get_one(Institution, institution_id)
    shares = ", ".join(f"{source} {bp / 100:g} %" for source, bp in sorted(splits.items()))
    notify_many(
        session,
        [
            NoticeDraft(
                creator_id,
                "contract_proposal",
                f"{institution.name} proposes a contract",
                f"{institution.name} proposes a contract from {valid_from}"
                + (f" to {valid_to}" if valid_to else "")
                + f"; its shares of your income: {shares or 'none'}. Accept or decline it on "
                "your contracts page.",
                dedupe_key=f"contract:{contract.id}",
                data={"contract_id": contract.id, "institution_id": institution_id},
            )
        ],
        now=now,
    )
    return contract


def accept_contract(
    session: Session, principal: Principal, contract_id: int, *, now: dt.datetime
) -> Contract:
    """The creator accepts a proposed contract; it starts on its ``valid_from`` or today,
    whichever is later. 409 if it is no longer proposed or now overlaps one in force."""
    row = _locked(session, principal, contract_id, parties=("creator",))
    if row.status != "proposed":
        raise Conflict(f"contract {contract_id} is {row.status}, not proposed")
    today = now.date()
    if row.valid_to is not None and row.valid_to <= max(row.valid_from, today):
        raise Conflict(f"contract {contract_id}'s term is over")
    row.valid_from = max(row.valid_from, today)
    row.status = "active"
    session.flush()
    contract = _get(session, contract_id)
    _check_no_overlap(session, contract)
    _record(session, contract_id, "accepted", principal, row.valid_from, now)
    if row.valid_from <= today:
        session.get_one(Creator, row.creator_id).institution_id = row.institution_id
    return contract


def decline_contract(
    session: Session, principal: Principal, contract_id: int, *, now: dt.datetime
) -> Contract:
    """The creator declines a proposed contract (409 if it is not proposed)."""
    row = _locked(session, principal, contract_id, parties=("creator",))
    if row.status != "proposed":
        raise Conflict(f"contract {contract_id} is {row.status}, not proposed")
    row.status = "declined"
    _record(session, contract_id, "declined", principal, None, now)
    return _get(session, contract_id)


def end_contract(
    session: Session,
    principal: Principal,
    contract_id: int,
    *,
    last_day: dt.date | None,
    now: dt.datetime,
) -> Contract:
    """Either side ends an active contract with notice: its last day is ``last_day`` or,
    if none or earlier, today plus the notice. 409 if it is not active."""
    row = _locked(session, principal, contract_id, parties=("creator", "institution"))
    if row.status != "active":
        raise Conflict(f"contract {contract_id} is {row.status}, not active")
    earliest = now.date() + dt.timedelta(days=row.notice_days)
    ends = max(last_day or earliest, earliest, row.valid_from) + dt.timedelta(days=1)
    if row.valid_to is None or ends < row.valid_to:
        row.valid_to = ends
    row.status = "ended"
    _record(session, contract_id, "ended", principal, row.valid_to, now)
    return _get(session, contract_id)


def get_contract(
    session: Session, principal: Principal, contract_id: int
) -> tuple[Contract, list[ContractStep]]:
    """A contract and its whole history, for its two parties and operators."""
    check_contract_role(principal)
    contract = _get(session, contract_id)
    check_can_see_contract(principal, contract)
    steps = session.scalars(
        select(ContractEvent)
        .where(ContractEvent.contract_id == contract_id)
        .order_by(ContractEvent.id)
    )
    return contract, [ContractStep(s.action, s.actor_role, s.effective_on, s.at) for s in steps]


def check_acts_for_institution(session: Session, principal: Principal, institution_id: int) -> None:
    """Operators act for every institution (404 for an id nothing has), an institution for
    itself; 403 otherwise."""
    if principal.role == "institution" and principal.subject_id == institution_id:
        return
    if principal.role != "operator":
        raise Forbidden(f"you do not act for institution {institution_id}")
    if session.get(Institution, institution_id) is None:
        raise NotFound(f"institution {institution_id} does not exist")


def check_contract_role(principal: Principal) -> None:
    """Only operators, the two kinds of party and institutions' agents (who read their
    institution's) deal with contracts; 403 for other roles."""
    if principal.role not in ("operator", "creator", "institution", "agent"):
        raise Forbidden(f"the {principal.role} role has no contracts")


def check_can_see_contract(principal: Principal, contract: Contract) -> None:
    """Operators see every contract; an institution or creator only those it is party to, an
    agent its institution's (403 for the rest). Only parties and operators change them."""
    check_contract_role(principal)
    if principal.role == "operator":
        return
    party = {
        "creator": contract.creator_id,
        "institution": contract.institution_id,
        "agent": contract.institution_id,
    }
    if principal.subject_id == party[principal.role]:
        return
    raise Forbidden(f"contract {contract.id} is not visible to this token")


def _locked(
    session: Session, principal: Principal, contract_id: int, *, parties: tuple[str, ...]
) -> InstitutionContract:
    check_contract_role(principal)
    row = session.get(InstitutionContract, contract_id, with_for_update=True)
    if row is None:
        raise NotFound(f"contract {contract_id} does not exist")
    contract = _contract(row, {})
    check_can_see_contract(principal, contract)
    if principal.role != "operator" and principal.role not in parties:
        raise Forbidden(f"only the {' or '.join(parties)} may do this")
    session.get(Creator, row.creator_id, with_for_update=True)  # one change per creator at once
    return row


def _check_no_overlap(session: Session, contract: Contract) -> None:
    query = select(InstitutionContract).where(
        InstitutionContract.creator_id == contract.creator_id,
        InstitutionContract.id != contract.id,
        InstitutionContract.status.in_(IN_FORCE_STATUSES),
    )
    for other in load_contracts(session, query):
        if not contract.overlaps(other):
            continue
        if contract.exclusive or other.exclusive:
            which = "exclusive " if other.exclusive else ""
            raise Conflict(
                f"{which}contract {other.id} of creator {contract.creator_id} "
                f"(institution {other.institution_id}) is in force on days this one covers"
            )
        shared = [s for s in INCOME_SOURCES if contract.split_bp(s) and other.split_bp(s)]
        if shared:
            raise Conflict(
                f"contract {other.id} of creator {contract.creator_id} already splits "
                f"{', '.join(shared)} income on days this one covers"
            )


def _check_terms(
    splits: Mapping[str, int], valid_from: dt.date, valid_to: dt.date | None, notice_days: int
) -> None:
    unknown = sorted(set(splits) - set(INCOME_SOURCES))
    if unknown:
        raise InvalidInput(f"unknown income source {unknown[0]!r}; expected {INCOME_SOURCES}")
    for source, bp in splits.items():
        if not 0 <= bp <= 10_000:
            raise InvalidInput(f"split of {source} must be 0..10000 basis points, not {bp}")
    if valid_to is not None and valid_to <= valid_from:
        raise InvalidInput("valid_to must be after valid_from")
    if not 0 <= notice_days <= 365:
        raise InvalidInput("notice_days must be 0..365")


def _record(
    session: Session,
    contract_id: int,
    action: str,
    principal: Principal,
    effective_on: dt.date | None,
    now: dt.datetime,
) -> None:
    session.add(
        ContractEvent(
            contract_id=contract_id,
            action=action,
            actor_role=principal.role,
            actor_user_id=principal.user_id,
            effective_on=effective_on,
            at=now,
        )
    )
    session.flush()


def _get(session: Session, contract_id: int) -> Contract:
    found = load_contracts(
        session, select(InstitutionContract).where(InstitutionContract.id == contract_id)
    )
    if not found:
        raise NotFound(f"contract {contract_id} does not exist")
    return found[0]


def _contract(row: InstitutionContract, splits: Mapping[str, int]) -> Contract:
    return Contract(
        id=row.id,
        institution_id=row.institution_id,
        creator_id=row.creator_id,
        splits=dict(splits),
        valid_from=row.valid_from,
        valid_to=row.valid_to,
        exclusive=row.exclusive,
        notice_days=row.notice_days,
        status=row.status,
    )

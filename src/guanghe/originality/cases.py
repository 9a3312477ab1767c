"""Claims, disputes and reviews, their resolution by operators, and the attribution they set.

* A **review** is opened by the check for a ``suspect`` copy. Upheld: the work is a duplicate
  of the suspected original. Rejected: it is an original.
* A **claim** is filed by a creator who says another creator's work copies one of theirs.
  Upheld: the work is a duplicate of the claimed original.
* A **dispute** is filed by a creator whose work was judged a duplicate or suspect. Upheld:
  the work is an original. Rejected: the verdict stands.

Every resolution is logged in ``originality_decisions`` with the operator who made it; a
case is resolved once. A ``duplicate`` verdict opens a match with its original and any other
verdict ends the work's match (:mod:`guanghe.originality.matches`); the original's author's
policy says what happens to the copy (:mod:`guanghe.originality.policies`), and money a
``monetize`` policy moved under a match a decision ends is returned in the same transaction.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Final, Literal

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from guanghe.access import Principal
from guanghe.errors import Conflict, Forbidden, InvalidInput, NotFound
from guanghe.notifications import NoticeDraft, notify_many
from guanghe.originality.matches import sync_match
from guanghe.originality.redirects import post_returns
from guanghe.store import CopyMatch, OriginalityCase, OriginalityDecision, Work, WorkOriginality

Resolution = Literal["uphold", "reject"]
MAX_STATEMENT: Final = 2_000
MAX_CASES: Final = 200


@dataclass(frozen=True, slots=True)
class CaseView:
    id: int
    kind: str
    work_id: int
    work_creator_id: int
    claimed_original_work_id: int | None
    filed_by_creator_id: int | None
    statement: str
    status: str
    opened_at: dt.datetime
    closed_at: dt.datetime | None


@dataclass(frozen=True, slots=True)
class DecisionView:
    id: int
    case_id: int | None
    verdict: str
    original_work_id: int | None
    decided_by_user_id: int | None
    note: str
    decided_at: dt.datetime


@dataclass(frozen=True, slots=True)
class AttributionView:
    """A work's current attribution and every decision that led to it, oldest first."""

    work_id: int
    creator_id: int
    verdict: str
    original_work_id: int | None
    original_creator_id: int | None
    distance: int | None
    evidence: str
    decisions: tuple[DecisionView, ...]


def duplicate_work_ids(session: Session) -> frozenset[int]:
    """Works currently judged duplicates of another creator's original: they get no traffic
    support, incentives or task rewards. (Suspects under review are not excluded.)"""
    return frozenset(
        session.scalars(
            select(WorkOriginality.work_id).where(WorkOriginality.verdict == "duplicate")
        )
    )


def _work_creator(session: Session, work_id: int) -> int:
    creator_id = session.scalar(select(Work.creator_id).where(Work.id == work_id))
    if creator_id is None:
        raise NotFound(f"work {work_id} does not exist")
    return int(creator_id)


def _visible(principal: Principal, *creator_ids: int | None) -> bool:
    if principal.role == "operator":
        return True
    return principal.role == "creator" and principal.subject_id in creator_ids


def _statement(text: str) -> str:
    text = text.strip()
    if not text:
        raise InvalidInput("statement: say why (what was copied, where it was first posted)")
    if len(text) > MAX_STATEMENT:
        raise InvalidInput(f"statement: at most {MAX_STATEMENT} characters")
    return text


def _open_case_exists(session: Session, kind: str, work_id: int, creator_id: int) -> bool:
    return (
        session.scalar(
            select(OriginalityCase.id).where(
                OriginalityCase.kind == kind,
                OriginalityCase.work_id == work_id,
                OriginalityCase.filed_by_creator_id == creator_id,
                OriginalityCase.status == "open",
            )
        )
        is not None
    )


def file_claim(
    session: Session,
    principal: Principal,
    *,
    work_id: int,
    original_work_id: int,
    statement: str,
    now: dt.datetime,
) -> CaseView:
    """A creator claims that ``work_id`` (another creator's) copies their ``original_work_id``."""
    if principal.role != "creator" or principal.subject_id is None:
        raise Forbidden("only creators file claims, for their own works")
    claimant = principal.subject_id
    if _work_creator(session, original_work_id) != claimant:
        raise Forbidden(f"work {original_work_id} is not yours to claim as the original")
    if _work_creator(session, work_id) == claimant:
        raise InvalidInput("a creator's own works are re-posts, not copies; nothing to claim")
    if _open_case_exists(session, "claim", work_id, claimant):
        raise Conflict(f"you already have an open claim on work {work_id}")
    case = OriginalityCase(
        kind="claim",
        work_id=work_id,
        claimed_original_work_id=original_work_id,
        filed_by_creator_id=claimant,
        statement=_statement(statement),
        opened_at=now,
    )
    session.add(case)
    session.flush()
    return _case_view(session, case)


def file_dispute(
    session: Session, principal: Principal, *, work_id: int, statement: str, now: dt.datetime
) -> CaseView:
    """The creator of ``work_id`` disputes its duplicate or suspect verdict."""
    if principal.role != "creator":
        raise Forbidden("only the work's creator can dispute its verdict")
    owner = _work_creator(session, work_id)
    if principal.role != "creator" or principal.subject_id != owner:
        raise Forbidden("only the work's creator can dispute its verdict")
    verdict = session.scalar(
        select(WorkOriginality.verdict).where(WorkOriginality.work_id == work_id)
    )
    if verdict not in ("duplicate", "suspect"):
        raise InvalidInput(f"work {work_id} is not judged a copy; there is nothing to dispute")
    if _open_case_exists(session, "dispute", work_id, owner):
        raise Conflict(f"you already have an open dispute on work {work_id}")
    case = OriginalityCase(
        kind="dispute",
        work_id=work_id,
        filed_by_creator_id=owner,
        statement=_statement(statement),
        opened_at=now,
    )
    session.add(case)
    session.flush()
    return _case_view(session, case)


def list_cases(
    session: Session, principal: Principal, *, status: str | None = None, kind: str | None = None
) -> list[CaseView]:
    """Cases the caller may see, newest first: every case for operators; for a creator, the
    cases they filed and those about their works."""
    query = select(OriginalityCase).join(Work, Work.id == OriginalityCase.work_id)
    if principal.role == "creator":
        query = query.where(
            or_(
                OriginalityCase.filed_by_creator_id == principal.subject_id,
                Work.creator_id == principal.subject_id,
            )
        )
    elif principal.role != "operator":
        raise Forbidden(f"the {principal.role} role has no access to originality cases")
    if status is not None:
        if status not in ("open", "upheld", "rejected"):
            raise InvalidInput(f"status: unknown status {status!r}")
        query = query.where(OriginalityCase.status == status)
    if kind is not None:
        if kind not in ("review", "claim", "dispute"):
            raise InvalidInput(f"kind: unknown case kind {kind!r}")
        query = query.where(OriginalityCase.kind == kind)
    cases = session.scalars(query.order_by(OriginalityCase.id.desc()).limit(MAX_CASES))
    return [_case_view(session, case) for case in cases]


def resolve_case(
    session: Session,
    principal: Principal,
    case_id: int,
    *,
    resolution: Resolution,
    note: str,
    now: dt.datetime,
) -> CaseView:
    """An operator upholds or rejects an open case; the work's attribution follows and the
    decision is logged. Lock: the case row (``FOR UPDATE`` where supported)."""
    if principal.role != "operator":
        raise Forbidden("only operators resolve originality cases")
    if resolution not in ("uphold", "reject"):
        raise InvalidInput(f"resolution: expected 'uphold' or 'reject', not {resolution!r}")
    case = session.scalar(
        select(OriginalityCase).where(OriginalityCase.id == case_id).with_for_update()
    )
    if case is None:
        raise NotFound(f"case {case_id} does not exist")
    if case.status != "open":
        raise Conflict(f"case {case_id} was already {case.status}")
    upheld = resolution == "uphold"
    note = note.strip()[:MAX_STATEMENT] or f"{case.kind} {'upheld' if upheld else 'rejected'}"
    current = session.get(WorkOriginality, case.work_id)
    if case.kind == "dispute":
        # Upheld: the work is an original. Rejected: a suspect becomes a duplicate.
        original = None if upheld else (current.original_work_id if current else None)
    elif upheld:  # a review or a claim upheld: a duplicate of the named original
        original = case.claimed_original_work_id
    elif case.kind == "review":
        original = None
    else:  # a claim rejected: the attribution stands
        original = current.original_work_id if current and current.verdict == "duplicate" else None
    _set_attribution(
        session,
        case.work_id,
        original,
        case_id=case.id,
        user_id=principal.user_id,
        note=note,
        now=now,
    )
    case.status = "upheld" if upheld else "rejected"
    case.closed_at = now
    session.flush()
    # Money a monetize policy moved under a match this decision ended goes back now (a
    # return the ledger refuses is owed still, and retried by the cycle's copy_earnings step).
    post_returns(session, now=now, match_ids=_matches_ended_by(session, case.id))
    _notify_decision(session, case, note, now=now)
    return _case_view(session, case)


def _matches_ended_by(session: Session, case_id: int) -> list[int]:
    return list(
        session.scalars(
            select(CopyMatch.id)
            .join(OriginalityDecision, OriginalityDecision.id == CopyMatch.ended_by_decision_id)
            .where(OriginalityDecision.case_id == case_id)
        )
    )


def _notify_decision(
    session: Session, case: OriginalityCase, note: str, *, now: dt.datetime
) -> None:
    """Tell the work's creator, and the creator who filed the case, how it was decided (in
    the decision's transaction)."""
    verdict = session.get(WorkOriginality, case.work_id)
    owner = _work_creator(session, case.work_id)
    subject = f"Originality {case.kind} on work {case.work_id}: {case.status}"
    notify_many(
        session,
        [
            NoticeDraft(
                creator_id,
                "originality_decision",
                subject,
                note,
                dedupe_key=f"originality-case:{case.id}",
                data={
                    "case_id": case.id,
                    "kind": case.kind,
                    "work_id": case.work_id,
                    "status": case.status,
                    "verdict": verdict.verdict if verdict else None,
                },
            )
            for creator_id in sorted({owner, case.filed_by_creator_id or owner})
        ],
        now=now,
    )


def _set_attribution(
    session: Session,
    work_id: int,
    original_work_id: int | None,
    *,
    case_id: int,
    user_id: int,
    note: str,
    now: dt.datetime,
) -> None:
    """Attribute ``work_id`` to the root of ``original_work_id`` (None: an original) and
    re-root the works attributed to ``work_id``: a copy of a copy names the first original."""
    root = None if original_work_id is None else _root_of(session, original_work_id)
    if root == work_id:
        raise Conflict(
            f"work {original_work_id} is itself attributed to work {work_id}; "
            f"resolve work {original_work_id}'s attribution first"
        )
    _attribute(session, work_id, root, case_id=case_id, user_id=user_id, note=note, now=now)
    if root is None:
        return
    root_creator = _work_creator(session, root)
    copies = session.execute(
        select(WorkOriginality.work_id, WorkOriginality.verdict, Work.creator_id)
        .join(Work, Work.id == WorkOriginality.work_id)
        .where(WorkOriginality.original_work_id == work_id)
        .order_by(WorkOriginality.work_id)
    ).all()
    for copy_id, verdict, copy_creator in copies:
        own = copy_creator == root_creator  # a copy of a copy of one's own work: a re-post
        _attribute(
            session,
            copy_id,
            None if own else root,
            suspect=verdict == "suspect" and not own,
            case_id=case_id,
            user_id=user_id,
            note=f"re-rooted: work {work_id} was ruled a copy of work {root} in case {case_id}",
            now=now,
        )


def _root_of(session: Session, work_id: int) -> int:
    """The original ``work_id`` is attributed to (itself if it is an original)."""
    _work_creator(session, work_id)
    original = session.scalar(
        select(WorkOriginality.original_work_id).where(
            WorkOriginality.work_id == work_id, WorkOriginality.verdict == "duplicate"
        )
    )
    return work_id if original is None else int(original)


def _attribute(
    session: Session,
    work_id: int,
    original_work_id: int | None,
    *,
    case_id: int,
    user_id: int,
    note: str,
    now: dt.datetime,
    suspect: bool = False,
) -> None:
    """Set and log ``work_id``'s attribution; ``suspect`` keeps a copy under review one."""
    verdict = "original" if original_work_id is None else "suspect" if suspect else "duplicate"
    original_creator = (
        None if original_work_id is None else _work_creator(session, original_work_id)
    )
    row = session.get(WorkOriginality, work_id)
    if row is None:
        row = WorkOriginality(work_id=work_id, evidence="", decided_at=now)
        session.add(row)
    row.verdict = verdict
    row.original_work_id = original_work_id
    row.original_creator_id = original_creator
    row.evidence = f"decided by an operator in case {case_id}"
    row.decided_at = now
    decision = OriginalityDecision(
        work_id=work_id,
        case_id=case_id,
        verdict=verdict,
        original_work_id=original_work_id,
        decided_by_user_id=user_id,
        note=note,
        decided_at=now,
    )
    session.add(decision)
    session.flush()
    sync_match(session, decision)


def work_attribution(session: Session, principal: Principal, work_id: int) -> AttributionView:
    """The attribution of a work and its decision log (operators, the work's creator and the
    creator it was attributed to)."""
    if principal.role not in ("operator", "creator"):
        raise Forbidden(f"the {principal.role} role has no access to originality verdicts")
    owner = _work_creator(session, work_id)
    row = session.get(WorkOriginality, work_id)
    if not _visible(principal, owner, row.original_creator_id if row else None):
        raise Forbidden(f"work {work_id}'s attribution is not visible to this token")
    if row is None:
        raise NotFound(f"work {work_id} has not been checked for originality")
    decisions = session.scalars(
        select(OriginalityDecision)
        .where(OriginalityDecision.work_id == work_id)
        .order_by(OriginalityDecision.id)
    )
    return AttributionView(
        work_id=work_id,
        creator_id=owner,
        verdict=row.verdict,
        original_work_id=row.original_work_id,
        original_creator_id=row.original_creator_id,
        distance=row.distance,
        evidence=row.evidence,
        decisions=tuple(
            DecisionView(
                d.id,
                d.case_id,
                d.verdict,
                d.original_work_id,
                d.decided_by_user_id,
                d.note,
                d.decided_at,
            )
            for d in decisions
        ),
    )


def _case_view(session: Session, case: OriginalityCase) -> CaseView:
    return CaseView(
        id=case.id,
        kind=case.kind,
        work_id=case.work_id,
        work_creator_id=_work_creator(session, case.work_id),
        claimed_original_work_id=case.claimed_original_work_id,
        filed_by_creator_id=case.filed_by_creator_id,
        statement=case.statement,
        status=case.status,
        opened_at=case.opened_at,
        closed_at=case.closed_at,
    )


@dataclass(frozen=True, slots=True)
class CopyView:
    """A work judged a duplicate or suspect copy, with what it copies."""

    work_id: int
    creator_id: int
    title: str
    verdict: str
    original_work_id: int | None
    original_creator_id: int | None
    distance: int | None
    evidence: str
    decided_at: dt.datetime


def recent_copies(session: Session, principal: Principal, *, limit: int = 50) -> list[CopyView]:
    """Works judged copies, newest decision first: all for operators; for a creator, their
    works judged copies and the copies of their works."""
    query = (
        select(
            WorkOriginality.work_id,
            Work.creator_id,
            Work.title,
            WorkOriginality.verdict,
            WorkOriginality.original_work_id,
            WorkOriginality.original_creator_id,
            WorkOriginality.distance,
            WorkOriginality.evidence,
            WorkOriginality.decided_at,
        )
        .join(Work, Work.id == WorkOriginality.work_id)
        .where(WorkOriginality.verdict != "original")
    )
    if principal.role == "creator":
        query = query.where(
            or_(
                Work.creator_id == principal.subject_id,
                WorkOriginality.original_creator_id == principal.subject_id,
            )
        )
    elif principal.role != "operator":
        raise Forbidden(f"the {principal.role} role has no access to originality verdicts")
    rows = session.execute(
        query.order_by(WorkOriginality.decided_at.desc(), WorkOriginality.work_id.desc()).limit(
            min(limit, MAX_CASES)
        )
    )
    return [CopyView(*row) for row in rows]

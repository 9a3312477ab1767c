"""Match records: a copy matched against an original, from the decision that established it
(the check at publication, or an operator's) until a later decision ends it.

A match is opened whenever a work's attribution becomes ``duplicate`` of an original, and
ended (never deleted) when the attribution changes: a won dispute makes the work an original,
a re-rooting names another original. The policy of the original's author applies to matches
in force; money a ``monetize`` policy redirected under a match that ended is returned
(:mod:`guanghe.originality.redirects`).

A picture match covers the whole copy. Video and audio matches carry their segments
(:class:`Segment`): what of the copy, from where to where, matches what of the original.

Opening a match notifies, in the same transaction (:func:`guanghe.notifications.notify_many`,
kind ``originality_decision``), the original's author and the copy's uploader: which work and
which stretch matched whose, and for the uploader the dispute path. The keys
``copy-match:<match id>:original`` and ``copy-match:<match id>:uploader`` make it once each.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from dataclasses import dataclass

from sqlalchemy import or_, select
from sqlalchemy.orm import Session, aliased

from guanghe.access import Principal
from guanghe.errors import Forbidden, NotFound
from guanghe.ledger import code_totals, source_amounts
from guanghe.notifications import NoticeDraft, notify_many
from guanghe.originality.policies import DEFAULT_POLICY, policies_in_force
from guanghe.store import CopyMatch, OriginalityCase, OriginalityDecision, Work

MAX_MATCHES = 200
#: Ledger source kind of the transfers redirecting (and returning) a copy's earnings.
MATCH_SOURCE = "copy_match"
REDIRECT_CODE = "copy_earnings_redirect"
RETURN_CODE = "copy_earnings_return"


@dataclass(frozen=True, slots=True)
class Segment:
    """The matching part of a video or audio copy: milliseconds of each work and the share of
    the copy covered (basis points)."""

    copy_start_ms: int
    copy_end_ms: int
    original_start_ms: int
    original_end_ms: int
    copy_share_bp: int


@dataclass(frozen=True, slots=True)
class MatchView:
    """One match as its uploader, the original's author and operators see it: which work of
    whom it matches, why, since when, the policy in force and the money it moved."""

    id: int
    copy_work_id: int
    copy_creator_id: int
    copy_title: str
    original_work_id: int
    original_creator_id: int
    original_title: str
    media: str
    copy_start_ms: int | None
    copy_end_ms: int | None
    original_start_ms: int | None
    original_end_ms: int | None
    copy_share_bp: int | None
    distance: int | None
    evidence: str
    why: str
    effective_at: dt.datetime
    ended_at: dt.datetime | None
    in_force: bool
    policy: str
    redirected_fen: int
    returned_fen: int
    dispute_case_id: int | None
    dispute_status: str | None


def sync_match(
    session: Session,
    decision: OriginalityDecision,
    *,
    distance: int | None = None,
    evidence: str = "",
    media: str = "picture",
    segment: Segment | None = None,
) -> CopyMatch | None:
    """Bring ``decision.work_id``'s matches in line with ``decision`` (flushed): a
    ``duplicate`` verdict opens a match with its original unless one is in force; every other
    match in force of the work ends. Returns the match in force, if any."""
    current = list(
        session.scalars(
            select(CopyMatch)
            .where(CopyMatch.copy_work_id == decision.work_id, CopyMatch.ended_at.is_(None))
            .order_by(CopyMatch.id)
        )
    )
    keep = None
    if decision.verdict == "duplicate" and decision.original_work_id is not None:
        keep = next((m for m in current if m.original_work_id == decision.original_work_id), None)
    for match in current:
        if match is not keep:
            match.ended_at = max(decision.decided_at, match.effective_at)
            match.ended_by_decision_id = decision.id
    if keep is not None or decision.verdict != "duplicate" or decision.original_work_id is None:
        session.flush()
        return keep
    author = session.get_one(Work, decision.original_work_id).creator_id
    match = CopyMatch(
        copy_work_id=decision.work_id,
        original_work_id=decision.original_work_id,
        original_creator_id=author,
        media=media,
        distance=distance,
        evidence=(evidence or decision.note)[:200],
        effective_at=decision.decided_at,
        decision_id=decision.id,
    )
    if segment is not None:
        match.copy_start_ms, match.copy_end_ms = segment.copy_start_ms, segment.copy_end_ms
        match.original_start_ms = segment.original_start_ms
        match.original_end_ms = segment.original_end_ms
        match.copy_share_bp = segment.copy_share_bp
    session.add(match)
    session.flush()
    _notify_opened(session, match, now=decision.decided_at)
    return match


def _stretch(match: CopyMatch) -> str:
    """What of the copy matches what of the original, in words."""
    if match.copy_start_ms is None or match.copy_end_ms is None:
        return (
            f"the {match.media} of work {match.copy_work_id} matches work {match.original_work_id}"
        )
    share = f" ({match.copy_share_bp / 100:.0f} % of it)" if match.copy_share_bp is not None else ""
    line = (
        f"the {match.media} of work {match.copy_work_id} from "
        f"{match.copy_start_ms / 1000:.1f} s to {match.copy_end_ms / 1000:.1f} s{share} "
        f"matches work {match.original_work_id}"
    )
    if match.original_start_ms is not None and match.original_end_ms is not None:
        line += (
            f" from {match.original_start_ms / 1000:.1f} s to {match.original_end_ms / 1000:.1f} s"
        )
    return line


def _notify_opened(session: Session, match: CopyMatch, *, now: dt.datetime) -> None:
    """Tell the original's author and the copy's uploader of a match just opened (see the
    module docstring)."""
    uploader = session.get_one(Work, match.copy_work_id).creator_id
    stretch = _stretch(match)
    evidence = f" Evidence: {match.evidence}." if match.evidence else ""
    data = {
        "match_id": match.id,
        "copy_work_id": match.copy_work_id,
        "original_work_id": match.original_work_id,
        "original_creator_id": match.original_creator_id,
        "uploader_creator_id": uploader,
        "media": match.media,
        "copy_start_ms": match.copy_start_ms,
        "copy_end_ms": match.copy_end_ms,
        "original_start_ms": match.original_start_ms,
        "original_end_ms": match.original_end_ms,
        "copy_share_bp": match.copy_share_bp,
    }
    drafts = [
        NoticeDraft(
            match.original_creator_id,
            "originality_decision",
            f"Work {match.original_work_id} was copied by work {match.copy_work_id}",
            f"A copy of your work was found: {stretch} (uploaded by creator {uploader})."
            f"{evidence} Your match policy applies to it while the match is in force.",
            dedupe_key=f"copy-match:{match.id}:original",
            data={**data, "role": "original"},
        ),
        NoticeDraft(
            uploader,
            "originality_decision",
            f"Work {match.copy_work_id} matches work {match.original_work_id}",
            f"Your upload repeats another creator's work: {stretch} (work of creator "
            f"{match.original_creator_id}).{evidence} If the work is yours or you may use "
            f"it, dispute the verdict: POST /v1/originality/disputes "
            f'{{"work_id": {match.copy_work_id}, "statement": "..."}}; an operator decides, '
            "and a won dispute ends the match.",
            dedupe_key=f"copy-match:{match.id}:uploader",
            data={**data, "role": "uploader", "dispute_path": "POST /v1/originality/disputes"},
        ),
    ]
    notify_many(session, drafts, now=now)


def list_matches(
    session: Session,
    principal: Principal,
    *,
    in_force: bool | None = None,
    limit: int = MAX_MATCHES,
) -> list[MatchView]:
    """Matches the caller may see, newest first: all for operators; for a creator, matches of
    their works against others' and of others' works against theirs."""
    query = select(CopyMatch).join(Work, Work.id == CopyMatch.copy_work_id)
    if principal.role == "creator":
        query = query.where(
            or_(
                Work.creator_id == principal.subject_id,
                CopyMatch.original_creator_id == principal.subject_id,
            )
        )
    elif principal.role != "operator":
        raise Forbidden(f"the {principal.role} role has no access to copy matches")
    if in_force is not None:
        query = query.where(
            CopyMatch.ended_at.is_(None) if in_force else CopyMatch.ended_at.is_not(None)
        )
    rows = list(session.scalars(query.order_by(CopyMatch.id.desc()).limit(min(limit, MAX_MATCHES))))
    return _views(session, rows)


def get_match(session: Session, principal: Principal, match_id: int) -> MatchView:
    """One match (operators, the copy's uploader and the original's author)."""
    if principal.role not in ("operator", "creator"):
        raise Forbidden(f"the {principal.role} role has no access to copy matches")
    match = session.get(CopyMatch, match_id)
    if match is None:
        raise NotFound(f"match {match_id} does not exist")
    view = _views(session, [match])[0]
    if principal.role == "creator" and principal.subject_id not in (
        view.copy_creator_id,
        view.original_creator_id,
    ):
        raise Forbidden(f"match {match_id} is not about your works")
    return view


def _views(session: Session, matches: list[CopyMatch]) -> list[MatchView]:
    if not matches:
        return []
    copy, original = aliased(Work), aliased(Work)
    ids = [m.id for m in matches]
    works = {
        int(mid): (int(cc), str(ct), str(ot))
        for mid, cc, ct, ot in session.execute(
            select(CopyMatch.id, copy.creator_id, copy.title, original.title)
            .join(copy, copy.id == CopyMatch.copy_work_id)
            .join(original, original.id == CopyMatch.original_work_id)
            .where(CopyMatch.id.in_(ids))
        )
    }
    notes = {
        int(decision): str(note)
        for decision, note in session.execute(
            select(OriginalityDecision.id, OriginalityDecision.note).where(
                OriginalityDecision.id.in_([m.decision_id for m in matches if m.decision_id])
            )
        )
    }
    disputes: dict[int, tuple[int, str]] = {}
    for case_id, work_id, status in session.execute(
        select(OriginalityCase.id, OriginalityCase.work_id, OriginalityCase.status)
        .where(
            OriginalityCase.kind == "dispute",
            OriginalityCase.work_id.in_({m.copy_work_id for m in matches}),
        )
        .order_by(OriginalityCase.id)
    ):
        disputes[int(work_id)] = (int(case_id), str(status))  # the newest dispute
    policies = policies_in_force(session, {m.original_work_id for m in matches})
    redirected = _per_match(source_amounts(session, MATCH_SOURCE, REDIRECT_CODE))
    returned = _per_match(source_amounts(session, MATCH_SOURCE, RETURN_CODE))
    views = []
    for m in matches:
        copy_creator, copy_title, original_title = works[m.id]
        dispute = disputes.get(m.copy_work_id)
        views.append(
            MatchView(
                id=m.id,
                copy_work_id=m.copy_work_id,
                copy_creator_id=copy_creator,
                copy_title=copy_title,
                original_work_id=m.original_work_id,
                original_creator_id=m.original_creator_id,
                original_title=original_title,
                media=m.media,
                copy_start_ms=m.copy_start_ms,
                copy_end_ms=m.copy_end_ms,
                original_start_ms=m.original_start_ms,
                original_end_ms=m.original_end_ms,
                copy_share_bp=m.copy_share_bp,
                distance=m.distance,
                evidence=m.evidence,
                why=notes.get(m.decision_id, m.evidence) if m.decision_id else m.evidence,
                effective_at=m.effective_at,
                ended_at=m.ended_at,
                in_force=m.ended_at is None,
                policy=policies.get(m.original_work_id, DEFAULT_POLICY),
                redirected_fen=redirected.get(m.id, 0),
                returned_fen=returned.get(m.id, 0),
                dispute_case_id=dispute[0] if dispute else None,
                dispute_status=dispute[1] if dispute else None,
            )
        )
    return views


def _per_match(amounts: dict[str, int]) -> dict[int, int]:
    """Sum ``"<match id>:<income transfer id>"`` source amounts per match."""
    totals: dict[int, int] = {}
    for source, amount in amounts.items():
        match_id = int(source.split(":", 1)[0])
        totals[match_id] = totals.get(match_id, 0) + amount
    return totals


@dataclass(frozen=True, slots=True)
class MatchFigures:
    """Matches that took effect in a period, by the policy now in force for them, and the
    money moved for business days of the period (redirected, and returned after disputes)."""

    matches: int
    tracked: int
    blocked: int
    monetized: int
    redirected_fen: int
    returned_fen: int


def match_figures(session: Session, start: dt.date, end: dt.date) -> MatchFigures:
    """The :class:`MatchFigures` of the days ``start`` to ``end`` (inclusive, UTC)."""
    since = dt.datetime.combine(start, dt.time(), tzinfo=dt.UTC)
    until = dt.datetime.combine(end + dt.timedelta(days=1), dt.time(), tzinfo=dt.UTC)
    originals = list(
        session.scalars(
            select(CopyMatch.original_work_id).where(
                CopyMatch.effective_at >= since, CopyMatch.effective_at < until
            )
        )
    )
    policies = policies_in_force(session, set(originals))
    counts = Counter(policies.get(o, DEFAULT_POLICY) for o in originals)
    money = code_totals(session, (REDIRECT_CODE, RETURN_CODE), days=(start, end))
    return MatchFigures(
        matches=len(originals),
        tracked=counts["track"],
        blocked=counts["block"],
        monetized=counts["monetize"],
        redirected_fen=money.get(REDIRECT_CODE, 0),
        returned_fen=money.get(RETURN_CODE, 0),
    )

"""What publishing a video does with its segment matches, and who sees them.

Matches are attributed to the matched work's root original (as the picture check does); the
uploader's own works are re-posts, not copies. A picture or sound match of another creator's
earlier work makes the upload a ``duplicate`` of the root with the longest matched stretch
(picture before sound), unless the picture check already found a duplicate; every match is
kept in ``media_matches`` with both segments, so policies and disputes can name them.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, replace

from sqlalchemy import select
from sqlalchemy.orm import Session

from guanghe.access import Principal
from guanghe.errors import Forbidden, InvalidInput, NotFound
from guanghe.originality.attribution import OriginalityCheck
from guanghe.originality.matches import Segment
from guanghe.originality.segments import SegmentMatch
from guanghe.store import MediaMatch, SharedMusic, Work, WorkOriginality

MAX_NOTE = 500


@dataclass(frozen=True, slots=True)
class RootedMatch:
    """A segment match with the root original of the matched work."""

    match: SegmentMatch
    original_work_id: int
    original_creator_id: int

    def describe(self) -> str:
        """The match's line, naming the root when the matched work is a copy of it."""
        line = self.match.describe()
        if self.match.work_id != self.original_work_id:
            line += f" (a copy of work {self.original_work_id})"
        return line


@dataclass(frozen=True, slots=True)
class MediaMatchView:
    id: int
    work_id: int
    matched_work_id: int
    original_work_id: int
    original_creator_id: int
    kind: str
    upload_start_s: float
    upload_end_s: float
    original_start_s: float
    original_end_s: float
    upload_share: float
    speed: float
    mirrored: bool
    score: float
    evidence: str
    matched_at: dt.datetime


@dataclass(frozen=True, slots=True)
class SharedMusicView:
    work_id: int
    note: str
    marked_by_user_id: int | None
    marked_at: dt.datetime


def rooted_copies(
    session: Session, matches: list[SegmentMatch], *, creator_id: int
) -> list[RootedMatch]:
    """``matches`` of works whose root original is another creator's: one per root and kind,
    of the root itself when it matched (its timeline is the original's), else the strongest."""
    if not matches:
        return []
    matched = {m.work_id for m in matches}
    attributed = dict(
        session.execute(
            select(WorkOriginality.work_id, WorkOriginality.original_work_id).where(
                WorkOriginality.work_id.in_(matched),
                WorkOriginality.original_work_id.is_not(None),
            )
        ).all()
    )
    root_of = {w: int(attributed.get(w) or w) for w in matched}
    owners = dict(
        session.execute(
            select(Work.id, Work.creator_id).where(Work.id.in_(set(root_of.values())))
        ).all()
    )
    chosen: dict[tuple[int, str], RootedMatch] = {}
    for match in matches:
        root = root_of[match.work_id]
        owner = owners.get(root)
        if owner is None or owner == creator_id:
            continue
        held = chosen.get((root, match.kind))
        if held is None or (match.work_id == root and held.match.work_id != root):
            chosen[(root, match.kind)] = RootedMatch(match, root, int(owner))
    return list(chosen.values())


def deciding_copy(check: OriginalityCheck, copies: list[RootedMatch]) -> RootedMatch | None:
    """The segment match that makes the upload a copy when the picture check did not: a video
    match before a sound match, then the largest share of the upload."""
    if not copies or check.verdict == "duplicate":
        return None
    return max(copies, key=lambda c: (c.match.kind == "video", c.match.upload_share))


def with_media_verdict(check: OriginalityCheck, deciding: RootedMatch | None) -> OriginalityCheck:
    """The picture check's verdict, made ``duplicate`` of the original of the ``deciding``
    segment match (see :func:`deciding_copy` and the module docstring)."""
    if deciding is None:
        return check
    return replace(
        check,
        verdict="duplicate",
        original_work_id=deciding.original_work_id,
        original_creator_id=deciding.original_creator_id,
        distance=None,
        own_work_id=None,
        evidence=deciding.describe()[:200],
    )


def match_segment(deciding: RootedMatch) -> Segment:
    """The copy match's segment of a deciding segment match (milliseconds, basis points)."""
    m = deciding.match
    return Segment(
        copy_start_ms=round(m.upload_start_s * 1000),
        copy_end_ms=round(m.upload_end_s * 1000),
        original_start_ms=round(m.original_start_s * 1000),
        original_end_ms=round(m.original_end_s * 1000),
        copy_share_bp=round(m.upload_share * 10_000),
    )


def record_matches(
    session: Session, work_id: int, copies: list[RootedMatch], *, now: dt.datetime
) -> None:
    """Keep every match of a just published work."""
    session.add_all(
        MediaMatch(
            work_id=work_id,
            matched_work_id=c.match.work_id,
            original_work_id=c.original_work_id,
            original_creator_id=c.original_creator_id,
            kind=c.match.kind,
            upload_start_ms=round(c.match.upload_start_s * 1000),
            upload_end_ms=round(c.match.upload_end_s * 1000),
            original_start_ms=round(c.match.original_start_s * 1000),
            original_end_ms=round(c.match.original_end_s * 1000),
            upload_share=c.match.upload_share,
            speed=c.match.speed,
            mirrored=c.match.mirrored,
            score=c.match.score,
            evidence=c.describe()[:300],
            matched_at=now,
        )
        for c in copies
    )


def work_matches(session: Session, principal: Principal, work_id: int) -> list[MediaMatchView]:
    """The segment matches of a work (operators; the work's creator; the creators it copies,
    who see only the matches of their own works)."""
    if principal.role not in ("operator", "creator"):
        raise Forbidden(f"the {principal.role} role has no access to originality matches")
    owner = session.scalar(select(Work.creator_id).where(Work.id == work_id))
    if owner is None:
        raise NotFound(f"work {work_id} does not exist")
    query = select(MediaMatch).where(MediaMatch.work_id == work_id).order_by(MediaMatch.id)
    if principal.role == "creator" and principal.subject_id != owner:
        query = query.where(MediaMatch.original_creator_id == principal.subject_id)
        if not session.scalar(query.limit(1)):
            raise Forbidden(f"work {work_id}'s matches are not visible to this token")
    return [_view(row) for row in session.scalars(query)]


def _view(row: MediaMatch) -> MediaMatchView:
    return MediaMatchView(
        id=row.id,
        work_id=row.work_id,
        matched_work_id=row.matched_work_id,
        original_work_id=row.original_work_id,
        original_creator_id=row.original_creator_id,
        kind=row.kind,
        upload_start_s=row.upload_start_ms / 1000,
        upload_end_s=row.upload_end_ms / 1000,
        original_start_s=row.original_start_ms / 1000,
        original_end_s=row.original_end_ms / 1000,
        upload_share=row.upload_share,
        speed=row.speed,
        mirrored=row.mirrored,
        score=row.score,
        evidence=row.evidence,
        matched_at=row.matched_at,
    )


def mark_shared_music(
    session: Session,
    principal: Principal,
    work_id: int,
    *,
    note: str,
    now: dt.datetime,
) -> SharedMusicView:
    """Operators mark a work's sound as shared music (idempotent: a second mark keeps the first)."""
    if principal.role != "operator":
        raise Forbidden("only operators mark shared music")
    note = note.strip()
    if len(note) > MAX_NOTE:
        raise InvalidInput(f"note: at most {MAX_NOTE} characters")
    if session.get(Work, work_id) is None:
        raise NotFound(f"work {work_id} does not exist")
    row = session.get(SharedMusic, work_id)
    if row is None:
        row = SharedMusic(
            work_id=work_id, note=note, marked_by_user_id=principal.user_id or None, marked_at=now
        )
        session.add(row)
        session.flush()
    return SharedMusicView(row.work_id, row.note, row.marked_by_user_id, row.marked_at)


def list_shared_music(session: Session, principal: Principal) -> list[SharedMusicView]:
    """Every work marked as shared music (operators and creators)."""
    if principal.role not in ("operator", "creator"):
        raise Forbidden(f"the {principal.role} role has no access to shared music")
    rows = session.scalars(select(SharedMusic).order_by(SharedMusic.work_id))
    return [SharedMusicView(r.work_id, r.note, r.marked_by_user_id, r.marked_at) for r in rows]

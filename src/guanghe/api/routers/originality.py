"""``/v1/originality``: attribution of works, claims, disputes, the operators' case queue,
matches and the original authors' copy policies."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Literal

from fastapi import APIRouter, Query
from pydantic import BaseModel, Field

from guanghe import originality
from guanghe.api.fields import BodyId, IdPath, StorableText
from guanghe.http.deps import PrincipalDep, SessionDep

router = APIRouter(prefix="/v1/originality", tags=["originality"])

WorkId = IdPath


class DecisionOut(BaseModel):
    id: int
    case_id: int | None
    verdict: str
    original_work_id: int | None
    decided_by_user_id: int | None
    note: str
    decided_at: dt.datetime


class AttributionOut(BaseModel):
    work_id: int
    creator_id: int
    verdict: str
    original_work_id: int | None
    original_creator_id: int | None
    distance: int | None
    evidence: str
    decisions: list[DecisionOut]


class CaseOut(BaseModel):
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


class ClaimIn(BaseModel):
    work_id: BodyId = Field(description="the work that copies yours")
    original_work_id: BodyId = Field(description="your original work")
    statement: StorableText = Field(min_length=1, max_length=2_000)


class DisputeIn(BaseModel):
    work_id: BodyId = Field(description="your work judged a copy")
    statement: StorableText = Field(min_length=1, max_length=2_000)


class ResolutionIn(BaseModel):
    resolution: Literal["uphold", "reject"]
    note: StorableText = Field(default="", max_length=2_000)


class MediaMatchOut(BaseModel):
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


class SharedMusicIn(BaseModel):
    work_id: BodyId = Field(description="the work whose sound is shared music")
    note: StorableText = Field(default="", max_length=500)


class SharedMusicOut(BaseModel):
    work_id: int
    note: str
    marked_by_user_id: int | None
    marked_at: dt.datetime


def _case(view: originality.CaseView) -> CaseOut:
    return CaseOut.model_validate(view, from_attributes=True)


@router.get("/works/{work_id}")
def get_attribution(
    session: SessionDep, principal: PrincipalDep, work_id: WorkId
) -> AttributionOut:
    """A work's verdict and every decision about it."""
    view = originality.work_attribution(session, principal, work_id)
    return AttributionOut.model_validate(view, from_attributes=True)


@router.get("/works/{work_id}/matches")
def get_matches(
    session: SessionDep, principal: PrincipalDep, work_id: WorkId
) -> list[MediaMatchOut]:
    """Which stretches of a video repeat which stretches of other creators' works, in picture
    or sound (the work's creator and operators; an original's creator sees the matches of
    their own works)."""
    return [
        MediaMatchOut.model_validate(v, from_attributes=True)
        for v in originality.work_matches(session, principal, work_id)
    ]


@router.get("/shared-music")
def list_shared_music(session: SessionDep, principal: PrincipalDep) -> list[SharedMusicOut]:
    """Works whose sound is shared music (using it is no copy)."""
    return [
        SharedMusicOut.model_validate(v, from_attributes=True)
        for v in originality.list_shared_music(session, principal)
    ]


@router.post("/shared-music", status_code=201)
def mark_shared_music(
    session: SessionDep, principal: PrincipalDep, shared: SharedMusicIn
) -> SharedMusicOut:
    """Operators mark a work's sound as shared music: later uploads using it are no copies."""
    view = originality.mark_shared_music(
        session, principal, shared.work_id, note=shared.note, now=dt.datetime.now(dt.UTC)
    )
    return SharedMusicOut.model_validate(view, from_attributes=True)


@router.post("/claims", status_code=201)
def file_claim(session: SessionDep, principal: PrincipalDep, claim: ClaimIn) -> CaseOut:
    """A creator claims that another creator's work copies one of theirs."""
    view = originality.file_claim(
        session,
        principal,
        work_id=claim.work_id,
        original_work_id=claim.original_work_id,
        statement=claim.statement,
        now=dt.datetime.now(dt.UTC),
    )
    return _case(view)


@router.post("/disputes", status_code=201)
def file_dispute(session: SessionDep, principal: PrincipalDep, dispute: DisputeIn) -> CaseOut:
    """A creator disputes the duplicate or suspect verdict on their own work."""
    view = originality.file_dispute(
        session,
        principal,
        work_id=dispute.work_id,
        statement=dispute.statement,
        now=dt.datetime.now(dt.UTC),
    )
    return _case(view)


@router.get("/cases")
def list_cases(
    session: SessionDep,
    principal: PrincipalDep,
    status: Annotated[Literal["open", "upheld", "rejected"] | None, Query()] = None,
    kind: Annotated[Literal["review", "claim", "dispute"] | None, Query()] = None,
) -> list[CaseOut]:
    """Operators: every case; creators: the cases they filed or that concern their works."""
    return [_case(v) for v in originality.list_cases(session, principal, status=status, kind=kind)]


@router.post("/cases/{case_id}/resolution")
def resolve_case(
    session: SessionDep,
    principal: PrincipalDep,
    case_id: IdPath,
    resolution: ResolutionIn,
) -> CaseOut:
    """An operator upholds or rejects an open case; the decision is kept."""
    view = originality.resolve_case(
        session,
        principal,
        case_id,
        resolution=resolution.resolution,
        note=resolution.note,
        now=dt.datetime.now(dt.UTC),
    )
    return _case(view)


class MatchOut(BaseModel):
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


class PolicyIn(BaseModel):
    policy: Literal["track", "block", "monetize"]
    work_id: BodyId | None = Field(
        default=None, description="one of your works; absent: all your works"
    )


class PolicyChoiceOut(BaseModel):
    id: int
    creator_id: int
    work_id: int | None
    policy: str
    chosen_by_user_id: int | None
    chosen_at: dt.datetime


class WorkPolicyOut(BaseModel):
    work_id: int
    title: str
    policy: str
    chosen_for_work: bool


class AuthorPoliciesOut(BaseModel):
    creator_id: int
    all_works: str
    works: list[WorkPolicyOut]
    choices: list[PolicyChoiceOut]


@router.get("/matches")
def list_matches(
    session: SessionDep,
    principal: PrincipalDep,
    in_force: Annotated[bool | None, Query()] = None,
) -> list[MatchOut]:
    """Operators: every match; creators: matches of their works and of copies of theirs,
    with why, the policy in force and the money moved."""
    views = originality.list_matches(session, principal, in_force=in_force)
    return [MatchOut.model_validate(v, from_attributes=True) for v in views]


@router.get("/matches/{match_id}")
def get_match(session: SessionDep, principal: PrincipalDep, match_id: IdPath) -> MatchOut:
    """One match: its copy's uploader, its original's author and operators."""
    view = originality.get_match(session, principal, match_id)
    return MatchOut.model_validate(view, from_attributes=True)


@router.post("/policies", status_code=201)
def choose_policy(
    session: SessionDep, principal: PrincipalDep, choice: PolicyIn
) -> PolicyChoiceOut:
    """An author chooses what happens to copies of one of their works, or of all of them."""
    view = originality.choose_policy(
        session,
        principal,
        policy=choice.policy,
        work_id=choice.work_id,
        now=dt.datetime.now(dt.UTC),
    )
    return PolicyChoiceOut.model_validate(view, from_attributes=True)


@router.get("/policies/{creator_id}")
def author_policies(
    session: SessionDep, principal: PrincipalDep, creator_id: IdPath
) -> AuthorPoliciesOut:
    """An author's policies: for all works, in force per work, and every choice made."""
    view = originality.author_policies(session, principal, creator_id)
    return AuthorPoliciesOut.model_validate(view, from_attributes=True)

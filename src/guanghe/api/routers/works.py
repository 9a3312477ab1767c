"""``/v1/works``: list and get works, scoped to the caller; publish a work (multipart) with its
originality check."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from fastapi import APIRouter, Depends, File, Form, Query, UploadFile
from pydantic import BaseModel

from guanghe import creators, originality
from guanghe.api.fields import MAX_INT63, Cursor, IdPath, IdQuery, Instant, StorableText
from guanghe.api.routers.creators import VerticalQuery
from guanghe.http.deps import PrincipalDep, SessionDep, get_runtime
from guanghe.http.uploads import DecodeSlotsDep, read_draft
from guanghe.pagination import MAX_PAGE
from guanghe.runtime import Runtime

router = APIRouter(prefix="/v1/works", tags=["works"])


class WorkOut(BaseModel):
    id: int
    creator_id: int
    published_at: dt.datetime
    title: str
    caption: str
    hashtags: list[str]
    vertical: str
    duration_s: int
    cover_path: str | None


class WorkPage(BaseModel):
    items: list[WorkOut]
    next_cursor: str | None


def _out(view: creators.WorkView) -> WorkOut:
    return WorkOut.model_validate(view, from_attributes=True)


@router.get("")
def list_works(
    session: SessionDep,
    principal: PrincipalDep,
    creator_id: IdQuery = None,
    vertical: VerticalQuery = None,
    published_from: Annotated[Instant | None, Query(description="Inclusive")] = None,
    published_to: Annotated[Instant | None, Query(description="Exclusive")] = None,
    cursor: Cursor = None,
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE)] = 50,
) -> WorkPage:
    """Works of the creators the caller may see, newest first, a page at a time."""
    filters = creators.WorkFilter(creator_id, vertical, published_from, published_to)
    page = creators.list_works(session, principal, filters, cursor=cursor, limit=limit)
    return WorkPage(items=[_out(v) for v in page.items], next_cursor=page.next_cursor)


@router.get("/{work_id}")
def get_work(session: SessionDep, principal: PrincipalDep, work_id: IdPath) -> WorkOut:
    """One work."""
    return _out(creators.get_work(session, principal, work_id))


class OriginalityOut(BaseModel):
    verdict: str
    original_work_id: int | None
    original_creator_id: int | None
    distance: int | None
    text_similarity: float | None
    evidence: str
    own_work_id: int | None


class SegmentMatchOut(BaseModel):
    """A stretch of the upload repeating a stretch of another creator's work."""

    kind: str
    matched_work_id: int
    original_work_id: int
    original_creator_id: int
    upload_start_s: float
    upload_end_s: float
    original_start_s: float
    original_end_s: float
    upload_share: float
    speed: float
    mirrored: bool
    score: float
    evidence: str


class PublishedWorkOut(WorkOut):
    originality: OriginalityOut
    media_matches: list[SegmentMatchOut]


def _published(work: originality.PublishedWork) -> PublishedWorkOut:
    matches = [
        SegmentMatchOut(
            kind=c.match.kind,
            matched_work_id=c.match.work_id,
            original_work_id=c.original_work_id,
            original_creator_id=c.original_creator_id,
            upload_start_s=c.match.upload_start_s,
            upload_end_s=c.match.upload_end_s,
            original_start_s=c.match.original_start_s,
            original_end_s=c.match.original_end_s,
            upload_share=c.match.upload_share,
            speed=c.match.speed,
            mirrored=c.match.mirrored,
            score=c.match.score,
            evidence=c.describe(),
        )
        for c in work.media_matches
    ]
    return PublishedWorkOut(
        id=work.id,
        creator_id=work.creator_id,
        published_at=work.published_at,
        title=work.title,
        caption=work.caption,
        hashtags=work.hashtags,
        vertical=work.vertical,
        duration_s=work.duration_s,
        cover_path=work.cover_path,
        originality=OriginalityOut.model_validate(work.originality, from_attributes=True),
        media_matches=matches,
    )


@router.post("", status_code=201)
def publish_work(
    session: SessionDep,
    principal: PrincipalDep,
    runtime: Annotated[Runtime, Depends(get_runtime)],
    slots: DecodeSlotsDep,
    creator_id: Annotated[int, Form(ge=1, le=MAX_INT63)],
    title: Annotated[StorableText, Form(max_length=200)],
    cover: Annotated[UploadFile, File(description="JPEG, PNG or WebP, at most 10 MiB")],
    caption: Annotated[StorableText, Form(max_length=5_000)] = "",
    hashtags: Annotated[
        StorableText, Form(max_length=2_000, description="e.g. '#food #travel'")
    ] = "",
    frames: Annotated[
        list[UploadFile] | None, File(description="pictures, or a video to sample frames from")
    ] = None,
    duration_s: Annotated[int | None, Form(ge=1, le=86_400)] = None,
    vertical: Annotated[StorableText | None, Form(max_length=40)] = None,
    video: Annotated[
        UploadFile | None,
        File(description="the work's video (MP4, WebM, ...; at most 200 MiB, 10 min, 4K)"),
    ] = None,
) -> PublishedWorkOut:
    """Publish a work: creators as themselves, operators for anyone. The response carries the
    originality verdict (original, duplicate or suspect), the matched original, and, for a
    video, each stretch of it repeating another creator's work in picture or sound."""
    originality.check_uploader(session, principal, creator_id)
    draft = read_draft(
        slots,
        creator_id,
        title,
        caption,
        hashtags,
        cover,
        frames or [],
        duration_s,
        vertical,
        video,
    )
    now = dt.datetime.now(dt.UTC)
    # The one write path (BEGIN IMMEDIATE on SQLite, retried on races): publishing reads the
    # index's new fingerprints and then writes, which a deferred transaction cannot do while
    # other requests write (SQLite refuses the upgrade: "database is locked", a 503).
    return runtime.write(
        lambda s: _published(
            originality.publish_work(
                s,
                principal,
                draft,
                index=runtime.fingerprint_index,
                covers_dir=runtime.settings.covers_dir,
                now=now,
                media_index=runtime.media_index,
            )
        )
    )

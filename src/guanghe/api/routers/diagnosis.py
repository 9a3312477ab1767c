"""``POST /v1/diagnosis``: check a draft before publishing it (nothing is published)."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from fastapi import APIRouter, Depends, File, Form, UploadFile
from pydantic import BaseModel

from guanghe import creators, diagnosis, originality
from guanghe.api.fields import MAX_INT63, StorableText
from guanghe.api.routers.works import OriginalityOut
from guanghe.http.deps import PrincipalDep, SessionDep, get_runtime
from guanghe.http.uploads import DecodeSlotsDep, read_draft
from guanghe.runtime import Runtime

router = APIRouter(prefix="/v1/diagnosis", tags=["diagnosis"])


class FindingOut(BaseModel):
    code: str
    severity: str
    message: str
    suggestion: str


class CoverOut(BaseModel):
    width: int
    height: int
    brightness: float
    sharpness: float
    text_coverage: float


class PredictionOut(BaseModel):
    plays: float
    percentile: float
    model_trained_on: dt.date
    model_works: int


class DiagnosisOut(BaseModel):
    creator_id: int
    duplicate_risk: OriginalityOut
    cover: CoverOut
    findings: list[FindingOut]
    prediction: PredictionOut | None
    prediction_unavailable: str | None
    suggestions: list[str]


@router.post("")
def diagnose(
    session: SessionDep,
    principal: PrincipalDep,
    runtime: Annotated[Runtime, Depends(get_runtime)],
    slots: DecodeSlotsDep,
    creator_id: Annotated[int, Form(ge=1, le=MAX_INT63)],
    title: Annotated[StorableText, Form(max_length=200)],
    cover: Annotated[UploadFile, File(description="JPEG, PNG or WebP, at most 10 MiB")],
    caption: Annotated[StorableText, Form(max_length=5_000)] = "",
    hashtags: Annotated[StorableText, Form(max_length=2_000)] = "",
    frames: Annotated[list[UploadFile] | None, File()] = None,
    duration_s: Annotated[int | None, Form(ge=1, le=86_400)] = None,
    vertical: Annotated[StorableText | None, Form(max_length=40)] = None,
) -> DiagnosisOut:
    """Duplicate risk, cover and metadata checks, predicted performance and suggestions, for
    creators whose growth rights include pre-diagnosis (403 stating the requirement
    otherwise)."""
    data_dir = runtime.settings.data_dir
    rules = creators.load_rules(creators.rules_path(data_dir))
    originality.check_uploader(session, principal, creator_id)
    diagnosis.check_entitled(session, creator_id, rules)
    draft = read_draft(
        slots, creator_id, title, caption, hashtags, cover, frames or [], duration_s, vertical
    )
    result = diagnosis.diagnose(
        session,
        principal,
        draft,
        rules=rules,
        index=runtime.fingerprint_index,
        covers_dir=runtime.settings.covers_dir,
        data_dir=data_dir,
        now=dt.datetime.now(dt.UTC),
    )
    return DiagnosisOut.model_validate(result, from_attributes=True)

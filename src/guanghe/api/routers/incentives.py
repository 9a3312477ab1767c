"""The incentive plan: programmes (everyone reads them, operators put them, with budgets used)
and each creator's targets, progress and rewards."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query
from pydantic import BaseModel, ConfigDict, Field, Strict
from sqlalchemy.orm import Session

from guanghe import incentives
from guanghe.access import Principal
from guanghe.api.fields import Cursor, IdPath, StorableText
from guanghe.http.deps import PrincipalDep, SessionDep, get_runtime, require_role
from guanghe.incentives.programmes import NAME_PATTERN
from guanghe.pagination import MAX_PAGE
from guanghe.runtime import Runtime

router = APIRouter(tags=["incentives"])

Operator = Annotated[Principal, require_role("operator")]
RuntimeDep = Annotated[Runtime, Depends(get_runtime)]
ProgrammeName = Annotated[str, Path(pattern=NAME_PATTERN, description="The programme's name")]


class ProgrammeIn(BaseModel):
    """A programme as ``incentives.toml`` writes one (its name is the path's)."""

    model_config = ConfigDict(extra="forbid")

    title: Annotated[StorableText, Field(min_length=1, max_length=120)]
    description: Annotated[StorableText, Field(max_length=2000)] = ""
    starts_on: dt.date
    ends_on: dt.date
    window_days: Annotated[int, Strict(), Field(ge=1, le=366)]
    eligibility: incentives.Eligibility
    rules: incentives.Rules
    reward: incentives.Amounts
    budget: incentives.Amounts


class ProgrammeOut(ProgrammeIn):
    name: str
    origin: str = Field(description="`file` (the programmes file) or `api` (put by an operator)")
    revision: int = Field(description="0: in the file, not yet copied in by a cycle")
    updated_by: str
    updated_at: dt.datetime | None
    funded: dict[str, int] | None = Field(description="Operators: budget funded per unit")
    paid: dict[str, int] | None = Field(description="Operators: rewards paid per unit")


class ProgrammePage(BaseModel):
    items: list[ProgrammeOut]
    next_cursor: str | None


class CreatorIncentiveOut(BaseModel):
    id: int
    programme: str
    title: str
    window_starts_on: dt.date
    window_ends_on: dt.date
    stage: str
    baseline_plays: int = Field(description="Plays in the 28 days before the window")
    target_plays: int = Field(description="The personal target for the window")
    plays: int
    target_works: int
    original_works: int
    progress: float = Field(description="0..1: the lesser of plays and works against target")
    progress_on: dt.date
    completed_on: dt.date | None
    paid_on: dt.date | None
    reward_fen: int
    reward_impressions: int


class CreatorIncentivePage(BaseModel):
    items: list[CreatorIncentiveOut]
    next_cursor: str | None


def _out(view: incentives.ProgrammeView) -> ProgrammeOut:
    data = incentives.programme_json(view.programme)
    return ProgrammeOut.model_validate(
        data
        | {
            "origin": view.origin,
            "revision": view.revision,
            "updated_by": view.updated_by,
            "updated_at": view.updated_at,
            "funded": view.funded,
            "paid": view.paid,
        }
    )


@router.get("/v1/incentives/programs")
def list_programs(
    principal: PrincipalDep, session: SessionDep, runtime: RuntimeDep
) -> ProgrammePage:
    """Every incentive programme; operators also see each budget funded and paid."""
    file = incentives.load_programmes(incentives.programmes_path(runtime.settings.data_dir))
    views = incentives.list_programmes(session, principal, file)
    return ProgrammePage(items=[_out(v) for v in views], next_cursor=None)


@router.put("/v1/incentives/programs/{name}")
def put_program(
    name: ProgrammeName, body: ProgrammeIn, principal: Operator, runtime: RuntimeDep
) -> ProgrammeOut:
    """Create or replace a programme (operators); its budget is funded to match. 409 when the
    budget would be under what it has already paid."""
    programme = incentives.programme_from_json(
        body.model_dump(mode="json") | {"name": name}, "body"
    )
    actor = f"{principal.role}:{principal.user_id}"
    now = dt.datetime.now(dt.UTC)

    def put(session: Session) -> ProgrammeOut:
        incentives.put_programme(session, programme, actor=actor, now=now)
        views = incentives.list_programmes(session, principal, ())
        return _out(next(v for v in views if v.programme.name == name))

    return runtime.write(put)


@router.get("/v1/creators/{creator_id}/incentives")
def get_creator_incentives(
    principal: PrincipalDep,
    session: SessionDep,
    creator_id: IdPath,
    cursor: Cursor = None,
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE)] = 50,
) -> CreatorIncentivePage:
    """A creator's incentive windows, newest first: targets, progress and rewards. Creators
    see their own, institutions their creators', operators everyone's."""
    page = incentives.creator_incentives(session, principal, creator_id, cursor=cursor, limit=limit)
    return CreatorIncentivePage(
        items=[CreatorIncentiveOut.model_validate(v, from_attributes=True) for v in page.items],
        next_cursor=page.next_cursor,
    )

"""``/v1/experiments``: operators define experiments and read their reports. Creators, who
are the experiments' subjects, never see their internals."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel, ConfigDict, Field

from guanghe import experiments
from guanghe.access import Principal
from guanghe.api.fields import Day, IdPath, StorableText
from guanghe.experiments.catalog import KEY_PATTERN
from guanghe.http.deps import SessionDep, get_runtime, require_role
from guanghe.runtime import Runtime
from guanghe.traffic.programs import load_programs, programs_path

router = APIRouter(prefix="/v1/experiments", tags=["experiments"])

Operator = Annotated[Principal, require_role("operator")]
RuntimeDep = Annotated[Runtime, Depends(get_runtime)]
Factor = Annotated[float, Field(ge=0, le=10, allow_inf_nan=False)]


class PolicyIn(BaseModel):
    """What the treated creators get; every field defaults to no change."""

    model_config = ConfigDict(extra="forbid")

    pool_weights: dict[str, Factor] = Field(
        default_factory=dict, description="Per traffic pool, a factor on a treated follow's value"
    )
    pool_shares: dict[str, Factor] = Field(
        default_factory=dict,
        description="Per traffic pool, a factor on the treated creators' head-count share",
    )
    exploration_share: Annotated[float, Field(ge=0, le=0.5, allow_inf_nan=False)] = 0.0
    product_ranking: Literal["match", "commission"] = "match"


class ExperimentIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    key: Annotated[str, Field(pattern=KEY_PATTERN, description="Salts the assignment hash")]
    title: Annotated[StorableText, Field(min_length=1, max_length=120)]
    hypothesis: Annotated[StorableText, Field(max_length=2000)] = ""
    policy: PolicyIn
    treatment_share: Annotated[float, Field(gt=0, lt=1, allow_inf_nan=False)]
    starts_on: Day
    ends_on: Day


class ExperimentOut(BaseModel):
    id: int
    key: str
    title: str
    hypothesis: str
    policy: PolicyIn
    policy_summary: str
    treatment_share: float
    starts_on: dt.date
    ends_on: dt.date
    status: str
    created_by: str
    created_at: dt.datetime
    control_creators: int
    treatment_creators: int


class ExperimentPage(BaseModel):
    items: list[ExperimentOut]
    next_cursor: str | None


class MetricOut(BaseModel):
    metric: str
    control_creators: int
    treatment_creators: int
    control_mean: float
    treatment_mean: float
    effect: float = Field(
        description="Treatment minus control per creator, CUPED-adjusted (see estimator)"
    )
    relative_effect: float | None
    ci_low: float
    ci_high: float
    confidence: float
    unadjusted_effect: float
    unadjusted_ci_low: float
    unadjusted_ci_high: float
    variance_reduction: float = Field(description="Share of variance the pre-period removed")
    verdict: str = Field(description="increase, decrease, no detectable change, too small to tell")
    sentence: str
    definition: str = Field(description="What the metric measures, per creator")
    estimator: str = Field(
        description="cuped, or post-stratified cuped (by follower size at the start)"
    )
    strata: int = Field(description="Follower-size strata combined (1: none)")


class ReportOut(BaseModel):
    experiment: ExperimentOut
    analysed_from: dt.date
    analysed_to: dt.date
    pre_from: dt.date
    pre_to: dt.date
    strata_by: str = Field(description="What the estimates are post-stratified by")
    metrics: list[MetricOut]


def experiment_out(view: experiments.ExperimentView, today: dt.date) -> ExperimentOut:
    return ExperimentOut(
        id=view.id,
        key=view.key,
        title=view.title,
        hypothesis=view.hypothesis,
        policy=PolicyIn.model_validate(view.policy.to_json()),
        policy_summary=view.policy.describe(),
        treatment_share=view.treatment_share,
        starts_on=view.starts_on,
        ends_on=view.ends_on,
        status=view.status(today),
        created_by=view.created_by,
        created_at=view.created_at,
        control_creators=view.control_creators,
        treatment_creators=view.treatment_creators,
    )


@router.post("", status_code=201)
def create_experiment(
    body: ExperimentIn, principal: Operator, session: SessionDep, runtime: RuntimeDep
) -> ExperimentOut:
    """Define an experiment (operators): every creator's arm is drawn and recorded now (stable
    by creator: a hash of the key and the creator id). 409 when the key is taken."""
    now = dt.datetime.now(dt.UTC)
    programs = load_programs(programs_path(runtime.settings.data_dir))
    spec = experiments.ExperimentSpec(
        key=body.key,
        title=body.title,
        hypothesis=body.hypothesis,
        policy=experiments.policy_from_json(body.policy.model_dump()),
        treatment_share=body.treatment_share,
        starts_on=body.starts_on,
        ends_on=body.ends_on,
    )
    view = experiments.create_experiment(
        session,
        spec,
        pools=programs.pool_names,
        actor=f"{principal.role}:{principal.user_id}",
        now=now,
    )
    return experiment_out(view, now.date())


@router.get("")
def list_experiments(principal: Operator, session: SessionDep) -> ExperimentPage:
    """Every experiment, newest first (operators)."""
    today = dt.datetime.now(dt.UTC).date()
    items = [experiment_out(v, today) for v in experiments.list_experiments(session)]
    return ExperimentPage(items=items, next_cursor=None)


@router.get("/{experiment_id}")
def get_experiment(
    experiment_id: IdPath, principal: Operator, session: SessionDep
) -> ExperimentOut:
    """One experiment with its arms' sizes (operators)."""
    view = experiments.get_experiment(session, experiment_id)
    return experiment_out(view, dt.datetime.now(dt.UTC).date())


@router.get("/{experiment_id}/report")
def get_report(
    experiment_id: IdPath,
    principal: Operator,
    session: SessionDep,
    runtime: RuntimeDep,
    as_of: Annotated[Day | None, Query(description="Last day analysed")] = None,
) -> ReportOut:
    """Each metric's effect with its interval, CUPED-adjusted with the days before the
    experiment and post-stratified by follower size, and whether the sample can tell
    (operators). 404 before its first day of events."""
    report = experiments.experiment_report(session, runtime.event_log, experiment_id, as_of=as_of)
    return ReportOut(
        experiment=experiment_out(report.experiment, dt.datetime.now(dt.UTC).date()),
        analysed_from=report.analysed_from,
        analysed_to=report.analysed_to,
        pre_from=report.pre_from,
        pre_to=report.pre_to,
        strata_by=report.strata_by,
        metrics=[
            MetricOut(
                metric=m.metric,
                **{
                    name: getattr(m.effect, name)
                    for name in (
                        "control_creators",
                        "treatment_creators",
                        "control_mean",
                        "treatment_mean",
                        "effect",
                        "relative_effect",
                        "ci_low",
                        "ci_high",
                        "confidence",
                        "unadjusted_effect",
                        "unadjusted_ci_low",
                        "unadjusted_ci_high",
                        "variance_reduction",
                        "verdict",
                        "estimator",
                        "strata",
                    )
                },
                sentence=m.sentence,
                definition=m.definition,
            )
            for m in report.metrics
        ],
    )

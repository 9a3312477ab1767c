"""``diagnose``: the pre-publication diagnosis of a draft, for creators whose growth rights
include ``pre_diagnosis``. Nothing is published or stored."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from sqlalchemy import select
from sqlalchemy.orm import Session

from guanghe.access import Principal
from guanghe.creators import CreatorRules, check_right
from guanghe.diagnosis.checks import (
    CoverReport,
    Finding,
    check_cover,
    check_title_and_hashtags,
)
from guanghe.diagnosis.model import draft_features, load_model
from guanghe.errors import NotFound
from guanghe.originality import (
    FingerprintIndex,
    OriginalityCheck,
    WorkDraft,
    check_metadata,
    check_originality,
    check_uploader,
)
from guanghe.store import Creator, Vertical, Work

RIGHT: Final = "pre_diagnosis"
POPULAR_WINDOW_DAYS: Final = 30
POPULAR_HASHTAGS: Final = 5


@dataclass(frozen=True, slots=True)
class Prediction:
    """Predicted plays in the first days and their percentile among similar works."""

    plays: float
    percentile: float
    model_trained_on: dt.date
    model_works: int


@dataclass(frozen=True, slots=True)
class Diagnosis:
    creator_id: int
    duplicate_risk: OriginalityCheck
    cover: CoverReport
    findings: tuple[Finding, ...]
    prediction: Prediction | None
    prediction_unavailable: str | None
    suggestions: tuple[str, ...]


def check_entitled(session: Session, creator_id: int, rules: CreatorRules) -> str:
    """How the creator holds pre-diagnosis (a tier or the right's own rule);
    :class:`Forbidden` stating every unmet requirement otherwise."""
    return check_right(session, creator_id, RIGHT, rules)


def diagnose(
    session: Session,
    principal: Principal,
    draft: WorkDraft,
    *,
    rules: CreatorRules,
    index: FingerprintIndex,
    covers_dir: Path,
    data_dir: Path,
    now: dt.datetime,
) -> Diagnosis:
    """Diagnose ``draft`` for its creator (creators for themselves, operators for anyone)."""
    creator = check_uploader(session, principal, draft.creator_id)
    check_entitled(session, creator.id, rules)
    title, caption = check_metadata(draft.title, draft.caption)
    risk = check_originality(
        session,
        index,
        covers_dir,
        creator_id=creator.id,
        cover=draft.cover.image,
        frames=draft.frames,
        text=draft.text,
    )
    cover = check_cover(draft.cover.image)
    vertical_id = _vertical_id(session, creator, draft.vertical)
    popular = _popular_hashtags(session, vertical_id, now)
    findings = cover.findings + check_title_and_hashtags(title, draft.hashtags, popular)
    prediction, unavailable = None, None
    try:
        model = load_model(data_dir)
    except NotFound as exc:
        unavailable = exc.detail
    else:
        features = draft_features(
            model,
            creator=creator,
            vertical_id=vertical_id,
            duration_s=draft.duration_s or 15,
            title=title,
            caption=caption,
            hashtags=len(draft.hashtags),
            at=now,
        )
        plays, percentile = model.predict(features)
        prediction = Prediction(plays, percentile, model.trained_on, model.works)
    return Diagnosis(
        creator_id=creator.id,
        duplicate_risk=risk,
        cover=cover,
        findings=findings,
        prediction=prediction,
        prediction_unavailable=unavailable,
        suggestions=_suggestions(risk, findings, prediction),
    )


def _suggestions(
    risk: OriginalityCheck, findings: tuple[Finding, ...], prediction: Prediction | None
) -> tuple[str, ...]:
    out = []
    if risk.verdict != "original":
        out.append(
            f"This looks like a copy of work {risk.original_work_id} by creator "
            f"{risk.original_creator_id}: published, it would be marked {risk.verdict} and get "
            "no traffic support, incentives or task rewards. Publish your own footage instead."
        )
    out.extend(f.suggestion for f in findings if f.severity == "warning")
    out.extend(f.suggestion for f in findings if f.severity == "info")
    if prediction is not None and prediction.percentile < 50 and not out:
        out.append(
            "Predicted below the median of similar works: try publishing at your audience's "
            "peak hour and a sharper hook in the title."
        )
    return tuple(dict.fromkeys(out))


def _vertical_id(session: Session, creator: Creator, slug: str | None) -> int:
    if slug is None:
        return creator.vertical_id
    found = session.scalar(select(Vertical.id).where(Vertical.slug == slug))
    if found is None:
        raise NotFound(f"vertical {slug!r} does not exist")
    return int(found)


def _popular_hashtags(session: Session, vertical_id: int, now: dt.datetime) -> list[str]:
    since = now - dt.timedelta(days=POPULAR_WINDOW_DAYS)
    counts: Counter[str] = Counter()
    for tags in session.scalars(
        select(Work.hashtags)
        .where(Work.vertical_id == vertical_id, Work.published_at >= since)
        .order_by(Work.published_at.desc())
        .limit(5_000)
    ):
        counts.update(tags or [])
    return [tag for tag, _ in counts.most_common(POPULAR_HASHTAGS)]

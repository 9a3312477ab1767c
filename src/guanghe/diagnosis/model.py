"""The predicted-performance model: plays in a work's first days, learned from the store's
history (works and their play events), and the percentile of a prediction among the works of
the same vertical.

Features of a work: its vertical, duration, title / caption / hashtag lengths, hour of
publication, the creator's followers (log) and the creator's median outcome over their past
works (the strongest single signal; the global median for a creator without history). The
target is ``log(1 + plays within OUTCOME_DAYS of publication)``. The regressor is scikit-learn's
histogram gradient boosting (LightGBM's algorithm), with the vertical as a categorical feature.
"""

from __future__ import annotations

import datetime as dt
import os
import pickle
import uuid
from bisect import insort
from dataclasses import dataclass
from pathlib import Path
from typing import Final

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc
from sklearn.ensemble import HistGradientBoostingRegressor
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from guanghe.errors import NotFound
from guanghe.events import EventLog
from guanghe.store import Creator, Work, as_stored, select_rows
from guanghe.threads import model_threads

MODEL_FILE: Final = "diagnosis/performance_model.pkl"
OUTCOME_DAYS: Final = 3
#: Fewer complete works than this and no model is trained.
MIN_TRAINING_WORKS: Final = 50
MAX_TRAINING_WORKS: Final = 500_000
FEATURES: Final = (
    "vertical_id",
    "duration_s",
    "title_chars",
    "caption_chars",
    "hashtags",
    "hour",
    "log_followers",
    "creator_prior",
)

Floats = npt.NDArray[np.float64]


@dataclass(frozen=True, slots=True)
class WorkFeatures:
    """Model inputs of one work (see :data:`FEATURES`)."""

    vertical_id: int
    duration_s: int
    title_chars: int
    caption_chars: int
    hashtags: int
    hour: int
    followers: int
    creator_prior: float | None

    def row(self, global_prior: float) -> list[float]:
        prior = global_prior if self.creator_prior is None else self.creator_prior
        return [
            float(self.vertical_id),
            float(self.duration_s),
            float(self.title_chars),
            float(self.caption_chars),
            float(self.hashtags),
            float(self.hour),
            float(np.log1p(self.followers)),
            prior,
        ]


@dataclass(frozen=True, slots=True)
class PerformanceModel:
    """A fitted model with what it needs to place a prediction among similar works."""

    regressor: HistGradientBoostingRegressor
    trained_on: dt.date
    works: int
    global_prior: float
    creator_priors: dict[int, float]
    #: Per vertical, the sorted outcomes (log plays) of its training works.
    outcomes_by_vertical: dict[int, Floats]

    def predict(self, features: WorkFeatures) -> tuple[float, float]:
        """Predicted plays in the first days, and its percentile (0-100) among the training
        works of the same vertical (of all works when the vertical is new)."""
        x = np.array([features.row(self.global_prior)])
        with model_threads(1):
            predicted = float(self.regressor.predict(x)[0])
        peers = self.outcomes_by_vertical.get(features.vertical_id)
        if peers is None or peers.size == 0:
            peers = np.sort(np.concatenate(list(self.outcomes_by_vertical.values())))
        percentile = 100.0 * float(np.searchsorted(peers, predicted, side="right")) / peers.size
        return float(np.expm1(predicted)), percentile


@dataclass(frozen=True, slots=True)
class TrainingSet:
    work_id: npt.NDArray[np.int64]
    creator_id: npt.NDArray[np.int64]
    vertical_id: npt.NDArray[np.int64]
    x: Floats
    y: Floats


def training_set(session: Session, events: EventLog, as_of: dt.date) -> TrainingSet:
    """Works whose outcome window ended by ``as_of``, their features and outcomes; creator
    priors use only each creator's *earlier* works (no leakage of a work's own outcome)."""
    cutoff = dt.datetime.combine(as_of, dt.time(), tzinfo=dt.UTC) - dt.timedelta(
        days=OUTCOME_DAYS - 1
    )
    newest_first = select_rows(
        session,
        select(
            Work.id,
            Work.creator_id,
            Work.vertical_id,
            Work.duration_s,
            func.length(Work.title),  # the texts' lengths only: the texts stay in the store
            func.length(func.coalesce(Work.caption, "")),
            func.coalesce(func.json_array_length(Work.hashtags), 0),
            as_stored(Work.published_at),
            Creator.follower_count,
        )
        .join(Creator, Creator.id == Work.creator_id)
        .where(Work.published_at < cutoff)
        .order_by(Work.published_at.desc(), Work.id.desc())
        .limit(MAX_TRAINING_WORKS),
    ).all()
    if not newest_first:
        empty = np.zeros(0, dtype=np.int64)
        return TrainingSet(empty, empty, empty, np.zeros((0, len(FEATURES))), np.zeros(0))
    work_id, creator_id, vertical_id, duration, title, caption, tags, published, followers = (
        list(column) for column in zip(*reversed(newest_first), strict=True)
    )
    published_at = pa.array(published, pa.timestamp("us", tz="UTC"))
    plays = _plays(events, work_id, published_at)
    y = np.log1p(np.array([plays.get(w, 0) for w in work_id], dtype=np.float64))
    global_prior = float(np.median(y))
    history: dict[int, list[float]] = {}  # each creator's earlier outcomes, kept sorted
    prior = np.empty(y.size)
    for i, (creator, outcome) in enumerate(zip(creator_id, y.tolist(), strict=True)):
        past = history.setdefault(creator, [])
        prior[i] = median_of_sorted(past) if past else global_prior
        insort(past, outcome)
    x = np.column_stack(
        [
            np.array(vertical_id, dtype=np.float64),
            np.array(duration, dtype=np.float64),
            np.array(title, dtype=np.float64),
            np.array(caption, dtype=np.float64),
            np.array(tags, dtype=np.float64),
            pc.hour(published_at).to_numpy(zero_copy_only=False).astype(np.float64),
            np.log1p(np.array(followers, dtype=np.float64)),
            prior,
        ]
    )
    return TrainingSet(
        np.array(work_id, dtype=np.int64),
        np.array(creator_id, dtype=np.int64),
        np.array(vertical_id, dtype=np.int64),
        x,
        y,
    )


def median_of_sorted(values: list[float]) -> float:
    """``np.median`` of the ascending, non-empty ``values`` (the middle one, or the mean of
    the two middle ones: the same float) without a sort or an array per call."""
    n = len(values)
    mid = n // 2
    return values[mid] if n % 2 else (values[mid - 1] + values[mid]) / 2


def _plays(events: EventLog, work_ids: list[int], published_at: pa.Array) -> dict[int, int]:
    """Plays of each work within :data:`OUTCOME_DAYS` of its publication (DuckDB)."""
    if not work_ids:
        return {}
    con = events.connect()
    try:
        table = pa.table({"work_id": pa.array(work_ids, pa.int64()), "published_at": published_at})
        con.register("published", table)
        found = con.execute(
            "SELECT p.work_id, sum(e.count) FROM events e JOIN published p USING (work_id) "
            "WHERE e.type = 'play' AND e.ts >= p.published_at "
            f"AND e.ts < p.published_at + INTERVAL {OUTCOME_DAYS} DAY GROUP BY p.work_id"
        ).fetchall()
    finally:
        con.close()
    return {int(w): int(n) for w, n in found}


def fit_model(data: TrainingSet, as_of: dt.date, *, seed: int = 0) -> PerformanceModel | None:
    """Fit on ``data``; None when it has fewer than :data:`MIN_TRAINING_WORKS` works."""
    if data.y.size < MIN_TRAINING_WORKS:
        return None
    regressor = HistGradientBoostingRegressor(
        max_iter=200,
        learning_rate=0.05,
        max_leaf_nodes=15,
        min_samples_leaf=40,
        l2_regularization=1.0,
        categorical_features=[0],
        # more followers and a better track record never predict fewer plays
        monotonic_cst=[0, 0, 0, 0, 0, 0, 1, 1],
        early_stopping=data.y.size > 2_000,
        random_state=seed,
    )
    with model_threads(data.y.size):
        regressor.fit(data.x, data.y)
    priors: dict[int, list[float]] = {}
    for creator, outcome in zip(data.creator_id.tolist(), data.y.tolist(), strict=True):
        priors.setdefault(creator, []).append(outcome)
    by_vertical = {
        int(v): np.sort(data.y[data.vertical_id == v]) for v in np.unique(data.vertical_id)
    }
    return PerformanceModel(
        regressor=regressor,
        trained_on=as_of,
        works=int(data.y.size),
        global_prior=float(np.median(data.y)),
        creator_priors={c: median_of_sorted(sorted(v)) for c, v in priors.items()},
        outcomes_by_vertical=by_vertical,
    )


def draft_features(
    model: PerformanceModel,
    *,
    creator: Creator,
    vertical_id: int,
    duration_s: int,
    title: str,
    caption: str,
    hashtags: int,
    at: dt.datetime,
) -> WorkFeatures:
    """The features of a work about to be published by ``creator`` at ``at``."""
    return WorkFeatures(
        vertical_id=vertical_id,
        duration_s=duration_s,
        title_chars=len(title),
        caption_chars=len(caption),
        hashtags=hashtags,
        hour=at.hour,
        followers=creator.follower_count,
        creator_prior=model.creator_priors.get(creator.id),
    )


def save_model(model: PerformanceModel, data_dir: Path) -> Path:
    """Write ``model`` under ``data_dir`` atomically."""
    path = data_dir / MODEL_FILE
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex}.tmp")
    try:
        with tmp.open("wb") as handle:
            pickle.dump(model, handle, protocol=pickle.HIGHEST_PROTOCOL)
            handle.flush()
            os.fsync(handle.fileno())
        tmp.replace(path)
    finally:
        tmp.unlink(missing_ok=True)
    return path


def load_model(data_dir: Path) -> PerformanceModel:
    """The model the cycle last trained; :class:`NotFound` if none (a file Guanghe wrote)."""
    path = data_dir / MODEL_FILE
    if not path.exists():
        raise NotFound("no performance model yet; the daily cycle's diagnosis step trains it")
    with path.open("rb") as handle:
        model = pickle.load(handle)  # our own file under the data directory
    if not isinstance(model, PerformanceModel):
        raise NotFound(f"{path} does not hold a performance model; run the cycle again")
    return model

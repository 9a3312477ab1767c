"""How likely a creator is to accept an offered task, and to complete it once accepted.

Learned from past outcomes (offers accepted or not; claims approved, or rejected / expired)
with scikit-learn's histogram gradient boosting; until there are enough outcomes of both
kinds, a cold-start prior from the creator's stage and whether the task is in their vertical
answers alone: per (stage, vertical match) cell, the observed rate shrunk towards a default
(``PRIOR_WEIGHT`` pseudo-outcomes).
"""

from __future__ import annotations

from typing import Final

import numpy as np
from numpy.typing import NDArray
from sklearn.ensemble import HistGradientBoostingClassifier

from guanghe.errors import InvalidInput
from guanghe.threads import model_threads
from guanghe.vocabulary import STAGES

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int64]

#: Columns of a pair's feature row.
FEATURES: Final = (
    "stage",
    "kind",
    "vertical_match",
    "log_followers",
    "quality",
    "works_28d",
    "log_reward_fen",
    "log_reward_impressions",
    "log_min_plays",
)
KINDS: Final = ("shooting", "promotion", "topic")
PRIOR_WEIGHT: Final = 20.0
#: Default rates per cell before any outcome: acceptance (off / in vertical) and completion.
DEFAULT_ACCEPT: Final = {False: 0.08, True: 0.25}
DEFAULT_COMPLETE: Final = {"novice": 0.45, "growing": 0.6, "mature": 0.7}


def cell_of(x: FloatArray) -> IntArray:
    """The (stage, vertical match) cell of each feature row: ``stage * 2 + match``."""
    return (x[:, 0].astype(np.int64) * 2 + (x[:, 2] > 0.5)).astype(np.int64)


def default_rates(outcome: str) -> FloatArray:
    """The default rate of each of the six cells, for ``accept`` or ``complete``."""
    if outcome == "accept":
        return np.array([DEFAULT_ACCEPT[bool(m)] for _ in STAGES for m in (0, 1)])
    return np.array([DEFAULT_COMPLETE[s] for s in STAGES for _ in (0, 1)])


class OutcomeModel:
    """P(outcome) of a feature row (:data:`FEATURES`).

    Parameters
    ----------
    outcome : {"accept", "complete"}
        Which default rates the prior starts from.
    min_rows : int
        Fewest outcomes (with both labels present) before a classifier is learned.
    """

    def __init__(self, outcome: str = "accept", min_rows: int = 200) -> None:
        self.outcome = outcome
        self.min_rows = min_rows

    def fit(self, x: FloatArray, y: NDArray[np.bool_], rng: np.random.Generator) -> OutcomeModel:
        """Learn from ``x`` ``(n, len(FEATURES))`` and labels ``y`` ``(n,)``."""
        if self.outcome not in ("accept", "complete"):
            raise InvalidInput("outcome is accept or complete")
        if x.ndim != 2 or x.shape[1] != len(FEATURES) or y.shape != (x.shape[0],):
            raise InvalidInput(f"x is (n, {len(FEATURES)}) and y (n,)")
        cells = cell_of(x) if len(x) else np.zeros(0, dtype=np.int64)
        seen = np.bincount(cells, minlength=6).astype(np.float64)
        hits = np.bincount(cells, weights=y.astype(np.float64), minlength=6)
        self.cell_rate_ = (hits + PRIOR_WEIGHT * default_rates(self.outcome)) / (
            seen + PRIOR_WEIGHT
        )
        self.n_outcomes_ = len(y)
        self.classifier_: HistGradientBoostingClassifier | None = None
        if len(y) >= self.min_rows and 0 < int(y.sum()) < len(y):
            classifier = HistGradientBoostingClassifier(
                max_iter=100,
                learning_rate=0.1,
                categorical_features=[0, 1],
                random_state=int(rng.integers(2**31 - 1)),
            )
            with model_threads(len(y)):
                self.classifier_ = classifier.fit(x, y)
        return self

    @property
    def source(self) -> str:
        """``learned`` or ``prior`` (what answers :meth:`predict_proba`)."""
        return "learned" if self.classifier_ is not None else "prior"

    def predict_proba(self, x: FloatArray) -> FloatArray:
        """P(outcome) of each row, in [0.01, 0.99]."""
        if not len(x):
            return np.zeros(0)
        if self.classifier_ is None:
            p = self.cell_rate_[cell_of(x)]
        else:
            # One thread whatever the rows: the prediction opens an OpenMP parallel region per
            # tree, and on a shared machine each waits for a descheduled thread (266,000 rows at
            # load 13 on 2 cores: 0.6 s CPU and 4.0 s wall on one thread, 1.1 s and 5.3 s on
            # two). Each row's probability is the same either way.
            with model_threads(1):
                p = self.classifier_.predict_proba(x)[:, 1]
        return np.clip(np.asarray(p, dtype=np.float64), 0.01, 0.99)


def feature_rows(
    *,
    stage: IntArray,
    kind: IntArray,
    vertical_match: NDArray[np.bool_],
    followers: NDArray[np.int64],
    quality: FloatArray,
    works_28d: IntArray,
    reward_fen: IntArray,
    reward_impressions: IntArray,
    min_plays: IntArray,
) -> FloatArray:
    """The :data:`FEATURES` matrix of pairs given column by column (each ``(n,)``)."""
    return np.column_stack(
        [
            stage.astype(np.float64),
            kind.astype(np.float64),
            vertical_match.astype(np.float64),
            np.log1p(np.maximum(followers, 0)),
            quality.astype(np.float64),
            works_28d.astype(np.float64),
            np.log1p(np.maximum(reward_fen, 0)),
            np.log1p(np.maximum(reward_impressions, 0)),
            np.log1p(np.maximum(min_plays, 0)),
        ]
    ).reshape(-1, len(FEATURES))

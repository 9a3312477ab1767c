"""The synthetic platform's hidden ground truth. FOR EVALUATION ONLY.

Benchmarks and tests compare what the engines estimate (response curves, quality, stages)
with what the simulator drew. Engines, pipelines and adapters must never import this module
or read ``settings.ground_truth_dir``: on a real platform there is no such thing.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Final

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.parquet as pq

from guanghe.settings import Settings
from guanghe.sim.content import WorkPlan
from guanghe.sim.population import STAGE_NAMES, Population

PLATFORM_FILE: Final = "platform.parquet"
WORKS_FILE: Final = "works.parquet"

_README: Final = """# Ground truth of the synthetic platform

Written by `guanghe.sim.generate_platform`: the hidden parameters the simulator drew.

- `platform.parquet`: one row per creator (latent quality, boost response curve
  `response_a * (1 - exp(-x / response_s))` in follows per day for `x` boosted impressions,
  organic follow and churn rates, publishing habits, program membership, whether the
  creator is one of the established head, followers).
- `works.parquet`: one row per work with its hidden appeal (organic reach multiplier).
- `bursts.parquet`: one row per injected topic burst (topic, vertical, start, duration in
  hours, strength, works it tagged); see `guanghe.sim.bursts`.
- `task_propensity.parquet`: one row per creator and task kind, the chance to accept an
  in-vertical task offer and to complete an accepted task (`guanghe.sim.tasks`).
- `refunds_due.parquet`: orders drawn for refund that are not refunded yet (the history's
  whose refund falls after its last day, then `sim advance`'s), with the ordinal of the day
  of their refund (`guanghe.sim.revenue.load_refunds`).

Engines must never read this directory. Only benchmarks and tests do, through
`guanghe.sim.truth.load_ground_truth`, to score what the engines estimate.
"""


def write_ground_truth(
    directory: Path,
    population: Population,
    works: WorkPlan,
    publish_rate: npt.NDArray[np.float64],
    publish_consistency: npt.NDArray[np.float64],
    followers_final: npt.NDArray[np.int64],
    first_date: dt.date,
) -> Path:
    """Write the truth files and their README into ``directory``; returns the platform file."""
    directory.mkdir(parents=True, exist_ok=True)
    n = population.size
    joined = np.datetime64(first_date, "D") + population.joined_day
    creators = pa.table(
        {
            "creator_id": pa.array(np.arange(1, n + 1, dtype=np.int64)),
            "vertical_id": pa.array(population.vertical_id),
            "joined_on": pa.array(joined),
            "institution_id": pa.array(
                population.institution_id, mask=population.institution_id == 0
            ),
            "latent_quality": pa.array(population.quality),
            "response_a": pa.array(population.response_a),
            "response_s": pa.array(population.response_s),
            "organic_follow_rate": pa.array(population.organic_follow_rate),
            "churn_rate": pa.array(population.churn_rate),
            "publish_rate": pa.array(publish_rate),
            "publish_consistency": pa.array(publish_consistency),
            "in_boost_program": pa.array(population.in_boost_program),
            "commerce": pa.array(population.commerce),
            "ads_authorised": pa.array(population.ads_authorised),
            "established": pa.array(population.established),
            "stage_initial": pa.array([STAGE_NAMES[s] for s in population.stage_initial.tolist()]),
            "followers_initial": pa.array(population.followers_initial),
            "followers_final": pa.array(followers_final),
        }
    )
    work_table = pa.table(
        {
            "work_id": pa.array(np.arange(1, works.size + 1, dtype=np.int64)),
            "creator_id": pa.array(works.creator_index + 1),
            "appeal": pa.array(works.appeal),
        }
    )
    path = directory / PLATFORM_FILE
    pq.write_table(creators, path)
    pq.write_table(work_table, directory / WORKS_FILE)
    (directory / "README.md").write_text(_README)
    return path


def load_ground_truth(settings: Settings) -> pa.Table:
    """The per-creator truth (``platform.parquet``) of the platform in ``settings.data_dir``.

    For benchmarks and tests only.
    """
    return pq.read_table(settings.ground_truth_dir / PLATFORM_FILE)


def load_work_truth(settings: Settings) -> pa.Table:
    """The per-work truth (``works.parquet``). For benchmarks and tests only."""
    return pq.read_table(settings.ground_truth_dir / WORKS_FILE)

"""The cycle's ``growth`` step: stages, quality, the pool and tiers from the day's features;
written as the ``creator_growth`` snapshot, to ``creators.stage`` and to tier history."""

from __future__ import annotations

from typing import Final

from guanghe.creators import assess_creators, load_rules, record_assessment, rules_path
from guanghe.pipelines.context import CycleContext
from guanghe.pipelines.feature_step import SNAPSHOT as FEATURES
from guanghe.pipelines.reports import StepReport
from guanghe.snapshots import read_snapshot, write_snapshot

SNAPSHOT: Final = "creator_growth"


def run(ctx: CycleContext) -> StepReport:
    """Assess every creator as of the cycle's date (needs that date's features snapshot)."""
    rules = load_rules(rules_path(ctx.runtime.settings.data_dir))
    assessment = assess_creators(read_snapshot(ctx.snapshots, FEATURES, ctx.date), rules)
    write_snapshot(ctx.snapshots, SNAPSHOT, ctx.date, assessment)
    written = ctx.runtime.write(lambda s: record_assessment(s, ctx.date, assessment, now=ctx.now))
    in_pool = assessment["in_pool"].to_numpy(zero_copy_only=False).astype(bool)
    return StepReport(
        "growth",
        {
            "creators": assessment.num_rows,
            "in_pool": int(in_pool.sum()),
            "stages_changed": written.stages_changed,
            "tiers_changed": written.tiers_changed,
        },
    )

"""The cycle's ``growth`` step: stages, quality, the pool and tiers from the day's features;
written as the ``creator_growth`` snapshot, to ``creators.stage`` and to tier history."""

from __future__ import annotations

import datetime as dt
from typing import Final

from guanghe.creators import assess_creators, load_rules, record_assessment, rules_path
from guanghe.pipelines.feature_step import SNAPSHOT as FEATURES
from guanghe.runtime import Runtime
from guanghe.snapshots import read_snapshot, write_snapshot
from guanghe.store import transaction, writer_engine

SNAPSHOT: Final = "creator_growth"


def run(runtime: Runtime, date: dt.date) -> None:
    """Assess every creator as of ``date`` (needs that date's features snapshot)."""
    rules = load_rules(rules_path(runtime.settings.data_dir))
    root = runtime.settings.snapshots_dir
    assessment = assess_creators(read_snapshot(root, FEATURES, date), rules)
    write_snapshot(root, SNAPSHOT, date, assessment)
    from sqlalchemy.orm import sessionmaker

    writers = sessionmaker(writer_engine(runtime.engine), expire_on_commit=False)
    with transaction(writers) as session:
        record_assessment(session, date, assessment)

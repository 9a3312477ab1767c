"""Sources write their notices in the transaction of their change: a growth-tier change (not
a first assessment), once per day however often the day is re-run."""

from __future__ import annotations

import datetime as dt

import pyarrow as pa
import pytest
import sqlalchemy as sa

from guanghe.creators import record_assessment
from guanghe.runtime import Runtime
from guanghe.store import Notice, transaction
from tests.seed import SeedPlatform

NOW = dt.datetime(2026, 12, 3, tzinfo=dt.UTC)


def assessment(tiers: dict[int, str]) -> pa.Table:
    return pa.table(
        {
            "creator_id": list(tiers),
            "stage": ["growing"] * len(tiers),
            "tier": list(tiers.values()),
            "quality": [0.5] * len(tiers),
        }
    )


def test_a_tier_change_is_notified_once(runtime: Runtime, seed_platform: SeedPlatform) -> None:
    day1, day2 = dt.date(2026, 12, 1), dt.date(2026, 12, 2)
    runtime.write(lambda s: record_assessment(s, day1, assessment({1: "L1", 2: "L1"}), now=NOW))
    for _ in range(2):  # the day re-run changes nothing
        runtime.write(lambda s: record_assessment(s, day2, assessment({1: "L2", 2: "L1"}), now=NOW))
    with transaction(runtime.sessions) as session:
        notices = session.execute(sa.select(Notice.creator_id, Notice.kind, Notice.data)).all()
    assert [(c, k, d["tier"], d["previous_tier"]) for c, k, d in notices] == [
        (1, "tier_change", "L2", "L1")
    ]


def test_a_failed_change_leaves_no_notice(runtime: Runtime, seed_platform: SeedPlatform) -> None:
    day1, day2 = dt.date(2026, 12, 1), dt.date(2026, 12, 2)
    runtime.write(lambda s: record_assessment(s, day1, assessment({1: "L1"}), now=NOW))

    def change_then_fail(session: sa.orm.Session) -> None:
        record_assessment(session, day2, assessment({1: "L2"}), now=NOW)
        raise RuntimeError("the step failed after the change")

    with pytest.raises(RuntimeError, match="step failed"):
        runtime.write(change_then_fail)
    with transaction(runtime.sessions) as session:
        assert session.scalar(sa.select(sa.func.count()).select_from(Notice)) == 0

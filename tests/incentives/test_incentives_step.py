"""The cycle's incentives step on a simulated platform: creators enrolled with personal
targets, progress from the event log, rewards paid once and reconciled, re-runs idempotent."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from guanghe.app import create_app
from guanghe.ledger import reconcile
from guanghe.pipelines import CycleContext, feature_step, growth_step, incentives_step
from guanghe.runtime import Runtime
from guanghe.sim import generate_platform
from guanghe.store import IncentiveEnrolment, Notice


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_the_step_enrols_tracks_and_pays_once(
    runtime: Runtime, token_for: Callable[..., str]
) -> None:
    summary = generate_platform(runtime, creators=300, days=45, seed=3)
    ctx = CycleContext.for_date(runtime, summary.last_date)
    feature_step.run(ctx)
    growth_step.run(ctx)
    first = incentives_step.run(ctx)
    assert first.counts["programmes"] == 3
    assert first.counts["enrolled"] > 0
    assert first.counts["paid"] > 0
    again = incentives_step.run(ctx)
    assert again.counts["enrolled"] == 0
    assert again.counts["paid"] == 0
    with runtime.sessions() as session:
        rows = session.scalars(select(IncentiveEnrolment)).all()
        assert reconcile(session) == []
        paid = session.scalar(select(func.count()).where(IncentiveEnrolment.paid_on.is_not(None)))
    assert paid == first.counts["paid"]
    with runtime.sessions() as session:
        notices = session.scalars(select(Notice.data).where(Notice.kind == "reward")).all()
    rewarded = [data for data in notices if "programme" in data]  # not the simulated tasks'
    assert len(rewarded) == paid  # one notice per paid target, none again on the re-run
    targets = {row.target_plays for row in rows}
    assert len(targets) > 10  # personal, not one number for everyone
    assert all(row.completed_on is not None for row in rows if row.paid_on is not None)

    client = TestClient(create_app(runtime))
    creator = rows[0].creator_id
    own = client.get(
        f"/v1/creators/{creator}/incentives",
        headers={"Authorization": f"Bearer {token_for('creator', creator)}"},
    )
    assert own.status_code == 200
    assert own.json()["items"][0]["target_plays"] >= 1

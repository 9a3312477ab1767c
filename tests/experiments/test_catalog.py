"""Experiments in the store (SQLite and PostgreSQL): every creator's arm recorded at creation,
new creators recorded by the cycle, keys unique, bad specs refused before any write."""

from __future__ import annotations

import dataclasses
import datetime as dt
from typing import Any

import numpy as np
import pytest

from guanghe.errors import Conflict, InvalidInput, NotFound
from guanghe.experiments import (
    ExperimentPolicy,
    ExperimentSpec,
    assignments,
    create_experiment,
    get_experiment,
    list_experiments,
    treated,
    treated_creators,
)
from guanghe.runtime import Runtime
from guanghe.store import transaction
from tests.seed import SeedPlatform

NOW = dt.datetime(2026, 11, 28, 12, tzinfo=dt.UTC)
POOLS = ("new_creator", "high_quality", "institution", "general")


def spec(key: str = "weights-1", **changes: Any) -> ExperimentSpec:
    base = ExperimentSpec(
        key=key,
        title="Favour novices",
        hypothesis="Valuing novice follows more raises net follows",
        policy=ExperimentPolicy(pool_weights={"new_creator": 1.5}),
        treatment_share=0.5,
        starts_on=dt.date(2026, 11, 29),
        ends_on=dt.date(2026, 12, 12),
    )
    return dataclasses.replace(base, **changes)


def test_creating_records_every_creators_arm(runtime: Runtime, seed_platform: SeedPlatform) -> None:
    view = runtime.write(
        lambda s: create_experiment(s, spec(), pools=POOLS, actor="operator:1", now=NOW)
    )
    ids = seed_platform.creator_ids
    assert view.control_creators + view.treatment_creators == len(ids)
    assert view.status(dt.date(2026, 11, 28)) == "scheduled"
    assert view.status(dt.date(2026, 12, 1)) == "running"
    assert view.status(dt.date(2026, 12, 13)) == "ended"
    with transaction(runtime.sessions) as session:
        recorded, is_treated = assignments(session, view.id)
        assert recorded.tolist() == sorted(ids)
        assert (is_treated == treated("weights-1", recorded, 0.5)).all()
        assert [e.key for e in list_experiments(session)] == ["weights-1"]
        assert get_experiment(session, view.id).policy.pool_weights == {"new_creator": 1.5}
        with pytest.raises(NotFound):
            get_experiment(session, view.id + 1)
    with pytest.raises(Conflict):
        runtime.write(
            lambda s: create_experiment(s, spec(), pools=POOLS, actor="operator:1", now=NOW)
        )


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"key": "Bad Key"}, "key"),
        ({"treatment_share": 1.0}, "treatment_share"),
        ({"ends_on": dt.date(2026, 11, 1)}, "ends_on"),
        ({"policy": ExperimentPolicy(pool_weights={"nope": 2.0})}, "unknown pool"),
        ({"policy": ExperimentPolicy(pool_shares={"general": 11.0})}, "outside"),
    ],
)
def test_bad_specs_are_refused_before_any_write(
    runtime: Runtime, seed_platform: SeedPlatform, changes: dict[str, Any], message: str
) -> None:
    with pytest.raises(InvalidInput, match=message):
        runtime.write(
            lambda s: create_experiment(
                s, spec(**changes), pools=POOLS, actor="operator:1", now=NOW
            )
        )
    with transaction(runtime.sessions) as session:
        assert list_experiments(session) == ()


def test_the_cycle_reads_running_experiments_and_records_late_creators(
    runtime: Runtime, seed_platform: SeedPlatform
) -> None:
    first = runtime.write(
        lambda s: create_experiment(s, spec("a-1"), pools=POOLS, actor="operator:1", now=NOW)
    )
    runtime.write(
        lambda s: create_experiment(
            s,
            spec("b-1", starts_on=dt.date(2027, 1, 1), ends_on=dt.date(2027, 1, 31)),
            pools=POOLS,
            actor="operator:1",
            now=NOW,
        )
    )
    ids = np.array(seed_platform.creator_ids, dtype=np.int64)
    with transaction(runtime.sessions) as session:  # delete one creator's record: a late one
        from guanghe.store import ExperimentAssignment

        session.query(ExperimentAssignment).filter_by(
            experiment_id=first.id, creator_id=int(ids[0])
        ).delete()
    found = runtime.write(lambda s: treated_creators(s, ids, dt.date(2026, 12, 1)))
    assert [e.key for e in found.experiments] == ["a-1"]  # b-1 is not running yet
    assert ((found.arm == 0) == treated("a-1", ids, 0.5)).all()
    with transaction(runtime.sessions) as session:
        assert assignments(session, first.id)[0].tolist() == sorted(ids.tolist())

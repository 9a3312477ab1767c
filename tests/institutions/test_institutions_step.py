"""The cycle's institutions step: affiliations follow the contracts in force, and every
institution is judged a level with its metrics on its first cycle of a month."""

from __future__ import annotations

import datetime as dt

import pytest

from guanghe.access import Principal
from guanghe.institutions import sign_contract
from guanghe.institutions.standing import institution_view
from guanghe.pipelines import CYCLE_STEPS, run_cycle
from guanghe.runtime import Runtime
from guanghe.store import INCOME_SOURCES, Creator, transaction
from tests.conftest import insert_seed_platform
from tests.pipelines.sample import AS_OF, log_sample_events

STEPS = tuple(s for s in CYCLE_STEPS if s.name in ("features", "growth", "institutions"))


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_levels_and_affiliations_from_contracts(runtime: Runtime) -> None:
    insert_seed_platform(runtime)
    log_sample_events(runtime)
    with transaction(runtime.sessions) as session:
        for creator, institution, valid_to in ((4, 2, None), (1, 1, AS_OF)):
            sign_contract(
                session,
                institution_id=institution,
                creator_id=creator,
                splits=dict.fromkeys(INCOME_SOURCES, 1_000),
                valid_from=dt.date(2026, 1, 1),
                valid_to=valid_to,
                status="active" if valid_to is None else "ended",
            )
    run = run_cycle(runtime, AS_OF, steps=STEPS)
    report = run.reports[-1]
    assert report.counts["institutions_judged"] == 2
    with runtime.sessions() as session:
        assert session.get_one(Creator, 4).institution_id == 2  # signed by contract
        assert session.get_one(Creator, 1).institution_id is None  # its contract ended
        assert session.get_one(Creator, 2).institution_id == 1  # no contract: left alone
        view = institution_view(session, Principal(0, "operator", None), 2)
    assert view.level == "C"
    assert view.level_month == AS_OF.replace(day=1)
    assert set(view.metrics) >= {"active_creators", "retention", "originality"}
    assert view.next_level == "B"
    assert any(s["metric"] == "active_creators" for s in view.shortfalls)
    again = run_cycle(runtime, AS_OF, steps=STEPS)  # not a month end, judged already
    assert again.reports[-1].counts["institutions_judged"] == 0

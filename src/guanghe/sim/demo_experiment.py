"""The demo's experiment: half the creators get a policy that values novices' follows more,
explores unknown curves and ranks products by commission, from the demo's baseline cycle on,
so that the dashboard shows an experiment with its report."""

from __future__ import annotations

import datetime as dt
from typing import Final

from sqlalchemy import select
from sqlalchemy.orm import Session

from guanghe.experiments import ExperimentPolicy, ExperimentSpec, ExperimentView, create_experiment
from guanghe.runtime import Runtime
from guanghe.sim.demo_cycle import BASELINE_DAYS
from guanghe.store import Experiment
from guanghe.traffic.programs import load_programs, programs_path

DEMO_KEY: Final = "demo-novice-follows"
#: Days the demo experiment runs past the last day.
DAYS_AFTER: Final = 28


def start_demo_experiment(runtime: Runtime, first: dt.date, last: dt.date) -> ExperimentView | None:
    """Create the demo experiment (once), starting on the first day the baseline cycle plans;
    None when the platform has no day before that for the report's pre-period."""
    starts_on = last - dt.timedelta(days=BASELINE_DAYS - 1)
    if starts_on <= first:
        return None
    pools = load_programs(programs_path(runtime.settings.data_dir)).pool_names
    spec = ExperimentSpec(
        key=DEMO_KEY,
        title="Value novices' follows more",
        hypothesis=(
            "Weighting new creators' follows 1.5x, exploring unknown curves with a tenth of the "
            "treated traffic and showing higher-commission products first raises follows and "
            "orders"
        ),
        policy=ExperimentPolicy(
            pool_weights={pools[0]: 1.5}, exploration_share=0.1, product_ranking="commission"
        ),
        treatment_share=0.5,
        starts_on=starts_on,
        ends_on=last + dt.timedelta(days=DAYS_AFTER),
    )

    def create(session: Session) -> ExperimentView | None:
        if session.scalar(select(Experiment.id).where(Experiment.key == DEMO_KEY)) is not None:
            return None
        now = dt.datetime.now(dt.UTC)
        return create_experiment(session, spec, pools=pools, actor="demo", now=now)

    return runtime.write(create)

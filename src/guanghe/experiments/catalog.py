"""Experiments in the store: creating one records every creator's arm; the cycle records the
arms of creators who arrive while it runs and reads the policies of the treated."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from typing import Final, Literal

import numpy as np
import numpy.typing as npt
from sqlalchemy import func, insert, select
from sqlalchemy.orm import Session

from guanghe.errors import Conflict, InvalidInput, NotFound
from guanghe.experiments.policy import ExperimentPolicy, policy_from_json, treated
from guanghe.store import Creator, Experiment, ExperimentAssignment

Status = Literal["scheduled", "running", "ended"]
KEY_PATTERN: Final = r"^[a-z0-9][a-z0-9-]{0,63}$"
#: The longest experiment, in days.
MAX_DAYS: Final = 366
_INSERT_BATCH: Final = 5_000


@dataclass(frozen=True, slots=True)
class ExperimentSpec:
    """What an operator defines."""

    key: str
    title: str
    hypothesis: str
    policy: ExperimentPolicy
    treatment_share: float
    starts_on: dt.date
    ends_on: dt.date


@dataclass(frozen=True, slots=True)
class ExperimentView:
    id: int
    key: str
    title: str
    hypothesis: str
    policy: ExperimentPolicy
    treatment_share: float
    starts_on: dt.date
    ends_on: dt.date
    created_by: str
    created_at: dt.datetime
    control_creators: int
    treatment_creators: int

    def status(self, today: dt.date) -> Status:
        """Scheduled before its first day, running through its last, ended after."""
        if today < self.starts_on:
            return "scheduled"
        return "running" if today <= self.ends_on else "ended"


@dataclass(frozen=True, slots=True)
class TreatedCreators:
    """Per creator of a list, the index of the running experiment treating it (-1: none)
    into ``experiments`` (earliest first; a creator treated by two takes the earlier's
    policy)."""

    arm: npt.NDArray[np.int64]
    experiments: tuple[ExperimentView, ...]


def check_spec(spec: ExperimentSpec, pools: tuple[str, ...]) -> None:
    """Raise :class:`InvalidInput` for a spec no experiment can run."""
    if not re.fullmatch(KEY_PATTERN, spec.key):
        raise InvalidInput(f"key: must match {KEY_PATTERN}")
    if not 0 < spec.treatment_share < 1:
        raise InvalidInput("treatment_share: must lie strictly between 0 and 1")
    if spec.ends_on < spec.starts_on:
        raise InvalidInput("ends_on: must not be before starts_on")
    if (spec.ends_on - spec.starts_on).days + 1 > MAX_DAYS:
        raise InvalidInput(f"ends_on: an experiment lasts at most {MAX_DAYS} days")
    spec.policy.check_pools(pools)


def create_experiment(
    session: Session,
    spec: ExperimentSpec,
    *,
    pools: tuple[str, ...],
    actor: str,
    now: dt.datetime,
) -> ExperimentView:
    """Store the experiment and record the arm of every creator now on the platform.

    ``pools`` are the traffic programme's pool names (the policy may name only those).
    :class:`Conflict` if the key is taken. Call inside a write transaction.
    """
    check_spec(spec, pools)
    if session.scalar(select(Experiment.id).where(Experiment.key == spec.key)) is not None:
        raise Conflict(f"an experiment with key {spec.key!r} already exists")
    row = Experiment(
        key=spec.key,
        title=spec.title,
        hypothesis=spec.hypothesis,
        policy=spec.policy.to_json(),
        treatment_share=spec.treatment_share,
        starts_on=spec.starts_on,
        ends_on=spec.ends_on,
        created_by=actor,
        created_at=now,
    )
    session.add(row)
    session.flush()
    creator_ids = np.array(session.scalars(select(Creator.id).order_by(Creator.id)).all())
    _record(session, row, creator_ids.astype(np.int64), now.date())
    return get_experiment(session, row.id)


def get_experiment(session: Session, experiment_id: int) -> ExperimentView:
    """The experiment ``experiment_id``; :class:`NotFound` if there is none."""
    row = session.get(Experiment, experiment_id)
    if row is None:
        raise NotFound(f"there is no experiment {experiment_id}")
    return _view(session, row)


def list_experiments(session: Session) -> tuple[ExperimentView, ...]:
    """Every experiment, newest first."""
    rows = session.scalars(select(Experiment).order_by(Experiment.id.desc())).all()
    return tuple(_view(session, row) for row in rows)


def assignments(
    session: Session, experiment_id: int
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.bool_]]:
    """The recorded ``(creator_ids, treated)`` of an experiment, by creator id."""
    rows = session.execute(
        select(ExperimentAssignment.creator_id, ExperimentAssignment.arm)
        .where(ExperimentAssignment.experiment_id == experiment_id)
        .order_by(ExperimentAssignment.creator_id)
    ).all()
    ids = np.array([r[0] for r in rows], dtype=np.int64)
    return ids, np.array([r[1] == "treatment" for r in rows], dtype=np.bool_)


def treated_creators(
    session: Session, creator_ids: npt.NDArray[np.int64], day: dt.date
) -> TreatedCreators:
    """Which running experiment (on ``day``) treats each of ``creator_ids``, recording the arm
    of any creator the experiment has not assigned yet (one who joined after it was created).
    Call inside a write transaction."""
    rows = session.scalars(
        select(Experiment)
        .where(Experiment.starts_on <= day, Experiment.ends_on >= day)
        .order_by(Experiment.starts_on, Experiment.id)
    ).all()
    arm = np.full(creator_ids.shape[0], -1, dtype=np.int64)
    for index, row in reversed(list(enumerate(rows))):
        known = set(
            session.scalars(
                select(ExperimentAssignment.creator_id).where(
                    ExperimentAssignment.experiment_id == row.id
                )
            ).all()
        )
        new = np.array([c for c in creator_ids.tolist() if c not in known], dtype=np.int64)
        _record(session, row, new, day)
        arm[treated(row.key, creator_ids, row.treatment_share)] = index
    return TreatedCreators(arm=arm, experiments=tuple(_view(session, row) for row in rows))


def _record(
    session: Session, row: Experiment, creator_ids: npt.NDArray[np.int64], day: dt.date
) -> None:
    if creator_ids.shape[0] == 0:
        return
    arms = np.where(treated(row.key, creator_ids, row.treatment_share), "treatment", "control")
    values = [
        {"experiment_id": row.id, "creator_id": c, "arm": a, "assigned_on": day}
        for c, a in zip(creator_ids.tolist(), arms.tolist(), strict=True)
    ]
    for start in range(0, len(values), _INSERT_BATCH):
        session.execute(insert(ExperimentAssignment), values[start : start + _INSERT_BATCH])


def _view(session: Session, row: Experiment) -> ExperimentView:
    counts = dict(
        session.execute(
            select(ExperimentAssignment.arm, func.count())
            .where(ExperimentAssignment.experiment_id == row.id)
            .group_by(ExperimentAssignment.arm)
        ).all()
    )
    return ExperimentView(
        id=row.id,
        key=row.key,
        title=row.title,
        hypothesis=row.hypothesis,
        policy=policy_from_json(row.policy),
        treatment_share=row.treatment_share,
        starts_on=row.starts_on,
        ends_on=row.ends_on,
        created_by=row.created_by,
        created_at=row.created_at,
        control_creators=int(counts.get("control", 0)),
        treatment_creators=int(counts.get("treatment", 0)),
    )

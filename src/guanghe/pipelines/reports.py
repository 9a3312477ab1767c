"""What the cycle did: one :class:`StepReport` per step, kept with the run as a dated JSON
snapshot (``<snapshots>/cycle_runs/date=YYYY-MM-DD/document.json``) that operators list.

A :class:`Problem` names the object it concerns (``kind`` + ``id``) and why; one flagged
``affects_money`` means money was left unpaid or a transfer was refused, which makes the run's
exit non-zero in the CLI.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any, Final

from guanghe.errors import InvalidInput, NotFound
from guanghe.snapshots import document_dates, document_path, write_document

RUNS: Final = "cycle_runs"
MAX_PAGE: Final = 200


@dataclass(frozen=True, slots=True)
class Problem:
    """Something a step could not do, and the object it concerns."""

    kind: str  # what the object is: "ad_event", "transfer", "campaign", "model", ...
    id: str
    reason: str
    affects_money: bool = False


@dataclass(frozen=True, slots=True)
class StepReport:
    """What one step did: counts by name, every problem, and how long it took."""

    step: str
    counts: Mapping[str, int] = field(default_factory=dict)
    problems: tuple[Problem, ...] = ()
    duration_s: float = 0.0

    def __post_init__(self) -> None:
        object.__setattr__(self, "counts", MappingProxyType(dict(self.counts)))

    @property
    def money_problems(self) -> tuple[Problem, ...]:
        return tuple(p for p in self.problems if p.affects_money)


@dataclass(frozen=True, slots=True)
class CycleRun:
    """One run of the cycle for ``date``: its context's ``now`` and engine, and the reports."""

    date: dt.date
    now: dt.datetime
    batch_engine: str
    reports: tuple[StepReport, ...]

    @property
    def problems(self) -> tuple[Problem, ...]:
        return tuple(p for r in self.reports for p in r.problems)

    @property
    def money_problems(self) -> tuple[Problem, ...]:
        return tuple(p for r in self.reports for p in r.money_problems)

    @property
    def duration_s(self) -> float:
        return sum(r.duration_s for r in self.reports)


@dataclass(frozen=True, slots=True)
class RunPage:
    """Runs newest first; ``next_cursor`` is None on the last page."""

    items: list[CycleRun]
    next_cursor: str | None


def save_run(root: Path, run: CycleRun) -> Path:
    """Keep ``run`` as the dated snapshot of its date (a re-run replaces it)."""
    return write_document(root, RUNS, run.date, json.dumps(run_to_json(run), indent=1))


def load_run(root: Path, date: dt.date) -> CycleRun:
    """The kept run of ``date``; :class:`NotFound` if the cycle never ran for it."""
    path = document_path(root, RUNS, date)
    if not path.exists():
        raise NotFound(f"the cycle has not run for {date.isoformat()}")
    return run_from_json(json.loads(path.read_text(encoding="utf-8")))


def list_runs(root: Path, *, cursor: str | None = None, limit: int = 50) -> RunPage:
    """Kept runs, newest first, ``limit`` at a time; ``cursor`` is the previous page's
    ``next_cursor`` (the last date it showed)."""
    if not 1 <= limit <= MAX_PAGE:
        raise InvalidInput(f"limit must be between 1 and {MAX_PAGE}")
    dates = document_dates(root, RUNS)[::-1]
    if cursor is not None:
        before = parse_day(cursor, "cursor")
        dates = [d for d in dates if d < before]
    page = [load_run(root, d) for d in dates[:limit]]
    more = len(dates) > limit
    return RunPage(page, page[-1].date.isoformat() if more else None)


def parse_day(text: str, name: str = "date") -> dt.date:
    """``YYYY-MM-DD`` as a date; :class:`InvalidInput` naming ``name`` otherwise."""
    if len(text) == 10:
        try:
            return dt.date.fromisoformat(text)
        except ValueError:
            pass
    raise InvalidInput(f"{name} must be a date like 2026-11-28, got {text!r}")


def run_to_json(run: CycleRun) -> dict[str, Any]:
    """``run`` as plain JSON values."""
    return {
        "date": run.date.isoformat(),
        "now": run.now.isoformat(),
        "batch_engine": run.batch_engine,
        "reports": [
            {
                "step": r.step,
                "counts": dict(r.counts),
                "problems": [
                    {
                        "kind": p.kind,
                        "id": p.id,
                        "reason": p.reason,
                        "affects_money": p.affects_money,
                    }
                    for p in r.problems
                ],
                "duration_s": r.duration_s,
            }
            for r in run.reports
        ],
    }


def run_from_json(data: Mapping[str, Any]) -> CycleRun:
    """The run :func:`run_to_json` wrote."""
    return CycleRun(
        date=dt.date.fromisoformat(data["date"]),
        now=dt.datetime.fromisoformat(data["now"]),
        batch_engine=data["batch_engine"],
        reports=tuple(
            StepReport(
                step=r["step"],
                counts={k: int(v) for k, v in r["counts"].items()},
                problems=tuple(Problem(**p) for p in r["problems"]),
                duration_s=float(r["duration_s"]),
            )
            for r in data["reports"]
        ),
    )

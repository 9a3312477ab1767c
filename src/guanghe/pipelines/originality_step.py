"""The cycle's ``originality`` step, and ``guanghe originality backfill``: every work with a
cover that is not yet in the fingerprint index is checked and indexed, a batch per
transaction (so an interrupted run resumes where it stopped), oldest first."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial

from guanghe.pipelines.context import CycleContext
from guanghe.pipelines.reports import Problem, StepReport
from guanghe.runtime import Runtime


@dataclass(frozen=True, slots=True)
class BackfillSummary:
    """What a backfill did: works checked, how many were copies or suspects, and the works
    whose cover could not be read (left unindexed)."""

    checked: int
    duplicates: int
    suspects: int
    unreadable: tuple[int, ...]


def backfill(
    runtime: Runtime,
    *,
    now: dt.datetime,
    progress: Callable[[int, int], None] | None = None,
) -> BackfillSummary:
    """Index every unindexed work; ``progress(done, total)`` after each batch."""
    from guanghe import originality

    index = runtime.fingerprint_index
    with runtime.sessions() as session:
        total = originality.count_unindexed(session)
    checked, duplicates, suspects = 0, 0, 0
    unreadable: list[int] = []
    after: tuple[dt.datetime, int] | None = None
    if progress is not None:
        progress(0, total)
    while total:
        batch = partial(
            originality.backfill_works,
            index=index,
            covers_dir=runtime.settings.covers_dir,
            now=now,
            after=after,
        )
        done = runtime.write(batch)
        checked += done.checked
        duplicates += done.duplicates
        suspects += done.suspects
        unreadable.extend(done.unreadable)
        if progress is not None:
            progress(checked + len(unreadable), total)
        if done.after is None:
            break
        after = done.after
    if checked:
        runtime.fingerprint_index.save()
    return BackfillSummary(checked, duplicates, suspects, tuple(unreadable))


def run(ctx: CycleContext) -> StepReport:
    """Index the works that reached the store unindexed, with decisions dated the cycle's
    ``now``; a work whose cover cannot be read stays unindexed and is reported."""
    summary = backfill(ctx.runtime, now=ctx.now)
    return StepReport(
        "originality",
        {
            "works_indexed": summary.checked,
            "duplicates": summary.duplicates,
            "suspects": summary.suspects,
        },
        tuple(
            Problem("work", str(work_id), "its cover cannot be read; not fingerprinted")
            for work_id in summary.unreadable
        ),
    )

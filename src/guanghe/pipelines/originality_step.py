"""The cycle's ``originality`` step, and ``guanghe originality backfill``: every work with a
cover that is not yet in the fingerprint index is checked and indexed, oldest first, then
every indexed work stored before covers kept keypoints gets its cover's keypoint rows; a
batch per transaction, so an interrupted run resumes where it stopped."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial

from guanghe.pipelines.context import CycleContext
from guanghe.pipelines.reports import Problem, StepReport
from guanghe.runtime import Runtime

#: The stages ``progress`` is called with.
WORKS_STAGE = "works indexed"
KEYPOINTS_STAGE = "works given cover keypoints"


@dataclass(frozen=True, slots=True)
class BackfillSummary:
    """What a backfill did: works checked, how many were copies or suspects, works given
    keypoint rows (and the rows), covers in which none was found, and the works whose cover
    could not be read (left unindexed or without keypoints)."""

    checked: int
    duplicates: int
    suspects: int
    unreadable: tuple[int, ...]
    keypoints_filled: int = 0
    keypoint_rows: int = 0
    without_keypoints: tuple[int, ...] = ()


def backfill(
    runtime: Runtime,
    *,
    now: dt.datetime,
    progress: Callable[[str, int, int], None] | None = None,
) -> BackfillSummary:
    """Index every unindexed work, then add the keypoint rows of indexed works without any;
    ``progress(stage, done, total)`` after each batch."""
    from guanghe import originality

    index = runtime.fingerprint_index
    with runtime.sessions() as session:
        total = originality.count_unindexed(session)
    checked, duplicates, suspects = 0, 0, 0
    unreadable: list[int] = []
    after: tuple[dt.datetime, int] | None = None
    if progress is not None:
        progress(WORKS_STAGE, 0, total)
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
            progress(WORKS_STAGE, checked + len(unreadable), total)
        if done.after is None:
            break
        after = done.after
    filled, rows, without = _backfill_keypoints(runtime, now, unreadable, progress)
    if checked or rows:
        runtime.fingerprint_index.save()
    return BackfillSummary(
        checked, duplicates, suspects, tuple(unreadable), filled, rows, tuple(without)
    )


def _backfill_keypoints(
    runtime: Runtime,
    now: dt.datetime,
    unreadable: list[int],
    progress: Callable[[str, int, int], None] | None,
) -> tuple[int, int, list[int]]:
    """Add the keypoint rows of every indexed work without any (unreadable covers appended
    to ``unreadable``): works filled, rows added, covers without keypoints (recorded as
    scanned at ``now``, so read once)."""
    from guanghe import originality

    with runtime.sessions() as session:
        total = originality.count_missing_keypoints(session)
    filled, rows, done = 0, 0, 0
    without: list[int] = []
    after: int | None = None
    if progress is not None and total:
        progress(KEYPOINTS_STAGE, 0, total)
    while total:
        batch = runtime.write(
            partial(
                originality.backfill_keypoints,
                covers_dir=runtime.settings.covers_dir,
                now=now,
                after=after,
            )
        )
        filled += batch.filled
        rows += batch.rows
        without.extend(batch.without_keypoints)
        unreadable.extend(batch.unreadable)
        done += batch.filled + len(batch.without_keypoints) + len(batch.unreadable)
        if progress is not None:
            progress(KEYPOINTS_STAGE, done, total)
        if batch.after is None:
            break
        after = batch.after
    return filled, rows, without


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
            "keypoints_filled": summary.keypoints_filled,
        },
        tuple(
            Problem("work", str(work_id), "its cover cannot be read; not fingerprinted")
            for work_id in summary.unreadable
        ),
    )

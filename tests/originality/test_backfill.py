"""Works that reached the store without the publication check are indexed by the backfill
(resumable, oldest first) and by the daily cycle, so a copy of them is caught."""

from __future__ import annotations

import datetime as dt
from functools import partial

import pytest
from PIL import Image
from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from guanghe import originality
from guanghe.cli.app import main
from guanghe.originality.attribution import save_cover
from guanghe.originality.fingerprint import INDEXED
from guanghe.pipelines.context import CycleContext
from guanghe.runtime import Runtime
from guanghe.store import CopyMatch, OriginalityDecision, Work, WorkFingerprint, WorkOriginality
from tests.originality.pictures import edits, encode, picture
from tests.seed import SeedPlatform

T0 = dt.datetime(2026, 11, 1, 12, tzinfo=dt.UTC)


def imported_work(runtime: Runtime, creator_id: int, cover: bytes, at: dt.datetime) -> int:
    """A work stored the way a bulk import does: a row and a cover, no check."""

    def add(session: Session) -> int:
        vertical = session.scalar(select(Work.vertical_id).limit(1))
        work = Work(
            creator_id=creator_id,
            published_at=at,
            title="Imported work",
            caption="",
            hashtags=[],
            vertical_id=vertical,
            duration_s=15,
        )
        session.add(work)
        session.flush()
        work.cover_path = save_cover(runtime.settings.covers_dir, work.id, cover, "png")
        return int(work.id)

    return runtime.write(add)


def verdict(runtime: Runtime, work_id: int) -> tuple[str, int | None] | None:
    with runtime.sessions() as session:
        row = session.get(WorkOriginality, work_id)
        return None if row is None else (row.verdict, row.original_work_id)


def test_backfill_checks_unindexed_works_oldest_first_and_resumes(
    runtime: Runtime, seed_platform: SeedPlatform
) -> None:
    a, b, c = seed_platform.creator_ids[:3]
    copy = imported_work(runtime, b, encode(picture(80)), T0 + dt.timedelta(hours=2))
    first = imported_work(runtime, a, encode(picture(80)), T0)  # imported later, published first
    other = imported_work(runtime, c, encode(edits(picture(81))["jpeg"]), T0)
    index = runtime.fingerprint_index
    with runtime.sessions() as session:
        assert originality.count_unindexed(session) >= 3
    now = T0 + dt.timedelta(days=1)
    batch = runtime.write(
        lambda s: originality.backfill_works(
            s, index, runtime.settings.covers_dir, now=now, limit=1
        )
    )
    assert batch.checked == 1
    assert batch.after is not None
    while batch.after is not None:
        batch = runtime.write(
            partial(
                originality.backfill_works,
                index=index,
                covers_dir=runtime.settings.covers_dir,
                now=now,
                after=batch.after,
                limit=1,
            )
        )
    assert verdict(runtime, first) == ("original", None)
    assert verdict(runtime, other) == ("original", None)
    assert verdict(runtime, copy) == ("duplicate", first)
    with runtime.sessions() as session:
        assert originality.count_unindexed(session) == 0


def test_backfill_command_reports_and_the_cycle_step_indexes(
    runtime: Runtime,
    seed_platform: SeedPlatform,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    from guanghe.pipelines import originality_step

    a, b = seed_platform.creator_ids[:2]
    first = imported_work(runtime, a, encode(picture(82)), T0)
    broken = imported_work(runtime, a, b"not a picture", T0)
    monkeypatch.setenv("GUANGHE_DATA_DIR", str(runtime.settings.data_dir))
    monkeypatch.setenv("GUANGHE_DATABASE_URL", runtime.settings.resolved_database_url)
    with pytest.raises(SystemExit) as exited:
        main(["originality", "backfill"])
    out, err = capsys.readouterr()
    assert exited.value.code == 1  # an unreadable cover is reported, not skipped in silence
    assert "indexed 1 works" in out
    assert f"unreadable cover and stay unindexed: {broken}" in err
    assert verdict(runtime, first) == ("original", None)

    copy = imported_work(runtime, b, encode(picture(82)), T0 + dt.timedelta(hours=1))
    originality_step.run(CycleContext.for_date(runtime, T0.date()))
    assert verdict(runtime, copy) == ("duplicate", first)


def test_register_works_attributes_originals_and_ends_a_match_in_force(
    runtime: Runtime, seed_platform: SeedPlatform
) -> None:
    """Registered works get their fingerprints, an ``original`` verdict and a logged decision
    at their publication time; one with a match in force (a copy verdict since overturned
    outside the store) has that match ended by the registration's decision."""
    a, b = seed_platform.creator_ids[:2]
    first = imported_work(runtime, a, encode(picture(90)), T0)
    second = imported_work(runtime, b, encode(picture(91)), T0 + dt.timedelta(hours=1))
    third = imported_work(runtime, b, encode(picture(92)), T0 + dt.timedelta(hours=2))

    def open_match(session: Session) -> None:
        session.add(
            CopyMatch(
                copy_work_id=third,
                original_work_id=first,
                original_creator_id=a,
                evidence="imported",
                effective_at=T0,
            )
        )

    runtime.write(open_match)
    ids = [third, first, second]
    covers = runtime.settings.covers_dir
    registered = runtime.write(partial(originality.register_works, covers_dir=covers, work_ids=ids))
    assert registered == 3
    with runtime.sessions() as session:
        decisions = session.execute(
            select(OriginalityDecision.work_id, OriginalityDecision.note, OriginalityDecision.id)
            .where(OriginalityDecision.work_id.in_(ids))
            .order_by(OriginalityDecision.id)
        ).all()
        assert [(w, note) for w, note, _ in decisions] == [
            (w, "registered: registered from the catalogue") for w in (first, second, third)
        ]
        for work_id in ids:
            assert session.get_one(WorkOriginality, work_id).verdict == "original"
            tags = list(
                session.scalars(
                    select(WorkFingerprint.tag).where(WorkFingerprint.work_id == work_id)
                )
            )
            # The indexed windows' hashes, and the cover's keypoints (negative tags).
            assert sum(tag >= 0 for tag in tags) == len(INDEXED)
            assert sum(tag < 0 for tag in tags) > 0
        match = session.scalars(select(CopyMatch).where(CopyMatch.copy_work_id == third)).one()
        assert match.ended_by_decision_id == decisions[-1].id
        assert match.ended_at is not None
    assert runtime.write(partial(originality.register_works, covers_dir=covers, work_ids=ids)) == 0


def keypoint_rows(runtime: Runtime, work_id: int) -> list[tuple[int, bytes, int]]:
    with runtime.sessions() as session:
        rows = session.execute(
            select(WorkFingerprint.tag, WorkFingerprint.pdq, WorkFingerprint.quality)
            .where(WorkFingerprint.work_id == work_id, WorkFingerprint.tag < 0)
            .order_by(WorkFingerprint.id)
        ).all()
    return [(int(tag), bytes(pdq), int(quality)) for tag, pdq, quality in rows]


def test_backfill_adds_the_cover_keypoints_of_works_indexed_before_keypoints(
    runtime: Runtime, seed_platform: SeedPlatform
) -> None:
    """Works fingerprinted before covers kept keypoints have PDQ rows and a verdict but no
    keypoint rows; the backfill adds the rows publishing stores now (resumably, a batch at a
    time, with progress), leaves works that have them alone and reports a cover with none."""
    from guanghe.pipelines import originality_step

    a, b, c = seed_platform.creator_ids[:3]
    old = [imported_work(runtime, a, encode(picture(93 + k)), T0) for k in range(3)]
    flat = imported_work(runtime, b, encode(Image.new("RGB", (120, 90), (90, 90, 90))), T0)
    recent = imported_work(runtime, c, encode(picture(97)), T0)
    now = T0 + dt.timedelta(days=1)
    first = originality_step.backfill(runtime, now=now)
    published = {work_id: keypoint_rows(runtime, work_id) for work_id in [*old, recent]}
    assert all(published.values())
    assert keypoint_rows(runtime, flat) == []
    assert flat in first.without_keypoints  # read once, recorded as scanned

    def forget_keypoints(session: Session) -> None:  # as stored before keypoints existed
        session.execute(
            delete(WorkFingerprint).where(WorkFingerprint.work_id.in_(old), WorkFingerprint.tag < 0)
        )

    runtime.write(forget_keypoints)
    with runtime.sessions() as session:
        missing = originality.count_missing_keypoints(session)
    assert missing == len(old)  # not the flat cover: no backfill reads it again

    # one work a batch: each batch is committed, and the next starts after it
    batch = runtime.write(
        partial(
            originality.backfill_keypoints, covers_dir=runtime.settings.covers_dir, now=now, limit=1
        )
    )
    assert batch.after is not None
    with runtime.sessions() as session:
        assert originality.count_missing_keypoints(session) == missing - batch.filled

    stages: list[tuple[str, int, int]] = []
    summary = originality_step.backfill(
        runtime, now=now, progress=lambda *stage: stages.append(stage)
    )
    assert summary.checked == 0
    assert summary.keypoints_filled == len(old) - batch.filled
    assert summary.without_keypoints == ()
    assert {work_id: keypoint_rows(runtime, work_id) for work_id in [*old, recent]} == published
    keypoint_stages = [s for s in stages if s[0] == originality_step.KEYPOINTS_STAGE]
    assert keypoint_stages[0][1] == 0
    assert keypoint_stages[-1][1] == keypoint_stages[-1][2]
    with runtime.sessions() as session:
        assert originality.count_missing_keypoints(session) == 0

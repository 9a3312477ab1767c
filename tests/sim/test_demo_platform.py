"""The demo at a small size (500 creators x 14 days): generated, re-uploaded to and cycled,
it has every work fingerprinted, its re-uploads on its own timeline, orders, an originality
case, a creator with pre-diagnosis and every growth tier."""

from __future__ import annotations

import io
from collections.abc import Iterator

import pytest
from PIL import Image
from sqlalchemy import select

from guanghe import originality
from guanghe.analytics import ecosystem_report, parse_period
from guanghe.pipelines import run_cycle
from guanghe.runtime import Runtime
from guanghe.sim import PlatformSummary, generate_platform
from guanghe.sim.reuploads import DemoUpload, publish_demo_reuploads
from guanghe.store import Work
from tests.sim.conftest import make_runtime

CREATORS, DAYS, SEED = 500, 14, 7


@pytest.fixture(scope="module")
def demo(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[tuple[Runtime, PlatformSummary, list[DemoUpload]]]:
    runtime = make_runtime(tmp_path_factory.mktemp("demo"))
    summary = generate_platform(runtime, creators=CREATORS, days=DAYS, seed=SEED)
    with runtime.sessions() as session:
        assert originality.count_unindexed(session) == 0  # indexed at generation
    uploads = publish_demo_reuploads(runtime, seed=SEED)
    run_cycle(runtime, summary.last_date)
    yield runtime, summary, uploads
    runtime.engine.dispose()


def test_an_exact_copy_of_a_simulated_work_is_not_original(
    demo: tuple[Runtime, PlatformSummary, list[DemoUpload]],
) -> None:
    runtime, _, _ = demo
    with runtime.sessions() as session:
        work = session.scalars(select(Work).order_by(Work.id).limit(1)).one()
        cover = (runtime.settings.covers_dir / str(work.cover_path)).read_bytes()
        copier = 2 if work.creator_id == 1 else 1
        index = originality.fingerprint_index(runtime.settings.data_dir)
        check = originality.check_originality(
            session,
            index,
            runtime.settings.covers_dir,
            creator_id=copier,
            cover=Image.open(io.BytesIO(cover)).convert("RGB"),
        )
    assert (check.verdict, check.original_work_id) == ("duplicate", work.id)


def test_the_demo_re_uploads_happen_in_the_simulated_period_and_protect_their_authors(
    demo: tuple[Runtime, PlatformSummary, list[DemoUpload]],
) -> None:
    runtime, summary, uploads = demo
    assert [u.kind for u in uploads][:2] == ["cropped copy", "own re-post"]
    with runtime.sessions() as session:
        published = [session.get_one(Work, u.work_id).published_at.date() for u in uploads]
        assert all(summary.first_date <= day <= summary.last_date for day in published)
        authors = {
            session.get_one(Work, u.original_work_id).creator_id
            for u in uploads
            if u.verdict == "duplicate" and u.original_work_id is not None
        }
        report = ecosystem_report(
            session, runtime.event_log, parse_period(summary.first_date, summary.last_date)
        )
    protected = {m.key: m for m in report.metrics}["protected_original_authors"]
    assert authors
    assert protected.current.value == len(authors)

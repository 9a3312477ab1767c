"""Issue 22 (d): opening a copy match tells the original's author and the uploader, in the
match's transaction, once (the notices' keys name the match)."""

from __future__ import annotations

from sqlalchemy import select

from guanghe.originality import matches
from guanghe.runtime import Runtime
from guanghe.store import CopyMatch, Notice
from tests.originality.conftest import Publish
from tests.originality.pictures import edits, picture


def match_notices(runtime: Runtime, match_id: int) -> dict[str, Notice]:
    with runtime.sessions() as session:
        rows = session.scalars(
            select(Notice).where(Notice.dedupe_key.like(f"copy-match:{match_id}:%"))
        ).all()
        session.expunge_all()
    return {row.data["role"]: row for row in rows}


def test_a_picture_copy_match_notifies_the_author_and_the_uploader_once(
    publish: Publish, runtime: Runtime
) -> None:
    original = publish(1, picture(91)).json()["id"]
    copy = publish(2, edits(picture(91))["cropped"], title="my noodles").json()
    assert copy["originality"]["verdict"] == "duplicate", copy
    with runtime.sessions() as session:
        match = session.scalars(select(CopyMatch).where(CopyMatch.copy_work_id == copy["id"])).one()
        match_id = match.id
    notices = match_notices(runtime, match_id)
    assert set(notices) == {"original", "uploader"}
    author, uploader = notices["original"], notices["uploader"]
    assert (author.creator_id, uploader.creator_id) == (1, 2)
    assert author.kind == uploader.kind == "originality_decision"
    for notice in (author, uploader):
        assert notice.data["copy_work_id"] == copy["id"]
        assert notice.data["original_work_id"] == original
        assert notice.data["media"] == "picture"
        assert f"work {copy['id']}" in notice.body
    assert "/v1/originality/disputes" in uploader.body
    assert uploader.data["dispute_path"] == "POST /v1/originality/disputes"
    assert "creator 2" in author.body

    # writing them again (a retried request, a re-run step) adds nothing
    with runtime.sessions() as session:
        again = session.get_one(CopyMatch, match_id)
        matches._notify_opened(session, again, now=again.effective_at)
        session.commit()
        count = len(
            session.scalars(
                select(Notice.id).where(Notice.dedupe_key.like(f"copy-match:{match_id}:%"))
            ).all()
        )
    assert count == 2


def test_an_original_upload_notifies_no_one(publish: Publish, runtime: Runtime) -> None:
    publish(1, picture(92))
    with runtime.sessions() as session:
        keys = session.scalars(select(Notice.dedupe_key)).all()
    assert not [k for k in keys if k.startswith("copy-match:")]

"""``POST /v1/works`` with a video: segment matches in picture and sound, shared music, and
refused videos (on SQLite and PostgreSQL)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx2
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from guanghe.originality import video as video_module
from guanghe.runtime import Runtime
from guanghe.sim import videos
from guanghe.store import (
    AudioFingerprintRow,
    CopyMatch,
    MediaMatch,
    Notice,
    VideoFingerprintRow,
)
from tests.originality.pictures import encode, picture

SIZE = (160, 90)
SECONDS = 6.0


@pytest.fixture
def publish_video(
    client: TestClient, token_for: Callable[..., str]
) -> Callable[..., httpx2.Response]:
    tokens: dict[int, str] = {}

    def post(creator_id: int, data: bytes, cover_seed: int, title: str = "clip") -> httpx2.Response:
        token = tokens.setdefault(creator_id, token_for("creator", creator_id))
        files: list[tuple[str, Any]] = [
            ("cover", ("cover.png", encode(picture(cover_seed)), "image/png")),
            ("video", ("clip.mp4", data, "video/mp4")),
        ]
        return client.post(
            "/v1/works",
            data={"creator_id": str(creator_id), "title": title},
            files=files,
            headers={"Authorization": f"Bearer {token}"},
        )

    return post


def test_video_copies_are_linked_to_their_segment(
    publish_video: Callable[..., httpx2.Response],
    client: TestClient,
    runtime: Runtime,
    token_for: Callable[..., str],
) -> None:
    source = videos.scene_video(1, seconds=SECONDS, size=SIZE)
    first = publish_video(1, source, 40)
    assert first.status_code == 201, first.text
    original = first.json()
    assert original["originality"]["verdict"] == "original"
    assert original["media_matches"] == []
    assert original["duration_s"] == 6

    mirrored = publish_video(2, videos.edit_video(source, "mirror", seed=1), 41).json()
    assert mirrored["originality"]["verdict"] == "duplicate"
    assert mirrored["originality"]["original_work_id"] == original["id"]
    kinds = {m["kind"]: m for m in mirrored["media_matches"]}
    assert set(kinds) == {"video", "audio"}
    picture_match = kinds["video"]
    assert picture_match["original_work_id"] == original["id"]
    assert picture_match["original_creator_id"] == 1
    assert picture_match["mirrored"] is True
    assert picture_match["upload_share"] > 0.8
    assert "picture" in mirrored["originality"]["evidence"]

    # new pictures over the original's sound: a sound match, reported as such
    dubbed = videos.new_pictures(source, videos.scene_video(50, seconds=SECONDS, size=SIZE))
    sound_copy = publish_video(3, dubbed, 42).json()
    assert sound_copy["originality"]["verdict"] == "duplicate"
    assert [m["kind"] for m in sound_copy["media_matches"]] == ["audio"]
    assert sound_copy["originality"]["evidence"].startswith("sound")

    # the uploader sees which segment matched whom; the original's author too
    for token in (token_for("creator", 3), token_for("creator", 1), token_for("operator")):
        shown = client.get(
            f"/v1/originality/works/{sound_copy['id']}/matches",
            headers={"Authorization": f"Bearer {token}"},
        )
        assert shown.status_code == 200, shown.text
        (match,) = shown.json()
        assert match["original_work_id"] == original["id"]
        assert match["kind"] == "audio"
        assert match["upload_start_s"] < match["upload_end_s"]
    other = client.get(
        f"/v1/originality/works/{sound_copy['id']}/matches",
        headers={"Authorization": f"Bearer {token_for('creator', 2)}"},
    )
    assert other.status_code == 403

    with runtime.sessions() as session:
        assert session.scalar(select(VideoFingerprintRow.work_id).limit(1)) is not None
        assert len(session.scalars(select(AudioFingerprintRow)).all()) == 3
        assert len(session.scalars(select(MediaMatch)).all()) == 3
        # each copy's match, which its original's author's policy applies to, names its
        # medium and segment
        matches = {
            m.copy_work_id: m
            for m in session.scalars(select(CopyMatch).where(CopyMatch.ended_at.is_(None)))
        }
    for copy, medium, uploader in ((mirrored, "video", 2), (sound_copy, "audio", 3)):
        match = matches[copy["id"]]
        assert (match.original_work_id, match.media) == (original["id"], medium)
        assert match.copy_start_ms is not None
        assert match.copy_end_ms is not None
        assert 0 <= match.copy_start_ms < match.copy_end_ms
        assert match.copy_share_bp is not None
        assert 0 < match.copy_share_bp <= 10_000
        # the author and the uploader were told which stretch matched whom
        with runtime.sessions() as session:
            notices = {
                n.data["role"]: n
                for n in session.scalars(
                    select(Notice).where(Notice.dedupe_key.like(f"copy-match:{match.id}:%"))
                )
            }
            assert {k: n.creator_id for k, n in notices.items()} == {
                "original": 1,
                "uploader": uploader,
            }
            for notice in notices.values():
                assert notice.data["media"] == medium
                assert notice.data["copy_start_ms"] == match.copy_start_ms
                assert f"{match.copy_start_ms / 1000:.1f} s" in notice.body
            assert "/v1/originality/disputes" in notices["uploader"].body


def test_own_repost_of_a_video_is_not_a_copy(
    publish_video: Callable[..., httpx2.Response],
) -> None:
    source = videos.scene_video(2, seconds=SECONDS, size=SIZE)
    assert publish_video(1, source, 43).status_code == 201
    again = publish_video(1, videos.edit_video(source, "low-bitrate"), 44).json()
    assert again["originality"]["verdict"] == "original"
    assert again["media_matches"] == []


def test_shared_music_is_not_a_copy(
    publish_video: Callable[..., httpx2.Response],
    client: TestClient,
    token_for: Callable[..., str],
) -> None:
    track = videos.backing_track(9, SECONDS)
    library = publish_video(1, videos.scene_video(60, seconds=SECONDS, size=SIZE, sound=track), 45)
    operator = {"Authorization": f"Bearer {token_for('operator')}"}
    marked = client.post(
        "/v1/originality/shared-music",
        json={"work_id": library.json()["id"], "note": "library track"},
        headers=operator,
    )
    assert marked.status_code == 201, marked.text
    assert [
        m["work_id"] for m in client.get("/v1/originality/shared-music", headers=operator).json()
    ] == [library.json()["id"]]
    for creator, seed in ((2, 61), (3, 62)):
        used = publish_video(
            creator, videos.scene_video(seed, seconds=SECONDS, size=SIZE, sound=track), seed
        ).json()
        assert used["originality"]["verdict"] == "original", used
        assert used["media_matches"] == []


def test_bad_videos_are_problems_not_errors(
    publish_video: Callable[..., httpx2.Response], monkeypatch: pytest.MonkeyPatch
) -> None:
    source = videos.scene_video(3, seconds=SECONDS, size=SIZE)
    for data in (b"", b"\x00" * 1000, source[: len(source) // 4]):
        response = publish_video(1, data, 46)
        assert response.status_code == 422, response.text
        assert response.headers["content-type"] == "application/problem+json"
    monkeypatch.setattr(video_module, "MAX_VIDEO_SECONDS", 3)
    too_long = publish_video(1, source, 47)
    assert too_long.status_code == 413, too_long.text
    assert "video" in too_long.json()["detail"]

"""``POST /v1/works``: verdicts, attribution to the first publisher, access, bad uploads."""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from PIL import Image

from guanghe import monetize, originality
from guanghe.errors import Unavailable
from guanghe.originality.registry import FingerprintIndex
from guanghe.runtime import Runtime
from tests.originality.conftest import Publish
from tests.originality.pictures import edits, encode, hard_edits, picture, png_header, video


def assert_problem(response: object, status: int, code: str) -> str:
    assert response.status_code == status, response.text  # type: ignore[attr-defined]
    assert response.headers["content-type"] == "application/problem+json"  # type: ignore[attr-defined]
    body = response.json()  # type: ignore[attr-defined]
    assert body["type"] == f"urn:guanghe:problem:{code}"
    return str(body["detail"])


def test_first_publisher_is_original_and_copies_are_linked(
    publish: Publish, runtime: Runtime
) -> None:
    first = publish(1, picture(1))
    assert first.status_code == 201, first.text
    body = first.json()
    assert body["originality"]["verdict"] == "original"
    assert body["creator_id"] == 1
    assert (runtime.settings.covers_dir / body["cover_path"]).exists()

    copy = publish(2, edits(picture(1))["cropped"], title="my noodles")
    assert copy.status_code == 201
    verdict = copy.json()["originality"]
    assert verdict["verdict"] == "duplicate"
    assert verdict["original_work_id"] == body["id"]
    assert verdict["original_creator_id"] == 1
    assert verdict["distance"] is not None

    # a copy of the copy is linked to the root original
    again = publish(3, edits(picture(1))["jpeg"]).json()
    assert again["originality"]["verdict"] == "duplicate"
    assert again["originality"]["original_work_id"] == body["id"]
    with runtime.sessions() as session:
        assert originality.duplicate_work_ids(session) == {copy.json()["id"], again["id"]}


@pytest.mark.parametrize("edit", ["cropped-20-offset", "several"])
def test_a_copy_no_hashed_window_lines_up_with_is_found_by_its_keypoints(
    publish: Publish, edit: str
) -> None:
    """Issue 22: the published cover's keypoints are stored with it, and an offset crop (or
    several edits at once) of it is a duplicate, explained as a keypoint match."""
    first = publish(1, picture(3)).json()
    verdict = publish(2, hard_edits(picture(3))[edit]).json()["originality"]
    assert verdict["verdict"] == "duplicate"
    assert verdict["original_work_id"] == first["id"]
    assert "keypoints~keypoints" in verdict["evidence"]


def test_own_repost_is_not_a_duplicate(publish: Publish) -> None:
    first = publish(1, picture(2)).json()
    repost = publish(1, edits(picture(2))["resized"]).json()["originality"]
    assert repost["verdict"] == "original"
    assert repost["own_work_id"] == first["id"]


def test_unverifiable_close_match_is_a_suspect_with_a_review_case(
    publish: Publish, runtime: Runtime, client: TestClient, token_for: Callable[..., str]
) -> None:
    first = publish(1, picture(3)).json()
    (runtime.settings.covers_dir / first["cover_path"]).unlink()  # the stored cover is lost
    suspect = publish(2, picture(3), title="Gaming highlights", hashtags="#gaming").json()
    assert suspect["originality"]["verdict"] == "suspect"
    assert suspect["originality"]["original_work_id"] == first["id"]
    cases = client.get(
        "/v1/originality/cases",
        params={"status": "open"},
        headers={"Authorization": f"Bearer {token_for('operator')}"},
    ).json()
    assert [(c["kind"], c["work_id"]) for c in cases] == [("review", suspect["id"])]


def test_unrelated_works_are_original(publish: Publish) -> None:
    for seed in (10, 11, 12):
        assert publish(seed % 6 + 1, picture(seed)).json()["originality"]["verdict"] == "original"


def test_a_copied_video_frame_is_found(publish: Publish) -> None:
    frames = [picture(20), picture(21), picture(22)]
    first = publish(1, picture(23), frames=[("clip.mp4", video(frames))])
    assert first.status_code == 201, first.text
    assert first.json()["duration_s"] >= 1
    copy = publish(5, picture(24), frames=[("still.png", encode(frames[1]))]).json()
    assert copy["originality"]["verdict"] == "duplicate"
    assert copy["originality"]["original_work_id"] == first.json()["id"]


def test_creators_publish_only_as_themselves_operators_for_anyone(
    publish: Publish, token_for: Callable[..., str], runtime: Runtime
) -> None:
    detail = assert_problem(
        publish(2, picture(30), token=token_for("creator", 1)), 403, "forbidden"
    )
    assert "creator 1" in detail
    advertiser = runtime.write(
        lambda s: monetize.register_party(s, "advertiser", "Acme", now=dt.datetime.now(dt.UTC))
    )
    assert_problem(
        publish(2, picture(30), token=token_for("advertiser", advertiser.id)), 403, "forbidden"
    )
    assert publish(2, picture(30), token=token_for("operator")).status_code == 201
    assert_problem(publish(99, picture(31), token=token_for("operator")), 404, "not-found")


def _truncated() -> bytes:
    data = encode(picture(40))
    return data[: len(data) // 2]


def _bomb() -> bytes:
    return encode(Image.new("RGB", (7_000, 7_000), (9, 9, 9)))


@pytest.mark.parametrize(
    ("cover", "status", "words"),
    [
        (b"GIF89a? not really a picture at all", 422, "not a picture"),
        (b"%PDF-1.7 definitely a document", 422, "not a picture"),
        (_truncated(), 422, "truncated"),
        (_bomb(), 413, "pixels"),
        (png_header(20_000, 20_000), 413, "pixels"),
        (b"", 422, "empty"),
    ],
    ids=["gif-lookalike", "pdf", "truncated", "7000x7000", "20000x20000-header", "empty"],
)
def test_bad_covers_are_refused_and_write_nothing(
    publish: Publish, runtime: Runtime, cover: bytes, status: int, words: str
) -> None:
    code = "too-large" if status == 413 else "invalid-input"
    detail = assert_problem(publish(1, cover), status, code)
    assert words in detail
    assert "cover" in detail
    assert not runtime.settings.covers_dir.exists() or not any(
        runtime.settings.covers_dir.rglob("*.*")
    )


def test_oversized_upload_is_refused(publish: Publish) -> None:
    detail = assert_problem(
        publish(1, b"\x89PNG" + b"0" * (10 * 1024 * 1024 + 10)), 413, "too-large"
    )
    assert "bytes" in detail


@pytest.mark.parametrize(
    ("frame", "status", "words"),
    [
        (png_header(20_000, 20_000), 413, "pixels"),  # Pillow's own bomb guard: was a 500
        (png_header(7_000, 7_000), 413, "pixels"),
        (b"%PDF-1.7 definitely a document", 422, "not a picture or video"),
    ],
    ids=["20000x20000-header", "7000x7000-header", "pdf"],
)
def test_bad_frames_are_refused(
    publish: Publish, runtime: Runtime, frame: bytes, status: int, words: str
) -> None:
    code = "too-large" if status == 413 else "invalid-input"
    detail = assert_problem(publish(1, picture(50), frames=[("f.png", frame)]), status, code)
    assert words in detail
    assert "frames[0]" in detail
    assert not runtime.settings.covers_dir.exists() or not any(
        runtime.settings.covers_dir.rglob("*.*")
    )


def test_an_upload_over_the_pixel_budget_is_refused_before_decoding(publish: Publish) -> None:
    # Each frame is under the per-picture cap, and none could be decoded (a few bytes of
    # pixels): the refusal comes from the headers alone, before any decoding.
    frames = [(f"f{n}.png", png_header(6_000, 6_000)) for n in range(16)]
    started = time.monotonic()
    detail = assert_problem(publish(1, picture(51), frames=frames), 413, "too-large")
    assert time.monotonic() - started < 2.0
    assert "per upload" in detail
    assert "frames[2]" in detail  # the cover and three frames pass 80 million pixels


def test_uploads_wait_for_a_decode_slot_and_give_up_in_time() -> None:
    slots = originality.DecodeSlots(slots=1, wait_seconds=0.05)
    upload = encode(picture(52))
    with slots.turn(), pytest.raises(Unavailable) as busy:
        originality.decode_upload(upload, [], slots)
    assert busy.value.retry_after_seconds == 1
    assert originality.decode_upload(upload, [], slots).cover.image.size == (360, 640)


def test_missing_fields_are_422(client: TestClient, token_for: Callable[..., str]) -> None:
    response = client.post(
        "/v1/works",
        data={"creator_id": "1"},
        headers={"Authorization": f"Bearer {token_for('operator')}"},
    )
    assert_problem(response, 422, "invalid-input")


def test_each_runtime_keeps_its_own_index(publish: Publish, runtime: Runtime) -> None:
    first = publish(1, picture(50)).json()
    publish(2, picture(51))  # its search caught up with the first
    index = runtime.fingerprint_index
    assert index is runtime.fingerprint_index
    assert index.path == (runtime.settings.data_dir / originality.INDEX_FILE).resolve()
    # the app searched and filled this runtime's index, not one shared by the process
    assert index.index is not None
    assert first["id"] in index.index.labels_[: index.index.size].tolist()
    other = Runtime(runtime.settings)
    assert other.fingerprint_index is not index
    assert other.fingerprint_index.index is None


def test_index_is_persisted_rebuilt_and_caught_up(publish: Publish, runtime: Runtime) -> None:
    first = publish(1, picture(50)).json()
    runtime.fingerprint_index.save()
    saved = runtime.fingerprint_index.path
    assert saved.exists()
    # a new process: loads the file, then catches up with rows published since
    second = publish(2, picture(51)).json()
    fresh = FingerprintIndex(saved)
    with runtime.sessions() as session:
        index = fresh.synced(session)
    assert {first["id"], second["id"]} <= set(index.codes.labels_[: index.codes.size].tolist())
    assert {first["id"], second["id"]} <= set(
        index.keypoints.labels_[: index.keypoints.size].tolist()
    )
    # a missing file is rebuilt from the store
    saved.unlink()
    rebuilt = FingerprintIndex(Path(saved))
    with runtime.sessions() as session:
        again = rebuilt.synced(session)
    assert (again.codes.size, again.keypoints.size) == (index.codes.size, index.keypoints.size)

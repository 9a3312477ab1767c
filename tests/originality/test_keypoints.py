"""The keypoint index: votes found through table keys, built incrementally, saved, and the
geometry check that ranks candidates."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from guanghe.originality import keypoints as kp
from guanghe.originality import matching
from guanghe.originality.keypoints import KeypointIndex, Keypoints


def random_codes(rng: np.random.Generator, n: int) -> np.ndarray:
    return rng.integers(0, 256, (n, 32), dtype=np.uint8)


def flip_bits(codes: np.ndarray, rng: np.random.Generator, bits: int) -> np.ndarray:
    flipped = codes.copy()
    for row in flipped:
        for bit in rng.choice(256, bits, replace=False):
            row[bit // 8] ^= np.uint8(1 << (bit % 8))
    return flipped


def test_tags_keep_positions_and_stay_apart_from_pdq_tags() -> None:
    positions = np.array([[0.2, 0.7], [127.9, 3.1], [64.0, 127.0]], dtype=np.float32)
    keypoints = Keypoints(np.zeros((3, 32), np.uint8), positions, np.zeros(3, bool))
    tags = keypoints.tags
    assert kp.is_keypoint_tag(tags).all()
    assert not kp.is_keypoint_tag(np.arange(10, dtype=np.int16)).any()
    assert np.array_equal(kp.keypoint_tag_position(tags), np.floor(positions) + 0.5)


def test_a_query_finds_its_near_descriptors_and_only_theirs() -> None:
    rng = np.random.default_rng(1)
    stored = random_codes(rng, 3000)
    index = KeypointIndex()
    index.add(stored, np.repeat(np.arange(30, dtype=np.int64), 100), np.full(3000, -1, np.int16))
    # 10 bits off: a 20-bit key of one of 12 tables is intact (12 keys, 10 flips)
    queries = flip_bits(stored[500:520], rng, 10)
    votes = index.search(queries)
    assert np.array_equal(np.sort(votes.query), np.arange(20))
    assert (votes.label == 5).all()
    assert (votes.distance == 10).all()
    assert index.search(random_codes(rng, 50)).query.size == 0


def test_adding_in_increments_finds_what_adding_at_once_does() -> None:
    rng = np.random.default_rng(2)
    stored = random_codes(rng, 5000)
    labels = rng.integers(0, 400, 5000).astype(np.int64)
    tags = np.full(5000, -7, np.int16)
    once, steps = KeypointIndex(), KeypointIndex()
    once.add(stored, labels, tags)
    for at in range(0, 5000, 128):
        steps.add(stored[at : at + 128], labels[at : at + 128], tags[at : at + 128])
    assert len(steps._runs) < 13  # merged as it grows, not one run per increment
    queries = flip_bits(stored[rng.integers(0, 5000, 200)], rng, 12)
    a, b = once.search(queries), steps.search(queries)
    assert a.query.size > 100
    assert sorted(zip(a.query.tolist(), a.label.tolist(), a.distance.tolist(), strict=True)) == (
        sorted(zip(b.query.tolist(), b.label.tolist(), b.distance.tolist(), strict=True))
    )


def test_a_descriptor_found_in_many_works_votes_for_the_nearest_only() -> None:
    """A keypoint with hits in more works than the cap (an edge of a gradient, a letter of a
    common font) cast no vote at all, so a copy whose keypoints were mostly such lost its
    votes; now it votes for the works whose descriptors are nearest its own."""
    rng = np.random.default_rng(3)
    common = random_codes(rng, 1)
    crowd = kp.MAX_WORKS_PER_KEYPOINT + 1
    nearest = kp.COMMON_KEYPOINT_VOTES
    # Work w's descriptor is 2 + w bits away (up to 16, so a 20-bit key stays intact).
    stored = np.concatenate([flip_bits(common, rng, 2 + w % 15) for w in range(crowd)], axis=0)
    index = KeypointIndex()
    index.add(stored, np.arange(crowd, dtype=np.int64), np.full(crowd, -1, np.int16))
    votes = index.search(common)
    assert votes.query.size == nearest
    assert sorted(votes.distance.tolist()) == sorted(2 + w % 15 for w in range(crowd))[:nearest]
    few = KeypointIndex()
    few.add(np.repeat(common, 2, axis=0), np.arange(2, dtype=np.int64), np.full(2, -1, np.int16))
    assert sorted(few.search(common).label.tolist()) == [0, 1]


def test_saved_index_loads_back(tmp_path: Path) -> None:
    rng = np.random.default_rng(4)
    stored = random_codes(rng, 700)
    index = KeypointIndex()
    index.add(stored, np.arange(700, dtype=np.int64) // 7, np.full(700, -3, np.int16))
    index.save(tmp_path / "k.npz", watermark=41)
    loaded, watermark = KeypointIndex.load(tmp_path / "k.npz")
    assert watermark == 41
    assert loaded.size == 700
    votes = loaded.search(stored[:7])
    assert (votes.label == 0).all()
    assert votes.query.size == 7
    assert (votes.tag == -3).all()


@pytest.mark.parametrize("mirrored", [False, True])
def test_votes_that_agree_on_where_the_upload_lies_rank_first(mirrored: bool) -> None:
    """Work 1 gets more votes, scattered; work 2 fewer, all fitting one shift and scale of the
    upload (of its mirror image when ``mirrored``): work 2 is located first."""
    rng = np.random.default_rng(5)
    n = 12
    upload = rng.uniform(10, 100, (n + 20, 2)).astype(np.float32)
    stored_2 = upload[:n] * 1.1 + np.float32(7.0)
    stored_1 = rng.uniform(0, 127, (n + 20, 2)).astype(np.float32)
    query = Keypoints(
        np.zeros((n + 20, 32), np.uint8), upload, np.full(n + 20, mirrored, dtype=bool)
    )

    votes = kp.Votes(
        np.concatenate([np.arange(n + 20), np.arange(n)]).astype(np.int64),
        np.concatenate([np.full(n + 20, 1), np.full(n, 2)]).astype(np.int64),
        np.concatenate([tags_at(stored_1), tags_at(stored_2)]),
        np.full(2 * n + 20, 20, np.int64),
    )
    located = kp.locate(votes, query, 4)
    assert located[0].work_id == 2
    assert located[0].inliers >= n - 1
    assert all(found.inliers < n // 2 for found in located[1:])


def test_a_copy_is_located_through_keypoints_common_to_many_works() -> None:
    """Every keypoint of cover 0 (a corner of a flat shape, a letter of a common font) is also
    kept by 20 of 30 other covers, elsewhere in them. A 20 % crop of cover 0 at an offset
    still locates it, by the keypoints' agreement on one scale and shift: a keypoint found in
    more than 6 works cast no vote, and cover 0 was not a candidate. The same keypoints at
    scattered places locate nothing."""
    rng = np.random.default_rng(6)
    n = 40
    descriptors = random_codes(rng, n)
    stored = rng.uniform(0, 127, (n, 2)).astype(np.float32)
    index = KeypointIndex()
    index.add(descriptors, np.zeros(n, np.int64), tags_at(stored))
    for work in range(1, 31):
        shared = rng.choice(n, 27, replace=False)  # each keypoint in about 20 other covers
        elsewhere = rng.uniform(0, 127, (shared.size, 2)).astype(np.float32)
        index.add(descriptors[shared], np.full(shared.size, work, np.int64), tags_at(elsewhere))
    queries = flip_bits(descriptors, rng, 8)
    votes = index.search(queries)
    assert np.bincount(votes.query).min() > kp.MIN_VOTES  # common to many covers

    crop = Keypoints(
        queries, (stored - np.array([20.0, 5.0], np.float32)) / np.float32(0.8), np.zeros(n, bool)
    )
    located = kp.locate(votes, crop, 4)
    assert located[0].work_id == 0
    assert located[0].inliers >= n - 4
    assert all(found.inliers < 8 for found in located[1:])
    scattered = Keypoints(queries, rng.uniform(0, 127, (n, 2)).astype(np.float32), crop.mirrored)
    assert all(found.inliers < 8 for found in kp.locate(votes, scattered, 4))


def tags_at(points: np.ndarray) -> np.ndarray:
    return Keypoints(
        np.zeros((len(points), 32), np.uint8), points, np.zeros(len(points), bool)
    ).tags


def test_covers_far_behind_the_first_are_not_checked() -> None:
    """A copy located by 40 keypoints agreeing on one shift, and three covers by 6-8 each:
    only the copy is handed to the overlap check (each check costs ORB on the cover); covers
    with half the first one's agreement or more are all kept."""
    rng = np.random.default_rng(7)
    upload = rng.uniform(10, 110, (70, 2)).astype(np.float32)
    descriptors = random_codes(rng, 70)
    index = KeypointIndex()
    index.add(descriptors[:40], np.zeros(40, np.int64), tags_at(upload[:40] * 0.9 + 6))
    for work, (start, count) in enumerate([(40, 8), (48, 7), (55, 6)], start=1):
        rows = slice(start, start + count)
        index.add(
            descriptors[rows], np.full(count, work, np.int64), tags_at(upload[rows] * 1.1 - 4)
        )
    query = Keypoints(descriptors, upload, np.zeros(70, bool))
    assert [found.work_id for found in kp.locate(index.search(descriptors), query, 4)] == [
        0,
        1,
        2,
        3,
    ]
    assert [c.work_id for c in matching.keypoint_candidates(index, query)] == [0]

    close = KeypointIndex()
    close.add(descriptors[:12], np.zeros(12, np.int64), tags_at(upload[:12] * 0.9 + 6))
    close.add(descriptors[40:48], np.ones(8, np.int64), tags_at(upload[40:48] * 1.1 - 4))
    assert [c.work_id for c in matching.keypoint_candidates(close, query)] == [0, 1]


def test_a_copy_ranked_behind_four_covers_alike_is_checked() -> None:
    """A copy whose keypoints changed most agrees on where it lies by about as few keypoints
    as covers that share its gradients and font: ranked 5th behind four covers located by 12
    keypoints each, by 10, it was not checked (4 candidates); the 6 first are now."""
    rng = np.random.default_rng(8)
    upload = rng.uniform(20, 100, (60, 2)).astype(np.float32)
    descriptors = random_codes(rng, 60)
    index = KeypointIndex()
    for work, start in enumerate(range(0, 60, 12)):
        rows = slice(start, start + 12 if work < 4 else start + 10)
        count = rows.stop - rows.start
        index.add(
            descriptors[rows], np.full(count, work, np.int64), tags_at(upload[rows] * 0.9 + 6)
        )
    query = Keypoints(descriptors, upload, np.zeros(60, bool))
    assert [c.work_id for c in matching.keypoint_candidates(index, query)] == [0, 1, 2, 3, 4]

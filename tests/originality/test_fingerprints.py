"""Fingerprints and matching without a store: edited copies match, other pictures do not."""

from __future__ import annotations

import numpy as np
import pytest

from guanghe.originality import matching
from guanghe.originality.fingerprint import (
    QueryCodes,
    fingerprint_image,
    hamming,
    query_codes,
    text_signature,
    text_similarity,
    trim_border,
)
from guanghe.originality.index import HammingIndex
from guanghe.originality.verify import LocalMatch, PixelAgreement
from tests.originality.pictures import edits, picture

ORIGINALS = [picture(seed) for seed in range(6)]


@pytest.fixture(scope="module")
def index() -> HammingIndex:
    built = HammingIndex()
    for work_id, image in enumerate(ORIGINALS):
        codes = fingerprint_image(image).codes
        tags = np.array([matching.tag_of("cover", r) for r in range(len(codes))], np.int16)
        built.add(codes, np.full(len(codes), work_id, np.int64), tags)
    return built


def declared(index: HammingIndex, image: object) -> set[int]:
    codes = query_codes(image)  # type: ignore[arg-type]
    found = matching.candidates(index, codes)
    matches = matching.check_candidates(image, codes, found, ORIGINALS.__getitem__)  # type: ignore[arg-type]
    return {m.candidate.work_id for m in matches if m.evidence == "verified"}


@pytest.mark.parametrize("seed", [0, 3, 5])
@pytest.mark.parametrize(
    "edit",
    [
        "jpeg",
        "resized",
        "cropped",
        "corner-cropped",
        "mirrored",
        "overlaid",
        "letterboxed",
        "brighter",
        "darker",
    ],
)
def test_edited_copies_are_verified_matches(index: HammingIndex, seed: int, edit: str) -> None:
    assert declared(index, edits(ORIGINALS[seed])[edit]) == {seed}


def test_unrelated_pictures_match_nothing(index: HammingIndex) -> None:
    for seed in range(100, 120):
        codes = query_codes(picture(seed))
        found = matching.candidates(index, codes)
        assert matching.check_candidates(picture(seed), codes, found, ORIGINALS.__getitem__) == []


def test_border_removal_recovers_the_picture() -> None:
    original = ORIGINALS[1]
    trimmed = trim_border(edits(original)["letterboxed"])
    assert trimmed.size == original.size
    assert hamming(fingerprint_image(trimmed).codes[0], fingerprint_image(original).codes[0]) <= 8


def test_text_signatures_estimate_overlap() -> None:
    a = text_signature("Street noodles in Chengdu at midnight #food #chengdu")
    b = text_signature("Street noodles in Chengdu at midnight!! #food")
    c = text_signature("Speedrun of level four, new personal best #gaming")
    assert a is not None
    assert b is not None
    assert c is not None
    assert text_similarity(a, b) > 0.6
    assert text_similarity(a, c) < 0.2
    assert text_signature("  ") is None


@pytest.mark.parametrize(
    ("distance", "pixels", "orb", "verified"),
    [
        (20, True, False, True),
        (20, False, True, True),
        (20, False, False, False),
        (31, True, False, True),
        (32, True, False, False),  # further apart the pixel check alone is not enough ...
        (40, False, True, False),  # ... nor ORB alone ...
        (47, True, True, True),  # ... both together are
        (48, True, True, False),  # past the search radius
    ],
)
def test_acceptance_needs_more_evidence_the_further_apart_the_hashes(
    distance: int, pixels: bool, orb: bool, verified: bool
) -> None:
    agreement = PixelAgreement(0.95, 0.9) if pixels else PixelAgreement(0.5, 0.2)
    local = LocalMatch(40, 50, False) if orb else LocalMatch(2, 50, False)
    assert matching.is_verified(distance, agreement, lambda: local) is verified


def test_only_corresponding_windows_make_a_candidate() -> None:
    """A window of the upload counts only against the stored window a re-upload would line up
    with: the upper part of a picture equal to the lower part of another is no candidate."""
    rng = np.random.default_rng(4)
    stored = rng.integers(0, 256, (4, 32), dtype=np.uint8)  # full, inner, upper, lower
    built = HammingIndex()
    built.add(stored, np.array([7, 7, 7, 7]), np.arange(4, dtype=np.int16))
    unrelated = rng.integers(0, 256, (2, 32), dtype=np.uint8)
    shifted = QueryCodes(np.stack([stored[3], unrelated[0]]), ("upper", "lower"), 100)
    assert matching.candidates(built, shifted) == []
    aligned = QueryCodes(np.stack([unrelated[1], stored[3]]), ("upper", "lower"), 100)
    (found,) = matching.candidates(built, aligned)
    assert (found.work_id, found.query_region, found.indexed_region) == (7, "lower", "lower")
    cropped = QueryCodes(np.stack([stored[1]]), ("grid-20",), 100)
    assert [c.indexed_region for c in matching.candidates(built, cropped)] == ["inner"]


@pytest.mark.parametrize(("stored", "evidence"), [(None, ["close"]), (1, [])])
def test_a_close_hash_stands_only_where_the_pictures_cannot_be_compared(
    stored: int | None, evidence: list[str]
) -> None:
    """Close hashes alone make a "close" match when the stored picture is missing; when it
    is there and plainly differs, nothing."""
    image = ORIGINALS[0]
    codes = query_codes(image)
    near = matching.Candidate(5, 20, "full", "full", "cover")
    found = matching.check_candidates(
        image, codes, [near], lambda _: None if stored is None else ORIGINALS[stored]
    )
    assert codes.quality >= 50
    assert [m.evidence for m in found] == evidence

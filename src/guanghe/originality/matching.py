"""Near-duplicate matching of one upload against the index: candidate search, then a check of
the best candidates with the pictures themselves.

Evidence levels, strongest first:

``verified``
    Within :data:`CLOSE_DISTANCE` bits (PDQ's own match threshold), the pictures agree once
    the matched windows are aligned (:func:`~guanghe.originality.verify.aligned_agreement`)
    or the ORB local-feature check confirms them; within :data:`CHECKED_DISTANCE` bits, both
    checks confirm them. Further apart, each check alone also passes unrelated pictures that
    merely share a layout, a palette or a font (among 100,000 generated pictures, unrelated
    windows agreed pixel for pixel at 36 to 46 bits, and both checks passed one pair at 48
    and one at 62), so nothing further is a match. A cover found by its keypoints
    (:func:`keypoint_candidates`: a crop at an arbitrary offset, several edits at once, which
    no hashed window lines up with) is verified when the upload, located in it by ORB, agrees
    with it pixel for pixel over their overlap.
``close``
    The hashes are within :data:`CLOSE_DISTANCE` bits of a detailed picture and the pictures
    could not be compared (a video frame, a missing file) or are alike without being
    confirmed (:attr:`~guanghe.originality.verify.PixelAgreement.similar`). Pictures that
    plainly differ are no match however close their hashes: among 100,000 indexed pictures,
    unrelated ones come within that distance.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass
from typing import Final, Literal

import numpy as np
from PIL import Image

from guanghe.originality.fingerprint import (
    ALIGNED,
    GRID,
    INDEXED,
    INDEXED_REGIONS,
    MIN_QUALITY,
    REGIONS,
    TURNED,
    QueryCodes,
    trim_border,
)
from guanghe.originality.index import HammingIndex
from guanghe.originality.keypoints import KeypointIndex, Keypoints, locate, query_keypoints
from guanghe.originality.verify import (
    LocalMatch,
    PixelAgreement,
    UploadFeatures,
    aligned_agreement,
    local_match,
    overlap_match,
    upload_features,
)

#: Hash distance within which one check of the pictures verifies a candidate ...
CLOSE_DISTANCE: Final = 31
#: ... and within which both checks together do.
CHECKED_DISTANCE: Final = 47
#: Search radius of the whole-picture codes (found with one flipped key bit; all within 31).
WIDE_RADIUS: Final = CHECKED_DISTANCE
#: Search radius of the grid crops, which line up with a stored window only when close; they
#: are searched by exact key matches (every code within 15 bits, nearly all within 31).
GRID_RADIUS: Final = CLOSE_DISTANCE
#: Frame hashes this close count as verified (frames are not kept to compare pixels).
FRAME_VERIFIED_DISTANCE: Final = 16
#: Candidates checked against their pictures, nearest first.
CHECKED_CANDIDATES: Final = 4
#: Which stored window an upload's window can line up with in a re-upload: the same window;
#: a grid crop with the stored centre; the whole upload, or its mirror image, with the stored
#: whole or centre (a copy cropped by up to 10 % a side); the upload's centre with the stored
#: whole (a copy in a frame); the upload's centre turned back with the stored centre (a copy
#: turned by a few degrees); the upload without its middle band with the stored picture
#: without it (a caption band across the middle), as every window with its own. Other pairs,
#: the upper part with the lower, say, would take a crop of 40 % of the picture: they match
#: only pictures that share a layout, and are not candidates.
CORRESPONDING: Final = frozenset(
    {(name, name) for name in INDEXED_REGIONS}
    | {(grid.name, "inner") for grid in GRID}
    | {("full", "inner"), ("inner", "full"), ("mirror", "full"), ("mirror", "inner")}
    | {(turned.name, "inner") for turned in TURNED}
)

#: The region name of a candidate found by its keypoints (on both sides).
KEYPOINTS: Final = "keypoints"

#: Which picture of a work a code comes from: see :func:`tag_of`.
SOURCES: Final = ("cover", "frame")
#: Windows stored before issue 22; their tags are ``source * 4 + region``.
_FIRST_WINDOWS: Final = 4
_LATER_WINDOWS: Final = len(INDEXED) - _FIRST_WINDOWS

Evidence = Literal["verified", "close"]
#: Loads the stored cover of a work (None when it has none or it cannot be read).
PictureSource = Callable[[int], Image.Image | None]


def tag_of(source: str, region: int) -> int:
    """The index tag of region number ``region`` (in :data:`INDEXED`) of a ``source`` picture.

    The first four windows keep the tags they were stored with (``source * 4 + region``: 0-7);
    the windows added later follow (``8 + source * n + region - 4``, ``n`` of them: 8 and 9
    for ``uncaptioned``), so stored rows need no change."""
    kind = SOURCES.index(source)
    if region < _FIRST_WINDOWS:
        return kind * _FIRST_WINDOWS + region
    return len(SOURCES) * _FIRST_WINDOWS + kind * _LATER_WINDOWS + region - _FIRST_WINDOWS


def source_region(tag: int) -> tuple[int, int]:
    """``(source, region)`` numbers of an index tag: the inverse of :func:`tag_of`."""
    later = tag - len(SOURCES) * _FIRST_WINDOWS
    if later < 0:
        return divmod(tag, _FIRST_WINDOWS)
    kind, region = divmod(later, _LATER_WINDOWS)
    return kind, _FIRST_WINDOWS + region


@dataclass(frozen=True, slots=True)
class Candidate:
    """The nearest code pair between the upload and one indexed work."""

    work_id: int
    distance: int
    query_region: str
    indexed_region: str
    source: str


@dataclass(frozen=True, slots=True)
class Match:
    """A candidate with the evidence found for it."""

    candidate: Candidate
    evidence: Evidence
    agreement: PixelAgreement | None


@dataclass(frozen=True, slots=True)
class PictureIndex:
    """What pictures are searched in: the PDQ window codes and the covers' keypoints."""

    codes: HammingIndex
    keypoints: KeypointIndex


def find_matches(
    picture: Image.Image,
    query: QueryCodes,
    index: PictureIndex,
    picture_of: PictureSource,
    *,
    by_keypoints: bool = True,
) -> list[Match]:
    """Every match of ``picture`` (whose hashes are ``query``): the PDQ candidates checked by
    :func:`check_candidates`, then (``by_keypoints``) the works found by their keypoints and
    not verified already, checked by :func:`check_keypoint_candidates`."""
    matches = check_candidates(picture, query, candidates(index.codes, query), picture_of)
    if not by_keypoints:
        return matches
    verified = {m.candidate.work_id for m in matches if m.evidence == "verified"}
    found = [
        c
        for c in keypoint_candidates(index.keypoints, query_keypoints(picture))
        if c.work_id not in verified
    ]
    return matches + check_keypoint_candidates(picture, found, picture_of)


#: A cover found by keypoints is checked only when as many as this share of the first one's
#: inliers agree on where the upload lies in it: a copy located far ahead of the rest leaves
#: them unchecked (on the benchmark's crops and "several" copies, an original ranked below
#: another had at least 0.75 of its inliers; one ranked first with 20-44 inliers, the
#: others 4-11).
LEAD_SHARE: Final = 0.5


#: Covers found by keypoints that are checked (at most): a copy whose keypoints changed most
#: (JPEG at a low quality, a darkening, letters over it) agrees on where it lies by as few
#: keypoints as the unrelated covers that share its gradients and font (the benchmark's
#: "several at once": 4-7 of them, ranked 5th or 6th).
KEYPOINT_CANDIDATES: Final = 6


def keypoint_candidates(index: KeypointIndex, query: Keypoints) -> list[Candidate]:
    """The (up to :data:`KEYPOINT_CANDIDATES`) covers whose keypoints agree best with the
    upload's (:func:`~guanghe.originality.keypoints.locate`), those with under
    :data:`LEAD_SHARE` of the first one's inliers left out; ``distance`` is the mean of the
    matched descriptors' distances (of 256 bits, rounded)."""
    located = locate(index.search(query.descriptors), query, KEYPOINT_CANDIDATES)
    return [
        Candidate(found.work_id, found.distance, KEYPOINTS, KEYPOINTS, "cover")
        for found in located
        if found.inliers >= LEAD_SHARE * located[0].inliers
    ]


def check_keypoint_candidates(
    picture: Image.Image, found: list[Candidate], picture_of: PictureSource
) -> list[Match]:
    """The candidates found by keypoints that the stored cover confirms: the upload located in
    it by ORB + RANSAC and the overlap's pixels agreeing
    (:func:`~guanghe.originality.verify.overlap_match`). There is no "close" evidence here:
    unrelated pictures share keypoints (a font, a shape) and nothing else."""
    upload: UploadFeatures | None = None
    matches = []
    for candidate in found:
        stored = picture_of(candidate.work_id)
        if stored is None:
            continue
        if upload is None:
            upload = upload_features(trim_border(picture))
        located = overlap_match(upload, trim_border(stored))
        if located.confirmed:
            matches.append(Match(candidate, "verified", located.pixels))
    return matches


def candidates(index: HammingIndex, query: QueryCodes) -> list[Candidate]:
    """The nearest :data:`CORRESPONDING` code pair per indexed work, nearest first."""
    grid = np.array([name in ALIGNED for name in query.regions])
    wide, aligned = np.flatnonzero(~grid), np.flatnonzero(grid)
    hits = [
        (wide, index.search(query.codes[wide], np.full(wide.size, WIDE_RADIUS), nflip=1)),
        (aligned, index.search(query.codes[aligned], np.full(aligned.size, GRID_RADIUS), nflip=0)),
    ]
    best: dict[int, Candidate] = {}
    for rows, found in hits:
        for q, label, tag, distance in zip(
            rows[found.query].tolist(),
            found.label.tolist(),
            found.tag.tolist(),
            found.distance.tolist(),
            strict=True,
        ):
            source, region = source_region(int(tag))
            if (query.regions[q], INDEXED[region].name) not in CORRESPONDING:
                continue
            held = best.get(label)
            if held is None or distance < held.distance:
                best[label] = Candidate(
                    label, distance, query.regions[q], INDEXED[region].name, SOURCES[source]
                )
    return sorted(best.values(), key=lambda c: (c.distance, c.work_id))


def check_candidates(
    picture: Image.Image,
    query: QueryCodes,
    found: list[Candidate],
    picture_of: PictureSource,
) -> list[Match]:
    """Evidence for the nearest :data:`CHECKED_CANDIDATES` candidates of ``picture`` (whose
    hashes are ``query``); candidates without evidence are left out.

    ``picture_of(work_id)`` loads a stored cover (None when missing). Pictures with too little
    detail for their hash to mean anything (PDQ quality below the floor) need the pixel check.
    """
    matches: list[Match] = []
    trimmed = trim_border(picture)
    for candidate in found[:CHECKED_CANDIDATES]:
        stored = picture_of(candidate.work_id) if candidate.source == "cover" else None
        agreement = None
        verified = False
        if stored is not None:
            stored_window = REGIONS[candidate.indexed_region].of(trim_border(stored))
            agreement = aligned_agreement(
                REGIONS[candidate.query_region].of(trimmed), stored_window
            )
            verified = is_verified(
                candidate.distance, agreement, functools.partial(local_match, trimmed, stored)
            )
        elif candidate.source == "frame":
            verified = candidate.distance <= FRAME_VERIFIED_DISTANCE
        if verified:
            matches.append(Match(candidate, "verified", agreement))
        elif (
            candidate.distance <= CLOSE_DISTANCE
            and query.quality >= MIN_QUALITY
            and (agreement is None or agreement.similar)
        ):
            matches.append(Match(candidate, "close", agreement))
    return matches


def is_verified(distance: int, agreement: PixelAgreement, local: Callable[[], LocalMatch]) -> bool:
    """The acceptance rule of the module docstring; ``local()`` runs ORB only when needed."""
    if distance > CHECKED_DISTANCE:
        return False
    if agreement.confirmed and distance <= CLOSE_DISTANCE:
        return True
    if not agreement.confirmed and distance > CLOSE_DISTANCE:
        return False
    return local().confirmed

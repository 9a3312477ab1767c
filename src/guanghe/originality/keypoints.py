"""``KeypointIndex``: candidate retrieval by local features, for copies no hashed window lines
up with (a crop at an arbitrary offset, several edits at once).

A published cover stores the ORB descriptors of its :data:`STORED_KEYPOINTS` strongest
keypoints (256 bits each, like a PDQ hash). An upload's :data:`QUERY_KEYPOINTS` descriptors,
of the picture and of its mirror image, are looked up by multi-index hashing: descriptor bits
``[20 t, 20 t + 20)`` are the key of table ``t`` (:data:`TABLES` of them), a bucket hit counts
when the whole descriptors are within :data:`MATCH_DISTANCE` bits, and each upload keypoint
votes at most once per work, and not at all when it hits many works (a flat corner, a letter of
a common font). Each vote names, at each of a range of scales, the shift that would lay the
upload over the stored picture (the stored keypoint positions are kept in each row's tag); the
works with most distinct keypoints agreeing on one scale and shift (:func:`locate`) are
checked against the stored picture (ORB + RANSAC transform and the pixels of the overlap,
:func:`~guanghe.originality.verify.overlap_match`). Both sets of keypoints are spread over a
grid, so that a large overlay or a caption does not take all of them. A keypoint's
descriptor survives a crop, a resize, an overlay elsewhere and a re-encode because it depends
only on the pixels around it; no window has to line up.

The tables are sorted runs (a log-structured merge): each :meth:`KeypointIndex.add` sorts its
rows into a new run and merges the newest runs while the older is at most twice the newer, so
adding is amortised ``O(log n)`` a row and a search probes ``O(log n)`` runs by binary search.
A bucket holding more than :data:`MAX_BUCKET` rows (a descriptor shared by many pictures: flat
edges, a common font) is skipped, so the cost of a search stays bounded. Memory: 32 bytes a
descriptor, a label and a tag (42 bytes) plus 8 bytes a table (96): 17.7 KB per cover.

Reference: Rublee et al., "ORB: an efficient alternative to SIFT or SURF" (ICCV 2011);
Norouzi et al., "Fast search in Hamming space with multi-index hashing" (CVPR 2012);
Ballard, "Generalizing the Hough transform to detect arbitrary shapes" (Pattern Recognition,
1981); Lowe, "Distinctive image features from scale-invariant keypoints" (IJCV 2004), 7.3.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Final

import cv2
import numpy as np
import numpy.typing as npt
from PIL import Image

from guanghe.originality.fingerprint import trim_border
from guanghe.originality.index import CODE_BYTES, append_codes, load_codes, save_codes
from guanghe.originality.verify import (
    CANDIDATE_FACTOR,
    SPREAD_FAST_THRESHOLD,
    gray_for_features,
    spread_order,
)

#: Descriptors a cover stores, and an upload is searched with (its mirror image as many again).
STORED_KEYPOINTS: Final = 128
QUERY_KEYPOINTS: Final = 400
KEY_BITS: Final = 20
TABLES: Final = 12
#: Descriptors this close are a hit (of 256 bits; ORB's usual match threshold is 64).
MATCH_DISTANCE: Final = 40
#: Upload keypoints matching one work that make it a candidate.
MIN_VOTES: Final = 4
#: An upload keypoint with hits in more works than this (a flat corner, the edge of a
#: gradient, a letter of a common font) votes only for the :data:`COMMON_KEYPOINT_VOTES`
#: works whose descriptors are nearest its own: a copy's own keypoint is mostly among them,
#: and the votes of a search stay bounded at 100 per upload keypoint.
MAX_WORKS_PER_KEYPOINT: Final = 100
COMMON_KEYPOINT_VOTES: Final = 10
#: Scales (a stored picture's longest side over the upload's part of it) at which votes are
#: binned by the shift they imply (:func:`locate`): a crop keeping half of the longest side
#: to an upload framed in 60 % more; neighbouring scales are 8 % apart ...
MIN_SCALE: Final = 0.5
MAX_SCALE: Final = 1.6
SCALE_STEPS: Final = 16
SCALES: Final = np.geomspace(MIN_SCALE, MAX_SCALE, SCALE_STEPS)
#: ... and the side of a shift bin (in position steps).
SHIFT_BIN: Final = 6.0
_SHIFT_BINS: Final = 128
#: Buckets holding more rows than this are not probed.
MAX_BUCKET: Final = 2048
#: Keypoint positions are kept to 1/128 of the picture's longest side, in the row's tag.
POSITION_STEPS: Final = 128
_CELLS: Final = POSITION_STEPS * POSITION_STEPS

Descriptors = npt.NDArray[np.uint8]


@dataclass(frozen=True, slots=True)
class Keypoints:
    """ORB ``descriptors`` ``(k, 32)`` and ``positions`` ``(k, 2)`` (x, y in units of
    1/:data:`POSITION_STEPS` of the picture's longest side); ``mirrored`` ``(k,)`` says which
    were taken from the mirror image (their positions are in it)."""

    descriptors: Descriptors
    positions: npt.NDArray[np.float32]
    mirrored: npt.NDArray[np.bool_]

    @property
    def tags(self) -> npt.NDArray[np.int16]:
        """Index tags keeping each position: ``-1 - (x * POSITION_STEPS + y)`` (negative, so
        apart from the PDQ windows' tags)."""
        cells = np.clip(self.positions.astype(np.int64), 0, POSITION_STEPS - 1)
        flat: npt.NDArray[np.int64] = cells[:, 0] * POSITION_STEPS + cells[:, 1]
        return np.asarray(-1 - flat, dtype=np.int16)


def keypoint_tag_position(tags: npt.NDArray[np.int16]) -> npt.NDArray[np.float32]:
    """``(k, 2)`` positions kept in keypoint ``tags`` (cell centres); the inverse of
    :attr:`Keypoints.tags`."""
    cell = -1 - tags.astype(np.int64)
    x, y = np.divmod(cell, POSITION_STEPS)
    return np.stack([x, y], axis=1).astype(np.float32) + 0.5


def is_keypoint_tag(tags: npt.NDArray[np.int16]) -> npt.NDArray[np.bool_]:
    """Which ``work_fingerprints`` tags are keypoints (negative) rather than PDQ windows."""
    return np.asarray(tags < 0)


def stored_keypoints(image: Image.Image, *, trimmed: bool = False) -> Keypoints:
    """What a cover stores: its :data:`STORED_KEYPOINTS` strongest keypoints (border trimmed,
    unless ``trimmed`` says :func:`trim_border` already did; at the local check's size),
    found at the overlap check's low corner threshold (a cover of gradients and flat shapes
    has a few dozen corners at ORB's default) and spread over a grid
    (:func:`~guanghe.originality.verify.spread_order`), so that a crop keeps many and a
    caption few."""
    gray = gray_for_features(image if trimmed else trim_border(image))
    return _keypoints(gray, STORED_KEYPOINTS, mirrored=False, spread=True)


def query_keypoints(image: Image.Image) -> Keypoints:
    """The keypoints an upload is searched with: :data:`QUERY_KEYPOINTS` of the picture and as
    many of its mirror image, spread like :func:`stored_keypoints`."""
    gray = gray_for_features(trim_border(image))
    plain = _keypoints(gray, QUERY_KEYPOINTS, mirrored=False, spread=True)
    flipped = _keypoints(
        np.ascontiguousarray(gray[:, ::-1]),
        QUERY_KEYPOINTS,
        mirrored=True,
        spread=True,
    )
    return Keypoints(
        np.concatenate([plain.descriptors, flipped.descriptors]),
        np.concatenate([plain.positions, flipped.positions]),
        np.concatenate([plain.mirrored, flipped.mirrored]),
    )


def _keypoints(
    gray: npt.NDArray[np.uint8], count: int, *, mirrored: bool, spread: bool
) -> Keypoints:
    detector = cv2.ORB.create(
        nfeatures=count * CANDIDATE_FACTOR if spread else count,
        fastThreshold=SPREAD_FAST_THRESHOLD,
    )
    found, descriptors = detector.detectAndCompute(gray, None)
    if descriptors is None or not found:
        return Keypoints(
            np.zeros((0, CODE_BYTES), np.uint8), np.zeros((0, 2), np.float32), np.zeros(0, bool)
        )
    points = np.array([k.pt for k in found], dtype=np.float32).reshape(-1, 2)
    if spread:
        responses = np.array([k.response for k in found], dtype=np.float32)
        order = spread_order(points, responses, gray.shape, count)
    else:
        order = np.argsort([-k.response for k in found], kind="stable")[:count]
    scale = POSITION_STEPS / max(gray.shape)
    return Keypoints(
        np.ascontiguousarray(descriptors[order], dtype=np.uint8),
        points[order] * np.float32(scale),
        np.full(order.size, mirrored),
    )


def _keys(codes: npt.NDArray[np.uint8]) -> npt.NDArray[np.uint32]:
    """``(TABLES, k)`` table keys: bits ``[KEY_BITS t, KEY_BITS (t + 1))`` of each code (bit
    ``i`` is bit ``i % 64`` of its ``i // 64``-th little-endian 64-bit word)."""
    words = np.ascontiguousarray(codes).view("<u8").reshape(-1, 4)
    keys = np.empty((TABLES, words.shape[0]), dtype=np.uint32)
    mask = np.uint64((1 << KEY_BITS) - 1)
    for t in range(TABLES):
        word, offset = divmod(t * KEY_BITS, 64)
        key = words[:, word] >> np.uint64(offset)
        if offset + KEY_BITS > 64:
            key |= words[:, word + 1] << np.uint64(64 - offset)
        keys[t] = key & mask
    return keys


@dataclass(frozen=True, slots=True)
class _Run:
    """Rows ``[start, stop)`` sorted by each table's key: ``keys[t]`` ascending, ``rows[t]``
    the row (from ``start``) of each."""

    start: int
    stop: int
    keys: npt.NDArray[np.uint32]
    rows: npt.NDArray[np.int32]


def _run(words: npt.NDArray[np.uint64], start: int, stop: int) -> _Run:
    keys = _keys(words[start:stop].view(np.uint8).reshape(-1, CODE_BYTES))
    order = np.argsort(keys, axis=1, kind="stable").astype(np.int32)
    return _Run(start, stop, np.take_along_axis(keys, order, axis=1), order)


def _merge(older: _Run, newer: _Run) -> _Run:
    """One run of two adjacent ones (``older`` first): a stable sort of two sorted runs is a
    linear merge (timsort finds them)."""
    keys = np.concatenate([older.keys, newer.keys], axis=1)
    rows = np.concatenate([older.rows, newer.rows + np.int32(newer.start - older.start)], axis=1)
    order = np.argsort(keys, axis=1, kind="stable")
    return _Run(
        older.start,
        newer.stop,
        np.take_along_axis(keys, order, axis=1),
        np.take_along_axis(rows, order, axis=1),
    )


@dataclass(frozen=True, slots=True)
class Votes:
    """One vote per (upload keypoint, work) with a hit: ``query`` (the upload keypoint),
    ``label`` (the work), ``tag`` (the stored keypoint's, holding its position) and
    ``distance`` (bits between the two descriptors, the nearest hit's)."""

    query: npt.NDArray[np.int64]
    label: npt.NDArray[np.int64]
    tag: npt.NDArray[np.int16]
    distance: npt.NDArray[np.int64]


@dataclass(frozen=True, slots=True)
class Located:
    """A work whose keypoints agree with the upload's: ``inliers`` distinct stored keypoints
    agree on one scale and shift (of the upload or of its mirror image) out of ``votes``;
    ``distance`` is the mean of the votes' descriptor distances (bits, rounded)."""

    work_id: int
    inliers: int
    votes: int
    distance: int


def locate(votes: Votes, query: Keypoints, limit: int) -> list[Located]:
    """The ``limit`` works whose votes agree best on where the upload lies in them, most
    inliers first (at least :data:`MIN_VOTES`; then the nearer descriptors, the lower id).

    A generalised Hough transform: a vote pairs an upload position ``u`` with a stored one
    ``p``; at each of :data:`SCALE_STEPS` scales ``s`` (log-spaced over
    [:data:`MIN_SCALE`, :data:`MAX_SCALE`], stored over upload) it names the shift
    ``p - s u``, binned to :data:`SHIFT_BIN` position steps. A work's inliers are the most
    distinct stored keypoints that one bin of one scale holds, mirrored votes apart. Unrelated
    pictures that share corners, a font or shapes get many votes but scattered shifts; only a
    copy gets many that agree. Only works with :data:`MIN_VOTES` votes are binned."""
    works, counts = np.unique(votes.label, return_counts=True)
    kept = np.flatnonzero(np.isin(votes.label, works[counts >= MIN_VOTES]))
    if kept.size == 0:
        return []
    label, q = votes.label[kept], votes.query[kept]
    group_of, group = np.unique(label * 2 + query.mirrored[q], return_inverse=True)
    upload = query.positions[q] - np.float32(POSITION_STEPS / 2)
    stored = keypoint_tag_position(votes.tag[kept])
    cell = -1 - votes.tag[kept].astype(np.int64)
    inliers = np.zeros(group_of.size, dtype=np.int64)
    for scale in SCALES:
        shift = np.floor((stored - np.float32(scale) * upload) / SHIFT_BIN).astype(np.int64)
        shift = np.clip(shift + _SHIFT_BINS // 2, 0, _SHIFT_BINS - 1)
        bins = (group * _SHIFT_BINS + shift[:, 0]) * _SHIFT_BINS + shift[:, 1]
        # Distinct stored keypoints per bin: ORB finds one corner at several scales.
        held = np.unique(bins * _CELLS + cell) // _CELLS
        starts = np.flatnonzero(np.r_[True, held[1:] != held[:-1]])
        sizes = np.diff(np.r_[starts, held.size])
        np.maximum.at(inliers, held[starts] // _SHIFT_BINS**2, sizes)
    work = group_of // 2
    best = np.zeros(work.max() + 1, dtype=np.int64)
    np.maximum.at(best, work, inliers)
    found = np.flatnonzero(best >= MIN_VOTES)
    own = np.bincount(label, minlength=best.size)
    distance = np.bincount(label, weights=votes.distance[kept], minlength=best.size)
    mean = np.round(distance[found] / own[found]).astype(np.int64)
    order = np.lexsort((found, mean, -best[found]))[:limit]
    return [
        Located(int(found[k]), int(best[found[k]]), int(own[found[k]]), int(mean[k]))
        for k in order.tolist()
    ]


def _nearest_votes(
    query: npt.NDArray[np.int64], distance: npt.NDArray[np.int64], queries: int
) -> npt.NDArray[np.bool_]:
    """Which votes (one per upload keypoint ``query`` and work, ``distance`` bits apart) are
    kept: all of a keypoint with hits in at most :data:`MAX_WORKS_PER_KEYPOINT` works, the
    :data:`COMMON_KEYPOINT_VOTES` nearest of one with more (ties by the order given)."""
    order = np.lexsort((distance, query))
    sorted_query = query[order]
    starts = np.flatnonzero(np.r_[True, sorted_query[1:] != sorted_query[:-1]])
    sizes = np.diff(np.r_[starts, order.size])
    rank = np.empty(order.size, dtype=np.int64)
    rank[order] = np.arange(order.size) - np.repeat(starts, sizes)
    hits = np.bincount(query, minlength=queries)[query]
    return np.asarray((hits <= MAX_WORKS_PER_KEYPOINT) | (rank < COMMON_KEYPOINT_VOTES))


_NO_VOTES: Final = Votes(
    np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros(0, np.int16), np.zeros(0, np.int64)
)


class KeypointIndex:
    """Multi-index hashing over ORB descriptors with a label (work id) and tag each.

    Attributes
    ----------
    words_
        ``(capacity, 4)`` uint64 descriptors; rows ``[0, size)`` are in use.
    labels_, tags_
        ``(capacity,)`` label and tag of each descriptor.
    size
        Descriptors held.
    """

    def __init__(self) -> None:
        self.words_ = np.zeros((0, 4), dtype=np.uint64)
        self.labels_ = np.zeros(0, dtype=np.int64)
        self.tags_ = np.zeros(0, dtype=np.int16)
        self.size = 0
        self._runs: list[_Run] = []

    def add(
        self,
        codes: npt.NDArray[np.uint8],
        labels: npt.NDArray[np.int64],
        tags: npt.NDArray[np.int16],
    ) -> None:
        """Append descriptors ``codes`` ``(k, 32)`` with their ``labels`` and ``tags``."""
        start = self.size
        append_codes(self, codes, labels, tags)
        if self.size == start:
            return
        self._runs.append(_run(self.words_, start, self.size))
        while len(self._runs) >= 2:
            older, newer = self._runs[-2], self._runs[-1]
            if older.stop - older.start > 2 * (newer.stop - newer.start):
                break
            self._runs[-2:] = [_merge(older, newer)]

    def search(self, queries: npt.NDArray[np.uint8]) -> Votes:
        """The votes of ``queries`` ``(q, 32)``: stored descriptors within
        :data:`MATCH_DISTANCE` bits found through one exact table key, nearest per work."""
        queries = np.ascontiguousarray(queries, dtype=np.uint8).reshape(-1, CODE_BYTES)
        if queries.shape[0] == 0 or self.size == 0:
            return _NO_VOTES
        query_keys = _keys(queries)
        found_q, found_row = [], []
        for run in self._runs:
            for t in range(TABLES):
                lo = np.searchsorted(run.keys[t], query_keys[t], side="left")
                hi = np.searchsorted(run.keys[t], query_keys[t], side="right")
                sizes = np.where(hi - lo <= MAX_BUCKET, hi - lo, 0)
                total = int(sizes.sum())
                if total == 0:
                    continue
                firsts = np.repeat(lo - np.cumsum(sizes) + sizes, sizes)
                found_q.append(np.repeat(np.arange(queries.shape[0]), sizes))
                found_row.append(run.start + run.rows[t][firsts + np.arange(total)])
        if not found_q:
            return _NO_VOTES
        q = np.concatenate(found_q)
        row = np.concatenate(found_row).astype(np.int64)
        query_words = queries.view("<u8").reshape(-1, 4)
        distance = np.bitwise_count(self.words_[row] ^ query_words[q]).sum(axis=1, dtype=np.int64)
        near = distance <= MATCH_DISTANCE
        q, row, distance = q[near], row[near], distance[near]
        label = self.labels_[row]
        # One vote per (upload keypoint, work): its nearest hit.
        order = np.lexsort((distance, label, q))
        q, row, label, distance = q[order], row[order], label[order], distance[order]
        first = np.ones(q.size, dtype=bool)
        first[1:] = (q[1:] != q[:-1]) | (label[1:] != label[:-1])
        q, row, label, distance = q[first], row[first], label[first], distance[first]
        # An upload keypoint found in many works (a letter of a common font, a corner of a
        # common shape) votes for its nearest few only.
        kept = _nearest_votes(q, distance, queries.shape[0])
        return Votes(q[kept], label[kept], self.tags_[row[kept]], distance[kept])

    def save(self, path: Path, *, watermark: int) -> None:
        """Write the descriptors to ``path`` atomically, with ``watermark``."""
        save_codes(path, self, watermark=watermark)

    @classmethod
    def load(cls, path: Path) -> tuple[KeypointIndex, int]:
        """The index saved at ``path`` and its watermark; :class:`InvalidInput` if unreadable."""
        loaded = cls()
        watermark = load_codes(path, loaded, what="keypoint index")
        rebuilt = cls()
        rebuilt.add(
            loaded.words_.view(np.uint8).reshape(-1, CODE_BYTES), loaded.labels_, loaded.tags_
        )
        return rebuilt, watermark

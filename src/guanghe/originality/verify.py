"""Local-feature check of a candidate match: ORB keypoints, ratio-tested matches and a RANSAC
similarity transform. Two pictures agree when enough matches fit one transform — which holds
for crops, resizes, re-encodes, overlays and mirrors (the mirror is tried too) of one picture
and fails for different pictures that merely hash alike.

Reference: Rublee et al., "ORB: an efficient alternative to SIFT or SURF" (ICCV 2011).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Final

import cv2
import numpy as np
import numpy.typing as npt
from PIL import Image

#: Pictures are compared at this longest side.
VERIFY_SIDE: Final = 480
FEATURES: Final = 800
RATIO: Final = 0.8
#: Matches consistent with one similarity transform needed to confirm, and their share.
MIN_INLIERS: Final = 20
MIN_INLIER_SHARE: Final = 0.3
#: A transform scaling by more than this (either way) is not a re-upload.
MAX_SCALE: Final = 3.0


@dataclass(frozen=True, slots=True)
class LocalMatch:
    """Outcome of the check: ``inliers`` of ``matches`` fit one transform."""

    inliers: int
    matches: int
    mirrored: bool

    @property
    def confirmed(self) -> bool:
        return self.inliers >= MIN_INLIERS and self.inliers >= MIN_INLIER_SHARE * self.matches


def gray_for_features(image: Image.Image) -> npt.NDArray[np.uint8]:
    """``image`` in grey at :data:`VERIFY_SIDE` longest side (never enlarged)."""
    if max(image.size) > VERIFY_SIDE:
        scale = VERIFY_SIDE / max(image.size)
        size = (max(1, round(image.width * scale)), max(1, round(image.height * scale)))
        image = image.resize(size, Image.Resampling.BILINEAR)
    return np.asarray(image.convert("L"), dtype=np.uint8)


Features = tuple[npt.NDArray[np.float32], npt.NDArray[Any] | None]

#: A spread set of keypoints is picked from this many times as many found ...
CANDIDATE_FACTOR: Final = 4
#: ... at most this share of them in one cell of a CELLS x CELLS grid.
CELLS: Final = 4
CELL_SHARE: Final = 0.125


def spread_order(
    points: npt.NDArray[np.float32],
    responses: npt.NDArray[np.float32],
    shape: tuple[int, ...],
    count: int,
) -> npt.NDArray[np.int64]:
    """Indices of the ``count`` strongest keypoints (by ``responses``) at ``points`` (x, y in a
    picture of ``shape``), at most :data:`CELL_SHARE` of ``count`` in any cell of a
    :data:`CELLS` x :data:`CELLS` grid: an overlay's or a caption's letters, which have the
    strongest corners, take one cell's share and leave the picture's own keypoints elsewhere."""
    order = np.argsort(-responses, kind="stable")
    height, width = shape[:2]
    cell = (
        np.minimum(points[:, 0] * CELLS // width, CELLS - 1) * CELLS
        + np.minimum(points[:, 1] * CELLS // height, CELLS - 1)
    ).astype(np.int64)
    cap = max(1, round(count * CELL_SHARE))
    taken = np.zeros(CELLS * CELLS, dtype=np.int64)
    kept = []
    for k in order.tolist():
        if taken[cell[k]] < cap:
            taken[cell[k]] += 1
            kept.append(k)
    return np.array(kept[:count], dtype=np.int64)


def _features(detector: cv2.ORB, gray: npt.NDArray[np.uint8]) -> Features:
    keypoints, descriptors = detector.detectAndCompute(gray, None)
    points = np.array([k.pt for k in keypoints], dtype=np.float32).reshape(-1, 2)
    return points, None if descriptors is None else np.asarray(descriptors)


#: FAST corner threshold of the overlap check's keypoints (OpenCV's default is 20): covers are
#: often gradients and flat shapes with a few dozen corners at 20, too few to locate a crop.
SPREAD_FAST_THRESHOLD: Final = 5


def spread_features(gray: npt.NDArray[np.uint8]) -> Features:
    """:data:`FEATURES` ORB keypoints of ``gray`` spread over the grid (:func:`spread_order`),
    picked from :data:`CANDIDATE_FACTOR` times as many found at a low corner threshold."""
    detector = cv2.ORB.create(
        nfeatures=FEATURES * CANDIDATE_FACTOR, fastThreshold=SPREAD_FAST_THRESHOLD
    )
    keypoints, descriptors = detector.detectAndCompute(gray, None)
    if descriptors is None or not keypoints:
        return np.zeros((0, 2), np.float32), None
    points = np.array([k.pt for k in keypoints], dtype=np.float32).reshape(-1, 2)
    responses = np.array([k.response for k in keypoints], dtype=np.float32)
    order = spread_order(points, responses, gray.shape, FEATURES)
    return points[order], np.asarray(descriptors)[order]


def _agreement(query: Features, candidate: Features) -> tuple[int, int]:
    inliers, matches, _ = _transform(query, candidate)
    return inliers, matches


def _transform(
    query: Features, candidate: Features, *, one_to_one: bool = False
) -> tuple[int, int, npt.NDArray[np.float64] | None]:
    """Inliers and ratio-tested matches of the best similarity transform from the query's
    points to the candidate's, and the transform (``2 x 3``; None when there is none).

    With ``one_to_one``, a candidate keypoint keeps only its nearest match: on a gradient
    many of the query's keypoints match one stored keypoint, and RANSAC then fits them a
    transform that shrinks the picture to that point (scale near 0, refused) instead of the
    copy's."""
    (q_points, q_desc), (c_points, c_desc) = query, candidate
    if q_desc is None or c_desc is None or len(q_desc) < 2 or len(c_desc) < 2:
        return 0, 0, None
    pairs = cv2.BFMatcher(cv2.NORM_HAMMING).knnMatch(q_desc, c_desc, k=2)
    good = [p[0] for p in pairs if len(p) == 2 and p[0].distance < RATIO * p[1].distance]
    if one_to_one:
        nearest: dict[int, Any] = {}
        for match in good:
            held = nearest.get(match.trainIdx)
            if held is None or match.distance < held.distance:
                nearest[match.trainIdx] = match
        good = list(nearest.values())
    if len(good) < 3:
        return 0, len(good), None
    src = q_points[[m.queryIdx for m in good]]
    dst = c_points[[m.trainIdx for m in good]]
    transform, mask = cv2.estimateAffinePartial2D(
        src, dst, method=cv2.RANSAC, ransacReprojThreshold=4.0
    )
    if transform is None or mask is None:
        return 0, len(good), None
    scale = float(np.hypot(transform[0, 0], transform[1, 0]))
    if not 1 / MAX_SCALE <= scale <= MAX_SCALE:
        return 0, len(good), None
    return int(mask.sum()), len(good), np.asarray(transform, dtype=np.float64)


#: Guided re-matching (:func:`_guided`): a query keypoint laid on the stored picture by a
#: found transform is paired with a stored keypoint within this many pixels of where it falls
#: (half of it once the transform is refitted to the pairs) ...
GUIDE_RADIUS_PX: Final = 6.0
#: ... whose descriptor is within this many bits of its own and nearer than :data:`RATIO`
#: times the next stored keypoint there (on a gradient, every keypoint around looks alike).
GUIDE_DISTANCE: Final = 64


def _pairs_along(
    query: tuple[npt.NDArray[np.float32], npt.NDArray[np.uint64]],
    candidate: tuple[npt.NDArray[np.float32], npt.NDArray[np.uint64]],
    transform: npt.NDArray[np.float64],
    radius: float,
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64]]:
    """Indices of the query's and the candidate's keypoints (points, descriptors as ``(k, 4)``
    64-bit words) paired along ``transform``: each query keypoint with the nearest descriptor
    among the candidate's within ``radius`` pixels of where it is laid, when that is within
    :data:`GUIDE_DISTANCE` bits and passes the ratio test there; a candidate keypoint keeps
    its nearest pair only."""
    (q_points, q_words), (c_points, c_words) = query, candidate
    laid = q_points @ transform[:, :2].T.astype(np.float32) + transform[:, 2].astype(np.float32)
    near = ((laid[:, None, :] - c_points[None, :, :]) ** 2).sum(axis=2) <= radius * radius
    q_at, c_at = np.nonzero(near)
    bits = np.full(near.shape, _FAR_BITS, dtype=np.int64)
    bits[q_at, c_at] = np.bitwise_count(q_words[q_at] ^ c_words[c_at]).sum(axis=1)
    nearest = bits.argmin(axis=1)
    two = np.partition(bits, 1, axis=1)[:, :2]
    kept = np.flatnonzero(
        (two[:, 0] <= GUIDE_DISTANCE) & ((two[:, 1] == _FAR_BITS) | (two[:, 0] < RATIO * two[:, 1]))
    )
    order = np.lexsort((two[kept, 0], nearest[kept]))
    q_kept, c_kept = kept[order], nearest[kept][order]
    first = np.r_[True, c_kept[1:] != c_kept[:-1]] if c_kept.size else np.zeros(0, bool)
    return q_kept[first], c_kept[first]


#: More bits than two descriptors have: no stored keypoint near where a query keypoint falls.
_FAR_BITS: Final = 8 * 32 + 1


def _guided(
    query: Features, candidate: Features, transform: npt.NDArray[np.float64]
) -> tuple[int, npt.NDArray[np.float64]]:
    """Keypoints matched again along a found ``transform`` (:func:`_pairs_along`), the
    transform refitted to those pairs (RANSAC, 3 px) and the pairs counted along it: a copy
    placed by a few ratio-tested matches (JPEG, a darkening and letters change most
    descriptors a little, and the ratio test over the whole picture keeps few) has many more
    keypoints where the transform lays them. Returns the count and the refitted transform
    (``transform`` itself when it cannot be refitted)."""
    (q_points, q_desc), (c_points, c_desc) = query, candidate
    if q_desc is None or c_desc is None or len(c_desc) < 2:
        return 0, transform
    q_side = (q_points, np.ascontiguousarray(q_desc).view("<u8").reshape(-1, 4))
    c_side = (c_points, np.ascontiguousarray(c_desc).view("<u8").reshape(-1, 4))
    q_at, c_at = _pairs_along(q_side, c_side, transform, GUIDE_RADIUS_PX)
    if q_at.size < 3:
        return int(q_at.size), transform
    refit, _ = cv2.estimateAffinePartial2D(
        q_points[q_at], c_points[c_at], method=cv2.RANSAC, ransacReprojThreshold=3.0
    )
    if refit is None or not 1 / MAX_SCALE <= float(np.hypot(refit[0, 0], refit[1, 0])) <= MAX_SCALE:
        return int(q_at.size), transform
    fitted = np.asarray(refit, dtype=np.float64)
    q_at, _ = _pairs_along(q_side, c_side, fitted, GUIDE_RADIUS_PX / 2)
    return int(q_at.size), fitted


def local_match(query: Image.Image, candidate: Image.Image) -> LocalMatch:
    """Whether ``query`` is (a crop, resize, overlay, mirror … of) ``candidate``."""
    detector = cv2.ORB.create(nfeatures=FEATURES)
    q_gray = gray_for_features(query)
    c_features = _features(detector, gray_for_features(candidate))
    inliers, matches = _agreement(_features(detector, q_gray), c_features)
    mirrored = False
    if inliers < MIN_INLIERS:
        m_inliers, m_matches = _agreement(
            _features(detector, np.ascontiguousarray(q_gray[:, ::-1])), c_features
        )
        if m_inliers > inliers:
            inliers, matches, mirrored = m_inliers, m_matches, True
    return LocalMatch(inliers, matches, mirrored)


#: Side of the grey thumbnails compared by :func:`aligned_agreement`, and the search margin.
THUMB_SIDE: Final = 64
SHIFT_PX: Final = 4
#: A pixel agrees when the two normalised thumbnails differ by less than this (in std units).
PIXEL_TOLERANCE: Final = 0.5
#: Pixels with a gradient above this (std units per pixel) in either thumbnail carry structure.
STRUCTURE_GRADIENT: Final = 0.15
MIN_STRUCTURE_SHARE: Final = 0.02
MIN_CORRELATION: Final = 0.85
MIN_STRUCTURE_AGREEMENT: Final = 0.8
#: Windows this alike are not confirmed, but do not contradict a close hash either.
SIMILAR_CORRELATION: Final = 0.75
SIMILAR_STRUCTURE_AGREEMENT: Final = 0.6


@dataclass(frozen=True, slots=True)
class PixelAgreement:
    """Aligned comparison of two windows: their correlation, and the share of structured
    pixels (edges, shapes, text) that agree."""

    correlation: float
    structure_agreement: float

    @property
    def confirmed(self) -> bool:
        return (
            self.correlation >= MIN_CORRELATION
            and self.structure_agreement >= MIN_STRUCTURE_AGREEMENT
        )

    @property
    def similar(self) -> bool:
        """Alike, short of confirmed (a large overlay, say); unrelated windows rarely are."""
        return (
            self.correlation >= SIMILAR_CORRELATION
            and self.structure_agreement >= SIMILAR_STRUCTURE_AGREEMENT
        )


def _thumb(image: Image.Image) -> npt.NDArray[np.float32]:
    gray = np.asarray(
        image.convert("L").resize((THUMB_SIDE, THUMB_SIDE), Image.Resampling.BOX),
        dtype=np.float32,
    )
    blurred = np.asarray(cv2.GaussianBlur(gray, (0, 0), 1.0), dtype=np.float32)
    std = float(blurred.std())
    return (blurred - float(blurred.mean())) / (std if std > 1.0 else 1.0)


def aligned_agreement(
    query: Image.Image, candidate: Image.Image, *, trim: float = 0.0
) -> PixelAgreement:
    """Compare two pictures said to show the same window.

    Both are shrunk to grey 64 x 64 thumbnails normalised for brightness and contrast; the
    query's centre is slid up to :data:`SHIFT_PX` pixels to absorb a small misalignment. Flat
    areas agree between any two pictures, so agreement is counted on structured pixels only;
    an overlay or a local edit lowers it only by the share of structure it covers.

    With ``trim`` above 0, the :data:`BLOCK_PX`-pixel blocks that agree least, holding at most
    that share of the structured pixels, are left out of both figures (the correlation is then
    over the other blocks' pixels): an overlay's letters are structure the stored picture
    lacks, and are discounted; a picture that shares only a logo or a caption with another
    still disagrees on the rest.
    """
    q, c = _thumb(query), _thumb(candidate)
    inner = q[SHIFT_PX:-SHIFT_PX, SHIFT_PX:-SHIFT_PX]
    scores = cv2.matchTemplate(c, inner, cv2.TM_CCOEFF_NORMED)
    _, correlation, _, (x, y) = cv2.minMaxLoc(scores)
    window = c[y : y + inner.shape[0], x : x + inner.shape[1]]
    structured = (np.hypot(*np.gradient(inner)) > STRUCTURE_GRADIENT) | (
        np.hypot(*np.gradient(window)) > STRUCTURE_GRADIENT
    )
    if structured.mean() < MIN_STRUCTURE_SHARE:
        return PixelAgreement(float(correlation), 0.0)
    agree = np.abs(window - inner) < PIXEL_TOLERANCE
    if trim <= 0.0:
        return PixelAgreement(float(correlation), float(agree[structured].mean()))
    kept = _agreeing_blocks(structured, agree & structured, trim)
    kept_inner, kept_window = inner[kept], window[kept]
    spread = float(kept_inner.std() * kept_window.std())
    trimmed_correlation = (
        float(((kept_inner - kept_inner.mean()) * (kept_window - kept_window.mean())).mean())
        / spread
        if spread > 0.0
        else 0.0
    )
    return PixelAgreement(trimmed_correlation, float(agree[kept & structured].mean()))


#: Side of the blocks :func:`aligned_agreement` may leave out (in thumbnail pixels).
BLOCK_PX: Final = 8


def _agreeing_blocks(
    structured: npt.NDArray[np.bool_], agree: npt.NDArray[np.bool_], trim: float
) -> npt.NDArray[np.bool_]:
    """Pixel mask of the blocks kept: all but the least agreeing ones (share of their
    structured pixels that agree), which hold at most ``trim`` of the structured pixels."""
    rows, cols = structured.shape[0] // BLOCK_PX, structured.shape[1] // BLOCK_PX

    def per_block(mask: npt.NDArray[np.bool_]) -> npt.NDArray[np.int64]:
        cut = mask[: rows * BLOCK_PX, : cols * BLOCK_PX]
        sums = cut.reshape(rows, BLOCK_PX, cols, BLOCK_PX).sum(axis=(1, 3), dtype=np.int64)
        return np.asarray(sums, dtype=np.int64).reshape(-1)

    counts, agreeing = per_block(structured), per_block(agree)
    order = np.argsort(agreeing / np.maximum(counts, 1) + (counts == 0), kind="stable")
    left_out = np.cumsum(counts[order]) <= trim * counts.sum()
    keep = np.ones(rows * cols, dtype=bool)
    keep[order[left_out & (counts[order] > 0)]] = False
    mask = np.zeros(structured.shape, dtype=bool)
    mask[: rows * BLOCK_PX, : cols * BLOCK_PX] = np.repeat(
        np.repeat(keep.reshape(rows, cols), BLOCK_PX, axis=0), BLOCK_PX, axis=1
    )
    return mask


#: The overlap of a located copy with the stored picture must cover this share of either
#: (a crop lies wholly in the stored picture; unrelated covers that share a word in one font
#: were placed over 0.16-0.42 of each other).
MIN_OVERLAP_SHARE: Final = 0.5
#: Share of the overlap's structured pixels (the least agreeing blocks) left out of its
#: comparison: an overlay or a caption on the copy ...
OVERLAP_TRIM: Final = 0.25
#: ... and the agreement the rest must reach (:class:`PixelAgreement` for a whole window).
#: Unrelated covers that share a word on plain backgrounds agree at up to 0.96-0.99 over such
#: a trimmed overlap (placed over at most 0.42 of either), copies mostly at 0.99-1.
OVERLAP_CORRELATION: Final = 0.85
OVERLAP_STRUCTURE_AGREEMENT: Final = 0.9
#: A copy located by twice the inliers, half of the matches, or by 25 inliers, 70 % of the
#: matches, may agree less: JPEG at a low quality, a darkening and an overlay together move
#: a quarter of the thumbnails' edges (the benchmark's "several at once" at correlation
#: 0.93-0.99, structure 0.83-0.87). Unrelated covers that share words in one font are placed
#: that well too, but over half of either agree at most at correlation 0.83 / structure 0.72
#: (the nearest, over 48 %, at 0.887 / 0.832); covers sharing a region or a logo, at up to
#: 424 inliers, at correlation 0.87 at most.
STRONG_PLACEMENTS: Final = ((2 * MIN_INLIERS, 0.5), (25, 0.7))
STRONG_CORRELATION: Final = 0.9
STRONG_STRUCTURE_AGREEMENT: Final = 0.8
#: Large letters on a copy spoil the structure agreement of the whole overlap's thumbnail
#: (their contrast sets its normalisation: the benchmark's "several at once" at structure
#: 0.71-0.79); for a copy placed that well, this many of the overlap's detailed blocks, and
#: this share of them, agreeing (:func:`block_agreement`, each block normalised on its own)
#: stand for it. Unrelated covers placed that well by words of one font agree on at most 0.71
#: of their blocks where their correlation reaches 0.9, and at 0.87 where it does not: the
#: blocks alone do not tell them apart, the correlation is still needed.
MIN_AGREEING_BLOCKS: Final = 12
AGREEING_BLOCK_SHARE: Final = 0.8


#: Keypoints matched again along the transform (:func:`_guided`) that let a copy's overlap
#: agree as little as a strong placement's, its blocks agreeing too, however few ratio-tested
#: matches placed it (the benchmark's "several at once": 35-43 where 13-16 placed it).
#: Unrelated covers whose overlap agrees that well are matched again by at most 31 (seeds 5,
#: 11 and 23: 300 unrelated uploads and 100 edited indexed pictures each); without the
#: blocks, by up to 37.
GUIDED_INLIERS: Final = 35
#: A copy matched again by twice as many, its blocks agreeing, may agree at this correlation
#: (a large overlay's letters set the thumbnail's normalisation: 0.84 with 14 of 15 blocks
#: agreeing). No unrelated placement by 25 inliers or more over half of either picture (1,177
#: in the seeds above) had its blocks agree at a correlation of 0.7 or more.
GUIDED_CORRELATION: Final = 0.8


#: Longest side of the overlap compared block by block (:func:`block_agreement`), the side of
#: its blocks, ...
BLOCK_SIDE: Final = 128
DETAIL_BLOCK_PX: Final = 16
#: ... the detail a stored block must hold to count (standard deviation of its grey levels
#: once their best-fitting plane, a gradient, is taken out) ...
BLOCK_DETAIL: Final = 4.0
#: ... and the correlation at which the copy's block agrees with it.
BLOCK_CORRELATION: Final = 0.7


@dataclass(frozen=True, slots=True)
class BlockAgreement:
    """Of the overlap's ``detailed`` blocks (in the stored picture), the ``agreeing`` ones."""

    detailed: int
    agreeing: int


def _plane_residuals(blocks: npt.NDArray[np.float32], side: int) -> npt.NDArray[np.float32]:
    """Each row of ``blocks`` (a ``side`` x ``side`` block, flattened) less its least-squares
    plane: what is left is its detail, not its gradient or its brightness. On a square grid
    with centred coordinates the plane's three terms are independent (the mean and one slope
    each way)."""
    centred = np.arange(side, dtype=np.float32) - np.float32((side - 1) / 2)
    cols = np.tile(centred, side)
    rows = np.repeat(centred, side)
    norm = np.float32(side * float((centred**2).sum()))
    left = blocks - blocks.mean(axis=1, keepdims=True)
    left -= np.outer(left @ cols / norm, cols)
    left -= np.outer(left @ rows / norm, rows)
    return np.asarray(left, dtype=np.float32)


def block_agreement(shown: npt.NDArray[np.uint8], stored: npt.NDArray[np.uint8]) -> BlockAgreement:
    """Compare an overlap block by block: both at :data:`BLOCK_SIDE` longest side, cut into
    :data:`DETAIL_BLOCK_PX` blocks; a block of the stored picture with detail
    (:data:`BLOCK_DETAIL`) agrees when the copy's block correlates with it at
    :data:`BLOCK_CORRELATION` once both lose their plane (:func:`_plane_residuals`).

    Each block is normalised on its own, so a darkening, a re-encoding or large letters
    elsewhere (which spoil the whole thumbnail's normalisation, :func:`aligned_agreement`)
    leave it as it is; an overlay spoils only the blocks it covers. Gradients and flat areas,
    alike in any two covers, do not count."""
    height, width = stored.shape
    scale = BLOCK_SIDE / max(height, width)
    size = (
        max(DETAIL_BLOCK_PX, round(width * scale)),
        max(DETAIL_BLOCK_PX, round(height * scale)),
    )
    rows, cols = size[1] // DETAIL_BLOCK_PX, size[0] // DETAIL_BLOCK_PX

    def blocks(gray: npt.NDArray[np.uint8]) -> npt.NDArray[np.float32]:
        small = cv2.resize(gray, size, interpolation=cv2.INTER_AREA).astype(np.float32)
        cut = small[: rows * DETAIL_BLOCK_PX, : cols * DETAIL_BLOCK_PX]
        tiled = cut.reshape(rows, DETAIL_BLOCK_PX, cols, DETAIL_BLOCK_PX).transpose(0, 2, 1, 3)
        return _plane_residuals(tiled.reshape(rows * cols, -1), DETAIL_BLOCK_PX)

    copy, original = blocks(shown), blocks(stored)
    spread = copy.std(axis=1) * original.std(axis=1)
    correlation = (copy * original).mean(axis=1) / np.maximum(spread, 1e-6)
    detailed = original.std(axis=1) >= BLOCK_DETAIL
    return BlockAgreement(
        int(detailed.sum()), int((detailed & (correlation >= BLOCK_CORRELATION)).sum())
    )


@dataclass(frozen=True, slots=True)
class OverlapMatch:
    """A copy located in a stored picture by ORB (:attr:`local`) and the pixels of the
    overlap compared once the copy is laid over it, as thumbnails (:attr:`pixels`) and block
    by block (:attr:`blocks`); both None when the transform or the overlap is missing.
    :attr:`guided` counts the keypoints matched again along the transform (:func:`_guided`;
    0 when not tried), and the pixels are then those along the refitted transform."""

    local: LocalMatch
    pixels: PixelAgreement | None
    overlap: float
    blocks: BlockAgreement | None = None
    guided: int = 0

    @property
    def confirmed(self) -> bool:
        if self.pixels is None or self.overlap < MIN_OVERLAP_SHARE:
            return False
        correlation, structure = self.pixels.correlation, self.pixels.structure_agreement
        blocks_agree = self.blocks is not None and (
            self.blocks.agreeing >= MIN_AGREEING_BLOCKS
            and self.blocks.agreeing >= AGREEING_BLOCK_SHARE * self.blocks.detailed
        )
        agree = correlation >= OVERLAP_CORRELATION and structure >= OVERLAP_STRUCTURE_AGREEMENT
        strongly = correlation >= STRONG_CORRELATION and (
            structure >= STRONG_STRUCTURE_AGREEMENT or blocks_agree
        )
        twice = self.guided >= 2 * GUIDED_INLIERS and correlation >= GUIDED_CORRELATION
        if self.guided >= GUIDED_INLIERS and blocks_agree and (agree or strongly or twice):
            return True
        if not self.local.confirmed:
            return False
        inliers, matches = self.local.inliers, self.local.matches
        return agree or (
            strongly
            and any(
                inliers >= least and inliers >= share * matches
                for least, share in STRONG_PLACEMENTS
            )
        )


@dataclass(frozen=True, slots=True)
class UploadFeatures:
    """An upload's grey picture and spread features (:func:`spread_features`), as it is and
    mirrored: found once and checked against every candidate (:func:`overlap_match`)."""

    orientations: tuple[tuple[bool, npt.NDArray[np.uint8], Features], ...]


def upload_features(query: Image.Image) -> UploadFeatures:
    """The features :func:`overlap_match` locates ``query`` by, plain then mirrored."""
    gray = gray_for_features(query)
    mirrored = np.ascontiguousarray(gray[:, ::-1])
    return UploadFeatures(
        ((False, gray, spread_features(gray)), (True, mirrored, spread_features(mirrored)))
    )


def overlap_match(query: Image.Image | UploadFeatures, candidate: Image.Image) -> OverlapMatch:
    """Whether ``query`` shows part of ``candidate`` wherever it lies in it (a crop at any
    offset, mirrored or not, resized): ORB + RANSAC find the similarity transform from the
    query (and, unless that confirms, its mirror image) to the candidate; the query is warped
    onto the candidate and the overlap compared pixel by pixel (:func:`aligned_agreement`,
    the least agreeing :data:`OVERLAP_TRIM` of its structure left out: an overlay). Agreeing
    keypoints alone are not enough: unrelated pictures that share a word in one font agree
    on its letters, not on the rest of the overlap. When the ratio-tested matches collapse
    on one stored keypoint (a gradient), they are taken one per stored keypoint. A placement
    whose large overlap already agrees but which is not confirmed has its keypoints matched
    again along the transform (:func:`_guided`), which confirms it with
    :data:`GUIDED_INLIERS` pairs, agreeing blocks and a strong placement's pixels. Of two
    unconfirmed placements, the one with more inliers is returned. ``query`` may be its
    :func:`upload_features`, found once for several candidates."""
    upload = query if isinstance(query, UploadFeatures) else upload_features(query)
    c_gray = gray_for_features(candidate)
    c_features = spread_features(c_gray)
    best = OverlapMatch(LocalMatch(0, 0, False), None, 0.0)
    for mirrored, gray, features in upload.orientations:
        inliers, matches, transform = _transform(features, c_features)
        if transform is None:
            inliers, matches, transform = _transform(features, c_features, one_to_one=True)
        local = LocalMatch(inliers, matches, mirrored)
        if transform is None:
            located = OverlapMatch(local, None, 0.0)
        else:
            pixels, blocks, overlap = compare_overlap(gray, transform, c_gray)
            located = OverlapMatch(local, pixels, overlap, blocks)
            if _worth_guiding(located):
                guided, refit = _guided(features, c_features, transform)
                pixels, blocks, overlap = compare_overlap(gray, refit, c_gray)
                located = OverlapMatch(local, pixels, overlap, blocks, guided)
        if located.confirmed:
            return located
        if inliers > best.local.inliers:
            best = located
    return best


def _worth_guiding(located: OverlapMatch) -> bool:
    """Whether to match a placement's keypoints again along its transform (:func:`_guided`):
    it is not confirmed, yet its overlap is large and agrees (:data:`OVERLAP_CORRELATION`)."""
    return (
        not located.confirmed
        and located.pixels is not None
        and located.overlap >= MIN_OVERLAP_SHARE
        and located.pixels.correlation >= OVERLAP_CORRELATION
    )


def warp_overlap(
    gray: npt.NDArray[np.uint8], transform: npt.NDArray[np.float64], c_gray: npt.NDArray[np.uint8]
) -> tuple[npt.NDArray[np.uint8], npt.NDArray[np.uint8], float] | None:
    """``gray`` warped by ``transform`` onto ``c_gray``: the bounding boxes of the overlap in
    both (outside it black), and its share of the smaller picture (None: no overlap)."""
    height, width = c_gray.shape
    warped = cv2.warpAffine(gray, transform, (width, height), flags=cv2.INTER_LINEAR)
    footprint = cv2.warpAffine(
        np.full(gray.shape, 255, np.uint8), transform, (width, height), flags=cv2.INTER_NEAREST
    )
    inside = footprint > 0
    if not inside.any():
        return None
    rows, cols = np.flatnonzero(inside.any(axis=1)), np.flatnonzero(inside.any(axis=0))
    top, bottom, left, right = rows[0], rows[-1] + 1, cols[0], cols[-1] + 1
    overlap = min(float(inside.sum()) / min(c_gray.size, gray.size), 1.0)
    stored = np.where(inside, c_gray, 0)[top:bottom, left:right]
    shown = np.where(inside, warped, 0)[top:bottom, left:right]
    return shown, stored, overlap


def compare_overlap(
    gray: npt.NDArray[np.uint8], transform: npt.NDArray[np.float64], c_gray: npt.NDArray[np.uint8]
) -> tuple[PixelAgreement | None, BlockAgreement | None, float]:
    """The pixel agreement of ``gray`` laid over ``c_gray`` by ``transform``, as thumbnails
    (:func:`aligned_agreement`) and block by block (:func:`block_agreement`), and the
    overlap's share (:func:`warp_overlap`); no agreement when the overlap is missing or too
    small."""
    warped = warp_overlap(gray, transform, c_gray)
    if warped is None:
        return None, None, 0.0
    shown, stored, overlap = warped
    if min(stored.shape) < 2 * SHIFT_PX + 2:
        return None, None, overlap
    pixels = aligned_agreement(Image.fromarray(shown), Image.fromarray(stored), trim=OVERLAP_TRIM)
    return pixels, block_agreement(shown, stored), overlap

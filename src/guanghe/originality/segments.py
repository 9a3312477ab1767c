"""Segment matches: which stretch of an indexed work an upload's stretch repeats.

For video, the frame-hash hits between an upload and one indexed work are pairs of times
``(t_upload, t_indexed)``. A copy played at speed ``r`` and shifted by ``b`` puts them on the
line ``t_indexed = r * t_upload + b``, ``r`` within :data:`SPEEDS`. :func:`align` finds that
line by a Hough vote (for every speed of the grid, the window of offsets
:data:`TOLERANCE_S` either side holding most distinct hit pairs; the best window of all speeds
wins), refits it by least squares on its inliers, and keeps it when at least
:data:`MIN_FRAMES` distinct upload frames and two distinct indexed frames lie on it.
Scattered hits (frames that merely look alike: title cards, a plain scene) do not line up and
are no match.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final, Literal

import numpy as np
import numpy.typing as npt

MatchKind = Literal["video", "audio"]
#: Playback speeds a copy may have, as a grid for the vote.
SPEEDS: Final = np.round(np.arange(0.75, 1.3501, 0.01), 2)
#: Largest gap between a hit and the line (seconds of the indexed work).
TOLERANCE_S: Final = 0.4
#: Distinct upload frames on the line needed for a match.
MIN_FRAMES: Final = 4


@dataclass(frozen=True, slots=True)
class SegmentMatch:
    """An upload's stretch ``[upload_start_s, upload_end_s)`` repeats the stretch
    ``[original_start_s, original_end_s)`` of ``work_id``, in picture (``video``) or sound
    (``audio``); ``upload_share`` is the stretch's share of the upload's length, ``speed`` the
    copy's playback speed relative to the original, ``score`` the evidence (matched frames for
    video, 1 minus the bit error rate for audio)."""

    work_id: int
    kind: MatchKind
    upload_start_s: float
    upload_end_s: float
    original_start_s: float
    original_end_s: float
    upload_share: float
    speed: float
    mirrored: bool
    score: float

    def describe(self) -> str:
        """One line for people: what matched where."""
        what = "picture" if self.kind == "video" else "sound"
        line = (
            f"{what} {self.upload_start_s:.1f}-{self.upload_end_s:.1f} s of the upload "
            f"({self.upload_share:.0%}) repeats {self.original_start_s:.1f}-"
            f"{self.original_end_s:.1f} s of work {self.work_id}"
        )
        if self.kind == "video":
            line += f" at {self.speed:.2f}x speed, {int(self.score)} frames"
            if self.mirrored:
                line += ", mirrored"
        else:
            line += f", {self.score:.0%} of bits agree"
        return line


@dataclass(frozen=True, slots=True)
class Line:
    """``t_indexed = speed * t_upload + offset`` with the inlier hits."""

    speed: float
    offset: float
    inliers: npt.NDArray[np.bool_]


def align(upload_t: npt.NDArray[np.float64], indexed_t: npt.NDArray[np.float64]) -> Line | None:
    """The line through most hits (see the module docstring), or None without enough."""
    if np.unique(upload_t).size < MIN_FRAMES:
        return None
    pairs = np.unique(np.stack([upload_t, indexed_t], axis=1), axis=0)
    best: tuple[int, float, float] | None = None
    for speed in SPEEDS.tolist():
        offsets = np.sort(pairs[:, 1] - speed * pairs[:, 0])
        ends = np.searchsorted(offsets, offsets + 2 * TOLERANCE_S, side="right")
        counts = ends - np.arange(offsets.size)
        i = int(np.argmax(counts))
        if best is None or int(counts[i]) > best[0]:
            best = (int(counts[i]), speed, float(offsets[i] + offsets[ends[i] - 1]) / 2)
    assert best is not None
    _, speed, offset = best
    inliers = np.abs(indexed_t - (speed * upload_t + offset)) <= TOLERANCE_S
    support = np.unique(upload_t[inliers]).size
    if support < MIN_FRAMES:
        return None
    if np.unique(upload_t[inliers]).size >= MIN_FRAMES and np.ptp(upload_t[inliers]) > 0:
        fit_speed, fit_offset = np.polyfit(upload_t[inliers], indexed_t[inliers], 1)
        if SPEEDS[0] <= fit_speed <= SPEEDS[-1]:
            refit = np.abs(indexed_t - (fit_speed * upload_t + fit_offset)) <= TOLERANCE_S
            if np.unique(upload_t[refit]).size >= support:
                speed, offset, inliers = float(fit_speed), float(fit_offset), refit
    if np.unique(indexed_t[inliers]).size < 2:
        return None
    return Line(speed, offset, inliers)

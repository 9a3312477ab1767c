"""Checks of a draft before publication: the cover picture and the title and hashtags.

Each check returns findings with a stable ``code``, a ``severity`` (``warning`` or ``info``)
and a concrete suggestion.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final, Literal

import cv2
import numpy as np
from PIL import Image

#: The platform shows covers at 9:16; below this short side they look soft on a phone.
MIN_SHORT_SIDE: Final = 720
DARK_BELOW: Final = 60.0
BRIGHT_ABOVE: Final = 210.0
#: Sharpness (RMS of the Laplacian on the strongest 5 % of edges, grey cover at 720 px short
#: side) below which a cover looks blurry; a Gaussian blur of 1 px brings a sharp cover to ~15.
BLUR_BELOW: Final = 12.0
TEXT_COVERAGE_ABOVE: Final = 0.25
TITLE_MIN_CHARS: Final = 8
TITLE_MAX_CHARS: Final = 55
HASHTAGS_MIN: Final = 2
HASHTAGS_MAX: Final = 8

Severity = Literal["warning", "info"]


@dataclass(frozen=True, slots=True)
class Finding:
    code: str
    severity: Severity
    message: str
    suggestion: str


@dataclass(frozen=True, slots=True)
class CoverReport:
    """Measurements of a cover and the findings they lead to."""

    width: int
    height: int
    brightness: float
    sharpness: float
    text_coverage: float
    findings: tuple[Finding, ...]


def _at_short_side(gray: np.ndarray, side: int) -> np.ndarray:
    scale = side / min(gray.shape)
    size = (max(1, round(gray.shape[1] * scale)), max(1, round(gray.shape[0] * scale)))
    return cv2.resize(gray, size, interpolation=cv2.INTER_AREA if scale < 1 else cv2.INTER_LINEAR)


def text_coverage(gray: np.ndarray) -> float:
    """Estimated share of the picture covered by text: dense clusters of strong edges in
    lines (morphological gradient, Otsu threshold, horizontal closing) with a text-like shape."""
    work = _at_short_side(gray, 360)
    gradient = cv2.morphologyEx(work, cv2.MORPH_GRADIENT, np.ones((3, 3), np.uint8))
    _, edges = cv2.threshold(gradient, 0, 255, cv2.THRESH_BINARY | cv2.THRESH_OTSU)
    lines = cv2.morphologyEx(
        edges, cv2.MORPH_CLOSE, cv2.getStructuringElement(cv2.MORPH_RECT, (9, 1))
    )
    contours, _ = cv2.findContours(lines, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
    height = work.shape[0]
    covered = 0
    for contour in contours:
        x, y, w, h = cv2.boundingRect(contour)
        filled = cv2.countNonZero(edges[y : y + h, x : x + w]) / max(1, w * h)
        if w >= 1.5 * h and 0.01 * height <= h <= 0.15 * height and filled >= 0.35:
            covered += w * h
    return min(1.0, covered / work.size)


def edge_sharpness(gray: np.ndarray) -> float:
    """RMS of the Laplacian over the strongest edges. The plain variance of the Laplacian
    calls every flat graphic blurry; measured on edges only, it tells a crisp edge from a soft
    one whatever the share of flat area."""
    work = _at_short_side(gray, 720).astype(np.float64)
    laplacian = cv2.Laplacian(work, cv2.CV_64F)
    gradient = np.hypot(cv2.Sobel(work, cv2.CV_64F, 1, 0), cv2.Sobel(work, cv2.CV_64F, 0, 1))
    edges = gradient >= max(float(np.percentile(gradient, 95)), 20.0)
    if edges.sum() < 50:
        return 0.0
    return float(np.sqrt(np.mean(laplacian[edges] ** 2)))


def check_cover(image: Image.Image) -> CoverReport:
    """Resolution, brightness, sharpness and text coverage of a cover."""
    gray = np.asarray(image.convert("L"), dtype=np.uint8)
    width, height = image.size
    brightness = float(gray.mean())
    sharpness = edge_sharpness(gray)
    coverage = text_coverage(gray)
    findings = []
    if min(width, height) < MIN_SHORT_SIDE:
        findings.append(
            Finding(
                "cover-low-resolution",
                "warning",
                f"The cover is {width} x {height}; covers under {MIN_SHORT_SIDE} px on the short "
                "side look soft in the feed.",
                f"Export the cover at 1080 x 1920 (at least {MIN_SHORT_SIDE} px wide).",
            )
        )
    if height < width:
        findings.append(
            Finding(
                "cover-landscape",
                "info",
                "The cover is landscape; the feed shows 9:16 portrait.",
                "Use a portrait 9:16 cover so it fills the screen.",
            )
        )
    if brightness < DARK_BELOW:
        findings.append(
            Finding(
                "cover-too-dark",
                "warning",
                f"The cover is dark (mean brightness {brightness:.0f}/255).",
                "Raise the exposure or pick a brighter frame; dark covers are skipped more often.",
            )
        )
    elif brightness > BRIGHT_ABOVE:
        findings.append(
            Finding(
                "cover-too-bright",
                "warning",
                f"The cover is washed out (mean brightness {brightness:.0f}/255).",
                "Lower the exposure so the subject keeps its contrast.",
            )
        )
    if sharpness < BLUR_BELOW:
        findings.append(
            Finding(
                "cover-blurry",
                "warning",
                f"The cover looks blurry (sharpness {sharpness:.0f}, below {BLUR_BELOW:.0f}).",
                "Pick a frame without motion blur, or export the cover from the original footage.",
            )
        )
    if coverage > TEXT_COVERAGE_ABOVE:
        findings.append(
            Finding(
                "cover-text-heavy",
                "warning",
                f"About {coverage:.0%} of the cover is text.",
                "Keep cover text to a short headline (under a quarter of the picture).",
            )
        )
    return CoverReport(width, height, brightness, sharpness, coverage, tuple(findings))


def check_title_and_hashtags(
    title: str, hashtags: Sequence[str], popular: Sequence[str]
) -> tuple[Finding, ...]:
    """Title length and style, hashtag count, and popular hashtags of the vertical missing."""
    findings = []
    stripped = title.strip()
    if len(stripped) < TITLE_MIN_CHARS:
        findings.append(
            Finding(
                "title-too-short",
                "warning",
                f"The title has {len(stripped)} characters.",
                f"Say what the viewer gets in {TITLE_MIN_CHARS}-{TITLE_MAX_CHARS} characters.",
            )
        )
    elif len(stripped) > TITLE_MAX_CHARS:
        findings.append(
            Finding(
                "title-too-long",
                "warning",
                f"The title has {len(stripped)} characters; the feed cuts it at {TITLE_MAX_CHARS}.",
                "Put the hook in the first 20 characters and shorten the rest.",
            )
        )
    letters = [c for c in stripped if c.isalpha()]
    if len(letters) >= 6 and all(c.isupper() for c in letters):
        findings.append(
            Finding(
                "title-all-caps",
                "info",
                "The title is in capitals.",
                "Use sentence case; capitals read as shouting.",
            )
        )
    if "!!!" in stripped or "???" in stripped:
        findings.append(
            Finding(
                "title-punctuation",
                "info",
                "The title repeats punctuation.",
                "One exclamation mark is enough.",
            )
        )
    if len(hashtags) < HASHTAGS_MIN:
        tip = f" Popular in your vertical: {' '.join(popular[:3])}." if popular else ""
        findings.append(
            Finding(
                "hashtags-too-few",
                "warning",
                f"The work has {len(hashtags)} hashtag(s).",
                f"Add {HASHTAGS_MIN}-{HASHTAGS_MAX} hashtags that describe the topic.{tip}",
            )
        )
    elif len(hashtags) > HASHTAGS_MAX:
        findings.append(
            Finding(
                "hashtags-too-many",
                "warning",
                f"The work has {len(hashtags)} hashtags.",
                f"Keep the {HASHTAGS_MAX} most specific; long lists dilute the topic.",
            )
        )
    elif popular and not set(hashtags) & set(popular):
        findings.append(
            Finding(
                "hashtags-none-popular",
                "info",
                "None of the hashtags is among the vertical's most used this month.",
                f"Consider one of {' '.join(popular[:3])} if it fits the work.",
            )
        )
    return tuple(findings)

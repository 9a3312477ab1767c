"""Cover images of synthetic works: a posterised gradient, shapes and caption-like blocks.

Parameters are drawn for all works at once in the parent process; rendering is a pure
function of them, so chunks can be drawn in worker processes in any order with identical
bytes. Covers are 8-bit palette PNGs (135x240, portrait), written to
``<covers_dir>/<work_id // 1000>/<work_id>.png``. The worker that draws a cover also
fingerprints it (:class:`CoverFingerprints`), from the picture in memory: the pixels the PNG
decodes to, without reading it back.
"""

from __future__ import annotations

from concurrent.futures import Executor, Future
from dataclasses import dataclass
from pathlib import Path
from typing import Final

import numpy as np
import numpy.typing as npt
from PIL import Image, ImageDraw

COVER_WIDTH: Final = 135
COVER_HEIGHT: Final = 240
COVERS_PER_FOLDER: Final = 1000
_BANDS: Final = 32  # palette entries of the gradient; accents follow
_ACCENTS: Final = 8

Ints = npt.NDArray[np.int64]
Floats = npt.NDArray[np.float64]
Bytes = npt.NDArray[np.uint8]


@dataclass(frozen=True, slots=True)
class CoverParams:
    """Drawing parameters of ``k`` covers.

    Attributes
    ----------
    work_id
        ``(k,)`` ids of the works.
    angle
        ``(k,)`` gradient direction in radians.
    colors
        ``(k, 2 + _ACCENTS, 3)`` gradient endpoints, then accent colours (RGB).
    ellipses
        ``(k, 3, 3)`` centre x, centre y and radius in pixels.
    boxes
        ``(k, 5, 4)`` rectangles as x0, y0, width, height: two shapes, three caption blocks.
    """

    work_id: Ints
    angle: Floats
    colors: Bytes
    ellipses: Floats
    boxes: Floats

    def take(self, start: int, stop: int) -> CoverParams:
        """The covers ``start:stop``."""
        return CoverParams(
            self.work_id[start:stop],
            self.angle[start:stop],
            self.colors[start:stop],
            self.ellipses[start:stop],
            self.boxes[start:stop],
        )


def cover_relpath(work_id: int) -> str:
    """Path of a work's cover relative to the covers directory."""
    return f"{work_id // COVERS_PER_FOLDER}/{work_id}.png"


def draw_cover_params(rng: np.random.Generator, work_id: Ints) -> CoverParams:
    """Random, visually distinct drawing parameters for each work."""
    k = work_id.shape[0]
    w, h = COVER_WIDTH, COVER_HEIGHT
    ellipses = np.stack(
        [rng.uniform(0, w, (k, 3)), rng.uniform(0, h, (k, 3)), rng.uniform(8, 55, (k, 3))],
        axis=-1,
    )
    shapes = np.stack(
        [
            rng.uniform(-10, w - 20, (k, 2)),
            rng.uniform(-10, h * 0.6, (k, 2)),
            rng.uniform(20, 90, (k, 2)),
            rng.uniform(15, 110, (k, 2)),
        ],
        axis=-1,
    )
    block_w = rng.uniform(40, w - 16, (k, 3))
    blocks = np.stack(
        [
            np.full((k, 3), 8.0),
            h - 70 + 18 * np.arange(3)[None, :] + rng.uniform(0, 4, (k, 3)),
            block_w * np.array([1.0, 0.8, 0.5]),
            np.full((k, 3), 10.0),
        ],
        axis=-1,
    )
    return CoverParams(
        work_id=work_id.astype(np.int64),
        angle=np.asarray(rng.uniform(0, 2 * np.pi, k), dtype=np.float64),
        colors=rng.integers(0, 256, (k, 2 + _ACCENTS, 3), dtype=np.uint8),
        ellipses=ellipses,
        boxes=np.concatenate([shapes, blocks], axis=1),
    )


def _gradient_axes(params: CoverParams) -> tuple[Floats, Floats]:
    """Per cover, the gradient's row term ``(k, W)`` and column term ``(k, H)``.

    Their outer sum lies in ``[0, _BANDS)``: the palette index of each pixel.
    """
    cos = np.cos(params.angle).astype(np.float32)
    sin = np.sin(params.angle).astype(np.float32)
    xs = np.linspace(0.0, 1.0, COVER_WIDTH, dtype=np.float32)
    ys = np.linspace(0.0, 1.0, COVER_HEIGHT, dtype=np.float32)
    low = np.minimum(cos, 0) + np.minimum(sin, 0)
    scale = (_BANDS - 0.01) / (np.maximum(cos, 0) + np.maximum(sin, 0) - low)
    row = (cos[:, None] * xs[None, :] - low[:, None]) * scale[:, None]
    col = sin[:, None] * ys[None, :] * scale[:, None]
    return row, col


def _palettes(params: CoverParams) -> Bytes:
    """``(k, 256 * 3)`` flat palettes: the gradient bands, then the accents."""
    k = params.work_id.shape[0]
    ends = params.colors[:, :2].astype(np.float32)
    frac = np.linspace(0.0, 1.0, _BANDS, dtype=np.float32)[None, :, None]
    bands = ends[:, :1] + frac * (ends[:, 1:2] - ends[:, :1])
    palette = np.zeros((k, 256, 3), dtype=np.uint8)
    palette[:, :_BANDS] = np.round(bands).astype(np.uint8)
    palette[:, _BANDS : _BANDS + _ACCENTS] = params.colors[:, 2:]
    return palette.reshape(k, -1)


def render_covers(params: CoverParams) -> list[Image.Image]:
    """The cover images (mode ``P``) of ``params``; pure and deterministic."""
    rows, cols = _gradient_axes(params)
    palettes = _palettes(params)
    boxes = np.clip(np.round(params.boxes), 0, None).astype(np.int64)
    boxes[..., 2:] += boxes[..., :2]
    images: list[Image.Image] = []
    for i in range(params.work_id.shape[0]):
        pixels = np.add.outer(cols[i], rows[i]).astype(np.uint8)
        for j, (x0, y0, x1, y1) in enumerate(boxes[i].tolist()):
            pixels[y0:y1, x0:x1] = _BANDS + j
        image = Image.frombytes("P", (COVER_WIDTH, COVER_HEIGHT), pixels.tobytes())
        image.putpalette(palettes[i].tobytes())
        draw = ImageDraw.Draw(image)
        for j, (cx, cy, r) in enumerate(params.ellipses[i].tolist()):
            draw.ellipse((cx - r, cy - r, cx + r, cy + r), fill=_BANDS + 5 + j)
        images.append(image)
    return images


@dataclass(frozen=True, slots=True)
class CoverFingerprints:
    """The ``work_fingerprints`` rows of ``k`` covers, as
    :func:`~guanghe.originality.attribution.fingerprint_values` gives them, in compact arrays
    (a chunk's rows are held until the works are in the store).

    Attributes
    ----------
    work_id
        ``(k,)`` ids of the works.
    counts
        ``(k,)`` rows of each work; its rows follow the previous works' rows, in order.
    codes, tags, quality
        ``(rows, 32)`` codes, ``(rows,)`` tags and ``(rows,)`` qualities of the rows.
    """

    work_id: Ints
    counts: Ints
    codes: Bytes
    tags: npt.NDArray[np.int16]
    quality: npt.NDArray[np.int16]

    @property
    def count(self) -> int:
        """Number of covers."""
        return int(self.work_id.shape[0])


def write_cover_chunk(root: str, params: CoverParams) -> CoverFingerprints:
    """Render and write the covers of ``params`` under ``root``; their fingerprint rows.

    Runs in worker processes, so it takes plain picklable arguments.
    """
    from guanghe.originality.attribution import fingerprint_values
    from guanghe.originality.index import CODE_BYTES

    base = Path(root)
    for folder in np.unique(params.work_id // COVERS_PER_FOLDER).tolist():
        (base / str(folder)).mkdir(parents=True, exist_ok=True)
    counts: list[int] = []
    codes: list[bytes] = []
    tags: list[int] = []
    quality: list[int] = []
    for work_id, image in zip(params.work_id.tolist(), render_covers(params), strict=True):
        image.save(f"{root}/{cover_relpath(work_id)}", format="PNG", compress_level=1)
        rows = fingerprint_values(work_id, cover=image.convert("RGB")).fingerprints
        counts.append(len(rows))
        codes.extend(row["pdq"] for row in rows)
        tags.extend(row["tag"] for row in rows)
        quality.extend(row["quality"] for row in rows)
    return CoverFingerprints(
        work_id=params.work_id.copy(),
        counts=np.array(counts, dtype=np.int64),
        codes=np.frombuffer(b"".join(codes), dtype=np.uint8).reshape(-1, CODE_BYTES),
        tags=np.array(tags, dtype=np.int16),
        quality=np.array(quality, dtype=np.int16),
    )


def submit_covers(
    executor: Executor, root: Path, params: CoverParams
) -> list[Future[CoverFingerprints]]:
    """Queue one job per cover folder (1,000 works) on ``executor``."""
    ids = params.work_id
    if ids.shape[0] == 0:
        return []
    folders = ids // COVERS_PER_FOLDER
    bounds = np.flatnonzero(np.diff(folders)) + 1
    starts = [0, *bounds.tolist()]
    stops = [*bounds.tolist(), int(ids.shape[0])]
    return [
        executor.submit(write_cover_chunk, str(root), params.take(a, b))
        for a, b in zip(starts, stops, strict=True)
    ]

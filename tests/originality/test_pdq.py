"""The Numba PDQ and the windows taken from one luma give the same bits as Meta's reference.

The reference is the ``pdqhash`` binding (ThreatExchange's C++) applied as the fingerprints
applied it before: each window cut by Pillow, shrunk to :data:`HASH_SIDE`, hashed.
"""

from __future__ import annotations

import io

import numpy as np
import numpy.typing as npt
import pdqhash
import pytest
from PIL import Image, ImageDraw

from guanghe.originality._pdq_kernels import luma, pdq_hash
from guanghe.originality.fingerprint import (
    GRID,
    INDEXED,
    MIRROR,
    TURNED,
    _rgb_array,
    fingerprint_image,
    query_codes,
    trim_border,
)
from guanghe.sim.covers import draw_cover_params, render_covers
from guanghe.sim.videos import decode, scene_video
from tests.originality.pictures import edits, hard_edits, picture

Codes = npt.NDArray[np.uint8]


def reference_pdq(rgb: npt.NDArray[np.uint8]) -> tuple[Codes, int]:
    bits, quality = pdqhash.compute(np.ascontiguousarray(rgb))
    return np.packbits(bits.astype(np.uint8)), int(quality)


def reference_codes(image: Image.Image, regions: tuple[object, ...]) -> tuple[Codes, int]:
    """The fingerprints' codes as computed before the Numba PDQ: Pillow windows, pdqhash."""
    trimmed = trim_border(image)
    hashed = [reference_pdq(_rgb_array(region.of(trimmed))) for region in regions]  # type: ignore[attr-defined]
    return np.stack([code for code, _ in hashed]), hashed[0][1]


def arrays(seed: int) -> list[npt.NDArray[np.uint8]]:
    """RGB arrays of every shape class the reference treats apart: under 5 pixels a side
    (no hash), exactly 64 x 64 (no filter), odd, tall, wide and large sizes; noise, smooth
    gradients, flat colour and (non-contiguous) views."""
    rng = np.random.default_rng(seed)
    shapes = [(4, 40), (40, 4), (5, 5), (64, 64), (63, 65), (240, 135), (256, 144), (17, 300)]
    shapes += [(int(rng.integers(3, 700)), int(rng.integers(3, 700))) for _ in range(12)]
    out = []
    for k, (h, w) in enumerate(shapes):
        yy, xx = np.mgrid[0:h, 0:w]
        kind = k % 4
        if kind == 0:
            pixels = rng.integers(0, 256, (h, w, 3), dtype=np.uint8)
        elif kind == 1:
            slope = rng.uniform(0.2, 3.0, 3)
            stacked = np.stack([xx * slope[0], yy * slope[1], (xx + yy) * slope[2]], -1)
            pixels = (stacked % 256).astype(np.uint8)
        elif kind == 2:
            pixels = np.full((h, w, 3), rng.integers(0, 256, 3), dtype=np.uint8)
        else:
            pixels = rng.integers(0, 256, (h, 2 * w, 3), dtype=np.uint8)[:, ::-2]
        out.append(pixels)
    return out


@pytest.mark.parametrize("seed", range(8))
def test_numba_pdq_equals_pdqhash(seed: int) -> None:
    for rgb in arrays(seed):
        code, quality = pdq_hash(rgb)
        expected, expected_quality = reference_pdq(rgb)
        assert quality == expected_quality, rgb.shape
        assert code.tobytes() == expected.tobytes(), rgb.shape


def test_luma_equals_the_binding() -> None:
    rgb = np.random.default_rng(3).integers(0, 256, (50, 70, 3), dtype=np.uint8)
    binding = (rgb[:, :, 0] * 0.299 + rgb[:, :, 1] * 0.587 + rgb[:, :, 2] * 0.114).astype(
        np.float32
    )
    assert luma(rgb).tobytes() == binding.tobytes()


def pictures() -> list[Image.Image]:
    """Covers of the synthetic platform (palette PNGs, read back as the generator's index
    reads them and as they are), test pictures and their edits (bordered, mirrored, resized,
    JPEG), large and tiny pictures, grey and palette modes, video frames."""
    covers = render_covers(draw_cover_params(np.random.default_rng(5), np.arange(1, 41)))
    out: list[Image.Image] = []
    for cover in covers[:30]:
        buffer = io.BytesIO()
        cover.save(buffer, format="PNG", compress_level=1)
        with Image.open(io.BytesIO(buffer.getvalue())) as read:
            out.append(read.convert("RGB"))
    out.extend(covers[30:])
    for seed in range(4):
        original = picture(seed)
        out.append(original)
        out.extend(edits(original).values())
        out.extend(hard_edits(original).values())
        out.append(picture(seed + 10, size=(180, 250)))
        out.append(picture(seed + 20, size=(96, 60)).convert("L"))
    out.append(picture(40, size=(7, 9)))
    out.append(picture(41, size=(2, 30)))
    tiny = Image.new("RGB", (30, 1), (9, 9, 9))
    ImageDraw.Draw(tiny).point((3, 0), fill=(200, 0, 0))
    out.append(tiny)
    out.extend(Image.fromarray(frame) for frame in decode(scene_video(6, seconds=1.0)).frames[::8])
    return out


def test_fingerprints_equal_the_reference_on_many_pictures() -> None:
    regions = (*INDEXED, MIRROR, *TURNED, *GRID)
    checked = 0
    for image in pictures():
        stored = fingerprint_image(image)
        codes, quality = reference_codes(image, INDEXED)
        assert stored.codes.tobytes() == codes.tobytes(), (image.mode, image.size)
        assert stored.quality == quality
        queried = query_codes(image)
        codes, quality = reference_codes(image, regions)
        assert queried.codes.tobytes() == codes.tobytes(), (image.mode, image.size)
        assert queried.quality == quality
        checked += 1
    assert checked > 100

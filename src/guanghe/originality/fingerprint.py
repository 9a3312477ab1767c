"""Perceptual fingerprints of images (PDQ) and of text (MinHash).

A global perceptual hash survives re-encoding, resizing and brightness changes but not crops,
borders, overlays or mirrors. So an image is hashed several times:

* **indexed regions** (what a published work stores): the whole picture after removing a
  uniform border (``full``), its centre 80 % (``inner``), its upper and lower 60 % (``upper``,
  ``lower``) and, since issue 22, the whole picture with the band from 40 % to 60 % of its
  height cut out (``uncaptioned``);
* **query regions** (what a new upload is compared with): the same five, the mirror image of
  the whole picture, its centre 80 % turned back by 3 degrees either way, and a 3 x 3 grid of
  crops at 8/9 of the picture's size, of the picture and of its mirror image. A copy cropped by
  up to 10 % centred, at an edge or in a corner contains the original's centre 80 %, and one
  grid crop lines up with it (mirrored or not); an overlay covering one end of the picture
  leaves the other end's region intact; a caption band across the middle (within 40-60 % of
  the height) is cut out of ``uncaptioned`` on both sides; a copy turned by 2 to 4 degrees is
  within a degree of one turned-back centre. PDQ does not survive a window that is off by
  half a percent or more (a centre-60 % window shifted by 0.5 % of the picture both ways
  moved 24-38 bits, by 1 % 44-66, on four pictures), so a crop at an arbitrary offset lines up
  with no grid window.

PDQ hashes are 256 bits, compared by Hamming distance; a hash's *quality* (0-100) says how much
gradient the picture has, and hashes of flat pictures (quality below :data:`MIN_QUALITY`) are
not trusted without a local-feature check. Reference: Meta, "The TMK+PDQF and PDQ algorithms"
(ThreatExchange, 2019).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Final

import numpy as np
import numpy.typing as npt
from datasketch import MinHash
from PIL import Image

from guanghe.originality._pdq_kernels import luma, pdq_hash, pdq_hash_luma

CODE_BYTES: Final = 32
#: Below this PDQ quality a hash alone is no evidence (Meta's recommended floor).
MIN_QUALITY: Final = 50
#: Pictures are shrunk to this longest side before hashing (PDQ works on 64 x 64 anyway).
HASH_SIDE: Final = 256
GRID_SCALE: Final = 0.8 / 0.9
#: Rows cut out of ``uncaptioned`` (share of the height): a caption band across the middle.
CAPTION_BAND: Final = (0.4, 0.6)
MINHASH_PERMUTATIONS: Final = 128
SHINGLE_CHARS: Final = 3
#: Shingles whose one-shingle signatures are kept (512 bytes each: 32 MiB at most).
SHINGLE_CACHE: Final = 1 << 16
#: A border is trimmed while its rows (columns) stay within this of the edge colour.
_BORDER_TOLERANCE: Final = 6
#: … and ends where the next line differs from it by this much on average.
_BORDER_EDGE: Final = 24.0
_MAX_BORDER_SHARE: Final = 0.4
#: A border this dark (grey level) is a player's bars: see :func:`_border_depth`.
_DARK: Final = 32
_BORDER_SHARE: Final = 0.97
#: The edge may be softened (resampled, re-encoded) over this many lines.
_EDGE_LINES: Final = 3
#: Lines first checked for a border (then twice as many, and so on).
_BORDER_BLOCK: Final = 8

Codes = npt.NDArray[np.uint8]
#: An empty MinHash with the signatures' permutations, copied rather than drawn again.
_MINHASH_TEMPLATE: Final = MinHash(num_perm=MINHASH_PERMUTATIONS, seed=1)


@dataclass(frozen=True, slots=True)
class ImageFingerprint:
    """The hashes a published picture stores.

    Attributes
    ----------
    codes
        ``(len(INDEXED), 32)`` packed PDQ hashes, in :data:`INDEXED` order.
    quality
        PDQ quality of the whole picture, 0-100.
    """

    codes: Codes
    quality: int


@dataclass(frozen=True, slots=True)
class QueryCodes:
    """The hashes an upload is searched with: ``codes`` ``(k, 32)`` and the name of each one's
    region in :data:`REGIONS`."""

    codes: Codes
    regions: tuple[str, ...]
    quality: int


def _rgb_array(image: Image.Image) -> npt.NDArray[np.uint8]:
    if max(image.size) > HASH_SIDE:
        scale = HASH_SIDE / max(image.size)
        size = (max(1, round(image.width * scale)), max(1, round(image.height * scale)))
        image = image.resize(size, Image.Resampling.BILINEAR)
    return np.asarray(image.convert("RGB"), dtype=np.uint8)


def _pdq(image: Image.Image) -> tuple[Codes, int]:
    return pdq_hash(_rgb_array(image))


def _hash_regions(image: Image.Image, regions: tuple[Region, ...]) -> list[tuple[Codes, int]]:
    """The PDQ hash and quality of each of ``regions`` of ``image``.

    An RGB picture that needs no shrinking (its windows need none either) has its luma
    computed once and each window hashed from a view of it; the luma is per pixel, so this is
    the hash of the cropped, mirrored or cut picture to the bit. A turned window, a larger
    picture (each window is shrunk by Pillow after it is cut) and other modes (a palette
    picture's windows are cut before the palette is applied) go through Pillow."""
    if image.mode != "RGB" or max(image.size) > HASH_SIDE:
        return [_pdq(region.of(image)) for region in regions]
    picture_luma = luma(np.asarray(image, dtype=np.uint8))
    return [
        _pdq(region.of(image)) if region.angle else pdq_hash_luma(region.window(picture_luma))
        for region in regions
    ]


def _border_depth(lines: npt.NDArray[np.int16], limit: int) -> int:
    """How many leading ``lines`` (rows of a grey picture) form a uniform border: all within
    the tolerance of the first line's colour, and followed by a clear edge.

    A dark border (a player's black bars, at most :data:`_DARK` grey) may be crossed by a thin
    progress bar or a logo and its edge softened by the recording: there, nearly every pixel of
    a line (:data:`_BORDER_SHARE`) is enough, and the edge may come within :data:`_EDGE_LINES`
    lines."""
    colour = _median(lines[0])
    dark = colour <= _DARK
    depth, block = 0, _BORDER_BLOCK
    while depth < limit:  # a block of lines at a time: most pictures have no border
        stop = min(limit, depth + block)
        close = np.abs(lines[depth:stop] - colour) <= _BORDER_TOLERANCE
        border = close.mean(axis=1) >= _BORDER_SHARE if dark else close.all(axis=1)
        ended = np.flatnonzero(~border)
        if ended.size:
            depth += int(ended[0])
            break
        depth, block = stop, 2 * block
    if depth == 0 or depth >= limit:
        return 0
    ahead = lines[depth : depth + (_EDGE_LINES if dark else 1)].astype(np.float32)
    step = float(np.abs(ahead - colour).mean(axis=1).max())
    return depth if step > _BORDER_EDGE else 0


def _median(line: npt.NDArray[np.int16]) -> int:
    """``int(np.median(line))``, without ``np.median``'s overhead (a line is short)."""
    ordered = np.sort(line)
    half = ordered.shape[0] // 2
    if ordered.shape[0] % 2:
        return int(ordered[half])
    return int((int(ordered[half - 1]) + int(ordered[half])) / 2)


def trim_border(image: Image.Image) -> Image.Image:
    """``image`` without a uniform border (letterbox, pillarbox or a frame of one colour).

    A side is trimmed only where a band of one colour ends in a clear edge, so a smooth
    gradient is never mistaken for a border.
    """
    gray = np.asarray(image.convert("L"), dtype=np.int16)
    height, width = gray.shape
    rows, cols = int(height * _MAX_BORDER_SHARE), int(width * _MAX_BORDER_SHARE)
    top = _border_depth(gray, rows)
    bottom = height - _border_depth(gray[::-1], rows)
    left = _border_depth(gray[top:bottom].T, cols)
    right = width - _border_depth(gray[top:bottom, ::-1].T, cols)
    if (top, bottom, left, right) == (0, height, 0, width):
        return image
    return image.crop((left, top, right, bottom))


@dataclass(frozen=True, slots=True)
class Region:
    """A window of a picture: ``scale_x`` by ``scale_y`` of its size at relative offset
    ``(fx, fy)`` (0: left/top edge, 1: right/bottom edge), optionally mirrored."""

    name: str
    scale_x: float
    scale_y: float
    fx: float
    fy: float
    mirrored: bool = False
    #: Degrees the picture is turned (counter-clockwise) before the window is taken.
    angle: float = 0.0
    #: Rows cut out of the window (from, to: shares of its height), the rest joined.
    cut: tuple[float, float] | None = None

    def _box(self, width: int, height: int) -> tuple[int, int, int, int]:
        """``(x, y, w, h)`` of the window in a (mirrored) picture of this size."""
        w, h = max(1, round(width * self.scale_x)), max(1, round(height * self.scale_y))
        return round((width - w) * self.fx), round((height - h) * self.fy), w, h

    def _cut_rows(self, h: int) -> tuple[int, int]:
        assert self.cut is not None
        return round(h * self.cut[0]), round(h * self.cut[1])

    def of(self, image: Image.Image) -> Image.Image:
        """This window of ``image``."""
        if self.mirrored:
            image = image.transpose(Image.Transpose.FLIP_LEFT_RIGHT)
        if self.angle:
            image = image.rotate(self.angle, resample=Image.Resampling.BICUBIC)
        x, y, w, h = self._box(*image.size)
        window = image.crop((x, y, x + w, y + h))
        if self.cut is None:
            return window
        start, end = self._cut_rows(h)
        joined = Image.new(window.mode, (w, max(1, h - (end - start))))
        joined.paste(window.crop((0, 0, w, start)), (0, 0))
        joined.paste(window.crop((0, end, w, h)), (0, start))
        return joined

    def window(self, plane: npt.NDArray[np.float32]) -> npt.NDArray[np.float32]:
        """This window of a picture's per-pixel ``plane`` ``(H, W)`` (a view where it can be):
        the same pixels as :meth:`of` takes, for a window that is not turned."""
        assert not self.angle, "a turned window resamples the picture: use of()"
        if self.mirrored:
            plane = plane[:, ::-1]
        height, width = plane.shape
        x, y, w, h = self._box(width, height)
        window = plane[y : y + h, x : x + w]
        if self.cut is None:
            return window
        start, end = self._cut_rows(h)
        if h - (end - start) <= 0:
            # Pillow's joined picture keeps one row of its black background.
            return np.zeros((1, w), dtype=plane.dtype)
        return np.concatenate([window[:start], window[end:]])


#: What a published picture stores, in this order (the first four from the start, the others
#: since issue 22: pictures stored before have only the first four).
INDEXED: Final = (
    Region("full", 1.0, 1.0, 0.5, 0.5),
    Region("inner", 0.8, 0.8, 0.5, 0.5),
    Region("upper", 1.0, 0.6, 0.5, 0.0),
    Region("lower", 1.0, 0.6, 0.5, 1.0),
    Region("uncaptioned", 1.0, 1.0, 0.5, 0.5, cut=CAPTION_BAND),
)
INDEXED_REGIONS: Final = tuple(r.name for r in INDEXED)
#: What an upload is searched with beyond :data:`INDEXED`.
MIRROR: Final = Region("mirror", 1.0, 1.0, 0.5, 0.5, mirrored=True)
GRID: Final = tuple(
    Region(f"grid-{'mirror-' if mirrored else ''}{i}{j}", GRID_SCALE, GRID_SCALE, fx, fy, mirrored)
    for mirrored in (False, True)
    for j, fy in enumerate((0.0, 0.5, 1.0))
    for i, fx in enumerate((0.0, 0.5, 1.0))
)
#: The centre of the upload turned back by :data:`TURN_DEGREES` either way: a copy turned by
#: 2 to 4 degrees (and zoomed to hide the corners, or not) lines up with the stored centre.
TURN_DEGREES: Final = 3.0
TURNED: Final = tuple(
    Region(f"turned{sign}", 0.8, 0.8, 0.5, 0.5, angle=sign * TURN_DEGREES) for sign in (-1, 1)
)
#: Query windows searched by exact key matches (they line up closely or not at all).
ALIGNED: Final = frozenset(r.name for r in GRID)
REGIONS: Final = {r.name: r for r in (*INDEXED, MIRROR, *TURNED, *GRID)}


def fingerprint_image(image: Image.Image, *, trimmed: bool = False) -> ImageFingerprint:
    """The stored hashes of a picture: one per :data:`INDEXED` region (of ``image`` as it is
    when ``trimmed`` says its border is already removed by :func:`trim_border`)."""
    hashed = _hash_regions(image if trimmed else trim_border(image), INDEXED)
    return ImageFingerprint(np.stack([code for code, _ in hashed]), hashed[0][1])


def query_codes(image: Image.Image, *, with_grid: bool = True) -> QueryCodes:
    """The hashes to search for a picture: its :data:`INDEXED` regions, its mirror image, its
    centre turned either way (:data:`TURNED`) and (when ``with_grid``) the :data:`GRID` of 8/9
    crops of it and of its mirror image."""
    extra = (MIRROR, *TURNED, *GRID) if with_grid else (MIRROR, *TURNED)
    hashed = _hash_regions(trim_border(image), (*INDEXED, *extra))
    regions = (*INDEXED_REGIONS, *(r.name for r in extra))
    return QueryCodes(np.stack([code for code, _ in hashed]), regions, hashed[0][1])


def hamming(a: Codes, b: Codes) -> int:
    """Bits that differ between two packed 256-bit hashes."""
    return int(np.unpackbits(np.bitwise_xor(a, b)).sum())


_WORD: Final = re.compile(r"[#@]?\w+", re.UNICODE)


def text_shingles(text: str) -> set[str]:
    """Character 3-grams of the lower-cased words of ``text`` (works for CJK without a
    tokenizer); empty for text shorter than one shingle."""
    normalised = " ".join(_WORD.findall(text.lower()))
    return {normalised[i : i + SHINGLE_CHARS] for i in range(len(normalised) - SHINGLE_CHARS + 1)}


def text_signature(text: str) -> npt.NDArray[np.uint32] | None:
    """MinHash signature ``(MINHASH_PERMUTATIONS,)`` of ``text``'s shingles (None if none).

    A MinHash is the element-wise minimum of its shingles' permuted hashes, so it is computed
    as the minimum of each shingle's own signature (the ``datasketch`` MinHash of that one
    shingle, kept in a bounded cache: texts share most of their shingles), which is the
    signature ``datasketch`` gives the whole set, to the bit."""
    shingles = text_shingles(text)
    if not shingles:
        return None
    signature: npt.NDArray[np.uint32] = np.minimum.reduce([_shingle_signature(s) for s in shingles])
    return signature


@lru_cache(maxsize=SHINGLE_CACHE)
def _shingle_signature(shingle: str) -> npt.NDArray[np.uint32]:
    """The MinHash signature of the one-shingle set ``{shingle}`` (read-only)."""
    minhash = _MINHASH_TEMPLATE.copy()
    minhash.update_batch([shingle.encode("utf-8")])
    signature = np.asarray(minhash.hashvalues, dtype=np.uint32)
    signature.flags.writeable = False
    return signature


def text_similarity(a: npt.NDArray[np.uint32], b: npt.NDArray[np.uint32]) -> float:
    """Estimated Jaccard similarity of the shingle sets behind two signatures."""
    return float(np.mean(a == b))

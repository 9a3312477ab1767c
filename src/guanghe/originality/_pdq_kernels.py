"""PDQ hashing of one RGB picture in one Numba kernel, bit for bit Meta's reference.

The steps and their arithmetic are those of ThreatExchange's C++ ``pdqHash256FromFloatLuma``
as the ``pdqhash`` binding calls it: luma in float64 rounded to float32 (the binding's NumPy
expression), two passes of Jarosz box filters as float32 running sums, decimation to 64 x 64
(skipped for a 64 x 64 input), the image-domain quality metric, the 16 x 16 corner of the DCT
as float32 dot products summed in index order, and one bit per coefficient above the median
(the 128th smallest, as Torben's selection returns it). Every float32 operation is done in the
same order as there, without fused multiply-adds (Numba does not contract without
``fastmath``), so the codes are identical; ``tests/originality/test_pdq.py`` checks that
against ``pdqhash`` on pictures of every shape class. What this saves is the binding's
per-call work: a float64 luma picture, a second buffer and the Python list of 256 bits.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit
from numpy.typing import NDArray

#: Pictures with a side under this get the all-zero hash and quality 0, as in the reference.
MIN_HASHABLE_SIDE = 5
_JAROSZ_PASSES = 2


def _dct_matrix() -> NDArray[np.float32]:
    """Rows 1-16 of the 64-point DCT-II matrix, as the reference computes them (double
    precision, the scale factor a float, each entry rounded to float32)."""
    scale = float(np.float32(math.sqrt(2.0 / 64.0)))
    matrix = np.empty((16, 64), dtype=np.float32)
    for i in range(16):
        for j in range(64):
            matrix[i, j] = scale * math.cos((math.pi / 2.0 / 64.0) * (i + 1) * (2 * j + 1))
    return matrix


_DCT = _dct_matrix()


#: Each channel's float64 term of the luma, by channel value (the same products the binding
#: takes, looked up instead of computed).
_LUMA_TERMS = np.arange(256, dtype=np.float64)[None, :] * np.array([[0.299], [0.587], [0.114]])


@njit(cache=True, error_model="numpy")
def _luma(rgb: NDArray[np.uint8], terms: NDArray[np.float64]) -> NDArray[np.float32]:
    rows, cols = rgb.shape[0], rgb.shape[1]
    out = np.empty((rows, cols), dtype=np.float32)
    for i in range(rows):
        for j in range(cols):
            out[i, j] = np.float32(
                terms[0, rgb[i, j, 0]] + terms[1, rgb[i, j, 1]] + terms[2, rgb[i, j, 2]]
            )
    return out


def luma(rgb: NDArray[np.uint8]) -> NDArray[np.float32]:
    """The float32 luma of an ``(H, W, 3)`` RGB picture, rounded from float64 as the
    ``pdqhash`` binding computes it. A window of a picture's luma is the luma of that window."""
    return _luma(np.ascontiguousarray(rgb), _LUMA_TERMS)


@njit(cache=True, error_model="numpy")
def _box_along_cols(src: NDArray[np.float32], dst: NDArray[np.float32], window: int) -> None:
    """The reference's ``box1DFloat`` down every column: a running float32 sum, its window
    growing from half size at the start and shrinking at the end. The columns' sums advance
    together a row at a time (so the inner loop is vectorised), each column's operations in
    the reference's order."""
    rows, cols = src.shape
    half = (window + 2) // 2
    total = np.zeros(cols, dtype=np.float32)
    size = 0
    right = 0
    left = 0
    out = 0
    for _ in range(half - 1):
        for j in range(cols):
            total[j] += src[right, j]
        size += 1
        right += 1
    for _ in range(window - half + 1):
        size += 1
        divisor = np.float32(size)
        for j in range(cols):
            total[j] += src[right, j]
            dst[out, j] = total[j] / divisor
        right += 1
        out += 1
    for _ in range(rows - window):
        divisor = np.float32(size)
        for j in range(cols):
            total[j] += src[right, j]
            total[j] -= src[left, j]
            dst[out, j] = total[j] / divisor
        left += 1
        right += 1
        out += 1
    for _ in range(half - 1):
        size -= 1
        divisor = np.float32(size)
        for j in range(cols):
            total[j] -= src[left, j]
            dst[out, j] = total[j] / divisor
        left += 1
        out += 1


@njit(cache=True, error_model="numpy")
def _downsample(luma: NDArray[np.float32]) -> NDArray[np.float32]:
    """The 64 x 64 decimation of ``luma`` after the Jarosz filter (``luma`` is not changed)."""
    rows, cols = luma.shape
    if rows == 64 and cols == 64:
        return np.ascontiguousarray(luma)
    along_rows = (cols + 128 - 1) // 128
    along_cols = (rows + 128 - 1) // 128
    source_rows = np.empty(64, dtype=np.int64)
    source_cols = np.empty(64, dtype=np.int64)
    for i in range(64):
        source_rows[i] = int(((i + 0.5) * rows) / 64)
        source_cols[i] = int(((i + 0.5) * cols) / 64)
    blurred = luma
    for rep in range(_JAROSZ_PASSES):
        # Along the rows: down the columns of the transposed picture.
        transposed = np.ascontiguousarray(blurred.T)
        filtered = np.empty_like(transposed)
        _box_along_cols(transposed, filtered, along_rows)
        if rep == _JAROSZ_PASSES - 1:
            # The last pass down the columns, only for the 64 columns decimation keeps (each
            # column's sums are its own).
            upright = np.empty((rows, 64), dtype=np.float32)
            for j in range(64):
                upright[:, j] = filtered[source_cols[j]]
        else:
            upright = np.ascontiguousarray(filtered.T)
        blurred = np.empty_like(upright)
        _box_along_cols(upright, blurred, along_cols)
    small = np.empty((64, 64), dtype=np.float32)
    for i in range(64):
        small[i] = blurred[source_rows[i]]
    return small


@njit(cache=True, error_model="numpy")
def _quality(small: NDArray[np.float32]) -> int:
    hundred, scale = np.float32(100.0), np.float32(255.0)
    gradients = 0
    for i in range(63):
        for j in range(64):
            gradients += abs(int((small[i, j] - small[i + 1, j]) * hundred / scale))
    for i in range(64):
        for j in range(63):
            gradients += abs(int((small[i, j] - small[i, j + 1]) * hundred / scale))
    return min(gradients // 90, 100)


@njit(cache=True, error_model="numpy")
def _dct16(small: NDArray[np.float32], dct: NDArray[np.float32]) -> NDArray[np.float32]:
    """``D A D^T`` for the 16 x 64 matrix ``D``: each entry a float32 sum from 0 over ``k`` in
    index order, as the reference's; the loops run over ``k`` outside so that a row of sums
    advances together."""
    partial = np.zeros((16, 64), dtype=np.float32)
    for i in range(16):
        for k in range(64):
            weight = dct[i, k]
            for j in range(64):
                partial[i, j] += weight * small[k, j]
    dct_t = np.ascontiguousarray(dct.T)
    corner = np.zeros((16, 16), dtype=np.float32)
    for i in range(16):
        for k in range(64):
            value = partial[i, k]
            for j in range(16):
                corner[i, j] += value * dct_t[k, j]
    return corner


@njit(cache=True, error_model="numpy")
def _pdq(luma: NDArray[np.float32], dct: NDArray[np.float32], code: NDArray[np.uint8]) -> int:
    """Write the packed hash of the picture whose luma is ``luma`` into ``code`` (32 bytes,
    ``pdqhash``'s bit order: the last coefficient first); returns its quality."""
    code[:] = 0
    rows, cols = luma.shape
    if rows < MIN_HASHABLE_SIDE or cols < MIN_HASHABLE_SIDE:
        return 0
    small = _downsample(luma)
    quality = _quality(small)
    flat = _dct16(small, dct).ravel()
    median = np.sort(flat)[127]
    for bit in range(256):
        if flat[255 - bit] > median:
            code[bit >> 3] |= np.uint8(1 << (7 - (bit & 7)))
    return quality


def pdq_hash(rgb: NDArray[np.uint8]) -> tuple[NDArray[np.uint8], int]:
    """The packed 256-bit PDQ hash (32 bytes) of an ``(H, W, 3)`` RGB picture and its quality
    0-100: ``np.packbits`` of ``pdqhash.compute``'s bits, to the bit."""
    return pdq_hash_luma(luma(rgb))


def pdq_hash_luma(window: NDArray[np.float32]) -> tuple[NDArray[np.uint8], int]:
    """:func:`pdq_hash` of the picture whose :func:`luma` is ``window`` (``(H, W)``, any
    strides: a window or mirror image of a larger picture's luma)."""
    code = np.empty(32, dtype=np.uint8)
    quality = _pdq(window, _DCT, code)
    return code, int(quality)


@njit(cache=True, error_model="numpy")
def _coefficient_bits(flat: NDArray[np.float32], code: NDArray[np.uint8]) -> None:
    """One bit per coefficient of ``flat`` (256) above their median, packed as in :func:`_pdq`."""
    code[:] = 0
    median = np.sort(flat)[127]
    for bit in range(256):
        if flat[255 - bit] > median:
            code[bit >> 3] |= np.uint8(1 << (7 - (bit & 7)))


@njit(cache=True, error_model="numpy")
def _pdq_and_mirror(
    luma: NDArray[np.float32],
    dct: NDArray[np.float32],
    code: NDArray[np.uint8],
    mirror: NDArray[np.uint8],
) -> int:
    """:func:`_pdq` into ``code``, and into ``mirror`` the hash of the left-right mirror image
    as the reference's dihedral hashing derives it: the same coefficients with the sign of the
    odd horizontal frequencies (even column indices of the 16 x 16 corner) flipped."""
    code[:] = 0
    mirror[:] = 0
    rows, cols = luma.shape
    if rows < MIN_HASHABLE_SIDE or cols < MIN_HASHABLE_SIDE:
        return 0
    small = _downsample(luma)
    quality = _quality(small)
    corner = _dct16(small, dct)
    _coefficient_bits(corner.ravel(), code)
    for i in range(16):
        for j in range(0, 16, 2):
            corner[i, j] = -corner[i, j]
    _coefficient_bits(corner.ravel(), mirror)
    return quality


def pdq_hash_and_mirror(
    rgb: NDArray[np.uint8],
) -> tuple[NDArray[np.uint8], NDArray[np.uint8], int]:
    """The packed PDQ hash of an ``(H, W, 3)`` RGB picture, that of its left-right mirror image
    and the quality: ``np.packbits`` of ``pdqhash.compute_dihedral``'s hashes 0 and 5 and its
    quality (to the bit on the tests' arrays; a mirror bit on a near-tie of its median can
    differ, as the two reach the flipped coefficients by different float operations)."""
    code = np.empty(32, dtype=np.uint8)
    mirror = np.empty(32, dtype=np.uint8)
    quality = _pdq_and_mirror(luma(rgb), _DCT, code, mirror)
    return code, mirror, int(quality)

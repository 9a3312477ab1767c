"""The video fingerprint's one-DCT mirror hashes and its shared window hashing give the same
codes as the pipeline before them (``pdqhash.compute`` for stored frames,
``pdqhash.compute_dihedral`` for the query, each window hashed apart): stored codes bit for
bit, query codes but for near-tie bits of the reference's own dihedral (see the test)."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
import pdqhash
import pytest

from guanghe.originality._pdq_kernels import pdq_hash_and_mirror
from guanghe.originality.fingerprint import MIN_QUALITY
from guanghe.originality.media import fingerprint_media
from guanghe.originality.video import (
    REPEAT_DISTANCE,
    DecodedVideo,
    _hash_input,
    _windows,
    content_box,
    decode_video,
    fingerprint_video,
    index_interval,
    query_video,
)
from guanghe.sim import videos
from tests.originality.test_pdq import arrays

Codes = npt.NDArray[np.uint8]
#: ``pdqhash.compute_dihedral``'s list of eight: the original and the left-right mirror.
ORIGINAL, MIRROR = 0, 5


def reference_dihedral(rgb: npt.NDArray[np.uint8]) -> tuple[Codes, Codes, int]:
    hashes, quality = pdqhash.compute_dihedral(np.ascontiguousarray(rgb))
    original = np.packbits(np.asarray(hashes[ORIGINAL]).astype(np.uint8))
    mirror = np.packbits(np.asarray(hashes[MIRROR]).astype(np.uint8))
    return original, mirror, int(quality)


def reference_stored(video: DecodedVideo) -> tuple[Codes, list[float], list[int]]:
    """The stored codes as computed before: a full window hashed by ``pdqhash.compute``,
    its square only for kept frames."""
    every = index_interval(video.duration_s)
    codes: list[Codes] = []
    times: list[float] = []
    windows: list[int] = []
    next_t = 0.0
    previous: Codes | None = None
    box = content_box(video.frames)
    for t, picture in video.frames:
        if t + 1e-6 < next_t:
            continue
        next_t = t + every
        full, square = _windows(picture, box)
        bits, full_quality = pdqhash.compute(_hash_input(full))
        full_code = np.packbits(bits.astype(np.uint8))
        if full_quality < MIN_QUALITY:
            continue
        distance = int(np.unpackbits(previous ^ full_code).sum()) if previous is not None else 99
        if distance <= REPEAT_DISTANCE:
            continue
        previous = full_code
        bits, square_quality = pdqhash.compute(_hash_input(square))
        for window, code, quality in (
            (0, full_code, full_quality),
            (1, np.packbits(bits.astype(np.uint8)), square_quality),
        ):
            if quality >= MIN_QUALITY:
                codes.append(code)
                times.append(t)
                windows.append(window)
    return np.stack(codes), times, windows


def reference_query(video: DecodedVideo) -> tuple[Codes, list[float], list[bool]]:
    codes: list[Codes] = []
    times: list[float] = []
    mirrored: list[bool] = []
    box = content_box(video.frames)
    for t, picture in video.frames:
        for part in _windows(picture, box):
            original, mirror, quality = reference_dihedral(_hash_input(part))
            if quality >= MIN_QUALITY:
                codes.extend((original, mirror))
                times.extend((t, t))
                mirrored.extend((False, True))
    return np.stack(codes), times, mirrored


@pytest.mark.parametrize("seed", range(4))
def test_hash_and_mirror_equal_pdqhash_dihedral(seed: int) -> None:
    for rgb in arrays(seed):
        code, mirror, quality = pdq_hash_and_mirror(rgb)
        expected_code, expected_mirror, expected_quality = reference_dihedral(rgb)
        assert quality == expected_quality, rgb.shape
        assert code.tobytes() == expected_code.tobytes(), rgb.shape
        assert mirror.tobytes() == expected_mirror.tobytes(), rgb.shape


def edited_videos() -> list[bytes]:
    """A plain scene, its edits (bands found by :func:`content_box`: letterbox, screen
    recording; mirrored, cropped, shrunk) and a landscape scene at another size."""
    source = videos.scene_video(7, seconds=3.0)
    edits: tuple[videos.Edit, ...] = (
        "letterbox",
        "screen-recording",
        "mirror",
        "crop-aspect",
        "low-bitrate",
        "trim",
    )
    return [
        source,
        *(videos.edit_video(source, edit, seed=3) for edit in edits),
        videos.scene_video(8, seconds=2.0, size=(96, 160)),
    ]


def test_video_fingerprints_equal_the_previous_pipeline() -> None:
    checked, near_ties = 0, 0
    for data in edited_videos():
        decoded = decode_video(data)
        media = fingerprint_media(decoded)
        alone = fingerprint_video(decoded), query_video(decoded)
        codes, times, windows = reference_stored(decoded)
        for stored in (media.video, alone[0]):
            assert stored.codes.tobytes() == codes.tobytes()
            assert stored.times.tolist() == times
            assert stored.windows.tolist() == windows
        codes, times, mirrored = reference_query(decoded)
        for query in (media.query, alone[1]):
            assert query.times.tolist() == times
            assert query.mirrored.tolist() == mirrored
            # A query code is thresholded at the median of its DCT (sign-flipped for the
            # mirror); ``pdqhash.compute_dihedral`` reaches those coefficients by other float
            # operations than ``pdqhash.compute`` (whose codes the stored ones equal bit for
            # bit), so a coefficient within rounding of the median can land on the other side
            # (seen once an edited copy's frames came out of the encoder byte-stable: 1 bit, and
            # 2 bits of a mirror code, of some 1,000 codes). Far below any match distance.
            differing = np.unpackbits(query.codes ^ codes, axis=1).sum(axis=1)
            assert differing.max() <= 4
            near_ties += int((differing > 0).sum())
        checked += codes.shape[0]
    assert checked > 500
    assert near_ties <= checked // 50

"""Decoding an uploaded video (PyAV) and fingerprinting its pictures over time.

A video is checked from its header against :data:`MAX_VIDEO_BYTES`, :data:`MAX_VIDEO_SECONDS`
and :data:`MAX_VIDEO_PIXELS` before anything is decoded, and decoding stops with
:class:`~guanghe.errors.TooLarge` if the stream runs past what the header said. Frames are
sampled every :func:`sample_interval` seconds (shrunk to :data:`HASH_SIDE` on their longest
side by the decoder), and the sound is resampled to mono :data:`AUDIO_RATE` Hz for
:mod:`guanghe.originality.audio`.

Each sampled frame, after removing what stays still around the picture over the whole video
(letterbox bars, the desktop and toolbars of a screen recording: :func:`content_box`) and then
any uniform border (:func:`~guanghe.originality.fingerprint.trim_border` applied until nothing
changes), is PDQ-hashed twice, each window resized to :data:`PDQ_SIDE` square first: the whole
picture (``full``) and its centred square (``square``). A copy cropped to another aspect ratio
(16:9 to 4:3 or 1:1, 9:16 to 1:1) keeps the original's centred square, which is also the
centred square of the copy. The stored fingerprint (:class:`VideoFingerprint`) keeps one frame
every :func:`index_interval` seconds (about :data:`INDEXED_FRAMES` per video, frames with too
little detail left out, a frame that repeats the previous kept one skipped); the query
(:class:`VideoQuery`) keeps every sampled frame and adds the mirror image of both windows
(PDQ's dihedral transform, at no extra cost), so a mirrored copy matches. The query is denser
than the index so that a copy played at another speed still has a frame near each stored one:
temporal alignment is done by :mod:`guanghe.originality.segments`.

This is the scheme of Meta's vPDQ (PDQ per sampled frame, with timestamps, matched frame by
frame) with windows and a mirror added for the edits re-uploaders make.
"""

from __future__ import annotations

import io
from collections.abc import Callable
from dataclasses import dataclass
from typing import Final

import av
import numpy as np
import numpy.typing as npt
from PIL import Image

from guanghe.errors import InvalidInput, TooLarge
from guanghe.originality._pdq_kernels import pdq_hash_and_mirror
from guanghe.originality.fingerprint import MIN_QUALITY, trim_border

MAX_VIDEO_BYTES: Final = 200 * 1024 * 1024
#: Longer videos are refused (the index keeps about :data:`INDEXED_FRAMES` frames of each).
MAX_VIDEO_SECONDS: Final = 600
#: Frames larger than 4K UHD are refused.
MAX_VIDEO_PIXELS: Final = 3840 * 2160
MIN_VIDEO_SIDE: Final = 32
#: Frames are decoded at most this large on their longest side (PDQ works on 64 x 64).
HASH_SIDE: Final = 256
#: Every window is resized to this square before PDQ (its own working size): see
#: :func:`_hash_input`.
PDQ_SIDE: Final = 64
#: Sound is decoded as mono 16-bit samples at this rate (Chromaprint's own working rate).
AUDIO_RATE: Final = 11_025
#: Frames a stored fingerprint keeps for a video of :data:`MAX_VIDEO_SECONDS` / 6 or longer.
INDEXED_FRAMES: Final = 100
#: Densest sampling of an upload, and most frames sampled from one.
MIN_SAMPLE_S: Final = 0.125
MAX_SAMPLED_FRAMES: Final = 1_200
#: Sparsest a stored fingerprint gets for short videos.
MIN_INDEX_S: Final = 0.5
#: A frame within this many bits of the previous kept frame adds nothing to the index.
REPEAT_DISTANCE: Final = 8
_TRIM_PASSES: Final = 3
#: Grey-level spread (over time, and along a line) under which an edge line is a plain band;
#: :func:`content_box` needs this many frames, and a box smaller than this share of the frame
#: is not trusted.
_STILL: Final = 8.0
_GAP: Final = 2
_MIN_BOX_FRAMES: Final = 8
_MIN_BOX_SHARE: Final = 0.2
#: Stored windows, in tag order (``tag = decisecond * len(WINDOWS) + window``).
WINDOWS: Final = ("full", "square")

Codes = npt.NDArray[np.uint8]
#: A window's PDQ code, the code of its mirror image and its quality.
WindowHash = tuple[Codes, Codes, int]


@dataclass(frozen=True, slots=True)
class DecodedVideo:
    """Sampled frames ``(seconds, RGB picture)`` in time order, the sound as mono int16 at
    :data:`AUDIO_RATE` (empty without a sound track) and the video's size and length."""

    frames: list[tuple[float, Image.Image]]
    audio: npt.NDArray[np.int16]
    duration_s: float
    width: int
    height: int
    interval_s: float


@dataclass(frozen=True, slots=True)
class VideoFingerprint:
    """What a published video stores: ``codes`` ``(k, 32)`` with the ``times`` ``(k,)`` (in
    seconds) of their frames and the window (index into :data:`WINDOWS`) of each."""

    codes: Codes
    times: npt.NDArray[np.float64]
    windows: npt.NDArray[np.int16]
    duration_s: float
    interval_s: float

    @property
    def tags(self) -> npt.NDArray[np.int16]:
        """Index tags: the frame's time in deciseconds and the window."""
        deciseconds = np.rint(self.times * 10).astype(np.int64)
        return (deciseconds * len(WINDOWS) + self.windows).astype(np.int16)


@dataclass(frozen=True, slots=True)
class VideoQuery:
    """What an upload is searched with: ``codes`` ``(k, 32)``, each frame's ``times`` and
    ``windows`` (index into :data:`WINDOWS`) and whether the code is of the mirror image."""

    codes: Codes
    times: npt.NDArray[np.float64]
    windows: npt.NDArray[np.int16]
    mirrored: npt.NDArray[np.bool_]
    duration_s: float
    interval_s: float


def time_of_tag(tag: int) -> tuple[float, int]:
    """The frame time (seconds) and window of an index tag."""
    deciseconds, window = divmod(int(tag), len(WINDOWS))
    return deciseconds / 10, window


def sample_interval(duration_s: float) -> float:
    """Seconds between sampled frames of an upload of ``duration_s``."""
    return max(MIN_SAMPLE_S, duration_s / MAX_SAMPLED_FRAMES)


def index_interval(duration_s: float) -> float:
    """Seconds between the frames a stored fingerprint keeps (a multiple of the sampling)."""
    step = sample_interval(duration_s)
    wanted = max(MIN_INDEX_S, duration_s / INDEXED_FRAMES)
    return step * max(1, round(wanted / step))


def check_video_header(data: bytes, field: str) -> tuple[int, int, float]:
    """Width, height and duration of the video in ``data`` from its header;
    :class:`TooLarge` over a limit, :class:`InvalidInput` if it is no readable video."""
    if not data:
        raise InvalidInput(f"{field}: the file is empty")
    if len(data) > MAX_VIDEO_BYTES:
        raise TooLarge(f"{field}: the video has {len(data):,} bytes; at most {MAX_VIDEO_BYTES:,}")
    try:
        with av.open(io.BytesIO(data), mode="r") as container:
            if not container.streams.video:
                raise InvalidInput(f"{field}: the file has no video stream")
            stream = container.streams.video[0]
            width, height = int(stream.width or 0), int(stream.height or 0)
            duration = container.duration / av.time_base if container.duration else 0.0
    except InvalidInput:
        raise
    except (av.FFmpegError, OSError, ValueError, UnicodeDecodeError) as exc:
        raise InvalidInput(f"{field}: not a video Guanghe can read ({exc})") from exc
    _check_size(width, height, duration, field)
    return width, height, duration


def _check_size(width: int, height: int, duration: float, field: str) -> None:
    if width * height > MAX_VIDEO_PIXELS:
        raise TooLarge(
            f"{field}: the video is {width} x {height}; at most {MAX_VIDEO_PIXELS:,} pixels a frame"
        )
    if min(width, height) < MIN_VIDEO_SIDE:
        raise InvalidInput(
            f"{field}: the video is {width} x {height}; at least {MIN_VIDEO_SIDE} px"
        )
    if duration > MAX_VIDEO_SECONDS:
        raise TooLarge(f"{field}: the video lasts {duration:,.0f} s; at most {MAX_VIDEO_SECONDS} s")


def decode_video(data: bytes, field: str = "video") -> DecodedVideo:
    """Sampled frames and sound of the video in ``data`` (see the module docstring)."""
    width, height, duration = check_video_header(data, field)
    interval = sample_interval(duration)
    scale = min(1.0, HASH_SIDE / max(width, height))
    size = (max(2, round(width * scale)), max(2, round(height * scale)))
    frames: list[tuple[float, Image.Image]] = []
    chunks: list[npt.NDArray[np.int16]] = []
    try:
        with av.open(io.BytesIO(data), mode="r") as container:
            streams: list[av.VideoStream | av.AudioStream] = [container.streams.video[0]]
            if container.streams.audio:
                streams.append(container.streams.audio[0])
            resampler = av.AudioResampler(format="s16", layout="mono", rate=AUDIO_RATE)
            start: float | None = None
            next_t = 0.0
            for frame in container.decode(*streams):
                if isinstance(frame, av.AudioFrame):
                    for chunk in resampler.resample(frame):
                        chunks.append(chunk.to_ndarray().reshape(-1).astype(np.int16))
                    continue
                if not isinstance(frame, av.VideoFrame) or frame.time is None:
                    continue
                start = frame.time if start is None else start
                t = frame.time - start
                if t > MAX_VIDEO_SECONDS:
                    raise TooLarge(f"{field}: the video runs past {MAX_VIDEO_SECONDS} s")
                if t + 1e-6 < next_t:
                    continue
                small = frame.reformat(width=size[0], height=size[1], format="rgb24")
                frames.append((t, small.to_image()))  # type: ignore[no-untyped-call]
                next_t = t + interval
            for chunk in resampler.resample(None):
                chunks.append(chunk.to_ndarray().reshape(-1).astype(np.int16))
    except (InvalidInput, TooLarge):
        raise
    except (av.FFmpegError, OSError, ValueError) as exc:
        raise InvalidInput(f"{field}: the video is damaged or truncated ({exc})") from exc
    if not frames:
        raise InvalidInput(f"{field}: the video has no frames")
    audio = np.concatenate(chunks) if chunks else np.zeros(0, dtype=np.int16)
    length = max(duration, frames[-1][0] + interval, audio.size / AUDIO_RATE)
    return DecodedVideo(frames, audio, length, width, height, interval)


def _trimmed(picture: Image.Image) -> Image.Image:
    for _ in range(_TRIM_PASSES):
        trimmed = trim_border(picture)
        if trimmed.size == picture.size:
            break
        picture = trimmed
    return picture


def content_box(frames: list[tuple[float, Image.Image]]) -> tuple[int, int, int, int] | None:
    """The box ``(left, top, right, bottom)`` inside the still, plain bands at the edges of
    every sampled frame (letterbox bars, a screen recording's desktop and toolbars), or None
    when there are none or too few frames to tell.

    A row is such a band when its grey level varies over time (standard deviation) and along
    the row (in the mean frame) by less than :data:`_STILL`; the picture is the longest run of
    other rows, then the longest run of other columns within those rows."""
    if len(frames) < _MIN_BOX_FRAMES:
        return None
    gray = np.stack([np.asarray(p.convert("L"), dtype=np.float32) for _, p in frames])
    motion, mean = gray.std(axis=0), gray.mean(axis=0)
    height, width = mean.shape
    rows = _longest_run((motion.mean(axis=1) > _STILL) | (mean.std(axis=1) > _STILL))
    if rows is None:
        return None
    top, bottom = rows
    band_motion, band_mean = motion[top:bottom], mean[top:bottom]
    cols = _longest_run((band_motion.mean(axis=0) > _STILL) | (band_mean.std(axis=0) > _STILL))
    if cols is None:
        return None
    box = (cols[0], top, cols[1], bottom)
    area = (box[2] - box[0]) * (box[3] - box[1])
    if area == width * height or area < _MIN_BOX_SHARE * width * height:
        return None
    return box


def _longest_run(live: npt.NDArray[np.bool_]) -> tuple[int, int] | None:
    """``[start, end)`` of the longest run of live lines (gaps of up to :data:`_GAP` lines
    bridged); a lone live line in a band (a codec's ringing at its edge) is not the picture."""
    lines = np.flatnonzero(live)
    if lines.size == 0:
        return None
    breaks = np.flatnonzero(np.diff(lines) > _GAP + 1)
    starts = np.r_[0, breaks + 1]
    ends = np.r_[breaks, lines.size - 1]
    longest = int(np.argmax(lines[ends] - lines[starts]))
    return int(lines[starts[longest]]), int(lines[ends[longest]]) + 1


def _windows(
    picture: Image.Image, box: tuple[int, int, int, int] | None
) -> tuple[Image.Image, Image.Image]:
    trimmed = _trimmed(picture if box is None else picture.crop(box))
    side = min(trimmed.size)
    x, y = (trimmed.width - side) // 2, (trimmed.height - side) // 2
    return trimmed, trimmed.crop((x, y, x + side, y + side))


def _hash_input(picture: Image.Image) -> npt.NDArray[np.uint8]:
    """``picture`` resized to :data:`PDQ_SIDE` square, as RGB.

    PDQ's own Jarosz filter shrinks a picture to 64 x 64 well but stretches one with a side
    under 64 poorly: a copy re-encoded at a quarter of the pixels (80 x 44 for a 160 x 90
    original) hashed 40 bits from its original's frames (half of them past
    :data:`~guanghe.originality.media.VIDEO_RADIUS`), against about 27 once both go through
    the same resize first. Every window is therefore brought to one size by Pillow before
    hashing, so the hash no longer depends on the upload's resolution."""
    resized = picture.convert("RGB").resize((PDQ_SIDE, PDQ_SIDE), Image.Resampling.BILINEAR)
    return np.asarray(resized, dtype=np.uint8)


def _dihedral(picture: Image.Image) -> WindowHash:
    """PDQ of ``picture`` and of its mirror image, and the quality (one DCT for both)."""
    return pdq_hash_and_mirror(_hash_input(picture))


def _distance(a: Codes, b: Codes) -> int:
    return int(np.unpackbits(np.bitwise_xor(a, b)).sum())


def _frame_hashes(
    video: DecodedVideo, box: tuple[int, int, int, int] | None, index: int
) -> tuple[WindowHash, WindowHash]:
    """The :func:`_dihedral` of both windows (:data:`WINDOWS`) of sampled frame ``index``."""
    full, square = _windows(video.frames[index][1], box)
    return _dihedral(full), _dihedral(square)


def fingerprint_video(video: DecodedVideo) -> VideoFingerprint:
    """The stored fingerprint of a decoded video (see the module docstring)."""
    box = content_box(video.frames)
    return _stored(video, lambda index: _frame_hashes(video, box, index))


def query_video(video: DecodedVideo) -> VideoQuery:
    """The codes an upload is searched with: every sampled frame's windows and their mirrors."""
    box = content_box(video.frames)
    return _query(video, [_frame_hashes(video, box, i) for i in range(len(video.frames))])


def fingerprint_and_query(video: DecodedVideo) -> tuple[VideoFingerprint, VideoQuery]:
    """:func:`fingerprint_video` and :func:`query_video` of ``video``, each frame's windows
    cut and hashed once for both (the stored codes are the query's unmirrored ones)."""
    box = content_box(video.frames)
    hashes = [_frame_hashes(video, box, i) for i in range(len(video.frames))]
    return _stored(video, hashes.__getitem__), _query(video, hashes)


def _stored(
    video: DecodedVideo, hashes: Callable[[int], tuple[WindowHash, WindowHash]]
) -> VideoFingerprint:
    """The stored fingerprint from the window hashes of the sampled frames (``hashes(i)`` of
    frame ``i``, asked only for the frames kept every :func:`index_interval`)."""
    every = index_interval(video.duration_s)
    codes: list[Codes] = []
    times: list[float] = []
    windows: list[int] = []
    next_t = 0.0
    previous: Codes | None = None
    for i, (t, _) in enumerate(video.frames):
        if t + 1e-6 < next_t:
            continue
        next_t = t + every
        (full_code, _, full_quality), (square_code, _, square_quality) = hashes(i)
        if full_quality < MIN_QUALITY:
            continue
        if previous is not None and _distance(previous, full_code) <= REPEAT_DISTANCE:
            continue
        previous = full_code
        for window, code, quality in (
            (0, full_code, full_quality),
            (1, square_code, square_quality),
        ):
            if quality >= MIN_QUALITY:
                codes.append(code)
                times.append(t)
                windows.append(window)
    return VideoFingerprint(
        _stack(codes),
        np.array(times, dtype=np.float64),
        np.array(windows, dtype=np.int16),
        video.duration_s,
        every,
    )


def _query(video: DecodedVideo, hashes: list[tuple[WindowHash, WindowHash]]) -> VideoQuery:
    """The query from the window hashes of every sampled frame."""
    codes: list[Codes] = []
    times: list[float] = []
    windows: list[int] = []
    mirrored: list[bool] = []
    for (t, _), frame_hashes in zip(video.frames, hashes, strict=True):
        for window, (original, mirror, quality) in enumerate(frame_hashes):
            if quality < MIN_QUALITY:
                continue
            codes.extend((original, mirror))
            times.extend((t, t))
            windows.extend((window, window))
            mirrored.extend((False, True))
    return VideoQuery(
        _stack(codes),
        np.array(times, dtype=np.float64),
        np.array(windows, dtype=np.int16),
        np.array(mirrored, dtype=np.bool_),
        video.duration_s,
        video.interval_s,
    )


def _stack(codes: list[Codes]) -> Codes:
    if not codes:
        return np.zeros((0, 32), dtype=np.uint8)
    return np.stack(codes).astype(np.uint8)

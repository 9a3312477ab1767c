"""Decoding uploaded pictures and videos, safely.

An upload (a cover and up to :data:`MAX_FRAME_FILES` frame files, each a picture or a video)
is checked from its headers before anything is decoded: bytes per file, pixels per picture
(:data:`MAX_PIXELS`) and pixels in the whole request (:data:`MAX_REQUEST_PIXELS`, counting
the :data:`VIDEO_FRAMES` frames sampled from a video); what is over a limit is
:class:`TooLarge`. Then it is decoded in full (so a truncated file fails here, not later) in one
of a few :class:`DecodeSlots`, so that concurrent uploads cannot take every core and gigabytes
of memory. PyAV samples the frames of a video. Every problem names the field.
"""

from __future__ import annotations

import io
import threading
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Final

import av
from PIL import Image, UnidentifiedImageError

from guanghe.errors import InvalidInput, TooLarge, Unavailable

MAX_IMAGE_BYTES: Final = 10 * 1024 * 1024
MAX_VIDEO_BYTES: Final = 200 * 1024 * 1024
#: Larger pictures are refused (a 8K frame is 33 million pixels).
MAX_PIXELS: Final = 40_000_000
#: Pixels decoded for one upload at most: a 4K cover and a 4K video's sampled frames
#: (75 million, about 230 MB as RGB), or a 1080p cover and 16 1080p frames (35 million).
MAX_REQUEST_PIXELS: Final = 80_000_000
MIN_SIDE: Final = 32
FORMATS: Final = {"JPEG": "jpg", "PNG": "png", "WEBP": "webp", "GIF": "gif", "BMP": "bmp"}
#: Frames sampled from a video, evenly over its length.
VIDEO_FRAMES: Final = 8
MAX_FRAME_FILES: Final = 16
#: Decoding stops after this many frames of one video.
MAX_DECODED_FRAMES: Final = 20_000
#: Uploads decoded at once by one server process, and how long another waits for its turn.
DECODE_SLOTS: Final = 2
DECODE_WAIT_SECONDS: Final = 10.0


@dataclass(frozen=True, slots=True)
class Picture:
    """A decoded picture (RGB) and the bytes it came from, with their file extension."""

    image: Image.Image
    data: bytes
    extension: str


@dataclass(frozen=True, slots=True)
class DecodedUpload:
    """An upload's cover, its frames (pictures and sampled video frames, in order) and the
    duration of its first video, if any."""

    cover: Picture
    frames: list[Image.Image]
    video_s: int | None


class DecodeSlots:
    """At most ``slots`` uploads decoded at once; a caller that waits more than
    ``wait_seconds`` for a turn gets :class:`Unavailable` (retry shortly)."""

    def __init__(self, slots: int = DECODE_SLOTS, wait_seconds: float = DECODE_WAIT_SECONDS):
        self._semaphore = threading.BoundedSemaphore(slots)
        self._wait_seconds = wait_seconds

    @contextmanager
    def turn(self) -> Iterator[None]:
        """Hold one slot for the duration of the block."""
        if not self._semaphore.acquire(timeout=self._wait_seconds):
            raise Unavailable(
                "too many uploads are being decoded; retry shortly",
                retry_after_seconds=max(1, round(self._wait_seconds)),
            )
        try:
            yield
        finally:
            self._semaphore.release()


def decode_upload(
    cover: bytes, frame_files: list[tuple[str, bytes]], slots: DecodeSlots
) -> DecodedUpload:
    """Check the cover and the frame files (``(name, bytes)``: pictures or videos) against
    every limit from their headers, then decode them in one of ``slots``.

    :class:`TooLarge` for a file, picture or upload over its limit, :class:`InvalidInput` for
    what is not a readable picture or video, :class:`Unavailable` when no slot frees in time.
    """
    if len(frame_files) > MAX_FRAME_FILES:
        raise InvalidInput(f"frames: at most {MAX_FRAME_FILES} files, not {len(frame_files)}")
    fields = [f"frames[{n}] ({name})" for n, (name, _) in enumerate(frame_files)]
    total = _check_picture_header(cover, "cover")
    is_picture: list[bool] = []
    for field, (_, data) in zip(fields, frame_files, strict=True):
        is_picture.append(_picture_size(data, field) is not None)
        total += (
            _check_picture_header(data, field) if is_picture[-1] else _video_pixels(data, field)
        )
        if total > MAX_REQUEST_PIXELS:
            raise TooLarge(
                f"{field}: the cover and frames up to here have {total:,} pixels; at most "
                f"{MAX_REQUEST_PIXELS:,} are accepted per upload"
            )
    with slots.turn():
        picture = decode_picture(cover, "cover")
        frames: list[Image.Image] = []
        duration: int | None = None
        for field, (_, data), is_pic in zip(fields, frame_files, is_picture, strict=True):
            if is_pic:
                frames.append(decode_picture(data, field).image)
                continue
            sampled, seconds = sample_video(data, field)
            frames.extend(sampled)
            duration = duration or seconds
    return DecodedUpload(picture, frames, duration)


def decode_picture(data: bytes, field: str) -> Picture:
    """The picture in ``data``; :class:`TooLarge` if it has too many bytes or pixels,
    :class:`InvalidInput` if it is not a picture or is truncated."""
    _check_picture_header(data, field)
    try:
        image = Image.open(io.BytesIO(data))
        fmt = image.format or ""
        width, height = image.size
        image.load()
    except (OSError, SyntaxError, ValueError) as exc:
        raise InvalidInput(f"{field}: the picture is damaged or truncated ({exc})") from exc
    if fmt not in FORMATS:
        raise InvalidInput(f"{field}: {fmt or 'this'} format is not accepted (JPEG, PNG, WebP)")
    if min(width, height) < MIN_SIDE:
        raise InvalidInput(f"{field}: the picture is {width} x {height}; at least {MIN_SIDE} px")
    return Picture(image.convert("RGB"), data, FORMATS[fmt])


def _check_picture_header(data: bytes, field: str) -> int:
    """The pixels of the picture in ``data``, read from its header; :class:`TooLarge` over the
    byte or pixel limit, :class:`InvalidInput` if it is empty or no picture."""
    if not data:
        raise InvalidInput(f"{field}: the file is empty")
    if len(data) > MAX_IMAGE_BYTES:
        raise TooLarge(
            f"{field}: the file has {len(data):,} bytes; at most {MAX_IMAGE_BYTES:,} are accepted"
        )
    size = _picture_size(data, field)
    if size is None:
        raise InvalidInput(f"{field}: not a picture Guanghe can read (JPEG, PNG, WebP)")
    width, height = size
    if width * height > MAX_PIXELS:
        raise TooLarge(
            f"{field}: the picture is {width} x {height} pixels; "
            f"at most {MAX_PIXELS:,} pixels are accepted"
        )
    return width * height


def _picture_size(data: bytes, field: str) -> tuple[int, int] | None:
    """Width and height from the header of the picture in ``data`` (nothing is decoded);
    None if Pillow does not recognise a picture; :class:`TooLarge` for a decompression bomb."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data)) as image:
                return image.size
    except Image.DecompressionBombError as exc:
        raise TooLarge(f"{field}: the picture has too many pixels to decode ({exc})") from exc
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError):
        return None


def _video_pixels(data: bytes, field: str) -> int:
    """The pixels :func:`sample_video` would decode from ``data``, read from its header."""
    if len(data) > MAX_VIDEO_BYTES:
        raise TooLarge(f"{field}: the video has {len(data):,} bytes; at most {MAX_VIDEO_BYTES:,}")
    try:
        with av.open(io.BytesIO(data), mode="r") as container:
            if not container.streams.video:
                raise InvalidInput(f"{field}: the file has no video stream")
            stream = container.streams.video[0]
            width, height = stream.width, stream.height
    except (av.FFmpegError, OSError, ValueError) as exc:
        raise InvalidInput(f"{field}: not a picture or video Guanghe can read ({exc})") from exc
    if width * height > MAX_PIXELS:
        raise TooLarge(f"{field}: the video's frames exceed {MAX_PIXELS:,} pixels")
    return VIDEO_FRAMES * width * height


def sample_video(
    data: bytes, field: str, frames: int = VIDEO_FRAMES
) -> tuple[list[Image.Image], int]:
    """``frames`` pictures evenly spread over the video in ``data``, and its duration in
    seconds; :class:`InvalidInput` if it cannot be decoded."""
    if len(data) > MAX_VIDEO_BYTES:
        raise TooLarge(f"{field}: the video has {len(data):,} bytes; at most {MAX_VIDEO_BYTES:,}")
    try:
        with av.open(io.BytesIO(data), mode="r") as container:
            if not container.streams.video:
                raise InvalidInput(f"{field}: the file has no video stream")
            stream = container.streams.video[0]
            if stream.width * stream.height > MAX_PIXELS:
                raise TooLarge(f"{field}: the video's frames exceed {MAX_PIXELS:,} pixels")
            step = max(1, (stream.frames or 0) // frames)
            sampled = []
            for n, frame in enumerate(container.decode(stream)):
                if n % step == 0:
                    sampled.append(frame.to_image().convert("RGB"))  # type: ignore[no-untyped-call]
                if len(sampled) == frames or n >= MAX_DECODED_FRAMES:
                    break
            duration = container.duration / av.time_base if container.duration else 0.0
    except InvalidInput:
        raise
    except (av.FFmpegError, OSError, ValueError) as exc:
        raise InvalidInput(f"{field}: not a picture or video Guanghe can read ({exc})") from exc
    if not sampled:
        raise InvalidInput(f"{field}: the video has no frames")
    return sampled, max(1, round(duration))

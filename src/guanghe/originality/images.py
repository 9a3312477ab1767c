"""Decoding uploaded pictures and videos, safely: a byte limit, a pixel limit (Pillow's
decompression-bomb guard), a full decode (so a truncated file fails here, not later) and
PyAV for sampling frames of a video. Every problem is an :class:`InvalidInput` naming the
field."""

from __future__ import annotations

import io
import warnings
from dataclasses import dataclass
from typing import Final

import av
from PIL import Image, UnidentifiedImageError

from guanghe.errors import InvalidInput

MAX_IMAGE_BYTES: Final = 10 * 1024 * 1024
MAX_VIDEO_BYTES: Final = 200 * 1024 * 1024
#: Larger pictures are refused (a 8K frame is 33 million pixels).
MAX_PIXELS: Final = 40_000_000
MIN_SIDE: Final = 32
FORMATS: Final = {"JPEG": "jpg", "PNG": "png", "WEBP": "webp", "GIF": "gif", "BMP": "bmp"}
#: Frames sampled from a video, evenly over its length.
VIDEO_FRAMES: Final = 8
MAX_FRAME_FILES: Final = 16
#: Decoding stops after this many frames of one video.
MAX_DECODED_FRAMES: Final = 20_000


@dataclass(frozen=True, slots=True)
class Picture:
    """A decoded picture (RGB) and the bytes it came from, with their file extension."""

    image: Image.Image
    data: bytes
    extension: str


def decode_picture(data: bytes, field: str) -> Picture:
    """The picture in ``data``; :class:`InvalidInput` if it is not one, is truncated, or is too
    large in bytes or pixels."""
    if not data:
        raise InvalidInput(f"{field}: the file is empty")
    if len(data) > MAX_IMAGE_BYTES:
        raise InvalidInput(
            f"{field}: the file has {len(data):,} bytes; at most {MAX_IMAGE_BYTES:,} are accepted"
        )
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image = Image.open(io.BytesIO(data))
            fmt = image.format or ""
            width, height = image.size
            if width * height > MAX_PIXELS:
                raise InvalidInput(
                    f"{field}: the picture is {width} x {height} pixels; "
                    f"at most {MAX_PIXELS:,} pixels are accepted"
                )
            image.load()
    except InvalidInput:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise InvalidInput(f"{field}: the picture is too large to decode ({exc})") from exc
    except UnidentifiedImageError as exc:
        raise InvalidInput(f"{field}: not a picture Guanghe can read (JPEG, PNG, WebP)") from exc
    except (OSError, SyntaxError, ValueError) as exc:
        raise InvalidInput(f"{field}: the picture is damaged or truncated ({exc})") from exc
    if fmt not in FORMATS:
        raise InvalidInput(f"{field}: {fmt or 'this'} format is not accepted (JPEG, PNG, WebP)")
    if min(width, height) < MIN_SIDE:
        raise InvalidInput(f"{field}: the picture is {width} x {height}; at least {MIN_SIDE} px")
    return Picture(image.convert("RGB"), data, FORMATS[fmt])


def sample_video(
    data: bytes, field: str, frames: int = VIDEO_FRAMES
) -> tuple[list[Image.Image], int]:
    """``frames`` pictures evenly spread over the video in ``data``, and its duration in
    seconds; :class:`InvalidInput` if it cannot be decoded."""
    if len(data) > MAX_VIDEO_BYTES:
        raise InvalidInput(
            f"{field}: the video has {len(data):,} bytes; at most {MAX_VIDEO_BYTES:,}"
        )
    try:
        with av.open(io.BytesIO(data), mode="r") as container:
            if not container.streams.video:
                raise InvalidInput(f"{field}: the file has no video stream")
            stream = container.streams.video[0]
            if stream.width * stream.height > MAX_PIXELS:
                raise InvalidInput(f"{field}: the video's frames exceed {MAX_PIXELS:,} pixels")
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


def decode_frames(files: list[tuple[str, bytes]]) -> tuple[list[Image.Image], int | None]:
    """Frames from uploaded files, each a picture or a video (sampled); and the duration of
    the first video, if any."""
    if len(files) > MAX_FRAME_FILES:
        raise InvalidInput(f"frames: at most {MAX_FRAME_FILES} files, not {len(files)}")
    frames: list[Image.Image] = []
    duration: int | None = None
    for n, (name, data) in enumerate(files):
        field = f"frames[{n}] ({name})"
        if _looks_like_picture(data):
            frames.append(decode_picture(data, field).image)
            continue
        sampled, seconds = sample_video(data, field)
        frames.extend(sampled)
        duration = duration or seconds
    return frames, duration


def _looks_like_picture(data: bytes) -> bool:
    try:
        with Image.open(io.BytesIO(data)):
            return True
    except (UnidentifiedImageError, OSError, ValueError):
        return False

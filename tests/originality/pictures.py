"""Test pictures: random colour blocks with bars and discs (not the benchmark's generator),
their edits, and upload helpers."""

from __future__ import annotations

import io
import struct
import zlib

import numpy as np
from PIL import Image, ImageDraw, ImageEnhance, ImageFont


def picture(seed: int, size: tuple[int, int] = (360, 640)) -> Image.Image:
    """A structured picture: a grid of colour blocks, bars and discs, unique per ``seed``."""
    rng = np.random.default_rng(seed)
    width, height = size
    blocks = rng.integers(0, 256, (8, 5, 3), dtype=np.uint8)
    image = Image.fromarray(blocks).resize(size, Image.Resampling.NEAREST)
    draw = ImageDraw.Draw(image)
    for _ in range(6):
        x, y = rng.uniform(0, width), rng.uniform(0, height)
        r = rng.uniform(15, 70)
        colour = tuple(int(v) for v in rng.integers(0, 256, 3))
        if rng.random() < 0.5:
            draw.ellipse((x - r, y - r, x + r, y + r), fill=colour)
        else:
            draw.rectangle((x - r, y - r / 4, x + r, y + r / 4), fill=colour)
    return image


def encode(image: Image.Image, fmt: str = "PNG", **options: object) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, fmt, **options)
    return buffer.getvalue()


def edits(image: Image.Image) -> dict[str, Image.Image]:
    """The edits a re-uploader makes."""
    width, height = image.size
    dx, dy = width // 20, height // 20
    overlaid = image.copy()
    ImageDraw.Draw(overlaid).rectangle((0, height * 0.8, width, height * 0.9), fill=(250, 250, 250))
    bordered = Image.new("RGB", (width, height + 160), (0, 0, 0))
    bordered.paste(image, (0, 80))
    return {
        "jpeg": Image.open(io.BytesIO(encode(image, "JPEG", quality=30))).convert("RGB"),
        "resized": image.resize((width // 2, height // 2)),
        "cropped": image.crop((dx, dy, width - dx, height - dy)),
        "corner-cropped": image.crop((0, 0, width - 2 * dx, height - 2 * dy)),
        "mirrored": image.transpose(Image.Transpose.FLIP_LEFT_RIGHT),
        "overlaid": overlaid,
        "letterboxed": bordered,
        "brighter": ImageEnhance.Brightness(image).enhance(1.2),
        "darker": ImageEnhance.Brightness(image).enhance(0.8),
    }


def hard_edits(image: Image.Image) -> dict[str, Image.Image]:
    """The harder edits of issue 22: 80 % kept at an offset, an opaque caption
    band across the middle, and several edits at once (mirrored, 90 % kept at an offset, a
    caption overlaid across it, darker, JPEG q40)."""
    width, height = image.size

    def crop(share: float, fx: float, fy: float, source: Image.Image = image) -> Image.Image:
        w, h = round(width * share), round(height * share)
        x, y = round((width - w) * fx), round((height - h) * fy)
        return source.crop((x, y, x + w, y + h))

    banded = image.copy()
    draw = ImageDraw.Draw(banded)
    top, band = round(height * 0.45), round(height * 0.12)
    draw.rectangle((0, top, width, top + band), fill=(20, 20, 30))
    draw.text((width * 0.1, top + band * 0.3), "LOOK AT THIS 42", fill=(255, 255, 255))
    several = crop(0.9, 0.3, 0.7, image.transpose(Image.Transpose.FLIP_LEFT_RIGHT))
    ImageDraw.Draw(several).rectangle(
        (several.width * 0.05, several.height * 0.3, several.width * 0.6, several.height * 0.36),
        fill=(255, 255, 255),
        outline=(0, 0, 0),
        width=3,
    )
    several = ImageEnhance.Brightness(several).enhance(0.9)
    return {
        "cropped-20-offset": crop(0.8, 0.35, 0.65),
        "caption-band": banded,
        "several": Image.open(io.BytesIO(encode(several, "JPEG", quality=40))).convert("RGB"),
    }


def video(frames: list[Image.Image], fps: int = 5) -> bytes:
    """An MP4 (H.264 if available, else MPEG-4) of ``frames``, encoded with PyAV."""
    import av

    buffer = io.BytesIO()
    with av.open(buffer, mode="w", format="mp4") as container:
        stream = container.add_stream("mpeg4", rate=fps)
        stream.width, stream.height = frames[0].size
        stream.pix_fmt = "yuv420p"
        for image in frames:
            frame = av.VideoFrame.from_image(image)  # type: ignore[no-untyped-call]
            for packet in stream.encode(frame):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    return buffer.getvalue()


def png_header(width: int, height: int) -> bytes:
    """A PNG that declares ``width`` x ``height`` RGB pixels and holds a few bytes of them: its
    header reads fine, decoding it fails (or would take the whole picture's memory)."""

    def chunk(kind: bytes, body: bytes) -> bytes:
        return (
            struct.pack(">I", len(body))
            + kind
            + body
            + struct.pack(">I", zlib.crc32(kind + body) & 0xFFFFFFFF)
        )

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    pixels = zlib.compress(b"\x00" + b"\x07" * 64)
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", pixels) + chunk(b"IEND", b"")
    )


def soft_picture(seed: int, size: tuple[int, int] = (360, 640)) -> Image.Image:
    """A cover with few corners: a vertical two-colour gradient, three discs and two words."""
    rng = np.random.default_rng(seed)
    width, height = size
    shade = np.linspace(0.0, 1.0, height, dtype=np.float32)[:, None, None]
    top, bottom = rng.integers(0, 256, (2, 3)).astype(np.float32)
    pixels = np.broadcast_to(top + shade * (bottom - top), (height, width, 3))
    image = Image.fromarray(pixels.astype(np.uint8))
    draw = ImageDraw.Draw(image)
    for _ in range(3):
        x, y, r = rng.uniform(0, width), rng.uniform(0, height), rng.uniform(30, 90)
        colour = tuple(int(v) for v in rng.integers(0, 256, 3))
        draw.ellipse((x - r, y - r, x + r, y + r), fill=colour)
    colour = tuple(int(v) for v in rng.integers(0, 256, 3))
    at = (width * 0.1, height * rng.uniform(0.1, 0.8))
    draw.text(at, "city day", font=ImageFont.load_default(size=28), fill=colour)
    return image


def sloped_picture(seed: int, size: tuple[int, int] = (480, 640)) -> Image.Image:
    """A cover with few corners and a slope across it: a two-colour gradient from side to side,
    a few ellipses, a thin wedge and two small words. Its mirror image is lit the other way,
    so most of its keypoints (on the gradient) look alike everywhere."""
    rng = np.random.default_rng(seed)
    width, height = size
    shade = np.linspace(0.0, 1.0, width, dtype=np.float32)[None, :, None]
    left, right = rng.integers(0, 256, (2, 3)).astype(np.float32)
    pixels = np.broadcast_to(left + shade * (right - left), (height, width, 3))
    image = Image.fromarray(pixels.astype(np.uint8))
    draw = ImageDraw.Draw(image)
    for _ in range(4):
        x, y = rng.uniform(0, width), rng.uniform(0, height)
        rx, ry = rng.uniform(10, 70), rng.uniform(15, 90)
        colour = tuple(int(v) for v in rng.integers(0, 256, 3))
        draw.ellipse((x - rx, y - ry, x + rx, y + ry), fill=colour)
    x, y = rng.uniform(0.2, 0.8) * width, rng.uniform(0.2, 0.8) * height
    colour = tuple(int(v) for v in rng.integers(0, 256, 3))
    draw.polygon([(x, y), (x + 160, y + 120), (x + 100, y + 125), (x + 150, y + 170)], fill=colour)
    colour = tuple(int(v) for v in rng.integers(0, 256, 3))
    at = (width * rng.uniform(0.0, 0.3), height * rng.uniform(0.2, 0.8))
    draw.text(at, "wow hot", font=ImageFont.load_default(size=24), fill=colour)
    draw.text((at[0] - 20, at[1] + 30), "cat go", font=ImageFont.load_default(size=24), fill=colour)
    return image

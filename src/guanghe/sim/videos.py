"""Synthetic short videos with sound, and the edits re-uploaders make to them (PyAV + NumPy).

A :func:`scene_video` has two or three scenes (cut at random times), each a colour gradient with
a soft texture and several shapes moving across it, and a sound track of random notes with
harmonics; or it plays a given backing track. :func:`edit_video` decodes a video and writes an
edited copy: trimmed, played faster or slower, mirrored, cropped to another aspect ratio,
letterboxed, recorded from a screen, re-encoded at a low bitrate, or with new pictures over
its sound. Everything is seeded.
"""

from __future__ import annotations

import io
from collections.abc import Callable
from dataclasses import dataclass
from typing import Final, Literal

import av
import numpy as np
import numpy.typing as npt
from PIL import Image

Frame = npt.NDArray[np.uint8]
Sound = npt.NDArray[np.float32]
Edit = Literal[
    "trim",
    "speed-0.8",
    "speed-1.25",
    "mirror",
    "crop-aspect",
    "letterbox",
    "screen-recording",
    "low-bitrate",
]
EDITS: Final[tuple[Edit, ...]] = (
    "trim",
    "speed-0.8",
    "speed-1.25",
    "mirror",
    "crop-aspect",
    "letterbox",
    "screen-recording",
    "low-bitrate",
)
SOUND_RATE: Final = 22_050
FPS: Final = 12


@dataclass(frozen=True, slots=True)
class Clip:
    """Decoded frames (RGB) at ``fps`` and mono sound at :data:`SOUND_RATE`."""

    frames: list[Frame]
    sound: Sound
    fps: float


def backing_track(seed: int, seconds: float) -> Sound:
    """A melody of random notes with harmonics, in [-1, 1]."""
    rng = np.random.default_rng(seed)
    samples = int(seconds * SOUND_RATE)
    sound = np.zeros(samples, dtype=np.float32)
    t = 0
    while t < samples:
        length = int(rng.uniform(0.15, 0.5) * SOUND_RATE)
        pitch = 110.0 * 2 ** (rng.integers(0, 36) / 12)
        n = np.arange(min(length, samples - t)) / SOUND_RATE
        envelope = np.exp(-n * rng.uniform(2, 8))
        note = sum(np.sin(2 * np.pi * pitch * k * n) / k for k in (1, 2, 3))
        sound[t : t + n.size] = (0.5 * envelope * note).astype(np.float32)
        t += length
    return sound


def scene_video(
    seed: int,
    *,
    seconds: float = 4.0,
    size: tuple[int, int] = (192, 108),
    sound: Sound | None = None,
) -> bytes:
    """An MP4 (H.264 + AAC) of moving scenes; its sound is ``sound`` or a melody of its own."""
    rng = np.random.default_rng(seed)
    width, height = size
    count = int(seconds * FPS)
    cuts = sorted(rng.choice(np.arange(FPS, max(FPS + 1, count - FPS)), rng.integers(1, 3)))
    frames: list[Frame] = []
    scene: Callable[[int], Frame] = _scene(rng, width, height)
    for n in range(count):
        if cuts and n == cuts[0]:
            cuts.pop(0)
            scene = _scene(rng, width, height)
        frames.append(scene(n))
    track = backing_track(seed + 1_000_003, seconds) if sound is None else sound
    return encode(Clip(frames, track[: int(seconds * SOUND_RATE)], FPS))


def _scene(rng: np.random.Generator, width: int, height: int) -> Callable[[int], Frame]:
    yy, xx = np.mgrid[0:height, 0:width].astype(np.float32)
    angle = rng.uniform(0, 2 * np.pi)
    ramp = (np.cos(angle) * xx / width + np.sin(angle) * yy / height + 1) / 2
    a, b = rng.uniform(0, 255, 3), rng.uniform(0, 255, 3)
    base = a[None, None, :] * (1 - ramp[..., None]) + b[None, None, :] * ramp[..., None]
    texture = np.zeros((height, width), dtype=np.float32)
    for _ in range(3):
        fx, fy, phase = rng.uniform(1, 6), rng.uniform(1, 6), rng.uniform(0, 2 * np.pi)
        texture += np.sin(2 * np.pi * (fx * xx / width + fy * yy / height) + phase)
    base = base + 18 * texture[..., None]
    shapes = []
    for _ in range(int(rng.integers(3, 7))):
        shapes.append(
            (
                rng.uniform(0, width),
                rng.uniform(0, height),
                rng.uniform(-3, 3),
                rng.uniform(-2, 2),
                rng.uniform(0.06, 0.2) * height,
                rng.uniform(0, 255, 3),
                bool(rng.integers(0, 2)),
            )
        )
    drift = rng.uniform(-1.5, 1.5, 2)

    def frame(n: int) -> Frame:
        picture = np.roll(base, (int(drift[1] * n), int(drift[0] * n)), axis=(0, 1)).copy()
        for x0, y0, vx, vy, radius, colour, round_ in shapes:
            x, y = (x0 + vx * n) % width, (y0 + vy * n) % height
            if round_:
                mask = (xx - x) ** 2 + (yy - y) ** 2 <= radius**2
            else:
                mask = (np.abs(xx - x) <= radius) & (np.abs(yy - y) <= radius * 0.6)
            picture[mask] = colour
        clipped: Frame = np.clip(picture, 0, 255).astype(np.uint8)
        return clipped

    return frame


def encode(clip: Clip, *, bit_rate: int | None = None) -> bytes:
    """``clip`` as an MP4 with H.264 pictures (even sizes) and AAC sound."""
    out = io.BytesIO()
    height, width = clip.frames[0].shape[:2]
    width, height = width - width % 2, height - height % 2
    with av.open(out, mode="w", format="mp4") as container:
        video = container.add_stream("libx264", rate=round(clip.fps))
        video.width, video.height, video.pix_fmt = width, height, "yuv420p"
        # One encoder thread, and no macroblock tree: x264's MB-tree rate control gave other
        # bytes for the same frames from one call to the next in a process (even on one
        # thread), so a test's edited copies changed from run to run; without it they are the
        # same every time.
        options: dict[str, object] = {"threads": "1", "x264-params": "mbtree=0"}
        if bit_rate is not None:
            video.bit_rate = bit_rate
        else:
            options |= {"crf": "23", "preset": "veryfast"}
        video.options = options
        audio = container.add_stream("aac", rate=SOUND_RATE) if clip.sound.size else None
        if audio is not None:
            audio.layout = "mono"
        for picture in clip.frames:
            frame = av.VideoFrame.from_ndarray(np.ascontiguousarray(picture[:height, :width]))
            container.mux(video.encode(frame))
        container.mux(video.encode(None))
        if audio is not None:
            pcm = np.clip(clip.sound, -1, 1).astype(np.float32)
            for start in range(0, pcm.size, 1024):
                chunk = av.AudioFrame.from_ndarray(
                    np.ascontiguousarray(pcm[None, start : start + 1024]),
                    format="fltp",
                    layout="mono",
                )
                chunk.sample_rate = SOUND_RATE
                chunk.pts = start
                container.mux(audio.encode(chunk))
            container.mux(audio.encode(None))
    return out.getvalue()


def decode(data: bytes) -> Clip:
    """Every frame (RGB) and the mono sound of an MP4."""
    frames: list[Frame] = []
    chunks: list[Sound] = []
    with av.open(io.BytesIO(data), mode="r") as container:
        stream = container.streams.video[0]
        fps = float(stream.average_rate or FPS)
        resampler = av.AudioResampler(format="flt", layout="mono", rate=SOUND_RATE)
        streams = [stream, *container.streams.audio[:1]]
        for frame in container.decode(*streams):
            if isinstance(frame, av.VideoFrame):
                frames.append(np.asarray(frame.to_ndarray(format="rgb24"), dtype=np.uint8))
            elif isinstance(frame, av.AudioFrame):
                chunks.extend(_samples(c) for c in resampler.resample(frame))
        chunks.extend(_samples(c) for c in resampler.resample(None))
    sound = np.concatenate(chunks).astype(np.float32) if chunks else np.zeros(0, np.float32)
    return Clip(frames, sound, fps)


def _samples(chunk: av.AudioFrame) -> Sound:
    return np.asarray(chunk.to_ndarray(), dtype=np.float32).reshape(-1)


def edit_video(data: bytes, edit: Edit, seed: int = 0) -> bytes:
    """An edited copy of the MP4 ``data`` (see the module docstring)."""
    clip = decode(data)
    rng = np.random.default_rng(seed)
    if edit == "trim":
        n = len(clip.frames)
        start = int(rng.uniform(0.1, 0.3) * n)
        end = n - int(rng.uniform(0.05, 0.2) * n)
        lo, hi = int(start / clip.fps * SOUND_RATE), int(end / clip.fps * SOUND_RATE)
        return encode(Clip(clip.frames[start:end], clip.sound[lo:hi], clip.fps))
    if edit in ("speed-0.8", "speed-1.25"):
        return encode(_speed(clip, 0.8 if edit == "speed-0.8" else 1.25))
    if edit == "mirror":
        return encode(Clip([f[:, ::-1] for f in clip.frames], clip.sound, clip.fps))
    if edit == "crop-aspect":
        return encode(
            Clip(
                [_centre_crop(f, 4 / 3 if seed % 2 else 1.0) for f in clip.frames],
                clip.sound,
                clip.fps,
            )
        )
    if edit == "letterbox":
        return encode(Clip([_letterbox(f) for f in clip.frames], clip.sound, clip.fps))
    if edit == "screen-recording":
        return encode(_screen_recording(clip, rng))
    return encode(_downscale(clip), bit_rate=40_000)


def new_pictures(data: bytes, pictures_from: bytes) -> bytes:
    """The sound of ``data`` under the pictures of ``pictures_from`` (a sound-only copy)."""
    sound, pictures = decode(data), decode(pictures_from)
    return encode(Clip(pictures.frames, sound.sound, pictures.fps))


def _speed(clip: Clip, factor: float) -> Clip:
    count = int(len(clip.frames) / factor)
    frames = [clip.frames[min(len(clip.frames) - 1, int(n * factor))] for n in range(count)]
    positions = np.arange(0, clip.sound.size - 1, factor)
    sound = np.interp(positions, np.arange(clip.sound.size), clip.sound).astype(np.float32)
    return Clip(frames, sound, clip.fps)


def _centre_crop(frame: Frame, aspect: float) -> Frame:
    height, width = frame.shape[:2]
    keep = min(width, round(height * aspect))
    left = (width - keep) // 2
    return frame[:, left : left + keep]


def _letterbox(frame: Frame) -> Frame:
    """The landscape ``frame`` fitted into a portrait 9:16 canvas with black bars."""
    height, width = frame.shape[:2]
    canvas_h = round(width * 16 / 9)
    canvas = np.zeros((canvas_h, width, 3), dtype=np.uint8)
    top = (canvas_h - height) // 2
    canvas[top : top + height] = frame
    return canvas


def _resize(frame: Frame, width: int, height: int) -> Frame:
    resized = Image.fromarray(frame).resize((width, height), Image.Resampling.BILINEAR)
    return np.asarray(resized, dtype=np.uint8)


def _downscale(clip: Clip) -> Clip:
    height, width = clip.frames[0].shape[:2]
    return Clip([_resize(f, width // 2, height // 2) for f in clip.frames], clip.sound, clip.fps)


def _screen_recording(clip: Clip, rng: np.random.Generator) -> Clip:
    """The video played in a window: shrunk, on a plain desktop with a status bar and a
    toolbar, a little brighter (another gamma), with noise, sampled at another frame rate."""
    height, width = clip.frames[0].shape[:2]
    inner_w, inner_h = int(width * 0.8), int(height * 0.8)
    canvas_w, canvas_h = width, int(height * 1.1)
    desktop = rng.uniform(20, 60, 3)
    bar = rng.uniform(150, 220, 3)
    top = (canvas_h - inner_h) // 2
    left = (canvas_w - inner_w) // 2
    frames = []
    step = clip.fps / 10
    gamma = rng.uniform(0.85, 0.95)
    for n in range(int(len(clip.frames) / step)):
        source = clip.frames[min(len(clip.frames) - 1, int(n * step))]
        canvas = np.empty((canvas_h, canvas_w, 3), dtype=np.float32)
        canvas[:] = desktop
        canvas[: max(2, canvas_h // 20)] = bar
        canvas[canvas_h - max(2, canvas_h // 16) :] = bar * 0.7
        shown = 255 * (_resize(source, inner_w, inner_h) / 255) ** gamma
        canvas[top : top + inner_h, left : left + inner_w] = shown
        canvas += rng.normal(0, 3, canvas.shape)
        frames.append(np.clip(canvas, 0, 255).astype(np.uint8))
    return Clip(frames, clip.sound, 10.0)

"""Video re-upload detection: recall of each edit, false matches, shared music, fingerprinting
throughput, and check latency against a large index.

``uv run --group bench python -m bench video_matching [--originals N] [--distinct N]
[--fresh N] [--shared N] [--unrelated-side PX] [--index-videos N] [--hashes N]
[--upload-seconds S] [--checks N] [--skip-quality] [--skip-index] [--skip-legacy]
[--scan-checks N] [--scan-codes N] [--seed S]``

Quality: videos from this benchmark's own generator (moving stripes, discs and text over a
noisy gradient, 4 to 7 s, landscape or portrait, 15 or 24 fps, each with a melody; not the
tests' generator) — ``--originals`` originals and ``--distinct`` unrelated videos are indexed,
with a library track marked as shared music and half of ``--shared`` videos that use it. Each
original is queried as every edit of :data:`guanghe.sim.videos.EDITS` (trim, speed 0.8x and
1.25x, mirror, crop to 4:3 or 1:1, letterbox into 9:16, screen recording, low bitrate) and with
new pictures over its sound; ``--fresh`` unrelated videos, the other half of the shared-music
videos and every distinct video (against all the others) are queried too. A copy is recalled
when its original is matched (picture, or sound for the sound-only copy); a false match is a
match with any other video (rates with their one-sided 95 % Clopper-Pearson bound, per query
and per (query, video) pair; each also by what matched: picture, sound or both).
``--unrelated-side`` draws the distinct and fresh videos that
many pixels on their longest side (the same scenes scaled down; 256 by default, as the
originals): a cheaper way to the goal's 20,000, since the fingerprint works on 64 x 64 windows
whatever the size. Beside Guanghe: plain
per-frame pHash (64-bit ``imagehash`` pHash of a frame every 0.5 s; a video matches when half
of the upload's frames have a stored frame of it within the threshold), at its best threshold
(most recall with at most 0.1 % of unrelated queries matched).

Speed: seconds of video fingerprinted per CPU second (the product's path: PyAV decode, frame
hashes for the stored fingerprint and the query, Chromaprint), with the CPU of each phase and of
the benchmark's own work (generating a video, the pHash peer), and the p50 / p99 latency (wall
and CPU) of the picture check of a ``--upload-seconds`` upload against an index of
``--index-videos`` videos x ``--hashes`` random 256-bit codes, half the uploads random and half
a copy of an indexed video (each code 2-12 bits off). Peers on the same codes and uploads: the
16 x 16-bit ``HammingIndex`` (the video index before ``FrameIndex``; its search,
``--skip-legacy`` leaves it out), the 8 x 32-bit ``FrameIndex`` (the whole check), and a linear
scan of every code for ``--scan-codes`` query codes of ``--scan-checks`` uploads; the answers
within the guaranteed 15 bits are compared.
"""

from __future__ import annotations

import argparse
import io
import multiprocessing
import os
import time
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

LIBRARY_ID = 900_000_000
#: Longest side of the generated videos (256 x 144 or 144 x 256).
FULL_SIDE = 256
#: The false-match goal's number of distinct videos.
GOAL_INDEX = 20_000


def bench_scene(seed: int, side: int = FULL_SIDE) -> bytes:
    """A generated video with a melody, unlike the tests' scenes (see the module docstring),
    ``side`` pixels on its longest side."""
    from guanghe.sim import videos

    frames, fps, seconds = _scene_frames(seed, side)
    melody = videos.backing_track(seed + 77, seconds)
    return videos.encode(videos.Clip(frames, melody, float(fps)))


def _scene_frames(seed: int, side: int) -> tuple[list[npt.NDArray[np.uint8]], int, float]:
    """The frames, frame rate and length of :func:`bench_scene`'s video.

    A smaller ``side`` draws the same scene (the same random draws) scaled down: sizes,
    speeds, noise blocks, stripe widths and the text. Drawn the cheap way, pixel for pixel the
    same as painting every pixel of every frame: a stripe depends only on ``x + y`` (one row
    of sines per frame, spread by index), a disc is painted inside its bounding box only, and
    the text's font is loaded once."""
    from PIL import Image, ImageDraw, ImageFont

    scale = side / FULL_SIDE
    rng = np.random.default_rng(seed)
    portrait = rng.random() < 0.3
    long_side, short_side = side, round(144 * scale)
    width, height = (short_side, long_side) if portrait else (long_side, short_side)
    fps = int(rng.choice([15, 24]))
    seconds = float(rng.uniform(4, 7))
    yy, xx = np.mgrid[0:height, 0:width].astype(np.float32)
    colours = rng.uniform(0, 255, (2, 3))
    ramp = (xx / width * rng.uniform(-1, 1) + yy / height * rng.uniform(-1, 1) + 2) / 4
    base = colours[0] * (1 - ramp[..., None]) + colours[1] * ramp[..., None]
    block = max(1, round(8 * scale))
    noise = rng.normal(0, 10, (height // block, width // block, 1))
    base += noise.repeat(block, 0).repeat(block, 1)
    stripes = [
        (rng.uniform(0.02, 0.1) / scale, rng.uniform(0, 6), rng.uniform(-2, 2)) for _ in range(2)
    ]
    discs = [(rng.uniform(0, width), rng.uniform(0, height), rng.uniform(-4, 4) * scale,
              rng.uniform(-4, 4) * scale, rng.uniform(8, 30) * scale, rng.uniform(0, 255, 3))
             for _ in range(int(rng.integers(2, 6)))]  # fmt: skip
    word = "".join(rng.choice(list("ABCDEFGHJKLMNPQRSTUVWXYZ"), 5))
    diagonal = (xx + yy).astype(np.int64)  # exact: small integers in float32
    sums = np.arange(width + height - 1, dtype=np.float32)  # the same float32 values of x + y
    # what ImageDraw loads when no font is given (size 10), or that font scaled
    font = ImageFont.load_default() if side == FULL_SIDE else ImageFont.load_default(10 * scale)
    frames = []
    for n in range(int(seconds * fps)):
        picture = base.copy()
        for freq, phase, speed in stripes:
            picture += (25 * np.sin(freq * sums + phase + speed * n / fps))[diagonal][..., None]
        for x0, y0, vx, vy, r, colour in discs:
            x, y = (x0 + vx * n) % width, (y0 + vy * n) % height
            top, left = max(0, int(y - r) - 1), max(0, int(x - r) - 1)
            box = (slice(top, int(y + r) + 2), slice(left, int(x + r) + 2))
            picture[box][(xx[box] - x) ** 2 + (yy[box] - y) ** 2 <= r * r] = colour
        image = Image.fromarray(np.clip(picture, 0, 255).astype(np.uint8))
        at = (round((10 + n % 40) * scale), height // 3)
        ImageDraw.Draw(image).text(at, word, fill=(255, 255, 255), font=font)
        frames.append(np.asarray(image))
    return frames, fps, seconds


def _with_sound(seed: int, sound: npt.NDArray[np.float32]) -> bytes:
    from guanghe.sim import videos

    clip = videos.decode(bench_scene(seed))
    length = min(len(sound), int(len(clip.frames) / clip.fps * videos.SOUND_RATE))
    return videos.encode(videos.Clip(clip.frames, sound[:length], clip.fps))


#: What the CPU of making and fingerprinting a video goes to, in the order reported.
PHASES = ("generate", "decode", "frame hashes", "chromaprint", "phash")
#: Phases of Guanghe's own fingerprinting (the rest is the benchmark's).
FINGERPRINT_PHASES = ("decode", "frame hashes", "chromaprint")


@dataclass(frozen=True, slots=True)
class Printed:
    """What the benchmark keeps of a video: Guanghe's fingerprint, the pHash frames, the
    video's length and the CPU seconds of each of :data:`PHASES` in the worker."""

    media: Any
    phash: npt.NDArray[np.uint64]
    seconds: float
    cpu: dict[str, float]


def _phash_frames(data: bytes) -> npt.NDArray[np.uint64]:
    """64-bit pHash of a frame every 0.5 s (every ``round(fps / 2)``-th frame); only those
    frames are turned into pictures."""
    import av
    import imagehash
    from PIL import Image

    from guanghe.sim import videos

    codes = []
    with av.open(io.BytesIO(data), mode="r") as container:
        stream = container.streams.video[0]
        step = max(1, round(float(stream.average_rate or videos.FPS) / 2))
        for n, frame in enumerate(container.decode(stream)):
            if n % step:
                continue
            picture = Image.fromarray(frame.to_ndarray(format="rgb24"))
            bits = np.asarray(imagehash.phash(picture).hash, dtype=np.uint8).reshape(-1)
            codes.append(int.from_bytes(np.packbits(bits).tobytes(), "big"))
    return np.array(codes, dtype=np.uint64)


def _fingerprint(data: bytes, cpu: dict[str, float]) -> Printed:
    """Guanghe's fingerprint (the product's path: PyAV decode, frame hashes, Chromaprint) and
    the pHash frames of ``data``, each phase's CPU seconds added to ``cpu``."""
    from guanghe.originality import decode_video
    from guanghe.originality.audio import fingerprint_audio
    from guanghe.originality.media import MediaFingerprint
    from guanghe.originality.video import fingerprint_and_query

    begun = time.process_time()
    decoded = decode_video(data)
    cpu["decode"] = time.process_time() - begun
    begun = time.process_time()
    stored, query = fingerprint_and_query(decoded)
    cpu["frame hashes"] = time.process_time() - begun
    begun = time.process_time()
    media = MediaFingerprint(stored, query, fingerprint_audio(decoded.audio))
    cpu["chromaprint"] = time.process_time() - begun
    begun = time.process_time()
    phash = _phash_frames(data)
    cpu["phash"] = time.process_time() - begun
    return Printed(media, phash, media.duration_s, cpu)


def _make(job: tuple[str, int, int, int]) -> tuple[str, int, Printed]:
    """``(role, key, seed, side)``: generate the video of that role and fingerprint it."""
    from guanghe.sim import videos

    role, key, seed, side = job
    begun = time.process_time()
    if role in ("original", "distinct", "fresh"):
        data = bench_scene(seed, side)
    elif role in ("library", "shared"):
        data = _with_sound(seed, videos.backing_track(424242, 9.0))
    elif role == "sound-only":
        data = videos.new_pictures(bench_scene(seed), bench_scene(seed + 500_000))
    else:
        data = videos.edit_video(bench_scene(seed), role, seed=seed)  # type: ignore[arg-type]
    return role, key, _fingerprint(data, {"generate": time.process_time() - begun})


def _phash_needed(
    queries: list[tuple[str, int, Printed]], stored: list[npt.NDArray[np.uint64]]
) -> npt.NDArray[np.int8]:
    """``(queries, videos)``: the threshold each query needs to match each stored video by the
    per-frame pHash rule (33 when it never does)."""
    frames = np.concatenate(stored) if stored else np.zeros(0, np.uint64)
    starts = np.r_[0, np.cumsum([s.size for s in stored])[:-1]].astype(np.int64)
    needed = np.full((len(queries), len(stored)), 33, dtype=np.int8)
    present = np.array([s.size > 0 for s in stored], dtype=bool)
    for qi, (_, _, printed) in enumerate(queries):
        if printed.phash.size == 0 or frames.size == 0:
            continue
        distance = np.bitwise_count(printed.phash[:, None] ^ frames[None, :])
        nearest = np.minimum.reduceat(distance, starts[present], axis=1)
        half = (printed.phash.size + 1) // 2
        kth = np.partition(nearest, half - 1, axis=0)[half - 1]
        needed[qi, present] = np.minimum(kth, 33).astype(np.int8)
    return needed


#: What a false match was found by: the picture, the sound, or both.
MATCH_KINDS = ("picture", "sound", "both")


def _kind_of(kinds: set[str]) -> str:
    """``picture``, ``sound`` or ``both`` for a set of :data:`MATCH_KINDS` or match kinds."""
    pictures = bool(kinds & {"video", "picture", "both"})
    sounds = bool(kinds & {"audio", "sound", "both"})
    return "both" if pictures and sounds else "picture" if pictures else "sound"


def _kinds_by_video(found: list[Any], key: int) -> dict[int, str]:
    """What matched each video of ``found`` other than ``key`` (one of :data:`MATCH_KINDS`)."""
    kinds: dict[int, set[str]] = {}
    for match in found:
        if match.work_id != key:
            kinds.setdefault(match.work_id, set()).add(match.kind)
    return {work_id: _kind_of(seen) for work_id, seen in kinds.items()}


def _upper_bound(found: int, trials: int) -> float:
    """One-sided 95 % Clopper-Pearson upper bound of a rate seen ``found`` times in ``trials``."""
    from scipy.stats import beta

    return (
        1.0 if trials == 0 or found >= trials else float(beta.ppf(0.95, found + 1, trials - found))
    )


def _made(jobs: list[tuple[str, int, int, int]]) -> list[tuple[str, int, Printed]]:
    """Every job's video, generated and fingerprinted by one process per CPU, in job order."""
    started = time.perf_counter()
    made = []
    with multiprocessing.get_context("spawn").Pool(os.cpu_count() or 1) as pool:
        for done, item in enumerate(pool.imap_unordered(_make, jobs, chunksize=8), 1):
            made.append(item)
            if done % max(25, len(jobs) // 40) == 0:
                spent = time.perf_counter() - started
                print(f"  {done:,} of {len(jobs):,} videos in {spent:.0f} s", flush=True)
    made.sort(key=lambda item: (item[0], item[1]))
    print(
        f"generated and fingerprinted {len(made):,} videos in {time.perf_counter() - started:.0f} s"
    )
    return made


def _report_cpu(made: list[tuple[str, int, Printed]]) -> None:
    """CPU seconds per phase, the fingerprinting throughput, and the CPU a video of each role
    took (what a larger run will cost)."""
    seconds = sum(p.seconds for _, _, p in made)
    spent = {phase: sum(p.cpu[phase] for _, _, p in made) for phase in PHASES}
    fingerprinting = sum(spent[phase] for phase in FINGERPRINT_PHASES)
    print(
        f"fingerprinting throughput: {seconds / fingerprinting:.1f} s of video per CPU second "
        f"({seconds:,.0f} s of video in {fingerprinting:,.1f} CPU s: decode, frame hashes and "
        "Chromaprint)"
    )
    print("| phase | CPU s | s of video per CPU s |")
    print("|---|---:|---:|")
    for phase in PHASES:
        print(f"| {phase} | {spent[phase]:,.1f} | {seconds / max(spent[phase], 1e-9):,.1f} |")
    roles: dict[str, list[float]] = {}
    for role, _, printed in made:
        roles.setdefault(role, []).append(sum(printed.cpu.values()))
    print(
        "CPU per video (all phases): "
        + ", ".join(f"{role} {np.mean(cpu):.3f} s" for role, cpu in sorted(roles.items()))
    )


def quality(args: argparse.Namespace) -> None:
    """Recall of each edit, false matches and shared music, Guanghe beside per-frame pHash.

    Every distinct video is indexed and also queried (against all the others: a match with
    any but itself is a false match), so a run of ``n`` distinct videos makes ``n`` unrelated
    queries against an index of ``n`` besides the ``--fresh`` ones."""
    from guanghe.originality.media import MediaIndex, match_media
    from guanghe.sim import videos

    edits = [*videos.EDITS, "sound-only"]
    full, small = FULL_SIDE, args.unrelated_side
    jobs = [("original", k, args.seed + k, full) for k in range(args.originals)]
    # keys and seeds of each role in their own range of a million, so that 20,000 distinct
    # videos (the false-match goal) collide with no shared or fresh video
    jobs += [
        ("distinct", 1_000_000 + k, args.seed + 1_000_000 + k, small) for k in range(args.distinct)
    ]
    jobs += [("library", LIBRARY_ID, args.seed + 99_999, full)]
    jobs += [("shared", 2_000_000 + k, args.seed + 2_000_000 + k, full) for k in range(args.shared)]
    jobs += [(e, k, args.seed + k, full) for k in range(args.originals) for e in edits]
    jobs += [("fresh", 3_000_000 + k, args.seed + 3_000_000 + k, small) for k in range(args.fresh)]
    made = _made(jobs)
    _report_cpu(made)
    indexed_roles = {"original", "distinct", "library"}
    index = MediaIndex()
    stored: dict[int, Printed] = {}
    queries: list[tuple[str, int, Printed]] = []
    for role, key, printed in made:
        if role in indexed_roles or (role == "shared" and key % 2 == 0):
            media = printed.media
            labels = np.full(media.video.codes.shape[0], key, dtype=np.int64)
            index.video.add(media.video.codes, labels, media.video.tags)
            index.audio.add(key, media.audio)
            stored[key] = printed
        if role not in indexed_roles - {"distinct"} and not (role == "shared" and key % 2 == 0):
            queries.append((role, key, printed))
    shared = {LIBRARY_ID}
    unrelated_roles = ("distinct", "fresh", "shared")

    match_media(index, queries[0][2].media, shared)  # compiles the search kernels
    checks: list[float] = []
    check_cpu: list[float] = []
    ours: dict[str, list[bool]] = {}
    ours_false: dict[str, int] = {}
    # wrong (query, video) pairs and falsely matched unrelated queries by what matched
    false_pairs = dict.fromkeys(MATCH_KINDS, 0)
    false_queries = dict.fromkeys(MATCH_KINDS, 0)
    found_self = 0
    began = time.perf_counter()
    for done, (role, key, printed) in enumerate(queries, 1):
        begun, cpu = time.perf_counter(), time.process_time()
        found = match_media(index, printed.media, shared)
        checks.append(time.perf_counter() - begun)
        check_cpu.append(time.process_time() - cpu)
        matched = {m.work_id for m in found}
        if role in unrelated_roles:
            ours.setdefault(role, []).append(not matched - {key})
            found_self += role == "distinct" and key in matched
        else:
            ours.setdefault(role, []).append(key in matched)
        ours_false[role] = ours_false.get(role, 0) + len(matched - {key})
        wrong_kinds = _kinds_by_video(found, key)
        for kind in wrong_kinds.values():
            false_pairs[kind] += 1
        if role in unrelated_roles and wrong_kinds:
            false_queries[_kind_of(set(wrong_kinds.values()))] += 1
        if done % max(200, len(queries) // 20) == 0:
            spent = time.perf_counter() - began
            print(f"  {done:,} of {len(queries):,} checks in {spent:.0f} s", flush=True)

    # pHash: per query and stored video, the smallest threshold at which half of the query's
    # frames have a stored frame of that video within it (the ceil(n/2)-th smallest of the
    # frames' nearest distances): one (queries, videos) int8 array, whatever the index size.
    # A distinct video's own column (itself) is no false match: set to "never".
    keys = sorted(stored)
    needed = _phash_needed(queries, [stored[key].phash for key in keys])
    unrelated = np.array([role in unrelated_roles for role, _, _ in queries])
    key_position = {key: i for i, key in enumerate(keys)}
    own = np.array([key_position.get(key, -1) for _, key, _ in queries])
    rows = np.flatnonzero(own >= 0)
    own_needed = np.full(len(queries), 33, dtype=np.int8)
    own_needed[rows] = needed[rows, own[rows]]
    needed[rows, own[rows]] = 33
    threshold = 0
    for t in range(33):
        if ((needed[unrelated] <= t).any(axis=1)).mean() <= 0.001:
            threshold = t
    flagged_other = np.asarray((needed <= threshold).any(axis=1))
    flagged_own = own_needed <= threshold

    print()
    print(f"| query | n | Guanghe recall | pHash recall (<= {threshold} of 64 bits) |")
    print("|---|---:|---:|---:|")
    roles = [*edits, *unrelated_roles]
    total_ours, total_phash, n_copies = 0, 0, 0
    for role in roles:
        picked = [i for i, (r, _, _) in enumerate(queries) if r == role]
        if not picked:
            continue
        ours_rate = float(np.mean(ours[role]))
        if role in unrelated_roles:
            phash_rate = float(np.mean(~flagged_other[picked]))
            label = f"{role} (no match{' but itself' if role == 'distinct' else ''})"
        else:
            phash_rate = float(np.mean(flagged_own[picked]))
            total_ours += int(np.sum(ours[role]))
            total_phash += int(np.sum(flagged_own[picked]))
            n_copies += len(picked)
            label = role
        print(f"| {label} | {len(picked)} | {ours_rate:.3f} | {phash_rate:.3f} |")
    print(
        f"| all copies | {n_copies} | {total_ours / max(1, n_copies):.3f} | "
        f"{total_phash / max(1, n_copies):.3f} |"
    )
    unrelated_n = int(unrelated.sum())
    ours_unrelated = sum(not ok for r in unrelated_roles for ok in ours.get(r, []))
    wrong = sum(ours_false.values())
    phash_wrong = int((needed <= threshold).sum())
    pairs = len(queries) * len(keys) - rows.size
    print()
    print(
        f"false matches: Guanghe {ours_unrelated:,}/{unrelated_n:,} unrelated queries "
        f"({ours_unrelated / max(1, unrelated_n):.3%}, 95 % upper bound "
        f"{_upper_bound(ours_unrelated, unrelated_n):.3%}) against an index of {len(keys):,} "
        f"videos, {wrong:,} wrong (query, video) pairs of {pairs:,} (95 % upper bound "
        f"{_upper_bound(wrong, pairs):.2e} a pair); pHash "
        f"{int(flagged_other[unrelated].sum()):,}/{unrelated_n:,} unrelated queries, "
        f"{phash_wrong:,} wrong pairs"
    )
    print(
        "by what matched (picture, sound, both): unrelated queries "
        + ", ".join(f"{kind} {n:,}" for kind, n in false_queries.items())
        + "; wrong pairs "
        + ", ".join(f"{kind} {n:,}" for kind, n in false_pairs.items())
    )
    pair_bound = _upper_bound(wrong, pairs)
    print(
        f"projected to an index of {GOAL_INDEX:,}: a query falsely matched with probability "
        f"at most {1 - (1 - pair_bound) ** GOAL_INDEX:.3%} (95 % bound from the pairs, taking "
        "pairs as independent)"
    )
    if found_self < len(ours.get("distinct", [])):
        print(
            f"distinct videos that did not match themselves: {len(ours['distinct']) - found_self}"
        )
    shared_wrong = ours_false.get("shared", 0)
    print(f"shared-music videos counted as copies: {shared_wrong}")
    p50, p99 = (np.percentile(checks, q) * 1000 for q in (50, 99))
    cpu50, cpu99 = (np.percentile(check_cpu, q) * 1000 for q in (50, 99))
    print(
        f"check against the {len(stored):,}-video index: p50 {p50:.1f} ms, p99 {p99:.1f} ms; "
        f"CPU p50 {cpu50:.1f} ms, p99 {cpu99:.1f} ms"
    )


def _check_queries(
    rng: np.random.Generator, words: npt.NDArray[np.uint64], args: argparse.Namespace, n: int
) -> list[Any]:
    """The uploads of the index check: every other one random (no match), the others a copy of
    an indexed video (its codes in order, each with 2 to 12 flipped bits, so the check finds,
    aligns and reports it)."""
    from guanghe.originality.video import VideoQuery, sample_interval

    interval = sample_interval(args.upload_seconds)
    frames = int(args.upload_seconds / interval)
    uploads = []
    for c in range(args.checks + 1):
        if c % 2 == 0:
            codes = rng.integers(0, 256, (frames * 4, 32), dtype=np.uint8)
        else:
            video = int(rng.integers(0, n // args.hashes))
            rows = video * args.hashes + (np.arange(frames * 4) * args.hashes // (frames * 4))
            codes = words[rows].copy().view(np.uint8).reshape(-1, 32)
            for row, flips in zip(codes, rng.integers(2, 13, frames * 4), strict=True):
                for bit in rng.choice(256, int(flips), replace=False):
                    row[bit // 8] ^= np.uint8(1 << (bit % 8))
        times = np.repeat(np.arange(frames) * interval, 4)
        uploads.append(
            VideoQuery(
                codes,
                times,
                np.tile(np.array([0, 0, 1, 1], dtype=np.int16), frames),
                np.tile(np.array([False, True, False, True]), frames),
                args.upload_seconds,
                interval,
            )
        )
    return uploads


def _answer(hits: Any) -> set[tuple[int, int, int, int]]:
    return set(
        zip(
            hits.query.tolist(),
            hits.label.tolist(),
            hits.tag.tolist(),
            hits.distance.tolist(),
            strict=True,
        )
    )


def _ms(values: list[float], q: float) -> str:
    return f"{np.percentile(values, q) * 1000:,.1f}"


def index_scale(args: argparse.Namespace) -> None:
    """Peers on the same codes and the same uploads: the 16 x 16-bit multi-index hashing index
    (``HammingIndex``, the video index until 2026-12-05), the 8 x 32-bit frame index
    (``FrameIndex``, now), and a linear scan of every code for a few query codes per check."""
    from guanghe.originality.frame_index import FrameIndex
    from guanghe.originality.index import HammingIndex
    from guanghe.originality.media import (
        VIDEO_EXACT_RADIUS,
        VIDEO_NFLIP,
        VIDEO_RADIUS,
        match_video,
    )

    rng = np.random.default_rng(args.seed)
    n = args.index_videos * args.hashes
    words = rng.integers(0, 2**64 - 1, (n, 4), dtype=np.uint64, endpoint=True)
    labels = np.arange(n, dtype=np.int64) // args.hashes
    tags = ((np.arange(n) % args.hashes) * 2).astype(np.int16)
    uploads = _check_queries(rng, words, args, n)
    exact = [np.full(u.codes.shape[0], VIDEO_EXACT_RADIUS) for u in uploads]
    wide = [np.full(u.codes.shape[0], VIDEO_RADIUS) for u in uploads]
    answers: dict[str, list[set[tuple[int, int, int, int]]]] = {}
    print(
        f"index: {args.index_videos:,} videos x {args.hashes} random codes = {n:,} codes; "
        f"{len(uploads) - 1} checks of a {args.upload_seconds:.0f} s upload "
        f"({uploads[0].codes.shape[0]} codes), half of them copies of an indexed video"
    )
    print()
    print("| peer: what is timed | build s | GiB | p50 ms | p99 ms | CPU p50 ms | CPU p99 ms |")
    print("|---|---:|---:|---:|---:|---:|---:|")

    def run(name: str, index: Any, nflip: int, check: bool) -> None:
        # Filled in place, as load does, so that the codes are held once.
        index.words_, index.labels_, index.tags_, index.size = words, labels, tags, n
        cpu, started = time.process_time(), time.perf_counter()
        index.fold() if isinstance(index, HammingIndex) else index.compact()
        build = time.perf_counter() - started
        build_cpu = time.process_time() - cpu
        if isinstance(index, HammingIndex):
            size = n * (32 + 8 + 2 + 16 * 4) + index._offsets.nbytes
        else:
            size = index.nbytes
        walls, cpus, found = [], [], []
        for k, upload in enumerate(uploads):
            begun, cpu = time.perf_counter(), time.process_time()
            if check:  # the whole check: search within 31 bits, then temporal alignment
                match_video(index, upload)
            else:  # the search of the check (the alignment after it is the same code)
                index.search(upload.codes, wide[k], nflip=nflip)
            walls.append(time.perf_counter() - begun)
            cpus.append(time.process_time() - cpu)
            found.append(_answer(index.search(upload.codes, exact[k], nflip=nflip)))
        answers[name] = found[1:]  # the first compiled the search kernels
        walls, cpus = walls[1:], cpus[1:]
        print(
            f"| {name}: {'check' if check else 'search'} | {build:,.0f} (CPU {build_cpu:,.0f}) | "
            f"{size / 2**30:.1f} | {_ms(walls, 50)} | {_ms(walls, 99)} | {_ms(cpus, 50)} | "
            f"{_ms(cpus, 99)} |"
        )

    if not args.skip_legacy:
        run("HammingIndex 16 x 16-bit keys, exact keys (until now)", HammingIndex(), 0, False)
    new = FrameIndex()
    run(f"FrameIndex 8 x 32-bit keys, <= {VIDEO_NFLIP} flipped bit (now)", new, VIDEO_NFLIP, True)
    # The reference: a linear scan of every code for a few query codes of some checks.
    scan_times, agree = [], 0
    sample = min(args.scan_codes, uploads[0].codes.shape[0])
    for k in range(1, min(len(uploads), args.scan_checks + 1)):
        pick = rng.choice(uploads[k].codes.shape[0], sample, replace=False)
        begun = time.perf_counter()
        scanned = new.scan(uploads[k].codes[pick], np.full(sample, VIDEO_EXACT_RADIUS))
        scan_times.append(time.perf_counter() - begun)
        reference = {(int(pick[q]), *rest) for q, *rest in _answer(scanned)}
        mine = {hit for hit in answers[next(iter(answers))][k - 1] if hit[0] in set(pick.tolist())}
        agree += reference == mine and all(
            {h for h in found[k - 1] if h[0] in set(pick.tolist())} == reference
            for found in answers.values()
        )
    print()
    names = list(answers)
    same = all(answers[name] == answers[names[0]] for name in names)
    pairs = sum(len(a) for a in answers[names[0]])
    print(
        f"answers within {VIDEO_EXACT_RADIUS} bits (the guaranteed radius of both indexes): "
        f"{'identical' if same else 'DIFFERENT'} across {', '.join(names)} "
        f"({pairs:,} (query code, indexed code) pairs over {len(answers[names[0]])} checks)"
    )
    if scan_times:
        whole = float(np.mean(scan_times)) / sample * uploads[0].codes.shape[0]
        print(
            f"linear scan of all {n:,} codes for {sample} query codes: "
            f"{np.mean(scan_times):.2f} s a time (so {whole:,.0f} s for a whole check); "
            f"same answers as the indexes in {agree} of {len(scan_times)} checks"
        )


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench video_matching")
    parser.add_argument("--originals", type=int, default=40)
    parser.add_argument("--distinct", type=int, default=400)
    parser.add_argument("--fresh", type=int, default=200)
    parser.add_argument("--shared", type=int, default=30)
    parser.add_argument("--unrelated-side", type=int, default=FULL_SIDE)
    parser.add_argument("--index-videos", type=int, default=100_000)
    parser.add_argument("--hashes", type=int, default=100)
    parser.add_argument("--upload-seconds", type=float, default=15.0)
    parser.add_argument("--checks", type=int, default=200)
    parser.add_argument("--seed", type=int, default=11)
    parser.add_argument("--skip-quality", action="store_true")
    parser.add_argument("--skip-index", action="store_true")
    parser.add_argument("--skip-legacy", action="store_true")
    parser.add_argument("--scan-checks", type=int, default=3)
    parser.add_argument("--scan-codes", type=int, default=8)
    args = parser.parse_args(argv)
    if not args.skip_quality:
        quality(args)
    if not args.skip_index:
        index_scale(args)
    return 0

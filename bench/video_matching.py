"""Video re-upload detection: recall of each edit, false matches, shared music, fingerprinting
throughput, and check latency against a large index.

``uv run --group bench python -m bench video_matching [--originals N] [--distinct N]
[--fresh N] [--shared N] [--index-videos N] [--hashes N] [--upload-seconds S] [--checks N]
[--skip-quality] [--skip-index] [--skip-legacy] [--scan-checks N] [--scan-codes N] [--seed S]``

Quality: videos from this benchmark's own generator (moving stripes, discs and text over a
noisy gradient, 4 to 7 s, landscape or portrait, 15 or 24 fps, each with a melody; not the
tests' generator) — ``--originals`` originals and ``--distinct`` unrelated videos are indexed,
with a library track marked as shared music and half of ``--shared`` videos that use it. Each
original is queried as every edit of :data:`guanghe.sim.videos.EDITS` (trim, speed 0.8x and
1.25x, mirror, crop to 4:3 or 1:1, letterbox into 9:16, screen recording, low bitrate) and with
new pictures over its sound; ``--fresh`` unrelated videos and the other half of the shared-music
videos are queried too. A copy is recalled when its original is matched (picture, or sound for
the sound-only copy); a false match is a match with any other video. Beside Guanghe: plain
per-frame pHash (64-bit ``imagehash`` pHash of a frame every 0.5 s; a video matches when half
of the upload's frames have a stored frame of it within the threshold), at its best threshold
(most recall with at most 0.1 % of unrelated queries matched).

Speed: seconds of video fingerprinted per second of one process (decode, frame hashes, query
codes, Chromaprint), and the p50 / p99 latency (wall and CPU) of the picture check of a
``--upload-seconds`` upload against an index of ``--index-videos`` videos x ``--hashes`` random
256-bit codes, half the uploads random and half a copy of an indexed video (each code 2-12 bits
off). Peers on the same codes and uploads: the 16 x 16-bit ``HammingIndex`` (the video index
before ``FrameIndex``; its search, ``--skip-legacy`` leaves it out), the 8 x 32-bit
``FrameIndex`` (the whole check), and a linear scan of every code for ``--scan-codes`` query
codes of ``--scan-checks`` uploads; the answers within the guaranteed 15 bits are compared.
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import time
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

LIBRARY_ID = 900_000_000


def bench_scene(seed: int) -> bytes:
    """A generated video with a melody, unlike the tests' scenes (see the module docstring)."""
    from PIL import Image, ImageDraw

    from guanghe.sim import videos

    rng = np.random.default_rng(seed)
    portrait = rng.random() < 0.3
    width, height = (144, 256) if portrait else (256, 144)
    fps = int(rng.choice([15, 24]))
    seconds = float(rng.uniform(4, 7))
    yy, xx = np.mgrid[0:height, 0:width].astype(np.float32)
    colours = rng.uniform(0, 255, (2, 3))
    ramp = (xx / width * rng.uniform(-1, 1) + yy / height * rng.uniform(-1, 1) + 2) / 4
    base = colours[0] * (1 - ramp[..., None]) + colours[1] * ramp[..., None]
    base += rng.normal(0, 10, (height // 8, width // 8, 1)).repeat(8, 0).repeat(8, 1)
    stripes = [(rng.uniform(0.02, 0.1), rng.uniform(0, 6), rng.uniform(-2, 2)) for _ in range(2)]
    discs = [(rng.uniform(0, width), rng.uniform(0, height), rng.uniform(-4, 4),
              rng.uniform(-4, 4), rng.uniform(8, 30), rng.uniform(0, 255, 3))
             for _ in range(int(rng.integers(2, 6)))]  # fmt: skip
    word = "".join(rng.choice(list("ABCDEFGHJKLMNPQRSTUVWXYZ"), 5))
    frames = []
    for n in range(int(seconds * fps)):
        picture = base.copy()
        for freq, phase, speed in stripes:
            picture += 25 * np.sin(freq * (xx + yy) + phase + speed * n / fps)[..., None]
        for x0, y0, vx, vy, r, colour in discs:
            x, y = (x0 + vx * n) % width, (y0 + vy * n) % height
            picture[(xx - x) ** 2 + (yy - y) ** 2 <= r * r] = colour
        image = Image.fromarray(np.clip(picture, 0, 255).astype(np.uint8))
        ImageDraw.Draw(image).text((10 + n % 40, height // 3), word, fill=(255, 255, 255))
        frames.append(np.asarray(image))
    melody = videos.backing_track(seed + 77, seconds)
    return videos.encode(videos.Clip(frames, melody, float(fps)))


def _with_sound(seed: int, sound: npt.NDArray[np.float32]) -> bytes:
    from guanghe.sim import videos

    clip = videos.decode(bench_scene(seed))
    length = min(len(sound), int(len(clip.frames) / clip.fps * videos.SOUND_RATE))
    return videos.encode(videos.Clip(clip.frames, sound[:length], clip.fps))


@dataclass(frozen=True, slots=True)
class Printed:
    """What the benchmark keeps of a video: Guanghe's fingerprint and the pHash frames."""

    media: Any
    phash: npt.NDArray[np.uint64]
    seconds: float
    cost: float


def _phash_frames(data: bytes) -> npt.NDArray[np.uint64]:
    import imagehash
    from PIL import Image

    from guanghe.sim import videos

    clip = videos.decode(data)
    step = max(1, round(clip.fps / 2))
    codes = []
    for frame in clip.frames[::step]:
        bits = np.asarray(imagehash.phash(Image.fromarray(frame)).hash, dtype=np.uint8).reshape(-1)
        codes.append(int.from_bytes(np.packbits(bits).tobytes(), "big"))
    return np.array(codes, dtype=np.uint64)


def _fingerprint(data: bytes) -> Printed:
    from guanghe.originality import decode_video, fingerprint_media

    started = time.perf_counter()
    media = fingerprint_media(decode_video(data))
    cost = time.perf_counter() - started
    return Printed(media, _phash_frames(data), media.duration_s, cost)


def _make(job: tuple[str, int, int]) -> tuple[str, int, Printed]:
    """``(role, key, seed)``: generate the video of that role and fingerprint it."""
    from guanghe.sim import videos

    role, key, seed = job
    if role in ("original", "distinct", "fresh"):
        data = bench_scene(seed)
    elif role in ("library", "shared"):
        data = _with_sound(seed, videos.backing_track(424242, 9.0))
    elif role == "sound-only":
        data = videos.new_pictures(bench_scene(seed), bench_scene(seed + 500_000))
    else:
        data = videos.edit_video(bench_scene(seed), role, seed=seed)  # type: ignore[arg-type]
    return role, key, _fingerprint(data)


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
        distance = _popcount64(printed.phash[:, None] ^ frames[None, :])
        nearest = np.minimum.reduceat(distance, starts[present], axis=1)
        half = (printed.phash.size + 1) // 2
        kth = np.partition(nearest, half - 1, axis=0)[half - 1]
        needed[qi, present] = np.minimum(kth, 33).astype(np.int8)
    return needed


def _popcount64(values: npt.NDArray[np.uint64]) -> npt.NDArray[np.int64]:
    counts: npt.NDArray[np.int64] = np.bitwise_count(values).astype(np.int64)
    return counts


def quality(args: argparse.Namespace) -> None:
    from guanghe.originality.media import MediaIndex, match_media
    from guanghe.sim import videos

    edits = [*videos.EDITS, "sound-only"]
    jobs = [("original", k, args.seed + k) for k in range(args.originals)]
    # keys and seeds of each role in their own range of a million, so that 20,000 distinct
    # videos (the false-match goal) collide with no shared or fresh video
    jobs += [("distinct", 1_000_000 + k, args.seed + 1_000_000 + k) for k in range(args.distinct)]
    jobs += [("library", LIBRARY_ID, args.seed + 99_999)]
    jobs += [("shared", 2_000_000 + k, args.seed + 2_000_000 + k) for k in range(args.shared)]
    jobs += [(e, k, args.seed + k) for k in range(args.originals) for e in edits]
    jobs += [("fresh", 3_000_000 + k, args.seed + 3_000_000 + k) for k in range(args.fresh)]
    started = time.perf_counter()
    with multiprocessing.get_context("spawn").Pool(os.cpu_count() or 1) as pool:
        made = []
        for done, item in enumerate(pool.imap_unordered(_make, jobs, chunksize=8), 1):
            made.append(item)
            if done % max(25, len(jobs) // 40) == 0:
                spent = time.perf_counter() - started
                print(f"  {done:,} of {len(jobs):,} videos in {spent:.0f} s", flush=True)
        made.sort(key=lambda item: (item[0], item[1]))
    spent = time.perf_counter() - started
    print(f"generated and fingerprinted {len(made)} videos in {spent:.0f} s")
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
        else:
            queries.append((role, key, printed))
    shared = {LIBRARY_ID}
    seconds = sum(p.seconds for _, _, p in made)
    cost = sum(p.cost for _, _, p in made)
    print(
        f"fingerprinting: {seconds / cost:.1f} s of video per second of one process "
        f"({seconds:.0f} s of video in {cost:.0f} s)"
    )

    match_media(index, queries[0][2].media, shared)  # compiles the search kernels
    checks: list[float] = []
    ours: dict[str, list[bool]] = {}
    ours_false: dict[str, int] = {}
    for role, key, printed in queries:
        begun = time.perf_counter()
        found = match_media(index, printed.media, shared)
        checks.append(time.perf_counter() - begun)
        matched = {m.work_id for m in found}
        if role in ("fresh", "shared"):
            ours.setdefault(role, []).append(not matched)
        else:
            ours.setdefault(role, []).append(key in matched)
        ours_false[role] = ours_false.get(role, 0) + len(matched - {key})

    # pHash: per query and stored video, the smallest threshold at which half of the query's
    # frames have a stored frame of that video within it (the ceil(n/2)-th smallest of the
    # frames' nearest distances): one (queries, videos) int8 array, whatever the index size
    keys = sorted(stored)
    needed = _phash_needed(queries, [stored[key].phash for key in keys])
    unrelated = np.array([role in ("fresh", "shared") for role, _, _ in queries])
    key_position = {key: i for i, key in enumerate(keys)}
    own = np.zeros((len(queries), len(keys)), dtype=bool)
    for qi, (_, key, _) in enumerate(queries):
        if key in key_position:
            own[qi, key_position[key]] = True
    threshold = 0
    for t in range(33):
        if ((needed[unrelated] <= t).any(axis=1)).mean() <= 0.001:
            threshold = t
    flagged = needed <= threshold

    print()
    print(f"| query | n | Guanghe recall | pHash recall (<= {threshold} of 64 bits) |")
    print("|---|---:|---:|---:|")
    roles = [*edits, "fresh", "shared"]
    total_ours, total_phash, n_copies = 0, 0, 0
    for role in roles:
        rows = [i for i, (r, _, _) in enumerate(queries) if r == role]
        if not rows:
            continue
        ours_rate = float(np.mean(ours[role]))
        if role in ("fresh", "shared"):
            phash_rate = float(np.mean(~flagged[rows].any(axis=1)))
            label = f"{role} (no match)"
        else:
            phash_rate = float(np.mean((flagged[rows] & own[rows]).any(axis=1)))
            total_ours += int(np.sum(ours[role]))
            total_phash += int(np.sum((flagged[rows] & own[rows]).any(axis=1)))
            n_copies += len(rows)
            label = role
        print(f"| {label} | {len(rows)} | {ours_rate:.3f} | {phash_rate:.3f} |")
    print(
        f"| all copies | {n_copies} | {total_ours / max(1, n_copies):.3f} | "
        f"{total_phash / max(1, n_copies):.3f} |"
    )
    unrelated_n = int(unrelated.sum())
    ours_unrelated = sum(not ok for r in ("fresh", "shared") for ok in ours.get(r, []))
    wrong = sum(ours_false.values())
    phash_wrong = int((flagged & ~own).sum())
    pairs = len(queries) * len(keys)
    print()
    print(
        f"false matches: Guanghe {ours_unrelated}/{unrelated_n} unrelated queries "
        f"({ours_unrelated / max(1, unrelated_n):.3%}), {wrong} wrong (query, video) pairs of "
        f"{pairs:,}; pHash {int(flagged[unrelated].any(axis=1).sum())}/{unrelated_n} unrelated "
        f"queries, {phash_wrong} wrong pairs"
    )
    shared_wrong = ours_false.get("shared", 0)
    print(f"shared-music videos counted as copies: {shared_wrong}")
    print(
        f"check against the {len(stored)}-video index: p50 {np.percentile(checks, 50) * 1000:.1f}"
        f" ms, p99 {np.percentile(checks, 99) * 1000:.1f} ms"
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

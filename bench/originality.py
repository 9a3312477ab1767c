"""Re-upload detection: recall of edited copies, false matches, index latency and build rate.

``uv run --group bench python -m bench originality [--originals N] [--distinct N] [--fresh N]
[--works N] [--keypoint-works N] [--seed S]``

Quality: ``--originals`` generated pictures (random gradients, shapes and words; a generator of
its own, not the tests') and ``--distinct`` unrelated pictures are indexed. Each original is
queried as the twelve :data:`EDITS` — resized to 50 %, JPEG quality 30, cropped 10 % (5 % per
side), a text overlay, brightness +20 % and -20 %, mirrored, cropped 20 % at a random offset,
turned 2-4 degrees, a caption band across the middle, a screen recording and several at once —
and ``--fresh`` unrelated pictures are queried too. A
variant is recalled when its own original is declared a match; a false match is any declared
match with a different picture. The product (Guanghe's fingerprints, index and check) is
printed with and without its keypoint retrieval (the PDQ windows alone are the approach before
it) beside ``imagehash`` pHash at its own best threshold (most recall with at most 0.1 %
of unrelated queries matched), found by brute force over every pair; each false match of the
product is listed with its evidence. Every picture is drawn
from its own seed and drawn again when the check needs it, so a large ``--distinct`` costs
time, not memory; the indexed pictures are drawn and fingerprinted by one process per CPU.

Speed: an index of ``--works`` works (random 256-bit codes, as many as a cover stores),
built in one go and by increments; then the p50 / p99 latency of a full query (every code an
upload is searched with, each searched as the product searches it). And a keypoint index of
``--keypoint-works`` covers, built in increments of 1,000: each cover is the stored keypoints
of an indexed picture with every bit flipped with probability 1/4 (64 bits on average: no
longer a copy of it, beyond the match distance, while the positions and part of ORB's uneven
bit statistics stay); the p50 / p99 latency of the keypoint search
and geometry check (:func:`~guanghe.originality.matching.keypoint_candidates`) of the
benchmark's edited uploads. The check against the stored pictures is in the check time above.
"""

from __future__ import annotations

import argparse
import functools
import io
import multiprocessing
import os
import time
from collections.abc import Callable, Iterator
from typing import Any

import numpy as np
import numpy.typing as npt
from PIL import Image, ImageDraw, ImageEnhance, ImageFont

WORDS = ("sale", "wow", "new", "vlog", "day", "cook", "run", "city", "cat", "top", "hot", "go")
Edit = Callable[[Image.Image, np.random.Generator], Image.Image]


def generate_picture(rng: np.random.Generator) -> Image.Image:
    """A cover-like picture: a two-colour gradient, random ellipses, polygons and words."""
    width, height = int(rng.choice([360, 480, 540])), int(rng.choice([480, 640, 720]))
    yy, xx = np.mgrid[0:height, 0:width].astype(np.float32)
    angle = rng.uniform(0, 2 * np.pi)
    t = (np.cos(angle) * xx / width + np.sin(angle) * yy / height + 1.5) / 3.0
    ends = rng.integers(0, 256, (2, 3)).astype(np.float32)
    pixels = ends[0] + t[..., None] * (ends[1] - ends[0])
    image = Image.fromarray(pixels.clip(0, 255).astype(np.uint8))
    draw = ImageDraw.Draw(image)
    for _ in range(int(rng.integers(4, 10))):
        colour = tuple(int(v) for v in rng.integers(0, 256, 3))
        x, y = rng.uniform(0, width), rng.uniform(0, height)
        size = rng.uniform(0.05, 0.4) * width
        if rng.random() < 0.5:
            draw.ellipse((x, y, x + size, y + size * rng.uniform(0.4, 2.0)), fill=colour)
        else:
            points = [(x + rng.uniform(-size, size), y + rng.uniform(-size, size)) for _ in "abcd"]
            draw.polygon(points, fill=colour)
    font = ImageFont.load_default(size=int(rng.integers(24, 48)))
    for _ in range(int(rng.integers(1, 4))):
        word = " ".join(rng.choice(WORDS, 2))
        at = (rng.uniform(0, width * 0.6), rng.uniform(0, height * 0.9))
        draw.text(at, word, fill=tuple(int(v) for v in rng.integers(0, 256, 3)), font=font)
    return image


def _jpeg(image: Image.Image, quality: int) -> Image.Image:
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=quality)
    return Image.open(io.BytesIO(buffer.getvalue())).convert("RGB")


def _crop(image: Image.Image, _rng: np.random.Generator) -> Image.Image:
    width, height = image.size
    dx, dy = round(width * 0.05), round(height * 0.05)
    return image.crop((dx, dy, width - dx, height - dy))


def _overlay(image: Image.Image, rng: np.random.Generator) -> Image.Image:
    image = image.copy()
    width, height = image.size
    font = ImageFont.load_default(size=max(16, width // 12))
    text = f"{rng.choice(WORDS).upper()} {int(rng.integers(10, 999))}!!"
    at = (width * rng.uniform(0.03, 0.3), height * rng.uniform(0.05, 0.85))
    ImageDraw.Draw(image).text(
        at, text, font=font, fill=(255, 255, 255), stroke_width=3, stroke_fill=(0, 0, 0)
    )
    return image


def _mirror(image: Image.Image, _rng: np.random.Generator) -> Image.Image:
    return image.transpose(Image.Transpose.FLIP_LEFT_RIGHT)


def _crop_20(image: Image.Image, rng: np.random.Generator) -> Image.Image:
    """80 % of the width and of the height kept, at a random offset (not only centred)."""
    width, height = image.size
    left = round(width * rng.uniform(0.0, 0.2))
    top = round(height * rng.uniform(0.0, 0.2))
    return image.crop((left, top, left + round(width * 0.8), top + round(height * 0.8)))


def _rotate(image: Image.Image, rng: np.random.Generator) -> Image.Image:
    """Turned by 2-4 degrees either way, the corners left black (as a phone editor does)."""
    angle = float(rng.uniform(2.0, 4.0) * rng.choice([-1, 1]))
    return image.rotate(angle, resample=Image.Resampling.BICUBIC, fillcolor=(0, 0, 0))


def _caption_band(image: Image.Image, rng: np.random.Generator) -> Image.Image:
    """An opaque band across the middle (12 % of the height) with a caption on it."""
    image = image.copy()
    width, height = image.size
    top = round(height * rng.uniform(0.40, 0.48))
    band = round(height * 0.12)
    draw = ImageDraw.Draw(image)
    colour = tuple(int(v) for v in rng.integers(0, 60, 3))
    draw.rectangle((0, top, width, top + band), fill=colour)
    font = ImageFont.load_default(size=max(16, band // 2))
    text = f"{rng.choice(WORDS).upper()} {rng.choice(WORDS)} {int(rng.integers(1, 99))}"
    draw.text((width * 0.08, top + band * 0.2), text, fill=(255, 255, 255), font=font)
    return image


def _screen_recording(image: Image.Image, rng: np.random.Generator) -> Image.Image:
    """The picture played on a landscape screen and recorded: pillarboxed on black at 1280 x
    720, a little soft and darker, with a progress bar along the bottom, saved as JPEG q50."""
    screen = Image.new("RGB", (1280, 720), (0, 0, 0))
    height = 720 - 2 * int(rng.integers(0, 30))
    width = round(image.width * height / image.height)
    shown = image.resize((width, height), Image.Resampling.BILINEAR)
    shown = ImageEnhance.Brightness(shown).enhance(float(rng.uniform(0.85, 0.95)))
    screen.paste(shown, ((1280 - width) // 2, (720 - height) // 2))
    draw = ImageDraw.Draw(screen)
    progress = int(rng.uniform(0.1, 0.9) * 1200)
    draw.rectangle((40, 700, 40 + progress, 704), fill=(230, 230, 230))
    draw.rectangle((40 + progress, 700, 1240, 704), fill=(90, 90, 90))
    soft = screen.resize((960, 540), Image.Resampling.BILINEAR).resize((1280, 720))
    return _jpeg(soft, 50)


def _several(image: Image.Image, rng: np.random.Generator) -> Image.Image:
    """Mirrored, cropped (90 % kept at a random offset), a caption overlay, brightness -10 %
    and JPEG q40, one after the other."""
    width, height = image.size
    left, top = round(width * rng.uniform(0, 0.1)), round(height * rng.uniform(0, 0.1))
    edited = _mirror(image, rng).crop(
        (left, top, left + round(width * 0.9), top + round(height * 0.9))
    )
    edited = _overlay(edited, rng)
    edited = ImageEnhance.Brightness(edited).enhance(0.9)
    return _jpeg(edited, 40)


EDITS: dict[str, Edit] = {
    "resized 50%": lambda im, _: im.resize((im.width // 2, im.height // 2)),
    "JPEG q30": lambda im, _: _jpeg(im, 30),
    "cropped 10%": _crop,
    "text overlay": _overlay,
    "brightness +20%": lambda im, _: ImageEnhance.Brightness(im).enhance(1.2),
    "brightness -20%": lambda im, _: ImageEnhance.Brightness(im).enhance(0.8),
    "mirrored": _mirror,
    "cropped 20%": _crop_20,
    "rotated 2-4 deg": _rotate,
    "caption band": _caption_band,
    "screen recording": _screen_recording,
    "several at once": _several,
}


class Pictures:
    """The benchmark's pictures, each drawn from its own seed so that none need be kept:
    ``originals`` (kept, they are edited), ``distinct`` unrelated indexed pictures and
    ``fresh`` unrelated queries."""

    def __init__(self, seed: int, originals: int, distinct: int, fresh: int) -> None:
        self.seed, self.distinct, self.fresh = seed, distinct, fresh
        self.originals = [self._draw(0, k) for k in range(originals)]

    @property
    def spec(self) -> tuple[int, int, int, int]:
        """The arguments that draw these pictures again (in another process)."""
        return self.seed, len(self.originals), self.distinct, self.fresh

    def _draw(self, kind: int, k: int) -> Image.Image:
        return generate_picture(np.random.default_rng([self.seed, kind, k]))

    def indexed(self, work_id: int) -> Image.Image:
        """Indexed picture ``work_id``: the originals first, then the distinct ones."""
        if work_id < len(self.originals):
            return self.originals[work_id]
        return self._draw(1, work_id - len(self.originals))

    @property
    def n_indexed(self) -> int:
        return len(self.originals) + self.distinct

    def queries(self) -> Iterator[tuple[str, Image.Image, int]]:
        """``(edit, picture, truth)``: every edit of every original, then the unrelated
        pictures (edit ``""``, truth -1)."""
        for truth, original in enumerate(self.originals):
            for e, (edit, apply) in enumerate(EDITS.items()):
                yield edit, apply(original, np.random.default_rng([self.seed, 3, truth, e])), truth
        for k in range(self.fresh):
            yield "", self._draw(2, k), -1


def _phash_bits(image: Image.Image) -> npt.NDArray[np.bool_]:
    import imagehash

    return np.asarray(imagehash.phash(image).hash, dtype=bool).reshape(-1)


@functools.cache
def _pictures(spec: tuple[int, int, int, int]) -> Pictures:
    return Pictures(*spec)


def _hash_indexed(
    spec: tuple[int, int, int, int], work_id: int
) -> tuple[npt.NDArray[np.uint8], Any, npt.NDArray[np.bool_], float, float]:
    """In a worker: indexed picture ``work_id``'s stored codes and keypoints, its pHash and the
    seconds the product's fingerprint and keypoints took."""
    from guanghe.originality.fingerprint import fingerprint_image
    from guanghe.originality.keypoints import stored_keypoints

    picture = _pictures(spec).indexed(work_id)
    started = time.perf_counter()
    codes = fingerprint_image(picture).codes
    hashed = time.perf_counter()
    keypoints = stored_keypoints(picture)
    done = time.perf_counter()
    return codes, keypoints, _phash_bits(picture), hashed - started, done - hashed


def _run(pictures: Pictures) -> tuple[dict[str, dict[str, Any]], list[Any]]:
    """Index every picture (fingerprinted by one process per CPU), query every query; the
    product with and without keypoints, and pHash, side by side. Also returns the indexed
    pictures' keypoints (for the keypoint latency)."""
    from guanghe.originality import matching
    from guanghe.originality.fingerprint import INDEXED, query_codes
    from guanghe.originality.index import HammingIndex
    from guanghe.originality.keypoints import KeypointIndex, query_keypoints

    index = matching.PictureIndex(HammingIndex(), KeypointIndex())
    stored = np.zeros((pictures.n_indexed, 64), dtype=bool)
    fingerprint_s = keypoints_s = 0.0
    all_keypoints = []
    tags = np.array([matching.tag_of("cover", r) for r in range(len(INDEXED))], np.int16)
    with multiprocessing.get_context("spawn").Pool(os.cpu_count()) as pool:
        hash_one = functools.partial(_hash_indexed, pictures.spec)
        hashed = pool.imap(hash_one, range(pictures.n_indexed), chunksize=64)
        for work_id, (stored_codes, keypoints, bits, seconds, kp_seconds) in enumerate(hashed):
            labels = np.full(len(stored_codes), work_id, np.int64)
            index.codes.add(stored_codes, labels, tags)
            labels = np.full(len(keypoints.descriptors), work_id, np.int64)
            index.keypoints.add(keypoints.descriptors, labels, keypoints.tags)
            all_keypoints.append(keypoints)
            stored[work_id] = bits
            fingerprint_s += seconds
            keypoints_s += kp_seconds
    index.codes.fold()
    cached = functools.lru_cache(maxsize=256)(pictures.indexed)
    edits: list[str] = []
    before: list[tuple[bool, bool]] = []
    product: list[tuple[bool, bool]] = []
    own, other = [], []
    timings, before_timings, keypoint_cpu = [], [], []
    wrong: list[str] = []
    for edit, picture, truth in pictures.queries():
        edits.append(edit)
        started = time.perf_counter()
        codes = query_codes(picture)
        matches = matching.find_matches(picture, codes, index, cached, by_keypoints=False)
        windows_done = time.perf_counter()
        cpu = time.process_time()
        # The rest of find_matches(..., by_keypoints=True), timed apart.
        verified = {m.candidate.work_id for m in matches if m.evidence == "verified"}
        found = [
            c
            for c in matching.keypoint_candidates(index.keypoints, query_keypoints(picture))
            if c.work_id not in verified
        ]
        matches_before = list(matches)
        matches += matching.check_keypoint_candidates(picture, found, cached)
        keypoint_cpu.append(time.process_time() - cpu)
        timings.append(time.perf_counter() - started)
        before_timings.append(windows_done - started)
        for outcome, declared_by in ((before, matches_before), (product, matches)):
            declared = {m.candidate.work_id for m in declared_by}
            outcome.append((truth in declared, bool(declared - {truth})))
        wrong.extend(_describe(m) for m in matches if m.candidate.work_id != truth)
        distance = (stored != _phash_bits(picture)).sum(axis=1)
        own.append(int(distance[truth]) if truth >= 0 else 65)
        if truth >= 0:
            distance[truth] = 65
        other.append(int(distance.min()))
    own_d, other_d = np.array(own), np.array(other)
    fresh = np.array([edit == "" for edit in edits])
    best = 0
    for threshold in range(65):
        if np.mean(other_d[fresh] <= threshold) <= 0.001:
            best = threshold
    phash = [(o <= best, w <= best) for o, w in zip(own_d, other_d, strict=True)]
    return {
        "Guanghe before (PDQ windows)": _score(edits, before)
        | {
            "check_ms": float(np.median(before_timings) * 1e3),
            "threshold": "product rule",
        },
        PRODUCT: _score(edits, product)
        | {
            "fingerprint_ms": fingerprint_s / pictures.n_indexed * 1e3,
            "keypoints_ms": keypoints_s / pictures.n_indexed * 1e3,
            "check_ms": float(np.median(timings) * 1e3),
            "check_p99_ms": float(np.percentile(timings, 99) * 1e3),
            "keypoint_cpu_ms": float(np.median(keypoint_cpu) * 1e3),
            "threshold": "product rule",
            "wrong": wrong,
        },
        "imagehash pHash": _score(edits, phash) | {"threshold": f"<= {best} of 64 bits"},
    }, all_keypoints


PRODUCT = "Guanghe (PDQ windows + keypoints)"


def _keypoint_latency(
    pictures: Pictures, stored: list[Any], works: int, seed: int
) -> dict[str, float]:
    """A keypoint index of ``works`` covers drawn from the ``stored`` keypoints (bits flipped
    with probability 1/4), built in increments of 1,000; the latency of the keypoint search of
    edited uploads."""
    from guanghe.originality import matching
    from guanghe.originality.keypoints import KeypointIndex, query_keypoints

    rng = np.random.default_rng([seed, 7])
    index = KeypointIndex()
    build_s = 0.0
    step = 1_000
    for at in range(0, works, step):
        covers = [stored[k] for k in rng.integers(0, len(stored), min(step, works - at))]
        descriptors = np.concatenate([c.descriptors for c in covers])
        flips = np.packbits(rng.random((len(descriptors), 256)) < 1 / 4, axis=1)
        labels = np.repeat(
            np.arange(at, at + len(covers), dtype=np.int64), [len(c.descriptors) for c in covers]
        )
        tags = np.concatenate([c.tags for c in covers])
        started = time.perf_counter()
        index.add(descriptors ^ flips, labels, tags)
        build_s += time.perf_counter() - started
    timings = []
    for k, (edit, picture, _) in enumerate(pictures.queries()):
        if not edit or k % 3:
            continue
        query = query_keypoints(picture)
        started = time.perf_counter()
        matching.keypoint_candidates(index, query)
        timings.append(time.perf_counter() - started)
    return {
        "descriptors": float(index.size),
        "bytes": float(
            index.words_.itemsize * 4 * index.size
            + (index.labels_.itemsize + index.tags_.itemsize) * index.size
            + sum(run.keys.nbytes + run.rows.nbytes for run in index._runs)
        ),
        "incremental_works_per_s": works / build_s,
        "p50_ms": float(np.percentile(timings, 50) * 1e3),
        "p99_ms": float(np.percentile(timings, 99) * 1e3),
        "queries": float(len(timings)),
    }


def _describe(match: Any) -> str:
    """One false match: its evidence, hash distance, windows and pixel agreement."""
    c, a = match.candidate, match.agreement
    pixels = (
        "" if a is None else f", corr {a.correlation:.3f}, structure {a.structure_agreement:.3f}"
    )
    return (
        f"{match.evidence} at {c.distance} bits, {c.query_region} ~ {c.indexed_region} "
        f"(work {c.work_id}{pixels})"
    )


def _score(edits: list[str], outcomes: list[tuple[bool, bool]]) -> dict[str, Any]:
    """Recall per edit and overall; false matches among unrelated queries and among all."""
    recall: dict[str, list[bool]] = {}
    fresh_false = []
    wrong = 0
    for edit, (hit, false) in zip(edits, outcomes, strict=True):
        wrong += false
        if edit:
            recall.setdefault(edit, []).append(hit)
        else:
            fresh_false.append(false)
    per_edit = {edit: float(np.mean(hits)) for edit, hits in recall.items()}
    every = [hit for hits in recall.values() for hit in hits]
    return {
        "recall": per_edit,
        "recall_all": float(np.mean(every)),
        "fresh_false": float(np.mean(fresh_false)),
        "fresh_false_count": int(np.sum(fresh_false)),
        "false_any": wrong / len(edits),
    }


def _latency(works: int, seed: int) -> dict[str, float]:
    from guanghe.originality import matching
    from guanghe.originality.fingerprint import INDEXED, REGIONS, QueryCodes
    from guanghe.originality.index import HammingIndex

    rng = np.random.default_rng(seed)
    per_work = len(INDEXED)
    codes = rng.integers(0, 256, (works * per_work, 32), dtype=np.uint8)
    labels = np.repeat(np.arange(works, dtype=np.int64), per_work)
    cover_tags = [matching.tag_of("cover", r) for r in range(per_work)]
    tags = np.tile(np.array(cover_tags, dtype=np.int16), works)
    warm = HammingIndex()
    warm.add(codes[:64], labels[:64], tags[:64])
    warm.fold()
    warm.search(codes[:2], np.array([31, 31]), nflip=1)
    index = HammingIndex()
    started = time.perf_counter()
    index.add(codes, labels, tags)
    index.fold()
    build_s = time.perf_counter() - started
    increments = HammingIndex()
    started = time.perf_counter()
    step = 1_000 * per_work
    for at in range(0, min(len(codes), 200_000 * per_work), step):
        increments.add(codes[at : at + step], labels[at : at + step], tags[at : at + step])
    incremental_s = time.perf_counter() - started
    incremental_works = min(works, 200_000)
    names = tuple(REGIONS)
    timings = []
    for _ in range(300):
        base = codes[rng.integers(0, len(codes), len(names))].copy()
        flips = rng.integers(0, 256, (len(names), 24))
        for row, positions in enumerate(flips):
            for bit in positions:
                base[row, bit // 8] ^= np.uint8(1 << (bit % 8))
        query = QueryCodes(base, names, 100)
        started = time.perf_counter()
        matching.candidates(index, query)
        timings.append(time.perf_counter() - started)
    return {
        "build_works_per_s": works / build_s,
        "incremental_works_per_s": incremental_works / incremental_s,
        "p50_ms": float(np.percentile(timings, 50) * 1e3),
        "p99_ms": float(np.percentile(timings, 99) * 1e3),
        "codes_per_query": float(len(names)),
        "codes_per_work": float(per_work),
    }


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench originality")
    parser.add_argument("--originals", type=int, default=400)
    parser.add_argument("--distinct", type=int, default=10_000)
    parser.add_argument("--fresh", type=int, default=2_000)
    parser.add_argument("--works", type=int, default=1_000_000)
    parser.add_argument("--keypoint-works", type=int, default=50_000)
    parser.add_argument("--seed", type=int, default=11)
    args = parser.parse_args(argv)

    started = time.perf_counter()
    pictures = Pictures(args.seed, args.originals, args.distinct, args.fresh)
    results, keypoints = _run(pictures)
    print(f"indexed and queried in {time.perf_counter() - started:.0f} s")
    edits = list(EDITS)
    print(
        f"\nindex: {pictures.n_indexed:,} pictures; queries: {len(edits)} edits x "
        f"{args.originals:,} originals + {args.fresh:,} unrelated pictures"
    )
    header = f"{'method':32} " + " ".join(f"{e[:14]:>15}" for e in edits)
    print(header + f" {'all':>6} {'false (unrel.)':>15} {'false (any)':>12}  threshold")
    for name, result in results.items():
        cells = " ".join(f"{result['recall'][e]:15.3f}" for e in edits)
        print(
            f"{name:32} {cells} {result['recall_all']:6.3f} "
            f"{result['fresh_false']:15.4%} {result['false_any']:12.4%}  {result['threshold']}"
            f" ({result['fresh_false_count']} of {args.fresh:,} unrelated queries matched)"
        )
    product = results[PRODUCT]
    for line in product["wrong"]:
        print(f"  false match: {line}")
    print(
        f"\nproduct: fingerprint {product['fingerprint_ms']:.1f} ms + keypoints "
        f"{product['keypoints_ms']:.1f} ms per picture; check per upload (includes hashing) "
        f"median {product['check_ms']:.1f} ms, p99 {product['check_p99_ms']:.1f} ms "
        f"(without keypoints: median {results['Guanghe before (PDQ windows)']['check_ms']:.1f} "
        f"ms); the keypoint part's CPU median {product['keypoint_cpu_ms']:.1f} ms"
    )
    kp = _keypoint_latency(pictures, keypoints, args.keypoint_works, args.seed)
    print(
        f"\nkeypoint index of {args.keypoint_works:,} covers ({kp['descriptors']:,.0f} "
        f"descriptors, {kp['bytes'] / 2**20:,.0f} MiB): built at "
        f"{kp['incremental_works_per_s']:,.0f} covers/s in increments of 1,000; search + "
        f"geometry of {kp['queries']:.0f} edited uploads p50 {kp['p50_ms']:.2f} ms, "
        f"p99 {kp['p99_ms']:.2f} ms"
    )
    speed = _latency(args.works, args.seed)
    print(
        f"\nindex of {args.works:,} works ({speed['codes_per_work'] * args.works:,.0f} codes): "
        f"built at "
        f"{speed['build_works_per_s']:,.0f} works/s in one go, "
        f"{speed['incremental_works_per_s']:,.0f} works/s in increments of 1,000; "
        f"query of {speed['codes_per_query']:.0f} codes p50 {speed['p50_ms']:.2f} ms, "
        f"p99 {speed['p99_ms']:.2f} ms"
    )
    return 0

"""Picture fingerprinting throughput: Guanghe's PDQ beside Meta's ``pdqhash`` binding.

``uv run --group bench python -m bench fingerprint [--covers N] [--large N] [--repeat R]
[--seed S]``

Two sets of pictures: ``--covers`` covers of the synthetic platform (135 x 240 palette PNGs
from :mod:`guanghe.sim.covers`, read back as RGB as ``register_works`` reads them) and
``--large`` upload-sized pictures (360-540 x 480-720, the originality benchmark's generator).
Each set is fingerprinted three ways, in one process, one after the other:

* ``stored``: :func:`~guanghe.originality.fingerprint.fingerprint_image` (the 5 indexed
  windows a published work stores);
* ``query``: :func:`~guanghe.originality.fingerprint.query_codes` (the 25 windows an upload
  is searched with);
* ``window``: one PDQ hash of a whole picture, the kernel alone.

The peer computes the same windows as the product did before its PDQ kernel: each window cut
by Pillow, shrunk to the hashing side, hashed by ``pdqhash.compute`` (ThreatExchange's C++).
Every code of the product is compared with the peer's and the run fails on one differing bit.
Timings are the median over ``--repeat`` passes of the whole set, as CPU time of this process
(what load does not inflate) and wall time; the load average is printed before and after.
"""

from __future__ import annotations

import argparse
import io
import os
import statistics
import time
from collections.abc import Callable
from typing import Any

import numpy as np
import numpy.typing as npt
from PIL import Image

Codes = npt.NDArray[np.uint8]


def _covers(count: int, seed: int) -> list[Image.Image]:
    from guanghe.sim.covers import draw_cover_params, render_covers

    params = draw_cover_params(np.random.default_rng(seed), np.arange(1, count + 1))
    out = []
    for cover in render_covers(params):
        buffer = io.BytesIO()
        cover.save(buffer, format="PNG", compress_level=1)
        with Image.open(io.BytesIO(buffer.getvalue())) as read:
            out.append(read.convert("RGB"))
    return out


def _large(count: int, seed: int) -> list[Image.Image]:
    from bench.originality import generate_picture

    return [generate_picture(np.random.default_rng([seed, k])) for k in range(count)]


def _peer_pdq(image: Image.Image) -> Codes:
    import pdqhash

    from guanghe.originality.fingerprint import _rgb_array

    bits, _ = pdqhash.compute(_rgb_array(image))
    return np.packbits(bits.astype(np.uint8))


def _peer(regions: tuple[Any, ...]) -> Callable[[Image.Image], Codes]:
    from guanghe.originality.fingerprint import trim_border

    def codes(image: Image.Image) -> Codes:
        trimmed = trim_border(image)
        return np.stack([_peer_pdq(region.of(trimmed)) for region in regions])

    return codes


def _ways() -> dict[
    str, tuple[int, Callable[[Image.Image], Codes], Callable[[Image.Image], Codes]]
]:
    """Per way: windows per picture, the product, the peer."""
    from guanghe.originality._pdq_kernels import pdq_hash
    from guanghe.originality.fingerprint import (
        GRID,
        INDEXED,
        MIRROR,
        TURNED,
        _rgb_array,
        fingerprint_image,
        query_codes,
    )

    queried = (*INDEXED, MIRROR, *TURNED, *GRID)
    return {
        "stored": (len(INDEXED), lambda im: fingerprint_image(im).codes, _peer(INDEXED)),
        "query": (len(queried), lambda im: query_codes(im).codes, _peer(queried)),
        "window": (1, lambda im: pdq_hash(_rgb_array(im))[0][None], lambda im: _peer_pdq(im)[None]),
    }


def _time(function: Callable[[Image.Image], Codes], pictures: list[Image.Image], repeat: int):  # type: ignore[no-untyped-def]
    """``(codes of the first pass, median CPU s, median wall s)`` of passes over the set."""
    cpu, wall = [], []
    codes: list[Codes] = []
    for n in range(repeat):
        started_cpu, started = time.process_time(), time.perf_counter()
        out = [function(picture) for picture in pictures]
        cpu.append(time.process_time() - started_cpu)
        wall.append(time.perf_counter() - started)
        if n == 0:
            codes = out
    return codes, statistics.median(cpu), statistics.median(wall)


def main(argv: list[str]) -> int:
    """Run the benchmark; see the module docstring."""
    parser = argparse.ArgumentParser(prog="python -m bench fingerprint")
    parser.add_argument("--covers", type=int, default=2000)
    parser.add_argument("--large", type=int, default=200)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args(argv)
    if min(args.covers, args.large) < 1 or args.repeat < 1:
        parser.error("--covers, --large and --repeat must be at least 1")
    print(f"load average before: {os.getloadavg()}")
    sets = {
        f"covers 135x240 (n={args.covers})": _covers(args.covers, args.seed),
        f"large 360-540x480-720 (n={args.large})": _large(args.large, args.seed),
    }
    ways = _ways()
    for _, product, peer in ways.values():  # compile and load both before timing
        first = next(iter(sets.values()))[0]
        product(first)
        peer(first)
    header = (
        "pictures",
        "way",
        "windows",
        "peer ms CPU",
        "product ms CPU",
        "CPU ratio",
        "peer /s",
        "product /s",
        "peer ms wall",
        "product ms wall",
    )
    rows = [header]
    differing = 0
    for name, pictures in sets.items():
        for way, (windows, product, peer) in ways.items():
            ours, ours_cpu, ours_wall = _time(product, pictures, args.repeat)
            theirs, peer_cpu, peer_wall = _time(peer, pictures, args.repeat)
            differing += sum(a.tobytes() != b.tobytes() for a, b in zip(ours, theirs, strict=True))
            n = len(pictures)
            rows.append(
                (
                    name,
                    way,
                    str(windows),
                    f"{peer_cpu / n * 1e3:.3f}",
                    f"{ours_cpu / n * 1e3:.3f}",
                    f"{peer_cpu / ours_cpu:.2f}x",
                    f"{n / peer_cpu:,.0f}",
                    f"{n / ours_cpu:,.0f}",
                    f"{peer_wall / n * 1e3:.3f}",
                    f"{ours_wall / n * 1e3:.3f}",
                )
            )
    widths = [max(len(row[i]) for row in rows) for i in range(len(header))]
    for k, row in enumerate(rows):
        print("  ".join(cell.rjust(w) for cell, w in zip(row, widths, strict=True)))
        if k == 0:
            print("  ".join("-" * w for w in widths))
    print("(/s: pictures per CPU second; ms: per picture, median of the passes)")
    print(f"load average after: {os.getloadavg()}")
    if differing:
        print(f"FAILED: {differing} pictures' codes differ from the peer's")
        return 1
    print("every code identical to the peer's")
    return 0

"""Synthetic platform with hidden ground truth, for the demo, tests and benchmarks.

``generate_platform`` fills a runtime's stores; the hidden truth it drew is read back only by
benchmarks and tests, through :mod:`guanghe.sim.truth`.

The generator is imported on first use (PEP 562), so the cover worker processes, which import
only :mod:`guanghe.sim.covers`, start without the store and event-log dependencies.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from guanghe.sim.platform import DEFAULT_END_DATE, PlatformSummary, generate_platform

__all__ = ["DEFAULT_END_DATE", "PlatformSummary", "generate_platform"]


def __getattr__(name: str) -> Any:
    if name in __all__:
        from guanghe.sim import platform

        return getattr(platform, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")

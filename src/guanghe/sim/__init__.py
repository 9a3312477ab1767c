"""Synthetic platform with hidden ground truth, for the demo, tests and benchmarks.

``generate_platform`` fills a runtime's stores; ``advance`` plays the platform forward day by
day, answering Guanghe's decisions from the hidden truth, with the cycle between days. The
hidden truth is read back only by the simulator itself, benchmarks and tests, through
:mod:`guanghe.sim.truth`.

The generator is imported on first use (PEP 562), so the cover worker processes, which import
only :mod:`guanghe.sim.covers` (and, at their first job, the originality fingerprints), start
without the generator's own dependencies (the event log, the cycle's domains).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from guanghe.sim.forward import AdvanceResult, DayOutcome, advance
    from guanghe.sim.platform import DEFAULT_END_DATE, PlatformSummary, generate_platform

__all__ = [
    "DEFAULT_END_DATE",
    "AdvanceResult",
    "DayOutcome",
    "PlatformSummary",
    "advance",
    "generate_platform",
]
_ADVANCE = {"AdvanceResult", "DayOutcome", "advance"}


def __getattr__(name: str) -> Any:
    if name in _ADVANCE:
        from guanghe.sim import forward

        return getattr(forward, name)
    if name in __all__:
        from guanghe.sim import platform

        return getattr(platform, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")

"""Rich progress bars for long commands."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TaskID, TimeElapsedColumn


@contextmanager
def stage_progress() -> Iterator[Callable[[str, int, int], None]]:
    """A ``progress(stage, done, total)`` callback drawing one bar per stage on stderr."""
    bars = Progress(
        "[progress.description]{task.description}",
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        transient=False,
    )
    tasks: dict[str, TaskID] = {}

    def report(stage: str, done: int, total: int) -> None:
        if stage not in tasks:
            tasks[stage] = bars.add_task(stage, total=total)
        bars.update(tasks[stage], completed=done, total=total)

    with bars:
        yield report


@contextmanager
def step_progress(
    title: str, *, transient: bool = False
) -> Iterator[Callable[[str, int, int], None]]:
    """A ``progress(step, done, total)`` callback drawing one bar on stderr, titled ``title``
    and naming the step under way. A ``transient`` bar is drawn only on a terminal and cleared
    when the work ends, leaving stderr to the one line of an error."""
    stderr = Console(stderr=True)
    bars = Progress(
        "[progress.description]{task.description}",
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=stderr,
        transient=transient,
        disable=transient and not stderr.is_terminal,
    )
    task = bars.add_task(title, total=None)

    def report(step: str, done: int, total: int) -> None:
        bars.update(task, description=f"{title}: {step}", completed=done, total=total)

    with bars:
        yield report

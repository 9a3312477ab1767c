"""``guanghe originality``: original protection's batch commands."""

from __future__ import annotations

import datetime as dt

import typer

from guanghe.cli.context import open_runtime
from guanghe.cli.progress import stage_progress

app = typer.Typer(
    help="Original protection: the fingerprint index and shared music.", no_args_is_help=True
)


@app.command("backfill")
def backfill() -> None:
    """Check and index every work with a cover that is not in the fingerprint index yet, then
    add the cover keypoints of works indexed before covers kept them (resumable: a batch is
    committed at a time)."""
    from guanghe.pipelines.originality_step import backfill as run_backfill

    with open_runtime() as runtime, stage_progress() as progress:
        summary = run_backfill(
            runtime,
            now=dt.datetime.now(dt.UTC),
            progress=progress,
        )
    typer.echo(
        f"indexed {summary.checked} works: {summary.duplicates} duplicates, "
        f"{summary.suspects} suspects"
    )
    typer.echo(
        f"added cover keypoints to {summary.keypoints_filled} works ({summary.keypoint_rows} rows)"
    )
    if summary.without_keypoints:
        shown = ", ".join(map(str, summary.without_keypoints[:20]))
        more = " …" if len(summary.without_keypoints) > 20 else ""
        typer.echo(
            f"{len(summary.without_keypoints)} covers have no keypoints to store: {shown}{more}"
        )
    if summary.unreadable:
        shown = ", ".join(map(str, summary.unreadable[:20]))
        more = " …" if len(summary.unreadable) > 20 else ""
        typer.echo(
            f"{len(summary.unreadable)} works have an unreadable cover and stay unindexed: "
            f"{shown}{more}",
            err=True,
        )
        raise typer.Exit(1)


@app.command("mark-shared-music")
def mark_shared_music(
    work_id: int = typer.Argument(..., min=1, help="the work whose sound is shared music"),
    note: str = typer.Option("", help="what the track is"),
) -> None:
    """Mark a work's sound as shared music: later uploads using it are not copies."""
    from guanghe.access import Principal
    from guanghe.originality import mark_shared_music as mark

    operator = Principal(user_id=0, role="operator", subject_id=None)
    with open_runtime() as runtime:
        view = runtime.write(
            lambda s: mark(s, operator, work_id, note=note, now=dt.datetime.now(dt.UTC))
        )
    typer.echo(f"work {view.work_id}'s sound is shared music since {view.marked_at:%Y-%m-%d %H:%M}")

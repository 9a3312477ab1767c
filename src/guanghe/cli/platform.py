"""Platform-wide commands: ``init``, ``serve``, ``cycle`` and ``demo``."""

from __future__ import annotations

import datetime as dt
from enum import StrEnum
from typing import TYPE_CHECKING, Annotated

import typer

from guanghe.cli.context import open_runtime
from guanghe.cli.progress import stage_progress, step_progress
from guanghe.cli.step_reports import print_cycle_run
from guanghe.errors import InvalidInput

if TYPE_CHECKING:
    from guanghe.runtime import Runtime

Host = Annotated[str, typer.Option(help="Interface to listen on.")]
Port = Annotated[int, typer.Option(min=1, max=65535, help="Port to listen on.")]
#: The exit of a cycle that ran but left money unpaid or refused.
MONEY_PROBLEMS_EXIT = 1


def register(app: typer.Typer) -> None:
    app.command("init")(init)
    app.command("serve")(serve)
    app.command("cycle")(cycle)
    app.command("demo")(demo)


def init() -> None:
    """Create the data directory and bring the store's schema up to date."""
    with open_runtime() as runtime:
        typer.echo(f"store ready at {runtime.engine.url.render_as_string(hide_password=True)}")


def serve(
    host: Host = "127.0.0.1",
    port: Port = 8000,
    workers: Annotated[
        int,
        typer.Option(min=1, max=64, help="Processes serving the port (above 1 needs PostgreSQL)."),
    ] = 1,
) -> None:
    """Serve the API and the dashboard."""
    from guanghe.app import create_app, serve_workers
    from guanghe.app import serve as serve_app

    with open_runtime() as runtime:
        if workers == 1:
            serve_app(create_app(runtime), host=host, port=port)
            return
        if runtime.engine.dialect.name == "sqlite":
            raise InvalidInput(
                "--workers above 1 needs PostgreSQL (GUANGHE_DATABASE_URL): "
                "SQLite takes one writer at a time"
            )
    serve_workers(host=host, port=port, workers=workers)


class BatchEngineName(StrEnum):
    duckdb = "duckdb"
    spark = "spark"


def cycle(
    date: Annotated[dt.datetime, typer.Option(formats=["%Y-%m-%d"], help="Day to process.")],
    engine: Annotated[
        BatchEngineName, typer.Option(help="Batch engine of the feature pipeline.")
    ] = BatchEngineName.duckdb,
) -> None:
    """Run the daily cycle's steps for DATE (settling every earlier day not settled yet) and
    print what each step did; exit 1 when a step left money unpaid or refused."""
    from guanghe.pipelines import run_cycle

    with open_runtime() as runtime, step_progress("cycle") as progress:
        run = run_cycle(runtime, date.date(), progress=progress, engine=engine.value)
    print_cycle_run(run)
    if run.money_problems:
        raise typer.Exit(MONEY_PROBLEMS_EXIT)


def demo(
    host: Host = "127.0.0.1",
    port: Port = 8000,
    creators: Annotated[int, typer.Option(min=1, help="Creators if a platform is made.")] = 2_000,
    days: Annotated[int, typer.Option(min=1, max=3650, help="Days if a platform is made.")] = 30,
    seed: Annotated[int, typer.Option(help="Seed if a platform is made.")] = 7,
    advance_days: Annotated[
        int,
        typer.Option(min=0, max=366, help="Days a new platform is played forward after its cycle."),
    ] = 2,
) -> None:
    """Make a demo platform if the store is empty, run the cycle, play a new platform forward
    a few days (`sim advance`, the cycle between days), then serve it."""
    from guanghe.access import create_token
    from guanghe.app import create_app
    from guanghe.app import serve as serve_app
    from guanghe.creators import load_rules, rules_path
    from guanghe.monetize import showcase_subjects
    from guanghe.pipelines import business_day_end
    from guanghe.sim import generate_platform
    from guanghe.sim.calendar import seed_calendar
    from guanghe.sim.community import seed_community
    from guanghe.sim.demo_cycle import run_demo_operations
    from guanghe.sim.demo_experiment import start_demo_experiment
    from guanghe.sim.live_room import seed_live_room
    from guanghe.sim.tasks import post_agent_task
    from guanghe.sim.torch_programme import seed_torch_programme
    from guanghe.store import transaction
    from guanghe.tasks import showcase_creator

    with open_runtime() as runtime:
        made = _creator_count(runtime) == 0
        if made:
            with stage_progress() as progress:
                generate_platform(
                    runtime, creators=creators, days=days, seed=seed, progress=progress
                )
            from guanghe.sim.reuploads import publish_demo_reuploads

            for upload in publish_demo_reuploads(runtime, seed=seed):
                copied = f" of work {upload.original_work_id}" if upload.original_work_id else ""
                typer.echo(
                    f"published {upload.kind}: work {upload.work_id}, {upload.verdict}{copied}"
                )
                for segment in upload.segments:
                    typer.echo(f"  {segment}")
        dates = runtime.event_log.dates()
        day = dt.date.fromisoformat(dates[-1]) if dates else dt.datetime.now(dt.UTC).date()
        runtime.write(lambda s: seed_torch_programme(s, day, now=dt.datetime.now(dt.UTC)))
        now = dt.datetime.now(dt.UTC)
        events = runtime.write(lambda s: seed_calendar(s, now.date(), now=now))
        typer.echo(f"calendar: {events} events of the next two months (/dashboard/hotspots)")
        courses, sessions = runtime.write(lambda s: seed_live_room(s, now=now))
        typer.echo(
            f"live room: {sessions} sessions, {courses} courses written"
            if sessions or courses
            else "live room: its sessions and courses were written before"
        )
        first = dt.date.fromisoformat(dates[0]) if dates else day
        experiment = start_demo_experiment(runtime, first, day)  # before the cycles it changes
        if experiment is not None:
            typer.echo(
                f"experiment {experiment.id} ({experiment.key}): "
                f"{experiment.treatment_creators} treated, {experiment.control_creators} control; "
                f"report at /dashboard/experiments/{experiment.id}"
            )
        operations = run_demo_operations(runtime, first, day)  # settles the earlier days too
        rules = load_rules(rules_path(runtime.settings.data_dir))
        forum = runtime.write(
            lambda s: seed_community(
                s,
                tier_order=tuple(t.name for t in rules.tiers),
                seed=seed,
                now=business_day_end(day),
            )
        )
        written = (
            f"{forum.boards} boards, {forum.threads} threads, {forum.posts} posts"
            if forum.boards or forum.threads or forum.posts
            else "its boards, threads and posts were written before"
        )
        typer.echo(f"community: {written} (/dashboard/community)")
        paid = operations.paid_creators
        typer.echo(
            f"payout {day}: {len(operations.payouts.payouts)} payees; "
            f"tier records written: {operations.tier_changes}"
        )
        if made and advance_days:
            from guanghe.sim import advance

            with stage_progress() as progress:
                played = advance(runtime, advance_days, seed=seed, progress=progress)
            day = played.last_day
            typer.echo(
                f"advanced to {day}: "
                f"{sum(d.boosted_impressions for d in played.days):,} boosted impressions "
                f"delivered, {sum(d.follows for d in played.days):,} follows"
            )
        with transaction(runtime.sessions) as session:
            _, token = create_token(
                session,
                role="operator",
                subject_id=None,
                name="demo operator",
                now=dt.datetime.now(dt.UTC),
            )
        typer.echo(f"Guanghe demo: http://{host}:{port}/  (cycle ran for {day})")
        typer.echo(f"operator token: {token}")
        with transaction(runtime.sessions) as session:
            subjects = [*showcase_subjects(session), ("institution", 1), ("agent", 1)]
            for role, subject in subjects:  # whose pages show monetization and institutions
                holder, other = create_token(
                    session, role=role, subject_id=subject, name="demo", now=dt.datetime.now(dt.UTC)
                )
                typer.echo(f"{role} {subject} token: {other}")
                if role == "agent":  # the agent's brand task (GET /v1/tasks as the agent)
                    task_id = post_agent_task(session, holder.user_id, now=dt.datetime.now(dt.UTC))
                    typer.echo(f"agent {subject} brought task {task_id}")
            offered = showcase_creator(session)
            if offered is not None:  # whose task center shows recommended tasks
                _, other = create_token(
                    session,
                    role="creator",
                    subject_id=offered,
                    name="demo",
                    now=dt.datetime.now(dt.UTC),
                )
                typer.echo(f"creator {offered} token (tasks at /dashboard/tasks): {other}")
            if paid:  # a creator whose inbox the cycle's payout filled
                _, inbox = create_token(
                    session,
                    role="creator",
                    subject_id=paid[0],
                    name="demo",
                    now=dt.datetime.now(dt.UTC),
                )
                typer.echo(f"creator {paid[0]} token (inbox): {inbox}")
        serve_app(create_app(runtime), host=host, port=port, log_level="warning")


def _creator_count(runtime: Runtime) -> int:
    from sqlalchemy import func, select

    from guanghe.store import Creator

    with runtime.sessions() as session:
        return int(session.scalar(select(func.count()).select_from(Creator)) or 0)

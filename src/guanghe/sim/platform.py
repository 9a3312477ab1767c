"""``generate_platform``: draw a whole synthetic platform into a runtime's stores.

Order of work: draw creators, institutions and works (in memory); start the cover renderers
(two worker processes); simulate the days, appending each day's events to the event log;
insert institutions, creators (with their final follower counts) and works in one
transaction; the market, then the sponsors' tasks with their past outcomes
(:mod:`guanghe.sim.tasks`); wait for the covers; put every work in the originality
fingerprint index (as the original it is, at its publication time); write the ground truth.

A failed generation can leave event files and covers behind (never relational rows, which go
in one transaction at the end); generate again into a fresh data directory.

The cover workers are started with ``spawn`` (no fork of a threaded process). As with any
``spawn`` pool, each worker imports the caller's ``__main__`` module again: scripts must keep
their work under ``if __name__ == "__main__":``, and a main module that is slow to import
delays the workers' start.
"""

from __future__ import annotations

import datetime as dt
import multiprocessing
from collections import deque
from collections.abc import Callable, Iterable
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass
from functools import partial
from typing import Any, Final

import numpy as np
import pyarrow as pa
from sqlalchemy import Connection, Table, func, insert, select
from sqlalchemy.orm import Session

from guanghe.errors import Conflict, InvalidInput
from guanghe.runtime import Runtime
from guanghe.sim.audience import AudienceState, day_table, simulate_day
from guanghe.sim.bursts import draw_bursts, inject_bursts, write_bursts
from guanghe.sim.content import WorkPlan, plan_works, publishing_traits
from guanghe.sim.covers import (
    CoverFingerprints,
    cover_relpath,
    draw_cover_params,
    submit_covers,
)
from guanghe.sim.monetize import draw_market, market_rows, write_market, write_market_truth
from guanghe.sim.population import (
    STAGE_NAMES,
    Institutions,
    Population,
    draw_institutions,
    draw_population,
    stage_of,
)
from guanghe.sim.revenue import RefundSchedule, contract_rows, save_refunds
from guanghe.sim.tasks import draw_truth, write_task_truth, write_tasks
from guanghe.sim.truth import write_ground_truth
from guanghe.store import (
    ContractSplit,
    InstitutionContract,
    OriginalityDecision,
    WorkFingerprint,
    WorkOriginality,
    WorkTextSignature,
    sync_id_sequences,
)
from guanghe.store.models import Creator, Institution, Work

Progress = Callable[[str, int, int], None]

DEFAULT_END_DATE: Final = dt.date(2026, 11, 28)
MAX_DAYS: Final = 3650
COVER_WORKERS: Final = 2
_INSERT_CHUNK: Final = 10_000
_EPOCH: Final = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)


@dataclass(frozen=True, slots=True)
class PlatformSummary:
    """What :func:`generate_platform` wrote."""

    creators: int
    institutions: int
    works: int
    events: int
    first_date: dt.date
    last_date: dt.date


def generate_platform(
    runtime: Runtime,
    *,
    creators: int,
    days: int,
    seed: int,
    end_date: dt.date | None = None,
    progress: Progress | None = None,
) -> PlatformSummary:
    """Generate a synthetic platform of ``creators`` creators over ``days`` days.

    Deterministic: the same arguments give identical store rows, event rows, covers and
    ground truth. All randomness comes from ``numpy.random.SeedSequence(seed)``.

    Parameters
    ----------
    runtime
        The stores to fill; initialised here. Its store must hold no creators and its event
        log no events.
    creators, days, seed
        Population size (>= 1), period length (1..3650) and seed (>= 0).
    end_date
        Last simulated day (UTC); defaults to :data:`DEFAULT_END_DATE`, not the wall clock.
    progress
        Called as ``progress(stage, done, total)`` for the stages ``"events"``, ``"covers"``,
        ``"creators"``, ``"works"`` and ``"fingerprints"``.

    Raises
    ------
    InvalidInput
        On out-of-range arguments.
    Conflict
        When the store already has creators or the event log has events.
    """
    _check_arguments(creators, days, seed)
    runtime.init()
    _check_empty(runtime)
    report: Progress = progress or _ignore
    last_date = end_date or DEFAULT_END_DATE
    first_date = last_date - dt.timedelta(days=days - 1)
    start_us = _micros(dt.datetime.combine(first_date, dt.time(), tzinfo=dt.UTC))

    streams = np.random.SeedSequence(seed).spawn(9)  # spawn(n)[k] is the same for any n > k
    (
        population_rng,
        content_rng,
        cover_rng,
        audience_rng,
        stamp_rng,
        revenue_rng,
        market_rng,
        burst_rng,
        task_rng,
    ) = (np.random.default_rng(s) for s in streams)
    population = draw_population(population_rng, creators, days)
    market = draw_market(market_rng, population, days)
    task_truth = draw_truth(task_rng, population)
    institutions = draw_institutions(population_rng, population)
    rate, shape = publishing_traits(content_rng, population)
    works = plan_works(content_rng, population, rate, shape, days, start_us)
    bursts = draw_bursts(burst_rng, days, start_us)
    works, bursts = inject_bursts(burst_rng, works, bursts, population, start_us)
    covers = draw_cover_params(cover_rng, np.arange(1, works.size + 1, dtype=np.int64))

    context = multiprocessing.get_context("spawn")
    pool = ProcessPoolExecutor(max_workers=COVER_WORKERS, mp_context=context)
    try:
        jobs = submit_covers(pool, runtime.settings.covers_dir, covers)
        state = AudienceState.start(population, works)
        refunds = RefundSchedule()
        events = 0
        for day in range(days):
            rows = simulate_day(audience_rng, day, population, works, state, market)
            stamp = (first_date + dt.timedelta(days=day)).strftime("%Y%m%d")
            day_start_us, prefix = start_us + day * 86_400_000_000, f"sim-{seed}-{stamp}-"
            table = day_table(stamp_rng, rows, works, day_start_us, prefix)
            refunds.schedule(revenue_rng, day, table)
            table = pa.concat_tables(
                [table, refunds.refunds_on(revenue_rng, day, day_start_us, prefix)]
            )
            events += runtime.event_log.append(table)
            report("events", day + 1, days)
            _report_covers(report, jobs, works.size)
        contracts = contract_rows(revenue_rng, population, institutions, first_date)
        _write_store(runtime, population, institutions, works, state, contracts, first_date, report)
        write_market(runtime, market_rows(market, population, first_date), market)
        write_tasks(runtime, task_rng, population, works, task_truth, first_date, last_date)
        sync_id_sequences(runtime.engine)
        _index_works(runtime, jobs, works, report)
    finally:
        pool.shutdown(wait=True, cancel_futures=True)

    write_ground_truth(
        runtime.settings.ground_truth_dir,
        population,
        works,
        rate,
        shape,
        state.followers,
        first_date,
    )
    write_market_truth(runtime.settings.ground_truth_dir, market)
    write_bursts(runtime.settings.ground_truth_dir, bursts)
    write_task_truth(runtime.settings.ground_truth_dir, task_truth)
    # The history's orders refunded after its last day, by the ordinal of their refund's day:
    # ``sim advance`` refunds them on that day.
    first = first_date.toordinal()
    later = {first + day: parts for day, parts in refunds.due.items()}
    save_refunds(runtime.settings.ground_truth_dir, RefundSchedule(later))
    return PlatformSummary(
        creators=creators,
        institutions=len(institutions.name),
        works=works.size,
        events=events,
        first_date=first_date,
        last_date=last_date,
    )


def _ignore(stage: str, done: int, total: int) -> None:
    """A progress callback that does nothing."""


def _check_arguments(creators: int, days: int, seed: int) -> None:
    for name, value in (("creators", creators), ("days", days), ("seed", seed)):
        if isinstance(value, bool) or not isinstance(value, int):
            raise InvalidInput(f"{name} must be an integer, got {value!r}")
    if creators < 1:
        raise InvalidInput(f"creators must be at least 1, got {creators}")
    if not 1 <= days <= MAX_DAYS:
        raise InvalidInput(f"days must be between 1 and {MAX_DAYS}, got {days}")
    if seed < 0:
        raise InvalidInput(f"seed must be non-negative, got {seed}")


def _check_empty(runtime: Runtime) -> None:
    creators_table = _table(Creator)
    with runtime.engine.connect() as conn:
        existing = conn.execute(select(func.count()).select_from(creators_table)).scalar_one()
    if existing:
        raise Conflict(
            f"the store already has {existing} creators; the synthetic platform is generated "
            "only into an empty store (use a fresh data directory)"
        )
    if runtime.event_log.files():
        raise Conflict(
            f"the event log at {runtime.event_log.root} already has events; the synthetic "
            "platform is generated only into an empty data directory"
        )


def _report_covers(report: Progress, jobs: list[Future[CoverFingerprints]], total: int) -> None:
    report("covers", sum(job.result().count for job in jobs if job.done()), total)


def _index_works(
    runtime: Runtime, jobs: list[Future[CoverFingerprints]], works: WorkPlan, report: Progress
) -> None:
    """Put every work in the originality index as the original it is, at its publication
    time, a cover folder's works (1,000) per transaction in work order: what
    :func:`~guanghe.originality.register_works` stores for works new to the index (the store
    is new), with the fingerprint rows the cover workers computed."""
    done = 0
    pending = deque(jobs)
    jobs.clear()  # a chunk's rows are not held past their insertion
    while pending:
        chunk = pending.popleft().result()
        runtime.write(partial(_register_chunk, chunk=chunk, works=works))
        done += chunk.count
        report("covers", done, works.size)
        report("fingerprints", done, works.size)
    if not done:
        report("covers", 0, 0)
        report("fingerprints", 0, 0)


def _register_chunk(session: Session, *, chunk: CoverFingerprints, works: WorkPlan) -> None:
    """Insert a chunk's fingerprint, text signature, verdict and decision rows (one
    executemany per table, in work order)."""
    from guanghe.originality.attribution import OriginalityCheck, verdict_values
    from guanghe.originality.fingerprint import text_signature

    check = OriginalityCheck("original", None, None, None, None, "registered from the catalogue")
    work_ids = chunk.work_id.tolist()
    owner = np.repeat(chunk.work_id, chunk.counts).tolist()
    fingerprints = [
        {"work_id": w, "tag": t, "pdq": code.tobytes(), "quality": q}
        for w, t, code, q in zip(
            owner, chunk.tags.tolist(), chunk.codes, chunk.quality.tolist(), strict=True
        )
    ]
    signatures, verdicts, decisions = [], [], []
    for work_id in work_ids:
        i = work_id - 1
        text = " ".join((works.title[i], works.caption[i], *works.hashtags[i]))
        signature = text_signature(text)
        if signature is not None:
            signatures.append({"work_id": work_id, "minhash": signature.tobytes()})
        published_at = _EPOCH + dt.timedelta(microseconds=int(works.published_us[i]))
        verdict, decision = verdict_values(work_id, check, now=published_at, context="registered")
        verdicts.append(verdict)
        decisions.append(decision)
    for model, rows in (
        (WorkFingerprint, fingerprints),
        (WorkTextSignature, signatures),
        (WorkOriginality, verdicts),
        (OriginalityDecision, decisions),
    ):
        if rows:
            session.execute(insert(_table(model)), rows)


def _write_store(
    runtime: Runtime,
    population: Population,
    institutions: Institutions,
    works: WorkPlan,
    state: AudienceState,
    contracts: tuple[list[dict[str, Any]], list[dict[str, Any]]],
    first_date: dt.date,
    report: Progress,
) -> None:
    """Insert institutions, creators, their contracts and works in one transaction."""
    days_total = int(works.day_start.shape[0]) - 1
    stage = stage_of(population.joined_day, state.followers, days_total - 1)
    with runtime.engine.begin() as conn:
        _insert(
            conn,
            _table(Institution),
            (
                {"id": i + 1, "name": name, "founded_on": first_date + dt.timedelta(days=int(f))}
                for i, (name, f) in enumerate(
                    zip(institutions.name, institutions.founded_day.tolist(), strict=True)
                )
            ),
            None,
            0,
        )
        _insert(
            conn,
            _table(Creator),
            _creator_rows(population, state, stage, first_date),
            lambda done: report("creators", done, population.size),
            population.size,
        )
        _insert(conn, _table(InstitutionContract), contracts[0], None, 0)
        _insert(conn, _table(ContractSplit), contracts[1], None, 0)
        _insert(
            conn,
            _table(Work),
            _work_rows(works),
            lambda done: report("works", done, works.size),
            works.size,
        )


def _creator_rows(
    population: Population, state: AudienceState, stage: np.ndarray[Any, Any], first: dt.date
) -> Iterable[dict[str, Any]]:
    joined = (np.datetime64(first, "D") + population.joined_day).astype(object).tolist()
    columns = zip(
        population.handle,
        population.display_name,
        population.vertical_id.tolist(),
        joined,
        state.followers.tolist(),
        stage.tolist(),
        population.institution_id.tolist(),
        strict=True,
    )
    for i, (handle, name, vertical, joined_on, followers, s, institution) in enumerate(columns):
        yield {
            "id": i + 1,
            "handle": handle,
            "display_name": name,
            "vertical_id": vertical,
            "joined_on": joined_on,
            "follower_count": followers,
            "stage": STAGE_NAMES[s],
            "institution_id": institution or None,
        }


def _work_rows(works: WorkPlan) -> Iterable[dict[str, Any]]:
    columns = zip(
        works.creator_index.tolist(),
        works.published_us.tolist(),
        works.title,
        works.caption,
        works.hashtags,
        works.vertical_id.tolist(),
        works.duration_s.tolist(),
        strict=True,
    )
    for i, (creator, published, title, caption, tags, vertical, duration) in enumerate(columns):
        yield {
            "id": i + 1,
            "creator_id": creator + 1,
            "published_at": _EPOCH + dt.timedelta(microseconds=published),
            "title": title,
            "caption": caption,
            "hashtags": tags,
            "vertical_id": vertical,
            "duration_s": duration,
            "cover_path": cover_relpath(i + 1),
        }


def _insert(
    conn: Connection,
    table: Table,
    rows: Iterable[dict[str, Any]],
    on_chunk: Callable[[int], None] | None,
    total: int,
) -> None:
    """Executemany ``rows`` into ``table`` in chunks, reporting rows done after each."""
    chunk: list[dict[str, Any]] = []
    done = 0
    for row in rows:
        chunk.append(row)
        if len(chunk) == _INSERT_CHUNK:
            conn.execute(insert(table), chunk)
            done += len(chunk)
            chunk = []
            if on_chunk:
                on_chunk(done)
    if chunk:
        conn.execute(insert(table), chunk)
        done += len(chunk)
    if on_chunk:
        on_chunk(done)


def _table(model: type[Any]) -> Table:
    table = model.__table__
    assert isinstance(table, Table)
    return table


def _micros(moment: dt.datetime) -> int:
    return (moment - _EPOCH) // dt.timedelta(microseconds=1)

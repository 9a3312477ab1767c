"""The cycle's ``copy_earnings`` step: under a ``monetize`` policy, a copy's earnings go to
its original's author; money moved under a match that has since ended goes back.

Runs after ``settlement`` (and ``tasks``), so the day's income is in the ledger. The income of
the copies' creators is traced to works: ad and order events through the event log (their
``work_id`` and time), task rewards through the claim's submitted work (and the time the reward
was posted). Redirects and returns are keyed by match and income transfer, so a re-run posts
only what is missing; one the ledger refuses (the payer's earnings were paid out) is reported
and tried again by the next run.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy.orm import Session

from guanghe import originality
from guanghe.ledger import IncomeLine, TransferResult, TransferStatus
from guanghe.originality import TracedIncome
from guanghe.pipelines.context import CycleContext
from guanghe.pipelines.reports import Problem, StepReport
from guanghe.runtime import Runtime
from guanghe.tasks import claim_works

_IDS_PER_QUERY = 5_000


def run(ctx: CycleContext) -> StepReport:
    """Post the redirects and returns owed as of the cycle's ``now``."""
    return settle_copy_earnings(ctx.runtime, now=ctx.now)


def settle_copy_earnings(runtime: Runtime, *, now: dt.datetime) -> StepReport:
    """Trace the monetized copies' income to works, then post, in one transaction, the
    redirects and returns owed."""

    with runtime.sessions() as session:
        matches = originality.monetized_matches(session)
        lines = originality.copy_income(session, matches)
        claim_ids = [claim for line in lines if (claim := _claim_id(line)) is not None]
        claims = claim_works(session, claim_ids)
    traced = _trace(runtime, lines, claims)

    def post(session: Session) -> tuple[list[TransferResult], list[TransferResult]]:
        # matches are read again in the writer: a match ended since is not redirected
        current = originality.monetized_matches(session)
        redirects = originality.post_redirects(session, current, lines, traced, now=now)
        return redirects, originality.post_returns(session, now=now)

    redirects, returns = runtime.write(post)
    problems = tuple(
        Problem("transfer", r.key, f"refused by the ledger: {r.status}", affects_money=True)
        for r in (*redirects, *returns)
        if not r.ok
    )
    return StepReport(
        "copy_earnings",
        {
            "monetized_matches": len(matches),
            "income_traced": len(traced),
            "redirects_posted": _created(redirects),
            "returns_posted": _created(returns),
        },
        problems,
    )


def _created(results: list[TransferResult]) -> int:
    return sum(r.status is TransferStatus.CREATED for r in results)


def _claim_id(line: IncomeLine) -> int | None:
    """The task claim a reward line pays (``"<claim id>:<unit>"``)."""
    if line.source_kind != "task_claim":
        return None
    head = line.source_id.split(":", 1)[0]
    return int(head) if head.isdigit() else None


def _trace(
    runtime: Runtime, lines: list[IncomeLine], claims: dict[int, int]
) -> dict[int, TracedIncome]:
    """Each line's work and time: events from the event log, rewards from their claim."""
    traced: dict[int, TracedIncome] = {}
    for line in lines:
        claim = _claim_id(line)
        if claim is not None and claim in claims:
            traced[line.transfer_id] = TracedIncome(claims[claim], line.created_at)
    by_event: dict[str, list[IncomeLine]] = {}
    for line in lines:
        if line.source_kind == "event":
            by_event.setdefault(line.source_id, []).append(line)
    if not by_event:
        return traced
    con = runtime.event_log.connect()
    ids = sorted(by_event)
    for at in range(0, len(ids), _IDS_PER_QUERY):
        chunk = ids[at : at + _IDS_PER_QUERY]
        placeholders = ", ".join("?" for _ in chunk)
        rows = con.execute(
            "SELECT event_id, work_id, ts FROM events "
            f"WHERE work_id IS NOT NULL AND event_id IN ({placeholders})",
            chunk,
        ).fetchall()
        for event_id, work_id, ts in rows:
            for line in by_event[str(event_id)]:
                traced[line.transfer_id] = TracedIncome(int(work_id), ts)
    return traced

"""The cycle's ``copy_earnings`` step: under a ``monetize`` policy, a copy's earnings go to
its original's author; money moved under a match that has since ended goes back.

Runs after ``settlement`` (and ``tasks``), so the day's income is in the ledger. The income of
the copies' creators is traced to works: ad and order events through the event log (their
``work_id`` and time), task rewards through the claim's submitted work (and the time the reward
was posted). Redirects and returns are keyed by match and income transfer, so a re-run posts
only what is missing; one the ledger refuses (the payer's earnings were paid out) is reported
and tried again by the next run.

Income of a copy's creator not traced to any work (profile-page ads, commissions credited to
the creator, incentive and Torch rewards) is apportioned by the copy's share of the creator's
plays on the line's business day (:func:`~guanghe.originality.redirects.untraced_requests`),
with plays read from the event log: the copy's from the match's effective time, the
creator's over every work. The report gives the counts and the fen moved: ``redirected_fen``
(traced), ``untraced_redirected_fen`` and ``returned_fen``.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy.orm import Session

from guanghe import originality
from guanghe.ledger import (
    IncomeLine,
    TransferRequest,
    TransferResult,
    TransferStatus,
    source_amounts,
)
from guanghe.originality import DayPlays, MonetizedMatch, TracedIncome
from guanghe.originality.matches import MATCH_SOURCE, REDIRECT_CODE
from guanghe.originality.redirects import untraced_lines
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
    untraced = untraced_lines(lines, traced)
    plays = _plays(runtime, matches, untraced)

    def post(
        session: Session,
    ) -> tuple[list[tuple[TransferRequest, TransferResult]], list[TransferResult], int]:
        # matches are read again in the writer: a match ended since is not redirected
        current = originality.monetized_matches(session)
        redirects = originality.post_redirects(
            session, current, lines, traced, now=now, plays=plays
        )
        returns = originality.post_returns(session, now=now)
        redirected = source_amounts(session, MATCH_SOURCE, REDIRECT_CODE)
        returned = sum(
            redirected.get(r.key.removeprefix("copy-return:"), 0)
            for r in returns
            if r.status is TransferStatus.CREATED
        )
        return redirects, returns, returned

    redirects, returns, returned_fen = runtime.write(post)
    results = [result for _, result in redirects]
    problems = tuple(
        Problem("transfer", r.key, f"refused by the ledger: {r.status}", affects_money=True)
        for r in (*results, *returns)
        if not r.ok
    )
    untraced_ids = {line.transfer_id for line in untraced}
    moved = {True: [0, 0], False: [0, 0]}  # untraced? -> [posted, fen]
    for request, result in redirects:
        if result.status is TransferStatus.CREATED:
            kind = int(request.key.rsplit(":", 1)[1]) in untraced_ids
            moved[kind][0] += 1
            moved[kind][1] += request.amount or 0
    return StepReport(
        "copy_earnings",
        {
            "monetized_matches": len(matches),
            "income_traced": len(traced),
            "income_untraced": len(untraced),
            "redirects_posted": _created(results),
            "untraced_redirects_posted": moved[True][0],
            "redirected_fen": moved[False][1],
            "untraced_redirected_fen": moved[True][1],
            "returns_posted": _created(returns),
            "returned_fen": returned_fen,
        },
        problems,
    )


_PLAYS_SQL = """
    SELECT creator_id, date, sum(count) FROM events
    WHERE type = 'play' AND work_id IS NOT NULL AND creator_id IN ({creators})
      AND date BETWEEN ? AND ?
    GROUP BY creator_id, date
"""
_COPY_PLAYS_SQL = """
    SELECT date, sum(count) FROM events
    WHERE type = 'play' AND work_id = ? AND creator_id = ? AND ts >= ? AND date BETWEEN ? AND ?
    GROUP BY date
"""


def _plays(
    runtime: Runtime, matches: list[MonetizedMatch], untraced: list[IncomeLine]
) -> dict[tuple[int, dt.date], DayPlays]:
    """Per (match, business day of an untraced line of its copy's creator): the copy's plays
    from the match's effective time and the creator's plays of every work."""
    days: dict[int, set[dt.date]] = {}
    for line in untraced:
        days.setdefault(line.creator_id, set()).add(line.business_day or line.created_at.date())
    wanted = [m for m in matches if m.copy_creator_id in days]
    if not wanted:
        return {}
    first = min(min(d) for d in days.values())
    last = max(max(d) for d in days.values())
    creators = sorted(days)
    con = runtime.event_log.connect()
    try:
        total = {
            (int(creator), day): int(plays)
            for creator, day, plays in con.execute(
                _PLAYS_SQL.format(creators=", ".join("?" for _ in creators)),
                [*creators, first, last],
            ).fetchall()
        }
        out: dict[tuple[int, dt.date], DayPlays] = {}
        for match in wanted:
            rows = con.execute(
                _COPY_PLAYS_SQL,
                [match.copy_work_id, match.copy_creator_id, match.effective_at, first, last],
            ).fetchall()
            for day, plays in rows:
                if day in days[match.copy_creator_id]:
                    creator_plays = total.get((match.copy_creator_id, day), 0)
                    out[(match.match_id, day)] = DayPlays(int(plays), creator_plays)
    finally:
        con.close()
    return out


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

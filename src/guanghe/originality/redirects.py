"""Money under a ``monetize`` policy: a copy's earnings paid to its original's author.

Income traced to the copy (the creator's share of an ad event naming the copy, the posted
commission of an order naming it, a task reward for submitting it; what the copy's creator
kept after their institution's split) and earned at or after the match's effective time is
moved, once, from the copy creator's earnings to the original author's earnings:

* ``copy_earnings_redirect``, key ``copy-redirect:<match id>:<income transfer id>``, source
  ``("copy_match", "<match id>:<income transfer id>")``, the share of the copy the match
  covers (all of it for a picture match);
* the same ``copy_earnings_redirect`` for the copy creator's income **not traced to any work**
  (profile-page ad shares, a commission credited to the creator, incentive and Torch rewards,
  income whose event names no work): each such line is apportioned by the copy's share of that
  creator's plays on the line's business day — ``kept x copy plays / creator plays`` (rounded
  down; times the match's share of the copy, as above), counting the copy's plays from the
  match's effective time and the creator's plays of every work that day. A day without plays
  of the creator's works moves nothing; a line of a business day before the effective day is
  not touched. Same key and source as a traced redirect (the income transfer id is unique);
* ``copy_earnings_return``, key ``copy-return:<match id>:<income transfer id>``: the reversal
  of a redirect, when its match ended (a won dispute, a re-attribution) or its income was taken
  back (a commission refunded late).

Keys derive from the match and the income, so running again posts nothing new. A redirect is
never posted for a match that has ended, and a policy changed away from ``monetize`` stops
new redirects without returning those made while the author asked for them.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from guanghe.ledger import (
    IncomeLine,
    TransferRequest,
    TransferResult,
    income_lines,
    open_accounts,
    post_transfers,
    reversed_transfers,
    source_amounts,
)
from guanghe.ledger.settlement import INCOME_CODES, earnings
from guanghe.originality.matches import MATCH_SOURCE, REDIRECT_CODE, RETURN_CODE
from guanghe.originality.policies import policies_in_force
from guanghe.store import CopyMatch, Work


@dataclass(frozen=True, slots=True)
class MonetizedMatch:
    """A match in force whose original's author monetizes its copies."""

    match_id: int
    copy_work_id: int
    copy_creator_id: int
    original_creator_id: int
    effective_at: dt.datetime
    copy_share_bp: int | None


@dataclass(frozen=True, slots=True)
class TracedIncome:
    """The work an income line was earned with, and when it was earned."""

    work_id: int
    earned_at: dt.datetime


def monetized_matches(session: Session) -> list[MonetizedMatch]:
    """Matches in force under a ``monetize`` policy, oldest first."""
    rows = session.execute(
        select(CopyMatch, Work.creator_id)
        .join(Work, Work.id == CopyMatch.copy_work_id)
        .where(CopyMatch.ended_at.is_(None))
        .order_by(CopyMatch.id)
    ).all()
    policies = policies_in_force(session, {m.original_work_id for m, _ in rows})
    return [
        MonetizedMatch(
            m.id,
            m.copy_work_id,
            int(creator),
            m.original_creator_id,
            m.effective_at,
            m.copy_share_bp,
        )
        for m, creator in rows
        if policies.get(m.original_work_id) == "monetize"
    ]


@dataclass(frozen=True, slots=True)
class DayPlays:
    """Plays on one day: of a match's copy (from the match's effective time) and of every work
    of the copy's creator."""

    copy: int
    creator: int


def copy_income(session: Session, matches: Sequence[MonetizedMatch]) -> list[IncomeLine]:
    """The income of the creators of ``matches``' copies (every income code: lines that cannot
    be traced to a work are apportioned by plays, see :func:`untraced_requests`)."""
    return income_lines(session, {m.copy_creator_id for m in matches}, codes=tuple(INCOME_CODES))


def untraced_lines(
    lines: Sequence[IncomeLine], traced: Mapping[int, TracedIncome]
) -> list[IncomeLine]:
    """The lines not traced to a work, kept and not taken back."""
    return [
        line
        for line in lines
        if line.transfer_id not in traced and not line.reversed and line.kept > 0
    ]


def untraced_requests(
    matches: Sequence[MonetizedMatch],
    lines: Sequence[IncomeLine],
    traced: Mapping[int, TracedIncome],
    plays: Mapping[tuple[int, dt.date], DayPlays],
    redirected: Mapping[str, int],
    accounts: Mapping[tuple[int, str], int],
) -> list[TransferRequest]:
    """The redirects still owed of income not traced to a work: each line of a monetized copy's
    creator, of a business day on or after the match's effective day, apportioned by
    ``plays[(match id, business day)]`` (see the module docstring)."""
    by_creator: dict[int, list[MonetizedMatch]] = {}
    for match in matches:
        by_creator.setdefault(match.copy_creator_id, []).append(match)
    requests = []
    for line in untraced_lines(lines, traced):
        day = line.business_day or line.created_at.date()
        for match in by_creator.get(line.creator_id, []):
            source = f"{match.match_id}:{line.transfer_id}"
            if (
                source in redirected
                or day < match.effective_at.date()
                or match.original_creator_id == line.creator_id
            ):
                continue
            counted = plays.get((match.match_id, day))
            if counted is None or counted.creator <= 0 or counted.copy <= 0:
                continue
            share = 10_000 if match.copy_share_bp is None else match.copy_share_bp
            amount = line.kept * min(counted.copy, counted.creator) * share
            amount //= counted.creator * 10_000
            if amount <= 0:
                continue
            requests.append(
                _redirect(
                    source,
                    line,
                    match,
                    accounts,
                    amount,
                    memo=f"{line.code} of {day.isoformat()} not traced to a work: the copy "
                    f"{match.copy_work_id} had {counted.copy} of its creator's "
                    f"{counted.creator} plays (match {match.match_id})",
                )
            )
    return requests


def redirect_requests(
    matches: Sequence[MonetizedMatch],
    lines: Sequence[IncomeLine],
    traced: Mapping[int, TracedIncome],
    redirected: Mapping[str, int],
    accounts: Mapping[tuple[int, str], int],
) -> list[TransferRequest]:
    """The redirects still owed: each line traced to a monetized copy, earned at or after the
    match's effective time, not taken back and not redirected yet. ``traced`` maps an income
    transfer id to its work; ``redirected`` holds the sources already redirected;
    ``accounts[(creator_id, "earnings")]`` is each creator's earnings account."""
    by_copy: dict[int, list[MonetizedMatch]] = {}
    for match in matches:
        by_copy.setdefault(match.copy_work_id, []).append(match)
    requests = []
    for line in lines:
        trace = traced.get(line.transfer_id)
        if trace is None or line.reversed or line.kept <= 0:
            continue
        for match in by_copy.get(trace.work_id, []):
            source = f"{match.match_id}:{line.transfer_id}"
            if (
                source in redirected
                or trace.earned_at < match.effective_at
                or match.copy_creator_id != line.creator_id
                or match.original_creator_id == line.creator_id
            ):
                continue
            share = match.copy_share_bp
            amount = line.kept if share is None else line.kept * share // 10_000
            if amount <= 0:
                continue
            requests.append(
                _redirect(
                    source,
                    line,
                    match,
                    accounts,
                    amount,
                    memo=f"{line.code} of work {trace.work_id}, a copy under match "
                    f"{match.match_id}, paid to the original's author",
                )
            )
    return requests


def _redirect(
    source: str,
    line: IncomeLine,
    match: MonetizedMatch,
    accounts: Mapping[tuple[int, str], int],
    amount: int,
    *,
    memo: str,
) -> TransferRequest:
    """``amount`` of the copier's income ``line`` moved to the original's author under
    ``match``, keyed by ``source`` (match and income transfer) so it posts once."""
    return TransferRequest(
        f"copy-redirect:{source}",
        REDIRECT_CODE,
        debit_account_id=accounts[(line.creator_id, "earnings")],
        credit_account_id=accounts[(match.original_creator_id, "earnings")],
        amount=amount,
        source=(MATCH_SOURCE, source),
        memo=memo,
    )


def return_requests(
    session: Session, *, match_ids: Sequence[int] | None = None
) -> list[TransferRequest]:
    """Returns owed: every redirect (of ``match_ids``, else of any match) whose match has
    ended or whose income was taken back, and which is not returned yet."""
    redirected = source_amounts(session, MATCH_SOURCE, REDIRECT_CODE)
    returned = source_amounts(session, MATCH_SOURCE, RETURN_CODE)
    open_sources = {s for s in redirected if s not in returned}
    if match_ids is not None:
        wanted = {str(m) for m in match_ids}
        open_sources = {s for s in open_sources if s.split(":", 1)[0] in wanted}
    if not open_sources:
        return []
    match_of = {s: int(s.split(":", 1)[0]) for s in open_sources}
    ended = set(
        session.scalars(
            select(CopyMatch.id).where(
                CopyMatch.id.in_(sorted(set(match_of.values()))), CopyMatch.ended_at.is_not(None)
            )
        )
    )
    income_taken_back = reversed_transfers(session, {int(s.split(":", 1)[1]) for s in open_sources})
    return [
        TransferRequest(
            f"copy-return:{source}",
            RETURN_CODE,
            reverses_key=f"copy-redirect:{source}",
            source=(MATCH_SOURCE, source),
            memo=f"match {match_of[source]} "
            + ("ended" if match_of[source] in ended else "income taken back"),
        )
        for source in sorted(open_sources)
        if match_of[source] in ended or int(source.split(":", 1)[1]) in income_taken_back
    ]


def post_redirects(
    session: Session,
    matches: Sequence[MonetizedMatch],
    lines: Sequence[IncomeLine],
    traced: Mapping[int, TracedIncome],
    *,
    now: dt.datetime,
    plays: Mapping[tuple[int, dt.date], DayPlays] | None = None,
) -> list[tuple[TransferRequest, TransferResult]]:
    """Post the redirects owed, traced and (with ``plays``) untraced, each with its result
    (each stands alone: one refused — its payer already paid out — does not hold back the
    others, and is tried again next time)."""
    redirected = source_amounts(session, MATCH_SOURCE, REDIRECT_CODE)
    creators = sorted(
        {m.copy_creator_id for m in matches} | {m.original_creator_id for m in matches}
    )
    keys = {c: earnings("creator", c) for c in creators}
    opened = open_accounts(session, list(keys.values()), now=now) if keys else {}
    accounts = {(c, "earnings"): opened[key] for c, key in keys.items()}
    requests = redirect_requests(matches, lines, traced, redirected, accounts)
    if plays is not None:
        requests += untraced_requests(matches, lines, traced, plays, redirected, accounts)
    if not requests:
        return []
    results = post_transfers(session, requests, batch="copy-earnings", now=now)
    return list(zip(requests, results, strict=True))


def post_returns(
    session: Session, *, now: dt.datetime, match_ids: Sequence[int] | None = None
) -> list[TransferResult]:
    """Post the returns owed (of ``match_ids``, else of any match); each stands alone."""
    requests = return_requests(session, match_ids=match_ids)
    if not requests:
        return []
    return post_transfers(session, requests, batch="copy-earnings", now=now)

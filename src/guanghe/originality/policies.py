"""What happens to a copy: each original author's policy, per work or for all their works.

* ``track``: the copy stays and takes part in everything; the match is shown.
* ``block``: the copy gets no distribution support: no boost serving, no traffic support
  deliveries, no task or incentive rewards (:func:`blocked_work_ids`).
* ``monetize``: the copy stays; what its creator earns from it (profile-ad shares,
  commissions and task rewards traced to the copy) is paid to the original's author from the
  match's effective time (:mod:`guanghe.originality.redirects`).

Choices are appended to ``copy_policy_choices`` and never changed: the newest choice for a
work is in force, else the newest for all the author's works, else :data:`DEFAULT_POLICY`
(``block``: a copy gets no support unless its original's author says otherwise).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection
from dataclasses import dataclass
from typing import Final, Literal, cast, get_args

from sqlalchemy import select
from sqlalchemy.orm import Session

from guanghe.access import Principal
from guanghe.errors import Forbidden, InvalidInput, NotFound
from guanghe.store import CopyPolicyChoice, Creator, Work, WorkOriginality

Policy = Literal["track", "block", "monetize"]
POLICIES: Final[tuple[Policy, ...]] = get_args(Policy)
DEFAULT_POLICY: Final[Policy] = "block"


@dataclass(frozen=True, slots=True)
class PolicyChoiceView:
    id: int
    creator_id: int
    work_id: int | None
    policy: str
    chosen_by_user_id: int | None
    chosen_at: dt.datetime


@dataclass(frozen=True, slots=True)
class WorkPolicyView:
    """The policy in force for one of an author's works, and whether it was chosen for the
    work itself (else it comes from the all-works choice or the default)."""

    work_id: int
    title: str
    policy: str
    chosen_for_work: bool


@dataclass(frozen=True, slots=True)
class AuthorPolicies:
    """An author's all-works policy, the policy in force for each of their works, and every
    choice they made (newest first)."""

    creator_id: int
    all_works: str
    works: tuple[WorkPolicyView, ...]
    choices: tuple[PolicyChoiceView, ...]


def _check_policy(policy: str) -> Policy:
    if policy not in POLICIES:
        raise InvalidInput(f"policy: expected one of {', '.join(POLICIES)}, not {policy!r}")
    return policy  # type narrowed by the membership test


def choose_policy(
    session: Session,
    principal: Principal,
    *,
    policy: str,
    work_id: int | None = None,
    now: dt.datetime,
) -> PolicyChoiceView:
    """The calling author chooses ``policy`` for copies of their work ``work_id`` (or of all
    their works when ``None``); appended, never overwriting an earlier choice."""
    if principal.role != "creator" or principal.subject_id is None:
        raise Forbidden("only an original's author chooses what happens to its copies")
    author = principal.subject_id
    chosen = _check_policy(policy)
    if work_id is not None:
        owner = session.scalar(select(Work.creator_id).where(Work.id == work_id))
        if owner is None:
            raise NotFound(f"work {work_id} does not exist")
        if owner != author:
            raise Forbidden(f"work {work_id} is not yours; you set policies on your own works")
    row = CopyPolicyChoice(
        creator_id=author,
        work_id=work_id,
        policy=chosen,
        chosen_by_user_id=principal.user_id,
        chosen_at=now,
    )
    session.add(row)
    session.flush()
    return _choice_view(row)


def author_policies(session: Session, principal: Principal, creator_id: int) -> AuthorPolicies:
    """An author's policies (the author and operators)."""
    if principal.role in ("creator", "operator") and session.get(Creator, creator_id) is None:
        raise NotFound(f"creator {creator_id} does not exist")
    if principal.role == "creator":
        if principal.subject_id != creator_id:
            raise Forbidden(f"creator {creator_id}'s policies are not visible to this token")
    elif principal.role != "operator":
        raise Forbidden(f"the {principal.role} role has no access to copy policies")
    choices = [
        _choice_view(c)
        for c in session.scalars(
            select(CopyPolicyChoice)
            .where(CopyPolicyChoice.creator_id == creator_id)
            .order_by(CopyPolicyChoice.id.desc())
        )
    ]
    per_work: dict[int, str] = {}
    all_works: str = DEFAULT_POLICY
    for choice in reversed(choices):  # oldest first: later choices win
        if choice.work_id is None:
            all_works = choice.policy
        else:
            per_work[choice.work_id] = choice.policy
    works = session.execute(
        select(Work.id, Work.title).where(Work.creator_id == creator_id).order_by(Work.id.desc())
    ).all()
    return AuthorPolicies(
        creator_id=creator_id,
        all_works=all_works,
        works=tuple(
            WorkPolicyView(int(w), str(title), per_work.get(int(w), all_works), int(w) in per_work)
            for w, title in works
        ),
        choices=tuple(choices),
    )


def policies_in_force(session: Session, original_work_ids: Collection[int]) -> dict[int, Policy]:
    """The policy in force for copies of each of ``original_work_ids``."""
    if not original_work_ids:
        return {}
    ids = sorted(set(original_work_ids))
    authors = {
        int(work): int(creator)
        for work, creator in session.execute(
            select(Work.id, Work.creator_id).where(Work.id.in_(ids))
        )
    }
    per_work: dict[int, Policy] = {}
    all_works: dict[int, Policy] = {}
    rows = session.execute(
        select(CopyPolicyChoice.creator_id, CopyPolicyChoice.work_id, CopyPolicyChoice.policy)
        .where(CopyPolicyChoice.creator_id.in_(sorted(set(authors.values()))))
        .order_by(CopyPolicyChoice.id)
    )
    for creator_id, work_id, policy in rows:
        if work_id is None:
            all_works[int(creator_id)] = cast(Policy, policy)
        else:
            per_work[int(work_id)] = cast(Policy, policy)
    return {
        work: per_work.get(work, all_works.get(int(authors[work]), DEFAULT_POLICY))
        for work in ids
        if work in authors
    }


def blocked_work_ids(session: Session) -> frozenset[int]:
    """Copies whose original's author blocks them: no boost serving, traffic support deliveries,
    task or incentive rewards. (Tracked and monetized copies take part; suspects under review
    are not copies yet.)"""
    copies = session.execute(
        select(WorkOriginality.work_id, WorkOriginality.original_work_id).where(
            WorkOriginality.verdict == "duplicate"
        )
    ).all()
    policies = policies_in_force(session, {int(o) for _, o in copies if o is not None})
    return frozenset(
        int(work)
        for work, original in copies
        if original is not None and policies.get(int(original)) == "block"
    )


def _choice_view(row: CopyPolicyChoice) -> PolicyChoiceView:
    return PolicyChoiceView(
        row.id, row.creator_id, row.work_id, row.policy, row.chosen_by_user_id, row.chosen_at
    )

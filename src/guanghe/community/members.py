"""Who may do what in the community, by role:

- **read** (boards, threads, search): operators, creators, institutions and their agents;
  advertisers, merchants and the feed ranker are not members of the creator community.
- **write** (open threads, post, reply): creators as themselves, operators as the platform
  (their posts may be official answers).
- **react, report**: creators.
- **moderate** (hide, restore, lock, suspend, see reports and the log): operators.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

from guanghe.access import Principal
from guanghe.errors import Forbidden

READERS: Final = frozenset({"operator", "creator", "institution", "agent"})
WRITERS: Final = frozenset({"operator", "creator"})


@dataclass(frozen=True, slots=True)
class Author:
    """Who writes: a creator (``creator_id``) or an operator (``operator_id``, a user id)."""

    creator_id: int | None
    operator_id: int | None


def check_reader(principal: Principal) -> None:
    """:class:`Forbidden` unless ``principal`` may read the community."""
    if principal.role not in READERS:
        raise Forbidden(f"the {principal.role} role has no access to the creator community")


def check_operator(principal: Principal) -> None:
    """:class:`Forbidden` unless ``principal`` is an operator (moderation)."""
    if principal.role != "operator":
        raise Forbidden("moderating the community needs the operator role")


def check_member(principal: Principal) -> int:
    """The creator id of ``principal``; :class:`Forbidden` unless it is a creator."""
    if principal.role != "creator" or principal.subject_id is None:
        raise Forbidden(f"only creators do this in the community, not the {principal.role} role")
    return principal.subject_id


def author_of(principal: Principal) -> Author:
    """``principal`` as an author; :class:`Forbidden` unless it may write."""
    if principal.role not in WRITERS:
        raise Forbidden(f"the {principal.role} role may not post in the creator community")
    if principal.role == "creator":
        return Author(check_member(principal), None)
    return Author(None, principal.user_id)

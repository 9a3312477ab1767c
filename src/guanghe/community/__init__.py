"""The creator community: boards by vertical and topic, threads, posts, replies and
reactions; Markdown rendered safely; mentions that notify; official answers by operators;
search that works for Chinese text; trust levels with anti-flood limits; and moderation
(reports, hiding, locking, suspensions, an append-only log). See ``docs/community.md``.
"""

from guanghe.community.boards import BoardSpec, BoardView, create_board, get_board, list_boards
from guanghe.community.markup import mentioned_handles, render_markdown
from guanghe.community.members import (
    READERS,
    WRITERS,
    check_member,
    check_operator,
    check_reader,
)
from guanghe.community.moderation import (
    ModerationView,
    ReportView,
    dismiss_report,
    hide_post,
    list_reports,
    lock_thread,
    moderation_log,
    report_post,
    restore_post,
    suspend_member,
)
from guanghe.community.posts import add_post, open_thread, react
from guanghe.community.search import SearchHit, index_tokens, query_terms, search_posts
from guanghe.community.threads import PostView, ThreadPage, ThreadView, list_threads, thread_page
from guanghe.community.trust import (
    LEVELS,
    MemberTrust,
    Suspension,
    TrustLevel,
    active_suspension,
    member_trust,
)

__all__ = [
    "LEVELS",
    "READERS",
    "WRITERS",
    "BoardSpec",
    "BoardView",
    "MemberTrust",
    "ModerationView",
    "PostView",
    "ReportView",
    "SearchHit",
    "Suspension",
    "ThreadPage",
    "ThreadView",
    "TrustLevel",
    "active_suspension",
    "add_post",
    "check_member",
    "check_operator",
    "check_reader",
    "create_board",
    "dismiss_report",
    "get_board",
    "hide_post",
    "index_tokens",
    "list_boards",
    "list_reports",
    "list_threads",
    "lock_thread",
    "member_trust",
    "mentioned_handles",
    "moderation_log",
    "open_thread",
    "query_terms",
    "react",
    "render_markdown",
    "report_post",
    "restore_post",
    "search_posts",
    "suspend_member",
    "thread_page",
]

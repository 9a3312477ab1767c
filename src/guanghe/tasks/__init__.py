"""The task center: sponsors' tasks with slots and reserved rewards, creators' claims checked
by the cycle and approved once, and the most suitable tasks for every creator under the slot
limits.
"""

from guanghe.tasks.catalog import (
    PRIORITY_HOURS,
    TaskSpec,
    TaskView,
    create_task,
    get_task,
    list_tasks,
    normal_tag,
)
from guanghe.tasks.checks import Verdict, WorkFacts, check_submissions, end_tasks, judge_submission
from guanghe.tasks.claims import (
    ClaimView,
    accept_task,
    claim_works,
    creator_claims,
    expire_claims,
    list_submissions,
    priority_holder,
    review_submission,
    submit_work,
)
from guanghe.tasks.funding import budget_available, fund_platform_tasks
from guanghe.tasks.offers import OfferView, TaskNoticePolicy, creator_offers, showcase_creator

__all__ = [
    "PRIORITY_HOURS",
    "ClaimView",
    "OfferView",
    "TaskNoticePolicy",
    "TaskSpec",
    "TaskView",
    "Verdict",
    "WorkFacts",
    "accept_task",
    "budget_available",
    "check_submissions",
    "claim_works",
    "create_task",
    "creator_claims",
    "creator_offers",
    "end_tasks",
    "expire_claims",
    "fund_platform_tasks",
    "get_task",
    "judge_submission",
    "list_submissions",
    "list_tasks",
    "normal_tag",
    "priority_holder",
    "review_submission",
    "showcase_creator",
    "submit_work",
]

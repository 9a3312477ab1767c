"""The incentive plan (the report's Photosynthesis plan): programmes with eligibility by stage,
vertical, the quality pool and a new-creator channel; personal targets from each creator's own
baseline; progress from the event log with duplicates excluded; cash and traffic rewards paid
once from a budget that is never exceeded, traffic rewards becoming floors of the next traffic
period.
"""

from guanghe.incentives.floors import claim_traffic_floors
from guanghe.incentives.programmes import (
    BASELINE_DAYS,
    DEFAULT_PROGRAMMES,
    Amounts,
    Eligibility,
    Programme,
    Rules,
    StageTarget,
    load_programmes,
    parse_programmes,
    programme_from_json,
    programme_json,
    programmes_path,
)
from guanghe.incentives.progress import (
    DailyPlays,
    ProgressReport,
    WindowActivity,
    baseline_window,
    enrol_and_update,
    pay_reward,
    reward_key,
    settle_rewards,
    window_activity,
)
from guanghe.incentives.registry import (
    StoredProgramme,
    budget_account,
    budget_used,
    put_programme,
    stored_programme,
    stored_programmes,
    sync_programmes,
)
from guanghe.incentives.targets import (
    Baseline,
    Candidates,
    eligible,
    fixed_target,
    flat_history,
    personal_targets,
    robust_baseline,
)
from guanghe.incentives.views import (
    CompletionRow,
    CreatorIncentive,
    ProgrammeView,
    completion,
    creator_incentives,
    list_programmes,
)

__all__ = [
    "BASELINE_DAYS",
    "DEFAULT_PROGRAMMES",
    "Amounts",
    "Baseline",
    "Candidates",
    "CompletionRow",
    "CreatorIncentive",
    "DailyPlays",
    "Eligibility",
    "Programme",
    "ProgrammeView",
    "ProgressReport",
    "Rules",
    "StageTarget",
    "StoredProgramme",
    "WindowActivity",
    "baseline_window",
    "budget_account",
    "budget_used",
    "claim_traffic_floors",
    "completion",
    "creator_incentives",
    "eligible",
    "enrol_and_update",
    "fixed_target",
    "flat_history",
    "list_programmes",
    "load_programmes",
    "parse_programmes",
    "pay_reward",
    "personal_targets",
    "programme_from_json",
    "programme_json",
    "programmes_path",
    "put_programme",
    "reward_key",
    "robust_baseline",
    "settle_rewards",
    "stored_programme",
    "stored_programmes",
    "sync_programmes",
    "window_activity",
]

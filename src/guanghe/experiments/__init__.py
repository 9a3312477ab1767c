"""Experiments: operators apply a policy (allocation rules, pool shares, exploration share,
product ranking) to a random, stable share of creators and read each metric's effect with a
CUPED-adjusted confidence interval. See ``docs/experiments.md``."""

from guanghe.experiments.catalog import (
    ExperimentSpec,
    ExperimentView,
    TreatedCreators,
    assignments,
    create_experiment,
    get_experiment,
    list_experiments,
    treated_creators,
)
from guanghe.experiments.effects import MIN_ARM_SIZE, Effect, estimate_effect
from guanghe.experiments.policy import ExperimentPolicy, policy_from_json, treated
from guanghe.experiments.report import (
    METRICS,
    ExperimentReport,
    MetricEffect,
    creator_metrics,
    experiment_report,
)

__all__ = [
    "METRICS",
    "MIN_ARM_SIZE",
    "Effect",
    "ExperimentPolicy",
    "ExperimentReport",
    "ExperimentSpec",
    "ExperimentView",
    "MetricEffect",
    "TreatedCreators",
    "assignments",
    "create_experiment",
    "creator_metrics",
    "estimate_effect",
    "experiment_report",
    "get_experiment",
    "list_experiments",
    "policy_from_json",
    "treated",
    "treated_creators",
]

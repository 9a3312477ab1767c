"""Traffic support: response estimation, allocation of impression budgets over pools and creators,
pacing and real-time boost decisions.
"""

from guanghe.traffic.allocation import Allocation, TrafficAllocator, check_feasible
from guanghe.traffic.problem import AllocationProblem
from guanghe.traffic.spark import SparkAllocation, SparkTrafficAllocator, solve_on_spark

__all__ = [
    "Allocation",
    "AllocationProblem",
    "SparkAllocation",
    "SparkTrafficAllocator",
    "TrafficAllocator",
    "check_feasible",
    "solve_on_spark",
]

"""Traffic support: response estimation, allocation of impression budgets over pools and creators,
pacing and real-time boost decisions.
"""

"""Synthetic platform with hidden ground truth, for the demo, tests and benchmarks."""

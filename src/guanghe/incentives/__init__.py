"""Incentive programs with personalised tasks per vertical and stage, progress and rewards."""

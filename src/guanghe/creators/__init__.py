"""Creators, works and verticals; lifecycle stage, quality score, the high-quality pool and growth-
rights tiers.
"""

"""Trending topics per vertical, the event calendar and notifications to matching creators."""

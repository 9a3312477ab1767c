"""Ecosystem reporting: platform overview and year-over-year statistics."""

"""Monetization: profile-page ads, commodity distribution and the task center."""

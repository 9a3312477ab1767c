"""Guanghe: creator growth and monetization engine."""

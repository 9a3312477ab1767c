"""MCN institutions: contracts, revenue splits, agents, pools and levels."""

"""What each role without a dashboard of its own can do, shown on its landing page."""

from __future__ import annotations

CAPABILITIES: dict[str, tuple[str, ...]] = {
    "advertiser": (
        "Run campaigns that fill creators' profile-page ad slots",
        "Follow impressions and spend of your own campaigns",
        "Share revenue with the creators who authorise their slot",
    ),
    "merchant": (
        "List products for commodity distribution on creators' profile pages",
        "Follow orders and the commission paid on them",
    ),
    "agent": (
        "See your institution's level and Torch support (GET /v1/institutions/{id}/support)",
        "Earn the agent commission of the brands' tasks you bring, through the ledger",
    ),
    "ranker": (
        "Ask for real-time boost decisions for the feed",
        "Report boost deliveries back as events",
    ),
}

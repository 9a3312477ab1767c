"""HTTP adapter: FastAPI routers per capability, bearer auth and problem+json errors.

The application (these routers with the dashboard) is assembled in :mod:`guanghe.app`; this
package does not import it, nor ``guanghe.web``. ``create_app``, ``serve`` and
``serve_workers`` are still answered here, looked up in :mod:`guanghe.app` only when asked for.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from guanghe.app import create_app, serve, serve_workers

__all__ = ["create_app", "serve", "serve_workers"]


def __getattr__(name: str) -> Any:
    """The application's names from :mod:`guanghe.app`, imported on first use (PEP 562), so
    that importing ``guanghe.api`` does not import the dashboard."""
    if name in __all__:
        from guanghe import app

        return getattr(app, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")

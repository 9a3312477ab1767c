"""The dashboard: server-rendered pages (Jinja2, htmx, Chart.js) over the capabilities."""

from guanghe.web.pages import STATIC_DIR, router

__all__ = ["STATIC_DIR", "router"]

"""The Jinja2 environment of the dashboard's templates."""

from __future__ import annotations

from pathlib import Path

from fastapi.templating import Jinja2Templates


def thousands(value: int) -> str:
    """``1234567`` → ``1,234,567``."""
    return f"{value:,}"


templates = Jinja2Templates(directory=Path(__file__).parent / "templates")
templates.env.filters["thousands"] = thousands

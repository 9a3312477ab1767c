"""Command-line adapter: the ``guanghe`` Typer app, one module per capability."""

from guanghe.cli.app import app, main

__all__ = ["app", "main"]

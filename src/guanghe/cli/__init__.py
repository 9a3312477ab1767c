"""Command-line adapter: the ``guanghe`` Typer app (``guanghe.cli.app``), one module per
capability."""

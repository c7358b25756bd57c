"""Helpers shared by the command-line modules."""

from __future__ import annotations

import typer


def settings_or_exit():  # type: ignore[no-untyped-def]
    """Load settings, turning a bad environment value into a one-line error and exit 2."""
    from qcmcp.config import ConfigurationError, load_settings

    try:
        return load_settings()
    except ConfigurationError as error:
        typer.echo(str(error), err=True)
        raise typer.Exit(2) from None

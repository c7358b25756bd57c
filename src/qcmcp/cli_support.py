"""Helpers shared by the command-line modules."""

from __future__ import annotations

import logging
from typing import NoReturn

import typer


def settings_or_exit(*, structured_errors: bool = False):  # type: ignore[no-untyped-def]
    """Load settings, turning a bad environment value into a one-line error and exit 2.

    ``structured_errors``: the command logs (``serve``), so the error is a log line too: logging is set up
    with its defaults first, since the settings that would choose otherwise are what failed to load.
    """
    from qcmcp.config import ConfigurationError, load_settings

    try:
        return load_settings()
    except ConfigurationError as error:
        if structured_errors:
            from qcmcp import log

            log.configure()
        fail(str(error))


def fail(message: str) -> NoReturn:
    """Report a start-up problem and exit 2: a log line once logging is configured, otherwise plain stderr."""
    from qcmcp import log

    if log.is_configured():
        logging.getLogger("qcmcp").error(message)
    else:
        typer.echo(message, err=True)
    raise typer.Exit(2)

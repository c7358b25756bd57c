"""Errors of the research analytics: each message names the parameter at fault and what to pass instead."""

from __future__ import annotations


class ResearchError(ValueError):
    """Bad input for an analysis (a ValueError, so tool layers that validate input catch it as such)."""

    def __init__(self, parameter: str, message: str) -> None:
        super().__init__(f"{parameter}: {message}")
        self.parameter = parameter


class DataUnavailable(ResearchError):
    """The analysis needs data that no offline source here holds (ETF constituents, fundamentals)."""


def too_few(parameter: str, what: str, have: int, needed: int, fix: str = "widen start_date/end_date") -> ResearchError:
    """The error for a sample too short for a statistic: how many it has, how many it needs, the fix."""
    return ResearchError(parameter, f"{what} needs at least {needed} observations, got {have}; {fix}")

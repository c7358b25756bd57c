"""Errors of the market-data layer: every message names the parameter or symbol at fault and a fix."""

from __future__ import annotations


class MarketDataError(ValueError):
    """Bad input, or data that is not there. A ValueError, so callers that validate input catch it as such."""


class MissingData(MarketDataError):
    """A symbol has no bars where the source looked; ``history(..., synthetic=True)`` may stand in for it."""

    def __init__(self, symbol: str, message: str, looked_in: tuple[str, ...] = ()) -> None:
        super().__init__(message)
        self.symbol = symbol
        self.looked_in = looked_in


def no_data(symbol: str, what: str, looked_in: list[str], hint: str = "") -> MissingData:
    """The error for a symbol without data files: where it looked, and what to do instead."""
    places = "; ".join(looked_in) if looked_in else "nowhere (the source has no folder for it)"
    fix = hint or "check the ticker, or pass synthetic=True for labelled synthetic bars"
    return MissingData(symbol, f"no {what} data for {symbol}: looked in {places}. {fix}", tuple(looked_in))

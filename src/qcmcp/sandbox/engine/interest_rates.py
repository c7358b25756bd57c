"""LEAN's risk-free interest rate models (``Common/Data/*InterestRateModel.cs``, ``InterestRateProvider.cs``).

``QCAlgorithm.risk_free_interest_rate_model`` is an InterestRateProvider (the Federal Reserve primary credit rate
of ``alternative/interest-rate/usa/interest-rate.csv``: each day the last rate published on or before it) until
``set_risk_free_interest_rate_model`` replaces it; the portfolio statistics (Sharpe, Sortino, alpha, Treynor …)
use the model's rate averaged over the equity samples' dates (GetAverageRiskFreeRate).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from qcmcp.sandbox.engine.types import PascalAliases

if TYPE_CHECKING:
    from pathlib import Path


def _moment(value: Any) -> datetime:
    return value if isinstance(value, datetime) else datetime.combine(value, datetime.min.time())


class InterestRateProvider(PascalAliases):
    """The primary credit rate on a date (the first published rate before the file's first date)."""

    DEFAULT_RISK_FREE_RATE = 0.01

    def __init__(self, folder: Path | None = None) -> None:
        self.folder = folder

    def get_interest_rate(self, moment: Any) -> float:
        from qcmcp.sandbox.engine.lean_statistics import risk_free_rate

        return risk_free_rate([_moment(moment)], self.folder)

    def get_average_risk_free_rate(self, dates: Any) -> float:
        return RiskFreeInterestRateModelExtensions.get_average_risk_free_rate(self, dates)

    def get_risk_free_rate(self, start: Any, end: Any) -> float:
        return RiskFreeInterestRateModelExtensions.get_risk_free_rate(self, start, end)


class ConstantRiskFreeRateInterestRateModel(InterestRateProvider):
    def __init__(self, risk_free_rate: float) -> None:
        super().__init__()
        self._rate = float(risk_free_rate)

    def get_interest_rate(self, moment: Any) -> float:
        return self._rate


class FuncRiskFreeRateInterestRateModel(InterestRateProvider):
    """The rate a function of the date gives (a Python lambda or function)."""

    def __init__(self, get_interest_rate_func: Any) -> None:
        super().__init__()
        if not callable(get_interest_rate_func):
            raise TypeError("FuncRiskFreeRateInterestRateModel needs a function of the date")
        self._function = get_interest_rate_func

    def get_interest_rate(self, moment: Any) -> float:
        return float(self._function(moment))


class RiskFreeInterestRateModelExtensions:
    @staticmethod
    def get_average_risk_free_rate(model: Any, dates: Any) -> float:
        """The mean of the model's rate over the dates (0 without dates, as LEAN's DefaultIfEmpty(0))."""
        rates = [float(model.get_interest_rate(moment)) for moment in dates]
        return sum(rates) / len(rates) if rates else 0.0

    @staticmethod
    def get_risk_free_rate(model: Any, start: Any, end: Any) -> float:
        """The average over each day from start to end (LEAN's Time.EachDay)."""
        day, last, days = _moment(start), _moment(end), []
        day = datetime.combine(day.date(), datetime.min.time())
        while day.date() <= last.date():
            days.append(day)
            day += timedelta(days=1)
        return RiskFreeInterestRateModelExtensions.get_average_risk_free_rate(model, days)


def check(model: Any) -> Any:
    """``set_risk_free_interest_rate_model(model)``: LEAN wraps any Python object with ``get_interest_rate``."""
    if not callable(getattr(model, "get_interest_rate", None)):
        from qcmcp.sandbox.engine.unsupported import refuse

        refuse(f"risk-free interest rate model {type(model).__name__} (it needs get_interest_rate)")
    return model


def average_rate(model: Any, moments: list[datetime]) -> float:
    """The statistics' risk-free rate: the model's rate averaged over the equity samples' moments."""
    return RiskFreeInterestRateModelExtensions.get_average_risk_free_rate(model, moments)


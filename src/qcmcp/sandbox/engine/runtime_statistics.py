"""LEAN's runtime statistics: ``self.statistics`` (``.summary``, what the backtest's statistics block would say
now) and ``set_summary_statistic(name, value)``.

As LEAN's StatisticsResults from the result handler: the summary is computed from the run so far the same way
as the final statistics (the daily samples taken until now, the orders placed, the fees paid), with the
algorithm's own summary statistics added after LEAN's; those also end up in the final statistics.
"""

from __future__ import annotations

from typing import Any

from qcmcp.sandbox.engine.types import KeyValuePair, PascalAliases


class PerformanceMetrics:
    """LEAN's PerformanceMetrics: the summary statistics' names."""

    ALPHA = Alpha = "Alpha"
    ANNUAL_STANDARD_DEVIATION = AnnualStandardDeviation = "Annual Standard Deviation"
    ANNUAL_VARIANCE = AnnualVariance = "Annual Variance"
    AVERAGE_LOSS = AverageLoss = "Average Loss"
    AVERAGE_WIN = AverageWin = "Average Win"
    BETA = Beta = "Beta"
    COMPOUNDING_ANNUAL_RETURN = CompoundingAnnualReturn = "Compounding Annual Return"
    DRAWDOWN = Drawdown = "Drawdown"
    ESTIMATED_STRATEGY_CAPACITY = EstimatedStrategyCapacity = "Estimated Strategy Capacity"
    EXPECTANCY = Expectancy = "Expectancy"
    START_EQUITY = StartEquity = "Start Equity"
    END_EQUITY = EndEquity = "End Equity"
    INFORMATION_RATIO = InformationRatio = "Information Ratio"
    LOSS_RATE = LossRate = "Loss Rate"
    NET_PROFIT = NetProfit = "Net Profit"
    PROBABILISTIC_SHARPE_RATIO = ProbabilisticSharpeRatio = "Probabilistic Sharpe Ratio"
    PROFIT_LOSS_RATIO = ProfitLossRatio = "Profit-Loss Ratio"
    SHARPE_RATIO = SharpeRatio = "Sharpe Ratio"
    SORTINO_RATIO = SortinoRatio = "Sortino Ratio"
    TOTAL_FEES = TotalFees = "Total Fees"
    TOTAL_ORDERS = TotalOrders = "Total Orders"
    TRACKING_ERROR = TrackingError = "Tracking Error"
    TREYNOR_RATIO = TreynorRatio = "Treynor Ratio"
    WIN_RATE = WinRate = "Win Rate"
    LOWEST_CAPACITY_ASSET = LowestCapacityAsset = "Lowest Capacity Asset"
    PORTFOLIO_TURNOVER = PortfolioTurnover = "Portfolio Turnover"
    DRAWDOWN_RECOVERY = DrawdownRecovery = "Drawdown Recovery"


class _Summary(dict):  # type: ignore[type-arg]
    """A LEAN Dictionary<string, string> seen from Python: iterating yields KeyValuePairs."""

    def __iter__(self):  # type: ignore[no-untyped-def]
        return iter([KeyValuePair(key, value) for key, value in self.items()])

    def contains_key(self, key: str) -> bool:
        return dict.__contains__(self, key)

    ContainsKey = contains_key


class StatisticsResults(PascalAliases):
    def __init__(self, summary: dict[str, str]) -> None:
        self.summary = _Summary(summary)


def summary_now(engine: Any) -> dict[str, str]:
    """The statistics block of the run so far (LEAN's runtime StatisticsResults), custom statistics last."""
    from qcmcp.sandbox.engine.lean_statistics import LeanSampler, headline, portfolio_statistics

    sampler = engine.step_hook if isinstance(engine.step_hook, LeanSampler) else None
    summary: dict[str, str] = {}
    if sampler is not None:
        probe = LeanSampler(engine)  # today's partial sample, without touching the running sampler's
        probe.daily, probe.turnover, probe._bench = list(sampler.daily), list(sampler.turnover), sampler._bench
        probe._sold, probe._fills_seen, probe._previous_volume = sampler._sold, sampler._fills_seen, \
            sampler._previous_volume
        probe.sample(engine.time, inclusive=True)
        try:
            stats = portfolio_statistics(probe, engine.samples, engine.portfolio.starting_cash, engine.data_folder)
            from qcmcp.sandbox.engine.currencies import Currencies

            summary = headline(stats, len(engine.orders), engine.portfolio.total_fees, traded=bool(engine.fills),
                               currency_symbol=Currencies.get_currency_symbol(engine.portfolio.account_currency))
        except (ValueError, ZeroDivisionError, IndexError):  # too little of the run yet: LEAN's empty statistics
            summary = {}
    summary.update(engine.summary_statistics)
    return summary


def set_summary_statistic(engine: Any, name: str, value: Any) -> None:
    """LEAN's SetSummaryStatistic: a string, or a number as C# prints it invariantly."""
    text = value if isinstance(value, str) else (str(int(value)) if isinstance(value, int | bool) else repr(value))
    engine.summary_statistics[str(name)] = text

"""LEAN's portfolio statistics, computed from the samples LEAN takes, the way LEAN computes them.

Samples (``Engine/AlgorithmManager.cs``, ``Engine/Results/BaseResultsHandler.cs``): LEAN schedules "Daily
Sampling" at midnight of every calendar day (weekends included) and once more when the run ends. Each
sample records the portfolio value (the Strategy Equity series), its change since the previous daily sample
(the Return series, in percent), the benchmark's price and the day's portfolio turnover (sales volume since
the previous sample over the portfolio value; not for the sample at the start). The result handler also
samples equity every max(4 minutes, run length / 4000) (the engine records those, ``Engine.samples``).

Statistics (``Common/Statistics/StatisticsBuilder.cs``, ``PortfolioStatistics.cs``, ``Statistics.cs``):
performance = daily returns without the first two samples; benchmark = daily benchmark changes without the
first; annual performance = (mean + 1)^252 − 1; annual variance = sample variance × 252; Sharpe =
(annual performance − risk-free rate) / annual standard deviation; Sortino the same over the standard
deviation of the negative returns only; Beta = cov(performance, benchmark) / var(benchmark); Alpha = annual
performance − (rf + Beta × (benchmark annual performance − rf)); tracking error = annualised standard
deviation of the differences; information ratio = (annual performance − benchmark's) / tracking error;
Treynor = (annual performance − rf) / Beta; PSR = Φ((SR − 1/√252) / √((1 − skew·SR + (kurt − 1)/4·SR²)
/ (n − 1))) on the daily Sharpe ratio with rf / 252 subtracted (skewness and excess kurtosis are the
bias-corrected sample moments, as MathNet computes them); compounding annual return over (last − first
sample) / 365 days; drawdown and drawdown recovery over the equity samples; win/loss figures from each
closing fill's profit less twice its fee (``SecurityPortfolioModel``), relative to the running capital.

The risk-free rate is LEAN's ``InterestRateProvider``: the Federal Reserve primary credit rate from
``alternative/interest-rate/usa/interest-rate.csv`` (the data folder's, else the copy shipped with LEAN's
sample), each day the last rate published on or before it, averaged over the equity samples' dates.
"""

from __future__ import annotations

import bisect
import math
from datetime import date, datetime, time, timedelta
from decimal import ROUND_HALF_EVEN, ROUND_HALF_UP, Decimal
from functools import cache
from pathlib import Path
from statistics import NormalDist
from typing import Any

import numpy as np

from qcmcp.sandbox.engine import statistics as basic
from qcmcp.sandbox.engine.interest_rates import average_rate

TRADING_DAYS = 252
DEFAULT_RISK_FREE_RATE = 0.01
SHIPPED_RATES = Path(__file__).resolve().parent.parent.parent / "marketdata" / "lean_sample" / "alternative" / \
    "interest-rate" / "usa" / "interest-rate.csv"
NORMAL = NormalDist()


@cache
def _rates(path: str) -> tuple[list[date], list[float]]:
    days, rates = [], []
    try:
        lines = Path(path).read_text(encoding="utf-8").splitlines()[1:]
    except OSError:
        return [], []
    for line in lines:
        cells = line.strip().split(",")
        try:
            day, rate = datetime.strptime(cells[0], "%Y-%m-%d").date(), float(cells[1]) / 100
        except (ValueError, IndexError):
            continue
        days.append(day)
        rates.append(rate)
    return days, rates


def risk_free_rate(moments: list[datetime], folder: Path | None) -> float:
    """LEAN's InterestRateProvider averaged over ``moments`` (GetAverageRiskFreeRate)."""
    own = folder / "alternative" / "interest-rate" / "usa" / "interest-rate.csv" if folder is not None else None
    days, rates = _rates(str(own if own is not None and own.is_file() else SHIPPED_RATES))
    if not days or not moments:
        return DEFAULT_RISK_FREE_RATE
    total = 0.0
    for moment in moments:
        index = bisect.bisect_right(days, moment.date()) - 1
        total += rates[max(index, 0)]
    return total / len(moments)


class LeanSampler:
    """Takes LEAN's daily samples during a run: called before each time step (``Engine.step_hook``)."""

    def __init__(self, engine: Any, chained: Any = None) -> None:
        self.engine = engine
        self.chained = chained
        self.next_midnight: datetime | None = None
        self.daily: list[tuple[datetime, float, float]] = []  # (time, portfolio value, benchmark price)
        self.turnover: list[tuple[datetime, float]] = []
        self._sold = 0.0
        self._fills_seen = 0
        self._previous_volume = 0.0
        self._bench: tuple[list[datetime], list[float]] | None = None

    def _benchmark(self) -> tuple[list[datetime], list[float]]:
        if self._bench is None:
            from qcmcp.sandbox.engine.types import Symbol

            engine = self.engine
            try:
                bars = engine._load(Symbol(engine.benchmark), "daily", engine.start - timedelta(days=14), engine.end)
                self._bench = (list(bars.end), [float(c) for c in bars.close])
            except Exception:  # noqa: BLE001 - a missing benchmark means zero benchmark returns, as LEAN's
                self._bench = ([], [])
        return self._bench

    def benchmark_at(self, moment: datetime, inclusive: bool = False) -> float:
        function = getattr(self.engine, "benchmark_function", None)
        if function is not None:
            return float(function(moment))
        ends, closes = self._benchmark()
        index = (bisect.bisect_right if inclusive else bisect.bisect_left)(ends, moment) - 1
        return closes[index] if index >= 0 else (closes[0] if closes else 0.0)

    def _volume(self) -> float:
        fills = self.engine.fills
        for _, _, quantity, price, _ in fills[self._fills_seen:]:
            self._sold += abs(quantity * price)
        self._fills_seen = len(fills)
        return self._sold

    def sample(self, moment: datetime, inclusive: bool = False) -> None:
        value = self.engine.portfolio.total_portfolio_value
        self.daily.append((moment, value, self.benchmark_at(moment, inclusive)))
        volume = self._volume()
        if moment != datetime.combine(self.engine.start, time()) and value:
            self.turnover.append((moment, (volume - self._previous_volume) / value))
        self._previous_volume = volume

    def _catch_up(self, moment: datetime, including: bool) -> None:
        if self.next_midnight is None:
            self.next_midnight = datetime.combine(self.engine.start, time())
        last = datetime.combine(self.engine.end, time())
        while self.next_midnight <= last and (self.next_midnight < moment or including and self.next_midnight == moment):
            self.sample(self.next_midnight)
            self.next_midnight += timedelta(days=1)

    def __call__(self, moment: datetime) -> bool:
        """Before a time step: the midnights before it (one at the step itself waits for its prices)."""
        self._catch_up(moment, including=False)
        return bool(self.chained(moment)) if self.chained is not None else False

    def after_prices(self, moment: datetime) -> None:
        """A time step's prices are in, before its fills and user code: LEAN's midnight sample is a real-time
        event, fired once the slice has updated the securities."""
        self._catch_up(moment, including=True)

    def finish(self) -> None:
        """The final sample, when the run ends (LEAN's ``results.Sample(time)`` after the loop) — none when the run
        ended on a midnight already sampled: LEAN keeps a chart point only if it is later than the last (so a
        run that quits in the midnight step ends on the value before it)."""
        self._catch_up(self.engine.time, including=True)
        if self.daily and self.daily[-1][0] >= self.engine.time:
            return
        self.sample(self.engine.time, inclusive=True)


def _skewness(x: np.ndarray) -> float:
    n = len(x)
    s = x.std(ddof=1)
    if n < 3 or not s:
        return float("nan")
    return float(n / ((n - 1) * (n - 2)) * (((x - x.mean()) / s) ** 3).sum())


def _kurtosis(x: np.ndarray) -> float:
    n = len(x)
    s = x.std(ddof=1)
    if n < 4 or not s:
        return float("nan")
    fourth = (((x - x.mean()) / s) ** 4).sum()
    return float(n * (n + 1) / ((n - 1) * (n - 2) * (n - 3)) * fourth - 3 * (n - 1) ** 2 / ((n - 2) * (n - 3)))


def _variance(x: np.ndarray) -> float:
    return float(x.var(ddof=1)) if len(x) > 1 else float("nan")


def _annual_variance(x: np.ndarray) -> float:
    variance = _variance(x)
    return 0.0 if math.isnan(variance) or variance == 0 else variance * TRADING_DAYS


def _annual_performance(x: np.ndarray) -> float:
    return float((x.mean() + 1) ** TRADING_DAYS - 1) if len(x) else 0.0


def transactions(fills: list[tuple[datetime, Any, float, float, float]],
                 splits: list[tuple[datetime, Any, float]] = ()) -> list[tuple[datetime, float, bool]]:
    """Each closing fill's profit less twice its fee, and whether it won (SecurityPortfolioModel); a RAW split
    in between turns the holding into (int)(quantity / factor) shares at the average price times the factor, as
    LEAN's SecurityPortfolioManager.ApplySplit does, so a position held through it closes at its own price."""
    held: dict[Any, tuple[float, float]] = {}
    records = []
    events = sorted([(split[0], 0, split) for split in splits] + [(fill[0], 1, fill) for fill in fills],
                    key=lambda event: event[:2])  # a split at midnight comes before that moment's fills
    for _, kind, event in events:
        if kind == 0:
            _, symbol, factor = event
            old, average = held.get(symbol, (0.0, 0.0))
            held[symbol] = (float(math.trunc(old / factor)), average * factor)
            continue
        when, symbol, quantity, price, fee = event
        old, average = held.get(symbol, (0.0, 0.0))
        new = old + quantity
        if old and (old > 0) != (quantity > 0):
            closed = min(abs(quantity), abs(old)) * (1 if old > 0 else -1)
            profit = closed * (price - average) - 2 * fee
            records.append((when, profit, profit > 0))
            average = average if new and (new > 0) == (old > 0) else (price if new else 0.0)
        else:
            average = (old * average + quantity * price) / new if new else 0.0
        held[symbol] = (new, average)
    return records


def portfolio_statistics(sampler: LeanSampler, equity_samples: list[tuple[datetime, float]], starting: float,
                         folder: Path | None) -> dict[str, float]:
    """LEAN's PortfolioStatistics for the whole run."""
    daily = sampler.daily
    points = {moment: value for moment, value in [*equity_samples, *((m, v) for m, v, _ in daily)]}
    pinned = getattr(sampler.engine, "final_equity_sample", None)
    if pinned is not None:
        points[pinned[0]] = pinned[1]
    equity = sorted(points.items())
    values = [value for _, value, _ in daily]
    changes = [0.0] + [(values[i] - values[i - 1]) / values[i - 1] if values[i - 1] else 0.0
                       for i in range(1, len(values))]
    performance = np.array(changes[2:], dtype=float)
    bench_values = [bench for _, _, bench in daily]
    bench_changes = [(bench_values[i] - bench_values[i - 1]) / bench_values[i - 1] if bench_values[i - 1] else 0.0
                     for i in range(1, len(bench_values))]
    benchmark = np.array(bench_changes[1:], dtype=float)
    end = equity[-1][1] if equity else starting
    result: dict[str, float] = {key: 0.0 for key in (
        "averageWinRate", "averageLossRate", "profitLossRatio", "winRate", "lossRate", "expectancy",
        "compoundingAnnualReturn", "drawdown", "totalNetProfit", "sharpeRatio", "probabilisticSharpeRatio",
        "sortinoRatio", "alpha", "beta", "annualStandardDeviation", "annualVariance", "informationRatio",
        "trackingError", "treynorRatio", "portfolioTurnover", "valueAtRisk99", "valueAtRisk95")}
    result.update(startEquity=starting, endEquity=end, drawdownRecovery=0)
    if sampler.turnover:
        result["portfolioTurnover"] = float(np.mean([value for _, value in sampler.turnover]))
    if not starting or len(benchmark) < 2 or len(performance) < 2:
        return result
    running, profit, loss, wins, losses = starting, 0.0, 0.0, 0, 0
    records = transactions(sampler.engine.fills, getattr(sampler.engine, "split_events", []))
    for _, pnl, _ in records:
        if pnl > 0:
            profit, wins = profit + pnl / running, wins + 1
        else:
            loss, losses = loss + pnl / running, losses + 1
        running += pnl
    average_win = profit / wins if wins else 0.0
    average_loss = loss / losses if losses else 0.0
    ratio = average_win / abs(average_loss) if average_loss else 0.0
    wins = sum(1 for record in records if record[2])
    losses = len(records) - wins
    win_rate = wins / len(records) if records else 0.0
    loss_rate = losses / len(records) if records else 0.0
    years = (equity[-1][0] - equity[0][0]).total_seconds() / 86400 / 365
    annual_variance = _annual_variance(performance)
    deviation = math.sqrt(annual_variance)
    annual = _annual_performance(performance)
    bench_annual = _annual_performance(benchmark)
    model = getattr(sampler.engine, "risk_free_model", None)  # set_risk_free_interest_rate_model's, else LEAN's
    moments = [moment for moment, _ in equity]
    rf = risk_free_rate(moments, folder) if model is None else average_rate(model, moments)
    downside = math.sqrt(_annual_variance(performance[performance < 0]))
    bench_variance = _variance(benchmark)
    beta = 0.0 if math.isnan(bench_variance) or bench_variance == 0 else \
        float(np.cov(performance, benchmark, ddof=1)[0, 1] / bench_variance)
    tracking = math.sqrt(_annual_variance(performance - benchmark)) if len(performance) == len(benchmark) else 0.0
    observed = 0.0
    if performance.std(ddof=1):
        observed = (performance.mean() - rf / TRADING_DAYS) / performance.std(ddof=1)
    spread = (1 - _skewness(performance) * observed + (_kurtosis(performance) - 1) / 4 * observed ** 2) / \
        (len(performance) - 1)
    psr = 0.0
    if spread == spread and spread > 0:
        psr = NORMAL.cdf((observed - 1 / math.sqrt(TRADING_DAYS)) / math.sqrt(spread))
    drawdown, recovery = basic.drawdown_metrics(equity)
    tail = performance[-TRADING_DAYS:]
    result.update(
        averageWinRate=average_win, averageLossRate=average_loss, profitLossRatio=ratio, winRate=win_rate,
        lossRate=loss_rate, expectancy=win_rate * ratio - loss_rate, totalNetProfit=end / starting - 1,
        compoundingAnnualReturn=(end / starting) ** (1 / years) - 1 if years > 0 and end > 0 else 0.0,
        annualVariance=annual_variance, annualStandardDeviation=deviation,
        sharpeRatio=(annual - rf) / deviation if deviation else 0.0,
        sortinoRatio=(annual - rf) / downside if downside else 0.0,
        beta=beta, alpha=annual - (rf + beta * (bench_annual - rf)) if beta else 0.0,
        trackingError=tracking, informationRatio=(annual - bench_annual) / tracking if tracking else 0.0,
        treynorRatio=(annual - rf) / beta if beta else 0.0, probabilisticSharpeRatio=psr,
        valueAtRisk99=_value_at_risk(tail, 0.99), valueAtRisk95=_value_at_risk(tail, 0.95),
        drawdown=drawdown, drawdownRecovery=recovery,
    )
    return result


def _value_at_risk(performance: np.ndarray, confidence: float) -> float:
    if len(performance) < 2 or not performance.std(ddof=1):
        return 0.0
    return round(NormalDist(float(performance.mean()), float(performance.std(ddof=1))).inv_cdf(1 - confidence), 3)


def _decimal(value: float, decimals: int) -> str:
    """A C# decimal as LEAN prints it after Math.Round (to even): exact integers bare, others with their
    decimals; a value that rounds to zero prints without a sign (-0.000004 % is "0.00%", as .NET prints it)."""
    if value == int(value):
        return str(int(value))
    rounded = Decimal(repr(value)).quantize(Decimal(1).scaleb(-decimals), rounding=ROUND_HALF_EVEN)
    return str(abs(rounded) if rounded == 0 else rounded)


def _money(value: float) -> str:
    """C#'s ToString("0.00"): midpoints away from zero (LEAN's fee of $3.485 prints $3.49)."""
    return str(Decimal(repr(value)).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP))


def _double(value: float) -> str:
    """A C# double rounded to 3 decimals as LEAN prints it: no trailing zeros."""
    text = f"{round(value, 3):.3f}".rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


def headline(stats: dict[str, float], total_orders: int, total_fees: float, traded: bool = True,
             currency_symbol: str = "$") -> dict[str, str]:
    """The statistics block as LEAN's StatisticsBuilder.GetSummary formats it (C# decimals keep the scale their
    arithmetic gave them: equity computed from prices prints two decimals, the untouched starting cash none; fees
    carry the account currency's symbol)."""
    def percent(value: float, decimals: int = 3) -> str:
        return _decimal(value * 100, decimals) + "%"

    return {
        "Total Orders": str(total_orders),
        "Average Win": percent(stats["averageWinRate"], 2),
        "Average Loss": percent(stats["averageLossRate"], 2),
        "Compounding Annual Return": percent(stats["compoundingAnnualReturn"]),
        "Drawdown": percent(stats["drawdown"]),
        "Expectancy": _decimal(stats["expectancy"], 3),
        "Start Equity": _decimal(stats["startEquity"], 2),
        "End Equity": str(Decimal(repr(stats["endEquity"])).quantize(Decimal("0.01"), rounding=ROUND_HALF_EVEN))
        if traded else _decimal(stats["endEquity"], 2),
        "Net Profit": percent(stats["totalNetProfit"]),
        "Sharpe Ratio": _double(stats["sharpeRatio"]),
        "Sortino Ratio": _double(stats["sortinoRatio"]),
        "Probabilistic Sharpe Ratio": percent(stats["probabilisticSharpeRatio"]),
        "Loss Rate": percent(stats["lossRate"], 0),
        "Win Rate": percent(stats["winRate"], 0),
        "Profit-Loss Ratio": _decimal(stats["profitLossRatio"], 2),
        "Alpha": _double(stats["alpha"]),
        "Beta": _double(stats["beta"]),
        "Annual Standard Deviation": _double(stats["annualStandardDeviation"]),
        "Annual Variance": _double(stats["annualVariance"]),
        "Information Ratio": _double(stats["informationRatio"]),
        "Tracking Error": _double(stats["trackingError"]),
        "Treynor Ratio": _double(stats["treynorRatio"]),
        "Total Fees": currency_symbol + _money(total_fees),
        "Portfolio Turnover": percent(stats["portfolioTurnover"], 2),
        "Drawdown Recovery": str(int(stats["drawdownRecovery"])),
    }


def apply(result: dict[str, Any], sampler: LeanSampler, folder: Path | None) -> dict[str, Any]:
    """Replace a built result's portfolio statistics and headline figures with LEAN's."""
    engine = sampler.engine
    stats = portfolio_statistics(sampler, engine.samples, engine.portfolio.starting_cash, folder)
    from qcmcp.sandbox.engine.currencies import Currencies

    symbol = Currencies.get_currency_symbol(engine.portfolio.account_currency)
    result["statistics"].update(headline(stats, int(result["statistics"]["Total Orders"]), engine.portfolio.total_fees,
                                         traded=bool(engine.fills), currency_symbol=symbol))
    result["statistics"].update(getattr(engine, "summary_statistics", {}))  # the algorithm's, after LEAN's
    result["totalPerformance"]["portfolioStatistics"].update(stats)
    result["runtimeStatistics"]["Probabilistic Sharpe Ratio"] = result["statistics"]["Probabilistic Sharpe Ratio"]
    return result

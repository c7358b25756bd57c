"""Trade statistics and first-pass portfolio figures from the run itself.

Trades are matched first-in-first-out per symbol (LEAN's default) for ``tradeStatistics`` and
``closedTrades``. The portfolio statistics and the headline block a backtest reports are then replaced by
LEAN's own computation in ``lean_statistics`` (daily samples at every midnight, LEAN's risk-free rate
model); the figures here remain for runs that end before a daily sample exists.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date, datetime
from statistics import NormalDist
from typing import Any

import numpy as np

NORMAL = NormalDist()

TRADING_DAYS = 252


@dataclass
class ClosedTrade:
    symbol: Any
    entry_time: datetime
    entry_price: float
    exit_time: datetime
    exit_price: float
    quantity: float  # signed: positive long, negative short
    fees: float

    @property
    def profit_loss(self) -> float:
        return self.quantity * (self.exit_price - self.entry_price)

    @property
    def net(self) -> float:
        return self.profit_loss - self.fees

    @property
    def return_rate(self) -> float:
        cost = abs(self.quantity * self.entry_price)
        return self.net / cost if cost else 0.0


def closed_trades(fills: list[tuple[datetime, Any, float, float, float]],
                  splits: list[tuple[datetime, Any, float]] = ()) -> list[ClosedTrade]:
    """FIFO-match opening and closing fills into closed trades (fees split pro rata); a RAW split in between
    divides the open lots' quantities by the split factor and multiplies their prices by it (LEAN's
    TradeBuilder.ApplySplit)."""
    lots: dict[Any, list[list[Any]]] = {}
    trades: list[ClosedTrade] = []
    events = sorted([(split[0], 0, split) for split in splits] + [(fill[0], 1, fill) for fill in fills],
                    key=lambda event: event[:2])
    for _, kind, event in events:
        if kind == 0:
            _, symbol, factor = event
            for lot in lots.get(symbol, []):
                lot[0], lot[1], lot[3] = lot[0] / factor, lot[1] * factor, lot[3] * factor
            continue
        when, symbol, quantity, price, fee = event
        open_lots = lots.setdefault(symbol, [])
        remaining, fee_per_share = quantity, fee / abs(quantity) if quantity else 0.0
        while remaining and open_lots and (open_lots[0][0] > 0) != (remaining > 0):
            lot = open_lots[0]
            closed = min(abs(remaining), abs(lot[0]))
            sign = 1 if lot[0] > 0 else -1
            trades.append(ClosedTrade(symbol, lot[2], lot[1], when, price, sign * closed,
                                      lot[3] * closed + fee_per_share * closed))
            lot[0] -= sign * closed
            remaining += sign * closed
            if lot[0] == 0:
                open_lots.pop(0)
        if remaining:
            open_lots.append([remaining, price, when, fee_per_share])
    return trades


def _ratio(numerator: float, denominator: float) -> float:
    return numerator / denominator if denominator and math.isfinite(denominator) else 0.0


def probabilistic_sharpe(returns: np.ndarray, benchmark_sharpe: float = 0.0) -> float:
    """Bailey & López de Prado's PSR, on non-annualised daily Sharpe ratios."""
    n = len(returns)
    if n < 3 or returns.std() == 0:
        return 0.0
    sharpe = returns.mean() / returns.std(ddof=1)
    centred = returns - returns.mean()
    skew = (centred**3).mean() / returns.std() ** 3
    kurtosis = (centred**4).mean() / returns.std() ** 4
    spread = math.sqrt(max(1e-12, 1 - skew * sharpe + (kurtosis - 1) / 4 * sharpe**2))
    return float(NORMAL.cdf((sharpe - benchmark_sharpe) * math.sqrt(n - 1) / spread))


def drawdown_metrics(samples: list[tuple[datetime, float]], rounding: int = 3) -> tuple[float, int]:
    """LEAN's Statistics.CalculateDrawdownMetrics over the sampled equity: the deepest fall from a peak (rounded
    to ``rounding`` decimals of the fraction, as LEAN reports it) and the longest recovery to a new peak, in
    whole days from the peak the fall started at."""
    if len(samples) < 2:
        return 0.0, 0
    peak_time, peak = samples[0]
    deepest, longest, started = 0.0, 0.0, None
    for moment, value in samples:
        if value >= peak:
            if started is not None:
                longest = max(longest, (moment - started).total_seconds() / 86400)
                started = None
            peak_time, peak = moment, value
        current = value / peak - 1 if peak else 0.0
        if current < 0:
            deepest = min(deepest, current)
            started = started or peak_time
    return round(abs(deepest), rounding), int(longest)


def portfolio_statistics(days: list[date], equity: np.ndarray, benchmark: np.ndarray, trades: list[ClosedTrade],
                         traded_value: dict[date, float],
                         samples: list[tuple[datetime, float]] | None = None) -> dict[str, float]:
    start, end = float(equity[0]), float(equity[-1])
    returns = np.diff(equity) / equity[:-1] if len(equity) > 1 else np.array([0.0])
    bench = np.nan_to_num(np.diff(benchmark) / benchmark[:-1]) if len(benchmark) > 1 else np.zeros_like(returns)
    years = max((days[-1] - days[0]).days / 365.25, 1 / 365.25)
    if samples:
        drawdown, recovery = drawdown_metrics(samples)
    else:
        peak = np.maximum.accumulate(equity)
        drawdown, recovery = (float(((peak - equity) / peak).max()) if len(equity) else 0.0), 0
    std = float(returns.std(ddof=1)) if len(returns) > 1 else 0.0
    downside = float(np.sqrt((np.minimum(returns, 0) ** 2).mean())) if len(returns) else 0.0
    annual_return = (end / start) ** (1 / years) - 1 if start > 0 and end > 0 else -1.0
    variance_b = float(bench.var(ddof=1)) if len(bench) > 1 else 0.0
    beta = _ratio(float(np.cov(returns, bench, ddof=1)[0, 1]), variance_b) if len(returns) > 1 else 0.0
    alpha = float((returns.mean() - beta * bench.mean()) * TRADING_DAYS) if len(returns) else 0.0
    active = returns - bench
    tracking = float(active.std(ddof=1) * math.sqrt(TRADING_DAYS)) if len(active) > 1 else 0.0
    wins = [t for t in trades if t.net > 0]
    losses = [t for t in trades if t.net <= 0]
    win_rate = _ratio(len(wins), len(trades))
    loss_rate = _ratio(len(losses), len(trades))
    average_win = float(np.mean([t.return_rate for t in wins])) if wins else 0.0
    average_loss = float(np.mean([t.return_rate for t in losses])) if losses else 0.0
    profit_loss_ratio = _ratio(average_win, abs(average_loss))
    turnover = [traded_value.get(day, 0.0) / value for day, value in zip(days, equity, strict=True) if value > 0]
    mean, z99, z95 = float(returns.mean()), NORMAL.inv_cdf(0.01), NORMAL.inv_cdf(0.05)
    return {
        "averageWinRate": average_win,
        "averageLossRate": average_loss,
        "profitLossRatio": profit_loss_ratio,
        "winRate": win_rate,
        "lossRate": loss_rate,
        "expectancy": win_rate * profit_loss_ratio - loss_rate,
        "startEquity": start,
        "endEquity": end,
        "compoundingAnnualReturn": annual_return,
        "drawdown": drawdown,
        "drawdownRecovery": recovery,
        "totalNetProfit": end / start - 1 if start else 0.0,
        "sharpeRatio": _ratio(mean * TRADING_DAYS, std * math.sqrt(TRADING_DAYS)),
        "probabilisticSharpeRatio": probabilistic_sharpe(returns),
        "sortinoRatio": _ratio(mean * TRADING_DAYS, downside * math.sqrt(TRADING_DAYS)),
        "alpha": alpha,
        "beta": beta,
        "annualStandardDeviation": std * math.sqrt(TRADING_DAYS),
        "annualVariance": std**2 * TRADING_DAYS,
        "informationRatio": _ratio(float(active.mean()) * TRADING_DAYS, tracking),
        "trackingError": tracking,
        "treynorRatio": _ratio(annual_return, beta),
        "portfolioTurnover": float(np.mean(turnover)) if turnover else 0.0,
        "valueAtRisk99": mean + z99 * std,
        "valueAtRisk95": mean + z95 * std,
    }


def trade_statistics(trades: list[ClosedTrade]) -> dict[str, Any]:
    if not trades:
        return {"totalNumberOfTrades": 0, "numberOfWinningTrades": 0, "numberOfLosingTrades": 0, "totalProfitLoss": 0.0,
                "totalProfit": 0.0, "totalLoss": 0.0, "totalFees": 0.0}
    pnl = np.array([t.net for t in trades])
    wins, losses = pnl[pnl > 0], pnl[pnl <= 0]
    return {
        "startDateTime": trades[0].entry_time.isoformat(),
        "endDateTime": trades[-1].exit_time.isoformat(),
        "totalNumberOfTrades": len(trades),
        "numberOfWinningTrades": int(len(wins)),
        "numberOfLosingTrades": int(len(losses)),
        "totalProfitLoss": float(pnl.sum()),
        "totalProfit": float(wins.sum()),
        "totalLoss": float(losses.sum()),
        "largestProfit": float(wins.max()) if len(wins) else 0.0,
        "largestLoss": float(losses.min()) if len(losses) else 0.0,
        "averageProfitLoss": float(pnl.mean()),
        "averageProfit": float(wins.mean()) if len(wins) else 0.0,
        "averageLoss": float(losses.mean()) if len(losses) else 0.0,
        "winRate": len(wins) / len(trades),
        "lossRate": len(losses) / len(trades),
        "profitLossRatio": _ratio(float(wins.mean()) if len(wins) else 0.0, abs(float(losses.mean())) if len(losses) else 0.0),
        "profitFactor": _ratio(float(wins.sum()), abs(float(losses.sum()))),
        "profitLossStandardDeviation": float(pnl.std(ddof=1)) if len(pnl) > 1 else 0.0,
        "totalFees": float(sum(t.fees for t in trades)),
    }


def _pct(value: float, decimals: int = 3) -> str:
    return f"{value * 100:.{decimals}f}%"


def _money(value: float) -> str:
    return f"{'-' if value < 0 else ''}${abs(value):,.2f}"


def headline(stats: dict[str, float], total_orders: int, total_fees: float) -> dict[str, str]:
    """The "statistics" block of a backtest, formatted as QuantConnect formats it."""
    return {
        "Total Orders": str(total_orders),
        "Average Win": _pct(stats["averageWinRate"], 2),
        "Average Loss": _pct(stats["averageLossRate"], 2),
        "Compounding Annual Return": _pct(stats["compoundingAnnualReturn"]),
        "Drawdown": _pct(stats["drawdown"]),
        "Expectancy": f"{stats['expectancy']:.3f}",
        "Start Equity": f"{stats['startEquity']:.0f}",
        "End Equity": f"{stats['endEquity']:.2f}",
        "Net Profit": _pct(stats["totalNetProfit"]),
        "Sharpe Ratio": f"{stats['sharpeRatio']:.3f}",
        "Sortino Ratio": f"{stats['sortinoRatio']:.3f}",
        "Probabilistic Sharpe Ratio": _pct(stats["probabilisticSharpeRatio"]),
        "Loss Rate": _pct(stats["lossRate"], 0),
        "Win Rate": _pct(stats["winRate"], 0),
        "Profit-Loss Ratio": f"{stats['profitLossRatio']:.2f}",
        "Alpha": f"{stats['alpha']:.3f}",
        "Beta": f"{stats['beta']:.3f}",
        "Annual Standard Deviation": f"{stats['annualStandardDeviation']:.3f}",
        "Annual Variance": f"{stats['annualVariance']:.3f}",
        "Information Ratio": f"{stats['informationRatio']:.3f}",
        "Tracking Error": f"{stats['trackingError']:.3f}",
        "Treynor Ratio": f"{stats['treynorRatio']:.3f}",
        "Total Fees": _money(total_fees),
        "Portfolio Turnover": _pct(stats["portfolioTurnover"], 2),
        "Drawdown Recovery": str(int(stats.get("drawdownRecovery", 0))),
    }


def runtime(equity: float, start: float, fees: float, holdings: float, unrealized: float, volume: float,
            psr: float) -> dict[str, str]:
    return {
        "Equity": _money(equity),
        "Fees": _money(-fees),
        "Holdings": _money(holdings),
        "Net Profit": _money(equity - start),
        "Probabilistic Sharpe Ratio": _pct(psr),
        "Return": f"{(equity / start - 1) * 100:.2f} %" if start else "0.00 %",
        "Unrealized": _money(unrealized),
        "Volume": _money(volume),
    }

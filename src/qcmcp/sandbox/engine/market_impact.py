"""LEAN's MarketImpactSlippageModel (``Common/Orders/Slippage/MarketImpactSlippageModel.cs``), the
Almgren-Chriss market impact with LEAN's defaults and its seeded System.Random.

On its first order the model subscribes a one-day trade-bar consolidator to the security and feeds it a year of
daily history (370 days); each consolidated bar adds its close (last 252) and volume (last 10): sigma is the
standard deviation (sample) of the daily returns of those closes, the average volume the mean of those volumes.
For an order of |q| shares: ν = |q| / execution time / average volume (the execution time is the 75 ms latency in
trading days of the regular session); permanent impact = σ · T_exec · γ ν^α · L + N(0,1) · σ √T_impact and
temporary impact = σ · η ν^β + N(0,1) · σ √T_impact (T_impact = T_exec + 30 minutes in trading days; L the
liquidity adjustment from fundamentals, 1 without them, as here); the slippage is min(1, (temporary + permanent
/ 2) × U(0,1)), at least 0 unless ``non_negative`` is False, times the price.
"""

from __future__ import annotations

import math
from datetime import timedelta
from typing import Any

from qcmcp.sandbox.engine.csharp_random import Random
from qcmcp.sandbox.engine.types import PascalAliases


class _SymbolData:
    """The security's daily closes and volumes, from a year of history and then the consolidated days."""

    def __init__(self, algorithm: Any, asset: Any, latency: float, impact_time: float) -> None:
        from qcmcp.sandbox.engine.consolidators import TradeBarConsolidator

        self.sigma = self.average_volume = 0.0
        self._prices: list[float] = []  # newest first, as LEAN's RollingWindow
        self._volumes: list[float] = []
        consolidator = TradeBarConsolidator(timedelta(days=1))
        consolidator.data_consolidated += lambda sender, bar: self._consolidated(bar)
        algorithm.subscription_manager.add_consolidator(asset.symbol, consolidator)
        engine = algorithm.engine
        now = engine._now_for_history()
        for bar in engine._history_bars(asset.symbol, timedelta(days=370), "daily", now):
            consolidator.update(bar)
        session_days = asset.hours.minutes / 1440  # LEAN's RegularMarketDuration in days
        self.execution_time = latency / 86400 / session_days
        self.impact_time = self.execution_time + impact_time / 86400 / session_days

    def _consolidated(self, bar: Any) -> None:
        self._prices.insert(0, float(bar.close))
        del self._prices[252:]
        self._volumes.insert(0, float(bar.volume))
        del self._volumes[10:]
        if len(self._prices) < 2:
            return
        returns = [(self._prices[i] - self._prices[i + 1]) / self._prices[i + 1] if self._prices[i + 1] else 0.0
                   for i in range(len(self._prices) - 1)]
        if len(returns) > 1:
            mean = sum(returns) / len(returns)
            self.sigma = math.sqrt(sum((r - mean) ** 2 for r in returns) / (len(returns) - 1))
        else:
            self.sigma = float("nan")  # MathNet's variance of one value
        self.average_volume = sum(self._volumes) / len(self._volumes)


class MarketImpactSlippageModel(PascalAliases):
    def __init__(self, algorithm: Any, non_negative: bool = True, latency: float = 0.075, impact_time: float = 1800.0,
                 alpha: float = 0.891, beta: float = 0.600, gamma: float = 0.314, eta: float = 0.142,
                 delta: float = 0.267, random_seed: int = 50) -> None:
        if latency <= 0:
            raise ValueError("Latency cannot be less than or equal to 0.")
        if impact_time <= 0:
            raise ValueError("impactTime cannot be less than or equal to 0.")
        self._algorithm, self._non_negative = algorithm, bool(non_negative)
        self._latency, self._impact_time = float(latency), float(impact_time)
        self._alpha, self._beta, self._gamma, self._eta, self._delta = alpha, beta, gamma, eta, delta
        self._random = Random(int(random_seed))
        self._data: _SymbolData | None = None

    def get_slippage_approximation(self, asset: Any, order: Any) -> float:
        if asset.hours.kind == "forex":
            raise ValueError("Asset of Forex is not supported as MarketImpactSlippageModel requires volume data")
        if self._data is None:  # LEAN keeps the data of the first asset it prices
            self._data = _SymbolData(self._algorithm, asset, self._latency, self._impact_time)
        data = self._data
        if data.average_volume == 0:
            return 0.0
        nu = abs(float(order.quantity)) / data.execution_time / data.average_volume
        liquidity = 1.0  # the sandbox has no fundamentals (LEAN: (shares outstanding / average volume) ^ delta)
        noise = data.sigma * math.sqrt(data.impact_time)
        permanent = data.sigma * data.execution_time * self._gamma * nu ** self._alpha * liquidity + \
            self._gaussian() * noise
        temporary = data.sigma * self._eta * nu ** self._beta + self._gaussian() * noise
        realized = temporary + permanent * 0.5
        slippage = min(realized * self._random.next_double(), 1.0)
        if self._non_negative:
            slippage = max(0.0, slippage)
        return slippage * asset.price

    def _gaussian(self) -> float:
        first = 1 - self._random.next_double()
        second = 1 - self._random.next_double()
        return math.sqrt(-2.0 * math.log(first)) * math.cos(2.0 * math.pi * second)

"""Parameters of the research tools, with the names the quantconnect-mcp server's users know (``symbols``,
``start_date``, …), as request models: the schema clients see and the validation come from one class. Field
names are the research functions' own parameter names, so a validated body is passed on as it is."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

Symbols = list[str]
# Descriptions only where the name, type and enum leave a question (every byte is in each tool's tools/list entry).
SYMBOLS = Field(..., min_length=1, max_length=500)
DATE = {"format": "date"}  # YYYY-MM-DD; left out, the range is all the data the symbols share
START = Field(None, json_schema_extra=DATE)
END = Field(None, json_schema_extra=DATE)
Resolution = Literal["daily", "hour", "minute"]
OBJECT_KEY = "An Object Store CSV/Parquet of bars (time,open,high,low,close,…) to use instead."
Normalization = Literal["adjusted", "raw", "split_adjusted", "total_return"]
Rebalance = Literal["daily", "weekly", "monthly", "quarterly", "yearly", "never"]
# quantconnect-mcp's parameter names where ours differ: accepted as the same parameter.
ALIASES = {"benchmark_symbol": "benchmark", "portfolio_symbols": "symbols"}
BENCHMARK_SYMBOL = Field(None, max_length=20, description="Same as benchmark.")


class _Range(BaseModel):
    model_config = ConfigDict(extra="forbid")

    start_date: str | None = START
    end_date: str | None = END
    resolution: Resolution = "daily"
    normalization: Normalization = "adjusted"
    object_key: str | None = Field(None, min_length=1, max_length=255, description=OBJECT_KEY)

    @model_validator(mode="before")
    @classmethod
    def _quantconnect_mcp_spellings(cls, values: Any) -> Any:
        """Its parameter names (ALIASES), its capitalised resolutions ("Daily"), one ticker as a string."""
        if not isinstance(values, dict):
            return values
        values = dict(values)
        for alias, name in ALIASES.items():
            if alias in values and name in cls.model_fields:
                value = values.pop(alias)
                if values.get(name) not in (None, value):
                    raise ValueError(f"{alias} and {name} are one parameter: give only one of them")
                values[name] = value
        if isinstance(values.get("resolution"), str):
            values["resolution"] = values["resolution"].lower()
        if isinstance(values.get("symbols"), str):
            values["symbols"] = [name.strip() for name in values["symbols"].split(",") if name.strip()]
        return values


class HistoryParams(_Range):
    symbols: Symbols = SYMBOLS
    fields: list[Literal["open", "high", "low", "close", "volume"]] | None = Field(
        None, min_length=1, max_length=5, description="Columns of the bars listed (default: all).")
    start_date: str = Field(..., json_schema_extra=DATE)
    end_date: str = Field(..., json_schema_extra=DATE)


class CorrelationParams(_Range):
    symbols: Symbols = SYMBOLS
    method: Literal["pearson", "spearman"] = "pearson"


class PcaParams(_Range):
    symbols: Symbols = SYMBOLS
    n_components: int | None = Field(None, ge=1, le=500, description="Default: all.")


class CointegrationParams(_Range):
    symbol1: str = Field(..., min_length=1, max_length=20)
    symbol2: str = Field(..., min_length=1, max_length=20)
    trend: Literal["c", "ct", "n"] = Field("c", description="Constant, constant+trend, or none.")
    lags: int | None = Field(None, ge=0, le=50, description="ADF lags (default: by AIC).")
    alpha: float = Field(0.05, gt=0, lt=1, description="Significance level.")


class MeanReversionParams(_Range):
    symbol: str | None = Field(None, min_length=1, max_length=20)
    symbols: Symbols | None = Field(None, min_length=1, max_length=50, description="Several, each analysed.")
    lookback_period: int = Field(20, ge=2, le=2520, description="Bars for the current z-score.")

    @model_validator(mode="after")
    def _one_form(self) -> MeanReversionParams:
        if (self.symbol is None) == (self.symbols is None):
            raise ValueError("give symbol (one ticker) or symbols (several), not both or neither")
        return self


class PerformanceParams(_Range):
    symbols: Symbols = SYMBOLS
    weights: list[float] = Field(..., min_length=1, max_length=500, description="One weight per symbol, summing to 1.")
    benchmark: str | None = Field("SPY", max_length=20)
    benchmark_symbol: str | None = BENCHMARK_SYMBOL
    risk_free_rate: float = Field(0.0, ge=-0.1, le=0.5, description="Annual.")
    rebalance_frequency: Rebalance = "daily"


class EqualWeightParams(_Range):
    symbols: Symbols = SYMBOLS
    rebalance_frequency: Rebalance = "monthly"
    benchmark: str | None = Field("SPY", max_length=20)


class OptimizeParams(_Range):
    symbols: Symbols = SYMBOLS
    method: Literal["min_variance", "max_sharpe", "risk_parity", "hrp", "min_cvar"] = "min_variance"
    long_only: bool = True
    max_weight: float | None = Field(None, gt=0, le=1, description="Cap on any one weight.")
    risk_free_rate: float = Field(0.0, ge=-0.1, le=0.5)


class SparseParams(_Range):
    symbols: Symbols | None = Field(None, min_length=1, max_length=500, description="Required.")
    portfolio_symbols: Symbols | None = Field(None, max_length=500, description="Same as symbols.")
    benchmark: str | None = Field(None, max_length=20, description="The index to track (required).")
    benchmark_symbol: str | None = BENCHMARK_SYMBOL
    max_assets: int | None = Field(None, ge=1, le=500)
    max_weight: float | None = Field(None, gt=0, le=1)
    lambda_param: float = Field(0.01, gt=0, le=10, description="Sparsity penalty weight.")
    penalty_param: float = Field(0.001, gt=0, le=1, description="Log-penalty smoothing.")
    huber_param: float | None = Field(None, gt=0, le=1, description="Huber M (default: from the data).")
    max_iterations: int = Field(20, ge=1, le=1000)
    tolerance: float = Field(0.0001, gt=0, le=1)

    @model_validator(mode="after")
    def _required(self) -> SparseParams:
        if not self.symbols or not self.benchmark:
            raise ValueError("symbols (portfolio_symbols) and benchmark (benchmark_symbol) are required")
        return self


class UncorrelatedParams(_Range):
    symbols: Symbols = SYMBOLS
    num_assets: int = Field(5, ge=1, le=500)
    method: Literal["greedy", "cluster", "lowest_correlation", "highest_correlation"] = "greedy"


class ScreenParams(_Range):
    symbols: Symbols = SYMBOLS
    min_return: float | None = Field(None, description="Annual; 0.1 = 10%.")
    max_volatility: float | None = Field(None, ge=0)
    min_sharpe: float | None = None
    max_drawdown: float | None = Field(None, ge=0, le=1)
    max_correlation: float | None = Field(None, ge=-1, le=1, description="To the benchmark.")
    benchmark: str | None = Field(None, max_length=20)
    benchmark_symbol: str | None = BENCHMARK_SYMBOL
    min_market_cap: float | None = Field(None, description="Needs fundamentals (none offline).")
    max_pe_ratio: float | None = Field(None, description="Needs fundamentals (none offline).")


class PairsParams(_Range):
    symbols: Symbols = Field(..., min_length=2, max_length=500, description="Every pair is tested.")
    alpha: float = Field(0.05, gt=0, lt=1, description="False discovery rate (Benjamini-Hochberg).")
    max_results: int = Field(100, ge=1, le=1000)

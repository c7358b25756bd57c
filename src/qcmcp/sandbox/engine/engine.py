"""The event loop: feed bars in time order, fill orders, call the algorithm, sample equity.

Each time step: fill open orders against the new bars (see broker.py), update prices
and indicators, fire scheduled events, call ``on_data``; at each session's last step,
sample portfolio equity and the benchmark for statistics and charts.
"""

from __future__ import annotations

import math
import types
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Any

import numpy as np

from qcmcp.sandbox.engine import clock
from qcmcp.sandbox.engine import data as market_data
from qcmcp.sandbox.engine import volatility
from qcmcp.sandbox.engine.broker import Order, Portfolio, fee_cash, security_fee
from qcmcp.sandbox.engine.charts import ChartStore
from qcmcp.sandbox.engine.framework import ImmediateExecutionModel, Insight
from qcmcp.sandbox.engine.indicators import Indicator
from qcmcp.sandbox.engine.schedule import Scheduler
from qcmcp.sandbox.engine.seeding import Bar, QuoteBar
from qcmcp.sandbox.engine.types import (
    DataNormalizationMode,
    OrderEvent,
    OrderProperties,
    OrderStatus,
    OrderTicket,
    OrderType,
    PascalAliases,
    Security,
    SecurityType,
    Slice,
    Symbol,
    TradeBar,
)

RESOLUTION_ALIASES = {"tick": "minute", "second": "minute", "minute": "minute", "hour": "hour", "daily": "daily"}
SECURITY_TYPES = {"equity": SecurityType.EQUITY, "crypto": SecurityType.CRYPTO, "forex": SecurityType.FOREX,
                  "base": SecurityType.BASE}
CRYPTO_LOTS = 100_000_000


class QuitRequested(Exception):
    pass


def _quote_rate(security: Security) -> float:
    quote = security.quote_currency
    return float(quote.conversion_rate) if quote is not None else 1.0


def _lot_size(security: Security) -> float:
    """The symbol properties' lot size for a currency pair or custom data given its own properties (an equity
    trades whole shares)."""
    if security.hours.kind in ("crypto", "forex") or getattr(security, "own_symbol_properties", False):
        properties = security.symbol_properties
        return float(properties.lot_size) if properties is not None else 1 / CRYPTO_LOTS
    return 1.0


def _round_off_to_lot(quantity: float, lot: float) -> float:
    """LEAN's BrokerageTransactionHandler.RoundOffOrder: towards zero to a multiple of the lot size."""
    if lot <= 0:
        return quantity
    lots = abs(quantity) / lot
    if abs(lots - round(lots)) < 1e-9:  # a multiple already, up to float noise (0.3 / 0.1 is 2.9999999999999996)
        return quantity
    return math.copysign(round(math.floor(lots) * lot, 12), quantity)


def _has_forex_files(folder: Path, ticker: str) -> bool:
    """Whether the LEAN data folder holds any forex file of the pair (``forex/<market>/<resolution>/<pair>...``)."""
    name = ticker.lower()
    return any(path.name == name or path.name.startswith(f"{name}.") or path.name.startswith(f"{name}_")
               for path in (Path(folder) / "forex").glob("*/*/*"))


@dataclass
class Subscription:
    security: Security
    bars: market_data.Bars
    indicators: dict[str, list[Indicator]]  # by resolution they are fed at
    partial: dict[str, list[float] | None]  # consolidators: (start, o, h, l, c, v) being built
    bid: np.ndarray | None = None  # quote closes aligned to the bars (minute equities with quote files)
    ask: np.ndarray | None = None
    bid_size: np.ndarray | None = None  # and the last bid / ask sizes
    ask_size: np.ndarray | None = None
    quote_ohlc: np.ndarray | None = None  # and the quote bars' bid and ask OHLC (data.QUOTE_OHLC order)
    delisting: date | None = None  # the map file's delisting day
    delisting_stage: int = 0  # 0: listed, 1: warned (on the delisting day), 2: delisted
    dividends: dict[date, float] = field(default_factory=dict)  # ex-date: raw amount per share
    splits: dict[date, float] = field(default_factory=dict)  # ex-date: LEAN's split factor (price after/before)
    split_warnings: dict[date, float] = field(default_factory=dict)  # the session before a split: its factor
    symbol_changes: dict[date, tuple[str, str]] = field(default_factory=dict)  # first session: (old, new) ticker
    custom: list[Any] | None = None  # custom data (qcmcp.sandbox.engine.custom_data): the points behind the bars
    quote_ranges: np.ndarray | None = None  # crypto: bid high, bid low, ask high, ask low aligned to the bars


@dataclass
class Framework:
    """The alpha, portfolio-construction and execution models, and the insights they produced."""

    alphas: list[Any] = field(default_factory=list)
    construction: Any = None
    execution: Any = field(default_factory=ImmediateExecutionModel)
    emitted: list[Insight] = field(default_factory=list)
    active: list[Insight] = field(default_factory=list)
    risk: list[Any] = field(default_factory=list)
    recorded: list[Insight] = field(default_factory=list)
    score_function: Any = None  # InsightManager.set_insight_score_function's


class _SubmitRecord(PascalAliases):
    """ticket.submit_request: what was asked for."""

    def __init__(self, order: Order, asynchronous: bool) -> None:
        self.order_id, self.symbol, self.quantity, self.order_type = order.id, order.symbol, order.quantity, order.type
        self.limit_price, self.stop_price, self.tag, self.time = order.limit_price, order.stop_price, order.tag, order.time
        self.asynchronous = bool(asynchronous)
        self.status = "Processed"
        self.order_properties = OrderProperties(order.time_in_force) if getattr(order, "time_in_force", None) \
            else OrderProperties()
        from qcmcp.sandbox.engine.types import OrderResponse

        self.response = OrderResponse(order.id)


class Transactions(PascalAliases):
    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    def get_open_orders(self, symbol: Any = None) -> list[Order]:
        if callable(symbol) and not isinstance(symbol, Symbol | str):
            return [o for orders in self._engine.open_orders.values() for o in orders if symbol(o)]
        return [o for orders in self._engine.open_orders.values() for o in orders if symbol is None or o.symbol == symbol]

    def cancel_open_orders(self, symbol: Any = None) -> list[Any]:
        return self._engine.cancel_open_orders(symbol)

    def get_order_by_id(self, order_id: int) -> Order | None:
        return next((o for o in self._engine.orders if o.id == order_id), None)

    def get_open_orders_remaining_quantity(self, symbol: Any = None) -> float:
        return sum(o.quantity - o.filled_quantity for o in self.get_open_orders(symbol))

    def get_order_ticket(self, order_id: int) -> OrderTicket | None:
        return self._engine.tickets.get(order_id)

    def get_order_tickets(self, predicate: Any = None) -> list[OrderTicket]:
        return [t for t in self._engine.tickets.values() if predicate is None or predicate(t)]

    def get_open_order_tickets(self, predicate: Any = None) -> list[OrderTicket]:
        return [t for t in self._engine.tickets.values() if not t.status.is_closed()
                and (predicate is None or (predicate(t) if callable(predicate) else t.symbol == predicate))]

    def add_order(self, request: Any) -> OrderTicket:
        """Transactions.AddOrder(SubmitOrderRequest): the order as requested (no market-order conversion)."""
        kind = OrderType(int(request.order_type))
        limit = request.limit_price if kind in (OrderType.LIMIT, OrderType.STOP_LIMIT, OrderType.LIMIT_IF_TOUCHED) \
            else None
        stop = request.stop_price if kind in (OrderType.STOP_MARKET, OrderType.STOP_LIMIT, OrderType.TRAILING_STOP) \
            else None
        trigger = request.trigger_price if kind == OrderType.LIMIT_IF_TOUCHED else None
        trailing = (request.trailing_amount, request.trailing_as_percentage) if kind == OrderType.TRAILING_STOP \
            else None
        ticket = self._engine.submit(request.symbol, request.quantity, kind, limit=limit, stop=stop, tag=request.tag,
                                     properties=request.order_properties, trigger=trigger, trailing=trailing,
                                     convert=False, asynchronous=bool(getattr(request, "asynchronous", False)))
        ticket.submit_request = request
        request.order_id = ticket.order_id
        return ticket

    def cancel_order(self, order_id: int, tag: str = "") -> Any:
        ticket = self._engine.tickets.get(order_id)
        return ticket.cancel(tag) if ticket is not None else None

    def get_orders(self, predicate: Any = None) -> list[Order]:
        return [o for o in self._engine.orders if predicate is None or predicate(o)]

    @property
    def orders_count(self) -> int:
        return len(self._engine.orders)


class Engine:
    """Runs one algorithm instance over one date range."""

    def __init__(self, algorithm: Any, parameters: dict[str, str] | None = None, data_folder: Path | None = None,
                 progress: Callable[[float], None] | None = None, run_loop: bool = True) -> None:
        self.algorithm = algorithm
        algorithm._engine = self
        self.parameters = {k: str(v) for k, v in (parameters or {}).items()}
        self.data_folder = data_folder
        self.step_quotes: dict[Symbol, QuoteBar] = {}  # the quote bars of the time step being run
        clock.set_zone(clock.NEW_YORK)  # until the algorithm sets its own
        from qcmcp.sandbox.engine.custom_data import Globals

        Globals.data_folder = str(data_folder) if data_folder is not None else ""  # LEAN's, for readers of its files
        # rows the algorithm set in its symbol-properties and market-hours databases: (market, ticker, kind)
        self.symbol_property_entries: dict[tuple[str, str, str], Any] = {}
        self.market_hours_entries: dict[tuple[str, str, str], Any] = {}
        self.progress = progress or (lambda fraction: None)
        self.start: date = date(2023, 1, 1)
        self.end: date = date(2023, 12, 31)
        self.next_auxiliary = datetime.min  # the earliest split, dividend or delisting event not yet emitted
        self.benchmark = "SPY"
        self.benchmark_function: Callable[[datetime], Any] | None = None
        self.warm_up: int | timedelta | None = None
        self.time = datetime.combine(self.start, time())
        self.securities: dict[Symbol, Security] = {}
        self.portfolio = Portfolio(self.securities)
        from qcmcp.sandbox.engine.security_models import SecurityModelScan

        self.security_model_scan = SecurityModelScan(self)
        self.summary_statistics: dict[str, str] = {}  # set_summary_statistic's, after LEAN's in the statistics
        self.subscriptions: dict[Symbol, Subscription] = {}
        self.orders: list[Order] = []
        self.open_orders: dict[Symbol, list[Order]] = {}  # working orders per symbol: fills scan only these
        self.logs: list[str] = []
        self.charts = ChartStore()
        self.auto_plots: list[tuple[str, Indicator, bool]] = []  # chart, indicator, wait for ready
        self.indicator_registry: dict[Symbol, list[tuple[str, Indicator]]] = {}  # indicators fed per symbol
        self.schedule = Scheduler(self)
        self.transactions = Transactions(self)
        self.framework = Framework()
        self.warming_up = False
        self.synthetic: set[str] = set()
        self.equity: list[tuple[date, float, float, float, float]] = []  # day, open, high, low, close of equity
        self.benchmark_closes: list[float] = []
        self.traded_value: dict[date, float] = {}
        self.fills: list[tuple[datetime, Symbol, float, float, float]] = []  # time, symbol, quantity, price, fee
        self.split_events: list[tuple[datetime, Symbol, float]] = []  # RAW splits applied: time, symbol, factor
        self.positions: list[dict[Symbol, float]] = []  # each sampled day's closing holdings value per symbol
        self.samples: list[tuple[datetime, float]] = []  # intraday equity samples, as LEAN's result handler takes
        self.final_equity_sample: tuple[datetime, float] | None = None  # the last step's, when it is the final one
        self.risk_free_model: Any = None  # set_risk_free_interest_rate_model's (None: LEAN's InterestRateProvider)
        self._hours: dict[Symbol, Any] = {}
        self.tickets: dict[int, OrderTicket] = {}
        from qcmcp.sandbox.engine.models import SymbolCache

        SymbolCache.clear()  # one run's tickers
        self.running = False
        self.security_initializers: list[Callable[[Security], Any]] = []
        self.pending_subscriptions: list[Symbol] = []
        # Framework universes: the selection models, each one's members, and the scheduled universes' triggers
        self.universe_models: list[Any] = []
        self.universe_members: list[dict[Symbol, None]] = []
        self.universe_pending_removals: list[set[Symbol]] = []
        self.universe_schedule = Scheduler(self)
        self.removed: set[Symbol] = set()
        self.changes_added: list[Security] = []
        self.changes_removed: list[Security] = []
        self._history_cutoff: datetime | None = None  # history's end while the first security changes run
        self._changes_delivered = False
        self._warned: set[str] = set()
        self.quit_in_initialize = False
        self._quit_message: str | None = None
        self._handlers: dict[str, Callable[..., Any] | None] = {}
        # Called before each time step with its moment; returning True ends the run (live mode).
        self.step_hook: Callable[[datetime], bool] | None = None
        self.stopped_by_hook = False

    # ---- set-up API used by QCAlgorithm --------------------------------------------------------
    def symbol_for(self, ticker: Any) -> Symbol:
        if isinstance(ticker, Symbol):
            return ticker
        if isinstance(ticker, Security):
            return ticker.symbol
        for symbol in self.securities:
            if symbol == ticker:
                return symbol
        return Symbol(str(ticker))

    def add_security(self, ticker: str, resolution: str, leverage: float, normalization: str,
                     kind: str = "equity", extended: bool = False, market: str | None = None) -> Security:
        symbol = self.symbol_for(ticker)
        if symbol in self.securities:
            existing = self.securities[symbol]
            if symbol in self.removed:  # added back after remove_security
                self.removed.discard(symbol)
                existing.is_tradable = True
                self.changes_added.append(existing)
            return existing
        if kind != "equity":
            symbol = Symbol(symbol.value, SECURITY_TYPES[kind])
        requested = str(resolution).lower()
        if requested == "tick":
            from qcmcp.sandbox.engine.unsupported import refuse

            refuse(f"tick resolution ({symbol}: ticks are not modelled; use Resolution.SECOND or coarser)")
        if requested == "second":
            self.log(f"{symbol}: second resolution runs on minute bars in the sandbox (LEAN would use second bars).")
        market_data.normalization_mode(normalization)  # refuses modes the sandbox lacks, where they are asked for
        spec = getattr(self, "brokerage_spec", None)
        default_market = {"crypto": spec.crypto_market if spec is not None else "coinbase", "forex": "oanda"}
        market = str(market or default_market.get(kind, "usa")).lower()
        market = {"gdax": "coinbase"}.get(market, market)
        security = Security(symbol, RESOLUTION_ALIASES.get(requested, "minute"), leverage, normalization,
                            market_data.HOURS[kind], extended_market_hours=bool(extended))
        security.market = market
        self._attach_currencies(security, kind, market)
        if kind == "equity":
            security.hours_source = lambda: self.exchange_hours(security)
        self.securities[symbol] = security
        self.apply_brokerage(security)
        for initialize in self.security_initializers:
            initialize(security)
        from qcmcp.sandbox.engine.models import SymbolCache

        SymbolCache.set(symbol.value, symbol)
        if self.running:
            self.pending_subscriptions.append(symbol)
            self.changes_added.append(security)
        return security

    def add_data(self, data_type: type, ticker: Any, resolution: str | None, leverage: float) -> Security:
        """A custom data security (LEAN's AddData for a PythonData type): Base type, always open, no fees,
        immediate fills at the point's value, leverage 1 unless given."""
        name = ticker.value if isinstance(ticker, Symbol) else str(ticker)
        symbol = Symbol(name, SecurityType.BASE)
        if symbol in self.securities and self.securities[symbol].custom_type is data_type:
            return self.securities[symbol]
        requested = str(resolution or data_type().default_resolution()).lower()
        security = Security(symbol, RESOLUTION_ALIASES.get(requested, "minute"), leverage, DataNormalizationMode.RAW,
                            market_data.HOURS["base"])
        security.market, security.custom_type = "usa", data_type
        security.fee_model = "zero"
        self._attach_currencies(security, "base", "usa")
        entry = self.market_hours_entries.get(("usa", name.upper(), "base"))
        if entry is not None:  # LEAN's SetDatabaseEntries: the custom data's own exchange hours
            from qcmcp.sandbox.engine.session import SecurityExchange

            security._exchange = SecurityExchange(entry.exchange_hours)
        self.securities[symbol] = security
        for initialize in self.security_initializers:
            initialize(security)
        if self.running:
            self.pending_subscriptions.append(symbol)
            self.changes_added.append(security)
        return security

    def _attach_currencies(self, security: Security, kind: str, market: str) -> None:
        """LEAN's SecurityService.CreateSecurity: the symbol properties, and the quote (and a pair's base) currency
        in the cash book, added empty when the book lacks them."""
        from qcmcp.sandbox.engine.currencies import decompose, symbol_properties

        properties = self.symbol_property_entries.get((market, security.symbol.value.upper(), kind))
        security.own_symbol_properties = properties is not None
        if properties is None:
            properties = symbol_properties(self.data_folder, market, security.symbol.value, kind)
        security.symbol_properties = properties
        book = self.portfolio.cash_book
        security.cash_book = book
        security.quote_currency = book.ensure(properties.quote_currency)
        if kind in ("crypto", "forex"):
            parts = decompose(security.symbol.value, properties.quote_currency)
            security.base_currency = book.ensure(parts[0] if parts else security.symbol.value[:3])

    def apply_brokerage(self, security: Security) -> None:
        """The brokerage model's fee model, leverage and buying-power model (LEAN's BrokerageModel: a cash
        account has leverage 1 and buys currency pairs with the cash it holds)."""
        _, account = getattr(self, "brokerage", ("default", 0))
        spec = getattr(self, "brokerage_spec", None)
        kind = security.hours.kind
        from qcmcp.sandbox.engine.settlement import brokerage_settlement_model

        security.custom_settlement_model = brokerage_settlement_model(
            getattr(self, "brokerage_model_object", None), security, account)
        if spec is not None:
            security.fee_model = spec.fee_model(kind)
            leverage = spec.leverage(kind, account)
            if leverage is not None:
                security.leverage = leverage
            security.cash_buying_power = spec.cash_buying_power(kind, account)
            if spec.key == "alpha_streams" and security.slippage is None:
                from qcmcp.sandbox.engine.brokerages import alpha_streams_slippage

                security.slippage = alpha_streams_slippage
            return
        security.fee_model = "ib" if kind == "equity" else "zero"
        security.cash_buying_power = kind in ("crypto", "forex") and account == 1
        if account == 1:
            security.leverage = 1.0

    def attach(self, symbol: Symbol, feed: str, item: Any) -> None:
        """Feed ``item`` (an indicator or consolidator) this symbol's bars at ``feed`` resolution — from the next
        bar on when the run has started (an indicator made in on_data or on_securities_changed)."""
        self.indicator_registry.setdefault(symbol, []).append((feed, item))
        sub = self.subscriptions.get(symbol)
        if sub is not None:
            sub.indicators.setdefault(feed, []).append(item)

    def register_indicator(self, symbol: Symbol, indicator: Indicator, resolution: str | None) -> Indicator:
        if symbol not in self.securities:
            raise KeyError(f"'{symbol}' is not subscribed: call add_equity('{symbol}') before creating its indicators.")
        feed = RESOLUTION_ALIASES.get(str(resolution).lower(), None) if resolution else None
        feed = feed or self.securities[symbol].resolution
        self.attach(symbol, feed, indicator)
        if self.algorithm.settings.automatic_indicator_warm_up:
            self.warm_up_indicator(symbol, indicator, feed)
        return indicator

    def warm_up_indicator(self, symbol: Symbol, indicator: Indicator, resolution: str | None = None) -> None:
        feed = RESOLUTION_ALIASES.get(str(resolution).lower(), None) if resolution else self.securities[symbol].resolution
        for bar in self._history_bars(symbol, indicator.warm_up_period, feed or "daily", self._now_for_history()):
            indicator.feed_bar(bar)

    def log(self, message: str) -> None:
        self.logs.append(f"{self.time:%Y-%m-%d %H:%M:%S} {message}")

    def quit(self, message: str) -> None:
        self._quit_message = message or "Algorithm called quit()."
        raise QuitRequested(self._quit_message)

    # ---- history ----------------------------------------------------------------------------
    def _now_for_history(self) -> datetime:
        if self._history_cutoff is not None:
            return self._history_cutoff
        return self.time if self.time > datetime.combine(self.start, time()) else datetime.combine(self.start, time())

    def _history_bars(self, symbol: Symbol, count: int | timedelta, resolution: str, before: datetime,
                      mode: str | None = None, extended: bool | None = None) -> list[TradeBar]:
        """The last ``count`` bars (or a span's) ending by ``before``, in the security's normalization or ``mode``
        (``scaled_raw``: LEAN's ScaledRaw, prices adjusted relative to ``before``'s date), in the security's
        session or the extended one if ``extended`` says so."""
        if isinstance(count, timedelta):
            first, n = (before - count).date(), None
        else:
            days = count if resolution == "daily" else math.ceil(count / (7 if resolution == "hour" else 390)) + 1
            first, n = (before - timedelta(days=int(days * 7 / 5) + 10)).date(), count
        bars = self._load(symbol, resolution, first, before.date(), mode, extended)
        picked = [TradeBar(symbol, bars.start[i], bars.end[i], float(bars.open[i]), float(bars.high[i]),
                           float(bars.low[i]), float(bars.close[i]), float(bars.volume[i]))
                  for i in range(len(bars)) if bars.end[i] <= before and (n is not None or bars.start[i] >= before - count)]
        return picked[-n:] if n else picked

    def history(self, symbols: Any, periods: Any, resolution: str | None = None, typed: Any = None,
                fill_forward: bool | None = None, extended: bool | None = None) -> Any:
        """LEAN's History: trade bars, and for equities' minute data their quote bars too, one row per bar end
        (LEAN's frame joins the two); over a time range ``fill_forward`` (the default) fills the minutes without
        a bar from the one before, within the session (the extended one with ``extended``)."""
        import pandas as pd

        if isinstance(symbols, Security):
            symbols = symbols.symbol
        many = isinstance(symbols, list | tuple | set) or hasattr(symbols, "_securities")
        items = list(symbols.keys) if hasattr(symbols, "_securities") else list(symbols) if many else [symbols]
        wanted = [self.symbol_for(s) for s in items]
        from qcmcp.sandbox.engine.custom_data import is_custom_type

        if is_custom_type(typed):  # history(MyData, symbols, ...): that type's reader for each symbol, as LEAN
            return self._custom_history(wanted, periods, resolution, typed)
        custom = [symbol for symbol in wanted if symbol in self.securities
                  and self.securities[symbol].custom_type is not None]
        if custom:
            return self._custom_history(custom, periods, resolution)
        rows, index, bars_out, tables = [], [], [], []
        for symbol in wanted:
            feed = RESOLUTION_ALIASES.get(str(resolution).lower(), None) if resolution else None
            feed = feed or (self.securities[symbol].resolution if symbol in self.securities else "daily")
            if isinstance(periods, tuple) and periods and periods[0] == "range":
                _, start, end = periods
                end = min(end, self._now_for_history())
                picked = [b for b in self._history_bars(symbol, end - start, feed, end, extended=extended)
                          if b.end_time > start]
            else:
                start, end = None, self._now_for_history()
                picked = self._history_bars(symbol, periods, feed, end, extended=extended)
            bars_out.extend(picked)
            if typed is not None:
                continue
            table = pd.DataFrame([(bar.open, bar.high, bar.low, bar.close, bar.volume) for bar in picked],
                                 columns=["open", "high", "low", "close", "volume"],
                                 index=pd.DatetimeIndex([bar.end_time for bar in picked]))
            tables.append((symbol, self._with_quotes(symbol, table, feed, start, end, fill_forward, extended)))
        # one frame for all symbols: an equity's minute quote columns stay empty for the symbols without quotes
        filled = [list(table.columns) for _, table in tables if len(table)]
        columns = max(filled, key=len, default=["open", "high", "low", "close", "volume"])
        columns += [column for names in filled for column in names if column not in columns]
        for symbol, table in tables:
            table = table.reindex(columns=columns)
            for moment, row in zip(table.index, table.itertuples(index=False), strict=True):
                index.append((symbol, moment.to_pydatetime()))
                rows.append(row)
        if typed is not None:
            ordered = sorted(bars_out, key=lambda bar: bar.end_time)
            if not many:
                return ordered
            from qcmcp.sandbox.engine.types import DataDictionary

            by_time: dict[datetime, DataDictionary] = {}  # several symbols: one dictionary per time, as LEAN's
            for bar in ordered:
                by_time.setdefault(bar.end_time, DataDictionary())[bar.symbol] = bar
            return list(by_time.values())
        frame = pd.DataFrame(rows, columns=columns,
                             index=pd.MultiIndex.from_tuples(index, names=["symbol", "time"]) if index else None)
        return frame

    def _with_quotes(self, symbol: Symbol, trades: Any, feed: str, start: datetime | None, end: datetime,
                     fill_forward: bool | None, extended: bool | None) -> Any:
        """An equity's minute history as LEAN's frame has it: its quote bars joined on the bar end (a minute with
        only a quote or only a trade has the other's columns empty), over a time range filled forward through
        the session's minutes unless ``fill_forward`` is False; other data: the trade bars as they are."""
        import pandas as pd

        security = self.securities.get(symbol)
        if feed != "minute" or self.data_folder is None or security is None or security.hours.kind != "equity" \
                or security.custom_type is not None:
            return trades
        first = (start or (trades.index[0] if len(trades) else end)).date()
        mode = market_data.normalization_mode(security.data_normalization_mode)
        quotes = market_data.lean_folder_quote_bars(self.data_folder, symbol.value, first, end.date(), mode)
        if quotes is None:
            return trades
        session = security.extended_market_hours if extended is None else bool(extended)
        hours = self.exchange_hours(security)
        low = start if start is not None else (trades.index[0] if len(trades) else end)
        quotes = quotes[(quotes.index > pd.Timestamp(low) if start is not None else quotes.index >= low) &
                        (quotes.index <= pd.Timestamp(end))]
        inside = hours.inside((quotes.index - pd.Timedelta(minutes=1)).to_numpy(), quotes.index.to_numpy(), session)
        joined = pd.concat([quotes[inside], trades], axis=1, sort=True)
        joined = joined[["askclose", "askhigh", "asklow", "askopen", "asksize", "bidclose", "bidhigh", "bidlow",
                         "bidopen", "bidsize", "close", "high", "low", "open", "volume"]]
        if start is None or fill_forward is False or not len(joined):
            return joined
        grid = []  # LEAN's FillForwardEnumerator: every minute of the session from the first bar on
        day = joined.index[0].date()
        while day <= end.date():
            midnight = datetime.combine(day, time())
            for opening, closing in hours.open_intervals(day, session):
                moment = midnight + opening + timedelta(minutes=1)
                while moment <= midnight + closing and moment <= end:
                    grid.append(moment)
                    moment += timedelta(minutes=1)
            day += timedelta(days=1)
        grid_index = pd.DatetimeIndex([m for m in grid if m >= joined.index[0]])
        filled = joined.reindex(joined.index.union(grid_index))
        prices = [column for column in filled.columns if column not in ("volume", "asksize", "bidsize")]
        for column in prices:  # a filled bar is the last close, flat
            source = "close" if column in ("open", "high", "low", "close") else column[:3] + "close"
            filled[column] = filled[column].fillna(filled[source].ffill())
        filled[["asksize", "bidsize"]] = filled[["asksize", "bidsize"]].ffill()
        filled["volume"] = filled["volume"].fillna(0.0)
        return filled

    def _custom_history(self, symbols: list[Symbol], periods: Any, resolution: str | None,
                        data_type: type | None = None) -> Any:
        """Custom data's history: its points as a DataFrame indexed by (symbol, time), a column per property set
        in the reader and ``value``, as LEAN's converter makes it."""
        import pandas as pd

        now = self._now_for_history()
        rows, index, columns = [], [], {}
        for symbol in symbols:
            security = self.securities.get(symbol)
            if data_type is not None and (security is None or security.custom_type is not data_type):
                # another security (or none) read through this type: a subscription of it for that symbol
                security = types.SimpleNamespace(symbol=symbol, custom_type=data_type, market="usa",
                                                 resolution=RESOLUTION_ALIASES.get(str(resolution).lower(), None)
                                                 or getattr(security, "resolution", None) or "daily")
            if security is None:
                continue
            if isinstance(periods, tuple) and periods and periods[0] == "range":
                _, start, end = periods
                points = self._custom_points(security, start.date(), min(end, now).date(), start, min(end, now))
            elif isinstance(periods, timedelta):
                points = self._custom_points(security, (now - periods).date(), now.date(), now - periods, now)
            else:
                feed = RESOLUTION_ALIASES.get(str(resolution).lower(), security.resolution) if resolution \
                    else security.resolution
                step = {"daily": 1.0, "hour": 1 / 6.5, "minute": 1 / 390}.get(feed, 1.0)
                first = now - timedelta(days=int(int(periods) * step * 7 / 5) + 10)
                points = self._custom_points(security, first.date(), now.date(), first, now)
                points = [point for point in points if point.end_time <= now][-int(periods):]
            for point in points:
                if point.end_time > now:
                    continue
                stored = point.get_storage_dictionary()
                for name in stored:
                    columns.setdefault(name, None)
                index.append((symbol, point.end_time))
                rows.append({**stored, "value": float(point.value)})
        names = [name for name in columns if name != "value"] + ["value"]
        return pd.DataFrame(rows, columns=names,
                            index=pd.MultiIndex.from_tuples(index, names=["symbol", "time"]) if index else None)

    def _missing(self, symbol: Symbol, resolution: str) -> market_data.Bars:
        """No bars, as LEAN has none for a symbol its data folder lacks (synthetic bars only without a folder)."""
        key = f"missing:{symbol.value}:{resolution}"
        if key not in self._warned:
            self._warned.add(key)
            self.log(f"No {resolution} data for {symbol.value} in the data folder: like LEAN, the algorithm gets no "
                     "bars for it (add its files to the sandbox's data folder).")
        return market_data.no_bars()

    def _load(self, symbol: Symbol, resolution: str, first: date, last: date,
              mode: str | None = None, extended_hours: bool | None = None) -> market_data.Bars:
        security = self.securities.get(symbol)
        if security is not None and security.custom_type is not None and symbol.security_type != SecurityType.BASE:
            security = None  # custom data named like a ticker (add_data(MyData, "SPY")): the equity is another
        hours = security.hours if security else market_data.EQUITY
        if self.data_folder is not None and hours.kind == "equity":
            # LEAN's data handling: map files, factor files (Adjusted by default), regular hours unless
            # extended_market_hours (qcmcp.marketdata).
            if mode == "scaled_raw":  # LEAN's ScaledRaw: the adjusted prices over the factor in force on ``last``
                found = self._load(symbol, resolution, first, last, "adjusted")
                return market_data.scaled_to(found, self.data_folder, symbol.value, first, last)
            if mode is None:
                mode = market_data.normalization_mode(security.data_normalization_mode) if security else "adjusted"
            extended = security.extended_market_hours if security else False
            extended = extended if extended_hours is None else bool(extended_hours)
            found = market_data.lean_folder_bars(self.data_folder, symbol.value, resolution, first, last, mode, extended)
            if found is None and resolution == "hour":
                minute = market_data.lean_folder_bars(self.data_folder, symbol.value, "minute", first, last, mode,
                                                      extended)
                found = market_data.aggregate_hourly(minute, hours) if minute is not None and len(minute) else None
            if found is not None and len(found):
                return found
            return self._missing(symbol, resolution)
        if self.data_folder is not None and hours.kind == "crypto":
            market = {"gdax": "coinbase"}.get(getattr(security, "market", None) or "coinbase", getattr(security, "market", None) or "coinbase")
            found = market_data.lean_folder_crypto_bars(self.data_folder, symbol.value, market, resolution, first, last)
            if found is not None and len(found):
                return found
            return self._missing(symbol, resolution)
        if self.data_folder is not None and (hours.kind == "forex" or security is not None and security.is_internal):
            # forex (the sandbox reads no forex files yet), or a conversion pair the folder lacks: as LEAN without
            # the files, no bars — never made-up prices in a run over real data
            if hours.kind == "forex" and not (security is not None and security.is_internal) \
                    and _has_forex_files(self.data_folder, symbol.value):
                from qcmcp.sandbox.engine.unsupported import refuse

                refuse(f"forex data files ({symbol.value}: the sandbox does not read the data folder's forex files)")
            return self._missing(symbol, resolution)
        if self.data_folder is None and hours.kind == "equity" and resolution == "daily":
            sampled = self._from_sample(symbol, security, first, last)
            if sampled is not None:
                return sampled
        if resolution == "hour":
            minute = market_data.load_bars(symbol.value, "minute", first, last, self.data_folder, hours)
            bars = market_data.aggregate_hourly(minute, hours)
        else:
            bars = market_data.load_bars(symbol.value, resolution, first, last, self.data_folder, hours)
        if bars.synthetic:
            self.synthetic.add(symbol.value)
        return bars

    def _from_sample(self, symbol: Symbol, security: Security | None, first: date, last: date) -> Any:
        """Without a data folder, LEAN's daily sample (shipped with qcmcp) gives real prices where it covers the whole
        run; a run it covers only in part, or a ticker it lacks, gets synthetic prices, labelled as such."""
        from qcmcp.marketdata.sources import SAMPLE_FOLDER

        mode = market_data.normalization_mode(security.data_normalization_mode) if security else "adjusted"
        found = market_data.lean_folder_bars(SAMPLE_FOLDER, symbol.value, "daily", first, last, mode, False)
        if found is None or not len(found):
            return None
        slack = timedelta(days=7)  # weekends and holidays at either end of the run
        covered = found.start[0].date() <= first + slack and found.end[-1].date() >= min(last, date.today()) - slack
        return found if covered else None

    # ---- orders -----------------------------------------------------------------------------
    def submit(self, symbol: Any, quantity: float, kind: OrderType, *, limit: float | None = None,
               stop: float | None = None, tag: str = "", properties: OrderProperties | None = None,
               trigger: float | None = None, trailing: tuple[float, bool] | None = None,
               convert: bool = True, asynchronous: bool = False) -> OrderTicket:
        sym = self.symbol_for(symbol)
        security = self.securities.get(sym)
        if convert and kind == OrderType.MARKET and security is not None and security.has_data:
            kind = self._market_order_kind(security)
        order = Order(len(self.orders) + 1, sym, float(quantity), kind, self.time, tag or "", limit, stop)
        order.created_time = self.time
        order.trigger_price = trigger
        if trailing is not None:
            order.trailing_amount, order.trailing_as_percentage = trailing
            if order.stop_price is None and security is not None and security.price:
                distance = trailing[0] * (security.price if trailing[1] else 1.0)
                order.stop_price = security.price - distance if quantity < 0 else security.price + distance
        if properties is not None:
            order.time_in_force = properties.time_in_force
        refused = self._precheck(order, security)
        if refused:
            order.status, order.id = OrderStatus.INVALID, -1
            self.log(f"Order rejected: {refused}")
            invalid = OrderTicket(order, self)
            invalid.submit_request = _SubmitRecord(order, asynchronous)
            return invalid
        order.quantity = _round_off_to_lot(order.quantity, _lot_size(security))
        self.orders.append(order)
        ticket = self.tickets[order.id] = OrderTicket(order, self)
        ticket.submit_request = _SubmitRecord(order, asynchronous)
        order.submission_price = security.price if security else 0.0
        if security is not None:  # the quotes when it was placed: a limit order crossing them takes liquidity
            order.submission_bid = security.bid_price if security.bid_price == security.bid_price else security.price
            order.submission_ask = security.ask_price if security.ask_price == security.ask_price else security.price
        reason = self._shortable_reason(order, security) or self._reject_reason(order, security)
        spec = getattr(self, "brokerage_spec", None)
        if not reason and spec is not None and security is not None:
            message = spec.refusal(security, order)
            if message:  # LEAN's BrokerageModelRefusedToSubmitOrder
                from qcmcp.sandbox.engine.types import OrderResponse

                reason = f"BrokerageModel declared unable to submit order: [{order.id}] {message}"
                ticket.submit_request.response = OrderResponse(order.id, reason)
        model = getattr(self, "brokerage_model_object", None)
        if not reason and model is not None and security is not None:
            from qcmcp.sandbox.engine.models import brokerage_verdict
            from qcmcp.sandbox.engine.types import OrderResponse

            allowed, message = brokerage_verdict(model.can_submit_order(security, order, None))
            if not allowed:  # LEAN's BrokerageModelRefusedToSubmitOrder
                reason = f"BrokerageModel declared unable to submit order: [{order.id}] {message}"
                ticket.submit_request.response = OrderResponse(order.id, reason)
        if reason:
            order.status = OrderStatus.INVALID
            self._event(order, OrderStatus.INVALID, message=reason)
            self.log(f"Order {order.id} rejected: {reason}")
        else:
            self.open_orders.setdefault(sym, []).append(order)
            self._event(order, OrderStatus.SUBMITTED)
            # A synchronous market order fills at once; an asynchronous one (asynchronous=True) at the next scan,
            # so it can still be canceled (LEAN's BacktestingBrokerage).
            if order.type == OrderType.MARKET and security is not None and not asynchronous:
                self._market_fill(order, security)
        return ticket

    def _market_fill(self, order: Order, security: Security) -> None:
        """A market order now: through the security's fill model when one is set, else at the market price
        while the exchange is open."""
        if security.fill_model_object is not None:
            self._model_fill(order, security, security.fill_model_object)
        elif self._can_fill_market(security) and not self._waits_for_fresh_data(order, security):
            self._fill(order, security, self._market_fill_price(order, security))

    def _waits_for_fresh_data(self, order: Order, security: Security) -> bool:
        """LEAN's FillModel.ShouldWaitForFreshDataOnStale: when the latest data ended more than the stale-price
        span (an hour) before the order, a market order waits for the next data if the security's data is hourly
        or daily, or if that data is more than one bar behind (a minute bar before a weekend or a gap)."""
        bar = security.bar
        if bar is None:
            return False
        stale = getattr(self.algorithm.settings, "stale_price_time_span", timedelta(hours=1))
        if not isinstance(stale, timedelta):
            raise TypeError(f"settings.stale_price_time_span must be a timedelta (LEAN's TimeSpan), not "
                            f"{type(stale).__name__}: e.g. timedelta(hours=1)")
        if bar.end_time + stale >= order.time:
            return False
        if security.resolution in ("hour", "daily"):
            return True
        span = {"minute": timedelta(minutes=1), "second": timedelta(seconds=1)}.get(security.resolution)
        return span is not None and order.time - bar.end_time > span

    def _market_fill_price(self, order: Order, security: Security) -> float:
        """LEAN's FillModel.GetMarketFillPrice: an hourly or daily order resting since before the bar opened fills
        at its open (the price trading resumed at), any other at the current price."""
        bar = security.bar
        if security.resolution in ("hour", "daily") and bar is not None and bar.open and order.time <= bar.time:
            return float(bar.open)
        return self._market_price(security, order.quantity > 0)

    def _model_fill(self, order: Order, security: Security, model: Any) -> None:
        """The user's fill model decides: each returned event with a fill quantity fills that much (a partial
        fill leaves the rest working)."""
        from qcmcp.sandbox.engine.models import FillModel, FillModelParameters

        FillModel.engine = self
        result = model.fill(FillModelParameters(security, order))
        for event in list(getattr(result, "events", None) or result or []):
            quantity = float(event.fill_quantity or 0)
            if not quantity or not order.is_open:
                continue
            if abs(order.filled_quantity + quantity) < abs(order.quantity) - 1e-9 or \
                    int(event.status) == int(OrderStatus.PARTIALLY_FILLED):
                from qcmcp.sandbox.engine.unsupported import refuse

                refuse("partial fills from a custom fill model (the sandbox fills an order at once)")
            self._fill(order, security, float(event.fill_price), quantity, OrderStatus(int(event.status)))

    def _scan_market_orders(self) -> None:
        """LEAN scans the brokerage again after ``on_data``: asynchronous market orders placed in this step
        fill now, at this step's prices."""
        for symbol, working in list(self.open_orders.items()):
            for order in [o for o in working if o.type == OrderType.MARKET and o.is_open]:
                self._market_fill(order, self.securities[symbol])

    def _can_fill_market(self, security: Security) -> bool:
        """LEAN's FillModel.IsExchangeOpen: open now, or the last bar (an hour or a day) spans open hours today."""
        if self.exchange_open(security, self.time):
            return True
        bar = security.bar
        return bar is not None and bar.end_time.date() == self.time.date() and \
            bar.end_time - bar.time >= timedelta(hours=1) and self.exchange_open(security, bar.time)

    def _split_open_orders(self, symbol: Symbol, factor: float) -> None:
        """LEAN's AlgorithmManager in RAW mode: DefaultBrokerageModel.ApplySplit updates the open orders to the same
        notional — the quantity divided by the split factor (truncated to whole shares), prices times it."""
        from qcmcp.sandbox.engine.types import UpdateOrderFields

        for order in list(self.open_orders.get(symbol, [])):
            limit = order.limit_price * factor if order.limit_price is not None and \
                order.type in (OrderType.LIMIT, OrderType.STOP_LIMIT, OrderType.LIMIT_IF_TOUCHED) else None
            stop = order.stop_price * factor if order.stop_price is not None else None
            trigger = order.trigger_price * factor if order.trigger_price is not None and \
                order.type == OrderType.LIMIT_IF_TOUCHED else None
            trailing = order.trailing_amount * factor if order.type == OrderType.TRAILING_STOP and \
                not order.trailing_as_percentage else None
            self.update_order(order, UpdateOrderFields(float(int(order.quantity / factor)), limit, stop, trigger,
                                                       trailing))

    def update_order(self, order: Order, request: Any) -> Any:
        """LEAN's HandleUpdateOrderRequest: a closed order cannot change; otherwise the fields given change."""
        from qcmcp.sandbox.engine.types import OrderResponse

        if not order.is_open:
            only_tag = request.tag and all(getattr(request, name) is None for name in
                                           ("quantity", "limit_price", "stop_price", "trigger_price", "trailing_amount"))
            if only_tag:  # LEAN lets a closed order's tag change
                order.tag = request.tag
                return OrderResponse(order.id)
            return OrderResponse(order.id, f"Order {order.id} is {order.status.name.lower()}: it cannot be updated.")
        if request.quantity is not None and float(request.quantity) == 0:  # LEAN's OrderResponse.ZeroQuantity
            return OrderResponse(order.id, f"Unable to update order with id {order.id} that has zero quantity.")
        security = self.securities.get(order.symbol)
        quantity = float(request.quantity) if request.quantity is not None else order.quantity
        if security is not None and security.custom_shortable_provider is not None and quantity < 0:
            from qcmcp.sandbox.engine.security_models import shortable, shortable_message

            if not shortable(self, order.symbol, quantity, order.id):
                return OrderResponse(order.id, shortable_message(self, order.symbol, order.quantity))
        model = getattr(self, "brokerage_model_object", None)
        if model is not None:
            from qcmcp.sandbox.engine.models import brokerage_verdict

            allowed, message = brokerage_verdict(model.can_update_order(self.securities.get(order.symbol), order,
                                                                        request, None))
            if not allowed:  # LEAN's BrokerageModelRefusedToUpdateOrder
                return OrderResponse(order.id, f"OrderID: {order.id} {message}")
        if request.quantity is not None:
            order.quantity = float(request.quantity)
        if request.limit_price is not None:
            order.limit_price = float(request.limit_price)
        if request.stop_price is not None:
            order.stop_price = float(request.stop_price)
        if request.trigger_price is not None:
            order.trigger_price = float(request.trigger_price)
        if request.trailing_amount is not None:
            order.trailing_amount = float(request.trailing_amount)
        if request.tag:
            order.tag = request.tag
        order.last_update_time = self.time
        self._event(order, OrderStatus.UPDATE_SUBMITTED)
        return OrderResponse(order.id)

    def _market_order_kind(self, security: Security) -> OrderType:
        """LEAN's QCAlgorithm.MarketOrder: while the exchange is closed a market order becomes market-on-open;
        on daily-only data during the session it becomes market-on-close (backtests only)."""
        if security.hours.kind in ("crypto", "base"):  # always open
            return OrderType.MARKET
        if not self.exchange_open(security, self.time):
            self._warn_once("moo", "Warning: market orders submitted while the market is closed are automatically "
                            "converted into MarketOnOpen orders to fill at the next market open.")
            return OrderType.MARKET_ON_OPEN
        if security.resolution == "daily" and security.hours.kind == "equity":
            self._warn_once("moc", "Warning: market orders on daily resolution data sent during market hours are "
                            "automatically converted into MarketOnClose orders.")
            return OrderType.MARKET_ON_CLOSE
        return OrderType.MARKET

    def _warn_once(self, key: str, message: str) -> None:
        if key not in self._warned:
            self._warned.add(key)
            self.log(message)

    @staticmethod
    def _market_price(security: Security, buy: bool) -> float:
        """LEAN's EquityFillModel.MarketFill: the ask (buy) or bid (sell) close of the latest quote bar where
        quotes are subscribed, else the last trade bar's close; no slippage (LEAN's NullSlippageModel)."""
        quote = security.ask_price if buy else security.bid_price
        return quote if quote == quote and quote > 0 else security.price

    def exchange_hours(self, security: Security) -> Any:
        if security.symbol not in self._hours:
            self._hours[security.symbol] = market_data.exchange_hours(self.data_folder, security.symbol.value)
        return self._hours[security.symbol]

    def exchange_open(self, security: Security, moment: datetime, extended: bool = False) -> bool:
        """Whether the security's exchange is open at ``moment`` (regular hours unless ``extended``)."""
        kind = security.hours.kind
        if kind in ("crypto", "base"):  # custom data: LEAN's Base securities are always open
            return True
        if kind == "forex":
            return moment.weekday() < 5
        offset = moment - datetime.combine(moment.date(), time())
        return any(start <= offset < end for start, end in
                   self.exchange_hours(security).open_intervals(moment.date(), extended))

    def next_market_close(self, security: Security, after: datetime) -> datetime:
        """The first regular-session close after ``after``."""
        if security.hours.kind != "equity":
            return datetime.combine(after.date() + timedelta(days=1), time())
        hours, day = self.exchange_hours(security), after.date()
        for _ in range(30):
            session = hours.regular_session(day)
            if session is not None and datetime.combine(day, time()) + session[1] > after:
                return datetime.combine(day, time()) + session[1]
            day += timedelta(days=1)
        return datetime.max

    def _precheck(self, order: Order, security: Security | None) -> str | None:
        """LEAN's QCAlgorithm.PreOrderChecks: a request refused here never becomes an order (no id is used
        and it does not count in Total Orders)."""
        if security is None:
            return f"{order.symbol} is not subscribed: add it with add_equity first."
        if order.quantity == 0 or not math.isfinite(order.quantity):
            return "Order quantity must be a non-zero number."
        lot = _lot_size(security)
        if abs(order.quantity) < lot - 1e-12:
            return (f"Unable to submit order with id {order.id} which quantity ({abs(order.quantity):g}) is less than "
                    f"lot size ({lot:g}).")
        if self.warming_up:
            return "This operation is not allowed during warm up: orders are not accepted while warming up."
        if not security.has_data:
            return f"{order.symbol} has no price yet: wait for its first data before ordering."
        if not getattr(security, "is_tradable", True):
            return f"{order.symbol} is not tradable (delisted or removed)."
        if security.hours.kind == "equity" and order.type == OrderType.MARKET_ON_CLOSE:
            from qcmcp.sandbox.engine.types import MarketOnCloseOrder

            buffer = MarketOnCloseOrder.submission_time_buffer
            if self.time > self.next_market_close(security, self.time) - buffer:
                minutes, seconds = divmod(int(buffer.total_seconds()), 60)
                return (f"MarketOnClose orders must be placed within {minutes // 60:02d}:{minutes % 60:02d}:{seconds:02d}"
                        " before market close.")
        if security.hours.kind == "equity" and order.type == OrderType.MARKET_ON_OPEN and \
                self.exchange_open(security, self.time) and security.resolution != "daily":
            return "Cannot submit a MarketOnOpen order while the market is open."
        return None

    def _shortable_reason(self, order: Order, security: Security | None, update_id: int | None = None) -> str | None:
        """LEAN's BrokerageTransactionHandler: a sell the security's shortable provider cannot cover is refused
        (ExceedsShortableQuantity)."""
        if security is None or security.custom_shortable_provider is None or order.quantity >= 0:
            return None
        from qcmcp.sandbox.engine.security_models import shortable, shortable_message

        if shortable(self, order.symbol, order.quantity, update_id):
            return None
        return shortable_message(self, order.symbol, order.quantity)

    def _reject_reason(self, order: Order, security: Security | None) -> str | None:
        """LEAN's buying power check of a new order: the security's buying power model decides."""
        assert security is not None
        if security.custom_buying_power_model is not None:
            from qcmcp.sandbox.engine.security_models import custom_verdict

            sufficient, reason = custom_verdict(self, security, order)
            return None if sufficient else reason
        return self._margin_reject_reason(order, security)

    def _margin_reject_reason(self, order: Order, security: Security) -> str | None:
        if security.cash_buying_power and security.base_currency is not None:
            from qcmcp.sandbox.engine import cash_buying_power

            return cash_buying_power.refusal(self, order, security)
        holding = security.holdings
        unit = security.price * _quote_rate(security)
        exposure_after = abs(holding.quantity + order.quantity) * unit
        exposure_now = abs(holding.quantity) * unit
        if exposure_after > exposure_now:
            fee = security_fee(security, order.quantity, security.price, order.type)
            needed = (exposure_after - exposure_now) / security.leverage + fee
            if needed > self.portfolio.margin_remaining + 1e-9:
                return (f"Insufficient buying power: the order needs ${needed:,.2f} of margin and "
                        f"${max(self.portfolio.margin_remaining, 0):,.2f} remains.")
        return None

    def cancel(self, order: Order, tag: str = "") -> bool:
        if not order.is_open:
            return False
        order.status, order.canceled_time = OrderStatus.CANCELED, self.time
        self.open_orders[order.symbol].remove(order)
        self._event(order, OrderStatus.CANCELED, message=tag or "Canceled by the algorithm.")
        return True

    def cancel_open_orders(self, symbol: Any = None) -> list[Order]:
        canceled = self.transactions.get_open_orders(symbol)
        for order in canceled:
            self.cancel(order)
        return canceled

    def quantity_for_target(self, symbol: Symbol, target: float) -> float:
        """The order quantity that takes the holding to ``target`` of the portfolio: the security's buying power
        model's GetMaximumOrderQuantityForTargetBuyingPower."""
        security = self.securities[symbol]
        if security.custom_buying_power_model is not None:
            from qcmcp.sandbox.engine.security_models import custom_quantity

            return custom_quantity(self, security, target) or 0.0
        return self._default_quantity_for_target(symbol, target)

    def _default_quantity_for_target(self, symbol: Symbol, target: float) -> float:
        """The order quantity that takes the holding to ``target`` of the portfolio, as LEAN's
        PortfolioTarget.Percent and BuyingPowerModel.GetMaximumOrderQuantityForTargetBuyingPower compute it:
        in margin terms, after the free-portfolio buffer, rounded down to the lot size, fees included, and
        nothing when the change of margin is below the minimum order margin."""
        security = self.securities[symbol]
        price = security.price
        if not price:
            return 0.0
        settings = self.algorithm.settings
        total = self.portfolio.total_portfolio_value
        if total <= 0:
            return 0.0
        if security.cash_buying_power and security.base_currency is not None:
            from qcmcp.sandbox.engine import cash_buying_power

            return cash_buying_power.target_quantity(self, security,
                                                     target * (1 - settings.free_portfolio_value_percentage))
        holdings = security.holdings.quantity
        margin_share = target * (total - total * settings.free_portfolio_value_percentage) / total / security.leverage
        target_margin = margin_share * total
        if target_margin == 0:
            return -holdings
        unit = price * _quote_rate(security) / security.leverage
        if abs(target_margin - holdings * unit) < total * settings.minimum_order_margin_portfolio_percentage:
            return 0.0
        lot = _lot_size(security)
        last = None
        while True:
            lots = (-holdings + target_margin / unit) / lot
            quantity = (math.floor(lots + 1e-9) if target_margin > 0 else math.ceil(lots - 1e-9)) * lot
            final_margin = (quantity + holdings) * unit
            while (target_margin > 0 and final_margin > target_margin) or (target_margin < 0 and final_margin < target_margin):
                quantity += -lot if target_margin > 0 else lot
                final_margin = (quantity + holdings) * unit
            if quantity == 0:
                return 0.0
            fee = security_fee(security, quantity, price)
            target_margin = (total - fee - total * 0.0) * margin_share
            if quantity == last or abs(final_margin) <= abs(target_margin):
                return float(round(quantity, 8))
            last = quantity

    def open_market_quantity(self, symbol: Symbol) -> float:
        return sum(o.quantity - o.filled_quantity for o in self.open_orders.get(symbol, [])
                   if o.type in (OrderType.MARKET, OrderType.MARKET_ON_OPEN))

    def set_holdings_quantity(self, symbol: Symbol, quantity: float, tag: str, asynchronous: bool = False,
                              properties: Any = None) -> OrderTicket | None:
        """LEAN's SetHoldingsImpl: order the difference less what open market orders still bring."""
        quantity -= self.open_market_quantity(symbol)
        if not quantity:
            return None
        return self.submit(symbol, quantity, OrderType.MARKET, tag=tag, asynchronous=asynchronous,
                           properties=properties if properties is not None else
                           getattr(self.algorithm, "default_order_properties", None))

    def target_percent(self, symbol: Any, target: float, tag: str) -> OrderTicket | None:
        sym = self.symbol_for(symbol)
        if sym not in self.securities:
            raise KeyError(f"'{sym}' is not subscribed: call add_equity('{sym}') first.")
        return self.set_holdings_quantity(sym, self.quantity_for_target(sym, float(target)), tag)

    def by_margin_impact(self, deltas: list[tuple[Symbol, float]]) -> list[tuple[Symbol, float]]:
        """LEAN's OrderTargetsByMarginImpact (delta targets): orders that reduce a position first, then larger
        orders first."""
        keyed = []
        for symbol, delta in deltas:
            security = self.securities[symbol]
            if not security.has_data or abs(delta) < _lot_size(security):
                continue
            existing = security.holdings.quantity + sum(o.quantity - o.filled_quantity
                                                         for o in self.open_orders.get(symbol, []))
            reducing = existing != 0 and abs(delta + existing) < abs(existing)
            keyed.append((not reducing, -abs(delta * security.price), symbol, delta))
        return [(symbol, delta) for *_, symbol, delta in sorted(keyed, key=lambda k: (k[0], k[1]))]

    def _event(self, order: Order, status: OrderStatus, price: float = 0.0, quantity: float = 0.0, fee: float = 0.0,
               message: str = "") -> None:
        event = OrderEvent(order, status, self.time, price, quantity, fee, message)  # a fee: amount or CashAmount
        event.ticket = self.tickets.get(order.id)
        security = self.securities.get(order.symbol)
        if security is not None and security.quote_currency is not None:  # LEAN: prices are in the quote currency
            event.fill_price_currency = security.quote_currency.symbol
        order.events.append({"status": status, "time": self.time, "price": price, "quantity": quantity,
                             "fee": float(getattr(fee, "amount", fee)), "fee_currency": getattr(fee, "currency", "USD"),
                             "price_currency": event.fill_price_currency, "message": message})
        handler = getattr(self.framework.execution, "on_order_event", None)
        if handler is not None:  # LEAN's BrokerageTransactionHandler: the execution model hears of it first
            handler(self.algorithm, event)
        self._call("on_order_event", event)

    def _fill(self, order: Order, security: Security, price: float, quantity: float | None = None,
              status: OrderStatus = OrderStatus.FILLED) -> None:
        """Fill ``quantity`` (the rest of the order by default); a partial fill (a fill model's) leaves the order
        working. LEAN's BacktestingBrokerage charges the order's fee once, on its first fill."""
        if security.slippage is not None and order.type in (OrderType.MARKET, OrderType.MARKET_ON_OPEN,
                                                             OrderType.MARKET_ON_CLOSE, OrderType.STOP_MARKET):
            slip = float(security.slippage(security, order) or 0.0)  # against the order, as LEAN's fill models
            price = price + slip if order.quantity > 0 else price - slip
        remaining = order.quantity - order.filled_quantity
        quantity = remaining if quantity is None else quantity
        fee, fee_currency = fee_cash(security, order.quantity, price, order.type, order) \
            if not order.filled_quantity else (0.0, None)
        fees_before = self.portfolio.total_fees
        self.portfolio.apply_fill(security, quantity, price, fee, fee_currency, self.algorithm.utc_time)
        fee_amount, fee = fee, self.portfolio.total_fees - fees_before  # the fee, and its value in the account
        before = order.filled_quantity
        order.filled_quantity = before + quantity
        order.fill_price = (order.fill_price * before + price * quantity) / order.filled_quantity \
            if order.filled_quantity else price
        order.fee += fee
        done = status == OrderStatus.FILLED or abs(order.filled_quantity) >= abs(order.quantity) - 1e-12
        order.status = OrderStatus.FILLED if done else OrderStatus.PARTIALLY_FILLED
        if done:
            working = self.open_orders.get(order.symbol, [])
            if order in working:
                working.remove(order)
        order.last_fill_time = self.time
        self.fills.append((self.time, order.symbol, quantity, price, fee))
        self.traded_value[self.time.date()] = self.traded_value.get(self.time.date(), 0.0) + abs(quantity * price)
        from qcmcp.sandbox.engine.models import CashAmount

        self._event(order, order.status, price, quantity,
                    CashAmount(fee_amount, fee_currency) if fee_currency else fee)  # type: ignore[arg-type]

    def _fill_orders(self, symbol: Symbol, bar: TradeBar) -> None:
        """Working orders against the step's new bar, before ``on_data`` (LEAN's brokerage scan)."""
        working = self.open_orders.get(symbol)
        if not working:
            return
        security = self.securities[symbol]
        for order in list(working):
            if not order.is_open:
                continue
            if order.expired(bar.end_time):
                order.status, order.canceled_time = OrderStatus.CANCELED, self.time
                working.remove(order)
                self._event(order, OrderStatus.CANCELED, message="Time in force expired.")
                continue
            model = security.fill_model_object
            if model is not None:
                from qcmcp.sandbox.engine.models import custom_fill_for

                if custom_fill_for(model, order):
                    self._model_fill(order, security, model)
                    continue
            price = self._working_fill_price(order, security, bar)
            if price is not None:
                self._fill(order, security, price)

    def _working_fill_price(self, order: Order, security: Security, bar: TradeBar) -> float | None:
        if order.type == OrderType.MARKET:
            return None if self._waits_for_fresh_data(order, security) else self._market_fill_price(order, security)
        if order.type == OrderType.MARKET_ON_OPEN:
            # The first bar that opens at or after the order, in regular hours, on a later day when the order
            # was placed during the session (EquityFillModel.MarketOnOpenFill).
            if bar.time < order.time or bar.end_time <= order.time:
                return None
            intraday = bar.end_time - bar.time < timedelta(hours=1)
            if intraday and not self.exchange_open(security, bar.time):
                return None
            if self.exchange_open(security, order.time) and order.time.date() == bar.end_time.date():
                return None
            return bar.open
        if order.type == OrderType.MARKET_ON_CLOSE:
            return bar.close if bar.end_time >= self.next_market_close(security, order.time) else None
        if bar.end_time <= order.time:
            return None  # only a bar that closes after the order was placed can fill it
        if security.hours.kind == "equity" and bar.end_time - bar.time < timedelta(hours=1) and not \
                self.exchange_open(security, bar.time, security.extended_market_hours):
            return None
        if security.hours.kind in ("crypto", "forex") and order.type in (OrderType.LIMIT, OrderType.STOP_MARKET):
            return self._pair_fill_price(order, security, bar)
        if order.type == OrderType.LIMIT_IF_TOUCHED and security.hours.kind == "equity":
            return self._limit_if_touched_price(order, security, bar)
        return order.fill_on(bar)

    @staticmethod
    def _pair_fill_price(order: Order, security: Security, bar: TradeBar) -> float | None:
        """LEAN's FillModel (crypto and forex use ImmediateFillModel, not EquityFillModel), on the ask bar for a buy
        and the bid bar for a sell when quotes exist, else the trade bar: a buy limit fills when the low is below
        the limit, at min(high, limit); a sell stop when the low is below the stop, at min(stop, close)."""
        buy = order.quantity > 0
        high, low, close = bar.high, bar.low, bar.close
        ranges = getattr(security, "quote_range", None)
        quote = security.ask_price if buy else security.bid_price
        if ranges is not None and quote > 0 and all(x > 0 for x in (ranges[2:] if buy else ranges[:2])):
            high, low = ranges[2:] if buy else ranges[:2]
            close = quote
        if order.type == OrderType.LIMIT:
            assert order.limit_price is not None
            if buy and low < order.limit_price:
                return min(high, order.limit_price)
            if not buy and high > order.limit_price:
                return max(low, order.limit_price)
            return None
        assert order.stop_price is not None
        if not buy and low < order.stop_price:
            return min(order.stop_price, close)
        if buy and high > order.stop_price:
            return max(order.stop_price, close)
        return None

    @staticmethod
    def _limit_if_touched_price(order: Order, security: Security, bar: TradeBar) -> float | None:
        """LEAN's EquityFillModel.LimitIfTouchedFill: once a bar's range touched the trigger, a buy fills when the
        ask is at or below the limit (at the better of the two), a sell when the bid is at or above it."""
        buy = order.quantity > 0
        assert order.trigger_price is not None and order.limit_price is not None
        if not (order.trigger_touched or (bar.low <= order.trigger_price if buy else bar.high >= order.trigger_price)):
            return None
        order.trigger_touched = True
        quote = security.ask_price if buy else security.bid_price
        current = quote if quote == quote and quote > 0 else bar.close  # no quote data: the trade price
        if buy:
            return min(current, order.limit_price) if current <= order.limit_price else None
        return max(current, order.limit_price) if current >= order.limit_price else None

    # ---- the run ----------------------------------------------------------------------------
    def _call(self, name: str, *args: Any) -> Any:
        """Call the user's handler, whichever naming style it was written in."""
        if name not in self._handlers:
            self._handlers[name] = self._find_handler(name)
        handler = self._handlers[name]
        return handler(*args) if handler is not None else None

    def _find_handler(self, name: str) -> Callable[..., Any] | None:
        """The user's override of ``name`` (snake_case or PascalCase), looked up once per run."""
        user_class = type(self.algorithm)
        pascal = "".join(part.capitalize() for part in name.split("_"))
        for candidate in (name, pascal):
            for klass in user_class.__mro__:
                if klass.__module__.startswith("qcmcp."):
                    break
                if candidate in vars(klass):
                    return getattr(self.algorithm, candidate)  # type: ignore[no-any-return]
        return None

    def initialize(self) -> None:
        self.time = datetime.combine(self.start, time())
        try:
            self._call("initialize")
        except QuitRequested:
            self.quit_in_initialize = True  # LEAN completes the run without feeding any data
        self._create_universes()
        construction, settings = self.framework.construction, self.algorithm.settings
        if construction is not None:  # LEAN's PostInitialize: the settings' rebalancing choices, when given
            if getattr(settings, "rebalance_portfolio_on_security_changes", None) is not None:
                construction.rebalance_on_security_changes = bool(settings.rebalance_portfolio_on_security_changes)
            if getattr(settings, "rebalance_portfolio_on_insight_changes", None) is not None:
                construction.rebalance_on_insight_changes = bool(settings.rebalance_portfolio_on_insight_changes)
        model = getattr(self, "brokerage_model_object", None)
        if model is not None and self.benchmark_function is None and not getattr(self, "benchmark_set", False):
            custom = model.get_benchmark(self.securities)  # LEAN: the brokerage model's benchmark unless one was set
            if custom is not None:
                self.benchmark_function = getattr(custom, "evaluate", custom)
                self.benchmark = "custom benchmark"
        spec = getattr(self, "brokerage_spec", None)
        if spec is not None and spec.benchmark == "zero" and self.benchmark_function is None and \
                not getattr(self, "benchmark_set", False):
            self.benchmark_function = lambda _: 0.0  # LEAN's AxosClearingBrokerageModel: "no benchmark"
            self.benchmark = "custom benchmark"
        live = self.step_hook is not None  # a deployment runs on its clock, with or without data, and has no end
        if not self.securities and not self.universe_models and not live and not self.quit_in_initialize:
            raise RuntimeError("initialize() added no data: call add_equity(...) for at least one security.")
        if self.start > self.end and not live and not self.quit_in_initialize:
            raise RuntimeError(f"The start date {self.start} is after the end date {self.end}.")

    def _warm_up_start(self) -> date:
        if self.warm_up is None:
            return self.start
        if isinstance(self.warm_up, timedelta):
            return self.start - self.warm_up if isinstance(self.start, date) else self.start
        finest = min((s.resolution for s in self.securities.values()), key=["minute", "hour", "daily"].index)
        minutes = max(s.hours.minutes for s in self.securities.values())
        per_day = {"daily": 1, "hour": math.ceil(minutes / 60), "minute": minutes}[finest]
        days = math.ceil(int(self.warm_up) / per_day)
        sessions = market_data.trading_days(self.start - timedelta(days=days * 2 + 10), self.start - timedelta(days=1))
        return sessions[-days] if days and len(sessions) >= days else self.start

    def _subscribe(self, symbol: Symbol, security: Security, first: date, after: datetime | None = None) -> Subscription:
        if security.custom_type is not None:
            return self._subscribe_custom(symbol, security, first, after)
        bars = self._load(symbol, security.resolution, first, self.end)
        if after is not None:  # added while running: only bars that end later
            keep = [i for i, end in enumerate(bars.end) if end > after]
            cut = slice(keep[0], keep[-1] + 1) if keep else slice(0, 0)
            bars = market_data.Bars(bars.start[cut], bars.end[cut], bars.open[cut], bars.high[cut], bars.low[cut],
                                    bars.close[cut], bars.volume[cut], bars.synthetic)
        sub = Subscription(security, bars, {}, {"hour": None, "daily": None})
        if self.data_folder is not None and security.resolution == "minute" and security.hours.kind == "equity" \
                and not bars.synthetic:
            quotes = market_data.lean_folder_quotes(self.data_folder, symbol.value, first, self.end,
                                                    market_data.normalization_mode(security.data_normalization_mode),
                                                    bars.end)
            if quotes is not None:
                sub.bid, sub.ask, sub.bid_size, sub.ask_size, sub.quote_ohlc = quotes
        if self.data_folder is not None and security.hours.kind == "crypto" and len(bars) and not bars.synthetic:
            quotes = market_data.lean_folder_crypto_quotes(self.data_folder, symbol.value, security.market,
                                                           security.resolution, first, self.end, bars.end)
            if quotes is not None:
                sub.bid, sub.ask, sub.quote_ranges = quotes
        for feed, indicator in self.indicator_registry.get(symbol, []):
            sub.indicators.setdefault(feed, []).append(indicator)
            if getattr(indicator, "uses_quotes", False) and sub.quote_ohlc is None:
                from qcmcp.sandbox.engine.unsupported import refuse

                refuse(f"{type(indicator).__name__} of {symbol} (the sandbox has quote bars for minute equities "
                       "with quote files)")
        if self.data_folder is not None and security.hours.kind == "equity" and not bars.synthetic:
            sub.dividends, sub.splits, sub.split_warnings = market_data.corporate_actions(
                self.data_folder, symbol.value, first, self.end)
            sub.delisting = market_data.delisting_day(self.data_folder, symbol.value, first, self.end)
            sub.symbol_changes = market_data.symbol_changes(self.data_folder, symbol.value, first, self.end)
        self.subscriptions[symbol] = sub
        self.next_auxiliary = datetime.min
        return sub

    def _custom_points(self, security: Security, first: date, last: date, start: datetime,
                       end: datetime) -> list[Any]:
        from qcmcp.sandbox.engine.custom_data import Globals, SubscriptionDataConfig, read_points

        Globals.data_folder = str(self.data_folder) if self.data_folder is not None else ""
        config = SubscriptionDataConfig(security.custom_type, security.symbol, security.resolution,
                                        market=security.market, fill_data_forward=False, is_custom_data=True)
        mapping = None
        if self.data_folder is not None and _requires_mapping(security.custom_type):
            mapping = market_data.mapped_tickers(self.data_folder, security.symbol.value, first, last)
        return read_points(security.custom_type, config, first, last, start, end, self.algorithm.object_store,
                           self.data_folder, mapping)

    def _subscribe_custom(self, symbol: Symbol, security: Security, first: date,
                          after: datetime | None) -> Subscription:
        """Custom data: the points the type reads, as bars of their value (what prices, fills and indicators use)."""
        start, finish = datetime.combine(first, time()), datetime.combine(self.end, time.max)
        points = self._custom_points(security, first, self.end, start, finish)
        if after is not None:
            points = [point for point in points if point.end_time > after]
        sub = Subscription(security, custom_bars(points), {}, {"hour": None, "daily": None}, custom=points)
        if self.data_folder is not None and _requires_mapping(security.custom_type):  # always open: any day
            sub.symbol_changes = market_data.symbol_changes(self.data_folder, symbol.value, first, self.end,
                                                            every_day=True)
        for feed, indicator in self.indicator_registry.get(symbol, []):
            sub.indicators.setdefault(feed, []).append(indicator)
        self.subscriptions[symbol] = sub
        self.next_auxiliary = datetime.min
        return sub

    def _auxiliary_steps(self, moment: datetime) -> None:
        """LEAN's auxiliary data due up to ``moment``, each midnight a time step of its own: split warnings at
        the start of the session before a split, dividends and splits at the start of the ex-date (applied to
        the portfolio first: LEAN's HandleDividends/HandleSplits), a delisting warning at the start of the
        delisting day and 'delisted' at the start of the next; then on_splits, on_dividends, on_delistings and
        on_data. Events due while warming up are dropped (LEAN skips them for the portfolio)."""
        from qcmcp.sandbox.engine.types import Delisting, DelistingType

        if moment < self.next_auxiliary:
            return
        while True:
            due: list[tuple[datetime, Subscription]] = []
            upcoming = datetime.max
            for sub in self.subscriptions.values():
                for day in (*sub.split_warnings, *sub.dividends, *sub.splits, *sub.symbol_changes):
                    due.append((datetime.combine(day, time()), sub))
                if sub.delisting is not None and sub.delisting_stage < 2:
                    at = datetime.combine(sub.delisting + timedelta(days=sub.delisting_stage), time())
                    upcoming = min(upcoming, at)
                    if not self.warming_up:
                        due.append((at, sub))
            self.next_auxiliary = min(upcoming, min((at for at, _ in due), default=datetime.max))
            due = [(at, sub) for at, sub in due if at <= moment]
            if not due:
                return
            at = min(when for when, _ in due)
            subs = list({id(sub): sub for when, sub in due if when == at}.values())

            def delisting_due(sub: Subscription) -> bool:
                return (sub.delisting is not None and sub.delisting_stage < 2 and not self.warming_up
                        and datetime.combine(sub.delisting + timedelta(days=sub.delisting_stage), time()) == at)

            if self.warming_up or at < datetime.combine(self.start, time()):
                for sub in subs:
                    for events in (sub.split_warnings, sub.dividends, sub.splits, sub.symbol_changes):
                        events.pop(at.date(), None)
                if not any(delisting_due(sub) for sub in subs):
                    continue
            self.time = at
            data = Slice(at, {})
            for sub in subs:
                self._corporate_actions(sub, at.date(), data)
                if not delisting_due(sub):
                    continue
                security = sub.security
                kind = DelistingType.WARNING if sub.delisting_stage == 0 else DelistingType.DELISTED
                data.delistings[security.symbol] = Delisting(security.symbol, at, security.price, kind)
                sub.delisting_stage += 1
                if kind == DelistingType.DELISTED:
                    self._delist(security)
            self.schedule.fire_until(at)
            if data.symbol_changed_events.count:
                self._call("on_symbol_changed_events", data.symbol_changed_events)
                for symbol in list(data.symbol_changed_events.keys()):  # LEAN cancels their open orders
                    for order in list(self.open_orders.get(symbol, [])):
                        self.cancel(order, "Open order cancelled on symbol changed event")
            if data.splits.count:
                self._call("on_splits", data.splits)
            if data.dividends.count:
                self._call("on_dividends", data.dividends)
            if data.delistings.count:
                self._call("on_delistings", data.delistings)
            self._call("on_data", data)
            if not self.warming_up:
                self._framework_step(data)  # LEAN's OnFrameworkData runs on every slice with data
            self._scan_market_orders()

    def _delist(self, security: Security) -> None:
        """LEAN's BacktestingBrokerage.ProcessDelistings: open orders fill at the last price, a holding left is
        liquidated there ('Liquidate from delisting'); the security is no longer tradable."""
        security.is_delisted, security.is_tradable = True, False
        for order in list(self.open_orders.get(security.symbol, [])):
            self._fill(order, security, security.price)
        if security.holdings.quantity:
            order = Order(len(self.orders) + 1, security.symbol, -security.holdings.quantity, OrderType.MARKET, self.time,
                          "Liquidate from delisting")
            order.created_time = self.time
            self.orders.append(order)
            self.tickets[order.id] = OrderTicket(order, self)
            self.open_orders.setdefault(security.symbol, []).append(order)
            self._fill(order, security, security.price)

    def _corporate_actions(self, sub: Subscription, day: date, data: Slice) -> None:
        """A subscription's split warning, dividend or split at the start of ``day``, into the slice; in RAW mode
        (and SPLIT_ADJUSTED for dividends) the portfolio is adjusted as LEAN's ApplyDividend/ApplySplit do —
        cash for each share held; holdings divided by the split factor (truncated: LEAN's (int)), the security's
        last prices times it and the fractional share left paid in cash at the new price."""
        from qcmcp.sandbox.engine.types import Dividend, Split, SplitType, SymbolChangedEvent

        security = sub.security
        mode = market_data.normalization_mode(security.data_normalization_mode)
        holding = security.holdings
        if day in sub.symbol_changes:
            old, new = sub.symbol_changes.pop(day)
            data.symbol_changed_events[security.symbol] = SymbolChangedEvent(security.symbol, self.time, old, new)
        if day in sub.split_warnings:
            data.splits[security.symbol] = Split(security.symbol, self.time, security.price,
                                                 sub.split_warnings.pop(day), SplitType.WARNING)
        if day in sub.dividends:
            amount = sub.dividends.pop(day)
            data.dividends[security.symbol] = Dividend(security.symbol, self.time, amount, security.price)
            if mode in ("raw", "split_adjusted") and holding.quantity:
                self.portfolio.cash += holding.quantity * amount
            volatility.after_split_or_dividend(self, security)
        if day in sub.splits:
            factor = sub.splits.pop(day)
            data.splits[security.symbol] = Split(security.symbol, self.time, security.price, factor)
            if mode == "raw":
                bar = security.bar
                if bar is not None:
                    security.bar = TradeBar(bar.symbol, bar.time, bar.end_time, bar.open * factor, bar.high * factor,
                                            bar.low * factor, bar.close * factor, bar.volume / factor)
                    security.bid_price, security.ask_price = security.bid_price * factor, security.ask_price * factor
                self.split_events.append((self.time, security.symbol, factor))
                if holding.quantity:
                    shares = holding.quantity / factor
                    whole = float(math.trunc(shares))
                    self.portfolio.cash += (shares - whole) * security.price
                    holding.quantity, holding.average_price = whole, holding.average_price * factor
                self._split_open_orders(security.symbol, factor)
            volatility.after_split_or_dividend(self, security)

    def remove_security(self, symbol: Any) -> bool:
        """LEAN's RemoveSecurity: cancel its orders, liquidate it, stop its data; it stays in securities."""
        sym = self.symbol_for(symbol)
        security = self.securities.get(sym)
        if security is None:
            return False
        self.algorithm.liquidate(sym, tag="Removed from Universe")
        self.removed.add(sym)
        security.is_tradable = False
        self.changes_removed.append(security)
        return True

    def set_universe_models(self, models: list[Any]) -> None:
        """The framework's universe selection models (set_universe_selection replaces them all)."""
        self.universe_models = [m for m in self.universe_models if getattr(m, "added_universe", False)] + list(models)
        if self.running:
            self._create_universes()

    def add_universe(self, universe: Any) -> None:
        """A universe from add_universe, kept whatever the framework's models become."""
        universe.added_universe = True
        self.universe_models.append(universe)
        if self.running:
            self._create_universes()

    def _create_universes(self) -> None:
        """LEAN's FrameworkPostInitialize: each model's universe — a manual one's symbols added now, a scheduled
        one selecting at its trigger times."""
        from qcmcp.sandbox.engine.framework import ManualUniverseSelectionModel, UserDefinedUniverse

        for number, model in enumerate(self.universe_models):
            if number < len(self.universe_members):
                continue
            self.universe_members.append({})
            self.universe_pending_removals.append(set())
            if isinstance(model, ManualUniverseSelectionModel):
                self._universe_select(number, model.symbols)
            elif isinstance(model, UserDefinedUniverse):
                model.algorithm = self.algorithm
                hours, start = market_data.exchange_hours(self.data_folder, "SPY"), self.start

                def trading_day(day: date, hours: Any = hours, start: date = start) -> bool:
                    return day == start or bool(hours.trading_days(day, day))

                self.universe_schedule.on(trading_day, lambda day: [datetime.combine(day, time())],
                                          lambda n=number, m=model: self._universe_select(
                                              n, m.selector(self.algorithm.utc_time)))
            else:
                self.universe_schedule.on(model.date_rule, model.time_rule,  # LEAN passes the UTC time
                                          lambda n=number, m=model: self._universe_select(
                                              n, m.selector(self.algorithm.utc_time)))

    def _universe_select(self, number: int, selected: Any) -> None:
        """LEAN's UniverseSelection.ApplyUniverseSelection for one universe: members no longer selected are
        reported removed and leave once they hold nothing and have no open orders (until then pending, checked
        at each selection); new ones join, reported added when the algorithm did not have them."""
        from qcmcp.sandbox.engine.framework import Universe

        if selected is Universe.UNCHANGED or selected is None:
            selected = list(self.universe_members[number])
        chosen = {self.symbol_for(s): None for s in selected}
        members, pending = self.universe_members[number], self.universe_pending_removals[number]

        def safe(symbol: Symbol) -> bool:
            return not self.portfolio[symbol].quantity and not self.transactions.get_open_orders(symbol)

        def leave(symbol: Symbol) -> None:
            members.pop(symbol, None)
            pending.discard(symbol)
            if not any(symbol in other for other in self.universe_members) and symbol in self.securities:
                self.removed.add(symbol)
                self.securities[symbol].is_tradable = False

        for symbol in list(pending):
            if safe(symbol):
                leave(symbol)
            elif symbol in chosen:
                pending.discard(symbol)
        for symbol in sorted(members, key=lambda s: s.id):
            if symbol in chosen:
                continue
            if symbol not in pending and not self.securities[symbol].is_delisted:
                self.changes_removed.append(self.securities[symbol])
            if safe(symbol):
                leave(symbol)
            else:
                pending.add(symbol)
        settings = self.universe_models[number].universe_settings or self.algorithm.universe_settings
        for symbol in chosen:
            if symbol in members:
                continue
            if symbol in self.securities and symbol not in self.removed:
                members[symbol] = None
                continue
            kind = {int(SecurityType.CRYPTO): "crypto", int(SecurityType.FOREX): "forex"}.get(
                int(getattr(symbol, "security_type", SecurityType.EQUITY)), "equity")
            security = self.add_security(symbol.value, settings.resolution, float(settings.leverage),
                                         getattr(settings, "data_normalization_mode", "adjusted") if kind == "equity"
                                         else "raw", kind=kind,
                                         extended=bool(getattr(settings, "extended_market_hours", False)))
            members[security.symbol] = None

    def _universe_steps(self, moment: datetime) -> bool:
        """Scheduled universe selections due up to ``moment``, each at its own time: the changes go to
        on_securities_changed (LEAN's OnFrameworkData returns on a slice without data, so the framework does
        not turn). True when securities were added, whose bars then join the run."""
        if not self.universe_schedule.events:
            return False
        before = len(self.pending_subscriptions)
        for when in self.universe_schedule.due_times(moment):
            self.universe_schedule.fire_until(when)
            self.time = when
            if self.changes_added or self.changes_removed:
                self._security_changes()
            if len(self.pending_subscriptions) > before:
                return True  # their bars join before the next selection
        return False

    def _end_of_day_events(self, changes: Any) -> None:
        """LEAN's EverySecurityEndOfDay: when the algorithm has ``on_end_of_day(symbol)``, each security added
        gets a call 10 minutes before its market closes on each trading day (midnight for markets always
        open), from now on; a removed security's calls stop."""
        if "on_end_of_day" not in self._handlers:
            self._handlers["on_end_of_day"] = self._find_handler("on_end_of_day")
        handler = self._handlers["on_end_of_day"]
        if handler is None:
            return
        import inspect

        try:
            takes_symbol = bool(inspect.signature(handler).parameters)
        except (TypeError, ValueError):
            takes_symbol = True
        active: dict[Symbol, bool] = self.__dict__.setdefault("_end_of_day_active", {})
        for security in changes.removed_securities:
            active[security.symbol] = False
        if not takes_symbol:
            return
        for security in changes.added_securities:
            symbol, known = security.symbol, security.symbol in active
            active[symbol] = True
            if known:
                continue
            hours, now, always = self.exchange_hours(security), self.time, security.hours.kind != "equity"

            def date_rule(day: date, hours: Any = hours, always: bool = always) -> bool:
                return always or bool(hours.trading_days(day, day))

            def time_rule(day: date, hours: Any = hours, always: bool = always, now: datetime = now,
                          extended: bool = security.extended_market_hours) -> list[datetime]:
                intervals = [] if always else hours.open_intervals(day, extended)
                if not always and not intervals:
                    return []
                at = datetime.combine(day, time()) + (timedelta(days=1) if always else
                                                      intervals[-1][1] - timedelta(minutes=10))
                return [at] if at > now else []

            def call(symbol: Symbol = symbol) -> None:
                if active.get(symbol):
                    handler(symbol)

            self.schedule.on(date_rule, time_rule, call)

    def _security_changes(self, before_bars: bool = False) -> None:
        """on_securities_changed (and the framework models') with what was added or removed since the last step
        (``before_bars``: in a data step, before its bars reach the consolidators)."""
        if not (self.changes_added or self.changes_removed):
            return
        from qcmcp.sandbox.engine.framework import SecurityChanges

        changes = SecurityChanges(list(self.changes_added), list(self.changes_removed))
        self.changes_added.clear()
        self.changes_removed.clear()
        self._end_of_day_events(changes)
        # LEAN delivers the securities added in initialize on the start's selection slice, before any of their
        # data: history asked for then (an indicator's warm-up) ends before this first step's bars, which the
        # consolidators feed next — not twice
        first, self._changes_delivered = not self._changes_delivered, True
        if first and before_bars:
            self._history_cutoff = self.time - timedelta(microseconds=1)
        try:
            self._call("on_securities_changed", changes)
            framework = self.framework
            for model in [*framework.alphas, framework.construction, framework.execution, *framework.risk]:
                handler = getattr(model, "on_securities_changed", None) if model is not None else None
                if handler is not None:
                    handler(self.algorithm, changes)
        finally:
            self._history_cutoff = None

    def ensure_currency_feeds(self) -> None:
        """LEAN's CashBook.EnsureCurrencyDataFeeds: a conversion for every currency in the cash book, subscribing
        the pairs it needs as internal feeds (at the finest resolution subscribed, never passed to on_data)."""
        from qcmcp.sandbox.engine.currencies import pairs

        spec = getattr(self, "brokerage_spec", None)
        crypto_market = spec.crypto_market if spec is not None else "coinbase"
        securities = [s for s in self.securities.values() if s.hours.kind in ("crypto", "forex")]
        markets: dict[str, list[str]] = {"forex": ["oanda"], "crypto": [crypto_market]}
        for security in securities:
            if security.market not in markets[security.hours.kind]:
                markets[security.hours.kind].append(security.market)
        candidates = [(ticker, kind, market, quote) for kind in ("forex", "crypto") for market in markets[kind]
                      for ticker, quote in pairs(self.data_folder, market, kind)]
        resolutions = [s.resolution for s in self.securities.values()] or ["minute"]
        finest = min(resolutions, key=["minute", "hour", "daily"].index)

        def subscribe(ticker: str, kind: str, market: str) -> Security:
            known = next((s for s in self.securities.values() if s.symbol.value == ticker and s.hours.kind == kind),
                         None)
            if known is not None:
                return known
            added = self.add_security(ticker, finest, 1.0, "Raw", kind=kind, market=market)
            added.is_internal = True
            if added in self.changes_added:
                self.changes_added.remove(added)
            self.log(f"Cash.EnsureCurrencyDataFeed(): Adding {ticker} for cash currency feed")
            return added

        self.portfolio.cash_book.ensure_currency_data_feeds(securities, candidates, subscribe, crypto_market)

    def _check_conversion_data(self) -> None:
        """Cash held in a currency whose conversion pair has no data cannot be valued: refuse rather than report a
        portfolio worth a wrong amount (LEAN would have the pair's data)."""
        traded = {s.quote_currency.symbol for s in self.securities.values() if not s.is_internal and s.quote_currency}
        for cash in self.portfolio.cash_book.values:
            conversion = cash.currency_conversion
            for security in getattr(conversion, "conversion_rate_securities", []):
                sub = self.subscriptions.get(security.symbol)
                needed = cash.amount or cash.symbol in traded  # held, or what a subscribed security is priced in
                if needed and security.is_internal and sub is not None and not len(sub.bars):
                    from qcmcp.sandbox.engine.unsupported import refuse

                    refuse(f"valuing {cash.symbol} cash (the data folder has no {security.symbol.value} "
                           f"{security.hours.kind} data, the pair LEAN converts {cash.symbol} to "
                           f"{self.portfolio.account_currency} with)")

    def _check_time_zone(self) -> None:
        """Another algorithm time zone than New York: the sandbox converts only crypto data (dated in UTC) into
        it; equities, indices, forex and custom data stay on New York time, so they refuse."""
        if clock.zone() == clock.NEW_YORK:
            return
        from qcmcp.sandbox.engine.unsupported import refuse

        benchmark = self.securities.get(Symbol(self.benchmark)) if self.benchmark_function is None else None
        others = [s for s in self.securities.values() if s.hours.kind != "crypto" or s.custom_type is not None]
        if self.benchmark_function is None and (benchmark is None or benchmark.hours.kind != "crypto"):
            others.append(benchmark or self.benchmark)
        if others:
            named = getattr(others[0], "symbol", others[0])
            refuse(f"algorithm time zone {clock.zone()} with {named} (the sandbox converts only crypto data "
                   "into another time zone than New York)")

    def run(self) -> None:
        first = self._warm_up_start()
        self.ensure_currency_feeds()
        self._check_time_zone()
        for symbol, security in self.securities.items():
            self._subscribe(symbol, security, first)
        self._check_conversion_data()
        self.running = True
        self.changes_added[:] = [s for s in self.securities.values() if not s.is_internal]
        self._start_unvalued = True  # the starting value is taken once the first prices are in (_advance)
        if self.benchmark_function is not None:
            bench_by_day = {}
        else:
            benchmark = self._load(Symbol(self.benchmark), "daily", self.start, self.end)
            if benchmark.synthetic:
                self.synthetic.add(self.benchmark)
            bench_by_day = {s.date(): float(c) for s, c in zip(benchmark.start, benchmark.close, strict=True)}

        symbols = list(self.subscriptions)
        ends = [np.array([e.timestamp() for e in self.subscriptions[s].bars.end]) for s in symbols]
        owner = np.concatenate([np.full(len(e), i) for i, e in enumerate(ends)]) if ends else np.array([], dtype=int)
        index = np.concatenate([np.arange(len(e)) for e in ends]) if ends else np.array([], dtype=int)
        keys = np.concatenate(ends) if ends else np.array([])
        order = np.argsort(keys, kind="stable") if ends else np.array([], dtype=int)
        total = max(len(order), 1)
        start_at = datetime.combine(self.start, time())
        self.warming_up = first < self.start
        day_values: list[float] = []
        last_day: date | None = None
        position, reported = 0, 0.0
        # LEAN's BacktestingResultHandler samples equity every max(4 minutes, run length / 4000).
        sample_every = timedelta(minutes=max(4.0, ((self.end - self.start).days + 1) * 1440 / 4000))
        next_sample = datetime.min
        try:
            if self.quit_in_initialize:
                raise QuitRequested(self._quit_message or "")
            if not self.warming_up:
                self._call("on_warmup_finished")  # LEAN calls it once even without a warm-up

            def merge(after: datetime) -> tuple[Any, Any, Any, Any, int]:
                remaining = order[position:]
                merged_owner, merged_index, merged_keys = owner[remaining], index[remaining], keys[remaining]
                self.ensure_currency_feeds()  # LEAN: on security changes, for the currencies they bring
                for symbol in self.pending_subscriptions:
                    added = self._subscribe(symbol, self.securities[symbol], after.date(), after=after)
                    symbols.append(symbol)
                    stamps = np.array([e.timestamp() for e in added.bars.end])
                    merged_owner = np.concatenate([merged_owner, np.full(len(stamps), len(symbols) - 1)])
                    merged_index = np.concatenate([merged_index, np.arange(len(stamps))])
                    merged_keys = np.concatenate([merged_keys, stamps])
                self.pending_subscriptions.clear()
                return merged_owner, merged_index, merged_keys, np.argsort(merged_keys, kind="stable"), 0

            while True:
                if position < len(order):
                    moment = self.subscriptions[symbols[owner[order[position]]]].bars.end[index[order[position]]]
                elif self.universe_schedule.events and not self.stopped_by_hook:
                    moment = datetime.combine(self.end, time.max)  # no bars left: the selections still to come
                else:
                    break
                if self.universe_schedule.events and self._universe_steps(moment):
                    owner, index, keys, order, position = merge(self.time)
                    total = position + len(order)
                    continue
                if position >= len(order):
                    break
                step = []
                while position < len(order):
                    k = order[position]
                    sub = self.subscriptions[symbols[owner[k]]]
                    if sub.bars.end[index[k]] != moment:
                        break
                    if sub.security.symbol not in self.removed and _passes_filter(sub, int(index[k])):
                        step.append((sub, int(index[k])))
                    position += 1
                if not step:
                    continue
                if self.step_hook is not None:
                    self.time = moment
                    if self.step_hook(moment):
                        self.stopped_by_hook = True
                        break
                if self.warming_up and moment > start_at:
                    self.warming_up = False
                    self._call("on_warmup_finished")
                if last_day is not None and moment.date() != last_day and day_values:
                    self._sample_day(last_day, day_values, bench_by_day)
                    day_values = []
                self._auxiliary_steps(moment)
                self.schedule.fire_until(moment, before=True)  # LEAN: past events see the previous prices
                self.time = moment
                bars = self._advance(step)
                self.schedule.fire_until(moment)
                data = Slice(moment, {s: b for s, b in bars.items() if not self.securities[s].is_internal
                                      and self.securities[s].custom_type is None},
                             {s: q for s, q in self.step_quotes.items() if not self.securities[s].is_internal},
                             custom={s: self.securities[s].custom_data for s in bars
                                     if self.securities[s].custom_type is not None})
                self._security_changes()
                if len(data.bars) or len(data.custom) or len(bars) == len(data.bars):
                    self._call("on_data", data)
                self._framework_step(data)
                self._scan_market_orders()
                if self.pending_subscriptions:  # securities added while running: merge their bars into the rest
                    owner, index, keys, order, position = merge(moment)
                    total = position + len(order)
                for chart, indicator, wait in self.auto_plots:
                    if indicator.is_ready or not wait:
                        self.charts.plot(moment, chart, indicator.name, indicator.current.value)
                if not self.warming_up:
                    value = self.portfolio.total_portfolio_value
                    day_values.append(value)
                    last_day = moment.date()
                    if moment > next_sample:
                        next_sample = moment + sample_every
                        self.samples.append((moment, value))
                if position / total - reported >= 0.01:
                    reported = position / total
                    self.progress(reported)
            if not self.stopped_by_hook:
                last_time = self.time
                self._auxiliary_steps(datetime.combine(self.end, time.max))  # events due before the end, no bars left
                self.time = max(self.time, last_time)
        except QuitRequested:
            self.log(f"Algorithm quit: {self._quit_message}")
        if last_day is None and not self.equity:  # quit before any data: the run still completes, flat
            day_values, last_day = [self.portfolio.total_portfolio_value], self.start
        if last_day is not None and day_values:
            self._sample_day(last_day, day_values, bench_by_day)
            if self.samples and self.samples[-1][0] == self.time:
                # LEAN's equity series takes no second point at a time it has: the last step's sample, taken
                # before on_end_of_algorithm, stays the final equity (the later samples at that time are dropped)
                self.final_equity_sample = self.samples[-1]
            self.samples.append((self.time, self.portfolio.total_portfolio_value))
        self._call("on_end_of_algorithm")

    def _framework_step(self, data: Any) -> None:
        """Collect new insights, retire expired ones, and rebalance when the set changed."""
        framework = self.framework
        self.algorithm.insights.step(self.time)  # LEAN's OnFrameworkData: Insights.Step(UtcTime) first
        custom_execution = type(framework.execution) is not ImmediateExecutionModel or framework.execution.targets
        if not (framework.alphas or framework.emitted or framework.active or custom_execution):
            return  # no framework in use: nothing to do on this step
        new = list(framework.emitted)
        framework.emitted.clear()
        for model in framework.alphas:
            produced = model.update(self.algorithm, data) or []
            for insight in produced:
                insight.source_model = insight.source_model or getattr(model, "name", type(model).__name__)
            new.extend(produced)
        for insight in new:
            insight.symbol = self.symbol_for(insight.symbol)
            insight.generated_time_utc = self.time
            close = getattr(insight, "requested_close_time", None)
            if close is None and getattr(insight, "bar_spec", None) and insight.symbol in self.securities:
                close = self.bars_end_time(self.securities[insight.symbol], self.time, *insight.bar_spec)
            elif close is None and insight.symbol in self.securities and isinstance(insight.period, timedelta):
                # LEAN's TimeSpanPeriodSpecification: the period counted in market time, not wall time
                insight.close_time_utc = self.insight_close_time(self.securities[insight.symbol], self.time,
                                                                 insight.period)
                insight.reference_value = self.securities[insight.symbol].price
                continue
            insight.close_time_utc = close if close is not None else self.time + insight.period
            if close is not None:
                insight.period = close - self.time
            insight.reference_value = self.securities[insight.symbol].price if insight.symbol in self.securities else 0.0
        framework.active.extend(new)
        handlers = getattr(self.algorithm, "_insights_generated", None)
        if new and handlers is not None and handlers.handlers:  # LEAN's InsightsGenerated event
            from qcmcp.sandbox.engine.framework import GeneratedInsightsCollection

            handlers(self.algorithm, GeneratedInsightsCollection(self.algorithm.utc_time, list(new)))
        framework.recorded.extend(new)
        if self.warming_up:
            return
        targets: list[Any] = []
        if framework.construction is not None:
            targets = list(framework.construction.create_targets(self.algorithm, new) or [])
        else:  # no construction model: insights still expire
            self.algorithm.insights.remove_expired_insights(self.time)
        # LEAN: the risk models see every step's targets; theirs override the construction model's.
        overrides: dict[Symbol, Any] = {}
        for model in framework.risk:
            for target in model.manage_risk(self.algorithm, targets) or []:
                overrides[self.symbol_for(target.symbol)] = target
        if overrides:
            targets = [t for t in targets if self.symbol_for(t.symbol) not in overrides] + list(overrides.values())
        if framework.execution is not None:  # LEAN's ProcessInsights: the execution model runs on every step
            framework.execution.execute(self.algorithm, targets)

    def insight_close_time(self, security: Security, generated: datetime, period: timedelta) -> datetime:
        """LEAN's Insight.ComputeCloseTime for a time span: whole bars of the largest resolution it spans (hours
        as minutes) stepped through open market time, then the remainder in minutes — a fraction of a day as
        that fraction of the regular session."""
        period = max(period, timedelta(seconds=1))
        resolution, size = (("daily", timedelta(days=1)) if period >= timedelta(days=1) else
                            ("minute", timedelta(minutes=1)) if period >= timedelta(minutes=1) else
                            ("second", timedelta(seconds=1)))
        count = int(period / size)
        close = self.bars_end_time(security, generated, resolution, count)
        if close == generated:
            return self.bars_end_time(security, generated, "second", 1)
        delta = period - size * count
        if delta and resolution == "daily":
            session = timedelta(days=1) if security.hours.kind != "equity" else timedelta(hours=6, minutes=30)
            delta = session * (delta / timedelta(days=1))
        minutes = int(delta / timedelta(minutes=1))
        return self.bars_end_time(security, close, "minute", minutes) if minutes > 0 else close

    def bars_end_time(self, security: Security, start: datetime, resolution: str, count: int) -> datetime:
        """LEAN's Time.GetEndTimeForTradeBars: step bar by bar from ``start``, counting the steps during which
        the market is open (an hour counts as 60 minutes)."""
        size = {"daily": timedelta(days=1), "hour": timedelta(minutes=1), "minute": timedelta(minutes=1),
                "second": timedelta(seconds=1)}.get(str(resolution).lower(), timedelta(days=1))
        count = count * 60 if str(resolution).lower() == "hour" else count
        current, counted = start, 0
        hours = self.exchange_hours(security) if security.hours.kind == "equity" else None
        if hours is not None and size < timedelta(days=1):
            return self._open_steps_end(security, hours, start, size, count)
        while counted < count:
            previous, current = current, current + size
            if hours is None:
                counted += 1
            elif size == timedelta(days=1):  # LEAN: a day counts when its date is a trading day
                counted += bool(hours.trading_days(current.date(), current.date()))
            elif self._open_between(security, previous, current):
                counted += 1
        return current

    @staticmethod
    def _open_steps_end(security: Security, hours: Any, start: datetime, size: timedelta, count: int) -> datetime:
        """``count`` steps of ``size`` from ``start`` that overlap the market's open hours, as stepping one at a time
        would count them (a step [t, t + size) counts when it overlaps an open interval), jumping the closed time."""
        current, left = start, count
        day = start.date() - timedelta(days=1)
        while left > 0:
            midnight = datetime.combine(day, time())
            for open_, close in hours.open_intervals(day, security.extended_market_hours):
                opens, closes = midnight + open_, midnight + close
                if closes <= current:
                    continue
                first = max(0, (opens - current) // size) if opens > current else 0  # first step past the open
                last = -((current - closes) // size) - 1  # the last step starting before the close
                if last < first:
                    continue
                if last - first + 1 >= left:
                    return current + (first + left) * size
                left -= last - first + 1
                current += (last + 1) * size
            day += timedelta(days=1)
            if day > start.date() + timedelta(days=3700):
                return datetime.max
        return current

    def _open_between(self, security: Security, start: datetime, end: datetime) -> bool:
        hours, day = self.exchange_hours(security), start.date()
        while datetime.combine(day, time()) < end:
            midnight = datetime.combine(day, time())
            for open_, close in hours.open_intervals(day, security.extended_market_hours):
                if midnight + open_ < end and midnight + close > start:
                    return True
            day += timedelta(days=1)
        return False

    def cancel_insights(self, symbols: Any = None) -> int:
        """LEAN's InsightManager.Cancel/Expire: the active insights of these symbols (or these insights) close a
        second ago."""
        from qcmcp.sandbox.engine.framework import Insight

        items = symbols if isinstance(symbols, list | tuple | set) else [] if symbols is None else [symbols]
        chosen = {id(i) for i in items if isinstance(i, Insight)}
        wanted = None if symbols is None else {self.symbol_for(s) for s in items if not isinstance(s, Insight)}
        canceled = 0
        for insight in self.framework.active:
            if insight.is_active(self.time) and (wanted is None or self.symbol_for(insight.symbol) in wanted
                                                 or id(insight) in chosen):
                insight.close_time_utc = self.time - timedelta(seconds=1)
                if insight.generated_time_utc is not None:
                    insight.period = insight.close_time_utc - insight.generated_time_utc
                canceled += 1
        return canceled


    def _advance(self, step: list[tuple[Subscription, int]]) -> dict[Symbol, TradeBar]:
        bars: dict[Symbol, TradeBar] = {}
        self.step_quotes = {}
        for sub, i in step:  # prices first, as LEAN updates every security before it scans orders
            b = sub.bars
            bar = TradeBar(sub.security.symbol, b.start[i], b.end[i], float(b.open[i]), float(b.high[i]), float(b.low[i]),
                           float(b.close[i]), float(b.volume[i]))
            sub.security.bar = bar
            if sub.security.custom_volatility_model is not None:
                volatility.update(sub.security, bar)
            if sub.custom is not None:
                sub.security.custom_data = sub.custom[i]
            session = sub.security._session
            if session is not None and session.size:
                session.scan(bar.end_time)
                session.update(bar)
            if sub.bid is not None and sub.ask is not None:
                sub.security.bid_price, sub.security.ask_price = float(sub.bid[i]), float(sub.ask[i])
                if sub.quote_ranges is not None:
                    sub.security.quote_range = tuple(float(x) for x in sub.quote_ranges[i])
                if sub.security.hours.kind == "crypto" and sub.bid[i] > 0 and sub.ask[i] > 0:
                    # LEAN's SecurityCache: a crypto quote bar is default data, so the price is its mid close
                    mid = (float(sub.bid[i]) + float(sub.ask[i])) / 2
                    sub.security.bar = TradeBar(bar.symbol, bar.time, bar.end_time, bar.open, bar.high, bar.low, mid,
                                                bar.volume)
                if sub.bid_size is not None and sub.ask_size is not None:
                    sub.security.bid_size, sub.security.ask_size = float(sub.bid_size[i]), float(sub.ask_size[i])
                if sub.quote_ohlc is not None and not np.isnan(sub.quote_ohlc[i]).any():
                    row = sub.quote_ohlc[i]
                    self.step_quotes[bar.symbol] = QuoteBar(bar.time, bar.symbol, Bar(*row[:4]), sub.security.bid_size,
                                                            Bar(*row[4:]), sub.security.ask_size,
                                                            period=bar.end_time - bar.time)
            bars[sub.security.symbol] = bar
        if getattr(self, "_start_unvalued", False) and not self.warming_up:
            # LEAN's result handler re-captures the starting value once the first prices value the cash — before
            # the step's fills (orders placed on seeded prices must not move the start)
            self._start_unvalued = False
            self.portfolio.starting_cash = self.portfolio.total_portfolio_value
        after_prices = getattr(self.step_hook, "after_prices", None)
        if after_prices is not None and not self.warming_up:
            after_prices(self.time)  # LEAN's midnight sample sees this step's prices, not its fills
        self.security_model_scan.step(self, self.time)  # LEAN: margin interest, hourly, before the fills
        for sub, _ in step:
            self._fill_orders(sub.security.symbol, bars[sub.security.symbol])
        self._security_changes(before_bars=True)  # LEAN: OnSecuritiesChanged after the fills, before the consolidators
        for sub, _ in step:
            bar = bars[sub.security.symbol]
            self._feed(sub, sub.security.resolution, bar)
            for target in ("hour", "daily"):
                if target != sub.security.resolution and sub.indicators.get(target):
                    done = self._consolidate(sub, target, bar)
                    if done is not None:
                        self._feed(sub, target, done)
        return bars

    def _feed(self, sub: Subscription, feed: str, bar: TradeBar) -> None:
        session_end: bool | None = None
        for indicator in sub.indicators.get(feed, []):
            if getattr(indicator, "uses_quotes", False):  # a quote consolidator: this step's quote bar, if any
                quote = self.step_quotes.get(bar.symbol) if feed == sub.security.resolution else None
                if quote is not None:
                    indicator.feed_bar(quote)
                continue
            indicator.feed_bar(bar)
            period = getattr(indicator, "period", None)
            if isinstance(period, timedelta) and period >= timedelta(days=1) and hasattr(indicator, "close_session"):
                # a daily consolidator of intraday bars emits at the session's close (LEAN's daily calendar)
                if session_end is None:
                    session_end = bar.end_time - bar.time < timedelta(days=1) and sub.security.hours.kind == "equity" \
                        and bar.end_time >= self.next_market_close(sub.security, bar.time)
                if session_end:
                    indicator.close_session(bar.end_time)

    @staticmethod
    def _consolidate(sub: Subscription, target: str, bar: TradeBar) -> TradeBar | None:
        """Build hour/daily bars from finer bars; return one when it completes."""
        state = sub.partial.get(target)
        if state is None:
            state = [bar.time.timestamp(), bar.open, bar.high, bar.low, bar.close, 0.0]
        state[2], state[3], state[4] = max(state[2], bar.high), min(state[3], bar.low), bar.close
        state[5] += bar.volume
        session_close = sub.security.hours.session_close(datetime.fromtimestamp(state[0]).date())
        closes = bar.end_time >= session_close or (target == "hour" and bar.end_time.minute == 0)
        if not closes:
            sub.partial[target] = state
            return None
        sub.partial[target] = None
        start = datetime.fromtimestamp(state[0])
        start = datetime.combine(start.date(), time()) if target == "daily" else start
        return TradeBar(sub.security.symbol, start, bar.end_time, state[1], state[2], state[3], state[4], state[5])

    def _sample_day(self, day: date, values: list[float], bench: dict[date, float]) -> None:
        self.equity.append((day, values[0], max(values), min(values), values[-1]))
        self.positions.append({s: h.holdings_value for s, h in self.portfolio.items() if h.quantity})
        previous = self.benchmark_closes[-1] if self.benchmark_closes else None
        self.benchmark_closes.append(bench.get(day, previous if previous is not None else float("nan")))


def _requires_mapping(data_type: type) -> bool:
    """A custom type whose symbol is an equity's, renamed as the company's ticker changes (LEAN's
    RequiresMapping)."""
    try:
        return bool(data_type().requires_mapping())
    except Exception:  # noqa: BLE001 - the user's type: a broken override means no mapping
        return False


def custom_bars(points: list[Any]) -> market_data.Bars:
    """Custom points as bars of their value, ending at each point's end time (a point is its own bar)."""
    values = np.array([float(point.value) for point in points], dtype=float)
    ends = [point.end_time for point in points]
    return market_data.Bars([point.time for point in points], ends, values, values.copy(), values.copy(),
                            values.copy(), np.zeros(len(points)), False)


def _passes_filter(sub: Subscription, i: int) -> bool:
    """LEAN's SecurityDataFilter (``security.set_data_filter(model)``): a bar its ``filter(security, data)``
    rejects never reaches the security, the consolidators or ``on_data``."""
    model = sub.security.data_filter
    if model is None:
        return True
    b = sub.bars
    if sub.custom is not None:  # custom data: the filter sees the type's own point
        return bool(model.filter(sub.security, sub.custom[i]))
    bar = TradeBar(sub.security.symbol, b.start[i], b.end[i], float(b.open[i]), float(b.high[i]), float(b.low[i]),
                   float(b.close[i]), float(b.volume[i]))
    return bool(model.filter(sub.security, bar))

"""``QCAlgorithm``: the user-facing API. State and mechanics live in the engine."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from datetime import time as dtime
from typing import TYPE_CHECKING, Any

from qcmcp.sandbox.engine import indicators as ind
from qcmcp.sandbox.engine import momentum_indicators as mo
from qcmcp.sandbox.engine import trend_indicators as ti
from qcmcp.sandbox.engine import volume_indicators as vo
from qcmcp.sandbox.engine.consolidators import IdentityDataConsolidator, SubscriptionManager, TradeBarConsolidator
from qcmcp.sandbox.engine.framework import (
    InsightManager,
    ManualUniverseSelectionModel,
    ScheduledUniverseSelectionModel,
    NullRiskManagementModel,
    UniverseSettings,
)
from qcmcp.sandbox.engine.types import (
    AccountType,
    AlgorithmMode,
    DeploymentTarget,
    BrokerageName,
    DataNormalizationMode,
    OrderProperties,
    OrderType,
    PascalAliases,
    PortfolioTarget,
    Resolution,
    Security,
    SecurityManager,
    SecurityType,
    Symbol,
    snake_case,
)

if TYPE_CHECKING:
    from qcmcp.sandbox.engine.engine import Engine


class AlgorithmSettings(PascalAliases):
    def __init__(self) -> None:
        self.automatic_indicator_warm_up = False
        self.free_portfolio_value_percentage = 0.0025
        # As in LEAN: set_holdings skips adjustments worth less than this share of the portfolio.
        self.minimum_order_margin_portfolio_percentage = 0.001
        # LEAN's AlgorithmSettings: None leaves the portfolio construction model's own choice
        self.rebalance_portfolio_on_insight_changes: bool | None = None
        self.rebalance_portfolio_on_security_changes: bool | None = None
        # LEAN's StalePriceTimeSpan: a market order on data older than this waits for fresh data (see FillModel)
        self.stale_price_time_span = timedelta(hours=1)


from qcmcp.sandbox.engine.unsupported import (  # noqa: E402
    is_lean_member,
    refuse,
    refuse_attribute,
)


def _selector(shifted: Any, selector: Any) -> Any:
    """LEAN's shorter overloads: what Python passed in the resolution's place is then the selector."""
    return shifted if selector is None and callable(shifted) else selector


def _period_helper(cls: Any) -> Any:
    def helper(self: Any, symbol: Any, period: int, resolution: Any = None, selector: Any = None) -> Any:
        return self._register(symbol, cls(period), resolution, selector)

    helper.__doc__ = f"LEAN's {cls.__name__}(period) of the symbol's data."
    return helper

def _bar_helper(cls: Any) -> Any:
    def helper(self: Any, symbol: Any, resolution: Any = None, selector: Any = None) -> Any:
        return self._register(symbol, cls(), resolution, selector)

    helper.__doc__ = f"LEAN's {cls.__name__} of the symbol's bars."
    return helper


class QCAlgorithm(PascalAliases):
    """The base class algorithms derive from (a subset of LEAN's, see the README)."""

    def __init__(self) -> None:
        self._engine: Engine | None = None
        self.settings = AlgorithmSettings()
        self.universe_settings = UniverseSettings()
        self.default_order_properties: OrderProperties = OrderProperties()

    def __getattr__(self, name: str) -> Any:
        try:
            return super().__getattr__(name)
        except AttributeError:
            if not name.startswith("_") and is_lean_member(name):
                refuse_attribute("QCAlgorithm", snake_case(name))
            raise

    # ---- lifecycle (overridden by the user) -------------------------------------------------
    def initialize(self) -> None:
        pass

    def on_data(self, data: Any) -> None:
        pass

    def on_order_event(self, order_event: Any) -> None:
        pass

    def on_end_of_algorithm(self) -> None:
        pass

    def on_warmup_finished(self) -> None:
        pass

    def on_command(self, data: Any) -> bool | None:
        return None

    # ---- live commands (LEAN's AddCommand): a Command subclass runs when a command names its class ---------------
    @property
    def command_types(self) -> dict[str, type]:
        return vars(self).setdefault("_command_types", {})  # type: ignore[no-any-return]

    def add_command(self, command_type: type) -> None:
        from qcmcp.sandbox.engine.commands import Command

        # LEAN's Python wrapper takes any class with a run(algorithm) method, Command-derived or not
        runs = isinstance(command_type, type) and (issubclass(command_type, Command) or
                                                   callable(getattr(command_type, "run", None)))
        if not runs:
            raise TypeError(f"add_command takes a class with a run(algorithm) method (got {command_type!r}).")
        self.command_types[command_type.__name__] = command_type

    @property
    def engine(self) -> Engine:
        assert self._engine is not None, "the algorithm is not attached to an engine"
        return self._engine

    # ---- set-up -------------------------------------------------------------------------------
    def set_start_date(self, year: int | date | datetime, month: int | None = None, day: int | None = None) -> None:
        self.engine.start = _as_date(year, month, day)
        if not self.engine.running:  # LEAN: in initialize the algorithm's time is its start (history ends there)
            self.engine.time = datetime.combine(self.engine.start, dtime())

    def set_end_date(self, year: int | date | datetime, month: int | None = None, day: int | None = None) -> None:
        self.engine.end = _as_date(year, month, day)

    def set_cash(self, cash: float | str | None = None, *args: Any, starting_cash: float | None = None,
                 **named: Any) -> None:
        """LEAN's SetCash(amount) (the account currency) and SetCash(currency, amount, conversion_rate=0)."""
        amount = starting_cash if starting_cash is not None else cash
        if isinstance(amount, str):  # set_cash("EUR", 1000[, rate])
            quantity = args[0] if args else named.get("starting_cash", 0.0)
            rate = args[1] if len(args) > 1 else named.get("conversion_rate", 0.0)
            self.engine.portfolio.set_currency_cash(amount, float(quantity or 0.0), float(rate or 0.0))
            return
        self.engine.portfolio.set_cash(float(amount or 0.0))

    @property
    def risk_free_interest_rate_model(self) -> Any:
        """LEAN's RiskFreeInterestRateModel: the one set, else the primary credit rate (engine/interest_rates.py)."""
        from qcmcp.sandbox.engine.interest_rates import InterestRateProvider

        model = getattr(self.engine, "risk_free_model", None)
        return model if model is not None else InterestRateProvider(self.engine.data_folder)

    def set_risk_free_interest_rate_model(self, model: Any) -> None:
        """The model the statistics' risk-free rate comes from."""
        from qcmcp.sandbox.engine.interest_rates import check

        self.engine.risk_free_model = check(model)

    def set_benchmark(self, benchmark: Any) -> None:
        """A ticker, Symbol or Security — or a function of time giving the benchmark's value (LEAN's
        FuncBenchmark)."""
        self.engine.benchmark_set = True
        if callable(benchmark) and not isinstance(benchmark, Symbol | Security | str):
            self.engine.benchmark_function = benchmark
            self.engine.benchmark = "custom benchmark"
            return
        self.engine.benchmark = str(getattr(benchmark, "symbol", benchmark)).upper()

    def set_warm_up(self, period: int | timedelta, resolution: str | None = None) -> None:
        self.engine.warm_up = period

    set_warmup = set_warm_up

    def set_brokerage_model(self, brokerage: Any = None, account_type: Any = AccountType.MARGIN) -> None:
        """LEAN's brokerage models the sandbox has (engine/brokerages.py): DEFAULT/QUANT_CONNECT_BROKERAGE,
        INTERACTIVE_BROKERS_BROKERAGE, GDAX/COINBASE, BINANCE, BYBIT, BITFINEX, AXOS and ALPHA_STREAMS, or your own
        model derived from DefaultBrokerageModel; any other refuses clearly."""
        from qcmcp.sandbox.engine.brokerages import named
        from qcmcp.sandbox.engine.models import DefaultBrokerageModel

        if isinstance(brokerage, DefaultBrokerageModel):  # the user's model: the default brokerage, its checks
            self.engine.brokerage = ("default", int(getattr(brokerage, "account_type", 0) or 0))
            self.engine.brokerage_model_object = brokerage
            self.engine.brokerage_spec = None
            for security in self.engine.securities.values():
                self.engine.apply_brokerage(security)
            return
        if not isinstance(brokerage, int):
            refuse(f"brokerage model {type(brokerage).__name__}")
        name = BrokerageName(int(brokerage))
        model = named(name, int(account_type))
        if model is None:
            refuse(f"brokerage model BrokerageName.{name.name}")
        if model.key == "coinbase" and int(account_type) == AccountType.MARGIN:
            raise ValueError("The Coinbase brokerage does not currently support Margin trading.")
        self.engine.brokerage = (model.key, int(account_type))
        self.engine.brokerage_spec = model
        for security in self.engine.securities.values():
            self.engine.apply_brokerage(security)

    @property
    def brokerage_model(self) -> Any:
        model = getattr(self.engine, "brokerage_model_object", None)
        return model if model is not None else getattr(self.engine, "brokerage", ("default", 0))

    @property
    def benchmark(self) -> Any:
        """The benchmark: ``evaluate(time)`` gives its value (a security's price, or the custom function's)."""
        from qcmcp.sandbox.engine.models import FuncBenchmark

        if "_own_benchmark" in vars(self):  # the algorithm assigned self.benchmark itself
            return vars(self)["_own_benchmark"]
        engine = self.engine
        if engine.benchmark_function is not None:
            return FuncBenchmark(engine.benchmark_function)
        symbol = engine.symbol_for(engine.benchmark)
        return FuncBenchmark(lambda time: engine.securities[symbol].price if symbol in engine.securities else 0.0)

    @benchmark.setter
    def benchmark(self, value: Any) -> None:
        vars(self)["_own_benchmark"] = value

    def add_equity(self, ticker: str, resolution: str = Resolution.MINUTE, market: str | None = None,
                   fill_forward: bool = True, leverage: float = 2.0, extended_market_hours: bool = False,
                   data_normalization_mode: str | None = None) -> Security:
        if market is not None and str(market).lower() != "usa":
            refuse(f"equities on the {market} market (the sandbox has US equities)")
        if data_normalization_mode is None:  # LEAN: the universe settings' mode (Adjusted unless changed)
            data_normalization_mode = self.universe_settings.data_normalization_mode
        return self.engine.add_security(ticker, resolution, leverage, data_normalization_mode,
                                        extended=extended_market_hours)

    def add_crypto(self, ticker: str, resolution: str = Resolution.MINUTE, market: str | None = None,
                   fill_forward: bool = True, leverage: float = 1.0) -> Security:
        """A crypto pair trading every day around the clock (cash account: leverage 1)."""
        return self.engine.add_security(ticker, resolution, leverage, DataNormalizationMode.RAW, kind="crypto",
                                        market=market)

    def add_forex(self, ticker: str, resolution: str = Resolution.MINUTE, market: str | None = None,
                  fill_forward: bool = True, leverage: float = 50.0) -> Security:
        """A currency pair trading around the clock on weekdays (LEAN's default leverage: 50)."""
        return self.engine.add_security(ticker, resolution, leverage, DataNormalizationMode.RAW, kind="forex")

    def add_data(self, data_type: Any, ticker: Any, resolution: Any = None, time_zone: Any = None,
                 fill_forward: bool = False, leverage: float = 1.0, **named: Any) -> Security:
        """Custom data: ``add_data(MyData, "TICKER", resolution)`` with a PythonData subclass (read by its own
        get_source and reader), or ``add_data(MyData, "TICKER", properties, exchange_hours, …)`` with its own
        symbol properties and hours (LEAN's SetDatabaseEntries); LEAN's built-in custom types refuse clearly."""
        from qcmcp.sandbox.engine.currencies import SymbolProperties
        from qcmcp.sandbox.engine.custom_data import is_custom_type

        if not is_custom_type(data_type):
            refuse(f"add_data({getattr(data_type, '__name__', data_type)}, ...) (custom data types other than "
                   "PythonData subclasses)")
        if isinstance(resolution, SymbolProperties) or isinstance(named.get("properties"), SymbolProperties):
            properties = named.pop("properties", None) or resolution
            hours = named.pop("exchange_hours", None) or time_zone
            name = str(getattr(ticker, "value", ticker))
            self.symbol_properties_database.set_entry("usa", name, SecurityType.BASE, properties)
            if hours is not None:
                self.market_hours_database.set_entry("usa", name, SecurityType.BASE, hours)
            resolution, time_zone = named.pop("resolution", None), None
        if named:
            raise TypeError(f"add_data() got unexpected keyword arguments: {', '.join(sorted(named))}")
        if time_zone is not None and str(getattr(time_zone, "id", time_zone)) not in ("America/New_York", "None"):
            refuse("add_data with a time zone other than New York")
        return self.engine.add_data(data_type, ticker, resolution, leverage)

    @property
    def symbol_properties_database(self) -> Any:
        """LEAN's SymbolPropertiesDatabase: read rows, set a row for the securities added later."""
        from qcmcp.sandbox.engine.databases import SymbolPropertiesDatabase

        return SymbolPropertiesDatabase(self.engine)

    @property
    def market_hours_database(self) -> Any:
        """LEAN's MarketHoursDatabase, for custom data's hours (see engine/databases.py)."""
        from qcmcp.sandbox.engine.databases import MarketHoursDatabase

        return MarketHoursDatabase(self.engine)

    def add_security(self, security_type: Any, ticker: Any = None, resolution: str = Resolution.MINUTE,
                     market: str | None = None, fill_forward: bool = True, leverage: float = 2.0,
                     extended_market_hours: bool = False, *args: Any, **named: Any) -> Security:
        """add_security(SecurityType.EQUITY, "SPY", resolution, …) or add_security(symbol, resolution, …)."""
        if isinstance(security_type, Symbol):
            symbol, resolution = security_type, ticker or resolution
            security_type, ticker = symbol.security_type, symbol.value
        kind = {int(SecurityType.EQUITY): "equity", int(SecurityType.CRYPTO): "crypto",
                int(SecurityType.FOREX): "forex"}.get(int(security_type))
        if kind is None:
            refuse(f"add_security for security type {int(security_type)}")
        if kind == "equity":
            return self.add_equity(ticker, resolution, market, fill_forward, leverage, extended_market_hours,
                                   named.get("data_normalization_mode"))
        if kind == "crypto":
            return self.add_crypto(ticker, resolution, market, fill_forward, leverage if leverage != 2.0 else 1.0)
        return self.add_forex(ticker, resolution, market, fill_forward, leverage if leverage != 2.0 else 50.0)

    def remove_security(self, symbol: Any, tag: str | None = None) -> bool:
        return self.engine.remove_security(symbol)

    def on_securities_changed(self, changes: Any) -> None:
        pass

    def symbol(self, ticker: str) -> Symbol:
        return self.engine.symbol_for(ticker)

    def get_parameter(self, name: str, default: Any = None) -> Any:
        raw = self.engine.parameters.get(name)
        if raw is None:
            return default
        if isinstance(default, bool):
            return str(raw).lower() in ("1", "true", "yes")
        if isinstance(default, int):
            return int(float(raw))
        if isinstance(default, float):
            return float(raw)
        return str(raw)

    # ---- state --------------------------------------------------------------------------------
    time = property(lambda self: self.engine.time)
    start_date = property(lambda self: datetime.combine(self.engine.start, dtime()))
    end_date = property(lambda self: datetime.combine(self.engine.end, dtime.max))
    portfolio = property(lambda self: self.engine.portfolio)
    securities = property(lambda self: SecurityManager(self.engine.securities))
    is_warming_up = property(lambda self: self.engine.warming_up)
    transactions = property(lambda self: self.engine.transactions)
    def train(self, *arguments: Any) -> Any:
        """LEAN's Train: ``train(code)`` runs the code now (a scheduled event for the current time), ``train(date_rule,
        time_rule, code)`` at those times."""
        if len(arguments) == 1:
            return self.engine.schedule.training_now(arguments[0])
        return self.engine.schedule.training(*arguments)

    schedule = property(lambda self: self.engine.schedule)
    date_rules = property(lambda self: self.engine.schedule.date_rules)
    time_rules = property(lambda self: self.engine.schedule.time_rules)

    @property
    def history(self) -> Any:
        """history(symbols, periods | timedelta | start, [end,] [resolution], ...) → a DataFrame like LEAN's;
        history[TradeBar](...) → the bars themselves."""
        return _History(self.engine)

    # ---- algorithm framework ------------------------------------------------------------------
    def add_alpha(self, model: Any) -> None:
        self.engine.framework.alphas.append(model)

    def set_alpha(self, model: Any) -> None:
        self.engine.framework.alphas[:] = [model]

    def set_portfolio_construction(self, model: Any) -> None:
        self.engine.framework.construction = model

    def set_execution(self, model: Any) -> None:
        self.engine.framework.execution = model

    def set_risk_management(self, model: Any) -> None:
        self._check_risk(model)
        self.engine.framework.risk[:] = [] if isinstance(model, NullRiskManagementModel) else [model]

    def add_risk_management(self, model: Any) -> None:
        self._check_risk(model)
        if not isinstance(model, NullRiskManagementModel):
            self.engine.framework.risk.append(model)

    @staticmethod
    def _check_risk(model: Any) -> None:
        if not callable(getattr(model, "manage_risk", None)) and not callable(getattr(model, "ManageRisk", None)):
            refuse(f"risk management model {type(model).__name__}")
        if not hasattr(model, "manage_risk"):
            model.manage_risk = model.ManageRisk

    @property
    def insights(self) -> InsightManager:
        return InsightManager(self.engine)

    @staticmethod
    def _check_universe(model: Any) -> None:
        from qcmcp.sandbox.engine.framework import CustomUniverseSelectionModel

        if not isinstance(model, ManualUniverseSelectionModel | ScheduledUniverseSelectionModel |
                          CustomUniverseSelectionModel):
            refuse(f"universe selection model {type(model).__name__} (the sandbox has ManualUniverseSelectionModel, "
                   "ScheduledUniverseSelectionModel and CustomUniverseSelectionModel)")

    def set_universe_selection(self, model: Any) -> None:
        """LEAN's SetUniverseSelection: this model replaces the others; universes are made after initialize."""
        self._check_universe(model)
        self.engine.set_universe_models([model])

    def add_universe(self, *arguments: Any, **named: Any) -> Any:
        """LEAN's AddUniverse for the universes that need no universe data: ``add_universe(name, selector)``,
        ``add_universe(name, resolution, selector)``, ``add_universe(SecurityType.EQUITY, name, resolution,
        market, universe_settings, selector)`` (a user-defined universe of tickers) and
        ``add_universe(ScheduledUniverse(date_rule, time_rule, selector))``; coarse, fine, ETF and custom-data
        universes refuse."""
        from qcmcp.sandbox.engine.framework import ScheduledUniverse, UserDefinedUniverse

        if len(arguments) == 1 and isinstance(arguments[0], ScheduledUniverse) and not named:
            self.engine.add_universe(arguments[0])
            return arguments[0]
        rest = list(arguments)
        if rest and isinstance(rest[0], int) and not isinstance(rest[0], bool):
            if int(rest[0]) != int(SecurityType.EQUITY):
                refuse("QCAlgorithm.add_universe")
            rest = rest[1:]
        selector = named.get("selector") or (rest[-1] if rest else None)
        if not (rest and isinstance(rest[0], str) and callable(selector)) or isinstance(selector, type):
            refuse("QCAlgorithm.add_universe")
        settings = next((a for a in rest[1:-1] if isinstance(a, UniverseSettings)), named.get("universe_settings"))
        universe = UserDefinedUniverse(rest[0], selector, settings)
        self.engine.add_universe(universe)
        return universe

    def add_universe_selection(self, model: Any) -> None:
        """LEAN's AddUniverseSelection: one more model next to those set (a composite)."""
        self._check_universe(model)
        self.engine.set_universe_models([*self.engine.universe_models, model])

    @property
    def insights_generated(self) -> Any:
        """``self.insights_generated += handler``: handler(algorithm, GeneratedInsightsCollection) each step
        with new insights (LEAN's InsightsGenerated)."""
        from qcmcp.sandbox.engine.consolidators import EventHandlers

        return vars(self).setdefault("_insights_generated", EventHandlers())

    @insights_generated.setter
    def insights_generated(self, value: Any) -> None:
        vars(self)["_insights_generated"] = value

    @property
    def object_store(self) -> Any:
        """The run's object store (in memory, empty at the start)."""
        from qcmcp.sandbox.engine.util import ObjectStore

        return vars(self).setdefault("_object_store", ObjectStore())

    @property
    def universe_manager(self) -> Any:
        """LEAN's UniverseManager, as far as counting goes: ``count`` universes, ``active_securities``."""
        engine = self.engine

        class _Active(dict):  # type: ignore[type-arg]
            count = property(len)  # type: ignore[assignment]
            Count = count

        class _Universes(PascalAliases):
            count = property(lambda _: len(engine.universe_members))
            active_securities = property(lambda _: _Active((s, sec) for s, sec in engine.securities.items()
                                                           if s not in engine.removed))

            def __len__(self) -> int:
                return len(engine.universe_members)

        return _Universes()

    def emit_insights(self, *insights: Any) -> None:
        flat = [i for item in insights for i in (item if isinstance(item, list | tuple) else [item])]
        self.engine.framework.emitted.extend(flat)

    # ---- logging and charts -------------------------------------------------------------------
    def debug(self, message: Any) -> None:
        self.engine.log(str(message))

    def log(self, message: Any) -> None:
        self.engine.log(str(message))

    def error(self, message: Any) -> None:
        self.engine.log(f"ERROR:: {message}")

    def quit(self, message: str = "") -> None:
        self.engine.quit(message)

    def plot(self, chart: str, series: Any, value: Any = None, *more: Any) -> None:
        if more or (value is not None and hasattr(series, "current") and hasattr(value, "current")):
            for number, indicator in enumerate((series, value, *more)):  # plot(chart, indicator, …): one each
                point = getattr(indicator, "current", indicator)
                self.engine.charts.plot(self.engine.time, str(chart), str(getattr(indicator, "name", number)),
                                        float(getattr(point, "value", point)))
            return
        if value is None:  # plot(series, value) and plot(chart, indicator) forms
            chart, series, value = chart, getattr(series, "name", chart), series
        value = getattr(getattr(value, "current", value), "value", value)  # an indicator or a data point
        self.engine.charts.plot(self.engine.time, str(chart), str(series), float(value))

    def add_chart(self, chart: Any) -> None:
        """Declare a ``Chart``'s series (type, unit) for this run's charts."""
        from qcmcp.sandbox.engine.chart_api import add_chart

        add_chart(self.engine.charts, chart, lambda: self.engine.time)

    def plot_indicator(self, chart: str, *indicators: Any) -> None:
        """plot_indicator(chart, [wait_for_ready,] *indicators): each step's values, before the indicator is
        ready too unless ``wait_for_ready`` (LEAN's default is not to wait)."""
        wait = False
        if indicators and isinstance(indicators[0], bool):
            wait, indicators = indicators[0], indicators[1:]
        for indicator in indicators:
            if indicator is not None:
                self.engine.auto_plots.append((chart, indicator, wait))

    # ---- orders -------------------------------------------------------------------------------
    @property
    def utc_time(self) -> datetime:
        """The algorithm's time in UTC (its clock runs in the algorithm's time zone)."""
        from qcmcp.sandbox.engine import clock

        return clock.to_utc(self.engine.time)

    def _properties(self, order_properties: Any) -> Any:
        return order_properties if order_properties is not None else getattr(self, "default_order_properties", None)

    def market_order(self, symbol: Any, quantity: float, asynchronous: bool = False, tag: str = "",
                     order_properties: OrderProperties | None = None) -> Any:
        asynchronous, tag = _tag(asynchronous, tag)
        return self.engine.submit(symbol, quantity, OrderType.MARKET, tag=tag, properties=self._properties(order_properties),
                                  asynchronous=asynchronous)

    def limit_order(self, symbol: Any, quantity: float, limit_price: float, asynchronous: bool = False, tag: str = "",
                    order_properties: OrderProperties | None = None) -> Any:
        asynchronous, tag = _tag(asynchronous, tag)
        return self.engine.submit(symbol, quantity, OrderType.LIMIT, limit=limit_price, tag=tag,
                                  properties=self._properties(order_properties))

    def stop_market_order(self, symbol: Any, quantity: float, stop_price: float, asynchronous: bool = False,
                          tag: str = "", order_properties: OrderProperties | None = None) -> Any:
        asynchronous, tag = _tag(asynchronous, tag)
        return self.engine.submit(symbol, quantity, OrderType.STOP_MARKET, stop=stop_price, tag=tag,
                                  properties=self._properties(order_properties))

    def stop_limit_order(self, symbol: Any, quantity: float, stop_price: float, limit_price: float,
                         asynchronous: bool = False, tag: str = "", order_properties: OrderProperties | None = None) -> Any:
        asynchronous, tag = _tag(asynchronous, tag)
        return self.engine.submit(symbol, quantity, OrderType.STOP_LIMIT, stop=stop_price, limit=limit_price, tag=tag,
                                  properties=self._properties(order_properties))

    def trailing_stop_order(self, symbol: Any, quantity: float, *args: Any, asynchronous: bool = False, tag: str = "",
                            order_properties: Any = None, **named: Any) -> Any:
        """trailing_stop_order(symbol, quantity, [stop_price,] trailing_amount, trailing_as_percentage, ...)."""
        values = list(args)
        stop = None
        if len(values) >= 3 and isinstance(values[2], bool):
            stop, *values = values
        amount = named.get("trailing_amount", values[0] if values else 0.0)
        percentage = named.get("trailing_as_percentage", values[1] if len(values) > 1 else False)
        stop = named.get("stop_price", stop)
        if len(values) > 2 and isinstance(values[2], str):
            tag = values[2]
        return self.engine.submit(symbol, quantity, OrderType.TRAILING_STOP, stop=stop, tag=tag,
                                  trailing=(float(amount), bool(percentage)), properties=self._properties(order_properties))

    def limit_if_touched_order(self, symbol: Any, quantity: float, trigger_price: float, limit_price: float,
                               asynchronous: bool = False, tag: str = "", order_properties: Any = None) -> Any:
        asynchronous, tag = _tag(asynchronous, tag)
        return self.engine.submit(symbol, quantity, OrderType.LIMIT_IF_TOUCHED, limit=limit_price, trigger=trigger_price,
                                  tag=tag, properties=self._properties(order_properties))

    def market_on_open_order(self, symbol: Any, quantity: float, asynchronous: bool = False, tag: str = "",
                             order_properties: Any = None) -> Any:
        asynchronous, tag = _tag(asynchronous, tag)
        return self.engine.submit(symbol, quantity, OrderType.MARKET_ON_OPEN, tag=tag,
                                  properties=self._properties(order_properties))

    def market_on_close_order(self, symbol: Any, quantity: float, asynchronous: bool = False, tag: str = "",
                              order_properties: Any = None) -> Any:
        asynchronous, tag = _tag(asynchronous, tag)
        return self.engine.submit(symbol, quantity, OrderType.MARKET_ON_CLOSE, tag=tag,
                                  properties=self._properties(order_properties))

    def order(self, symbol: Any, quantity: float, asynchronous: bool = False, tag: str = "",
              order_properties: Any = None) -> Any:
        return self.market_order(symbol, quantity, asynchronous, tag, order_properties)

    def buy(self, symbol: Any, quantity: float) -> Any:
        return self.market_order(symbol, abs(quantity))

    def sell(self, symbol: Any, quantity: float) -> Any:
        return self.market_order(symbol, -abs(quantity))

    def set_holdings(self, symbol: Any, percentage: float | None = None, liquidate_existing_holdings: bool = False,
                     asynchronous: bool = False, tag: str = "", order_properties: Any = None) -> list[Any]:
        """LEAN's SetHoldings: one symbol and a share, or a list of PortfolioTargets (all quantities computed
        first, then ordered so that orders reducing a position go first)."""
        if isinstance(asynchronous, str) and not tag:  # set_holdings(symbol, 1, False, "tag") in older code
            asynchronous, tag = False, asynchronous
        engine = self.engine
        targets = symbol if isinstance(symbol, list | tuple) else [PortfolioTarget(symbol, float(percentage or 0.0))]
        tickets: list[Any] = []
        if liquidate_existing_holdings:
            keep = {engine.symbol_for(t.symbol) for t in targets}
            for held in [s for s, h in engine.portfolio.items() if h.invested and s not in keep]:
                tickets += self.liquidate(held, tag=tag)
        deltas = []
        for target in targets:
            sym = engine.symbol_for(target.symbol)
            if sym not in engine.securities:
                raise KeyError(f"'{sym}' is not subscribed: call add_equity('{sym}') first.")
            deltas.append((sym, engine.quantity_for_target(sym, float(target.quantity))))
        ordered = engine.by_margin_impact(deltas) if len(deltas) > 1 else deltas
        for sym, delta in ordered:
            ticket = engine.set_holdings_quantity(sym, delta, tag, bool(asynchronous), order_properties)
            if ticket is not None:
                tickets.append(ticket)
        return tickets

    def liquidate(self, symbol: Any = None, asynchronous: bool = False, tag: str = "Liquidated",
                  order_properties: Any = None) -> list[Any]:
        """LEAN's Liquidate: cancel the open orders that are not market orders, then order the holding's
        opposite less what open market orders already bring (nothing when one market order closes it)."""
        if isinstance(asynchronous, str):  # liquidate(symbol, "tag") in older code
            asynchronous, tag = False, asynchronous
        engine = self.engine
        if symbol is None:
            symbols = list(engine.securities)
        elif isinstance(symbol, list | tuple | set):
            symbols = [engine.symbol_for(s) for s in symbol]
        else:
            symbols = [engine.symbol_for(symbol)]
        tickets = []
        for sym in symbols:
            if sym not in engine.securities:
                continue
            orders = engine.transactions.get_open_orders(sym)
            quantity = engine.portfolio[sym].quantity
            if len(orders) == 1 and quantity and orders[0].quantity == -quantity and orders[0].type == OrderType.MARKET:
                continue
            pending = 0.0
            for order in orders:
                if order.type == OrderType.MARKET:
                    pending += order.quantity - order.filled_quantity
                else:
                    engine.cancel(order, tag)
            if quantity:
                tickets.append(self.market_order(sym, -quantity - pending, asynchronous, tag or "Liquidated",
                                                 order_properties))
        return tickets

    @property
    def statistics(self) -> Any:
        """LEAN's runtime StatisticsResults: ``statistics.summary`` of the run so far (engine/runtime_statistics)."""
        from qcmcp.sandbox.engine.runtime_statistics import StatisticsResults, summary_now

        return StatisticsResults(summary_now(self.engine))

    def set_summary_statistic(self, name: str, value: Any) -> None:
        from qcmcp.sandbox.engine.runtime_statistics import set_summary_statistic

        set_summary_statistic(self.engine, name, value)

    def shortable(self, symbol: Any, short_quantity: float = 0, update_order_id: int | None = None) -> bool:
        """LEAN's Shortable: whether shorting ``short_quantity`` more fits the security's shortable provider."""
        from qcmcp.sandbox.engine.security_models import shortable

        return shortable(self.engine, self.engine.symbol_for(symbol), float(short_quantity), update_order_id)

    def shortable_quantity(self, symbol: Any) -> int:
        security = self.engine.securities[self.engine.symbol_for(symbol)]
        return int(security.shortable_provider.shortable_quantity(security.symbol, self.engine.time) or 0)

    def get_last_known_prices(self, security: Any) -> Any:
        """LEAN's GetLastKnownPrices: the last trade (and quote) bar before now of a security or symbol, or of
        each of several (a dictionary by symbol)."""
        from qcmcp.sandbox.engine.seeding import last_known_prices

        if isinstance(security, list | tuple):
            return {self.engine.symbol_for(getattr(s, "symbol", s)): self.get_last_known_prices(s) for s in security}
        return last_known_prices(self.engine, self.engine.symbol_for(getattr(security, "symbol", security)))

    def get_last_known_price(self, security: Any) -> Any:
        """LEAN's GetLastKnownPrice: the trade bar when there is one, else the quote bar (None without data)."""
        found = self.get_last_known_prices(security)
        trades = [data for data in found if type(data).__name__ == "TradeBar"]
        return (trades or found or [None])[-1]

    def calculate_order_quantity(self, symbol: Any, target: float) -> float:
        return self.engine.quantity_for_target(self.engine.symbol_for(symbol), target)

    # ---- indicators ---------------------------------------------------------------------------
    def _register(self, symbol: Any, indicator: ind.Indicator, resolution: str | None, selector: Any = None) -> Any:
        if selector is not None:
            indicator.selector = selector
        return self.engine.register_indicator(self.engine.symbol_for(symbol), indicator, resolution)

    def indicator_history(self, indicator: Any, symbol: Any, period: Any, resolution: str | None = None,
                          selector: Any = None) -> Any:
        """LEAN's IndicatorHistory: the indicator fed ``period`` bars plus its warm-up (less one) of history,
        keeping the points where it is ready."""
        if isinstance(symbol, list | tuple) or not isinstance(period, int) or isinstance(period, bool):
            refuse("indicator_history over several symbols or a time span (the sandbox takes one symbol and a "
                   "bar count)")
        engine = self.engine
        sym = engine.symbol_for(symbol)
        if sym not in engine.securities:
            raise KeyError(f"'{sym}' is not subscribed: call add_equity('{sym}') first.")
        if selector is not None:
            indicator.selector = selector
        warm_up = int(getattr(indicator, "warm_up_period", 0) or 0)
        count = period + (warm_up - 1 if warm_up > 0 and period > 0 else 0)
        from qcmcp.sandbox.engine.engine import RESOLUTION_ALIASES

        feed = RESOLUTION_ALIASES.get(str(resolution).lower(), None) if resolution else None
        points = []
        for bar in engine._history_bars(sym, count, feed or engine.securities[sym].resolution,
                                        engine._now_for_history()):
            indicator.feed_bar(bar)
            if indicator.is_ready:
                time = bar.end_time
                points.append(ind.IndicatorDataPoints(time, ind.IndicatorDataPoint(time, indicator.current.value),
                                                      ind.sub_values(indicator, time)))
        return ind.IndicatorHistory(points)

    def trin(self, symbols: Any, resolution: str | None = None) -> ind.Indicator:
        """LEAN's TRIN (ArmsIndex) over these symbols, fed by each one's bars."""
        symbols = list(symbols) if isinstance(symbols, list | tuple | set) else [symbols]
        indicator = ind.ArmsIndex(f"TRIN({','.join(str(s) for s in symbols)})")
        for symbol in symbols:
            sym = self.engine.symbol_for(symbol)
            indicator.add(sym)
            self.engine.register_indicator(sym, indicator, resolution)
        return indicator

    arms_index = trin

    def unregister_indicator(self, indicator: Any) -> bool:
        """LEAN's UnregisterIndicator: the indicator (or consolidator) gets no more data from any symbol."""
        engine, found = self.engine, False
        for symbol, items in list(engine.indicator_registry.items()):
            kept = [(feed, item) for feed, item in items if item is not indicator]
            found = found or len(kept) != len(items)
            engine.indicator_registry[symbol] = kept
        for sub in engine.subscriptions.values():
            for fed in sub.indicators.values():
                while indicator in fed:
                    fed.remove(indicator)
        return found

    def arima(self, symbol: Any, ar_order: int, diff_order: int, ma_order: int, period: int, intercept: Any = True,
              resolution: str | None = None, selector: Any = None) -> ind.Indicator:
        """LEAN's ARIMA (engine/time_series_indicators.py); ``arima(symbol, p, d, q, period[, resolution])`` too."""
        from qcmcp.sandbox.engine.time_series_indicators import AutoRegressiveIntegratedMovingAverage

        if not isinstance(intercept, bool):  # LEAN's overload without intercept: (…, period, resolution, selector)
            intercept, resolution, selector = True, intercept, resolution if selector is None else selector
        return self._register(symbol, AutoRegressiveIntegratedMovingAverage(
            ar_order, diff_order, ma_order, period, intercept, name=f"ARIMA({ar_order},{diff_order},{ma_order},"
            f"{period})"), resolution, selector)

    def sma(self, symbol: Any, period: int, resolution: str | None = None, selector: Any = None) -> ind.Indicator:
        return self._register(symbol, ind.SimpleMovingAverage(period), resolution, selector)

    def ema(self, symbol: Any, period: int, smoothing_factor: Any = None, resolution: str | None = None,
            selector: Any = None) -> ind.Indicator:
        if isinstance(smoothing_factor, str):  # ema(symbol, n, Resolution.DAILY): LEAN's other overload
            smoothing_factor, resolution = None, smoothing_factor
        return self._register(symbol, ind.ExponentialMovingAverage(period, smoothing_factor), resolution, selector)

    def rsi(self, symbol: Any, period: int, moving_average_type: Any = None, resolution: str | None = None,
            selector: Any = None) -> ind.Indicator:
        if isinstance(moving_average_type, str):  # rsi(symbol, period, resolution[, selector])
            moving_average_type, resolution, selector = None, moving_average_type, _selector(resolution, selector)
        return self._register(symbol, ind.RelativeStrengthIndex(period, moving_average_type), resolution, selector)

    def macd(self, symbol: Any, fast_period: int, slow_period: int, signal_period: int, moving_average_type: Any = None,
             resolution: str | None = None, selector: Any = None) -> ind.Indicator:
        if isinstance(moving_average_type, str):  # macd(symbol, fast, slow, signal, resolution[, selector])
            moving_average_type, resolution, selector = None, moving_average_type, _selector(resolution, selector)
        return self._register(symbol, ind.MovingAverageConvergenceDivergence(
            fast_period, slow_period, signal_period, moving_average_type), resolution, selector)

    def bb(self, symbol: Any, period: int, k: float, moving_average_type: Any = None, resolution: str | None = None,
           selector: Any = None) -> ind.Indicator:
        if isinstance(moving_average_type, str):  # bb(symbol, period, k, resolution[, selector])
            moving_average_type, resolution, selector = None, moving_average_type, _selector(resolution, selector)
        return self._register(symbol, ind.BollingerBands(period, k, moving_average_type), resolution, selector)

    def atr(self, symbol: Any, period: int, moving_average_type: Any = None, resolution: str | None = None,
            selector: Any = None) -> ind.Indicator:
        """LEAN's ATR helper: a simple average of the true ranges unless another type is given."""
        if isinstance(moving_average_type, str):  # atr(symbol, period, resolution[, selector])
            moving_average_type, resolution, selector = None, moving_average_type, _selector(resolution, selector)
        kind = ind.MovingAverageType.SIMPLE if moving_average_type is None else moving_average_type
        return self._register(symbol, ind.AverageTrueRange(period, kind), resolution, selector)

    def b(self, target: Any, reference: Any, period: int, resolution: Any = None, selector: Any = None) -> Any:
        """LEAN's B (Beta) of the target's returns on the reference's, fed both symbols' bars."""
        from qcmcp.sandbox.engine.swing_indicators import Beta

        first, second = self.engine.symbol_for(target), self.engine.symbol_for(reference)
        indicator = Beta(first, second, period)
        if selector is not None:
            indicator.selector = selector
        for sym in (first, second):
            self.engine.register_indicator(sym, indicator, resolution)
        return indicator

    def std(self, symbol: Any, period: int, resolution: str | None = None, selector: Any = None) -> ind.Indicator:
        return self._register(symbol, ind.StandardDeviation(period), resolution, selector)

    def roc(self, symbol: Any, period: int, resolution: str | None = None, selector: Any = None) -> ind.Indicator:
        return self._register(symbol, ind.RateOfChange(period), resolution, selector)

    def sto(self, symbol: Any, period: int, k_period: Any = None, d_period: int | None = None,
            resolution: str | None = None, selector: Any = None) -> ind.Indicator:
        """LEAN's STO(symbol, period, k_period, d_period[, resolution]) or STO(symbol, period[, resolution])."""
        if isinstance(k_period, str) or k_period is None:  # sto(symbol, period, resolution): k = d = period
            resolution, k_period, d_period = k_period if isinstance(k_period, str) else resolution, period, period
        return self._register(symbol, ind.Stochastic(period, int(k_period), int(d_period or period)), resolution,
                              selector)

    def max(self, symbol: Any, period: int, resolution: str | None = None, selector: Any = None) -> ind.Indicator:
        return self._register(symbol, ind.Maximum(period), resolution, selector)

    def min(self, symbol: Any, period: int, resolution: str | None = None, selector: Any = None) -> ind.Indicator:
        return self._register(symbol, ind.Minimum(period), resolution, selector)

    # LEAN's other indicator helpers (QCAlgorithm.Indicators.cs): the indicator, fed the symbol's bars.
    mom, momp, rocp, rocr, logr, cmo = (_period_helper(c) for c in (
        mo.Momentum, mo.MomentumPercent, mo.RateOfChangePercent, mo.RateOfChangeRatio, mo.LogReturn,
        mo.ChandeMomentumOscillator))
    adx, adxr, wilr, fish, dpo, trix, mad = (_period_helper(c) for c in (
        mo.AverageDirectionalIndex, mo.AverageDirectionalMovementIndexRating, mo.WilliamsPercentR,
        mo.FisherTransform, mo.DetrendedPriceOscillator, mo.Trix, mo.MeanAbsoluteDeviation))
    dema, tema, hma, lwma, trima, zlema, wwma = (_period_helper(c) for c in (
        ti.DoubleExponentialMovingAverage, ti.TripleExponentialMovingAverage, ti.HullMovingAverage,
        ti.LinearWeightedMovingAverage, ti.TriangularMovingAverage, ti.ZeroLagExponentialMovingAverage,
        ti.WilderMovingAverage))
    natr, chop, midpoint, midprice = (_period_helper(c) for c in (
        ti.NormalizedAverageTrueRange, ti.ChoppinessIndex, ti.MidPoint, ti.MidPrice))
    mfi, vwma = _period_helper(vo.MoneyFlowIndex), _period_helper(vo.VolumeWeightedMovingAverage)
    obv, ad, bop, tr, heikin_ashi = (_bar_helper(c) for c in (
        vo.OnBalanceVolume, vo.AccumulationDistribution, mo.BalanceOfPower, ti.TrueRange, ti.HeikinAshi))

    def sum(self, symbol: Any, period: int, resolution: Any = None, selector: Any = None) -> ind.Indicator:
        from qcmcp.sandbox.engine.swing_indicators import Sum

        return self._register(symbol, Sum(period), resolution, selector)

    def ker(self, symbol: Any, period: int = 2, resolution: Any = None, selector: Any = None) -> ind.Indicator:
        return self._register(symbol, ti.KaufmanEfficiencyRatio(period), resolution, selector)

    def var(self, symbol: Any, period: int, resolution: Any = None, selector: Any = None, *rest: Any) -> ind.Indicator:
        if isinstance(resolution, float):  # VAR(symbol, period, confidence_level, ...): LEAN's ValueAtRisk
            refuse("ValueAtRisk (QCAlgorithm.var with a confidence level)")
        return self._register(symbol, ti.Variance(period), resolution, selector)

    def cci(self, symbol: Any, period: int, moving_average_type: Any = None, resolution: Any = None,
            selector: Any = None) -> ind.Indicator:
        if isinstance(moving_average_type, str):  # cci(symbol, period, resolution[, selector])
            moving_average_type, resolution, selector = None, moving_average_type, _selector(resolution, selector)
        return self._register(symbol, mo.CommodityChannelIndex(period, moving_average_type), resolution, selector)

    def aroon(self, symbol: Any, up_period: int, down_period: Any = None, resolution: Any = None,
              selector: Any = None) -> ind.Indicator:
        """AROON(symbol, period[, resolution]) or AROON(symbol, up_period, down_period[, resolution])."""
        if not isinstance(down_period, int):
            if down_period is not None:
                resolution, selector = down_period, _selector(resolution, selector)
            down_period = up_period
        return self._register(symbol, mo.AroonOscillator(up_period, down_period), resolution, selector)

    def dch(self, symbol: Any, upper_period: int, lower_period: Any = None, resolution: Any = None,
            selector: Any = None) -> ind.Indicator:
        """DCH(symbol, period[, resolution]) or DCH(symbol, upper_period, lower_period[, resolution])."""
        if not isinstance(lower_period, int):
            if lower_period is not None:
                resolution, selector = lower_period, _selector(resolution, selector)
            lower_period = upper_period
        return self._register(symbol, ti.DonchianChannel(upper_period, lower_period), resolution, selector)

    def kama(self, symbol: Any, period: int, fast_ema_period: Any = 2, slow_ema_period: Any = 30,
             resolution: Any = None, selector: Any = None) -> ind.Indicator:
        """KAMA(symbol, period[, resolution]) or KAMA(symbol, period, fast, slow[, resolution])."""
        if not isinstance(fast_ema_period, int):
            if fast_ema_period is not None:  # kama(symbol, period, resolution[, selector])
                resolution, selector = fast_ema_period, _selector(slow_ema_period, selector)
            fast_ema_period, slow_ema_period = 2, 30
        return self._register(symbol, ti.KaufmanAdaptiveMovingAverage(period, fast_ema_period, slow_ema_period),
                              resolution, selector)

    def t3(self, symbol: Any, period: int, volume_factor: Any = 0.7, resolution: Any = None,
           selector: Any = None) -> ind.Indicator:
        if isinstance(volume_factor, str):  # t3(symbol, period, resolution[, selector])
            volume_factor, resolution, selector = 0.7, volume_factor, _selector(resolution, selector)
        return self._register(symbol, ti.T3MovingAverage(period, volume_factor), resolution, selector)

    def kch(self, symbol: Any, period: int, k: float, moving_average_type: Any = None, resolution: Any = None,
            selector: Any = None) -> ind.Indicator:
        if isinstance(moving_average_type, str):  # kch(symbol, period, k, resolution[, selector])
            moving_average_type, resolution, selector = None, moving_average_type, _selector(resolution, selector)
        return self._register(symbol, ti.KeltnerChannels(period, k, moving_average_type), resolution, selector)

    def apo(self, symbol: Any, fast_period: int, slow_period: int, moving_average_type: Any = None,
            resolution: Any = None, selector: Any = None) -> ind.Indicator:
        return self._register(symbol, mo.AbsolutePriceOscillator(fast_period, slow_period, moving_average_type),
                              resolution, selector)

    def ppo(self, symbol: Any, fast_period: int, slow_period: int, moving_average_type: Any = None,
            resolution: Any = None, selector: Any = None) -> ind.Indicator:
        return self._register(symbol, mo.PercentagePriceOscillator(fast_period, slow_period, moving_average_type),
                              resolution, selector)

    def ao(self, symbol: Any, fast_period: int, slow_period: int, moving_average_type: Any = None,
           resolution: Any = None, selector: Any = None) -> ind.Indicator:
        return self._register(symbol, mo.AwesomeOscillator(fast_period, slow_period, moving_average_type),
                              resolution, selector)

    def adosc(self, symbol: Any, fast_period: int, slow_period: int, resolution: Any = None,
              selector: Any = None) -> ind.Indicator:
        return self._register(symbol, vo.AccumulationDistributionOscillator(fast_period, slow_period), resolution,
                              selector)

    def ultosc(self, symbol: Any, period1: int, period2: int, period3: int, resolution: Any = None,
               selector: Any = None) -> ind.Indicator:
        return self._register(symbol, mo.UltimateOscillator(period1, period2, period3), resolution, selector)

    def psar(self, symbol: Any, af_start: float = 0.02, af_increment: float = 0.02, af_max: float = 0.2,
             resolution: Any = None, selector: Any = None) -> ind.Indicator:
        return self._register(symbol, ti.ParabolicStopAndReverse(af_start, af_increment, af_max), resolution,
                              selector)

    def ichimoku(self, symbol: Any, tenkan_period: int, kijun_period: int, senkou_a_period: int,
                 senkou_b_period: int, senkou_a_delay_period: int, senkou_b_delay_period: int,
                 resolution: Any = None, selector: Any = None) -> ind.Indicator:
        return self._register(symbol, ti.IchimokuKinkoHyo(tenkan_period, kijun_period, senkou_a_period,
                                                          senkou_b_period, senkou_a_delay_period,
                                                          senkou_b_delay_period), resolution, selector)

    def vwap(self, symbol: Any, period: int | None = None, resolution: Any = None,
             selector: Any = None) -> ind.Indicator:
        """VWAP(symbol): LEAN's IntradayVwap (restarts each day); VWAP(symbol, period): over the last bars."""
        if period is None:
            return self._register(symbol, vo.IntradayVwap(), None)
        return self._register(symbol, vo.VolumeWeightedAveragePriceIndicator(period), resolution, selector)

    def register_indicator(self, symbol: Any, indicator: ind.Indicator, resolution: Any = None, selector: Any = None,
                           *_: Any) -> None:
        from qcmcp.sandbox.engine.python_indicator import as_indicator

        indicator = as_indicator(indicator)  # an object with update/value/is_ready: LEAN's PythonIndicator wrapper
        if selector is not None:
            indicator.selector = selector
        if isinstance(resolution, TradeBarConsolidator):  # fed by a consolidator's bars
            consolidator = resolution
            consolidator.data_consolidated += lambda _, bar: indicator.feed_bar(bar)
            self.subscription_manager.add_consolidator(symbol, consolidator)
            return
        if isinstance(resolution, timedelta):
            consolidator = TradeBarConsolidator(resolution)
            consolidator.data_consolidated += lambda _, bar: indicator.feed_bar(bar)
            self.subscription_manager.add_consolidator(symbol, consolidator)
            return
        self._register(symbol, indicator, resolution)

    @property
    def subscription_manager(self) -> SubscriptionManager:
        if getattr(self, "_subscription_manager", None) is None:
            self._subscription_manager = SubscriptionManager(self)
        return self._subscription_manager

    def resolve_consolidator(self, symbol: Any, resolution: Any = None, *_: Any) -> TradeBarConsolidator:
        """LEAN's ResolveConsolidator: every bar at the subscription's own resolution, else a period
        consolidator of the resolution or timedelta asked for."""
        security = self.engine.securities[self.engine.symbol_for(symbol)]
        if resolution is None or (isinstance(resolution, str) and resolution.lower() == security.resolution):
            return IdentityDataConsolidator()
        return TradeBarConsolidator(resolution)

    def identity(self, symbol: Any, resolution: Any = None, selector: Any = None, *_: Any) -> ind.Indicator:
        return self._register(symbol, ind.Identity(), resolution if isinstance(resolution, str) else None, selector)

    def set_security_initializer(self, initializer: Any) -> None:
        """A function (or an object with ``initialize``) run on every security, now and as they are added."""
        apply = getattr(initializer, "initialize", None) or getattr(initializer, "Initialize", None) or initializer
        if not callable(apply):
            refuse(f"security initializer {type(initializer).__name__}")
        self.engine.security_initializers.append(apply)
        for security in list(self.engine.securities.values()):
            apply(security)

    add_security_initializer = set_security_initializer

    def set_account_currency(self, account_currency: str, starting_cash: float | None = None) -> None:
        """LEAN's SetAccountCurrency(currency[, starting_cash]): before any security is added; the cash already
        set moves to the new currency."""
        currency = str(account_currency).upper()
        self.debug(f"Changing account currency from {self.engine.portfolio.account_currency} to {currency}"
                   + (f", with a starting cash of {starting_cash}..." if starting_cash is not None else "..."))
        self.engine.portfolio.set_account_currency(currency, None if starting_cash is None else float(starting_cash))

    @property
    def account_currency(self) -> str:
        return self.engine.portfolio.account_currency

    def set_time_zone(self, time_zone: Any) -> None:
        """LEAN's SetTimeZone, in initialize: the clock, the start and end dates and the schedules run in this
        zone (the engine checks at the start that every security's data can be converted into it)."""
        from qcmcp.sandbox.engine import clock

        if self.engine.running:
            raise RuntimeError("set_time_zone can only be called in initialize")
        clock.set_zone(time_zone)

    @property
    def time_zone(self) -> Any:
        """LEAN's QCAlgorithm.TimeZone (its IANA name)."""
        from qcmcp.sandbox.engine import clock

        return clock.zone()

    live_mode = property(lambda self: False)
    # LEAN's AlgorithmMode / DeploymentTarget for a backtest on this (local) engine
    algorithm_mode = property(lambda self: AlgorithmMode.BACKTESTING)
    deployment_target = property(lambda self: DeploymentTarget.LOCAL_PLATFORM)

    def consolidate(self, symbol: Any, period: Any, *args: Any) -> TradeBarConsolidator:
        """consolidate(symbol, timedelta | Resolution | bar count, [tick type,] handler)."""
        if isinstance(symbol, type):  # consolidate(RenkoBar, symbol, size, tick_type, handler): the typed overloads
            from qcmcp.sandbox.engine.renko import typed_consolidator

            bar_type, symbol, size, args = symbol, period, args[0], args[1:]
            consolidator, typed = typed_consolidator(bar_type, size), True
        else:
            consolidator, typed = TradeBarConsolidator(period), False
        handler = next((a for a in args if callable(a)), None)
        if handler is not None:
            consolidator.data_consolidated += lambda _, bar: handler(bar)
        if handler is not None or not typed:  # LEAN registers a typed consolidator only with a handler
            self.subscription_manager.add_consolidator(symbol, consolidator)
        return consolidator

    def warm_up_indicator(self, symbol: Any, indicator: ind.Indicator, resolution: str | None = None) -> None:
        from qcmcp.sandbox.engine.python_indicator import as_indicator

        indicator = as_indicator(indicator)
        if not getattr(indicator, "warm_up_period", 0):  # LEAN skips an indicator without a warm-up period
            return
        self.engine.warm_up_indicator(self.engine.symbol_for(symbol), indicator, resolution)


class _History:
    def __init__(self, engine: Any, typed: Any = None) -> None:
        self._engine, self._typed = engine, typed

    def __getitem__(self, data_type: Any) -> _History:
        from qcmcp.sandbox.engine.custom_data import is_custom_type

        name = getattr(data_type, "__name__", str(data_type))
        if name not in ("TradeBar", "QuoteBar") and not is_custom_type(data_type):
            refuse(f"history[{name}]")
        return _History(self._engine, data_type)

    def __call__(self, symbols: Any, *args: Any, **named: Any) -> Any:
        if isinstance(symbols, type):  # history(TradeBar, symbols, ...) or history(Dividend, ...)
            data_type, symbols, args = symbols, args[0], args[1:]
            return self[data_type](symbols, *args, **named)
        periods: Any = args[0] if args else named.get("periods", named.get("start"))
        rest = list(args[1:])
        if isinstance(periods, datetime | date):  # history(symbols, start, end, resolution)
            end = rest.pop(0) if rest and isinstance(rest[0], datetime | date) else named.get("end", self._engine.time)
            start = periods if isinstance(periods, datetime) else datetime.combine(periods, dtime())
            end = end if isinstance(end, datetime) else datetime.combine(end, dtime())
            periods = ("range", start, end)
        resolution = rest[0] if rest else named.get("resolution")
        if resolution is not None and str(resolution) in ("tick", "second") and not isinstance(periods, int):
            refuse(f"history at {resolution} resolution")
        # LEAN's History(symbols, periods | start, [end,] resolution, fill_forward, extended_market_hours, ...)
        fill_forward = rest[1] if len(rest) > 1 else named.get("fill_forward")
        extended = rest[2] if len(rest) > 2 else named.get("extended_market_hours")
        return self._engine.history(symbols, periods, resolution, typed=self._typed, fill_forward=fill_forward,
                                    extended=extended)


def _tag(asynchronous: Any, tag: str) -> tuple[bool, str]:
    """Older code passes the tag where LEAN now takes ``asynchronous``: limit_order(s, q, p, "tag")."""
    if isinstance(asynchronous, str):
        return False, asynchronous
    return bool(asynchronous), tag or ""


def _as_date(year: int | date | datetime, month: int | None, day: int | None) -> date:
    if isinstance(year, datetime):
        return year.date()
    if isinstance(year, date):
        return year
    assert month is not None and day is not None, "pass year, month and day"
    return date(year, month, day)

"""LEAN's fee and slippage models the engine accepts on a security (``security.set_fee_model(...)``,
``security.set_slippage_model(...)``), and ``SymbolCache``.

Fees: ``ConstantFeeModel(fee)`` (that fee on every order), ``InteractiveBrokersFeeModel()`` (LEAN's default for
equities), ``NullFeeModel`` / ``ConstantFeeModel(0)``, or your own ``FeeModel`` subclass whose
``get_order_fee(parameters)`` returns ``OrderFee(CashAmount(amount, "USD"))`` (``parameters.security``,
``parameters.order``). Slippage: ``ConstantSlippageModel(percent)`` (the price times the percent, against the
order), ``NullSlippageModel``, or your own with ``get_slippage_approximation(asset, order)``; applied where LEAN's
EquityFillModel applies it (market, market-on-open/close, stop market fills), not to limit fills.
"""

from __future__ import annotations

from typing import Any

from qcmcp.sandbox.engine.types import PascalAliases, Symbol


class CashAmount(PascalAliases):
    def __init__(self, amount: float, currency: str = "USD") -> None:
        self.amount, self.currency = float(amount), currency


class OrderFeeParameters(PascalAliases):
    def __init__(self, security: Any, order: Any) -> None:
        self.security, self.order = security, order


class FeeModel(PascalAliases):
    """Base of fee models: your subclass overrides ``get_order_fee(parameters)``."""

    def get_order_fee(self, parameters: OrderFeeParameters) -> Any:
        from qcmcp.sandbox.engine.types import OrderFee

        return OrderFee(0.0)


class ConstantFeeModel(FeeModel):
    def __init__(self, fee: float, currency: str = "USD") -> None:
        self.fee, self.currency = float(fee), currency

    def get_order_fee(self, parameters: OrderFeeParameters) -> Any:
        from qcmcp.sandbox.engine.types import OrderFee

        return OrderFee(self.fee)


class NullFeeModel(ConstantFeeModel):
    def __init__(self) -> None:
        super().__init__(0.0)


class InteractiveBrokersFeeModel(FeeModel):
    """The engine's built-in IB equity fee (see broker.order_fee)."""

    builtin = "ib"


class _BuiltinFeeModel(FeeModel):
    """A LEAN fee model the engine computes itself (broker.fee_cash), at LEAN's default rates."""

    builtin = ""

    def __init__(self, *rates: Any, **named: Any) -> None:
        if rates or named:
            from qcmcp.sandbox.engine.unsupported import refuse

            refuse(f"{type(self).__name__} with your own rates")

    def get_order_fee(self, parameters: OrderFeeParameters) -> Any:
        from qcmcp.sandbox.engine.broker import fee_cash
        from qcmcp.sandbox.engine.types import OrderFee

        security, order = parameters.security, parameters.order
        saved, security.fee_model = getattr(security, "fee_model", None), self.builtin
        try:
            amount, currency = fee_cash(security, order.quantity, security.price, order.type, order)
        finally:
            security.fee_model = saved
        return OrderFee(CashAmount(amount, currency))


class CoinbaseFeeModel(_BuiltinFeeModel):
    builtin = "coinbase"


class GDAXFeeModel(CoinbaseFeeModel):
    pass


class BinanceFeeModel(_BuiltinFeeModel):
    builtin = "binance"


class BybitFeeModel(_BuiltinFeeModel):
    builtin = "bybit"


class BitfinexFeeModel(_BuiltinFeeModel):
    builtin = "bitfinex"


class AxosFeeModel(_BuiltinFeeModel):
    builtin = "axos"


class AlphaStreamsFeeModel(_BuiltinFeeModel):
    builtin = "alpha_streams"


class SlippageModel(PascalAliases):
    def get_slippage_approximation(self, asset: Any, order: Any) -> float:
        return 0.0


class NullSlippageModel(SlippageModel):
    pass


class ConstantSlippageModel(SlippageModel):
    def __init__(self, slippage_percent: float) -> None:
        self.slippage_percent = float(slippage_percent)

    def get_slippage_approximation(self, asset: Any, order: Any) -> float:
        return asset.price * self.slippage_percent


def fee_of(model: Any, security: Any, order: Any) -> tuple[float, str]:
    """The fee a user-set fee model charges for ``order``, and its currency."""
    fee = model.get_order_fee(OrderFeeParameters(security, order))
    value = getattr(fee, "value", fee)
    amount = getattr(value, "amount", value)
    currency = str(getattr(value, "currency", "USD") or "USD").upper()
    return abs(float(amount)), currency


class SymbolCache(PascalAliases):
    """LEAN's SymbolCache: tickers to the symbols the algorithm created (here: ticker → Symbol)."""

    _symbols: dict[str, Symbol] = {}

    @staticmethod
    def set(ticker: str, symbol: Symbol) -> None:
        SymbolCache._symbols[str(ticker).upper()] = symbol

    @staticmethod
    def get_symbol(ticker: str) -> Symbol:
        found = SymbolCache._symbols.get(str(ticker).upper())
        if found is None:
            raise KeyError(f"no symbol for ticker {ticker!r}: add it with add_equity first")
        return found

    @staticmethod
    def try_get_symbol(ticker: str, symbol: Any = None) -> tuple[bool, Symbol | None]:
        found = SymbolCache._symbols.get(str(ticker).upper())
        return found is not None, found

    @staticmethod
    def get_ticker(symbol: Any) -> str:
        return str(symbol)

    @staticmethod
    def try_remove(key: Any) -> bool:
        return SymbolCache._symbols.pop(str(key).upper(), None) is not None

    @staticmethod
    def clear() -> None:
        SymbolCache._symbols.clear()


for _name in ("set", "get_symbol", "try_get_symbol", "get_ticker", "try_remove", "clear"):
    setattr(SymbolCache, "".join(part.capitalize() for part in _name.split("_")), getattr(SymbolCache, _name))


class BrokerageMessageType:
    INFORMATION = Information = 0
    WARNING = Warning = 1
    ERROR = Error = 2
    RECONNECT = Reconnect = 3
    DISCONNECT = Disconnect = 4
    _NAMES = {0: "Information", 1: "Warning", 2: "Error", 3: "Reconnect", 4: "Disconnect"}


class BrokerageMessageEvent(PascalAliases):
    """A brokerage model's message; printed as LEAN's ``{Type} - Code: {Code} - {Message}``."""

    def __init__(self, type: int = BrokerageMessageType.INFORMATION, code: Any = "", message: str = "") -> None:
        self.type, self.code, self.message = type, code, message

    def __str__(self) -> str:
        return f"{BrokerageMessageType._NAMES.get(int(self.type), self.type)} - Code: {self.code} - {self.message}"


class DefaultBrokerageModel(PascalAliases):
    """LEAN's DefaultBrokerageModel, to derive from: ``can_submit_order``/``can_update_order`` (True, or False
    and a BrokerageMessageEvent), ``get_benchmark(securities)`` (an object with ``evaluate(time)``; None: SPY),
    ``default_markets``; the default brokerage's fees and leverage otherwise."""

    default_markets = {1: "usa", 7: "coinbase", 4: "oanda"}

    def __init__(self, account_type: int = 0) -> None:
        self.account_type = account_type
        self.required_free_buying_power_percent = 0.0

    def can_submit_order(self, security: Any, order: Any, message: Any = None) -> Any:
        return True, None

    def can_update_order(self, security: Any, order: Any, request: Any, message: Any = None) -> Any:
        return True, None

    def can_execute_order(self, security: Any, order: Any) -> bool:
        return True

    def get_benchmark(self, securities: Any) -> Any:
        return None

    def get_settlement_model(self, security: Any) -> Any:
        """LEAN's default: delayed (T+1) for equities on a cash account, else immediate (engine/settlement.py)."""
        from qcmcp.sandbox.engine.settlement import default_settlement_model

        return default_settlement_model(security, self.account_type)


class FuncBenchmark(PascalAliases):
    """LEAN's FuncBenchmark: the benchmark's value from a function of time."""

    def __init__(self, function: Any) -> None:
        self.function = function

    def evaluate(self, time: Any) -> float:
        return float(self.function(time))


def brokerage_verdict(result: Any) -> tuple[bool, Any]:
    """A Python brokerage model's answer: a bool, or (bool, message) as LEAN's wrapper reads it."""
    if isinstance(result, tuple):
        return bool(result[0]), (result[1] if len(result) > 1 else None)
    return bool(result), None


class _UtcOrder:
    """The order as a fill model sees it: LEAN's Order.time is UTC (the engine keeps exchange time)."""

    def __init__(self, order: Any, time_zone: str) -> None:
        from qcmcp.sandbox.engine.util import Extensions

        self._order = order
        self.time = Extensions.convert_to_utc(order.time, time_zone)

    def __getattr__(self, name: str) -> Any:
        from qcmcp.sandbox.engine.types import snake_case

        return getattr(self._order, snake_case(name) if name[:1].isupper() else name)


class FillModelParameters(PascalAliases):
    def __init__(self, security: Any, order: Any) -> None:
        self.security = security
        self.order = _UtcOrder(order, security.exchange.time_zone)
        self.config_provider = None
        from datetime import timedelta

        self.stale_price_time_span = timedelta(hours=1)


class Fill(PascalAliases):
    """LEAN's Fill: the order events a fill model returns (``Fill([])``: nothing fills now)."""

    def __init__(self, events: Any = None) -> None:
        if events is None:
            self.events = []
        elif isinstance(events, list | tuple):
            self.events = list(events)
        else:
            self.events = [events]

    def __iter__(self):  # type: ignore[no-untyped-def]
        return iter(self.events)

    def __len__(self) -> int:
        return len(self.events)


class FillModel(PascalAliases):
    """LEAN's FillModel, to derive from: ``fill(parameters)`` returns a Fill; for a market order it calls
    ``market_fill(asset, order)``, whose default fills the whole remaining quantity at the engine's market price
    (the ask or bid close where quotes exist, else the last close) when the exchange is open. Your override can
    change ``fill_quantity`` / ``fill_price`` / ``status`` (partial fills: ``OrderStatus.PARTIALLY_FILLED``, the
    rest fills on later bars) or return no fill. Other order types fill as the engine's default fill model; a
    model that overrides their fills refuses clearly."""

    engine: Any = None  # the running engine (set before each call)

    def fill(self, parameters: FillModelParameters) -> Fill:
        order = parameters.order
        from qcmcp.sandbox.engine.types import OrderType

        if order.type != OrderType.MARKET:
            from qcmcp.sandbox.engine.unsupported import refuse

            refuse(f"custom fill models for {OrderType(order.type).name.lower()} orders")
        return Fill([self.market_fill(parameters.security, order)])

    def market_fill(self, asset: Any, order: Any) -> Any:
        from qcmcp.sandbox.engine.types import OrderEvent, OrderStatus

        engine = FillModel.engine
        event = OrderEvent(order, order.status, engine.time)
        if order.status == OrderStatus.CANCELED or not engine._can_fill_market(asset):
            return event
        event.fill_price = _market_fill_price(engine, asset, order)
        event.fill_quantity = order.quantity - order.filled_quantity
        event.status = OrderStatus.FILLED
        return event


def _market_fill_price(engine: Any, asset: Any, order: Any) -> float:
    """LEAN's FillModel.GetMarketFillPrice: on hour or daily data a market order resting since before the current
    bar opened (placed after the previous close, or partly filled on earlier bars) fills at the bar's open, the
    price when trading resumed; an order placed during the bar at the current price."""
    bar = asset.bar
    order_time = getattr(order, "_order", order).time  # the engine's exchange-time order time
    if bar is not None and bar.open and asset.resolution in ("hour", "daily") and order_time <= bar.time:
        return float(bar.open)
    return engine._market_price(asset, order.quantity > 0)


class ImmediateFillModel(FillModel):
    pass


class EquityFillModel(FillModel):
    pass


_FILL_METHODS = ("limit_fill", "stop_market_fill", "stop_limit_fill", "market_on_open_fill", "market_on_close_fill",
                 "limit_if_touched_fill", "trailing_stop_fill", "combo_market_fill", "combo_limit_fill",
                 "combo_leg_limit_fill")


def custom_fill_for(model: Any, order: Any) -> bool:
    """Whether ``order`` goes through the user's fill model: market orders do; another order type fills as the
    engine's default when the model changes nothing of it, and refuses clearly when it does."""
    from qcmcp.sandbox.engine.types import OrderType

    if order.type == OrderType.MARKET:
        return True
    ours = (FillModel, ImmediateFillModel, EquityFillModel, PascalAliases, object)
    own = {name for klass in type(model).__mro__ if klass not in ours for name in vars(klass)}
    if own & {"fill", *_FILL_METHODS}:
        from qcmcp.sandbox.engine.unsupported import refuse

        refuse(f"custom fill models for {OrderType(order.type).name.lower()} orders")
    return False


class SecurityDataFilter(PascalAliases):
    """LEAN's SecurityDataFilter, to derive from: ``filter(vehicle, data)`` says whether a data point reaches
    the security (the base passes everything)."""

    def filter(self, vehicle: Any, data: Any) -> bool:
        return True

"""LEAN's buying power model, as Python sees it on a security: ``security.buying_power_model`` and
``security.set_buying_power_model(model)`` with your own ``BuyingPowerModel`` subclass.

The base follows LEAN's BuyingPowerModel for a margin account: the maintenance margin of a position is its
absolute market value over the leverage (``get_maintenance_margin``), the buying power it reserves the same
(``get_reserved_buying_power_for_position``), an order has buying power when its added margin and fee fit in the
margin remaining (``has_sufficient_buying_power_for_order``), and ``get_maximum_order_quantity_for_target_buying_power``
is the engine's LEAN sizing (what ``calculate_order_quantity`` and ``set_holdings`` order). The model's leverage (1 unless
given, as LEAN's ``BuyingPowerModel()``) becomes the security's. An override decides ``calculate_order_quantity``
and whether an order is accepted; the engine does no margin calls, so a maintenance
margin override changes nothing else.
"""

from __future__ import annotations

from typing import Any

from qcmcp.sandbox.engine.buying_power import (
    MaintenanceMargin,
    MaintenanceMarginParameters,
    ReservedBuyingPowerForPosition,
)
from qcmcp.sandbox.engine.types import PascalAliases


class GetMaximumOrderQuantityResult(PascalAliases):
    def __init__(self, quantity: float, reason: str | None = None, is_error: bool | None = None) -> None:
        self.quantity, self.reason = float(quantity), reason or ""
        self.is_error = bool(self.reason) if is_error is None else bool(is_error)


class HasSufficientBuyingPowerForOrderResult(PascalAliases):
    def __init__(self, is_sufficient: bool, reason: str | None = None) -> None:
        self.is_sufficient, self.reason = bool(is_sufficient), reason or ""


class _Parameters(PascalAliases):
    def __init__(self, portfolio: Any = None, security: Any = None, **fields: Any) -> None:
        self.portfolio, self.security = portfolio, security
        for name, value in fields.items():
            setattr(self, name, value)


class GetMaximumOrderQuantityForTargetBuyingPowerParameters(_Parameters):
    def __init__(self, portfolio: Any, security: Any, target_buying_power: float,
                 minimum_order_margin_portfolio_percentage: float = 0.0, silence_non_error_reasons: bool = False) -> None:
        super().__init__(portfolio, security, target_buying_power=float(target_buying_power),
                         minimum_order_margin_portfolio_percentage=minimum_order_margin_portfolio_percentage,
                         silence_non_error_reasons=silence_non_error_reasons)


class HasSufficientBuyingPowerForOrderParameters(_Parameters):
    def __init__(self, portfolio: Any, security: Any, order: Any) -> None:
        super().__init__(portfolio, security, order=order)


class BuyingPowerModel(PascalAliases):
    """LEAN's BuyingPowerModel (margin): derive from it and override what you need; ``super()`` calls give
    LEAN's defaults."""

    engine: Any = None  # the running engine (set when the model is attached)

    def __init__(self, leverage: float = 1.0, required_free_buying_power_percent: float = 0.0) -> None:
        if leverage < 1:
            raise ValueError("Leverage must be greater than or equal to 1.")
        self._leverage = float(leverage)  # LEAN's BuyingPowerModel(): leverage 1
        self.required_free_buying_power_percent = float(required_free_buying_power_percent)

    def get_leverage(self, security: Any) -> float:
        return self._leverage

    def set_leverage(self, security: Any, leverage: float) -> None:
        self._leverage = float(leverage)
        security.leverage = float(leverage)

    def get_maintenance_margin(self, parameters: Any) -> MaintenanceMargin:
        if not isinstance(parameters, MaintenanceMarginParameters):  # LEAN's extension: a security, its holdings
            parameters = MaintenanceMarginParameters.for_current_holdings(parameters)
        return MaintenanceMargin(parameters.absolute_holdings_value / self.get_leverage(parameters.security))

    def get_reserved_buying_power_for_position(self, parameters: Any) -> ReservedBuyingPowerForPosition:
        margin = self.get_maintenance_margin(MaintenanceMarginParameters.for_current_holdings(parameters.security))
        return ReservedBuyingPowerForPosition(float(getattr(margin, "value", margin)))

    def get_initial_margin_requirement(self, parameters: Any) -> Any:
        from qcmcp.sandbox.engine.buying_power import InitialMargin

        security = parameters.security
        return InitialMargin(security.price * parameters.quantity / self.get_leverage(security))

    def has_sufficient_buying_power_for_order(self, parameters: Any) -> HasSufficientBuyingPowerForOrderResult:
        reason = BuyingPowerModel.engine._margin_reject_reason(parameters.order, parameters.security)
        return HasSufficientBuyingPowerForOrderResult(reason is None, reason)

    def get_maximum_order_quantity_for_target_buying_power(self, parameters: Any) -> GetMaximumOrderQuantityResult:
        engine = BuyingPowerModel.engine
        quantity = engine._default_quantity_for_target(parameters.security.symbol, parameters.target_buying_power)
        return GetMaximumOrderQuantityResult(quantity)

    def get_buying_power(self, parameters: Any) -> float:
        return max(BuyingPowerModel.engine.portfolio.margin_remaining, 0.0)


def attach(security: Any, model: Any) -> None:
    """``security.set_buying_power_model(model)``: LEAN's model, or one derived from it."""
    from qcmcp.sandbox.engine.buying_power import SecurityMarginModel

    if type(model) is SecurityMarginModel:  # LEAN's default model over the security's leverage
        security.custom_buying_power_model = None
        security.cash_buying_power = False  # margin, even for a currency pair in a cash account
        if model._leverage is not None:
            security.leverage = model._leverage
        return
    if not isinstance(model, BuyingPowerModel):
        from qcmcp.sandbox.engine.unsupported import refuse

        refuse(f"buying power model {type(model).__name__} (derive yours from BuyingPowerModel)")
    security.custom_buying_power_model = model
    # LEAN's Security.Leverage is its buying power model's: the model's leverage (1 unless given) from now on
    security.leverage = float(getattr(model, "_leverage", 1.0))


def _quantity(result: Any) -> float:
    return float(getattr(result, "quantity", result))


def custom_quantity(engine: Any, security: Any, target: float) -> float | None:
    """The user's model's answer to calculate_order_quantity, or None without one."""
    model = getattr(security, "custom_buying_power_model", None)
    if model is None:
        return None
    BuyingPowerModel.engine = engine
    parameters = GetMaximumOrderQuantityForTargetBuyingPowerParameters(
        engine.portfolio, security, target, engine.algorithm.settings.minimum_order_margin_portfolio_percentage)
    return _quantity(model.get_maximum_order_quantity_for_target_buying_power(parameters))


def custom_verdict(engine: Any, security: Any, order: Any) -> tuple[bool, str | None]:
    """The user's model's answer to whether ``order`` has the buying power (True, None without a model)."""
    model = getattr(security, "custom_buying_power_model", None)
    if model is None:
        return True, None
    BuyingPowerModel.engine = engine
    result = model.has_sufficient_buying_power_for_order(HasSufficientBuyingPowerForOrderParameters(
        engine.portfolio, security, order))
    sufficient = bool(getattr(result, "is_sufficient", result))
    return sufficient, None if sufficient else (getattr(result, "reason", "") or "Insufficient buying power")


class MarginInterestRateParameters(PascalAliases):
    def __init__(self, security: Any, time: Any) -> None:
        self.security, self.time = security, time


class MarginInterestRateModel(PascalAliases):
    """LEAN's IMarginInterestRateModel: ``apply_margin_interest_rate(parameters)``, once an hour (the base and
    LEAN's default for equities charge nothing)."""

    def apply_margin_interest_rate(self, parameters: MarginInterestRateParameters) -> None:
        return None


MarginInterestRateModel.NULL = MarginInterestRateModel()  # type: ignore[attr-defined]


class _AccountCash(PascalAliases):
    """The account currency's entry of LEAN's cash book, as a model reads and changes it: ``amount``,
    ``add_amount(x)``, ``set_amount(x)`` (the sandbox account holds USD)."""

    symbol, conversion_rate = "USD", 1.0

    def __init__(self, portfolio: Any) -> None:
        self._portfolio = portfolio

    amount = property(lambda self: self._portfolio.cash)

    def add_amount(self, amount: float) -> float:
        self._portfolio.cash += float(amount)
        return self._portfolio.cash

    def set_amount(self, amount: float) -> None:
        self._portfolio.cash = float(amount)


class ConvertibleCashAmount(PascalAliases):
    def __init__(self, amount: float, cash: Any) -> None:
        self.amount, self.cash = float(amount), cash

    in_account_currency = property(lambda self: self.amount * self.cash.conversion_rate)

    def __float__(self) -> float:
        return self.in_account_currency


def quantity_value(security: Any, quantity: float, price: float | None = None) -> ConvertibleCashAmount:
    """LEAN's SecurityHolding.GetQuantityValue: the market value of ``quantity`` in the quote currency (USD)."""
    price = security.price if price is None else price
    return ConvertibleCashAmount(quantity * price, _AccountCash(SecurityModelScan.engine.portfolio))


def set_margin_interest_rate_model(security: Any, model: Any) -> None:
    if not callable(getattr(model, "apply_margin_interest_rate", None)):
        from qcmcp.sandbox.engine.unsupported import refuse

        refuse(f"margin interest rate model {type(model).__name__}")
    security.margin_interest_rate_model = model


class SecurityModelScan:
    """LEAN's AlgorithmManager: once the prices of a time step are in, and at most once an hour, every security's
    margin interest rate model is applied and its settlement model scanned (before the step's orders fill and
    ``on_data``)."""

    engine: Any = None  # the running engine (one per worker process)

    def __init__(self, engine: Any) -> None:
        SecurityModelScan.engine = engine
        self.next_scan: Any = None

    def step(self, engine: Any, moment: Any) -> None:
        from datetime import timedelta

        if self.next_scan is None:
            from datetime import datetime, time

            self.next_scan = datetime.combine(engine.start, time()) + timedelta(hours=1)
        if moment < self.next_scan:
            return
        from qcmcp.sandbox.engine.settlement import ScanSettlementModelParameters

        utc = engine.algorithm.utc_time
        for security in list(engine.securities.values()):
            model = getattr(security, "margin_interest_rate_model", None)
            if model is not None:
                model.apply_margin_interest_rate(MarginInterestRateParameters(security, moment))
            security.settlement_model.scan(ScanSettlementModelParameters(engine.portfolio, security, utc))
        self.next_scan = _hour_floor(moment) + timedelta(hours=1)


def _hour_floor(moment: Any) -> Any:
    """The moment rounded down to the hour."""
    return moment.replace(minute=0, second=0, microsecond=0)


class NullShortableProvider(PascalAliases):
    """LEAN's NullShortableProvider: everything shortable (``shortable_quantity`` None), no fees or rebates.
    Derive from it for your own provider (``security.set_shortable_provider``)."""

    def fee_rate(self, symbol: Any, local_time: Any) -> float:
        return 0.0

    def rebate_rate(self, symbol: Any, local_time: Any) -> float:
        return 0.0

    def shortable_quantity(self, symbol: Any, local_time: Any) -> float | None:
        return None


class ShortableProvider:
    NULL = Null = NullShortableProvider()


def set_shortable_provider(security: Any, provider: Any) -> None:
    if not callable(getattr(provider, "shortable_quantity", None)):
        from qcmcp.sandbox.engine.unsupported import refuse

        refuse(f"shortable provider {type(provider).__name__}")
    security.custom_shortable_provider = provider


def shortable(engine: Any, symbol: Any, quantity: float, update_order_id: int | None = None) -> bool:
    """LEAN's QCAlgorithm.Shortable: whether shorting ``quantity`` more keeps the position plus the open orders'
    remaining quantity within the provider's shortable quantity (None: no limit)."""
    security = engine.securities[symbol]
    limit = security.shortable_provider.shortable_quantity(symbol, engine.time)
    if limit is None:
        return True
    open_quantity = sum(o.quantity - o.filled_quantity for o in engine.open_orders.get(symbol, [])
                        if update_order_id is None or o.id != update_order_id)
    held = security.holdings.quantity
    if held + open_quantity <= -limit:
        return False
    return held - abs(quantity) + open_quantity >= -limit


def shortable_message(engine: Any, symbol: Any, quantity: float) -> str:
    """LEAN's GetShortableErrorMessage."""
    limit = engine.securities[symbol].shortable_provider.shortable_quantity(symbol, engine.time) or 0
    return f"Order exceeds shortable quantity {int(limit)} for Symbol {symbol} requested {quantity:g})"

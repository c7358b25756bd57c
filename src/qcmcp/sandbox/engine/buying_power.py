"""LEAN's buying power model as algorithms read it: ``security.buying_power_model``.

The engine keeps a security's margin as its leverage (``security.leverage``); this is LEAN's SecurityMarginModel
over it — initial margin ``price x quantity / leverage``, maintenance margin the holdings value over the leverage,
the buying power a position reserves — and ``BuyingPowerModelExtensions``' minimum order margin check, which the
framework's execution models use.
"""

from __future__ import annotations

from typing import Any

from qcmcp.sandbox.engine.types import PascalAliases


def _conversion(security: Any) -> float:
    """The security's quote currency in the account currency (1 for the engine's USD-quoted securities)."""
    quote = getattr(security, "quote_currency", None)
    rate = getattr(quote, "conversion_rate", None) if quote is not None else None
    return float(rate) if rate else 1.0


class InitialMarginParameters(PascalAliases):
    def __init__(self, security: Any, quantity: float) -> None:
        self.security, self.quantity = security, float(quantity)


class InitialMargin(PascalAliases):
    def __init__(self, value: float) -> None:
        self.value = float(value)


class MaintenanceMarginParameters(PascalAliases):
    """LEAN's: a quantity of the security and its value; ``for_current_holdings`` the position held."""

    def __init__(self, security: Any, quantity: float, holdings_cost: float, holdings_value: float) -> None:
        self.security, self.quantity = security, float(quantity)
        self.holdings_cost, self.holdings_value = float(holdings_cost), float(holdings_value)

    absolute_holdings_value = property(lambda self: abs(self.holdings_value))
    absolute_holdings_cost = property(lambda self: abs(self.holdings_cost))

    @staticmethod
    def for_current_holdings(security: Any) -> MaintenanceMarginParameters:
        holding = security.holdings
        return MaintenanceMarginParameters(security, holding.quantity, holding.quantity * holding.average_price,
                                           holding.quantity * security.price * _conversion(security))

    @staticmethod
    def for_quantity_at_current_price(security: Any, quantity: float) -> MaintenanceMarginParameters:
        value = float(quantity) * security.price * _conversion(security)
        return MaintenanceMarginParameters(security, quantity, value, value)


class MaintenanceMargin(PascalAliases):
    def __init__(self, value: float) -> None:
        self.value = float(value)


class ReservedBuyingPowerForPositionParameters(PascalAliases):
    def __init__(self, security: Any) -> None:
        self.security = security

    def result_in_account_currency(self, reserved: float) -> ReservedBuyingPowerForPosition:
        """LEAN's ResultInAccountCurrency: the reserved buying power, as a custom model returns it."""
        return ReservedBuyingPowerForPosition(reserved)


class ReservedBuyingPowerForPosition(PascalAliases):
    def __init__(self, reserved_buying_power_for_position: float) -> None:
        self.absolute_used_buying_power = abs(float(reserved_buying_power_for_position))


class SecurityMarginModel(PascalAliases):
    """LEAN's SecurityMarginModel (equities, forex, CFDs; crypto in a cash account at 1x): margin requirements are
    one over the security's leverage. ``SecurityMarginModel(leverage)`` set on a security gives it that leverage
    (and margin, not a cash account's buying power, for a currency pair)."""

    def __init__(self, leverage: float | None = None, required_free_buying_power_percent: float = 0.0) -> None:
        if required_free_buying_power_percent:
            from qcmcp.sandbox.engine.unsupported import refuse

            refuse("SecurityMarginModel with a required free buying power percent")
        self._leverage = None if leverage is None else float(leverage)

    def get_leverage(self, security: Any) -> float:
        return float(security.leverage)

    def set_leverage(self, security: Any, leverage: float) -> None:
        security.set_leverage(leverage)

    def get_initial_margin_requirement(self, parameters: Any) -> InitialMargin:
        security = parameters.security
        return InitialMargin(security.price * parameters.quantity * _conversion(security) / security.leverage)

    def get_maintenance_margin(self, parameters: Any) -> MaintenanceMargin:
        if not isinstance(parameters, MaintenanceMarginParameters):  # LEAN's extension: a security, its holdings
            parameters = MaintenanceMarginParameters.for_current_holdings(parameters)
        return MaintenanceMargin(parameters.absolute_holdings_value / parameters.security.leverage)

    def get_reserved_buying_power_for_position(self, parameters: Any) -> ReservedBuyingPowerForPosition:
        return ReservedBuyingPowerForPosition(self.get_maintenance_margin(parameters.security).value)


class BuyingPowerModelExtensions(PascalAliases):
    @staticmethod
    def above_minimum_order_margin_portfolio_percentage(model: Any, security: Any, quantity: float, portfolio: Any,
                                                        minimum_order_margin_portfolio_percentage: float) -> bool:
        """LEAN's: whether an order's initial margin reaches the minimum share of the portfolio value (always
        when the margin remaining is not positive, so a position can still be reduced)."""
        if not minimum_order_margin_portfolio_percentage:
            return True
        margin = abs(model.get_initial_margin_requirement(InitialMarginParameters(security, quantity)).value)
        minimum = portfolio.total_portfolio_value * float(minimum_order_margin_portfolio_percentage)
        return not (minimum > margin and portfolio.margin_remaining > 0)

"""LEAN's SubscriptionDataConfig: what one subscription's data is — symbol, type, resolution, market, normalization,
extended hours, and for a mapped symbol the ticker it trades under on the day being read.

One class serves the three places LEAN hands a config out: custom types' ``get_source`` and ``reader``, the
subscription manager's configurations, and the copy constructor readers use to point LEAN's own readers at another
symbol (``SubscriptionDataConfig(config, CustomData, Symbol.create("AAPL", SecurityType.EQUITY, config.market))``).
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from qcmcp.sandbox.engine.types import DataNormalizationMode, PascalAliases, Resolution

INCREMENTS = {"daily": timedelta(days=1), "hour": timedelta(hours=1), "minute": timedelta(minutes=1),
              "second": timedelta(seconds=1)}


class SubscriptionDataConfig(PascalAliases):
    """``SubscriptionDataConfig(type, symbol, resolution, …)`` or the copy ``SubscriptionDataConfig(config,
    object_type, symbol, …)``: the fields not given are the copied config's."""

    def __init__(self, *arguments: Any, **named: Any) -> None:
        fields: dict[str, Any] = {"type": None, "symbol": None, "resolution": Resolution.MINUTE, "market": None,
                                  "fill_data_forward": True, "extended_market_hours": False, "is_custom_data": False,
                                  "tick_type": "trade", "data_normalization_mode": DataNormalizationMode.ADJUSTED,
                                  "mapped_symbol": None, "consolidators": ()}
        order = ["type", "symbol", "resolution", "data_time_zone", "exchange_time_zone", "fill_data_forward",
                 "extended_market_hours", "is_internal_feed", "is_custom_data", "tick_type"]
        if arguments and isinstance(arguments[0], SubscriptionDataConfig):
            fields.update(vars(arguments[0]))
            fields["mapped_symbol"] = None  # a copy for another symbol maps that symbol
            arguments = arguments[1:]
        given = dict(zip(order, arguments, strict=False))
        aliases = {"object_type": "type", "data_type": "type", "fill_forward": "fill_data_forward",
                   "extended_hours": "extended_market_hours", "is_custom": "is_custom_data"}
        for name, value in named.items():
            given[aliases.get(name, name)] = value
        fields.update({name: value for name, value in given.items() if value is not None and name in fields})
        if given.get("symbol") is not None and "mapped_symbol" not in given:
            fields["mapped_symbol"] = None
        fields["resolution"] = str(fields["resolution"]).lower()
        vars(self).update(fields)

    @property
    def increment(self) -> timedelta:
        return INCREMENTS.get(self.resolution, timedelta(0))

    def _mapped(self) -> str:
        mapped = vars(self).get("mapped_symbol")
        return mapped if mapped else str(getattr(self.symbol, "value", self.symbol or ""))

    mapped_symbol = property(_mapped, lambda self, value: vars(self).__setitem__("mapped_symbol", value))

    @property
    def market(self) -> str:
        given = vars(self).get("market")
        return str(given or getattr(self.symbol, "market", None) or "usa").lower()

    @market.setter
    def market(self, value: str) -> None:
        vars(self)["market"] = value

    @property
    def security_type(self) -> Any:
        return getattr(self.symbol, "security_type", None)

    @property
    def data_time_zone(self) -> Any:
        from qcmcp.sandbox.engine.util import TimeZones

        return TimeZones.NEW_YORK

    exchange_time_zone = data_time_zone

    def __repr__(self) -> str:
        return f"{self.symbol},{self.mapped_symbol},{self.resolution},{self.tick_type},{self.data_normalization_mode}"

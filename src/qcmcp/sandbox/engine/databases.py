"""LEAN's two security databases as an algorithm sees them: ``symbol_properties_database`` and
``market_hours_database``.

Reading gives the data folder's rows (else LEAN's defaults); ``set_entry`` overrides a row for the rest of the run,
and securities added afterwards use it — LEAN's way to give custom data its own properties and hours
(``add_data(Type, ticker, properties, exchange_hours)``). Hours beyond "always open" come from the folder's
market-hours database; any other entry refuses clearly.
"""

from __future__ import annotations

from typing import Any

from qcmcp.sandbox.engine.currencies import SymbolProperties, symbol_properties
from qcmcp.sandbox.engine.types import PascalAliases, SecurityType
from qcmcp.sandbox.engine.unsupported import refuse

KINDS = {int(SecurityType.BASE): "base", int(SecurityType.EQUITY): "equity", int(SecurityType.FOREX): "forex",
         int(SecurityType.CRYPTO): "crypto"}


def database_symbol_key(symbol: Any) -> str:
    """LEAN's GetDatabaseSymbolKey: the ticker a database row is filed under (empty for none)."""
    if symbol is None:
        return ""
    return str(getattr(symbol, "value", symbol)).upper()


def _kind(security_type: Any) -> str:
    kind = KINDS.get(int(security_type))
    if kind is None:
        refuse(f"the security databases for security type {int(security_type)}")
    return str(kind)


class SymbolPropertiesDatabase(PascalAliases):
    """``get_symbol_properties(market, symbol, security_type, default_quote_currency)`` and ``set_entry``."""

    def __init__(self, engine: Any) -> None:
        self._engine = engine

    get_database_symbol_key = staticmethod(database_symbol_key)

    def get_symbol_properties(self, market: str, symbol: Any, security_type: Any,
                              default_quote_currency: str = "USD") -> SymbolProperties:
        key = (str(market).lower(), database_symbol_key(symbol), _kind(security_type))
        found = self._engine.symbol_property_entries.get(key)
        if found is not None:
            return found
        if key[2] == "base" or not key[1]:
            return SymbolProperties.get_default(default_quote_currency)
        return symbol_properties(self._engine.data_folder, key[0], key[1], key[2])

    def set_entry(self, market: str, symbol: Any, security_type: Any, properties: SymbolProperties) -> bool:
        key = (str(market).lower(), database_symbol_key(symbol), _kind(security_type))
        self._engine.symbol_property_entries[key] = properties
        return True


class MarketHoursEntry(PascalAliases):
    """A market-hours database entry: ``exchange_hours`` and ``data_time_zone``."""

    def __init__(self, exchange_hours: Any, data_time_zone: Any) -> None:
        self.exchange_hours, self.data_time_zone = exchange_hours, data_time_zone


class MarketHoursDatabase(PascalAliases):
    """``get_entry``/``set_entry``/``set_entry_always_open`` for custom data's hours (always open, or the hours
    of another entry)."""

    def __init__(self, engine: Any) -> None:
        self._engine = engine

    get_database_symbol_key = staticmethod(database_symbol_key)

    def get_entry(self, market: str, symbol: Any, security_type: Any, *_: Any) -> MarketHoursEntry:
        from qcmcp.sandbox.engine.session import ExchangeHoursView

        key = (str(market).lower(), database_symbol_key(symbol), _kind(security_type))
        found = self._engine.market_hours_entries.get(key)
        if found is not None:
            return found
        if key[2] != "base":
            refuse(f"market_hours_database.get_entry for {key[2]} (the sandbox reads exchange hours itself)")
        return MarketHoursEntry(ExchangeHoursView(None), "America/New_York")

    def set_entry(self, market: str, symbol: Any, security_type: Any, exchange_hours: Any,
                  data_time_zone: Any = None) -> MarketHoursEntry:
        if _kind(security_type) != "base":
            refuse("market_hours_database.set_entry for securities other than custom data")
        from qcmcp.sandbox.engine.session import ExchangeHoursView

        if not isinstance(exchange_hours, ExchangeHoursView):
            raise TypeError("market_hours_database.set_entry needs exchange hours such as "
                            f"SecurityExchangeHours.always_open(TimeZones.NEW_YORK), not {type(exchange_hours).__name__}")
        entry = MarketHoursEntry(exchange_hours, data_time_zone or getattr(exchange_hours, "time_zone", None))
        key = (str(market).lower(), database_symbol_key(symbol), "base")
        self._engine.market_hours_entries[key] = entry
        return entry

    def set_entry_always_open(self, market: str, symbol: Any, security_type: Any, time_zone: Any) -> MarketHoursEntry:
        from qcmcp.sandbox.engine.session import ExchangeHoursView

        return self.set_entry(market, symbol, security_type, ExchangeHoursView(None), time_zone)

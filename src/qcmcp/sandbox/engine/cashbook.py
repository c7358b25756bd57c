"""LEAN's CashBook: the account's cash in each currency and the rates that value it in the account currency.

Each ``Cash`` has an amount and a currency conversion: constant (the account currency, a rate the algorithm set,
a stable coin without a pair) or through securities (LEAN's SecurityCurrencyConversion: one pair, or two
legs such as LTC→USD→ETH), whose rate is the product of their last prices. ``ensure_currency_data_feeds`` finds
those securities as LEAN's ``Cash.EnsureCurrencyDataFeed`` does — among the algorithm's crypto and forex
securities first, then among the pairs the symbol properties database lists on the brokerage's and the
algorithm's markets — and asks the engine to subscribe the ones it lacks as internal feeds.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

from qcmcp.sandbox.engine.currencies import Currencies, decompose
from qcmcp.sandbox.engine.types import PascalAliases


class ConstantCurrencyConversion(PascalAliases):
    def __init__(self, source: str, destination: str | None, rate: float) -> None:
        self.source_currency, self.destination_currency, self._rate = source, destination, float(rate)

    @property
    def conversion_rate(self) -> float:
        return self._rate

    @conversion_rate.setter
    def conversion_rate(self, value: float) -> None:
        self._rate = float(value)

    conversion_rate_securities: tuple[Any, ...] = ()


class SecurityCurrencyConversion(PascalAliases):
    """A rate through one or two securities (each possibly inverted); zero until every one has a price."""

    def __init__(self, source: str, destination: str, steps: list[tuple[Any, bool]]) -> None:
        self.source_currency, self.destination_currency, self.steps = source, destination, steps
        self._set: float | None = None  # a rate set by the algorithm, kept until the securities have prices

    @property
    def conversion_rate(self) -> float:
        rate = 1.0
        for security, inverted in self.steps:
            price = security.price
            if not price:
                return self._set or 0.0
            rate = rate / price if inverted else rate * price
        return rate

    @conversion_rate.setter
    def conversion_rate(self, value: float) -> None:
        self._set = float(value)

    @property
    def conversion_rate_securities(self) -> list[Any]:
        return [security for security, _ in self.steps]


class Cash(PascalAliases):
    def __init__(self, symbol: str, amount: float, conversion_rate: float) -> None:
        self.symbol = str(symbol).upper()
        self.amount = float(amount)
        self.currency_symbol = Currencies.get_currency_symbol(self.symbol)
        self.currency_conversion: Any = ConstantCurrencyConversion(self.symbol, None, conversion_rate)
        self._account = "USD"

    @property
    def conversion_rate(self) -> float:
        return float(self.currency_conversion.conversion_rate)

    @conversion_rate.setter
    def conversion_rate(self, value: float) -> None:
        self.currency_conversion.conversion_rate = float(value)

    @property
    def value_in_account_currency(self) -> float:
        return self.amount * self.conversion_rate

    @property
    def security_symbols(self) -> list[Any]:
        return [security.symbol for security in self.currency_conversion.conversion_rate_securities]

    def set_amount(self, amount: float) -> None:
        self.amount = float(amount)

    def add_amount(self, amount: float) -> float:
        self.amount += float(amount)
        return self.amount

    def update(self) -> None:
        return None  # rates are read from the conversion securities' latest prices

    def __str__(self) -> str:
        """As LEAN's Cash.ToString: ``BTC: ₿1.00 @ $7000.00 = $7000.00``."""
        account = Currencies.get_currency_symbol(self._account)
        rate = self.conversion_rate
        return f"{self.symbol}: {self.currency_symbol}{self.amount:,.2f} @ {account}{rate:.2f} = " \
               f"{account}{round(self.amount * rate, 2):,.2f}"

    __repr__ = __str__
    to_string = __str__


class CashBook(PascalAliases):
    """The currencies held, by code; iterates like LEAN's (key-value pairs), ``cash_book["EUR"].amount``."""

    def __init__(self) -> None:
        self._currencies: dict[str, Cash] = {}
        self._account_currency = ""
        self.account_currency = "USD"

    @property
    def account_currency(self) -> str:
        return self._account_currency

    @account_currency.setter
    def account_currency(self, value: str) -> None:
        """LEAN: the old account currency's entry goes, the new one takes its amount at rate 1."""
        amount = 0.0
        if self._account_currency and self._account_currency in self._currencies:
            amount = self._currencies.pop(self._account_currency).amount
        self._account_currency = str(value).upper()
        self._currencies[self._account_currency] = Cash(self._account_currency, amount, 1.0)
        for cash in self._currencies.values():
            cash._account = self._account_currency

    def add(self, symbol: str, quantity: Any, conversion_rate: float = 0.0) -> Cash:
        """``add(code, amount, rate)``: a new entry, or the existing one's amount and rate overwritten."""
        if isinstance(quantity, Cash):
            quantity, conversion_rate = quantity.amount, quantity.conversion_rate
        symbol = str(symbol).upper()
        if symbol == Currencies.NULL_CURRENCY:
            return None  # type: ignore[return-value]
        existing = self._currencies.get(symbol)
        if existing is not None:
            existing.conversion_rate = conversion_rate
            existing.set_amount(quantity)
            return existing
        cash = self._currencies[symbol] = Cash(symbol, quantity, conversion_rate)
        cash._account = self._account_currency
        return cash

    def ensure(self, symbol: str) -> Cash:
        """The entry of a currency a security trades in, made empty (rate 0) when missing."""
        symbol = str(symbol).upper()
        return self._currencies.get(symbol) or self.add(symbol, 0.0, 0.0)

    def __getitem__(self, symbol: str) -> Cash:
        symbol = str(symbol).upper()
        if symbol not in self._currencies:
            raise KeyError(f"This cash symbol ({symbol}) was not found in your cash book.")
        return self._currencies[symbol]

    def __setitem__(self, symbol: str, value: Cash) -> None:
        self.add(symbol, value)

    def __contains__(self, symbol: object) -> bool:
        return str(symbol).upper() in self._currencies

    def contains_key(self, symbol: str) -> bool:
        return symbol in self

    def try_get_value(self, symbol: str, *_: Any) -> tuple[bool, Cash | None]:
        found = self._currencies.get(str(symbol).upper())
        return found is not None, found

    def get(self, symbol: str, default: Any = None) -> Any:
        return self._currencies.get(str(symbol).upper(), default)

    def remove(self, symbol: str) -> bool:
        return self._currencies.pop(str(symbol).upper(), None) is not None

    def __iter__(self) -> Iterator[Any]:
        from qcmcp.sandbox.engine.types import KeyValuePair

        return iter([KeyValuePair(code, cash) for code, cash in self._currencies.items()])

    def __len__(self) -> int:
        return len(self._currencies)

    count = property(__len__)

    @property
    def keys(self) -> Any:
        from qcmcp.sandbox.engine.types import _Listing

        return _Listing(self._currencies)

    @property
    def values(self) -> Any:
        from qcmcp.sandbox.engine.types import _Listing

        return _Listing(self._currencies.values())

    def items(self) -> list[tuple[str, Cash]]:
        return list(self._currencies.items())

    @property
    def total_value_in_account_currency(self) -> float:
        return sum(cash.value_in_account_currency for cash in self._currencies.values())

    def convert(self, quantity: float, source: str, destination: str) -> float:
        if not quantity:
            return 0.0
        source_rate, destination_rate = self[source].conversion_rate, self[destination].conversion_rate
        for code, rate in ((source, source_rate), (destination, destination_rate)):
            if rate == 0:
                raise ValueError(f"The conversion rate for {code} is not available.")
        return quantity * source_rate / destination_rate

    def convert_to_account_currency(self, quantity: Any, source: str | None = None) -> Any:
        if source is None:  # a CashAmount
            from qcmcp.sandbox.engine.models import CashAmount

            return CashAmount(self.convert_to_account_currency(quantity.amount, quantity.currency),
                              self.account_currency)
        if str(source).upper() == self.account_currency:
            return quantity
        return self.convert(quantity, source, self.account_currency)

    def __str__(self) -> str:
        """As LEAN's CashBook.ToString: a table of the currencies and the total."""
        symbol = Currencies.get_currency_symbol(self.account_currency)
        lines = [f"{'Symbol':<5} {'Quantity':>15}    {'Conversion':>10} = Value in {self.account_currency}"]
        for cash in self._currencies.values():
            lines.append(f"{cash.symbol:<5}: {cash.currency_symbol}{cash.amount:>15,.2f} @ "
                         f"{cash.conversion_rate:>10.2f} = {symbol}{round(cash.value_in_account_currency, 2):,.2f}")
        lines.append(f"Total:                 {symbol}{round(self.total_value_in_account_currency, 2):,.2f}")
        return "\n".join(lines)

    to_string = __str__

    # ---- LEAN's EnsureCurrencyDataFeeds --------------------------------------------------------------------
    def ensure_currency_data_feeds(self, securities: list[Any], candidates: list[tuple[str, str, str, str]],
                                   subscribe: Callable[[str, str, str], Any], crypto_market: str | None) -> None:
        """Give every currency without a conversion its conversion: ``securities`` are the algorithm's (each with
        ``symbol``, ``market``, ``quote_currency``, a kind of crypto or forex), ``candidates`` the database's
        pairs as (ticker, kind, market, quote currency); ``subscribe(ticker, kind, market)`` adds one as an
        internal feed and returns its security; ``crypto_market`` is the brokerage's crypto market."""
        account = self.account_currency
        for cash in list(self._currencies.values()):
            conversion = cash.currency_conversion
            if isinstance(conversion, SecurityCurrencyConversion) or conversion.destination_currency is not None:
                continue
            if cash.symbol == account:
                cash.currency_conversion = ConstantCurrencyConversion(account, account, 1.0)
                continue
            if crypto_market and Currencies.is_stable_coin_without_pair(account, cash.symbol, crypto_market):
                cash.currency_conversion = ConstantCurrencyConversion(cash.symbol, account, 1.0)
                continue
            found = search(cash.symbol, account, securities, candidates, subscribe)
            if found is None:
                if conversion.conversion_rate:  # the algorithm gave a rate: keep it
                    conversion.destination_currency = account
                    continue
                cash.currency_conversion = ConstantCurrencyConversion(cash.symbol, account, 0.0)
                continue
            if conversion.conversion_rate:
                found.conversion_rate = conversion.conversion_rate  # LEAN keeps a set rate until prices arrive
            cash.currency_conversion = found


def _compare(base_a: str, quote_a: str, market: str, base_b: str, quote_b: str) -> int:
    """LEAN's CurrencyPairUtil.ComparePair: 1 exact, -1 inverse, 0 none; a stable coin without a pair on the
    market counts as the currency it is pegged to."""
    currencies = [base_a, quote_a, base_b, quote_b]
    matched = False
    for i, j in ((1, 3), (1, 2), (0, 3), (0, 2)):
        if _stable(currencies[i] + currencies[j], market) or _stable(currencies[j] + currencies[i], market):
            currencies[i] = currencies[j]
            matched = True
    a = (currencies[0], currencies[1]) if matched else (base_a, quote_a)
    if a == (base_b, quote_b):
        return 1
    if a == (quote_b, base_b):
        return -1
    return 0


def _stable(pair: str, market: str) -> bool:
    from qcmcp.sandbox.engine.currencies import _STABLE_WITHOUT_PAIRS

    return pair in _STABLE_WITHOUT_PAIRS.get(str(market).lower(), ())


def search(source: str, destination: str, securities: list[Any], candidates: list[tuple[str, str, str, str]],
           subscribe: Callable[[str, str, str], Any]) -> SecurityCurrencyConversion | None:
    """LEAN's SecurityCurrencyConversion.LinearSearch: a pair of the two currencies (the algorithm's securities
    first), else two pairs through a middle currency."""
    existing = {(s.symbol.value, s.hours.kind): s for s in securities}
    symbols: list[tuple[str, str, str, str, str]] = []  # ticker, kind, market, base, quote
    for security in securities:
        parts = decompose(security.symbol.value, security.quote_currency.symbol)
        if parts:
            symbols.append((security.symbol.value, security.hours.kind, security.market, *parts))
    for ticker, kind, market, quote in candidates:
        parts = decompose(ticker, quote)
        if parts and (ticker, kind) not in existing:
            symbols.append((ticker, kind, market, *parts))

    def step(entry: tuple[str, str, str, str, str], inverted: bool) -> tuple[Any, bool]:
        found = existing.get((entry[0], entry[1]))
        if found is None:
            found = existing[(entry[0], entry[1])] = subscribe(entry[0], entry[1], entry[2])
        return found, inverted

    for entry in symbols:
        match = _compare(entry[3], entry[4], entry[2], source, destination)
        if match:
            return SecurityCurrencyConversion(source, destination, [step(entry, match < 0)])
    for first in symbols:
        middle = first[4] if first[3] == source else first[3] if first[4] == source else None
        if middle is None:
            continue
        for second in symbols:
            match = _compare(second[3], second[4], second[2], middle, destination)
            if match:
                return SecurityCurrencyConversion(source, destination,
                                                  [step(first, source == first[4]), step(second, match < 0)])
    return None

"""Currencies: LEAN's ``Currencies`` constants and symbols, stable coins without pairs, and the symbol
properties database (quote currency, lot size, minimum order size of each crypto and forex pair).

A currency pair splits into base and quote as LEAN's CurrencyPairUtil does: a crypto pair by the quote currency
the symbol properties database gives it, a forex pair as three letters and three letters.
"""

from __future__ import annotations

import csv
import functools
from dataclasses import dataclass
from pathlib import Path

from qcmcp.sandbox.engine.types import PascalAliases

CURRENCY_SYMBOLS = {
    "USD": "$", "GBP": "₤", "JPY": "¥", "KRW": "₩", "EUR": "€", "NZD": "$", "AUD": "$", "CAD": "$", "CHF": "Fr",
    "HKD": "$", "SGD": "$", "XAG": "Ag", "XAU": "Au", "CNH": "¥", "CNY": "¥", "CZK": "Kč", "DKK": "kr", "HUF": "Ft",
    "INR": "₹", "MXN": "$", "NOK": "kr", "PLN": "zł", "SAR": "﷼", "SEK": "kr", "THB": "฿", "TRY": "₺", "TWD": "NT$",
    "ZAR": "R", "RUB": "₽", "BRL": "R$", "GNF": "Fr", "IDR": "Rp", "BTC": "₿", "BCH": "Ƀ", "BSV": "Ɓ", "LTC": "Ł",
    "ETH": "Ξ", "EOS": "ε", "XRP": "✕", "XLM": "*", "ETC": "ξ", "ZRX": "ZRX", "USDT": "₮", "ADA": "₳", "SOL": "◎",
    "DOT": "●", "DOGE": "Ð", "DAI": "◈", "ALGO": "Ⱥ", "ICP": "∞", "XMR": "ɱ", "XTZ": "ꜩ", "IOTA": "ɨ", "MIOTA": "ɨ",
    "MKR": "Μ", "ZEC": "ⓩ", "DASH": "Đ", "XNO": "Ӿ", "REP": "Ɍ", "STEEM": "ȿ", "THETA": "ϑ", "FIL": "⨎", "BAT": "⟁",
    "LSK": "Ⱡ", "NAV": "Ꞥ"}

# LEAN's Currencies.StablePairsCoinbase: pairs Coinbase charges its stable-pair fees on
STABLE_PAIRS_COINBASE = frozenset({
    "DAIUSDC", "DAIUSD", "GYENUSD", "PAXUSD", "PAXUSDT", "MUSDUSD", "USDCEUR", "USDCGBP", "USDTEUR", "USDTGBP",
    "USDTUSD", "USDTUSDC", "USTEUR", "USTUSD", "USTUSDT", "WBTCBTC"})

_DOLLAR_STABLE = ("USDT", "USDC", "USD")
_STABLE_WITHOUT_PAIRS = {
    "binance": {"USDCUSD", "USDTUSD", "USDPUSD", "SUSDUSD", "BUSDUSD", "USTUSD", "TUSDUSD", "FDUSDUSD", "DAIUSD",
                "IDRTIDR", "BNFCRUSD"},
    "bitfinex": {"EURSEUR", "XCHFCHF"},
    "coinbase": {"USDCUSD"},
    "bybit": {"USDCUSD", "USDTUSD", "USDPUSD", "SUSDUSD", "BUSDUSD", "USTUSD", "TUSDUSD", "DAIUSD"},
    "dydx": {"USDCUSD"},
}


class Currencies(PascalAliases):
    """LEAN's Currencies: the codes as constants and ``get_currency_symbol``."""

    USD, EUR, GBP, INR, IDR, CNH, CHF, HKD, JPY, KRW = "USD", "EUR", "GBP", "INR", "IDR", "CNH", "CHF", "HKD", "JPY", \
        "KRW"
    NULL_CURRENCY = "QCC"
    CURRENCY_SYMBOLS = CURRENCY_SYMBOLS
    STABLE_PAIRS_COINBASE = STABLE_PAIRS_COINBASE

    @staticmethod
    def get_currency_symbol(currency: str) -> str:
        return CURRENCY_SYMBOLS.get(str(currency or ""), str(currency or ""))

    @staticmethod
    def is_stable_coin_without_pair(account_currency: str, cash_symbol: str, market: str) -> bool:
        """LEAN's IsStableCoinWithoutPair: a stable coin worth one unit of the account currency on a market that
        lists no pair between them (USDT on Binance for a USD account)."""
        if account_currency in _DOLLAR_STABLE:
            targets = [p for x in _DOLLAR_STABLE if x != cash_symbol for p in (x + cash_symbol, cash_symbol + x)]
        else:
            targets = [account_currency + cash_symbol, cash_symbol + account_currency]
        return any(target in _STABLE_WITHOUT_PAIRS.get(str(market).lower(), ()) for target in targets)


Currencies.NullCurrency = Currencies.NULL_CURRENCY  # type: ignore[attr-defined]
Currencies.GetCurrencySymbol = Currencies.get_currency_symbol  # type: ignore[attr-defined]


@dataclass(frozen=True)
class SymbolProperties(PascalAliases):
    """One row of LEAN's symbol properties database (the fields the engine uses); ``security.symbol_properties``."""

    description: str
    quote_currency: str
    contract_multiplier: float = 1.0
    minimum_price_variation: float = 0.01
    lot_size: float = 1.0
    market_ticker: str = ""
    minimum_order_size: float | None = None
    price_magnifier: float = 1.0
    strike_multiplier: float = 1.0

    @staticmethod
    def get_default(quote_currency: str) -> SymbolProperties:
        """LEAN's SymbolProperties.GetDefault: no description, the quote currency, a cent tick, lots of one."""
        return SymbolProperties("", str(quote_currency).upper())


DEFAULT_EQUITY = SymbolProperties("", "USD")
# LEAN's SymbolProperties.GetDefault for crypto and forex: the quote currency is the symbol's last three letters
DEFAULT_PAIR_LOT = 1e-8


@functools.cache
def _database(path: str) -> dict[tuple[str, str, str], SymbolProperties]:
    rows: dict[tuple[str, str, str], SymbolProperties] = {}
    file = Path(path)
    if not file.is_file():
        return rows
    with file.open(encoding="utf-8") as handle:
        for row in csv.reader(handle):
            if len(row) < 8 or row[0].startswith("#") or row[0] == "market":
                continue

            def number(text: str, default: float | None) -> float | None:
                try:
                    return float(text) if text.strip() else default
                except ValueError:
                    return default

            rows[(row[0].lower(), row[1].upper(), row[2].lower())] = SymbolProperties(
                row[3], row[4].upper(), number(row[5], 1.0) or 1.0, number(row[6], 0.01) or 0.01,
                number(row[7], 1.0) or 1.0, row[8] if len(row) > 8 else "", number(row[9], None) if len(row) > 9 else None)
    return rows


def database(folder: Path | None) -> dict[tuple[str, str, str], SymbolProperties]:
    """The data folder's ``symbol-properties/symbol-properties-database.csv`` (empty without one)."""
    if folder is None:
        return {}
    return _database(str(Path(folder) / "symbol-properties" / "symbol-properties-database.csv"))


def symbol_properties(folder: Path | None, market: str, ticker: str, kind: str) -> SymbolProperties:
    """A security's symbol properties: the database row, else LEAN's defaults (a pair quoted in its last three
    letters, lots of one hundred-millionth for crypto, one unit for forex; equities in USD)."""
    found = database(folder).get((str(market).lower(), ticker.upper(), kind))
    if found is not None:
        return found
    if kind in ("crypto", "forex"):
        return SymbolProperties(ticker.upper(), ticker.upper()[-3:], lot_size=DEFAULT_PAIR_LOT if kind == "crypto" else 1.0)
    return DEFAULT_EQUITY


def pairs(folder: Path | None, market: str, kind: str) -> list[tuple[str, str]]:
    """The (ticker, quote currency) of every pair of ``kind`` the database lists on ``market``, in its order."""
    return [(ticker, props.quote_currency) for (mkt, ticker, k), props in database(folder).items()
            if mkt == str(market).lower() and k == kind]


def decompose(ticker: str, quote: str) -> tuple[str, str] | None:
    """Base and quote of a pair (None when the ticker does not end with the quote currency)."""
    ticker = ticker.upper()
    if quote and ticker.endswith(quote) and len(ticker) > len(quote):
        return ticker[: -len(quote)], quote
    return None

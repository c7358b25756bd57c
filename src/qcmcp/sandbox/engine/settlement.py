"""LEAN's settlement models (``Common/Securities/*SettlementModel.cs``): how a fill's cash reaches the cash book.

Every fill's cash (``-quantity × price`` in the quote currency, and a currency pair's base quantity) goes through
its security's settlement model's ``apply_funds`` (LEAN's SecurityPortfolioModel.ProcessFill); once an hour,
with the margin interest models, the engine calls every security's ``scan`` (LEAN's AlgorithmManager).

- ImmediateSettlementModel, LEAN's default: the amount joins the cash book at once.
- DelayedSettlementModel(days, time of day), the default for equities on a cash account (T+1 at 06:00): a
  sale's proceeds wait in the portfolio's unsettled cash book until the settlement moment, counted in the
  portfolio value but not in the buying power; a purchase's cost leaves the cash book at once.
- Your own model (``security.set_settlement_model(model)``, or a brokerage model's ``get_settlement_model``):
  any object with ``apply_funds(parameters)`` and ``scan(parameters)``.
"""

from __future__ import annotations

import zoneinfo
from collections import deque
from datetime import datetime, time, timedelta
from typing import Any

from qcmcp.sandbox.engine.models import CashAmount
from qcmcp.sandbox.engine.types import AccountType, PascalAliases

EQUITY_SETTLEMENT_DAYS = 1  # LEAN's Equity.DefaultSettlementDays
EQUITY_SETTLEMENT_TIME = timedelta(hours=6)  # and Equity.DefaultSettlementTime
MAX_CLOSED_DAYS = 3660  # ten years without an open day: no settlement day will come
_EXCHANGE_ZONE = zoneinfo.ZoneInfo("America/New_York")


class ApplyFundsSettlementModelParameters(PascalAliases):
    def __init__(self, portfolio: Any, security: Any, application_time_utc: datetime, cash_amount: Any,
                 fill: Any = None) -> None:
        self.portfolio, self.security, self.utc_time = portfolio, security, application_time_utc
        self.cash_amount, self.fill = cash_amount, fill


class ScanSettlementModelParameters(PascalAliases):
    def __init__(self, portfolio: Any, security: Any, time_utc: datetime) -> None:
        self.portfolio, self.security, self.utc_time = portfolio, security, time_utc


class ImmediateSettlementModel(PascalAliases):
    """The funds are settled at once."""

    def apply_funds(self, parameters: ApplyFundsSettlementModelParameters) -> None:
        amount = parameters.cash_amount
        parameters.portfolio.cash_book[amount.currency].add_amount(amount.amount)

    def scan(self, parameters: ScanSettlementModelParameters) -> None:
        return None

    def get_unsettled_cash(self) -> Any:
        return None  # LEAN's default(CashAmount)


class AccountCurrencyImmediateSettlementModel(ImmediateSettlementModel):
    """Settled at once, converted to the account currency."""

    def apply_funds(self, parameters: ApplyFundsSettlementModelParameters) -> None:
        book = parameters.portfolio.cash_book
        amount = parameters.cash_amount
        book[book.account_currency].add_amount(book.convert_to_account_currency(amount.amount, amount.currency))


class UnsettledCashAmount(PascalAliases):
    def __init__(self, settlement_time_utc: datetime, currency: str, amount: float) -> None:
        self.settlement_time_utc, self.currency, self.amount = settlement_time_utc, currency, float(amount)


class DelayedSettlementModel(PascalAliases):
    """A sale's proceeds settle ``number_of_days`` trading days later at ``time_of_day`` (exchange time)."""

    def __init__(self, number_of_days: int, time_of_day: timedelta) -> None:
        self._days, self._time_of_day = int(number_of_days), time_of_day
        self._unsettled: deque[UnsettledCashAmount] = deque()
        self._portfolio: Any = None

    def apply_funds(self, parameters: ApplyFundsSettlementModelParameters) -> None:
        amount, portfolio, security = parameters.cash_amount, parameters.portfolio, parameters.security
        self._portfolio = portfolio
        if amount.amount <= 0:  # a purchase: paid at once
            portfolio.cash_book[amount.currency].add_amount(amount.amount)
            return
        portfolio.unsettled_cash_book_entry(amount.currency).add_amount(amount.amount)
        local = parameters.utc_time.replace(tzinfo=zoneinfo.ZoneInfo("UTC")).astimezone(_EXCHANGE_ZONE)
        day, counted = local.date(), 0
        hours = security.exchange.hours
        closed = 0  # consecutive closed days: an exchange that never opens would loop for ever (LEAN's does)
        while counted < self._days:  # only days the market opens count
            day += timedelta(days=1)
            if hours.is_date_open(day):
                counted, closed = counted + 1, 0
            else:
                closed += 1
                if closed > MAX_CLOSED_DAYS:
                    raise ValueError(f"DelayedSettlementModel: {security.symbol}'s exchange has no open day in the "
                                     f"{MAX_CLOSED_DAYS} days after {day - timedelta(days=closed):%Y-%m-%d}, so "
                                     "the sale can never settle")
        settles = (datetime.combine(day, time()) + self._time_of_day).replace(tzinfo=_EXCHANGE_ZONE)
        self._unsettled.append(UnsettledCashAmount(settles.astimezone(zoneinfo.ZoneInfo("UTC")).replace(tzinfo=None),
                                                   amount.currency, amount.amount))

    def scan(self, parameters: ScanSettlementModelParameters) -> None:
        while self._unsettled and parameters.utc_time >= self._unsettled[0].settlement_time_utc:
            item = self._unsettled.popleft()
            parameters.portfolio.unsettled_cash_book_entry(item.currency).add_amount(-item.amount)
            parameters.portfolio.cash_book[item.currency].add_amount(item.amount)

    def get_unsettled_cash(self) -> Any:
        if not self._unsettled:
            return None
        book = self._portfolio.cash_book
        return CashAmount(sum(book.convert_to_account_currency(item.amount, item.currency) for item in self._unsettled),
                          book.account_currency)


def default_settlement_model(security: Any, account: int) -> Any:
    """LEAN's DefaultBrokerageModel.GetSettlementModel: delayed for equities on a cash account, else immediate."""
    if int(account) == AccountType.CASH and security.hours.kind == "equity":
        return DelayedSettlementModel(EQUITY_SETTLEMENT_DAYS, EQUITY_SETTLEMENT_TIME)
    return ImmediateSettlementModel()


def brokerage_settlement_model(brokerage: Any, security: Any, account: int) -> Any:
    """The settlement model the brokerage model gives a security (LEAN's BrokerageModelSecurityInitializer): a
    Python brokerage model's ``get_settlement_model(security)``, else LEAN's default for the account."""
    method = getattr(brokerage, "get_settlement_model", None)
    if callable(method):
        return check(method(security))
    return default_settlement_model(security, account)


def check(model: Any) -> Any:
    """``security.set_settlement_model(model)``: LEAN wraps any Python object with ``apply_funds`` and ``scan``."""
    if not callable(getattr(model, "apply_funds", None)) or not callable(getattr(model, "scan", None)):
        from qcmcp.sandbox.engine.unsupported import refuse

        refuse(f"settlement model {type(model).__name__} (it needs apply_funds and scan)")
    return model


def apply_funds(portfolio: Any, security: Any, amount: float, currency: str, utc: datetime, fill: Any = None) -> None:
    """A fill's cash through the security's settlement model."""
    parameters = ApplyFundsSettlementModelParameters(portfolio, security, utc, CashAmount(amount, currency), fill)
    security.settlement_model.apply_funds(parameters)

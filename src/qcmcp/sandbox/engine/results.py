"""A finished run as the QuantConnect API shapes it: statistics, charts, orders."""

from __future__ import annotations

from datetime import datetime, time, timezone
from typing import Any

import numpy as np

from qcmcp.sandbox.engine import statistics as stats
from qcmcp.sandbox.engine.broker import Order
from qcmcp.sandbox.engine.charts import CANDLE, ChartStore, add_default_charts, unix
from qcmcp.sandbox.engine.engine import Engine
from qcmcp.sandbox.engine.types import OrderStatus


def utc(moment: datetime | None) -> str | None:
    """Algorithm (New York) time as the API's UTC timestamp string."""
    if moment is None:
        return None
    return datetime.fromtimestamp(unix(moment), tz=timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def order_json(order: Order, algorithm_id: str) -> dict[str, Any]:
    symbol = {"value": order.symbol.value, "id": order.symbol.id, "permtick": order.symbol.value}
    events = [
        {"algorithmId": algorithm_id, "symbol": order.symbol.id, "symbolValue": order.symbol.value,
         "symbolPermtick": order.symbol.value, "orderId": order.id, "orderEventId": number,
         "id": f"{algorithm_id}-{order.id}-{number}", "status": event["status"].name.lower().replace("_", ""),
         "orderFeeAmount": event["fee"], "orderFeeCurrency": event.get("fee_currency", "USD"),
         "fillPrice": event["price"], "fillPriceCurrency": event.get("price_currency", "USD"),
         "fillQuantity": event["quantity"],
         "direction": order.direction.name.lower(), "message": event["message"], "isAssignment": False,
         "quantity": order.quantity, "time": unix(event["time"])}
        for number, event in enumerate(order.events, start=1)
    ]
    return {
        "id": order.id, "contingentId": 0, "brokerId": [], "symbol": symbol,
        "limitPrice": order.limit_price, "stopPrice": order.stop_price, "stopTriggered": order.stop_triggered,
        "price": order.fill_price, "priceCurrency": "USD",
        "time": utc(order.time), "createdTime": utc(order.time), "lastFillTime": utc(order.last_fill_time),
        "lastUpdateTime": utc(order.last_fill_time or order.canceled_time), "canceledTime": utc(order.canceled_time),
        "quantity": order.quantity, "type": int(order.type), "status": int(order.status), "tag": order.tag,
        "securityType": int(order.symbol.security_type), "direction": int(order.direction),
        "value": order.filled_quantity * order.fill_price,
        "orderSubmissionData": {"bidPrice": order.submission_price, "askPrice": order.submission_price,
                                "lastPrice": order.submission_price},
        "isMarketable": order.status == OrderStatus.FILLED,
        "properties": {"timeInForce": {"kind": order.time_in_force.kind}},
        "events": events,
    }


def insight_json(insight: Any, last_prices: dict[Any, float]) -> dict[str, Any]:
    """An insight, scored on direction once it closed (or at the last price if still open)."""
    final = insight.reference_value_final
    closed = final is not None
    final = final if closed else last_prices.get(insight.symbol, insight.reference_value)
    move = (final - insight.reference_value) * int(insight.direction)
    score = getattr(insight, "score", None)
    if score is not None and score.updated_time_utc is not None:  # scored by the algorithm's score function
        closed, direction, magnitude = score.is_final_score, score.direction, score.magnitude
        estimated = float(getattr(insight, "estimated_value", 0.0) or 0.0)
    else:
        direction = 1.0 if move > 0 or (insight.direction == 0 and final == insight.reference_value) else 0.0
        magnitude, estimated = 0.0, move
    return {
        "id": insight.id, "groupId": None, "sourceModel": insight.source_model,
        "generatedTime": unix(insight.generated_time_utc), "closeTime": unix(insight.close_time_utc),
        "symbol": insight.symbol.id, "ticker": insight.symbol.value, "type": insight.type.name.lower(),
        "reference": insight.reference_value, "referenceFinal": final,
        "direction": insight.direction.name.lower(), "period": int(insight.period.total_seconds()),
        "magnitude": insight.magnitude, "confidence": insight.confidence, "weight": insight.weight,
        "scoreFinal": closed, "scoreDirection": direction, "scoreMagnitude": magnitude,
        "estimatedValue": estimated, "tag": insight.tag,
    }


def bar_dollar_volume(engine: Engine, symbol: Any, moment: datetime) -> float:
    """The dollar volume of the bar of ``symbol`` that was current at ``moment`` (0 when unknown)."""
    import bisect

    subscription = engine.subscriptions.get(symbol)
    if subscription is None or not len(subscription.bars):
        return 0.0
    index = bisect.bisect_right(subscription.bars.end, moment) - 1
    if index < 0:
        return 0.0
    return float(subscription.bars.close[index] * subscription.bars.volume[index])


def data_source(engine: Engine) -> dict[str, Any]:
    """Where each security's prices came from and how they were normalised, as every answer states it."""
    securities = {}
    for symbol, security in engine.securities.items():
        synthetic = symbol.value in engine.synthetic
        real = "LEAN data folder (QCMCP_DATA_DIR)" if engine.data_folder else "LEAN's daily sample (shipped)"
        securities[symbol.value] = {
            "prices": "synthetic (simulated, not market history)" if synthetic else real,
            "normalization": "raw (synthetic prices need none)" if synthetic
            else str(security.data_normalization_mode).lower(),
            "resolution": security.resolution, "extendedMarketHours": bool(security.extended_market_hours)}
    return {"engine": "qcmcp sandbox (not LEAN)", "securities": securities}


def standard_charts(engine: Engine, charts: ChartStore) -> None:
    """Strategy Equity, Drawdown, Benchmark and the cloud's other default charts, from the daily samples."""
    days = [row[0] for row in engine.equity]
    curve = np.concatenate([[engine.portfolio.starting_cash], [row[4] for row in engine.equity]])
    peak = np.maximum.accumulate(curve)
    for (day, o, h, lo, c), previous, top in zip(engine.equity, curve[:-1], peak[1:], strict=True):
        moment = datetime.combine(day, time(16))
        charts.candle(moment, "Strategy Equity", "Equity", (o, h, lo, c))
        charts.plot(moment, "Strategy Equity", "Return", round((c / previous - 1) * 100, 4), unit="%")
        charts.plot(moment, "Drawdown", "Equity Drawdown", round((c / top - 1) * 100, 4), unit="%")
    for day, close in zip(days, engine.benchmark_closes, strict=True):
        if close == close:  # not NaN
            charts.plot(datetime.combine(day, time(16)), "Benchmark", "Benchmark", round(close, 4))
    for name in ("Strategy Equity", "Drawdown", "Benchmark"):
        charts.charts.setdefault(name, {})  # named from the start, as a deployment's charts are
    add_default_charts(charts, days, [row[4] for row in engine.equity], engine.positions,
                       {symbol: security.leverage for symbol, security in engine.securities.items()}, engine.fills,
                       lambda symbol, moment: bar_dollar_volume(engine, symbol, moment))
    for chart in charts.charts.values():
        for series in chart.values():
            if series["seriesType"] == CANDLE:
                series["unit"] = "$"


def merged_charts(engine: Engine) -> dict[str, Any]:
    """A deployment's charts: the standard ones computed afresh (no point twice) beside the algorithm's own."""
    standard = ChartStore()
    standard_charts(engine, standard)
    charts = engine.charts.as_api()
    for name, chart in standard.as_api().items():
        charts.setdefault(name, {**chart, "series": {}})["series"].update(chart["series"])
    return charts


def build(engine: Engine, algorithm_id: str) -> dict[str, Any]:
    """Everything a completed backtest reports, computed from ``engine``'s run."""
    if not engine.equity:
        raise RuntimeError("The backtest produced no data between its start and end dates; check set_start_date and "
                           "set_end_date, and that the symbols trade in that period.")
    days = [row[0] for row in engine.equity]
    equity = np.array([row[4] for row in engine.equity])
    starting = engine.portfolio.starting_cash
    curve = np.concatenate([[starting], equity])
    bench = np.array(engine.benchmark_closes, dtype=float)
    bench = np.concatenate([[bench[0]], bench]) if len(bench) else bench
    trades = stats.closed_trades(engine.fills, getattr(engine, "split_events", []))
    start_moment = datetime.combine(engine.start, time())
    samples = [(start_moment, starting), *engine.samples]
    portfolio = stats.portfolio_statistics([days[0], *days], curve, bench, trades, engine.traded_value, samples)
    total_orders = len(engine.orders)  # as LEAN: every order the transaction handler took, invalid ones too

    charts = engine.charts
    standard_charts(engine, charts)
    holdings = engine.portfolio.total_holdings_value
    volume = sum(abs(q * p) for _, _, q, p, _ in engine.fills)
    notes = []
    if engine.synthetic:
        notes.append(f"SYNTHETIC DATA for {', '.join(sorted(engine.synthetic))}: deterministic simulated prices, "
                     "not market history. Configure QCMCP_DATA_DIR with LEAN-format data for real prices.")
    if charts.dropped:
        notes.append(f"Chart points beyond 10,000 per series were dropped for: {', '.join(sorted(charts.dropped))}.")
    return {
        "statistics": stats.headline(portfolio, total_orders, engine.portfolio.total_fees),
        "runtimeStatistics": stats.runtime(engine.portfolio.total_portfolio_value, starting, engine.portfolio.total_fees,
                                           holdings, engine.portfolio.total_unrealized_profit, volume,
                                           portfolio["probabilisticSharpeRatio"]),
        "totalPerformance": {
            "tradeStatistics": stats.trade_statistics(trades),
            "portfolioStatistics": portfolio,
            "closedTrades": [
                {"symbol": {"value": t.symbol.value, "id": t.symbol.id, "permtick": t.symbol.value},
                 "entryTime": utc(t.entry_time), "entryPrice": t.entry_price, "direction": 0 if t.quantity > 0 else 1,
                 "quantity": abs(t.quantity), "exitTime": utc(t.exit_time), "exitPrice": t.exit_price,
                 "profitLoss": t.profit_loss, "totalFees": t.fees, "duration": str(t.exit_time - t.entry_time)}
                for t in trades
            ],
        },
        "charts": charts.as_api(),
        "orders": [order_json(order, algorithm_id) for order in engine.orders],
        "insights": [insight_json(i, {s: sec.price for s, sec in engine.securities.items()})
                     for i in engine.framework.recorded],
        "logs": engine.logs,
        "totalFees": engine.portfolio.total_fees,
        "tradeableDates": len(days),
        "backtestStart": utc(datetime.combine(days[0], time())),
        "backtestEnd": utc(datetime.combine(days[-1], time(16))),
        "synthetic": sorted(engine.synthetic),
        "dataSource": data_source(engine),
        "notes": notes,
    }


def live_snapshot(engine: Engine, status: str, algorithm_id: str) -> dict[str, Any]:
    """The state of a paper deployment: portfolio, orders, insights, logs, charts, runtime statistics."""
    portfolio = engine.portfolio
    holdings = {}
    for symbol, holding in portfolio.items():
        if holding.quantity:
            cost = abs(holding.quantity * holding.average_price)
            holdings[symbol.id] = {"a": holding.average_price, "q": holding.quantity, "p": holding.price,
                                   "v": holding.holdings_value, "u": holding.unrealized_profit,
                                   "up": holding.unrealized_profit / cost if cost else 0.0}
    volume = sum(abs(q * p) for _, _, q, p, _ in engine.fills)
    return {
        "status": status,
        "time": utc(engine.time),
        "portfolio": {"holdings": holdings, "cash": {
            code: {"symbol": code, "amount": cash.amount, "conversionRate": cash.conversion_rate,
                   "currencySymbol": cash.currency_symbol, "valueInAccountCurrency": cash.value_in_account_currency}
            for code, cash in portfolio.cash_book.items()}},
        "runtimeStatistics": stats.runtime(portfolio.total_portfolio_value, portfolio.starting_cash, portfolio.total_fees,
                                           portfolio.total_holdings_value, portfolio.total_unrealized_profit, volume, 0.0),
        "charts": merged_charts(engine),
        "orders": [order_json(order, algorithm_id) for order in engine.orders],
        "insights": [insight_json(i, {s: sec.price for s, sec in engine.securities.items()}) for i in engine.framework.recorded],
        "logs": engine.logs,
        "synthetic": sorted(engine.synthetic),
        "dataSource": data_source(engine),
    }

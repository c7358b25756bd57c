"""The separate process a backtest runs in: ``python -m qcmcp.sandbox.engine.worker``.

It reads one job (JSON) on stdin, writes ``{"progress": f}`` lines while running and a
final ``{"result": ...}`` or ``{"error": ...}`` line on stdout. The user's algorithm runs
here, never in the server process; the parent enforces the time and memory limits.
"""

from __future__ import annotations

import datetime as _datetime
import json
import math
import os
import sys
import tempfile
import traceback
import types
from pathlib import Path
from typing import Any

from qcmcp.sandbox.engine import commands, consolidators, framework, identifiers, indicators, lean_statistics, namespaces
from qcmcp.sandbox.engine import (
    buying_power,
    csharp_random,
    interest_rates,
    market_impact,
    models,
    momentum_indicators,
    optimizers,
    pairs_alphas,
    portfolio_models,
    python_indicator,
    renko,
    results,
    runtime_statistics,
    security_models,
    seeding,
    settlement,
    swing_indicators,
    targets,
    time_series_indicators,
    trend_indicators,
    util,
    volatility,
    volume_indicators,
)
from qcmcp.sandbox.engine import types as engine_types
from qcmcp.sandbox.engine.algorithm import QCAlgorithm
from qcmcp.sandbox.engine.currencies import Currencies
from qcmcp.sandbox.engine.engine import Engine
from qcmcp.sandbox.engine.live import LiveClock, launch_line
from qcmcp.sandbox.engine.schedule import DayOfWeek
from qcmcp.sandbox.engine.unsupported import UnsupportedFeature, stand_ins


def algorithm_imports() -> types.ModuleType:
    """The module ``from AlgorithmImports import *`` resolves to inside the sandbox."""
    import numpy as np
    import pandas as pd

    module = types.ModuleType("AlgorithmImports")
    exported: dict[str, Any] = {
        "QCAlgorithm": QCAlgorithm, "QCAlgorithmFramework": QCAlgorithm, "DayOfWeek": DayOfWeek,
        "np": np, "pd": pd, "math": math, "json": json, "os": os, "sys": sys,  # LEAN's AlgorithmImports has them
        "datetime": _datetime.datetime, "date": _datetime.date, "time": _datetime.time, "timedelta": _datetime.timedelta,
    }
    for source in (engine_types, indicators, framework, consolidators, renko, swing_indicators, trend_indicators,
                   momentum_indicators, volume_indicators, security_models, settlement, volatility,
                   python_indicator, seeding, runtime_statistics, csharp_random, interest_rates, util, models,
                   buying_power, targets, portfolio_models, optimizers, pairs_alphas, market_impact,
                   time_series_indicators):
        exported.update({name: value for name, value in vars(source).items()
                         if name[:1].isupper()})
    exported.update(Command=commands.Command)
    from qcmcp.sandbox.engine import chart_api, custom_data

    exported.update({name: getattr(chart_api, name) for name in (
        "Chart", "Series", "CandlestickSeries", "SeriesType", "ScatterMarkerSymbol", "Color")})

    exported.update({name: getattr(custom_data, name) for name in (
        "PythonData", "DynamicData", "SubscriptionDataSource", "SubscriptionTransportMedium", "FileFormat", "Globals",
        "LeanData")})
    from qcmcp.sandbox.engine.currencies import SymbolProperties
    from qcmcp.sandbox.engine.databases import MarketHoursDatabase, SymbolPropertiesDatabase
    from qcmcp.sandbox.engine.session import EquityExchange, SecurityExchange, SecurityExchangeHours

    exported.update(SymbolProperties=SymbolProperties, SymbolPropertiesDatabase=SymbolPropertiesDatabase,
                    MarketHoursDatabase=MarketHoursDatabase, SecurityExchangeHours=SecurityExchangeHours,
                    SecurityExchange=SecurityExchange, EquityExchange=EquityExchange)
    from qcmcp.sandbox.engine import auxiliary

    exported.update({name: getattr(auxiliary, name) for name in (
        "DefaultDataProvider", "LocalDiskMapFileProvider", "LocalDiskFactorFileProvider")})
    from qcmcp.sandbox.engine.cashbook import Cash, CashBook

    exported.update(Cash=Cash, CashBook=CashBook, Currencies=Currencies)
    from typing import Any as _Any, Dict, List, Optional, Tuple, Union

    exported.update(Any=_Any, Dict=Dict, List=List, Optional=Optional, Tuple=Tuple, Union=Union)
    # Every other LEAN name: a stand-in that says "not supported in the sandbox: <name>" where it is used.
    exported.update({name: value for name, value in stand_ins(set(exported)).items() if name not in exported})
    module.__dict__.update(exported)
    module.__all__ = sorted(exported)  # type: ignore[attr-defined]
    return module


def user_trace(error: BaseException, root: Path) -> str:
    """The stack trace restricted to the project's own files, with project-relative names."""
    frames = [f for f in traceback.extract_tb(error.__traceback__) if f.filename.startswith(str(root))]
    lines = [f'  at {f.name} in {Path(f.filename).relative_to(root)}: line {f.lineno}\n    {f.line}' for f in frames]
    return f"{type(error).__name__} : {error}\n" + "\n".join(lines)


def load_algorithm(root: Path) -> type[QCAlgorithm]:
    sys.modules["AlgorithmImports"] = imports = algorithm_imports()
    # clr, System, QuantConnect.…, Alphas.…/Portfolio.…/Selection.…/Execution.…/Risk.…
    namespaces.install({k: v for k, v in vars(imports).items() if k[:1].isupper()}, str(root))
    sys.path.insert(0, str(root))
    namespace: dict[str, Any] = {"__name__": "main", "__file__": str(root / "main.py")}
    code = compile((root / "main.py").read_text(encoding="utf-8"), str(root / "main.py"), "exec")
    exec(code, namespace)  # noqa: S102 - running the user's algorithm is this process's purpose
    candidates = [v for v in namespace.values()
                  if isinstance(v, type) and issubclass(v, QCAlgorithm) and v is not QCAlgorithm]
    if not candidates:
        raise RuntimeError("No class in main.py derives from QCAlgorithm.")
    return candidates[-1]


def startup_lines(engine: Engine, speed: float) -> list[str]:
    """What a deployment reports as it starts, as the cloud's first log lines do: account, universe, clock."""
    securities = ", ".join(str(symbol) for symbol in engine.securities) or "none yet"
    currency = engine.portfolio.account_currency
    symbol = Currencies.get_currency_symbol(currency)
    return [f"Paper brokerage account base currency: {currency}; cash {symbol}{engine.portfolio.cash:,.2f}.",
            f"Algorithm initialized with {len(engine.securities)} securities: {securities}.",
            f"Replaying the market from {engine.start:%Y-%m-%d} at {speed:g} simulated seconds per real second "
            "(a warm-up is fast-forwarded)."]


def apply_brokerage(engine: Engine, brokerage: dict[str, Any]) -> None:
    """Starting cash and holdings from the deployment's brokerage settings, as LEAN loads them from the brokerage.

    A holding's security is added (daily equities, or crypto for a pair quoted in a currency) when the algorithm
    did not subscribe to it; its quantity and average price are taken as given, and the cash stays as it is.
    """
    for cash in brokerage.get("cash") or []:
        if str(cash.get("currency", "USD")).upper() == "USD":
            engine.portfolio.set_cash(float(cash["amount"]))
    for holding in brokerage.get("holdings") or []:
        ticker = str(holding["symbol"]).upper()
        security = next((s for sym, s in engine.securities.items() if sym.value == ticker), None)
        if security is None:
            crypto = len(ticker) > 5 and ticker.endswith(("USD", "USDT", "USDC", "EUR", "BTC", "ETH"))
            add = engine.algorithm.add_crypto if crypto else engine.algorithm.add_equity
            security = engine.securities[add(ticker, "daily").symbol]
        security.holdings.quantity = float(holding["quantity"])
        security.holdings.average_price = float(holding["averagePrice"])
        if security.base_currency is not None:  # a currency pair's holding is its base currency in the cash book
            security.base_currency.add_amount(security.holdings.quantity)
        engine.log(f"Starting holding from the brokerage: {security.holdings.quantity:g} {ticker} at "
                   f"{security.holdings.average_price:g}")


def run(job: dict[str, Any], emit: Any, command_stream: Any = None) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="qcmcp-run-") as tmp:
        root = Path(tmp).resolve()
        for name, content in job["files"].items():
            path = root / name
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(content, encoding="utf-8")
        stage = "initialize"
        engine: Engine | None = None
        try:
            algorithm_class = load_algorithm(root)
            algorithm = algorithm_class()
            folder = Path(job["dataFolder"]) if job.get("dataFolder") else None
            identifiers.use_data_folder(folder)
            engine = Engine(algorithm, job.get("parameters"), folder, lambda f: emit({"progress": round(f, 4)}))
            algorithm_id = job.get("algorithmId", "sandbox")
            clock = None
            if job.get("live"):  # the clock drives the run from the start, so initialize knows it is live
                clock = LiveClock(engine, float(job.get("clockSpeed", 3600)), emit, command_stream or sys.stdin,
                                  algorithm_id)
                engine.step_hook = clock
            engine.initialize()
            if job.get("initializeOnly"):
                return {"result": {"initialized": True, "logs": engine.logs}}
            stage = "run"
            if clock is not None:
                engine.logs.insert(0, launch_line(algorithm_id))
                engine.end = _datetime.date.today()  # a deployment has no end date; it runs until stopped
                apply_brokerage(engine, job.get("brokerage") or {})
                for line in startup_lines(engine, float(job.get("clockSpeed", 3600))):
                    engine.log(line)
                engine.run()
                if not engine.stopped_by_hook:
                    clock.idle()
                return {"result": results.live_snapshot(engine, clock.outcome, algorithm_id)}
            sampler = lean_statistics.LeanSampler(engine, engine.step_hook)
            engine.step_hook = sampler  # LEAN's daily samples, taken before each time step
            engine.run()
            sampler.finish()
            return {"result": lean_statistics.apply(results.build(engine, algorithm_id), sampler, folder)}
        except (Exception, UnsupportedFeature) as error:  # noqa: BLE001 - every failure is reported, none crash
            return {"error": {
                "message": f"{'UnsupportedFeature' if isinstance(error, UnsupportedFeature) else type(error).__name__}: "
                           f"{error}" + (" (in initialize)" if stage == "initialize" else ""),
                "stacktrace": user_trace(error, root),
                "initializeError": stage == "initialize",
                "logs": engine.logs if engine else [],
            }}
        finally:
            forget(root)


def forget(root: Path) -> None:
    """Drop the project's modules and path, so a later run in this process starts clean."""
    if str(root) in sys.path:
        sys.path.remove(str(root))
    for name, module in list(sys.modules.items()):
        if str(getattr(module, "__file__", "") or "").startswith(str(root)):
            del sys.modules[name]


def limit_resources(limits: dict[str, Any]) -> None:
    """Cap memory, CPU time, open files, file size and core dumps before any user code runs (hard limits:
    the algorithm cannot raise them again)."""
    import resource

    caps = {resource.RLIMIT_CORE: 0, resource.RLIMIT_NOFILE: 256, resource.RLIMIT_FSIZE: 256 * 1024 * 1024}
    if limits.get("memoryMb"):
        caps[resource.RLIMIT_AS] = int(limits["memoryMb"]) * 1024 * 1024
    if limits.get("cpuSeconds"):
        caps[resource.RLIMIT_CPU] = max(1, math.ceil(float(limits["cpuSeconds"])))
    for kind, value in caps.items():
        resource.setrlimit(kind, (value, value))


def main() -> None:
    # The job is the first line; a live deployment keeps reading commands after it.
    job = json.loads(sys.stdin.readline())
    limit_resources(job.get("limits") or {})
    out = sys.stdout

    def emit(message: dict[str, Any]) -> None:
        out.write(json.dumps(message) + "\n")
        out.flush()

    # The algorithm's own prints must not corrupt the result stream.
    sys.stdout = sys.stderr
    emit(run(job, emit))


if __name__ == "__main__":
    main()

"""Small pieces of the sandbox that must match what QuantConnect's cloud and LEAN write, checked against LEAN's own
values (security ids, model names, command binding)."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from qcmcp.sandbox.engine import commands, identifiers
from qcmcp.sandbox.engine.framework import ConstantAlphaModel, InsightDirection, InsightType, timespan_text

LEAN_DATA = Path(__file__).resolve().parents[2] / "shared" / "lean-data"


@pytest.fixture
def lean_map_files():
    identifiers.use_data_folder(LEAN_DATA)
    yield
    identifiers.use_data_folder(None)


def test_security_ids_are_leans():
    # Ids as LEAN prints them: no map file gives the default date (day 0).
    assert identifiers.security_id("BTCUSD", 7) == "BTCUSD 2XR"  # crypto on Coinbase (market 38)
    assert identifiers.security_id("EURUSD", 4) == "EURUSD 8G"  # forex on Oanda (market 3)
    assert identifiers.security_id("XYZQ", 1) == "XYZQ 2T"  # an equity with no map file
    assert identifiers.security_id("SPY", 1) == "SPY R735QTJ8XC9X"


@pytest.mark.skipif(not LEAN_DATA.is_dir(), reason="needs ../shared/lean-data")
def test_equity_ids_come_from_the_map_files(lean_map_files):
    # The first date and first ticker of the company's map file: GOOGL's company first traded as GOOG.
    assert identifiers.security_id("AAPL", 1) == "AAPL R735QTJ8XC9X"
    assert identifiers.security_id("GOOGL", 1) == "GOOG T1AZ164W5VTX"


def test_constant_alpha_model_is_named_with_its_arguments_as_lean_names_it():
    model = ConstantAlphaModel(InsightType.PRICE, InsightDirection.UP, timedelta(30), 0.1, 0.2, 0.3)
    assert model.name == "ConstantAlphaModel(Price,Up,30.00:00:00,0.1,0.2)"  # the weight is not in LEAN's name
    assert ConstantAlphaModel(InsightType.PRICE, InsightDirection.DOWN, timedelta(minutes=20)).name == \
        "ConstantAlphaModel(Price,Down,00:20:00)"
    assert timespan_text(timedelta(days=1, seconds=1.5)) == "1.00:00:01.5000000"


def test_command_payloads_bind_as_lean_binds_them():
    class Order(commands.Command):
        ticker = None
        legs: dict = {}

    assert commands.type_name({"$type": "My.Namespace.Order, MyAssembly"}) == "Order"
    assert commands.type_name({"text": "no type"}) is None
    order = commands.build(Order, {"$type": "Order", "ticker": "SPY", "legs": {"a": 1, "b": {"c": 2}}})
    assert order.ticker == "SPY" and order.legs["a"] == 1
    assert [(kvp.key, kvp.value) for kvp in order.legs][0] == ("a", 1)  # iterating yields key/value pairs
    assert order.legs["b"]["c"] == 2 and [kvp.Key for kvp in order.legs["b"]] == ["c"]
    data = commands.CommandData({"text": "foo"})
    assert data.text == data["text"] == "foo"
    with pytest.raises(AttributeError, match="no field 'missing'"):
        _ = data.missing

"""Result text: the summary, then the answer as JSON, fitted to the size cap without breaking the JSON."""

from __future__ import annotations

import json

from qcmcp.tools.rendering import render


def parts(text: str) -> tuple[str, dict, str]:
    summary, _, rest = text.partition("\n")
    data, _, note = rest.partition("\nShortened to fit")
    return summary, json.loads(data), note


def test_a_small_answer_is_carried_whole():
    body = {"projects": [{"projectId": 1, "name": "A"}], "success": True}
    summary, data, note = parts(render("OK. 1 project.", body, 24_000))
    assert summary == "OK. 1 project." and data == body and note == ""


def test_a_large_answer_is_shortened_by_lists_and_strings_and_says_so():
    body = {"orders": [{"id": i, "symbol": "SPY", "quantity": i} for i in range(5000)],
            "logs": ["a log line " * 20] * 300, "report": "x" * 200_000, "statistics": {"Net Profit": "12%"}}
    text = render("OK. 5000 orders.", body, 24_000)
    assert len(text) <= 24_000
    _, data, note = parts(text)
    assert data["statistics"] == body["statistics"]  # small fields survive untouched
    assert data["orders"] == body["orders"][:len(data["orders"])] and 3 <= len(data["orders"]) < 5000
    assert data["report"].endswith("…") and len(data["report"]) < 200_000
    assert f"orders: the first {len(data['orders'])} of 5000 items" in note
    assert "report: cut from 200000 characters" in note and "start/end" in note


def test_nested_lists_are_named_by_their_path():
    body = {"backtest": {"charts": {"Equity": {"values": [[i, i * 1.5] for i in range(20_000)]}}}}
    _, data, note = parts(render("OK.", body, 5_000))
    shown = len(data["backtest"]["charts"]["Equity"]["values"])
    assert f"backtest.charts.Equity.values: the first {shown} of 20000 items" in note

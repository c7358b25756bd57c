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


def test_structured_results_are_capped_with_a_note_and_small_ones_left_alone():
    from qcmcp.tools.rendering import cap_structured

    small = {"orders": [{"id": 1}], "success": True}
    assert cap_structured(small, 10_000) is small
    big = {"orders": [{"id": i, "tag": "x" * 40} for i in range(20_000)], "success": True}
    capped = cap_structured(big, 50_000)
    assert len(json.dumps(capped, separators=(",", ":"))) <= 50_000 + 500
    assert capped["success"] is True and capped["orders"] == big["orders"][:len(capped["orders"])]
    assert capped["shortened"] == [f"orders: the first {len(capped['orders'])} of 20000 items"]


async def test_no_tool_answer_is_larger_than_the_caps(mcp_client, settings):
    import httpx

    huge = {"success": True, "orders": [{"id": i, "symbol": "SPY", "tag": "t" * 50} for i in range(30_000)],
            "length": 30_000}
    capped = settings.model_copy(update={"max_structured_chars": 20_000, "max_result_chars": 5_000})
    client = mcp_client(lambda request: httpx.Response(200, json=huge), settings=capped)
    async with client:
        result = await client.call_tool("read_backtest_orders", {"projectId": 1, "backtestId": "b", "start": 0,
                                                                 "end": 100})
    assert len(result.content[0].text) <= 5_000
    body = result.structured_content
    assert len(json.dumps(body)) < 25_000 and body["length"] == 30_000 and "orders: the first" in body["shortened"][0]

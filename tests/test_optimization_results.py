"""Optimization statistics by name, best first, from the API's unnamed arrays."""

from __future__ import annotations

from qcmcp.workflows.optimization_results import readable, statistic_names


def _array(**values: float) -> list[float]:
    return [values.get(name, 0.0) for name in statistic_names()]


def test_names_come_from_the_spec_and_ranking_follows_the_target():
    assert len(statistic_names()) == 21 and statistic_names()[15] == "sharpe ratio"
    result = {"optimization": {
        "optimizationId": "O-1", "criterion": {"target": "TotalPerformance.PortfolioStatistics.Drawdown",
                                               "extremum": "min"},
        "backtests": {
            "a": {"id": "a", "parameterSet": {"x": "1"}, "statistics": _array(**{"drawdown (%)": 0.3})},
            "b": {"id": "b", "parameterSet": {"x": "2"}, "statistics": _array(**{"drawdown (%)": 0.1})},
            "c": {"id": "c", "parameterSet": {"x": "3"}},  # still running: no statistics yet
        }}}
    shown = readable(result)["optimization"]
    assert list(shown)[0] == "ranked"  # first, so a shortened text keeps the best results
    assert [r["backtestId"] for r in shown["ranked"]] == ["b", "a"]  # smallest drawdown first
    assert shown["ranked"][0]["target"] == {"drawdown (%)": 0.1}
    assert shown["backtests"] == result["optimization"]["backtests"]  # the API's own fields are untouched


def test_an_array_the_spec_does_not_describe_stays_unnamed():
    result = {"optimization": {"criterion": {"target": "TotalPerformance.PortfolioStatistics.SharpeRatio"},
                               "backtests": {"a": {"statistics": [1.0, 2.0]}}}}
    assert readable(result)["optimization"]["ranked"][0]["statistics"] == {"#0": 1.0, "#1": 2.0}
    assert readable({"optimization": {"backtests": {}}}) == {"optimization": {"backtests": {}}}

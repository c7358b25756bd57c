"""LEAN's optimizing portfolio construction models, its portfolio optimizers and the pairs-trading alpha.

The optimizers and the mean-reversion step are checked against closed forms worked out here (or scipy on the
same objective); the models inside the engine against LEAN's expected statistics for its own regression
algorithms (Algorithm.CSharp's ExpectedStatistics, which LEAN's Python twins share), on LEAN's sample data.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from qcmcp.sandbox.engine.framework import Insight, InsightDirection, InsightType, PortfolioBias
from qcmcp.sandbox.engine.indicators import ConstantIndicator, Identity, IndicatorDataPoint, IndicatorExtensions
from qcmcp.sandbox.engine.optimizers import (
    MaximumSharpeRatioPortfolioOptimizer,
    MinimumVariancePortfolioOptimizer,
    RiskParityPortfolioOptimizer,
    UnconstrainedMeanVariancePortfolioOptimizer,
)
from qcmcp.sandbox.engine.pairs_alphas import PearsonCorrelationPairsTradingAlphaModel
from qcmcp.sandbox.engine.portfolio_models import (
    BlackLittermanOptimizationPortfolioConstructionModel,
    MeanReversionPortfolioConstructionModel,
    MeanVarianceOptimizationPortfolioConstructionModel,
    ReturnsSymbolData,
    returns_matrix,
    simplex_projection,
)
from tests.engine_helpers import run

DATA = Path(__file__).resolve().parent.parent.parent / "shared" / "lean-data"
RETURNS = pd.DataFrame({"A": [0.01, -0.02, 0.015, 0.003, -0.004, 0.02],
                        "B": [0.002, 0.01, -0.005, 0.004, 0.001, -0.003]})


def test_simplex_projection_is_the_euclidean_projection():
    """Duchi et al.: subtract the threshold theta that makes the positive part sum to 1."""
    assert simplex_projection([0.8, 0.6]) == pytest.approx([0.6, 0.4])  # theta = (1.4 - 1) / 2
    assert simplex_projection([1.39, -0.39]) == pytest.approx([1.0, 0.0])  # rho = 0: theta = 0.39
    assert simplex_projection([0.5, 0.3, 0.2]) == pytest.approx([0.5, 0.3, 0.2])  # already on the simplex


def test_mean_reversion_step_is_pamrs():
    """PAMR by hand: relatives x = (1.02, 0.98) from magnitudes, w = (1/2, 1/2), w.x - 1 = 0, so no step;
    then x = (1.10, 1.00): lambda = (1.05 - 1) / 0.005 = 10, w - 10 (x - mean) = (0, 1)."""
    model = MeanReversionPortfolioConstructionModel()
    up = Insight("A", timedelta(days=1), InsightType.PRICE, InsightDirection.UP, magnitude=0.02)
    down = Insight("B", timedelta(days=1), InsightType.PRICE, InsightDirection.DOWN, magnitude=0.02)
    ready = {"identity": Identity(), "sma": Identity()}
    ready["identity"].update(datetime(2020, 1, 1), 1.0)
    ready["sma"].update(datetime(2020, 1, 1), 1.0)
    model.symbol_data = {"A": ready, "B": ready}
    assert list(model.determine_target_percent([up, down]).values()) == pytest.approx([0.5, 0.5])
    up.magnitude, down.magnitude, down.direction = 0.10, 0.0, InsightDirection.FLAT
    assert list(model.determine_target_percent([up, down]).values()) == pytest.approx([0.0, 1.0])


def test_risk_parity_weights_give_equal_risk_contributions():
    weights = RiskParityPortfolioOptimizer().optimize(RETURNS)
    covariance = np.cov(RETURNS.values.T)
    contributions = weights * (covariance @ weights)
    assert weights.sum() == pytest.approx(1.0)
    assert contributions[0] == pytest.approx(contributions[1], rel=1e-8)
    # two assets: the weights are inversely proportional to the volatilities
    volatility = np.sqrt(np.diag(covariance))
    assert weights == pytest.approx((1 / volatility) / (1 / volatility).sum(), rel=1e-8)


def test_minimum_variance_with_two_assets_is_fixed_by_its_two_constraints():
    """w_A + w_B = 1 and mu.w = 2 % leave one point: w_A = (0.02 - mu_B) / (mu_A - mu_B), then |w| sums to 1."""
    returns = pd.DataFrame({"A": [0.03, 0.01, 0.02, 0.04], "B": [0.01, 0.0, 0.005, 0.005]})
    mu = returns.mean().values
    first = (0.02 - mu[1]) / (mu[0] - mu[1])
    exact = np.array([first, 1 - first])
    assert MinimumVariancePortfolioOptimizer().optimize(returns) == pytest.approx(exact / np.abs(exact).sum(),
                                                                                 abs=1e-6)


def test_maximum_sharpe_ratio_is_the_tangency_portfolio_within_the_bounds():
    """Inside [-1, 1] the best Sharpe ratio with sum 1 is inv(S) mu, rescaled to sum 1."""
    returns = pd.DataFrame({"A": [0.01, 0.03, -0.01, 0.02, 0.0], "B": [0.02, 0.01, 0.015, 0.0, 0.01]})
    tangency = np.linalg.solve(returns.cov().values, returns.mean().values)
    weights = MaximumSharpeRatioPortfolioOptimizer().optimize(returns)
    assert weights == pytest.approx(tangency / tangency.sum(), abs=1e-4)


def test_unconstrained_mean_variance_is_mu_times_the_inverse_covariance():
    covariance = RETURNS.cov().values
    a, b, c, d = covariance.ravel()
    inverse = np.array([[d, -b], [-c, a]]) / (a * d - b * c)
    assert UnconstrainedMeanVariancePortfolioOptimizer().optimize(RETURNS) == pytest.approx(
        RETURNS.mean().values @ inverse)


def test_returns_matrix_joins_by_date_and_drops_rows_with_a_gap_or_all_zero():
    first, second = ReturnsSymbolData("A", 1, 4), ReturnsSymbolData("B", 1, 4)
    days = [datetime(2021, 1, day) for day in range(4, 9)]
    for day, a, b in zip(days, [10, 11, 11, 12, 12.6], [20, 21, 21, 22, 22], strict=True):
        first.update(day, a)
        second.update(day, b)
    matrix = returns_matrix({"A": first, "B": second}, ["A", "B"])
    # newest first; the 7th (both unchanged) is dropped
    assert matrix == pytest.approx(np.array([[0.05, 0.0], [1 / 11, 1 / 21], [0.1, 0.05]]))


def test_mean_variance_weights_against_the_bias_are_zero_and_the_optimizer_sees_a_frame():
    """A long-only model keeps the optimizer's positive weights; the optimizer gets the returns as LEAN's Python
    model gives them (a DataFrame, a column per symbol) and only the arguments it takes."""
    seen = []

    class Fixed:
        def optimize(self, historical_returns):
            seen.append(list(historical_returns.columns))
            return np.array([0.7, -0.3])

    model = MeanVarianceOptimizationPortfolioConstructionModel(portfolio_bias=PortfolioBias.LONG, optimizer=Fixed())
    for symbol, closes in (("A", [10, 11, 10.5]), ("B", [20, 19, 19.5])):
        model.symbol_data[symbol] = ReturnsSymbolData(symbol, 1, 5)
        for day, close in enumerate(closes, start=4):
            model.symbol_data[symbol].update(datetime(2021, 1, day), close)
    insights = [Insight(symbol, timedelta(days=1), InsightType.PRICE, InsightDirection.UP, magnitude=0.01)
                for symbol in ("A", "B")]
    assert list(model.determine_target_percent(insights).values()) == [0.7, 0.0]
    assert seen == [["A", "B"]]


def test_a_composite_with_a_constant_updates_with_its_other_side():
    price = Identity("price")
    upper = IndicatorExtensions.times(price, ConstantIndicator[IndicatorDataPoint]("ct", 1.01))
    price.update(datetime(2021, 1, 4), 100.0)
    assert upper.is_ready and upper.current.value == pytest.approx(101.0)


def test_alpha_model_names_are_leans_and_settable():
    from qcmcp.sandbox.engine.framework import AlphaModel

    class Named(AlphaModel):
        def __init__(self) -> None:
            self.name = "Mine"

    assert Named().name == "Mine" and AlphaModel().name == "AlphaModel"
    pairs = PearsonCorrelationPairsTradingAlphaModel(252, "daily")
    assert pairs.name == "PearsonCorrelationPairsTradingAlphaModel(252,Daily,1)"


def test_pearson_pairs_pick_the_best_correlated_pair():
    model = PearsonCorrelationPairsTradingAlphaModel()
    closes = pd.DataFrame({"A": [10, 11, 10.5, 11.5, 12], "B": [20, 22.1, 21, 23, 24.2],
                           "C": [5, 4.9, 5.2, 5.0, 5.3]})
    returns = model.get_price_dataframe(closes)
    assert len(returns) == 4
    assert returns["A"].iloc[0] == pytest.approx(np.log(1.1))


def test_black_litterman_views_and_master_formula_by_hand():
    """One model's insights: Q is the larger of the up and down magnitude sums, P each signed magnitude over Q.
    A single view on the first asset, with Omega = P tau S P': its posterior return is halfway between the prior
    and the view, the second moves by tau S21 / (2 tau S11) of the gap; M = tau S - tau/2 S[:,0] S[0,:] / S11."""
    up = Insight("A", timedelta(days=1), InsightType.PRICE, InsightDirection.UP, magnitude=0.02, source_model="m")
    down = Insight("B", timedelta(days=1), InsightType.PRICE, InsightDirection.DOWN, magnitude=0.01,
                   source_model="m")
    views, view_returns = BlackLittermanOptimizationPortfolioConstructionModel.get_views([up, down])
    assert views.tolist() == [[1.0, -0.5]] and view_returns.tolist() == [[0.02]]
    model = BlackLittermanOptimizationPortfolioConstructionModel()
    covariance = pd.DataFrame([[0.04, 0.01], [0.01, 0.09]], index=["A", "B"], columns=["A", "B"])
    prior, q = np.array([0.05, 0.07]), 0.11
    posterior, after = model.apply_black_litterman_master_formula(prior, covariance, np.array([[1.0, 0.0]]),
                                                                  np.array([[q]]))
    assert posterior == pytest.approx([(0.05 + q) / 2, 0.07 + 0.01 / (2 * 0.04) * (q - 0.05)])
    s = covariance.values
    update = 0.05 * s - 0.05 / 2 * np.outer(s[:, 0], s[0, :]) / s[0, 0]
    assert after.values == pytest.approx((s + update) * 2.5)


def test_black_litterman_equilibrium_is_capm_of_an_equal_weight_market():
    model = BlackLittermanOptimizationPortfolioConstructionModel()
    prior, covariance = model.get_equilibrium_return(RETURNS)
    annual = RETURNS.cov().values * 252
    market = np.array([0.5, 0.5])
    aversion = float(np.sum(((1 + RETURNS.mean().values) ** 252 - 1) * market)) / float(market @ annual @ market)
    assert covariance.values == pytest.approx(annual)
    assert prior == pytest.approx(aversion * annual @ market)


# LEAN's BlackLitterman, MeanVariance and CustomPortfolioOptimizer algorithms select AIG, BAC, IBM and SPY (SPY
# dropped after the 8th) by a coarse selector that ignores its coarse data, which the sample folder lacks: the
# same selection from a scheduled universe at midnight gives LEAN's numbers.
SELECTED = '''from AlgorithmImports import *

class Selected(QCAlgorithm):
    def initialize(self):
        self.universe_settings.resolution = Resolution.MINUTE
        self.settings.rebalance_portfolio_on_insight_changes = {on_changes}
        self.set_start_date(2013, 10, 7)
        self.set_end_date(2013, 10, 11)
        self.set_cash(100000)
        self._symbols = [Symbol.create(x, SecurityType.EQUITY, Market.USA) for x in ['AIG', 'BAC', 'IBM', 'SPY']]
        self.set_universe_selection(ScheduledUniverseSelectionModel(self.date_rules.every_day(),
                                                                    self.time_rules.midnight, self.selector))
        self.set_alpha(HistoricalReturnsAlphaModel(resolution=Resolution.DAILY))
        self.set_portfolio_construction({model})
        self.set_execution(ImmediateExecutionModel())
        self.set_risk_management(NullRiskManagementModel())

    def selector(self, moment):
        return self._symbols[0:3 if self.time.day > 8 else len(self._symbols)]


class HalfEach:
    def optimize(self, historical_returns, expected_returns, covariance):
        return [0.5] * np.array(historical_returns).shape[1]
'''

LEAN_ALGORITHMS = {
    "BlackLittermanPortfolioOptimizationFrameworkAlgorithm": (SELECTED.format(
        on_changes="True",
        model="BlackLittermanOptimizationPortfolioConstructionModel("
              "optimizer=UnconstrainedMeanVariancePortfolioOptimizer())"),
        22, 0.739, 1.1, 46.24),
    "MeanVarianceOptimizationFrameworkAlgorithm": (SELECTED.format(
        on_changes="False", model="MeanVarianceOptimizationPortfolioConstructionModel()"), 9, 2.504, 1.8, 22.57),
    "CustomPortfolioOptimizerRegressionAlgorithm": (SELECTED.format(
        on_changes="False", model="MeanVarianceOptimizationPortfolioConstructionModel(timedelta(days=1), "
        "PortfolioBias.LONG_SHORT, 1, 63, Resolution.DAILY, 0.02, HalfEach())"), 13, 3.013, 3.3, 39.73),
    # name: (source, LEAN's orders, net profit %, drawdown %, fees)
    "MeanReversionPortfolioAlgorithm": ('''from AlgorithmImports import *
from Portfolio.MeanReversionPortfolioConstructionModel import *

class MeanReversionPortfolioAlgorithm(QCAlgorithm):
    def initialize(self):
        self.set_start_date(2020, 9, 1)
        self.set_end_date(2021, 2, 28)
        self.set_cash(100000)
        self.set_security_initializer(lambda security: security.set_market_price(self.get_last_known_price(security)))
        self._symbols = [self.add_equity(ticker, Resolution.DAILY).symbol for ticker in ["SPY", "AAPL"]]
        self.add_alpha(ConstantAlphaModel(InsightType.PRICE, InsightDirection.UP, timedelta(1)))
        self.set_portfolio_construction(MeanReversionPortfolioConstructionModel())
''', 60, 3.872, 11.9, 114.36),
    "RiskParityPortfolioAlgorithm": ('''from AlgorithmImports import *
from Portfolio.RiskParityPortfolioConstructionModel import *

class RiskParityPortfolioAlgorithm(QCAlgorithm):
    def initialize(self):
        self.set_start_date(2021, 2, 21)
        self.set_end_date(2021, 3, 30)
        self.set_cash(100000)
        self.set_security_initializer(lambda security: security.set_market_price(self.get_last_known_price(security)))
        self.add_equity("SPY", Resolution.DAILY)
        self.add_equity("AAPL", Resolution.DAILY)
        self.add_alpha(ConstantAlphaModel(InsightType.PRICE, InsightDirection.UP, timedelta(1)))
        self.set_portfolio_construction(RiskParityPortfolioConstructionModel())
''', 31, 0.510, 4.9, 31.65),
    "PearsonCorrelationPairsTradingAlphaModelFrameworkAlgorithm": ('''from AlgorithmImports import *
from Alphas.PearsonCorrelationPairsTradingAlphaModel import PearsonCorrelationPairsTradingAlphaModel

class PearsonCorrelationPairsTradingAlphaModelFrameworkAlgorithm(QCAlgorithm):
    def initialize(self):
        self.set_start_date(2013,10,7)
        self.set_end_date(2013,10,11)
        symbols = [Symbol.create(ticker, SecurityType.EQUITY, Market.USA) for ticker in ["SPY", "AIG", "BAC", "IBM"]]
        self.set_universe_selection(ManualUniverseSelectionModel(symbols[:2]))
        self.add_universe_selection(ScheduledUniverseSelectionModel(
            self.date_rules.every_day(), self.time_rules.midnight,
            lambda dt: symbols if dt.day <= (self.end_date - timedelta(1)).day else []))
        self.set_alpha(PearsonCorrelationPairsTradingAlphaModel(252, Resolution.DAILY))
        self.set_portfolio_construction(EqualWeightingPortfolioConstructionModel())
        self.set_execution(ImmediateExecutionModel())
        self.set_risk_management(NullRiskManagementModel())

    def on_end_of_algorithm(self) -> None:
        consolidator_count = sum(s.consolidators.count for s in self.subscription_manager.subscriptions)
        if consolidator_count > 0:
            raise AssertionError(f"The number of consolidator should be zero. Actual: {consolidator_count}")
''', 6, 0.295, 0.8, 31.60),
}


@pytest.mark.skipif(not DATA.is_dir(), reason="LEAN's sample data is not next to the repository")
@pytest.mark.parametrize("name", sorted(LEAN_ALGORITHMS))
def test_lean_regression_algorithms_give_leans_numbers(name):
    """The mean-reversion one also shows the first security changes' warm-up ends before the first bar (else
    that bar is counted twice in the SMA: 70 orders, not LEAN's 60)."""
    source, orders, net, drawdown, fees = LEAN_ALGORITHMS[name]
    outcome = run(source, DATA)
    assert "result" in outcome, outcome.get("error")
    statistics = outcome["result"]["statistics"]
    assert int(statistics["Total Orders"]) == orders
    assert float(statistics["Net Profit"].rstrip("%")) == pytest.approx(net, abs=0.001)
    assert float(statistics["Drawdown"].rstrip("%")) == pytest.approx(drawdown, abs=0.001)
    assert float(statistics["Total Fees"].lstrip("$")) == pytest.approx(fees, abs=0.015)

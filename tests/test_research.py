"""Research analytics: every statistic against a reference library on the same data, real-data facts on
LEAN's shipped sample, and the errors bad input gets.

References: statsmodels (coint, adfuller, coint_johansen, OLS, mackinnonp, multipletests), scikit-learn
(PCA, StandardScaler), scipy (pearsonr, spearmanr, linregress, SLSQP, linprog, special.huber) and cvxpy,
or a plain computation by hand where no library has the statistic. Tolerances sit at each method's
precision: identical arithmetic ~1e-10, interior-point solvers ~1e-5 on weights.
"""

from __future__ import annotations

import json
from contextlib import contextmanager

import numpy as np
import pandas as pd
import pytest
from scipy import optimize, special, stats
from sklearn.decomposition import PCA
from sklearn.preprocessing import StandardScaler
from statsmodels.regression.linear_model import OLS
from statsmodels.stats.multitest import multipletests
from statsmodels.tsa.adfvalues import mackinnonp
from statsmodels.tools.sm_exceptions import CollinearityWarning
from statsmodels.tsa.stattools import adfuller, coint
from statsmodels.tsa.vector_ar.vecm import coint_johansen
from threadpoolctl import threadpool_limits

from qcmcp import research
from qcmcp.marketdata import clear_cache, history
from qcmcp.research import DataUnavailable, ResearchError
from qcmcp.research.mean_reversion import half_life, hurst_lags
from qcmcp.research.optimization import hrp_weights, min_cvar_weights, min_variance_weights, risk_parity_weights
from qcmcp.research.pairs import engle_granger_pairs, mackinnon_pvalues

START, END = "2015-01-01", "2020-12-31"
UNIVERSE = ["SPY", "AAPL", "IBM", "BAC", "AIG", "WM", "QQQ", "IWM"]


@pytest.fixture(autouse=True)
def sample_data(monkeypatch, tmp_path):
    """The built-in sample, whatever QCMCP_DATA_DIR or a lean.json around says; one BLAS thread for the
    reference fits too (see qcmcp.research.threads)."""
    monkeypatch.delenv("QCMCP_DATA_DIR", raising=False)
    monkeypatch.chdir(tmp_path)
    with threadpool_limits(limits=1, user_api="blas"):
        yield


def trading_days(count: int) -> pd.DatetimeIndex:
    return pd.bdate_range("2010-01-04", periods=count, freq="B") + pd.Timedelta(hours=16)


def random_walks(count: int, columns: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return 100 + np.cumsum(rng.normal(0, 1, (count, columns)), axis=0)


def geometric_prices(returns: np.ndarray, names: list[str]) -> pd.DataFrame:
    return pd.DataFrame(100 * np.cumprod(1 + returns, axis=0), index=trading_days(len(returns)), columns=names)


def sample_returns(symbols: list[str]) -> pd.DataFrame:
    closes = history(symbols, START, END, source="sample").frame["close"].unstack(0)[symbols].dropna()
    return closes.pct_change().iloc[1:]


# Engle–Granger, vectorised, against statsmodels' coint ------------------------------------------------------


@pytest.mark.parametrize("lags", [0, 1, 3])
def test_vectorised_engle_granger_equals_statsmodels_coint_on_every_pair(lags):
    levels = random_walks(400, 10, seed=lags)
    levels[:, 1] = 0.8 * levels[:, 0] + np.random.default_rng(9).normal(0, 1.5, 400)  # one planted pair
    pairs = engle_granger_pairs(levels, lags)
    for k, (i, j) in enumerate(zip(pairs.first, pairs.second)):
        statistic, pvalue, _ = coint(levels[:, i], levels[:, j], trend="c", maxlag=lags, autolag=None)
        reverse, reverse_p, _ = coint(levels[:, j], levels[:, i], trend="c", maxlag=lags, autolag=None)
        assert pairs.statistic[k] == pytest.approx(statistic, abs=1e-9)
        assert pairs.reverse_statistic[k] == pytest.approx(reverse, abs=1e-9)
        assert pairs.pvalue[k] == pytest.approx(pvalue, abs=1e-10)
        assert pairs.reverse_pvalue[k] == pytest.approx(reverse_p, abs=1e-10)
        assert (pairs.pvalue[k] < 0.05) == (pvalue < 0.05)


def test_vectorised_engle_granger_equals_coint_on_the_sample_and_flags_collinear_pairs_as_statsmodels_does():
    closes = history(["GOOG", "GOOGL", "SPY", "AAPL", "IBM"], START, END, source="sample").frame["close"]
    levels = closes.unstack(0)[["GOOG", "GOOGL", "SPY", "AAPL", "IBM"]].to_numpy()
    pairs = engle_granger_pairs(levels, 1)
    expected = [coint(levels[:, i], levels[:, j], maxlag=1, autolag=None)[0] for i, j in zip(pairs.first, pairs.second)]
    np.testing.assert_allclose(pairs.statistic, expected, atol=1e-9)
    twins = np.column_stack([levels[:, 2], levels[:, 2] * 2 + 1e-9 * np.arange(len(levels)), levels[:, 2]])
    with pytest.warns(CollinearityWarning):
        assert coint(twins[:, 0], twins[:, 1], maxlag=1, autolag=None)[0] == -np.inf
    assert (engle_granger_pairs(twins, 1).statistic == -np.inf).all()  # the same answer, and no singular solve


def test_vectorised_mackinnon_pvalues_equal_statsmodels_mackinnonp():
    grid = np.concatenate([np.linspace(-30, 5, 1401), [-np.inf, -18.86, 0.92, -2.62]])
    np.testing.assert_allclose(mackinnon_pvalues(grid), [mackinnonp(t, "c", 2) for t in grid], atol=1e-15)


def test_pair_screen_finds_the_planted_pairs_and_its_q_values_are_benjamini_hochberg():
    rng = np.random.default_rng(7)
    levels = random_walks(500, 24, seed=11)
    planted = [(0, 1), (5, 9), (12, 20)]
    for i, j in planted:
        levels[:, j] = 1.5 * levels[:, i] + 10 + rng.normal(0, 1.0, 500)
    names = [f"S{k:02d}" for k in range(24)]
    frame = pd.DataFrame(levels, index=trading_days(500), columns=names)
    result = research.screen_cointegrated_pairs(names, prices=frame, alpha=0.05)
    found = {(row.symbol1, row.symbol2) for row in result.pairs.itertuples()}
    assert {(names[i], names[j]) for i, j in planted} <= found
    assert len(found) <= len(planted) + 1  # FDR 5%: at most a stray false discovery
    tested = result.tested
    assert result.pairs_tested == len(tested) == 24 * 23 // 2
    _, reference, _, _ = multipletests(tested["pair_pvalue"], alpha=0.05, method="fdr_bh")
    np.testing.assert_allclose(tested["qvalue"], reference, rtol=1e-12)
    assert result.pairs["qvalue"].is_monotonic_increasing
    assert (result.pairs["half_life"] < 5).all()  # N(0, 1) noise around the tie: it reverts within days
    json.dumps(result.to_dict(), allow_nan=False)


# Cointegration of one pair: GOOG/GOOGL and a negative control ---------------------------------------------


def test_goog_and_googl_2015_to_2020_are_cointegrated_with_a_short_half_life():
    result = research.test_cointegration("GOOG", "GOOGL", START, END, source="sample")
    closes = history(["GOOG", "GOOGL"], START, END, source="sample").frame["close"].unstack(0).dropna()
    goog, googl = closes["GOOG"].to_numpy(), closes["GOOGL"].to_numpy()
    assert result.cointegrated and result.eg_pvalue < 0.05 and result.eg_reverse_pvalue < 0.05
    assert result.eg_statistic == pytest.approx(coint(goog, googl, autolag="aic")[0], abs=1e-12)
    assert result.eg_reverse_pvalue == pytest.approx(coint(googl, goog, autolag="aic")[1], abs=1e-12)
    johansen = coint_johansen(np.column_stack([goog, googl]), 0, 1)
    np.testing.assert_allclose(result.johansen_trace, johansen.trace_stat, rtol=1e-12)
    np.testing.assert_allclose(result.johansen_critical_95, johansen.trace_stat_crit_vals[:, 1])
    assert result.johansen_rank == 1 and johansen.trace_stat[0] > johansen.trace_stat_crit_vals[0, 1]
    fit = OLS(goog, np.column_stack([googl, np.ones_like(googl)])).fit()
    assert result.hedge_ratio == pytest.approx(fit.params[0], rel=1e-10)
    spread = goog - fit.params[0] * googl
    ar1 = OLS(np.diff(spread), np.column_stack([np.ones(len(spread) - 1), spread[:-1]])).fit()
    assert result.half_life == pytest.approx(-np.log(2) / np.log(abs(1 + ar1.params[1])), rel=1e-8)
    assert 0 < result.half_life < 30  # trading days: a tradeable reversion
    assert result.data.source == "sample" and result.data.normalization == "adjusted"
    assert result.data.start.startswith("2015-01-02") and result.data.end.startswith("2020-12-31")
    assert "cointegrated" in result.interpretation and "GOOG" in result.interpretation


def test_spy_against_a_seeded_random_walk_is_not_cointegrated():
    spy = history("SPY", START, END, source="sample").bars("SPY")["close"]
    walk = 100 * np.exp(np.cumsum(np.random.default_rng(2024).normal(0.0003, 0.012, len(spy))))
    frame = pd.DataFrame({"SPY": spy.to_numpy(), "WALK": walk}, index=spy.index)
    result = research.test_cointegration("SPY", "WALK", prices=frame)
    assert not result.cointegrated
    assert result.eg_pvalue > 0.05 and result.eg_reverse_pvalue > 0.05
    assert result.johansen_rank == 0
    assert result.eg_pvalue == pytest.approx(coint(frame["SPY"], frame["WALK"], autolag="aic")[1], abs=1e-12)
    assert result.data.source == "caller"


def test_spy_against_its_own_lagged_returns_is_not_cointegrated():
    """The issue's negative control: a price (a unit root) and its own lagged returns (stationary) share no tie.
    Regressing the price on the returns leaves the price's unit root; the reverse regression is trivially
    stationary, so at most one direction rejects and the pair is not called cointegrated."""
    spy = history("SPY", START, END, source="sample").bars("SPY")["close"]
    lagged = spy.pct_change().shift(1)
    frame = pd.DataFrame({"SPY": spy, "LAGGED": 100 * (1 + lagged)}).dropna()
    result = research.test_cointegration("SPY", "LAGGED", prices=frame)
    assert not result.cointegrated and result.eg_pvalue > 0.05
    assert result.eg_pvalue == pytest.approx(coint(frame["SPY"], frame["LAGGED"], autolag="aic")[1], abs=1e-12)
    assert result.eg_reverse_pvalue == pytest.approx(coint(frame["LAGGED"], frame["SPY"], autolag="aic")[1],
                                                     abs=1e-12)
    assert result.interpretation.startswith(("mixed evidence", "not cointegrated")), result.interpretation


# Mean reversion -----------------------------------------------------------------------------------------------


def test_mean_reversion_statistics_equal_their_references_on_spy():
    result = research.analyze_mean_reversion("SPY", START, END, lookback_period=20, source="sample")
    close = history("SPY", START, END, source="sample").bars("SPY")["close"]
    logs = np.log(close.to_numpy())
    adf = adfuller(logs, regression="c", autolag="AIC", result_object=True)
    assert result.adf_statistic == pytest.approx(adf.statistic, abs=1e-12)
    assert result.adf_pvalue == pytest.approx(adf.pvalue, abs=1e-12) and result.adf_lags == adf.lags
    assert not result.mean_reverting  # an index's price has a unit root
    ar1 = OLS(np.diff(logs), np.column_stack([np.ones(len(logs) - 1), logs[:-1]])).fit()
    assert result.ar1_coefficient == pytest.approx(ar1.params[1], rel=1e-9)
    lags = hurst_lags(len(logs))
    spreads = [np.std(logs[lag:] - logs[:-lag]) for lag in lags]
    assert result.hurst_exponent == pytest.approx(stats.linregress(np.log(lags), np.log(spreads)).slope, abs=1e-12)
    window = close.iloc[-20:]
    assert result.zscore == pytest.approx((close.iloc[-1] - window.mean()) / window.std(ddof=1), rel=1e-10)


def test_mean_reversion_tells_an_ar1_from_a_random_walk():
    rng = np.random.default_rng(3)
    phi, count = 0.9, 2000
    noise = rng.normal(0, 0.01, count)
    reverting = np.zeros(count)
    for t in range(1, count):
        reverting[t] = phi * reverting[t - 1] + noise[t]
    frame = pd.DataFrame({"AR": 50 * np.exp(reverting), "RW": 50 * np.exp(np.cumsum(noise))}, index=trading_days(count))
    ar = research.analyze_mean_reversion("AR", prices=frame)
    walk = research.analyze_mean_reversion("RW", prices=frame)
    assert ar.mean_reverting and ar.adf_pvalue < 0.01
    assert ar.half_life == pytest.approx(-np.log(2) / np.log(phi), rel=0.25)  # 6.6 bars in theory
    assert ar.hurst_exponent < 0.3
    assert not walk.mean_reverting and 0.4 < walk.hurst_exponent < 0.6
    assert half_life(np.cumsum(np.ones(10)))[0] == np.inf  # no pull back: no half-life


# Correlation and PCA ------------------------------------------------------------------------------------------


def test_correlation_matrix_equals_scipy_pearson_and_spearman():
    returns = sample_returns(UNIVERSE[:5])
    pearson = research.calculate_correlation_matrix(UNIVERSE[:5], START, END, source="sample")
    spearman = research.calculate_correlation_matrix(UNIVERSE[:5], START, END, method="spearman", source="sample")
    for a in UNIVERSE[:5]:
        for b in UNIVERSE[:5]:
            assert pearson.matrix.loc[a, b] == pytest.approx(stats.pearsonr(returns[a], returns[b])[0], abs=1e-12)
            assert spearman.matrix.loc[a, b] == pytest.approx(stats.spearmanr(returns[a], returns[b])[0], abs=1e-12)
    off = pearson.matrix.to_numpy()[np.triu_indices(5, 1)]
    assert pearson.average_correlation == pytest.approx(off.mean(), abs=1e-12)
    assert pearson.highest_pair[2] == pytest.approx(off.max()) and pearson.observations == len(returns)


def test_pca_equals_sklearn_on_standardised_returns():
    returns = sample_returns(UNIVERSE)
    result = research.perform_pca_analysis(UNIVERSE, START, END, n_components=3, source="sample")
    reference = PCA(n_components=3).fit(StandardScaler().fit_transform(returns))
    np.testing.assert_allclose(result.explained_variance_ratio, reference.explained_variance_ratio_, atol=1e-12)
    np.testing.assert_allclose(np.abs(result.loadings.to_numpy()), np.abs(reference.components_), atol=1e-9)
    assert (result.loadings.sum(axis=1) > 0).all()  # the sign convention
    everything = PCA().fit(StandardScaler().fit_transform(returns)).explained_variance_ratio_
    assert result.components_for_90_percent == int(np.argmax(np.cumsum(everything) >= 0.9)) + 1
    assert result.explained_variance_ratio[0] > 0.5  # US equities 2015–2020: a market factor dominates


# Portfolio performance ----------------------------------------------------------------------------------------


def test_portfolio_metrics_equal_a_hand_computation():
    symbols, weights = ["AAPL", "IBM", "BAC"], [0.5, 0.3, 0.2]
    result = research.calculate_portfolio_performance(symbols, weights, START, END, benchmark="SPY",
                                                      risk_free_rate=0.02, source="sample")
    returns = sample_returns(symbols + ["SPY"])
    portfolio, bench = returns[symbols].to_numpy() @ np.array(weights), returns["SPY"].to_numpy()
    free = 0.02 / 252
    m = result.metrics
    wealth = np.cumprod(1 + portfolio)
    assert m.total_return == pytest.approx(wealth[-1] - 1, rel=1e-12)
    assert m.annual_return == pytest.approx(wealth[-1] ** (252 / len(portfolio)) - 1, rel=1e-12)
    assert m.annual_volatility == pytest.approx(portfolio.std(ddof=1) * np.sqrt(252), rel=1e-12)
    assert m.sharpe_ratio == pytest.approx((portfolio.mean() - free) / portfolio.std(ddof=1) * np.sqrt(252), rel=1e-12)
    downside = np.sqrt(np.mean(np.minimum(portfolio - free, 0) ** 2))
    assert m.sortino_ratio == pytest.approx((portfolio.mean() - free) / downside * np.sqrt(252), rel=1e-12)
    peak, worst = 1.0, 0.0
    for value in wealth:
        peak = max(peak, value)
        worst = min(worst, value / peak - 1)
    assert m.max_drawdown == pytest.approx(worst, rel=1e-12)
    assert m.calmar_ratio == pytest.approx(m.annual_return / abs(worst), rel=1e-12)
    fit = stats.linregress(bench, portfolio)
    assert m.beta == pytest.approx(fit.slope, rel=1e-10)
    assert m.alpha == pytest.approx(252 * (portfolio.mean() - free - fit.slope * (bench.mean() - free)), rel=1e-9)
    assert m.correlation == pytest.approx(fit.rvalue, rel=1e-10)
    assert "risk-free rate 0.02" in result.method


def test_monthly_rebalancing_equals_a_day_by_day_simulation():
    symbols = ["AAPL", "IBM", "WM"]
    result = research.optimize_equal_weight_portfolio(symbols, "2019-01-01", "2020-12-31", benchmark=None,
                                                      rebalance_frequency="monthly", source="sample")
    closes = history(symbols, "2019-01-01", "2020-12-31", source="sample").frame["close"].unstack(0)[symbols]
    returns = closes.pct_change().iloc[1:]
    holdings, value, month = np.full(3, 1 / 3), 1.0, None
    for day, row in returns.iterrows():
        if month is not None and day.month != month:
            holdings = value * np.full(3, 1 / 3)  # reset at the previous month's last close
        month = day.month
        holdings = holdings * (1 + row.to_numpy())
        value = holdings.sum()
    assert result.metrics.total_return == pytest.approx(value - 1, rel=1e-10)
    assert result.weights == pytest.approx(dict.fromkeys(symbols, 1 / 3))


# Optimisation -------------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def covariance_and_returns():
    clear_cache()
    returns = sample_returns(["AAPL", "IBM", "BAC", "AIG", "WM", "QQQ"])
    return np.cov(returns.to_numpy(), rowvar=False) * 252, returns


def slsqp(objective, count, bounds, extra=()):
    constraints = [{"type": "eq", "fun": lambda w: w.sum() - 1}, *extra]
    found = optimize.minimize(objective, np.full(count, 1 / count), method="SLSQP", bounds=bounds,
                              constraints=constraints, options={"ftol": 1e-14, "maxiter": 1000})
    assert found.success
    return found.x


def test_min_variance_equals_scipy_and_the_closed_form(covariance_and_returns):
    covariance, _ = covariance_and_returns
    count = len(covariance)
    long_only = min_variance_weights(covariance, True, None)
    expected = slsqp(lambda w: w @ covariance @ w, count, [(0, 1)] * count)
    np.testing.assert_allclose(long_only, expected, atol=1e-5)
    capped = min_variance_weights(covariance, True, 0.3)
    np.testing.assert_allclose(capped, slsqp(lambda w: w @ covariance @ w, count, [(0, 0.3)] * count), atol=1e-5)
    assert capped.max() <= 0.3 + 1e-7
    inverse = np.linalg.solve(covariance, np.ones(count))
    np.testing.assert_allclose(min_variance_weights(covariance, False, None), inverse / inverse.sum(), atol=1e-6)


def test_max_sharpe_equals_scipy(covariance_and_returns):
    covariance, returns = covariance_and_returns
    symbols = list(returns.columns)
    result = research.optimize_portfolio(symbols, START, END, method="max_sharpe", risk_free_rate=0.01,
                                         source="sample")
    mean = returns.mean().to_numpy() * 252
    weights = np.array([result.weights[name] for name in symbols])

    def negative_sharpe(w):
        return -(mean @ w - 0.01) / np.sqrt(w @ covariance @ w)

    expected = slsqp(negative_sharpe, len(symbols), [(0, 1)] * len(symbols))
    np.testing.assert_allclose(weights, expected, atol=1e-4)
    assert -negative_sharpe(weights) == pytest.approx(-negative_sharpe(expected), rel=1e-7)


def test_risk_parity_gives_equal_risk_contributions_like_the_cvxpy_formulation(covariance_and_returns):
    import cvxpy as cp

    covariance, _ = covariance_and_returns
    weights = risk_parity_weights(covariance)
    contributions = weights * (covariance @ weights) / (weights @ covariance @ weights)
    np.testing.assert_allclose(contributions, 1 / len(weights), atol=1e-7)
    y = cp.Variable(len(weights))
    cp.Problem(cp.Minimize(0.5 * cp.quad_form(y, covariance) - cp.sum(cp.log(y)) / len(weights))).solve()
    np.testing.assert_allclose(weights, y.value / y.value.sum(), atol=1e-5)


def test_hrp_is_inverse_variance_for_uncorrelated_assets_and_a_valid_portfolio_on_real_data(covariance_and_returns):
    variances = np.array([0.04, 0.09, 0.01, 0.16, 0.0225])
    inverse = (1 / variances) / (1 / variances).sum()
    np.testing.assert_allclose(hrp_weights(np.diag(variances)), inverse, atol=1e-14)
    covariance, _ = covariance_and_returns
    weights = hrp_weights(covariance)
    assert weights.sum() == pytest.approx(1) and (weights > 0).all()


def lopez_de_prado_hrp(covariance: np.ndarray) -> np.ndarray:
    """The reference: López de Prado's published HRP code (2016, "Building Diversified Portfolios that Outperform
    Out-of-Sample"), getQuasiDiag and getRecBipart, on scipy's single linkage of the condensed distances (his
    listing passes the square matrix, which scipy would read as observations; PyPortfolioOpt condenses it too)."""
    from scipy.cluster.hierarchy import linkage
    from scipy.spatial.distance import squareform

    deviation = np.sqrt(np.diag(covariance))
    distance = np.sqrt(np.clip((1 - covariance / np.outer(deviation, deviation)) / 2, 0, None))
    np.fill_diagonal(distance, 0)
    link = linkage(squareform(distance, checks=False), "single").astype(int)
    order, count = pd.Series([link[-1, 0], link[-1, 1]]), link[-1, 3]
    while order.max() >= count:  # getQuasiDiag: replace each cluster by its two members, in place
        order.index = range(0, order.shape[0] * 2, 2)
        clusters = order[order >= count]
        rows = clusters.values - count
        order[clusters.index] = link[rows, 0]
        order = pd.concat([order, pd.Series(link[rows, 1], index=clusters.index + 1)]).sort_index()
        order.index = range(order.shape[0])
    frame = pd.DataFrame(covariance)

    def cluster_variance(items):
        block = frame.loc[items, items].to_numpy()
        inverse = 1 / np.diag(block)
        weights = inverse / inverse.sum()
        return weights @ block @ weights

    weights, groups = pd.Series(1.0, index=order.tolist()), [order.tolist()]
    while groups:  # getRecBipart
        groups = [group[j:k] for group in groups for j, k in ((0, len(group) // 2), (len(group) // 2, len(group)))
                  if len(group) > 1]
        for left, right in zip(groups[::2], groups[1::2]):
            alpha = 1 - cluster_variance(left) / (cluster_variance(left) + cluster_variance(right))
            weights[left] *= alpha
            weights[right] *= 1 - alpha
    return weights.sort_index().to_numpy()


def test_hrp_equals_lopez_de_prados_reference_code(covariance_and_returns):
    covariance, _ = covariance_and_returns
    np.testing.assert_allclose(hrp_weights(covariance), lopez_de_prado_hrp(covariance), atol=1e-14)
    returns = sample_returns(UNIVERSE)
    wide = np.cov(returns.to_numpy(), rowvar=False) * 252
    np.testing.assert_allclose(hrp_weights(wide), lopez_de_prado_hrp(wide), atol=1e-14)


def test_min_cvar_equals_the_scipy_linear_programme(covariance_and_returns):
    _, returns = covariance_and_returns
    scenarios = returns.to_numpy()
    count, assets = scenarios.shape
    weights, cvar = min_cvar_weights(scenarios, 0.95)
    # Variables [w (assets), VaR, u (count)]: min VaR + Σu/(0.05·T), u ≥ -Rw - VaR, u ≥ 0, Σw = 1, w ≥ 0.
    cost = np.concatenate([np.zeros(assets), [1.0], np.full(count, 1 / (0.05 * count))])
    upper = np.hstack([-scenarios, -np.ones((count, 1)), -np.eye(count)])
    programme = optimize.linprog(cost, A_ub=upper, b_ub=np.zeros(count),
                                 A_eq=np.concatenate([np.ones(assets), [0], np.zeros(count)])[None, :], b_eq=[1],
                                 bounds=[(0, None)] * assets + [(None, None)] + [(0, None)] * count, method="highs")
    assert cvar == pytest.approx(programme.fun, rel=1e-6)
    losses = np.sort(-(scenarios @ weights))[::-1]
    tail = int(np.ceil(0.05 * count))
    assert cvar == pytest.approx(losses[:tail].mean(), rel=0.02)  # the mean of the worst 5% of bars


def test_optimize_portfolio_reports_every_method_on_the_sample():
    symbols = ["AAPL", "IBM", "BAC", "AIG", "WM", "QQQ"]
    for method in ("min_variance", "max_sharpe", "risk_parity", "hrp", "min_cvar"):
        result = research.optimize_portfolio(symbols, START, END, method=method, source="sample")
        assert sum(result.weights.values()) == pytest.approx(1, abs=1e-8)
        assert min(result.weights.values()) >= 0
        assert sum(result.risk_contributions.values()) == pytest.approx(1)
        assert result.method_name == method and result.data.observations > 1000
        json.dumps(result.to_dict(), allow_nan=False)
    capped = research.optimize_portfolio(symbols, START, END, method="min_cvar", max_weight=0.25, source="sample")
    assert max(capped.weights.values()) <= 0.25 + 1e-7


# Sparse index tracking ----------------------------------------------------------------------------------------


def test_sparse_tracking_recovers_a_planted_index_and_its_loss_equals_scipy():
    rng = np.random.default_rng(5)
    count, names = 600, [f"A{k}" for k in range(10)]
    market = rng.normal(0.0004, 0.01, count)
    returns = market[:, None] * rng.uniform(0.6, 1.4, 10) + rng.normal(0, 0.008, (count, 10))
    index_returns = returns[:, :3] @ np.array([0.5, 0.3, 0.2])
    frame = geometric_prices(np.column_stack([returns, index_returns]), names + ["INDEX"])
    result = research.sparse_optimization(names, "INDEX", prices=frame, lambda_param=0.05)
    assert set(result.weights) == {"A0", "A1", "A2"}
    assert result.weights == pytest.approx({"A0": 0.5, "A1": 0.3, "A2": 0.2}, abs=0.01)
    assert result.tracking_error < 0.01 and result.correlation > 0.999
    # Same objective by scipy on the support: mean of scipy's huber (half of cvxpy's) of the shortfall.
    support = returns[1:, :3] * 100  # the frame's first bar has no return
    target = index_returns[1:] * 100
    threshold = float(np.std(target))

    def loss(w):
        return 2 * special.huber(threshold, np.maximum(target - support @ w, 0)).mean()

    found = slsqp(loss, 3, [(0, 1)] * 3)
    assert result.downside_loss == pytest.approx(loss(found), abs=1e-8)


def test_sparse_tracking_on_the_sample_respects_max_assets():
    result = research.sparse_optimization(["AAPL", "IBM", "BAC", "AIG", "WM", "QQQ", "IWM", "EEM"], "SPY", START, END,
                                          max_assets=3, source="sample")
    assert result.assets_held <= 3 and sum(result.weights.values()) == pytest.approx(1)
    assert result.correlation > 0.9 and result.benchmark == "SPY"


# Selection and screening --------------------------------------------------------------------------------------


def planted_groups(seed: int = 1) -> tuple[pd.DataFrame, list[list[str]]]:
    """Three groups of four assets, each group driven by its own factor."""
    rng = np.random.default_rng(seed)
    factors = rng.normal(0, 0.01, (500, 3))
    columns, groups = [], []
    for group in range(3):
        groups.append([f"G{group}{member}" for member in range(4)])
        columns += [factors[:, group] + rng.normal(0, 0.003, 500) for _ in range(4)]
    return geometric_prices(np.column_stack(columns), [name for group in groups for name in group]), groups


def test_cluster_selection_takes_one_asset_per_correlation_group():
    frame, groups = planted_groups()
    result = research.select_uncorrelated_assets(list(frame.columns), num_assets=3, method="cluster", prices=frame)
    assert sorted(next(k for k, group in enumerate(groups) if name in group) for name in result.selected) == [0, 1, 2]
    chosen = np.corrcoef(frame[result.selected].pct_change().iloc[1:].to_numpy(), rowvar=False)
    assert result.mean_abs_correlation == pytest.approx(np.abs(chosen[np.triu_indices(3, 1)]).mean(), abs=1e-12)


def test_greedy_selection_equals_a_plain_loop():
    frame, _ = planted_groups(seed=2)
    result = research.select_uncorrelated_assets(list(frame.columns), num_assets=4, method="greedy", prices=frame)
    strength = frame.pct_change().iloc[1:].corr().abs()
    names = list(frame.columns)
    chosen = [min(names, key=lambda n: strength[n].drop(n).sum())]
    while len(chosen) < 4:
        chosen.append(min((n for n in names if n not in chosen), key=lambda n: strength.loc[n, chosen].max()))
    assert result.selected == chosen
    assert len({name[1] for name in result.selected[:3]}) == 3  # one from each group first


def test_screen_applies_each_criterion_to_hand_computed_metrics():
    symbols = ["AAPL", "IBM", "BAC", "WM", "QQQ"]
    result = research.screen_assets_by_criteria(symbols, START, END, min_sharpe=0.6, max_drawdown=0.35,
                                                max_correlation=0.9, benchmark="SPY", source="sample")
    returns = sample_returns(symbols + ["SPY"])
    for name in symbols:
        r = returns[name].to_numpy()
        sharpe = r.mean() / r.std(ddof=1) * np.sqrt(252)
        wealth = np.concatenate([[1], np.cumprod(1 + r)])
        drawdown = (wealth / np.maximum.accumulate(wealth) - 1).min()
        correlation = stats.pearsonr(r, returns["SPY"])[0]
        assert result.table.loc[name, "sharpe_ratio"] == pytest.approx(sharpe, rel=1e-10)
        assert result.table.loc[name, "max_drawdown"] == pytest.approx(drawdown, rel=1e-10)
        assert result.table.loc[name, "correlation"] == pytest.approx(correlation, rel=1e-10)
        assert (name in result.passed) == (sharpe >= 0.6 and drawdown >= -0.35 and correlation <= 0.9)
    assert "QQQ" not in result.passed and "correlation" in result.table.loc["QQQ", "failed"]


# get_history, JSON and charts ---------------------------------------------------------------------------------


def test_get_history_summarises_each_symbol_from_the_market_data_layer():
    result = research.get_history(["SPY", "GOOG"], "2004-01-01", "2004-12-31", source="sample")
    spy = history("SPY", "2004-01-01", "2004-12-31", source="sample").bars("SPY")["close"]
    assert result.table.loc["SPY", "bars"] == len(spy) == 252
    assert result.table.loc["SPY", "return"] == pytest.approx(spy.iloc[-1] / spy.iloc[0] - 1)
    assert result.table.loc["GOOG", "first"].startswith("2004-08-19")  # its own first bar, not aligned
    assert "frame" not in result.to_dict() and len(result.frame) == 252 + result.table.loc["GOOG", "bars"]
    assert result.bars == {} and "more than the 1000 listed" in result.bars_note


def test_get_history_lists_the_bars_that_fit_in_an_answer():
    result = research.get_history(["SPY", "IBM"], "2020-03-01", "2020-03-31", fields=["close", "Volume"])
    frame = history(["SPY", "IBM"], "2020-03-01", "2020-03-31").frame
    for name in ("SPY", "IBM"):
        bars = frame.loc[name]
        listed = result.bars[name]
        assert list(listed) == ["time", "close", "volume"] and listed["time"] == [str(t) for t in bars.index]
        assert listed["close"] == pytest.approx(bars["close"].tolist(), abs=5e-5)
        assert listed["volume"] == [round(v) for v in bars["volume"]]
    assert result.bars_note.startswith("close, volume of every bar")
    assert len(json.dumps(result.to_dict())) < 8_000
    with pytest.raises(ResearchError, match="fields: .*pick from open, high, low, close, volume"):
        research.get_history("SPY", "2020-03-01", "2020-03-31", fields=["adj_close"])


def test_charts_are_small_pngs():
    correlation = research.calculate_correlation_matrix(UNIVERSE[:4], START, END, source="sample")
    pca = research.perform_pca_analysis(UNIVERSE[:4], START, END, source="sample")
    pair = research.test_cointegration("GOOG", "GOOGL", START, END, source="sample")
    reversion = research.analyze_mean_reversion("SPY", START, END, source="sample")
    weights = research.optimize_portfolio(UNIVERSE[:4], START, END, method="hrp", source="sample")
    for image in (research.correlation_heatmap_png(correlation), research.pca_loadings_png(pca),
                  research.spread_png(pair), research.spread_png(reversion), research.weights_png(weights)):
        assert image.startswith(b"\x89PNG") and 5_000 < len(image) < 200_000
    for result in (correlation, pca, pair, reversion, weights):
        json.dumps(result.to_dict(), allow_nan=False)


# Bad input ----------------------------------------------------------------------------------------------------


@contextmanager
def raises(parameter: str, fragment: str):
    """A ResearchError naming ``parameter``, its message containing ``fragment``."""
    with pytest.raises(ResearchError) as error:
        yield
    assert error.value.parameter == parameter, str(error.value)
    assert fragment in str(error.value), str(error.value)


def test_unknown_symbols_are_named_under_the_argument_that_gave_them():
    with raises("symbols", "XYZQ"):
        research.calculate_correlation_matrix(["SPY", "XYZQ"], START, END, source="sample")
    with raises("symbol2", "XYZQ"):
        research.test_cointegration("SPY", "XYZQ", START, END, source="sample")
    with raises("benchmark", "XYZQ"):
        research.calculate_portfolio_performance(["SPY"], [1.0], START, END, benchmark="XYZQ", source="sample")


def test_empty_ranges_and_short_samples_say_what_is_needed():
    with raises("start_date", "after end"):
        research.calculate_correlation_matrix(["SPY", "IBM"], "2020-01-01", "2019-01-01", source="sample")
    with raises("symbols", "no daily bars"):
        research.calculate_correlation_matrix(["SPY", "IBM"], "2030-01-01", "2030-06-01", source="sample")
    with raises("start_date/end_date", "needs at least 50 observations, got 20"):
        research.test_cointegration("GOOG", "GOOGL", "2020-01-01", "2020-01-30", source="sample")
    with raises("start_date/end_date", "needs at least 21 observations"):
        research.perform_pca_analysis(["SPY", "IBM"], "2020-01-01", "2020-01-15", source="sample")
    with raises("start_date", "required"):
        research.analyze_mean_reversion("SPY")


def test_weights_must_match_symbols_and_sum_to_one():
    with raises("weights", "2 weights for 3 symbols"):
        research.calculate_portfolio_performance(["SPY", "IBM", "AAPL"], [0.5, 0.5], START, END, source="sample")
    with raises("weights", "sum to 0.9"):
        research.calculate_portfolio_performance(["SPY", "IBM"], [0.5, 0.4], START, END, source="sample")
    with raises("weights", "missing ['IBM']"):
        research.calculate_portfolio_performance(["SPY", "IBM"], {"SPY": 1.0}, START, END, source="sample")


def test_a_singular_covariance_and_impossible_constraints_are_refused():
    spy = history("SPY", START, END, source="sample").bars("SPY")["close"]
    frame = pd.DataFrame({"SPY": spy, "SPY2X": 2 * spy, "IBM": history("IBM", START, END, source="sample")
                          .bars("IBM")["close"]})
    with raises("symbols", "singular"):
        research.optimize_portfolio(["SPY", "SPY2X", "IBM"], prices=frame, method="min_variance")
    with raises("max_weight", "cannot sum to 1"):
        research.optimize_portfolio(["SPY", "IBM", "AAPL"], START, END, max_weight=0.2, source="sample")
    with raises("method", "not one of"):
        research.optimize_portfolio(["SPY", "IBM"], START, END, method="kelly", source="sample")
    with raises("n_components", "from 1 to"):
        research.perform_pca_analysis(["SPY", "IBM"], START, END, n_components=3, source="sample")
    with raises("symbol2", "same as symbol1"):
        research.test_cointegration("SPY", "spy", START, END, source="sample")


def test_every_exported_name_loads_lazily():
    assert sorted(research.__all__) == sorted(research._MODULE_OF)
    for name in research.__all__:
        assert getattr(research, name) is not None


def test_data_that_is_not_offline_is_refused_with_the_way_round_it():
    with pytest.raises(DataUnavailable, match="Pass the universe explicitly as symbols"):
        research.get_etf_constituents("QQQ", "2020-01-02")
    with pytest.raises(DataUnavailable, match="fundamentals") as error:
        research.screen_assets_by_criteria(["SPY", "IBM"], START, END, min_market_cap=1e9, source="sample")
    assert error.value.parameter == "min_market_cap" and isinstance(error.value, ValueError)

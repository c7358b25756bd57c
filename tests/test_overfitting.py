"""The Deflated Sharpe Ratio and the Probability of Backtest Overfitting, against the papers and known cases."""

from __future__ import annotations

import math

import numpy as np
import pytest

from qcmcp.research.overfitting import deflate, deflated_sharpe, probability_of_overfitting


def test_deflated_sharpe_matches_the_papers_worked_example():
    # Bailey & López de Prado (2014), section 4: annual SR 2.5 over 1,250 days, 100 trials whose annual Sharpe
    # ratios vary by 0.5, skew -3, kurtosis 10: E[max SR] = 0.1132 a day and DSR = 0.9004.
    result = deflate(2.5 / math.sqrt(250), 0.5 / 250, 100, 1250, skew=-3, kurtosis=10)
    assert result.expected_max_sharpe == pytest.approx(0.1132, abs=5e-5)
    assert result.probability == pytest.approx(0.9004, abs=5e-5)


def test_luck_and_skill_are_told_apart():
    rng = np.random.default_rng(7)
    noise = rng.normal(0, 0.01, (1000, 100))  # 100 trials of pure noise
    sharpes = noise.mean(0) / noise.std(0, ddof=1)
    luck = deflated_sharpe(sharpes, noise[:, sharpes.argmax()])
    assert luck.probability < 0.9 and ("luck" in luck.interpretation or "doubtful" in luck.interpretation)
    noise_pbo = probability_of_overfitting(noise)
    assert 0.3 < noise_pbo.probability < 0.7 and noise_pbo.splits == 12870  # C(16, 8)
    skill = noise.copy()
    skill[:, 7] += 0.002  # one trial with a real edge
    sharpes = skill.mean(0) / skill.std(0, ddof=1)
    assert sharpes.argmax() == 7
    assert deflated_sharpe(sharpes, skill[:, 7]).probability > 0.99
    assert probability_of_overfitting(skill).probability < 0.05


def test_bad_shapes_are_refused():
    with pytest.raises(ValueError, match="at least 2 trials"):
        deflated_sharpe([0.1], [0.01, 0.02, 0.03])
    with pytest.raises(ValueError, match="at least 32 periods"):
        probability_of_overfitting(np.zeros((20, 3)))
    with pytest.raises(ValueError, match="even number"):
        probability_of_overfitting(np.zeros((100, 3)), blocks=5)

"""The study's statistics (inpaint.study.stats) on synthetic per-image tables where the truth is
known."""
from __future__ import annotations

import math

import numpy as np
import pytest

from inpaint.study import stats


def correlated(n: int, difference: float, sd: float, rho: float, seed: int = 0):
    """Per-image values of two methods: each image's level varies by `sd` dB, the two methods
    correlate by `rho` across images, and B is above A by `difference` on average."""
    rng = np.random.default_rng(seed)
    common = rng.normal(14.0, sd * math.sqrt(rho), n)
    a = common + rng.normal(0, sd * math.sqrt(1 - rho), n)
    b = common + rng.normal(0, sd * math.sqrt(1 - rho), n) + difference
    return a, b


def old_unpaired_rule_says_differs(a, b) -> bool:
    """The findings' former rule: means further apart than 2 * hypot(sem_a, sem_b)."""
    sem = lambda x: x.std(ddof=1) / math.sqrt(len(x))
    return abs(a.mean() - b.mean()) > 2 * math.hypot(sem(a), sem(b))


def test_a_paired_difference_hidden_by_the_spread_is_found():
    """+0.3 dB, per-image s.d. 2 dB, correlation 0.98, 64 images: "above" when paired, where
    the old unpaired rule (and an unpaired test) says no difference."""
    a, b = correlated(64, 0.3, 2.0, 0.98)
    c = stats.paired(b, a)
    assert c.differs and c.sign == 1 and c.low > 0
    assert 0.15 < c.difference < 0.45 and c.n == 64 and c.paired
    assert "B is above A by" in stats.verdict("B", "A", c)
    assert not old_unpaired_rule_says_differs(a, b)
    assert not stats.unpaired(b, a).differs


def test_a_true_zero_is_no_difference_larger_than_the_intervals_bound():
    a, b = correlated(200, 0.0, 2.0, 0.98, seed=3)
    c = stats.paired(b, a)
    assert not c.differs and c.low < 0 < c.high
    # h: the largest difference the interval leaves possible.
    sd = np.std(b - a, ddof=1)
    half = 1.9720 * sd / math.sqrt(200)  # t(0.975, 199)
    assert c.half_width == pytest.approx(half, rel=1e-3)
    assert c.bound == pytest.approx(max(abs(c.low), abs(c.high)))
    text = stats.verdict("B", "A", c)
    # here [-0.02, +0.09]: lopsided, so worded with both bounds and their direction
    assert (f"B is at most {abs(c.low):.2f} dB below A and at most {c.high:.2f} dB above it"
            in text)
    assert "n = 200" in text


def test_holm_changes_the_verdict_in_a_family_built_to_need_it():
    """Five comparisons, each alone just significant (p about 0.02): Holm makes them not."""
    rng = np.random.default_rng(1)
    family = {}
    for k in range(5):
        for seed in range(1000):
            a, b = correlated(40, 0.0, 2.0, 0.9, seed=1000 * k + seed)
            c = stats.paired(b + 0.25, a)
            if 0.01 < c.p < 0.03 and (c.low > 0 or c.high < 0):
                family[k] = c
                break
    assert len(family) == 5 and all(c.differs for c in family.values())
    corrected = stats.family(family)
    assert all(c.p_holm > c.p for c in corrected.values())
    assert not any(c.differs for c in corrected.values())
    assert "Holm-corrected" in stats.verdict("B", "A", next(iter(corrected.values())))


def test_holm_matches_its_definition():
    p = [0.01, 0.04, 0.03, 0.005]
    # sorted: 0.005*4=0.02, 0.01*3=0.03, 0.03*2=0.06, 0.04*1=0.04 -> monotone 0.06
    assert stats.holm(p) == pytest.approx([0.03, 0.06, 0.06, 0.02])


def test_skewed_differences_get_a_bootstrap_interval_and_say_so():
    rng = np.random.default_rng(0)
    a = rng.normal(14, 2, 100)
    b = a + rng.exponential(0.3, 100) ** 2
    c = stats.paired(b, a)
    assert c.interval == "bootstrap" and c.low < c.difference < c.high
    assert "bootstrap" in stats.interval_text(c)


def skewed_pair(n: int, shift: float, seed: int):
    rng = np.random.default_rng(seed)
    a = rng.normal(14, 2, n)
    return a + rng.exponential(0.3, n) ** 2 + shift, a


@pytest.mark.parametrize("shift", [-0.12, -0.08, -0.02, 0.0])
def test_a_bootstrap_interval_excludes_0_exactly_when_its_p_is_below_its_alpha(shift):
    """The BCa interval and its p come from the same resamples: they cannot disagree, at any
    level a Holm family may ask for."""
    b, a = skewed_pair(60, shift, seed=4)
    c = stats.paired(b, a)
    assert c.interval == "bootstrap"
    for level in (0.8, 0.9, 0.95, 0.975, 0.99, 0.995, 0.999):
        remade = stats.at_level(c, level)
        assert remade.differs == (c.p < 1 - level), (level, remade.low, remade.high, c.p)


def mixed_family(seed: int) -> dict:
    """Eight comparisons on 40 images, true differences from 0 to 1 dB, some skewed."""
    out = {}
    for k, true in enumerate(np.linspace(0, 1.0, 8)):
        if k % 3 == 0:
            b, a = skewed_pair(40, true - 0.1, seed=100 * seed + k)
        else:
            a, b = correlated(40, true, 2.0, 0.95, seed=100 * seed + k)
            a, b = b, a
        out[k] = stats.paired(a, b)
    return out


@pytest.mark.parametrize("seed", range(6))
def test_in_a_family_the_adjusted_interval_excludes_0_exactly_when_holm_rejects(seed):
    corrected = stats.family(mixed_family(seed))
    assert len({c.family_size for c in corrected.values()}) == 1
    for c in corrected.values():
        assert c.differs == (c.p_holm < stats.ALPHA)
        assert c.level >= stats.LEVEL - 1e-12 and c.adjusted
        text = stats.verdict("A", "B", c)
        assert "Holm-adjusted 95% interval" in text
        assert ("no difference" in text or "at most" in text) == (not c.differs)


def test_holm_levels_follow_the_step_down():
    # sorted p: 0.001 (< .05/4, rejected at 1 - .05/4), 0.01 (< .05/3, at 1 - .05/3),
    # 0.04 (> .05/2: stop); r = 2, the other two at 1 - .05/2.
    levels = stats.holm_levels([0.04, 0.001, 0.9, 0.01])
    assert levels == pytest.approx([1 - 0.05 / 2, 1 - 0.05 / 4, 1 - 0.05 / 2, 1 - 0.05 / 3])


def test_a_lopsided_null_reads_with_its_direction():
    c = stats.Comparison(-0.21, -0.45, 0.03, 40, 0.2, 0.2, "t", True)
    text = stats.verdict("ℓ1", "ℓ2", c)
    assert text.startswith("ℓ1 is at most 0.45 dB below ℓ2 and at most 0.03 dB above it")
    assert "no difference" not in text
    centred = stats.Comparison(0.01, -0.2, 0.22, 40, 0.9, 0.9, "t", True)
    assert "no difference larger than ±0.22 dB" in stats.verdict("A", "B", centred)
    excluding = stats.Comparison(-0.24, -0.45, -0.03, 40, 0.01, 0.01, "t", True)
    assert stats.verdict("A", "B", excluding).startswith("A is below B by 0.24 dB")
    with pytest.raises(ValueError, match="excludes 0"):
        stats.null_words("A", "B", excluding)
    # a nil effect, as one CPU computed it and another: the same words, as they print the same
    for low, high in ((-2e-6, 3e-7), (-3e-7, 2e-6)):
        nil = stats.Comparison(-1e-7, low, high, 12, 0.5, 0.5, "t", True)
        assert stats.null_words("A", "B", nil) == "A and B: no difference larger than ±0.00 dB"


def test_pairs_over_different_images_are_refused():
    import pandas as pd
    a = pd.Series([1.0, 2.0, 3.0], index=[0, 1, 2])
    b = pd.Series([1.0, 2.0, 3.0], index=[0, 1, 5])
    with pytest.raises(ValueError, match="different images"):
        stats.paired(a, b)
    with pytest.raises(ValueError, match="NaN"):
        stats.paired([1.0, float("nan")], [1.0, 2.0])


def test_the_images_a_verdict_needs():
    assert stats.images_needed(sd=0.4, half_width=0.1) == math.ceil((1.96 * 4) ** 2)
    # Two accuracies near 0.9 that differ by 0.03: about 1,570 held-out images each.
    assert 1400 < stats.proportion_images(0.9, 0.03) < 1700


def test_a_bootstrap_p_of_0_is_said_as_below_its_resolution():
    b, a = skewed_pair(40, 1.0, seed=2)
    c = stats.paired(b, a)
    assert c.interval == "bootstrap" and c.p == 0 and c.differs
    assert f"p = < {1 / (stats.BOOTSTRAP_RESAMPLES + 1):.0e}" not in stats.interval_text(c)
    assert "paired BCa bootstrap p < 1e-04" in stats.interval_text(c)

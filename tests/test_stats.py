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
    assert f"no difference larger than ±{c.bound:.2f} dB" in text
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

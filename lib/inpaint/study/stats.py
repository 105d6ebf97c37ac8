"""The study's statistics: every comparison in the chapters and the findings goes through here.

Two settings or methods run on the same images (the same photographs, masks and starting codes)
are compared **paired**, image by image (`paired`): the mean of the per-image differences, its
95% interval (Student t over the images, or a BCa bootstrap when the differences are skewed;
the result says which), the Wilcoxon signed-rank p-value and n. The image-to-image spread of hole
PSNR (several dB between photographs) cancels in the difference, so pairing tells apart
differences that an unpaired comparison of two means cannot.

`unpaired` is for samples that really are different images (Welch's t interval, Mann-Whitney U).

A **verdict** (`verdict`) states a difference only when both the signed-rank test (Holm-corrected
within its family, see `holm` and `family`) and the 95% interval exclude zero, in words that
carry its power: "A is above B by x dB [lo, hi]", or "no difference larger than ±h dB", where
h = max(|lo|, |hi|) is the largest difference the interval leaves possible (the interval's
half-width when it is centred on 0). Never a bare "no difference".
"""
from __future__ import annotations

import math
from dataclasses import dataclass, replace
import numpy as np
import pandas as pd
from scipy import stats

LEVEL = 0.95          # every interval in the book
ALPHA = 1 - LEVEL     # every test, after Holm's correction within its family
SKEWED = 1.0          # |sample skewness| of the differences above which the interval is BCa
BOOTSTRAP_RESAMPLES = 9_999


@dataclass(frozen=True)
class Comparison:
    """A comparison of A with B on one metric.

    difference  mean of A - B (paired: of the per-image differences; unpaired: of the means)
    low, high   its 95% interval
    n           images (paired: pairs; unpaired: the smaller sample)
    p           two-sided p-value: Wilcoxon signed-rank (paired) or Mann-Whitney U (unpaired)
    p_holm      p after Holm's correction within its family (equal to p outside a family)
    interval    how the interval was made: "t" (Student), "bootstrap" (BCa, skewed
                differences) or "welch" (unpaired)
    paired      whether the comparison was image by image
    """

    difference: float
    low: float
    high: float
    n: int
    p: float
    p_holm: float
    interval: str
    paired: bool

    @property
    def half_width(self) -> float:
        return (self.high - self.low) / 2

    @property
    def bound(self) -> float:
        """The largest |A - B| the interval leaves possible: max(|low|, |high|)."""
        return max(abs(self.low), abs(self.high))

    @property
    def differs(self) -> bool:
        """A stated difference: the corrected test and the interval both exclude zero."""
        return self.p_holm < ALPHA and (self.low > 0 or self.high < 0)

    @property
    def sign(self) -> int:
        """+1 if A is above B, -1 if below, 0 if no difference is stated."""
        return 0 if not self.differs else (1 if self.difference > 0 else -1)


def _t_interval(values: np.ndarray) -> tuple[float, float]:
    mean, n = float(values.mean()), len(values)
    if n < 2 or values.std() == 0:
        return mean, mean
    half = float(stats.t.ppf(0.5 + LEVEL / 2, n - 1)) * values.std(ddof=1) / math.sqrt(n)
    return mean - half, mean + half


def mean_interval(values) -> tuple[float, float]:
    """The 95% Student t interval of a mean (for a number set against one measured elsewhere,
    such as a paper's)."""
    return _t_interval(np.asarray(values, dtype=float))


def paired(a, b) -> Comparison:
    """A against B image by image. a, b: per-image values of one metric, aligned (pandas Series
    with the same index, or arrays of one length, in the same image order). NaN pairs are
    refused: a missing image would silently unpair the rest."""
    if isinstance(a, pd.Series) and isinstance(b, pd.Series):
        if not a.index.equals(b.index):
            missing = a.index.symmetric_difference(b.index)
            raise ValueError(f"paired comparison over different images ({len(missing)} not in "
                             f"both, e.g. {list(missing[:3])}); compare on the same images")
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    if a.shape != b.shape or a.ndim != 1 or len(a) < 2:
        raise ValueError(f"a paired comparison needs two equal-length samples of 2 or more "
                         f"images, got shapes {a.shape} and {b.shape}")
    if not (np.isfinite(a).all() and np.isfinite(b).all()):
        raise ValueError("a paired comparison got NaN or infinite values; every image needs a "
                         "finite value for both methods")
    d = a - b
    interval = "t"
    low, high = _t_interval(d)
    if len(d) >= 8 and d.std() > 0 and abs(stats.skew(d)) > SKEWED:
        interval = "bootstrap"
        boot = stats.bootstrap((d,), np.mean, confidence_level=LEVEL, method="BCa",
                               n_resamples=BOOTSTRAP_RESAMPLES, random_state=0)
        low, high = float(boot.confidence_interval.low), float(boot.confidence_interval.high)
    p = 1.0 if not np.any(d != 0) else float(stats.wilcoxon(d).pvalue)
    return Comparison(float(d.mean()), low, high, len(d), p, p, interval, paired=True)


def unpaired(a, b) -> Comparison:
    """A against B where the two samples are DIFFERENT images: Welch's t interval on the
    difference of means and the Mann-Whitney U p-value. Use `paired` whenever the images are
    the same: this one is far less sensitive."""
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    if len(a) < 2 or len(b) < 2:
        raise ValueError(f"an unpaired comparison needs 2 or more values on each side, got "
                         f"{len(a)} and {len(b)}")
    va, vb = a.var(ddof=1) / len(a), b.var(ddof=1) / len(b)
    difference = float(a.mean() - b.mean())
    if va + vb == 0:
        low = high = difference
    else:
        dof = (va + vb) ** 2 / (va ** 2 / (len(a) - 1) + vb ** 2 / (len(b) - 1))
        half = float(stats.t.ppf(0.5 + LEVEL / 2, dof)) * math.sqrt(va + vb)
        low, high = difference - half, difference + half
    p = float(stats.mannwhitneyu(a, b).pvalue)
    return Comparison(difference, low, high, min(len(a), len(b)), p, p, "welch", paired=False)


def holm(pvalues) -> np.ndarray:
    """Holm's step-down correction of a family of p-values (same order as given): the k-th
    smallest is multiplied by (m - k + 1), then made non-decreasing and capped at 1."""
    p = np.asarray(pvalues, dtype=float)
    order = np.argsort(p)
    scaled = p[order] * (len(p) - np.arange(len(p)))
    adjusted = np.minimum(np.maximum.accumulate(scaled), 1.0)
    out = np.empty_like(adjusted)
    out[order] = adjusted
    return out


def family(comparisons: dict) -> dict:
    """The same comparisons with p_holm corrected within the family (a dict name -> Comparison,
    e.g. every lambda against lambda 0)."""
    adjusted = holm([c.p for c in comparisons.values()]) if comparisons else []
    return {name: replace(c, p_holm=float(q)) for (name, c), q in zip(comparisons.items(),
                                                                      adjusted)}


def interval_text(c: Comparison, unit: str = " dB", digits: int = 2) -> str:
    """"+0.39 dB [+0.33, +0.46], n = 128" and how it was tested."""
    f = f"{{:+.{digits}f}}"
    test = ("paired, signed-rank p" if c.paired else "unpaired, Mann-Whitney p")
    p = c.p_holm
    p_text = f"{p:.1e}" if p < 1e-3 else f"{p:.3f}"
    holm_note = ", Holm-corrected" if c.p_holm != c.p else ""
    boot = "; bootstrap interval (skewed differences)" if c.interval == "bootstrap" else ""
    return (f"{f.format(c.difference)}{unit} [{f.format(c.low)}, {f.format(c.high)}], "
            f"n = {c.n}; {test} = {p_text}{holm_note}{boot}")


def verdict(name_a: str, name_b: str, c: Comparison, unit: str = " dB", digits: int = 2) -> str:
    """The comparison in words that carry its power:
    "A is above B by x dB [lo, hi] (n, test)" or
    "A and B differ by no more than ±h dB [lo, hi] (n, test)" (h = `Comparison.bound`)."""
    f = f"{{:.{digits}f}}"
    detail = interval_text(c, unit, digits)
    if c.differs:
        word = "above" if c.difference > 0 else "below"
        return f"{name_a} is {word} {name_b} by {f.format(abs(c.difference))}{unit} ({detail})"
    return (f"{name_a} and {name_b}: no difference larger than ±{f.format(c.bound)}{unit} "
            f"({detail})")


def images_needed(sd: float, half_width: float) -> int:
    """Images a paired comparison needs for a 95% interval of half-width `half_width`, given the
    standard deviation `sd` of its per-image differences (normal approximation)."""
    if half_width <= 0:
        raise ValueError(f"half_width must be positive, got {half_width}")
    return math.ceil((1.96 * sd / half_width) ** 2)


def proportion_images(p: float, delta: float, power: float = 0.8) -> int:
    """Held-out images per fill for telling two critic accuracies near `p` apart when they
    differ by `delta`, at the 5% level with the given power (two proportions, normal
    approximation; pairing the fills on the same splits can only need fewer)."""
    z = stats.norm.ppf(1 - ALPHA / 2) + stats.norm.ppf(power)
    return math.ceil(z ** 2 * 2 * p * (1 - p) / delta ** 2)


def table(comparisons: dict, name: str = "against") -> pd.DataFrame:
    """A family of comparisons as a table, one row each: difference, interval, n, p, Holm's p,
    how the interval was made and whether a difference is stated."""
    return pd.DataFrame([{name: key, "difference": c.difference, "low": c.low, "high": c.high,
                          "n": c.n, "p": c.p, "p_holm": c.p_holm, "interval": c.interval,
                          "differs": c.differs} for key, c in comparisons.items()]
                        ).set_index(name)

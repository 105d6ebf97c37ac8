"""The study's statistics: every comparison in the chapters and the findings goes through here.

Two settings or methods run on the same images (the same photographs, masks and starting codes)
are compared **paired**, image by image (`paired`): the mean of the per-image differences, its
interval, the p-value of the test that matches that interval, and n. The interval is Student's t
over the images, or a BCa bootstrap when the differences are skewed (the result says which); the
p-value is the one-sample t-test's for a t interval and the inverted BCa interval's for a bootstrap
one (the smallest alpha at which the BCa interval, built from the same resamples, excludes 0). The
image-to-image spread of hole PSNR (several dB between photographs) cancels in the difference, so
pairing tells apart differences that an unpaired comparison of two means cannot.

`unpaired` is for samples that really are different images (Welch's t interval and Welch's
t-test).

**One rule for "different".** A comparison `differs` exactly when its interval excludes 0; the
verdict, the tables (`table`'s `differs`), the plots' filled markers and the findings' sentences
all read that one property. Outside a family the interval is the plain 95% one, and it excludes
0 exactly when p < 0.05.

**Families: Holm-adjusted intervals** (`family`). Where several comparisons answer one question
(every lambda against lambda 0, every classical fill against the GAN), the tests are
Holm-corrected and each interval is widened to match, so that the intervals are simultaneous and
"the interval excludes 0" still means "Holm rejects". With m comparisons ordered by p, Holm tests
the i-th (i = 1..m) at level alpha/(m - i + 1) and stops at the first it does not reject; with r
rejected, the i-th rejected one gets its interval at confidence 1 - alpha/(m - i + 1) and every
one not rejected gets its interval at 1 - alpha/(m - r) (Holm's own step-down confidence
intervals; with r = 0 that is Bonferroni's). As the p-value matches the interval (t-test p for a t
interval; the inverted BCa p for a bootstrap interval, computed from the same resamples), the
i-th rejected interval excludes 0 and every one not rejected includes it, and `p_holm` (Holm's
adjusted p) is below alpha exactly for the ones that differ. Such an interval is printed as a
"Holm-adjusted 95% interval".

A **verdict** (`verdict`) carries its power: "A is above B by x dB [lo, hi]"; where the interval
includes 0 and is about centred, "no difference larger than ±h dB" (h = max(|lo|, |hi|), the
largest difference the interval leaves possible); where it includes 0 but is lopsided, both
bounds with their direction: "A is at most 0.45 dB below B and at most 0.03 dB above it". Never a
bare "no difference", and never "no difference" beside an interval that excludes 0.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field, replace
import numpy as np
import pandas as pd
from scipy import stats

LEVEL = 0.95          # every interval in the book (simultaneous, within a Holm family)
ALPHA = 1 - LEVEL     # every test, after Holm's correction within its family
SKEWED = 1.0          # |sample skewness| of the differences above which the interval is BCa
BOOTSTRAP_RESAMPLES = 9_999
LOPSIDED = 2.0        # a null interval whose longer side is over this many times its shorter
                      # one is worded with both bounds and their direction


@dataclass(frozen=True)
class Comparison:
    """A comparison of A with B on one metric.

    difference  mean of A - B (paired: of the per-image differences; unpaired: of the means)
    low, high   its interval at confidence `level` (95%, or Holm-adjusted within a family)
    n           images (paired: pairs; unpaired: the smaller sample)
    p           two-sided p-value of the test that matches the interval: the paired t-test (t),
                the inverted BCa interval (bootstrap) or Welch's t-test (welch)
    p_holm      p after Holm's correction within its family (equal to p outside a family)
    interval    how the interval was made: "t" (Student), "bootstrap" (BCa, skewed
                differences) or "welch" (unpaired)
    paired      whether the comparison was image by image
    level       the confidence of this one interval: 0.95 alone; 1 - alpha/k in a Holm family
    family_size the comparisons of its Holm family (1: none)
    sample      the per-image differences (paired) or the two samples (unpaired), kept so that
                `family` can remake the interval at its adjusted level
    """

    difference: float
    low: float
    high: float
    n: int
    p: float
    p_holm: float
    interval: str
    paired: bool
    level: float = LEVEL
    family_size: int = 1
    sample: tuple = field(default=(), repr=False, compare=False)

    @property
    def half_width(self) -> float:
        return (self.high - self.low) / 2

    @property
    def bound(self) -> float:
        """The largest |A - B| the interval leaves possible: max(|low|, |high|)."""
        return max(abs(self.low), abs(self.high))

    @property
    def differs(self) -> bool:
        """A stated difference: the (Holm-adjusted, within a family) interval excludes zero."""
        return self.low > 0 or self.high < 0

    @property
    def sign(self) -> int:
        """+1 if A is above B, -1 if below, 0 if no difference is stated."""
        return 0 if not self.differs else (1 if self.difference > 0 else -1)

    @property
    def adjusted(self) -> bool:
        """Whether the interval is a Holm-adjusted one (a family of 2 or more)."""
        return self.family_size > 1


def _t(values: np.ndarray, level: float) -> tuple[float, float, float]:
    """(low, high, p): the Student t interval of the mean at `level` and the t-test's p."""
    mean, n = float(values.mean()), len(values)
    if n < 2 or values.std() == 0:
        return mean, mean, (1.0 if mean == 0 else 0.0)
    sem = values.std(ddof=1) / math.sqrt(n)
    half = float(stats.t.ppf(0.5 + level / 2, n - 1)) * sem
    p = float(2 * stats.t.sf(abs(mean) / sem, n - 1))
    return mean - half, mean + half, p


def _resampled_means(values: np.ndarray) -> tuple[np.ndarray, float, float]:
    """The bootstrap means (sorted; fixed seed) and BCa's bias z0 and acceleration a."""
    rng = np.random.default_rng(0)
    n = len(values)
    means = np.sort(values[rng.integers(0, n, (BOOTSTRAP_RESAMPLES, n))].mean(axis=1))
    share = np.clip(np.mean(means < values.mean()), 1 / (2 * len(means)), 1 - 1 / (2 * len(means)))
    z0 = float(stats.norm.ppf(share))
    jack = (values.sum() - values) / (n - 1)
    u = jack.mean() - jack
    denominator = 6 * (u ** 2).sum() ** 1.5
    a = float((u ** 3).sum() / denominator) if denominator > 0 else 0.0
    return means, z0, a


def _bca(values: np.ndarray, level: float) -> tuple[float, float, float]:
    """(low, high, p): the BCa bootstrap interval at `level` and its inverted p-value, from the
    same resamples, so that the interval excludes 0 exactly when p < 1 - level. The interval's
    ends are resample means (the inverted empirical CDF): low > 0 exactly when BCa's lower
    percentile passes the share of resample means <= 0; high < 0 likewise with the share < 0."""
    means, z0, a = _resampled_means(values)

    def percentile(z: float) -> float:
        return float(stats.norm.cdf(z0 + (z0 + z) / (1 - a * (z0 + z))))

    def side_p(share: float) -> float:
        """2 Phi(z*), z* the normal quantile at which BCa's percentile equals `share`."""
        if share <= 0:
            return 0.0
        if share >= 1:
            return 2.0
        w = float(stats.norm.ppf(share)) - z0
        return 2 * float(stats.norm.cdf(w / (1 + a * w) - z0))

    z = float(stats.norm.ppf(0.5 + level / 2))
    low = float(np.quantile(means, percentile(-z), method="inverted_cdf"))
    high = float(np.quantile(means, percentile(z), method="inverted_cdf"))
    p_low = side_p(float(np.mean(means <= 0)))           # the lower end is above 0 below it
    p_high = 2 - side_p(float(np.mean(means < 0)))       # the upper end is below 0 below it
    return low, high, min(p_low, p_high, 1.0)


def _welch(a: np.ndarray, b: np.ndarray, level: float) -> tuple[float, float, float]:
    va, vb = a.var(ddof=1) / len(a), b.var(ddof=1) / len(b)
    difference = float(a.mean() - b.mean())
    if va + vb == 0:
        return difference, difference, (1.0 if difference == 0 else 0.0)
    dof = (va + vb) ** 2 / (va ** 2 / (len(a) - 1) + vb ** 2 / (len(b) - 1))
    se = math.sqrt(va + vb)
    half = float(stats.t.ppf(0.5 + level / 2, dof)) * se
    p = float(2 * stats.t.sf(abs(difference) / se, dof))
    return difference - half, difference + half, p


def _interval(c: Comparison, level: float) -> tuple[float, float, float]:
    if c.interval == "welch":
        a, b = (np.asarray(side, dtype=float) for side in c.sample)
        return _welch(a, b, level)
    values = np.asarray(c.sample, dtype=float)
    return (_bca if c.interval == "bootstrap" else _t)(values, level)


def at_level(c: Comparison, level: float) -> Comparison:
    """The same comparison with its interval remade at confidence `level`."""
    low, high, _ = _interval(c, level)
    return replace(c, low=low, high=high, level=level)


def mean_interval(values) -> tuple[float, float]:
    """The 95% Student t interval of a mean (for a number set against one measured elsewhere,
    such as a paper's)."""
    low, high, _ = _t(np.asarray(values, dtype=float), LEVEL)
    return low, high


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
    skewed = len(d) >= 8 and d.std() > 0 and abs(stats.skew(d)) > SKEWED
    interval = "bootstrap" if skewed else "t"
    low, high, p = (_bca if skewed else _t)(d, LEVEL)
    return Comparison(float(d.mean()), low, high, len(d), p, p, interval, paired=True,
                      sample=tuple(d.tolist()))


def unpaired(a, b) -> Comparison:
    """A against B where the two samples are DIFFERENT images: Welch's t interval on the
    difference of means and Welch's t-test. Use `paired` whenever the images are the same: this
    one is far less sensitive."""
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    if len(a) < 2 or len(b) < 2:
        raise ValueError(f"an unpaired comparison needs 2 or more values on each side, got "
                         f"{len(a)} and {len(b)}")
    low, high, p = _welch(a, b, LEVEL)
    return Comparison(float(a.mean() - b.mean()), low, high, min(len(a), len(b)), p, p, "welch",
                      paired=False, sample=(tuple(a.tolist()), tuple(b.tolist())))


def holm(pvalues) -> np.ndarray:
    """Holm's step-down correction of a family of p-values (same order as given): the k-th
    smallest is multiplied by (m - k + 1), then made non-decreasing and capped at 1."""
    p = np.asarray(pvalues, dtype=float)
    order = np.argsort(p, kind="stable")
    scaled = p[order] * (len(p) - np.arange(len(p)))
    adjusted = np.minimum(np.maximum.accumulate(scaled), 1.0)
    out = np.empty_like(adjusted)
    out[order] = adjusted
    return out


def holm_levels(pvalues) -> list[float]:
    """Each comparison's interval confidence in a Holm family (same order as given): the i-th
    smallest p, rejected, 1 - alpha/(m - i + 1); every one not rejected, 1 - alpha/(m - r),
    r the number rejected (see the module's docstring)."""
    p = np.asarray(pvalues, dtype=float)
    m = len(p)
    order = np.argsort(p, kind="stable")
    rejected = 0
    for i, k in enumerate(order):
        if p[k] >= ALPHA / (m - i):
            break
        rejected += 1
    levels = np.full(m, 1 - ALPHA / max(m - rejected, 1))
    for i, k in enumerate(order[:rejected]):
        levels[k] = 1 - ALPHA / (m - i)
    return levels.tolist()


def family(comparisons: dict) -> dict:
    """The same comparisons as one Holm family (a dict name -> Comparison, e.g. every lambda
    against lambda 0): p_holm corrected and each interval remade at its Holm-adjusted level, so
    that `differs` (the interval excludes 0) is Holm's decision. A family of one is left as
    it is."""
    if len(comparisons) < 2:
        return dict(comparisons)
    p = [c.p for c in comparisons.values()]
    adjusted, levels = holm(p), holm_levels(p)
    return {name: replace(at_level(c, level), p_holm=float(q), family_size=len(comparisons))
            for (name, c), q, level in zip(comparisons.items(), adjusted, levels)}


def interval_name(c: Comparison) -> str:
    """What the interval is: "95% interval" or "Holm-adjusted 95% interval"."""
    return f"Holm-adjusted {LEVEL:.0%} interval" if c.adjusted else f"{LEVEL:.0%} interval"


def interval_text(c: Comparison, unit: str = " dB", digits: int = 2) -> str:
    """"+0.39 dB [+0.33, +0.46], n = 128" and how it was tested; a Holm family's interval is
    named as the Holm-adjusted one."""
    f = f"{{:+.{digits}f}}"
    test = {"t": "paired t-test p", "bootstrap": "paired BCa bootstrap p",
            "welch": "unpaired, Welch t-test p"}[c.interval]
    p = c.p_holm
    p_text = (f"< {1 / (BOOTSTRAP_RESAMPLES + 1):.0e}" if p == 0 and c.interval == "bootstrap"
              else "= " + (f"{p:.1e}" if p < 1e-3 else f"{p:.3f}"))  # 0: no resample crossed 0
    holm_note = f", Holm-corrected over {c.family_size}" if c.adjusted else ""
    boot = "; bootstrap interval (skewed differences)" if c.interval == "bootstrap" else ""
    named = f" ({interval_name(c)})" if c.adjusted else ""
    return (f"{f.format(c.difference)}{unit} [{f.format(c.low)}, {f.format(c.high)}]{named}, "
            f"n = {c.n}; {test} {p_text}{holm_note}{boot}")


def null_words(name_a: str, name_b: str, c: Comparison, unit: str = " dB",
               digits: int = 2) -> str:
    """A comparison whose interval includes 0, in words that carry its power: "A and B: no
    difference larger than ±h dB" when the interval is about centred, else both bounds with
    their direction, "A is at most 0.45 dB below B and at most 0.03 dB above it"."""
    if c.differs:
        raise ValueError(f"{name_a} and {name_b} differ (interval [{c.low:+.{digits}f}, "
                         f"{c.high:+.{digits}f}] excludes 0): no null wording for it")
    f = f"{{:.{digits}f}}"
    # judged as printed: bounds that both print as 0.00 are no lopsided interval, whatever the
    # last bits of float arithmetic (which differ between CPUs) make of them
    below, above = (round(value, digits) for value in (abs(min(c.low, 0.0)), max(c.high, 0.0)))
    if max(below, above) <= LOPSIDED * min(below, above):
        return f"{name_a} and {name_b}: no difference larger than ±{f.format(c.bound)}{unit}"
    return (f"{name_a} is at most {f.format(below)}{unit} below {name_b} and at most "
            f"{f.format(above)}{unit} above it")


def verdict(name_a: str, name_b: str, c: Comparison, unit: str = " dB", digits: int = 2) -> str:
    """The comparison in words that carry its power:
    "A is above B by x dB [lo, hi] (n, test)" when the interval excludes 0, else `null_words`
    ("no difference larger than ±h dB" or, lopsided, both bounds with their direction)."""
    f = f"{{:.{digits}f}}"
    detail = interval_text(c, unit, digits)
    if c.differs:
        word = "above" if c.difference > 0 else "below"
        return f"{name_a} is {word} {name_b} by {f.format(abs(c.difference))}{unit} ({detail})"
    return f"{null_words(name_a, name_b, c, unit, digits)} ({detail})"


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
    """A family of comparisons as a table, one row each: difference, interval (Holm-adjusted
    within a family; `level` is each interval's own confidence), n, p, Holm's p, how the
    interval was made and whether a difference is stated (the interval excludes 0)."""
    return pd.DataFrame([{name: key, "difference": c.difference, "low": c.low, "high": c.high,
                          "level": c.level, "n": c.n, "p": c.p, "p_holm": c.p_holm, "interval": c.interval,
                          "differs": c.differs} for key, c in comparisons.items()]
                        ).set_index(name)

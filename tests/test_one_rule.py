"""One rule for "different" (issue 33): no generated sentence or table pairs "no difference" (or a
bounded null, "at most ... below ... and at most ... above") with an interval that excludes 0, and
none states a difference beside an interval that includes it. Checked over the findings and the
abstract written from the committed per-image tables (book/_generated/tables) and over synthetic
Holm families."""
from __future__ import annotations

import re

import numpy as np
import pytest

from inpaint.study import findings, stats

NUMBER = r"([+-]?\d+\.\d+)"
INTERVAL = rf"\[{NUMBER}, {NUMBER}\]"
# A null verdict and the interval printed right after it, in its parenthesis.
NULL = re.compile(rf"(?:no difference larger than ±{NUMBER}|at most {NUMBER}[^(]*? below [^(]*?"
                  rf"and at most {NUMBER}[^(]*? above it)[^(\[]*\({NUMBER}[^\[(]*{INTERVAL}")
STATED = re.compile(rf" is (?:above|below) [^(]*? by {NUMBER}[^(]*\({NUMBER}[^\[(]*{INTERVAL}")
LAM_LINE = re.compile(rf"^- λ = \S+: {NUMBER} dB {INTERVAL}(.*)$", re.MULTILINE)


def contradictions(text: str) -> list[str]:
    """Each null beside an interval excluding 0, or stated difference beside one including it."""
    bad = []
    for match in NULL.finditer(text):
        low, high = float(match.group(5)), float(match.group(6))
        if low > 0 or high < 0:
            bad.append(match.group(0))
        if match.group(1) is not None and float(match.group(1)) != max(abs(low), abs(high)):
            bad.append("bound is not max(|lo|, |hi|): " + match.group(0))
    for match in STATED.finditer(text):
        low, high = float(match.group(3)), float(match.group(4))
        if low <= 0 <= high and not (low == high == 0):
            bad.append(match.group(0))
    for match in LAM_LINE.finditer(text):
        low, high = float(match.group(2)), float(match.group(3))
        if ("**differs**" in match.group(4)) != (low > 0 or high < 0):
            bad.append(match.group(0))
    return bad


def findings_text(saved: dict) -> str:
    """Every statement of the findings chapter and the abstract, from `saved`."""
    comparison = saved["comparison_images"]
    parts = [findings.lam_finding(saved["ablation_images"], saved["lambda_realism"],
                                  saved["lambda_caught"]),
             findings.choice_finding(saved["ablation_images"], "norm", "l1", "l2"),
             findings.choice_finding(saved["ablation_images"], "weighting", "yeh", "plain"),
             findings.multistart_finding(comparison), findings.ensemble_finding(comparison),
             findings.blend_finding(comparison),
             findings.selection_finding(saved["checkpoint_scores"], saved["checkpoint_images"]),
             *[findings.method_ranking(comparison, mask) for mask in comparison["mask"].unique()],
             findings.paper_finding(saved["celeba_images"]), findings.rivals_finding(saved),
             findings.conclusion(saved), findings.abstract(saved)]
    return "\n".join(parts)


def test_the_committed_findings_follow_one_rule(committed_tables):
    text = findings_text(committed_tables)
    assert NULL.search(text) and STATED.search(text)  # the patterns do see the verdicts
    assert contradictions(text) == []


def test_the_committed_families_tables_follow_one_rule(committed_tables):
    saved = committed_tables
    families = [findings.lam_tests(saved["ablation_images"]),
                findings.realism_tests(saved["lambda_caught"])]
    families += [r.tests for r in findings.all_rivals(saved)]
    for family in families:
        table = stats.table(family)
        assert (table.differs == ((table.low > 0) | (table.high < 0))).all()
        assert (table.differs == (table.p_holm < stats.ALPHA)).all()
    against = findings.against_best(saved["checkpoint_images"], "epoch")
    assert (against.tied == ~((against.low > 0) | (against.high < 0))).all()


@pytest.mark.parametrize("seed", range(4))
def test_synthetic_families_follow_one_rule(seed):
    rng = np.random.default_rng(seed)
    base = rng.normal(14, 2, 30)
    family = {}
    for k, shift in enumerate(np.linspace(-0.6, 0.6, 7)):
        noise = rng.normal(0, 0.5, 30) + (rng.exponential(0.4, 30) ** 2 if k % 2 else 0)
        family[k] = stats.paired(base + shift + noise, base)
    text = "\n".join(stats.verdict(f"A{k}", "B", c) for k, c in stats.family(family).items())
    assert "Holm-adjusted 95% interval" in text
    assert contradictions(text) == []


def test_the_checker_catches_the_referees_example():
    said = ("l1 and l2: no difference larger than ±0.45 dB (-0.20 dB [-0.45, -0.03], n = 40; "
            "paired t-test p = 0.135)")
    assert len(contradictions(said)) == 1
    assert contradictions(said.replace("-0.03]", "+0.03]")) == []

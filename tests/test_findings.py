"""The findings chapter's verdicts follow the numbers: change a table and the sentence changes."""
import pandas as pd
import pytest

from inpaint import findings


def ablation(psnr_by_lam: dict[float, float], sem: float = 0.2) -> pd.DataFrame:
    """An ablation table as notebook 03 saves it: index (blend, norm, weighting, lam)."""
    rows = [{"blend": blend, "norm": norm, "weighting": weighting, "lam": lam,
             "psnr_hole": psnr, "psnr_hole_sem": sem}
            for blend in ("paste", "poisson") for norm in ("l1", "l2")
            for weighting in ("plain", "yeh") for lam, psnr in psnr_by_lam.items()]
    return pd.DataFrame(rows).set_index(["blend", "norm", "weighting", "lam"])


def test_a_flat_lambda_contradicts_the_post_and_a_steep_one_agrees():
    flat = findings.lam_finding(ablation({0.0: 14.0, 0.003: 14.1, 1.0: 13.9, 100.0: 11.0}))
    assert "does not hold" in flat and "λ = 1," in flat and "hurts" in flat
    steep = findings.lam_finding(ablation({0.0: 14.0, 0.003: 16.0, 1.0: 17.0}))
    assert "the post was right" in steep


def comparison(best_start: float, first_start: float, sem: float = 0.1) -> pd.DataFrame:
    rows = [("center", "GAN (poisson)", best_start), ("center", "GAN, 1 start (poisson)",
                                                      first_start),
            ("center", "GAN (paste)", 13.0), ("center", "telea", 14.6)]
    return pd.DataFrame([{"mask": m, "method": n, "psnr_hole": p, "psnr_hole_sem": sem}
                         for m, n, p in rows]).set_index(["mask", "method"])


@pytest.mark.parametrize("best, first, says_no_gain", [(14.0, 14.1, True), (15.0, 14.0, False)])
def test_the_multistart_verdict_follows_the_numbers(best, first, says_no_gain):
    text = findings.multistart_finding(comparison(best, first))
    assert ("A lower loss does not buy a truer hole" in text) == says_no_gain
    assert f"{best:.2f} dB" in text and f"{first:.2f} dB" in text


def test_the_ranking_names_the_best_method_and_the_gans_place():
    text = findings.method_ranking(comparison(14.0, 14.1), "center")
    assert text.startswith("center: best telea (14.60 dB)")
    assert "is 3 of 4" in text and "outside the standard errors" in text


def test_missing_notebooks_are_named(tmp_path, monkeypatch):
    from inpaint import experiments
    monkeypatch.setattr(experiments, "RUNS_DIR", tmp_path)
    experiments.save_table("p", "rules", pd.DataFrame({"x": [1]}, index=["gd"]))
    tables = findings.load_tables("p")
    assert tables["rules"] is not None and tables["ablation"] is None
    assert "06_solver_behaviour" not in findings.missing(tables)
    assert "03_lambda_norm_ablation" in findings.missing(tables)


def test_the_conclusion_sorts_the_choices_into_those_that_matter_and_those_that_do_not():
    tables = {name: None for name in findings.TABLES}
    tables["ablation"] = ablation({0.0: 14.0, 0.003: 14.1, 1.0: 13.9})
    tables["comparison"] = comparison(14.0, 14.1)
    text = findings.conclusion(tables)
    assert "these change the hole PSNR beyond the standard errors: pasting or Poisson blending" \
        in text
    assert "these do not: λ from 0 to the paper's 0.003, ℓ1 or ℓ2, plain or Yeh's weights, " \
        "one start or the best of several." in text

"""The findings chapter's verdicts follow the numbers: change a per-image table and the sentence
changes. The tables are made up, one row per image, as the chapters save them."""
import numpy as np
import pandas as pd
import pytest

from inpaint.study import averaging, chapters, findings, stats
from inpaint.study.fills import FIRST_START, YEH, YEH_PASTE
from inpaint.study.profiles import get_profile

N = 64


def levels(seed: int = 0) -> np.ndarray:
    """Per-image hole PSNR of a photograph: a few dB of spread between images."""
    return np.random.default_rng(seed).normal(14.0, 2.0, N)


def noise(seed: int, sd: float = 0.1) -> np.ndarray:
    return np.random.default_rng(seed).normal(0.0, sd, N)


def ablation(shift_by_lam: dict[float, float]) -> pd.DataFrame:
    """Notebook 03's per-image table: the lambda grid at (l1, yeh) and the norms and weightings
    at 0.003, both blends."""
    base = levels()
    settings = [(lam, "l1", "yeh") for lam in shift_by_lam]
    settings += [(0.003, "l2", "yeh"), (0.003, "l1", "plain"), (0.003, "l2", "plain")]
    rows = []
    for k, (lam, norm, weighting) in enumerate(settings):
        shift = shift_by_lam.get(lam, 0.0) if (norm, weighting) == ("l1", "yeh") else 0.0
        values = base + shift + noise(k + 1)
        for blend in ("paste", "poisson"):
            rows += [{"image": i, "blend": blend, "lam": lam, "norm": norm,
                      "weighting": weighting, "psnr_hole": v} for i, v in enumerate(values)]
    return pd.DataFrame(rows)


def test_a_flat_lambda_contradicts_the_post_and_a_steep_one_agrees():
    flat = findings.lam_finding(ablation({0.0: 0, 0.003: 0.01, 1.0: -0.02, 100.0: -3.0}))
    assert "does not hold" in flat and "From λ = 0 to λ = 1, λ changes the hole PSNR by no " \
                                       "more than ±" in flat
    assert "It changes it at λ = 100 (-3.0" in flat
    steep = findings.lam_finding(ablation({0.0: 0, 0.003: 2.0, 1.0: 3.0}))
    assert "the post was right" in steep


def comparison(best: float, first: float, telea: float | None = 0.4) -> pd.DataFrame:
    """Chapter 05's per-image table, centre mask: each method's shift from one image level."""
    base = levels()
    shifts = {YEH: best, FIRST_START: first, YEH_PASTE: best - 0.4, "telea": telea or 0.0,
              "navier-stokes": (telea or 0.0) - 0.1, "biharmonic": -0.5, "mean": -1.5}
    values = {name: base + shift + noise(k + 10) for k, (name, shift) in enumerate(shifts.items())}
    if telea is None:  # level with the GAN: its values give or take 0.1 dB, in pairs
        values["telea"] = values[YEH] + np.resize([0.1, -0.1], N)
    rows = [{"mask": "center", "method": name, "image": i, "psnr_hole": v}
            for name, column in values.items() for i, v in enumerate(column)]
    return pd.DataFrame(rows)


@pytest.mark.parametrize("best, first, says_no_gain", [(0.0, 0.0, True), (0.5, 0.0, False)])
def test_the_multistart_verdict_follows_the_numbers(best, first, says_no_gain):
    text = findings.multistart_finding(comparison(best, first))
    assert ("A lower loss does not buy a truer hole" in text) == says_no_gain
    assert ("is above the first start alone" in text) == (not says_no_gain)
    assert f"n = {N}" in text


def test_the_ranking_is_paired_and_corrected():
    text = findings.method_ranking(comparison(0.0, 0.0, telea=0.4), "center")
    verdicts = text.split("The GAN ")[1]
    assert "is above the mean colour and biharmonic" in verdicts
    assert "is below Telea and Navier–Stokes" in verdicts
    assert "Holm over 4" in text
    level = findings.method_ranking(comparison(0.0, 0.0, telea=None), "center")
    assert "no difference larger than ±" in level and "Telea" in level.split("no difference")[1]


def test_missing_notebooks_are_named(tmp_path, monkeypatch):
    monkeypatch.setattr(chapters, "RUNS_DIR", tmp_path)
    settings = get_profile("ci")
    monkeypatch.setenv(chapters.TABLES_ENV, str(chapters.tables_dir(settings)))  # as `study` runs it
    chapters.save_table(settings, "rules", pd.DataFrame({"x": [1]}, index=["gd"]))
    chapters.save_table(settings, "rules_images", pd.DataFrame({"x": [1]}))
    tables = {name: chapters.load_table(settings, name) for name in chapters.tables()}
    assert tables["rules"] is not None and tables["ablation_images"] is None
    assert "06_solver_behaviour" not in findings.missing(tables)
    assert "03_lambda_norm_ablation" in findings.missing(tables)
    # The findings refuse to run without a study chapter's tables (not a long chapter's), in one
    # line naming them and what to run, instead of failing on a None further on.
    with pytest.raises(ValueError, match=r"03_lambda_norm_ablation, .*make study PROFILE=ci") as e:
        findings.load_tables(settings)
    assert "06_solver_behaviour" not in str(e.value) and "07_beyond_yeh" not in str(e.value)
    with pytest.raises(ValueError, match="no chapter writes"):
        chapters.save_table(settings, "not_a_table", pd.DataFrame())


def test_the_conclusion_sorts_the_choices_into_those_that_matter_and_those_that_do_not():
    tables = {name: None for name in chapters.tables()}
    tables["ablation_images"] = ablation({0.0: 0, 0.003: 0.0, 1.0: 0.0})
    tables["comparison_images"] = comparison(0.0, 0.0)
    text = findings.conclusion(tables)
    assert "these change the hole PSNR: pasting or Poisson blending (+0.3" in text
    assert "these do not, by more than the bound given:" in text
    assert "ℓ1 or ℓ2 (±0.0" in text and "one start or the best of several (±" in text
    assert f"{findings.named(YEH)} is below {findings.named('telea')} by" in text
    assert "the best classical fill is Telea: Telea is above Navier–Stokes by" in text


def test_the_strongest_rival_is_named_by_its_own_test_and_a_win_is_reported():
    """Telea 0.4 dB above the GAN and 0.1 dB above Navier-Stokes (64 images, 0.14 dB noise):
    Telea is the best classical fill by a paired test, and it beats the GAN. Telea level with
    Navier-Stokes: they tie, within a bound."""
    won = findings.rivals(comparison(0.0, 0.0, telea=0.4), "center", "photos")
    assert (won.best, won.runner_up) == ("telea", "navier-stokes") and won.lead.differs
    assert won.beaten_by == ["telea", "navier-stokes"]
    saved = {"comparison_images": comparison(0.0, 0.0, telea=0.4)}
    beaten = findings.beaten_sentence(saved)
    assert "Telea by 0.4" in beaten and "on the center mask of Tiny ImageNet photographs" in beaten
    level = comparison(0.0, 0.0, telea=0.4)
    level.loc[level.method == "navier-stokes", "psnr_hole"] = \
        level.loc[level.method == "telea", "psnr_hole"].to_numpy() + np.resize([0.05, -0.05], N)
    tied = findings.rivals(level, "center")
    assert not tied.lead.differs and "tie for the best classical fill" in tied.best_words()
    none = {"comparison_images": comparison(1.0, 1.0, telea=0.4)}
    assert findings.beaten_sentence(none) == ""


def rules(shift: float, sd: float, n: int = 16, seed: int = 5):
    base = levels(seed)[:n]
    adam = base + shift + np.random.default_rng(seed).normal(0, sd, n)
    images = pd.DataFrame([{"image": i, "rule": rule, "psnr_hole": v} for rule, column in
                           (("gd", base), ("adam", adam)) for i, v in enumerate(column)])
    summary = pd.DataFrame({"tol": 1e-4, "stopped": 0, "images": n, "cap": 200,
                            "crossed_post_tol": 0, "post_tol": 1.2288,
                            "hole PSNR (Poisson)": [base.mean(), adam.mean()]},
                           index=pd.Index(["gd", "adam"], name="rule"))
    return summary, images


def test_adam_against_gradient_descent_is_tested_paired_and_says_what_n_it_would_need():
    clear = findings.rules_finding(*rules(0.4, 0.1))
    assert "Adam is above gradient descent by 0.3" in clear and "n = 16" in clear
    unclear = findings.rules_finding(*rules(0.1, 1.0))
    assert "would need about" in unclear and "is above" not in unclear
    wide = rules(0.1, 1.0)[1].pivot(index="image", columns="rule", values="psnr_hole")
    c = findings.rules_test(rules(0.1, 1.0)[1])
    needed = stats.images_needed(float((wide.adam - wide.gd).std(ddof=1)), abs(c.difference))
    assert f"{needed:,} images" in unclear
    assert "descriptive" in findings.rules_finding(rules(0.1, 1.0)[0])  # no per-image table


def test_mscoco_is_among_the_rivals_when_its_table_is_there():
    coco = comparison(0.0, 0.0, telea=0.4)
    saved = {"coco_images": coco}
    assert [r.images for r in findings.all_rivals(saved)] == [
        "MSCOCO photographs (out of distribution)"]
    assert "**MSCOCO photographs (out of distribution), center** (64 images)" in \
        findings.rivals_finding(saved)


def test_scale_is_tested_paired_on_the_images_both_models_ran_on():
    table = comparison(0.0, 0.0)
    scratch = table[table.method == YEH].assign(method=findings.SCRATCH)
    scratch = scratch[scratch.image < 20].assign(psnr_hole=lambda t: t.psnr_hole + 0.5
                                                 + noise(40)[:20])
    text = findings.scale_finding(pd.concat([table, scratch]))
    assert "on 20 of the comparison's 64 images" in text and "is above the shipped full-scale model" in text
    assert "n = 20" in text
    assert "no second model" in findings.scale_finding(table)


def test_sharpness_tells_a_blurred_fill_from_the_truth():
    import torch
    from inpaint.method.masks import make_mask
    from inpaint.study.fills import hole_sharpness, sharpness_table
    rng = torch.Generator().manual_seed(0)
    truth = torch.rand(12, 3, 64, 64, generator=rng) * 2 - 1
    blurred = torch.nn.functional.avg_pool2d(truth, 5, stride=1, padding=2)
    mask = make_mask("center", 12)
    assert all(b < t / 2 for b, t in zip(hole_sharpness(blurred, mask),
                                         hole_sharpness(truth, mask)))
    table = sharpness_table({YEH: truth * 0.9, findings.SCRATCH: blurred}, truth, mask)
    table["images_seen"] = table.fill.map({YEH: 1_500_000, findings.SCRATCH: 37_500})
    share = np.random.default_rng(3).uniform(0.2, 0.6, 12)
    table["caught"] = np.where(table.fill == "true", np.nan,
                               np.where(table.fill == YEH, np.resize(share, 36),
                                        np.resize(share, 36) + 0.3
                                        + np.random.default_rng(4).normal(0, 0.01, 36)))
    comparison_table = comparison(0.0, 0.0)
    scratch = comparison_table[comparison_table.method == YEH].assign(
        method=findings.SCRATCH, psnr_hole=lambda t: t.psnr_hole + 0.5 + noise(41))
    text = findings.scale_finding(pd.concat([comparison_table, scratch]), table)
    assert "the trained-here model's fill is below the truth's by" in text
    assert "the trained-here model's fill is below the evaluated model's by" in text
    assert "with blurrier fills" in text
    assert "a fresh critic found more real than the fill" in text
    assert "the trained-here model's fill is above the evaluated model's by 0.30" in text
    assert "had seen 1,500,000 images" in text and "the model trained here 37,500" in text
    # the blurred fill keeps the truth's mean colour: its error is all in the rest
    assert "on the mean colour (means 0 and" in text
    assert "the mean colour makes up" in text


def test_the_hole_error_parts_add_up_to_the_error_the_hole_psnr_reads():
    """A fill off by a constant colour has all its error in the mean colour, a fill of the
    image's own texture in other places almost none, and the parts of any fill add up to the
    mean squared error behind `evaluate`'s hole PSNR."""
    import torch
    from inpaint.method.masks import make_mask
    from inpaint.method.metrics import evaluate
    from inpaint.study.fills import hole_error_parts
    rng = torch.Generator().manual_seed(1)
    truth = torch.rand(6, 3, 64, 64, generator=rng) * 1.6 - 0.8
    mask = make_mask("center", 6)
    colour, rest = hole_error_parts(truth + 0.2, truth, mask)
    assert all(c > 100 for c in colour) and all(r < 1 for r in rest)
    shuffled = truth[:, :, torch.randperm(64, generator=rng)]
    colour, rest = hole_error_parts(shuffled, truth, mask)
    assert sum(colour) < sum(rest) / 20
    noisy = (truth * 0.7 + 0.3 * torch.rand(6, 3, 64, 64, generator=rng)).clamp(-1, 1)
    colour, rest = hole_error_parts(noisy, truth, mask)
    mse = 255 ** 2 / 10 ** (evaluate(noisy, truth, mask).psnr_hole.to_numpy() / 10)
    assert np.allclose(np.add(colour, rest), mse)


def test_the_error_parts_say_which_part_makes_up_the_gap_between_the_models():
    """The evaluated model's fills off in colour and the trained-here model's in texture: the
    gap between their errors is more than all colour, and the sentence says the rest goes the
    other way, with the paired test of each part."""
    rows = []
    for fill, colour, rest, noise in (("true", 0.0, 0.0, [0]), (YEH, 900.0, 300.0, [20, -20]),
                                      (findings.SCRATCH, 100.0, 500.0, [10, -10, -10, 10])):
        spread = np.resize(noise, 24)  # mean 0: the means are exactly the ones set
        rows.append(pd.DataFrame({"image": range(24), "fill": fill, "sharpness": 1.0,
                                  "colour_error": colour + spread, "rest_error": rest + spread}))
    text = findings.error_parts_finding(pd.concat(rows, ignore_index=True))
    assert "on the mean colour (means 100 and 900), the trained-here model's error is below" in text
    assert "on the rest (means 500 and 300), the trained-here model's error is above" in text
    assert "by which the evaluated model's hole error is the larger" in text
    assert "the mean colour makes up more than all (133%); on the rest the difference goes the " \
           "other way (-33%)" in text


def budget_table(drop: float) -> pd.DataFrame:
    """The budget chapter's per-image table for three searches on 32 images, read at 100 and
    1,500 iterations: λ = 10 level with Yeh's search at 100 and `drop` dB below it at 1,500, ℓ2
    level at both, and Telea 1 dB below at both (a classical fill: the same at every budget)."""
    from inpaint.study.experiments import setting_name
    rng = np.random.default_rng(0)
    base = rng.normal(14, 2, 32)
    rows = []
    for budget in (100, 1500):
        for name, group, shift in ((setting_name(0.003), "lambda", 0.0),
                                   (setting_name(10.0), "lambda", -drop * (budget == 1500)),
                                   (setting_name(0.003, norm="l2"), "norm", 0.0),
                                   ("telea", "classical", -1.0)):
            noise = rng.normal(0, 0.1, 32) if shift or name != setting_name(0.003) else 0
            rows += [{"setting": name, "group": group, "budget": budget, "image": i,
                      "psnr_hole": base[i] + shift + (noise[i] if np.ndim(noise) else 0)}
                     for i in range(32)]
    return pd.DataFrame(rows)


def test_the_budget_finding_names_each_verdict_that_changes_between_the_budgets():
    from inpaint.study.profiles import PROFILES
    settings = PROFILES["cpu"]
    text = findings.budget_finding(budget_table(0.5), None, settings)
    assert "at the study's budget (100 iterations) and at the paper's 1,500" in text
    assert "Verdicts that change between 100 and 1,500 iterations: λ = 10 (within ±" in text
    assert "→ below by 0.5" in text
    assert "| Telea " in text and "below by 1.0" in text
    at_last = text.split("At 1,500 iterations, of the searches, ")[1]
    assert "λ = 10 (below by 0.5" in at_last
    # one search differs and one does not: each verb agrees with its one subject
    assert "differs from Yeh's search" in at_last and " does not, by more than" in at_last
    level = findings.budget_finding(budget_table(0.0), None, settings)
    assert "No verdict changes between 100 and 1,500 iterations on these 32 images." in level


@pytest.mark.parametrize("ensemble_shift, says_rewards", [(0.6, True), (-0.3, False)])
def test_the_averaging_finding_follows_the_ensembles_own_test(ensemble_shift, says_rewards):
    """The after-Yeh explanation states that averaging is what PSNR rewards only when the
    ensemble's paired interval against Telea is above 0, and says what the critic found."""
    from inpaint.study.fills import method_name
    ensemble = method_name(fill="ensemble", starts=4)
    base = levels()
    shifts = {"telea": 0.0, "navier-stokes": -0.1, "biharmonic": -0.2, "mean": -1.5,
              YEH: -0.8, ensemble: ensemble_shift}
    metrics = pd.DataFrame([{"image": i, "method": m, "psnr_hole": v}
                            for k, (m, shift) in enumerate(shifts.items())
                            for i, v in enumerate(base + shift + noise(k + 10))])
    caught = pd.DataFrame([{"image": i, "method": m, "caught": v}
                           for k, m in enumerate(shifts)
                           for i, v in enumerate(np.clip(0.8 + 0.1 * (m == ensemble)
                                                         + noise(k + 30, 0.05), 0, 1))])
    text = averaging.averaging_finding(metrics, caught)
    assert ("which PSNR rewards" in text) is says_rewards
    assert "GAN (Poisson) is below Telea" in text and "n = 64" in text
    assert "pays for it in realism" in text
    assert "critic's score (lower: more real), GAN ensemble of 4 (Poisson) is above Telea" in text
    assert "Averaging the fills of 4 searches" in text
    assert averaging.averaging_finding(metrics[metrics.method != ensemble], caught) == ""

"""The findings chapter's statements, computed from the tables the results notebooks save
(`experiments.save_table`, listed in `inpaint.study.chapters.CHAPTERS`), so that every number and
every
"above", "below" or "no difference larger than" in it follows the profile's results and is never
typed by hand.

Every comparison goes through `inpaint.study.stats`: paired, image by image, wherever the two sides
ran
on the same images (the same photographs, masks and starting codes), with the mean difference,
its 95% interval, n and the matching test; families (the lambda grid, the checkpoints, the
methods of one mask kind) are Holm-corrected, with Holm-adjusted intervals, so that a difference
is stated exactly when its interval excludes 0 (`inpaint.study.stats`). Each function takes the tables it needs (pandas
DataFrames as saved) and returns Markdown.
"""
from __future__ import annotations

import pandas as pd

from inpaint.study import stats, wording
from inpaint.study.chapters import load_table, long_commands, table_writer, tables
from inpaint.study.experiments import against_best, lam_label
from inpaint.study.fills import CLASSICAL, FIRST_START, YEH, YEH_PASTE, method_name, per_image
from inpaint.method.masks import MASK_KINDS, READINGS
from inpaint.study.paper import (FACE_SETS, PAPER_CELEBA_CENTRE_PSNR, PAPER_TRAINING_FACES,
                                 PSNR_READINGS, readings)
from inpaint.study.profiles import Profile
from inpaint.study.rivals import Rivals, method_tests, named, rivals  # noqa: F401 (the findings' API)

PAPER_LAM = 0.003


def load_tables(settings: Profile) -> dict[str, pd.DataFrame | None]:
    """Every table the chapters save; None for a table whose notebook has not run, which only a
    long chapter's may be (`make study` runs the others before the findings): a missing table of
    another chapter is a ValueError in one line saying which and what to run."""
    saved = {name: load_table(settings, name) for name in tables()}
    absent = [chapter for chapter in missing(saved) if chapter not in long_commands()]
    if absent:
        raise ValueError(f"the findings read the tables of every study chapter, and "
                         f"{', '.join(absent)} saved none for profile {settings.name!r}: run "
                         f"`make study PROFILE={settings.name}` (or those chapters) first")
    return saved


def missing(saved: dict) -> list[str]:
    """The notebooks whose tables are missing, in order."""
    return sorted({table_writer(name) for name, table in saved.items() if table is None})


def dB(value: float) -> str:
    return f"{value:.2f} dB"


def lam_tests(ablation: pd.DataFrame, blend: str = "poisson") -> dict[float, stats.Comparison]:
    """Every lambda of the grid (l1, Yeh's weights) against lambda 0, image by image, one
    Holm family."""
    grid = ablation[(ablation.blend == blend) & (ablation.norm == "l1")
                    & (ablation.weighting == "yeh")]
    wide = per_image(grid, "lam")
    base = wide.columns.min()
    return stats.family({lam: stats.paired(wide[lam], wide[base])
                         for lam in wide.columns if lam != base})


def realism_tests(caught: pd.DataFrame) -> dict[float, stats.Comparison]:
    """Every lambda's fills against lambda 0's on the critic's per-image score (the fraction of
    held-out real photographs it found more real than the fill), paired by image over the images
    some seed held out, one Holm family."""
    wide = caught.pivot(index="image", columns="fill", values="caught").dropna()
    base = wide.columns.min()
    return stats.family({lam: stats.paired(wide[lam], wide[base])
                         for lam in wide.columns if lam != base})


def lam_finding(ablation: pd.DataFrame, realism: pd.DataFrame | None = None,
                caught: pd.DataFrame | None = None) -> str:
    """The post's 'lambda matters most' against the ablation, on hole PSNR and on realism."""
    tests = lam_tests(ablation)
    level = [lam for lam, c in tests.items() if not c.differs]
    # The range from lambda 0 up to the first lambda that changes the hole PSNR.
    flat = []
    for lam in sorted(tests):
        if tests[lam].differs:
            break
        flat.append(lam)
    n = next(iter(tests.values())).n
    header = (f"Hole PSNR (Poisson-blended, ℓ1, Yeh's weights), each λ against λ = 0 on the same "
              f"{n} images and starting codes, paired, Holm-corrected over the {len(tests)} λ, with "
              f"Holm-adjusted 95% intervals:")
    text = [f"λ = {lam_label(lam)}: " + stats.interval_text(c) + (" — **differs**" if c.differs
                                                                    else "")
            for lam, c in tests.items()]
    if flat:
        bound = max(tests[lam].bound for lam in flat)
        summary = (f"From λ = 0 to λ = {lam_label(flat[-1])}, λ changes the hole PSNR by no more "
                   f"than ±{bound:.2f} dB.")
    else:
        summary = f"Already λ = {lam_label(min(tests))} changes the hole PSNR."
    above = [lam for lam in tests if lam not in level]
    if above:
        summary += (" It changes it at λ = " + wording.in_words(lam_label(lam) for lam in above)
                    + " (" + wording.in_words(f"{tests[lam].difference:+.2f} dB" for lam in above)
                    + ").")
    verdict = summary
    if realism is not None and caught is not None:
        r_tests = realism_tests(caught)
        row = realism.loc
        lines = [f"λ = {lam_label(lam)}: critic accuracy {row[lam, 'critic']:.3f} "
                 f"[{row[lam, 'critic_low']:.3f}, {row[lam, 'critic_high']:.3f}], AUC "
                 f"{row[lam, 'auc']:.3f} [{row[lam, 'auc_low']:.3f}, {row[lam, 'auc_high']:.3f}]"
                 for lam in realism.index]
        held = int(realism.held_out.iloc[0])
        seeds = int(realism.seeds.iloc[0])
        r_n = next(iter(r_tests.values())).n
        realism_text = [
            f"Realism, a fresh critic per λ ({seeds} seeds, each testing on {held} held-out "
            f"images; lower is more realistic): " + "; ".join(lines) + ".",
            f"Per image, the share of held-out real photographs the critic found more real than "
            f"the fill, each λ against λ = 0 (paired over the {r_n} images some seed held out, "
            f"Holm-corrected): " + "; ".join(f"λ = {lam_label(lam)}: "
                                             f"{stats.interval_text(c, unit='')}"
                                             for lam, c in r_tests.items()) + "."]
        more_real = [lam for lam, c in r_tests.items() if c.differs and c.difference < 0]
        less_real = [lam for lam, c in r_tests.items() if c.differs and c.difference > 0]
        r_bound = max(c.bound for c in r_tests.values())
        if more_real or less_real:
            verdict += (" On realism, " + (f"λ = {wording.in_words(lam_label(l) for l in more_real)} "
                                           f"makes fills harder to catch" if more_real else "")
                        + (" and " if more_real and less_real else "")
                        + (f"λ = {wording.in_words(lam_label(l) for l in less_real)} makes its fills "
                           f"easier to catch" if less_real else "") + " than λ = 0.")
        else:
            verdict += (f" On realism, no λ differs from λ = 0 by more than ±{r_bound:.2f} in the "
                        f"critic's per-image score (a critic on {r_n} images cannot see smaller "
                        f"differences; see the λ chapter for what more images would take).")
    paper = tests.get(PAPER_LAM)
    paper_real = r_tests.get(PAPER_LAM) if realism is not None and caught is not None else None
    if paper is not None and not paper.differs and (paper_real is None or not paper_real.differs):
        verdict += (" Over the range where the paper (0.003) sets it, λ changes nothing we can "
                    "measure beyond these bounds, so the post's \"λ matters most\" does not "
                    "hold here" + (", except as a harm at the top of the range." if above
                                   else "."))
    elif paper is not None:
        verdict += " λ changes the fill within the range the paper uses: the post was right."
    body = header + "\n\n" + "\n".join(f"- {line}" for line in text)
    if realism is not None and caught is not None:
        body += "\n\n" + "\n\n".join(realism_text)
    return verdict + "\n\n" + body


def setting_test(ablation: pd.DataFrame, level: str, a: str, b: str,
                 blend: str = "poisson") -> stats.Comparison:
    """One norm or weighting against another at the paper's lambda, image by image (the other
    setting held at the paper's: l1 for the weightings, Yeh's for the norms)."""
    rows = ablation[(ablation.blend == blend) & (ablation.lam == PAPER_LAM)]
    other = {"norm": ("weighting", "yeh"), "weighting": ("norm", "l1")}[level]
    rows = rows[rows[other[0]] == other[1]]
    wide = per_image(rows, level)
    return stats.paired(wide[a], wide[b])


def choice_finding(ablation: pd.DataFrame, level: str, a: str, b: str) -> str:
    """Setting a against setting b of one level of the ablation, as a sentence that names them
    (`wording.SETTING_NAMES`)."""
    text = stats.verdict(wording.setting(a), wording.setting(b), setting_test(ablation, level, a, b))
    return text[:1].upper() + text[1:]


def centre_test(comparison: pd.DataFrame, a: str, b: str, mask: str = "center",
                column: str = "psnr_hole") -> stats.Comparison:
    """Method a against method b on one mask kind, image by image."""
    wide = per_image(comparison[comparison["mask"] == mask], "method", column)
    return stats.paired(wide[a], wide[b])


def blend_finding(comparison: pd.DataFrame) -> str:
    return "Centre mask: " + stats.verdict("Poisson blending", "pasting",
                                           centre_test(comparison, YEH, YEH_PASTE)) + "."


def multistart_finding(comparison: pd.DataFrame) -> str:
    """Best of K starts (lowest loss) against the first start alone, centre mask."""
    if FIRST_START not in set(comparison.method):
        return "This profile's comparison ran one start per image, so it cannot compare."
    c = centre_test(comparison, YEH, FIRST_START)
    text = ("Keeping the lowest-loss of several starts (the post's first next step), centre "
            "mask: " + stats.verdict("the best start", "the first start alone", c) + ".")
    if c.sign <= 0:
        text += (" A lower loss does not buy a truer hole: the loss sees only the known pixels, "
                 "and starts that fit them about equally well disagree inside. This is the "
                 "post's own argument, that the model cannot know the interior, in numbers.")
    return text


def ensemble_names(methods) -> list[str]:
    """The ensembles among `methods`, smallest first (looked up by `method_name`, not parsed)."""
    return [method_name(fill="ensemble", starts=k) for k in range(2, 257)
            if method_name(fill="ensemble", starts=k) in methods]


def ensemble_finding(comparison: pd.DataFrame) -> str:
    """The mean of the starts' fills against the best start, centre mask."""
    ensembles = ensemble_names(set(comparison.method))
    if not ensembles:
        return "This profile's comparison ran one start per image: no ensemble to compare."
    name = ensembles[-1]
    return ("The ensemble (mean of the starts' G(z), Poisson-blended), centre mask: "
            + stats.verdict(name, "the best start", centre_test(comparison, name, YEH)) + ".")


def method_ranking(comparison: pd.DataFrame, mask: str) -> str:
    """Where the GAN stands against the classical fills on one mask kind."""
    tests = method_tests(comparison, mask)
    above = [name for name, c in tests.items() if c.sign > 0]
    below = [name for name, c in tests.items() if c.sign < 0]
    level = [name for name, c in tests.items() if c.sign == 0]
    n = next(iter(tests.values())).n
    listed = lambda names: wording.in_words(named(name) for name in names)
    parts = [f"**{mask}** ({n} images; GAN + Poisson minus each, paired, Holm over "
             f"{len(tests)}): " + "; ".join(f"{named(name)} {stats.interval_text(c)}"
                                            for name, c in tests.items())]
    words = []
    if above:
        words.append(f"is above {listed(above)}")
    if below:
        words.append(f"is below {listed(below)}")
    if level:
        bound = max(tests[name].bound for name in level)
        words.append(f"shows no difference larger than ±{bound:.2f} dB from {listed(level)}")
    return parts[0] + ". The GAN " + "; ".join(words) + "."


# The per-image tables whose GAN is set against the classical fills: table -> (the images, in
# a sentence; the chapter that made them). Each is tested per mask kind it holds.
RIVAL_TABLES = {
    "comparison_images": ("Tiny ImageNet photographs", "05_comparison"),
    "celeba_images": ("CelebA faces (the comparison chapter's small faces model)",
                      "05_comparison"),
    "faces_images": ("CelebA faces (the faces chapter's models)", "08_faces"),
    "coco_images": ("MSCOCO photographs (out of distribution)", "05_comparison"),
}


def all_rivals(saved: dict) -> list[Rivals]:
    """`rivals` for every table of RIVAL_TABLES that has run and every mask kind it holds."""
    out = []
    for name, (images, _) in RIVAL_TABLES.items():
        metrics = saved.get(name)
        if metrics is None:
            continue
        # the faces chapter's table holds several sets of faces: each (its first seed's model)
        parts = ({images: metrics} if "set" not in metrics.columns else
                 {FACE_SETS[key]: metrics[(metrics["set"] == key) & (metrics["seed"] == 0)]
                  for key in FACE_SETS if key in set(metrics["set"])})
        for images, part in parts.items():
            masks = [m for m in MASK_KINDS + tuple(READINGS) if m in set(part["mask"])]
            out += [rivals(part, mask, images) for mask in masks]
    return out


def rivals_finding(saved: dict) -> str:
    """Per images and mask kind: the best classical fill (tested against the runner-up), the
    GAN against it, and every classical fill that beats the GAN."""
    lines = []
    for r in all_rivals(saved):
        line = (f"**{r.images}, {r.mask}** ({r.n} images): {r.best_words()}. Against "
                f"{named(r.best)}, {r.against_best_words()}.")
        if r.beaten_by:
            line += (f" Classical fills above {named(YEH)} beyond their Holm-adjusted intervals: "
                     + ", ".join(f"{named(name)} ({r.tests[name].difference:+.2f} dB for the "
                                 f"GAN)" for name in r.beaten_by) + ".")
        lines.append(line)
    return "\n".join(f"- {line}" for line in lines)


def beaten_sentence(saved: dict) -> str:
    """Where a classical fill beats the GAN (beyond the Holm-adjusted interval), the strongest
    one per images and mask kind; empty where none does."""
    beaten = [r for r in all_rivals(saved) if r.beaten_by]
    if not beaten:
        return ""
    parts = []
    for r in beaten:
        strongest = min(r.beaten_by, key=lambda name: r.tests[name].difference)
        c = r.tests[strongest]
        parts.append(f"{named(strongest)} by {-c.difference:.2f} dB [{-c.high:.2f}, "
                     f"{-c.low:.2f}] (Holm-adjusted 95% interval, n = {c.n}) on the {r.mask} mask "
                     f"of {r.images}")
    return (f"A classical fill beats {named(YEH)} beyond its interval in {len(beaten)} of the "
            f"{len(all_rivals(saved))} image sets and masks tested: " + "; ".join(parts) + ".")


SCRATCH = method_name(label="GAN trained here")  # chapter 05's model trained from scratch


def scale_test(comparison: pd.DataFrame) -> stats.Comparison | None:
    """The model trained here against the evaluated model (both GAN + Poisson), centre mask,
    image by image on the images both ran on; None where the model trained here did not run."""
    centre = comparison[comparison["mask"] == "center"]
    if SCRATCH not in set(centre.method):
        return None
    wide = per_image(centre, "method")[[SCRATCH, YEH]].dropna()
    return stats.paired(wide[SCRATCH], wide[YEH])


def sharpness_tests(sharpness: pd.DataFrame) -> dict[str, stats.Comparison]:
    """Each model's fills against the truth on `fills.hole_sharpness`, and (where both ran) the
    model trained here against the evaluated one, image by image, one Holm family."""
    wide = sharpness.pivot(index="image", columns="fill", values="sharpness")
    tests = {name: stats.paired(wide[name], wide["true"]) for name in (YEH, SCRATCH)
             if name in wide.columns}
    if SCRATCH in wide.columns:
        tests["scale"] = stats.paired(wide[SCRATCH], wide[YEH])
    return stats.family(tests)


def scale_finding(comparison: pd.DataFrame, sharpness: pd.DataFrame | None = None) -> str:
    """What scale buys: the model trained here against the evaluated one, paired, and how
    sharp each one's fills are inside the hole against the truth (a run of chapter 05 older
    than its sharpness table leaves that out)."""
    c = scale_test(comparison)
    if c is None:
        return "This profile evaluates the model it trains: there is no second model to compare."
    n_all = comparison[comparison["mask"] == "center"].image.nunique()
    text = (f"Scale, centre mask, both models searched the same way and Poisson-blended, on "
            f"{c.n} of the comparison's {n_all} images: "
            + stats.verdict("the model trained here", "the shipped full-scale model", c) + ".")
    if sharpness is None or SCRATCH not in set(sharpness.fill):
        return text + (" Why is not measured in this run (chapter 05 saved no sharpness table)."
                       if c.sign > 0 else "")
    tests = sharpness_tests(sharpness)
    means = sharpness.groupby("fill").sharpness.mean()
    text += (f" Sharpness inside the hole (mean gradient magnitude, grey levels per pixel; the "
             f"truth {means['true']:.1f}, the evaluated model's fills {means[YEH]:.1f}, the model "
             f"trained here {means[SCRATCH]:.1f}), paired, Holm over {len(tests)}: "
             + "; ".join([stats.verdict(f"the {who} fill", "the truth's", tests[name], unit="")
                          for name, who in ((YEH, "evaluated model's"),
                                            (SCRATCH, "trained-here model's"))]
                         + [stats.verdict("the trained-here model's fill",
                                          "the evaluated model's", tests["scale"], unit="")])
             + ".")
    if {"colour_error", "rest_error"} <= set(sharpness.columns):
        text += " " + error_parts_finding(sharpness)
    if "caught" in sharpness.columns:
        wide = sharpness.pivot(index="image", columns="fill", values="caught")[[SCRATCH, YEH]]
        wide = wide.dropna()
        if len(wide) >= 2:
            caught = stats.paired(wide[SCRATCH], wide[YEH])
            text += (" Realism, the share of held-out real photographs a fresh critic found more "
                     f"real than the fill (lower: more realistic; paired over the {caught.n} "
                     "images some seed held out): "
                     + stats.verdict("the trained-here model's fill", "the evaluated model's",
                                     caught, unit="") + ".")
    if "images_seen" in sharpness.columns:
        seen = sharpness.groupby("fill").images_seen.first()
        text += (f" In training, the evaluated model's generator had seen {seen[YEH]:,.0f} images "
                 f"(steps times batch) by its chosen epoch, the model trained here "
                 f"{seen[SCRATCH]:,.0f}.")
    if c.sign > 0 and tests["scale"].sign < 0:
        text += (" The model trained here scores higher on PSNR with blurrier fills: PSNR rewards "
                 "a smooth guess over a sharp texture that is not the true one.")
    return text


def error_parts_finding(sharpness: pd.DataFrame) -> str:
    """Where the two models' hole errors differ: each model's mean squared error inside the hole
    in its two parts (`fills.hole_error_parts`: the hole's mean colour, and the rest), the model
    trained here against the evaluated one on each part, paired, Holm over the two, and how much
    of the gap between their mean errors each part makes up."""
    parts = {"colour": "the mean colour", "rest": "the rest"}
    wide = {part: sharpness.pivot(index="image", columns="fill", values=f"{part}_error")
            [[SCRATCH, YEH]].dropna() for part in parts}
    tests = stats.family({part: stats.paired(wide[part][SCRATCH], wide[part][YEH])
                          for part in parts})
    means = {part: wide[part].mean() for part in parts}
    text = ("The hole's mean squared error (grey levels², on the 8-bit images that the hole PSNR "
            "reads) splits into the part of the hole's mean colour and the rest (texture, edges, "
            "placement). The trained-here model's fills against the evaluated model's, paired, "
            f"Holm over {len(tests)}: "
            + "; ".join(f"on {words} (means {means[part][SCRATCH]:.0f} and "
                        f"{means[part][YEH]:.0f}), "
                        + stats.verdict("the trained-here model's error", "the evaluated model's",
                                        tests[part], unit=" grey levels²", digits=0)
                        for part, words in parts.items()) + ".")
    gaps = {part: means[part][YEH] - means[part][SCRATCH] for part in parts}
    gap = sum(gaps.values())
    if gap == 0:
        return text
    larger = "the evaluated model's" if gap > 0 else "the trained-here model's"
    text += f" Of the {abs(gap):.0f} grey levels² by which {larger} hole error is the larger on average, "
    shares = {part: gaps[part] / gap for part in parts}
    if min(shares.values()) >= 0:
        return text + (f"the mean colour makes up {shares['colour']:.0%} and the rest "
                       f"{shares['rest']:.0%}.")
    ahead = max(shares, key=shares.get)  # one part more than makes up the gap, the other goes against it
    behind = min(shares, key=shares.get)
    return text + (f"{parts[ahead]} makes up more than all ({shares[ahead]:.0%}); on "
                   f"{parts[behind]} the difference goes the other way ({shares[behind]:.0%}).")


def paper_finding(celeba: pd.DataFrame) -> str:
    """Our small faces model on held-out faces (centre mask), in every reading of PSNR, beside
    the paper's numbers, and against Telea; the like-for-like comparison is the faces chapter's."""
    centre = celeba[celeba["mask"] == "center"]
    wide = per_image(centre, "method")
    ours = wide[YEH]
    low, high = stats.mean_interval(ours)
    values = readings(centre[centre.method == YEH])
    paper = PAPER_CELEBA_CENTRE_PSNR
    reported = ", ".join(f"{value} dB for {name.split(' (')[0]}" for name, value in paper.items())
    shown = "; ".join(f"{PSNR_READINGS[key]}, {value:.2f} dB"
                      + (f" [{low:.2f}, {high:.2f}]" if key == next(iter(PSNR_READINGS)) else "")
                      for key, value in values.items())
    return (f"On {len(ours)} held-out CelebA faces in the usual centre crop (centre mask), our GAN "
            f"+ Poisson scores: {shown}. The paper reports {reported}, in a reading it does not "
            f"state, on its own faces and crop, with a model trained on far more faces: this is "
            f"the study's own small faces model, within `make study`'s budget, not a like-for-"
            f"like comparison (the faces chapter's is). Against Telea on the same faces: "
            + stats.verdict("GAN + Poisson", "Telea", stats.paired(ours, wide["telea"])) + ".")


def rules_test(rules_images: pd.DataFrame) -> stats.Comparison:
    """Adam against gradient descent on the hole PSNR (Poisson), image by image (chapter 06:
    the same images, mask and starting code for both rules)."""
    wide = per_image(rules_images, "rule")
    return stats.paired(wide["adam"], wide["gd"])


def rules_finding(rules: pd.DataFrame, rules_images: pd.DataFrame | None = None) -> str:
    """The post's stopping rule, and Adam against gradient descent: paired, with its bound, and
    the images a verdict would need when the interval includes 0; without the per-image table
    (a run of chapter 06 older than it), the means, described."""
    gd, adam = rules.loc["gd"], rules.loc["adam"]
    if rules_images is not None:
        c = rules_test(rules_images)
        wide = per_image(rules_images, "rule")
        sd = float((wide["adam"] - wide["gd"]).std(ddof=1))
        compared = (f" On the hole PSNR (Poisson), image by image on those {c.n} images: "
                    + stats.verdict("Adam", "gradient descent", c) + ".")
        if not c.differs and abs(c.difference) > 0:
            needed = stats.images_needed(sd, abs(c.difference))
            compared += (f" An interval narrow enough to exclude 0 at the difference seen "
                         f"({c.difference:+.2f} dB, per-image s.d. {sd:.2f} dB) would need about "
                         f"{needed:,} images.")
        return (f"Under the post's rule, gradient descent until ‖∇z‖₁ < {gd.tol:g} on our summed "
                f"loss, {int(gd.stopped)} of {int(gd.images)} images stopped within "
                f"{int(gd.cap)} iterations, and {int(gd.crossed_post_tol)} ever crossed the post's "
                f"threshold converted to our units ({gd.post_tol:g})." + compared)
    return (f"Under the post's rule, gradient descent until ‖∇z‖₁ < {gd.tol:g} on our summed loss, "
            f"{int(gd.stopped)} of {int(gd.images)} images stopped within {int(gd.cap)} "
            f"iterations, and {int(gd.crossed_post_tol)} ever crossed the post's threshold "
            f"converted to our units ({gd.post_tol:g}). The solver-behaviour chapter shows the "
            f"two rules' losses and fills side by side on those {int(gd.images)} images; their "
            f"hole PSNRs ({dB(adam['hole PSNR (Poisson)'])} for Adam, "
            f"{dB(gd['hole PSNR (Poisson)'])} for gradient descent) are descriptive, on too few "
            f"images for a verdict.")


def schedule_finding(schedules: pd.DataFrame) -> str:
    joint, blocks = schedules.loc["joint"], schedules.loc["blocks"]
    return (f"An illustration of what the logs record, not a comparison: in the last epoch of "
            f"two short runs (one each, whose samples are still grey noise), the "
            f"discriminator's mean D(G(z)) was {blocks.d_fake:.3f} under the post's blocks and "
            f"{joint.d_fake:.3f} under joint steps; G's loss was {blocks.g_loss:.2f} and "
            f"{joint.g_loss:.2f}. Runs this short, and one of each, support no conclusion about "
            f"the schedules.")


def g_loss_finding(thirds: pd.DataFrame) -> str:
    middle, last = thirds.iloc[1], thirds.iloc[2]
    steps = thirds.post_steps.iloc[0]
    trend = "rises" if last.g_loss > middle.g_loss else "does not rise"
    return (f"The evaluated model's G loss {trend} late in training (one run, described, not "
            f"tested): {last.g_loss:.2f} on average in the last third of its steps against "
            f"{middle.g_loss:.2f} in the middle third. Its run is {steps:,.0f} of the post's "
            f"batch-64 steps long"
            + (", short of the post's step 30,000, so it cannot show a rise there."
               if steps < 30_000 else "."))


def selection_finding(scores: pd.DataFrame, images: pd.DataFrame) -> str:
    """The checkpoints the numbers cannot tell from the best (paired, Holm), and the choice."""
    table = against_best(images, "epoch")
    tied = table.index[table.tied].tolist()
    best = int(table.index[table.best][0])
    others = table[~table.best]
    chosen = int(scores.index[scores.chosen][0])
    n = images.image.nunique()
    text = (f"Scored by the hole PSNR of their pasted completions on the same {n} images, each "
            f"epoch against the best mean (epoch {best}; paired, Holm over {len(others)}, "
            f"Holm-adjusted 95% intervals): "
            + "; ".join(f"epoch {e} {row.difference:+.2f} dB [{row.low:+.2f}, {row.high:+.2f}]"
                        for e, row in others.iterrows())
            + f". {len(tied)} of the {len(table)} checkpoints (epoch{'s' if len(tied) > 1 else ''} "
            f"{wording.in_words(tied)}) {'are' if len(tied) > 1 else 'is'} tied with the "
            f"best: no difference from it is stated."
            f" The chapters use epoch {chosen}"
            + (", chosen by eye" if scores.by_eye.iloc[0] else ", the latest of those")
            + ("; it is among them." if chosen in tied else
               "; it is not among them, and the selection chapter says why."))
    if len(tied) > 1:
        text += (" The numbers cannot rank these checkpoints, so the post was right to look: a "
                 "person's judgement of the samples is as good a rule, and the book records it.")
    return text


def choices_that_matter(saved: dict) -> tuple[list[str], list[str]]:
    """(choices that change the centre-mask hole PSNR, each with its interval; those that do not,
    each with its bound), over the choices the post and the paper differ on."""
    verdicts: dict[str, stats.Comparison] = {}
    ablation, comparison = saved.get("ablation_images"), saved.get("comparison_images")
    if ablation is not None:
        tests = lam_tests(ablation)
        if PAPER_LAM in tests:
            verdicts["λ from 0 to the paper's 0.003"] = tests[PAPER_LAM]
        verdicts["ℓ1 or ℓ2"] = setting_test(ablation, "norm", "l1", "l2")
        verdicts["plain or Yeh's weights"] = setting_test(ablation, "weighting", "yeh", "plain")
    if comparison is not None:
        verdicts["pasting or Poisson blending"] = centre_test(comparison, YEH, YEH_PASTE)
        if FIRST_START in set(comparison.method):
            verdicts["one start or the best of several"] = centre_test(comparison, YEH,
                                                                       FIRST_START)
    matter = [f"{name} ({c.difference:+.2f} dB [{c.low:+.2f}, {c.high:+.2f}])"
              for name, c in verdicts.items() if c.differs]
    level = [f"{name} (±{c.bound:.2f} dB)" for name, c in verdicts.items() if not c.differs]
    return matter, level


def conclusion(saved: dict) -> str:
    """The two questions answered in a few sentences, from the same tables."""
    parts = []
    comparison = saved.get("comparison_images")
    if comparison is not None:
        rival = rivals(comparison, "center")
        parts.append(f"On the centre mask, {rival.best_words()}; against it, "
                     f"{rival.against_best_words()}.")
    beaten = beaten_sentence(saved)
    if beaten:
        parts.append(beaten)
    verdict, centre = saved.get("beyond_verdict"), saved.get("beyond_centre")
    if verdict is not None and centre is not None and "closer" in verdict.columns:
        telea = verdict.loc["telea"]
        realistic = verdict.loc[list(CLASSICAL)].more_realistic.astype(bool)
        parts.append(
            f"The ensemble of the beyond-Yeh chapter is {telea.psnr_difference:+.2f} dB "
            f"[{telea.psnr_low:+.2f}, {telea.psnr_high:+.2f}] from Telea (n = {int(telea.n)}), "
            + ("closer" if telea.closer else "not shown closer")
            + f", and more realistic, by the critic's paired per-image score, than "
              f"{int(realistic.sum())} of the {len(realistic)} classical fills.")
    matter, level = choices_that_matter(saved)
    if matter or level:
        parts.append("Of the choices the post and the paper differ on (paired tests on the "
                     "centre mask), "
                     + (f"these change the hole PSNR: {wording.in_words(matter)}" if matter else
                        "none changes the hole PSNR")
                     + (f"; these do not, by more than the bound given: {wording.in_words(level)}."
                        if level else "."))
    return " ".join(parts)


def targets_sentence(targets: pd.DataFrame) -> str:
    """Which of the fills tried are closer than Telea and more realistic than every classical
    fill, both paired (`fills.both_targets`)."""
    both = targets.index[targets.both.astype(bool)].tolist()
    closer = targets.index[targets.closer.astype(bool)].tolist()
    realistic = targets.index[targets.more_realistic.astype(bool)].tolist()
    if both:
        return f"Both targets are met by {wording.in_words(named(name) for name in both)}."
    return (f"Of the {len(targets)} GAN fills tried, {len(closer)} are closer than Telea and "
            f"{len(realistic)} more realistic than every classical fill, each paired image by "
            f"image beyond its Holm-adjusted interval; none is both.")


def beyond_finding(centre: pd.DataFrame, verdict: pd.DataFrame,
                   targets: pd.DataFrame | None = None) -> str:
    """The ensemble against the classical fills, paired image by image on hole PSNR and on the
    critic's per-image score (Holm over its rivals), and the two targets."""
    ensemble = ensemble_names(set(centre.index))[-1]
    row = centre.loc[ensemble]
    classical = verdict.loc[list(CLASSICAL)]
    realistic = classical.index[classical.more_realistic.astype(bool)].tolist()
    lines = [
        f"The {named(ensemble)} fills the hole to {dB(row.psnr_hole)} (mean); against Telea, "
        f"image by image: " + verdict_words(ensemble, "telea", verdict.loc["telea"], "psnr")
        + "; on realism, " + verdict_words(ensemble, "telea", verdict.loc["telea"], "critic")
        + ".",
        f"By the critic's paired per-image score it is more realistic than {len(realistic)} of "
        f"the {len(CLASSICAL)} classical fills"
        + (f" ({wording.in_words(named(name) for name in realistic)})" if realistic else "")
        + f"; the critic's accuracy on it is {row.critic:.3f} ({row.critic_low:.3f} to "
        f"{row.critic_high:.3f} over seeds), against {centre.loc['real images', 'critic']:.3f} "
        f"for real photographs (the floor).",
        targets_sentence(targets) if targets is not None else "",
    ]
    return " ".join(line for line in lines if line)


def verdict_words(method: str, rival: str, row: pd.Series, measure: str) -> str:
    """One row of `fills.paired_verdicts` in words: the difference with its Holm-adjusted
    interval and n, and what it states (`measure`: "psnr" in dB, or "critic", the score)."""
    difference, low, high = (row[f"{measure}_{part}"] for part in ("difference", "low", "high"))
    n = int(row.n if measure == "psnr" else row.critic_n)
    if measure == "psnr":
        said = ("closer to the truth" if low > 0 else "further from the truth" if high < 0 else
                f"no difference larger than ±{max(abs(low), abs(high)):.2f} dB")
        return (f"{named(method)} minus {named(rival)} {difference:+.2f} dB [{low:+.2f}, "
                f"{high:+.2f}] (Holm-adjusted, n = {n}): {said}")
    said = ("more realistic" if high < 0 else "easier to catch" if low > 0 else
            f"no difference larger than ±{max(abs(low), abs(high)):.3f}")
    return (f"the critic's score {difference:+.3f} [{low:+.3f}, {high:+.3f}] (Holm-adjusted, "
            f"n = {n}): {said}")


def abstract(saved: dict) -> str:
    """The front page's answer in a few sentences, each naming the experiment (chapter) its
    numbers come from; computed from the same tables as the findings chapter."""
    comparison, ablation = saved.get("comparison_images"), saved.get("ablation_images")
    if comparison is None or ablation is None:
        return ("The results chapters have not all run for this profile, so there is no "
                "summary yet: run `make study`.")
    centre = comparison[comparison["mask"] == "center"]
    n = centre.image.nunique()
    rival = rivals(comparison, "center")
    lam = lam_tests(ablation)
    flat = [value for value in sorted(lam) if not lam[value].differs]
    first_change = next((value for value in sorted(lam) if lam[value].differs), None)
    blend = centre_test(comparison, YEH, YEH_PASTE)
    link = "[{}](results/{}.ipynb)".format
    sentences = [
        "We rebuilt the 2017 course study of Yeh et al.'s latent-search inpainting from one "
        "command, on 64×64 Tiny ImageNet photographs with the central 32×32 square missing, and "
        "compared every choice the post and the paper made, image by image on the same images "
        "and starting codes, with 95% intervals, Holm-adjusted within each family of tests, a "
        "difference stated exactly when its interval excludes 0.",
        f"On {n} held-out photographs ({link('comparison chapter', '05_comparison')}), "
        f"{rival.best_words()}; against it, {rival.against_best_words()}.",
        f"Of the post's next steps, {stats.verdict('Poisson blending', 'pasting', blend)}.",
    ]
    if flat:
        sentences.append(
            f"The realism weight λ, which the post found to matter most, moves the hole PSNR by "
            f"no more than ±{max(lam[value].bound for value in flat):.2f} dB from λ = 0 to "
            f"λ = {lam_label(flat[-1])} ({link('λ chapter', '03_lambda_norm_ablation')}, "
            f"{next(iter(lam.values())).n} images)"
            + (f", and {'lowers' if lam[first_change].difference < 0 else 'raises'} it from "
               f"λ = {lam_label(first_change)} ({lam[first_change].difference:+.2f} dB)"
               if first_change is not None else "") + ".")
    caught = saved.get("lambda_caught")
    if caught is not None:
        realism = realism_tests(caught)
        moved = [value for value in sorted(realism) if realism[value].differs]
        sentences.append(
            "On realism, judged by fresh critics rather than the GAN's discriminator, "
            + (f"λ = {wording.in_words(lam_label(v) for v in moved)} changes how often the fills are "
               f"caught ({wording.in_words(f'{realism[v].difference:+.2f}' for v in moved)} in the "
               f"critic's per-image score against λ = 0" if moved else
               f"no λ differs from λ = 0 by more than "
               f"±{max(c.bound for c in realism.values()):.2f} (in the critic's per-image score")
            + f", on {next(iter(realism.values())).n} images).")
    beyond = saved.get("beyond_images")
    starts = beyond[beyond["set"] == "photographs"] if beyond is not None else None
    cited, chapter = ((starts, "beyond-Yeh") if starts is not None
                      and FIRST_START in set(starts.method) else (comparison, "comparison"))
    if FIRST_START in set(cited.method):
        c = centre_test(cited, YEH, FIRST_START)
        ensembles = ensemble_names(set(cited[cited["mask"] == "center"].method))
        k = next(k for k in range(2, 257)
                 if ensembles and method_name(fill="ensemble", starts=k) == ensembles[-1])
        sentences.append(
            f"Keeping the lowest-loss of {k} starts, the post's other next step (the {chapter} "
            f"chapter's run with the most starts, K = {k}, n = {c.n}): "
            + stats.verdict("the best start", "the first start", c) + ".")
    faces, grid = saved.get("faces_images"), saved.get("faces_grid")
    celeba = saved.get("celeba_images")
    if faces is not None and grid is not None and "set" in faces.columns:
        from inpaint.study.table_one import conditional_sentence
        sentences.append(
            f"Against Yeh et al.'s Table 1 ({link('faces chapter', '08_faces')}), which does not "
            f"say how its PSNR is read: " + conditional_sentence(faces, "authors")[:-1]
            + f", with a model trained on {int(grid.faces.max()):,} faces cut as theirs are "
            f"where theirs saw about {PAPER_TRAINING_FACES:,}, and faces of ours smoother than "
            f"theirs (the chapter measures by how much).")
    elif celeba is not None:
        centre_faces = per_image(celeba[celeba["mask"] == "center"], "method")[YEH]
        low, high = stats.mean_interval(centre_faces)
        sentences.append(
            f"On {len(centre_faces)} held-out CelebA faces our small faces model fills the centre "
            f"hole to {centre_faces.mean():.2f} dB [{low:.2f}, {high:.2f}] (hole PSNR averaged "
            f"over faces), beside the {next(iter(PAPER_CELEBA_CENTRE_PSNR.values()))} dB Yeh et "
            f"al. report in a reading they do not state, on their faces, with a far larger "
            f"training set ({link('comparison chapter', '05_comparison')}).")
    beaten = beaten_sentence(saved)
    if beaten:
        sentences.append(beaten)
    sentences.append(f"The {link('findings', '10_findings')} answer both questions point by "
                     "point, each with its test, n and interval.")
    return " ".join(sentences)


# ------------------------------------------------------------------------- the solver's budget

def budget_header(settings: Profile, chapter: str, n: int) -> str:
    """The budget a chapter's verdicts were reached at, from the profile that ran it: "at 60 Adam
    iterations, 1 start, 40 images, model tiny-imagenet-full"."""
    config = settings.chapters[chapter]
    iters = getattr(config, "iters", None) or settings.study.solver_iters
    starts = getattr(config, "restarts", None) or (1 if chapter == "03_lambda_norm_ablation"
                                                   else settings.study.restarts)
    model = settings.study.shipped or f"{settings.name}/main"
    return (f"at {iters:,} Adam iterations, {starts} start{'s' * (starts != 1)}, {n} images, "
            f"model {model}")


def budget_tests(metrics: pd.DataFrame, budget: int, reference: str,
                 column: str = "psnr_hole") -> dict[str, stats.Comparison]:
    """Every setting of the budget chapter's table (`budget_images`) against `reference` at one
    budget, image by image, one Holm family."""
    wide = per_image(metrics[metrics.budget == budget], "setting", column)
    return stats.family({name: stats.paired(wide[name], wide[reference])
                         for name in wide.columns if name != reference})


def budget_words(c: stats.Comparison) -> str:
    """A budget-table cell's verdict: "above by 0.31 dB", "below by 0.20 dB" or, when the
    interval holds 0, "within ±0.12 dB"."""
    if c.differs:
        return f"{'above' if c.difference > 0 else 'below'} by {abs(c.difference):.2f} dB"
    return f"within ±{c.bound:.2f} dB"


def budget_finding(metrics: pd.DataFrame, caught: pd.DataFrame | None,
                   settings: Profile) -> str:
    """Which verdicts hold at the last budget (1,500 iterations) as at the study's own: each
    setting of the budget chapter against Yeh's search at the paper's λ with one start, on hole
    PSNR at both budgets (paired, Holm over the settings, Holm-adjusted intervals), the verdicts
    whose direction or significance changes, where Yeh's search's hole PSNR peaks, and the
    critic's per-image score at both budgets. Markdown: sentences and one table."""
    from inpaint.study import wording
    from inpaint.study.experiments import setting_name
    budgets = sorted(metrics.budget.unique())
    last = budgets[-1]
    study = min(budgets, key=lambda k: abs(k - settings.study.solver_iters))
    reference = setting_name(settings.study.lam)
    n = metrics[(metrics.budget == last) & (metrics.setting == reference)].image.nunique()
    early, late = budget_tests(metrics, study, reference), budget_tests(metrics, last, reference)
    model = settings.study.shipped or f"{settings.name}/main"
    name = wording.method
    cell = "{:+.2f} [{:+.2f}, {:+.2f}]".format
    rows = [{"setting (minus Yeh's search)": name(key),
             f"at {study:,} (dB)": cell(early[key].difference, early[key].low, early[key].high),
             f"at {last:,} (dB)": cell(late[key].difference, late[key].low, late[key].high),
             f"verdict at {study:,}": budget_words(early[key]),
             f"verdict at {last:,}": budget_words(late[key])} for key in late]
    table = pd.DataFrame(rows).to_markdown(index=False)
    changed = [key for key in late if early[key].sign != late[key].sign]
    text = [f"Every setting of the budget chapter against Yeh's search (ℓ1, Yeh's weights, "
            f"{reference}, one start, Adam), hole PSNR of the Poisson-blended fill, paired on the "
            f"same {n} images and starting codes (model {model}; \"G and D of epoch …\" marks "
            f"the matched pair), Holm over the {len(late)} settings with Holm-adjusted 95% "
            f"intervals, at the study's budget ({study:,} iterations) and at the paper's "
            f"{last:,}:", "", table, ""]
    if changed:
        text.append(f"Verdicts that change between {study:,} and {last:,} iterations: "
                    + wording.in_words(f"{name(key)} ({budget_words(early[key])} → "
                                       f"{budget_words(late[key])})" for key in changed) + ".")
    else:
        text.append(f"No verdict changes between {study:,} and {last:,} iterations on these "
                    f"{n} images.")
    groups = metrics.drop_duplicates("setting").set_index("setting").group
    matter = [key for key in late if late[key].differs and groups[key] != "classical"]
    level = [key for key in late if not late[key].differs and groups[key] != "classical"]
    sentence = f"At {last:,} iterations, of the searches, "
    sentence += (wording.in_words(f"{name(key)} ({budget_words(late[key])})" for key in matter)
                 + (" differs" if len(matter) == 1 else " differ") + " from Yeh's search") \
        if matter else "none differs from Yeh's search"
    if level:
        sentence += (("; " if matter else " by more than its bound: ")
                     + wording.in_words(f"{name(key)} ({budget_words(late[key])})"
                                        for key in level)
                     + ((" does not" if len(level) == 1 else " do not")
                        + ", by more than the bound given" if matter else ""))
    text.append(sentence + ".")
    means = metrics[metrics.setting == reference].pivot(index="image", columns="budget",
                                                         values="psnr_hole")
    peak = means.mean().idxmax()
    if peak != last:
        fall = stats.paired(means[last], means[peak])
        text.append(f"Yeh's search's mean hole PSNR is highest at {peak:,} iterations "
                    f"({dB(means[peak].mean())}); read from the same searches at {last:,}, it is "
                    f"{dB(means[last].mean())}, a change of {stats.interval_text(fall)}.")
    else:
        text.append(f"Yeh's search's mean hole PSNR is highest at the last budget, {last:,} "
                    f"iterations ({dB(means[last].mean())}).")
    if caught is not None:
        for budget in sorted(caught.budget.unique()):
            wide = caught[caught.budget == budget].pivot(index="image", columns="setting",
                                                         values="caught").dropna()
            tests = stats.family({key: stats.paired(wide[key], wide[reference])
                                  for key in wide.columns if key != reference})
            text.append(f"Realism at {budget:,} iterations, the critic's per-image score (lower: "
                        f"more real), each λ against {reference}: " + "; ".join(
                            stats.verdict(name(key), reference, c, unit="", digits=3)
                            for key, c in tests.items()) + ".")
    return "\n".join(text)

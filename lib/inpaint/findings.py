"""The findings chapter's statements, computed from the tables the results notebooks save
(`experiments.save_table`), so that every number and every "better" or "no difference" in it
follows the profile's results and is never typed by hand.

Each function takes the tables it needs (pandas DataFrames as saved) and returns Markdown.
"Differs" means the two means are further apart than twice the standard error of their
difference (sqrt(sem_a^2 + sem_b^2), images treated as independent samples), about a 95% test;
where a paired interval was measured (the beyond-Yeh chapter), it is used instead.
"""
from __future__ import annotations

import math

import pandas as pd

from .experiments import CLASSICAL, lam_label, load_table
from .metrics import PAPER_CELEBA_CENTRE_PSNR

TABLES = {  # name: (the notebook that writes it, number of index columns)
    "training_thirds": ("01_training_curves", 1),
    "schedules": ("01_training_curves", 1),
    "checkpoint_scores": ("02_checkpoint_selection", 1),
    "ablation": ("03_lambda_norm_ablation", 4),
    "comparison": ("05_comparison", 2),
    "celeba": ("05_comparison", 1),
    "rules": ("06_solver_behaviour", 1),
    "beyond_centre": ("07_beyond_yeh", 1),
    "beyond_verdict": ("07_beyond_yeh", 1),
    "beyond_other_masks": ("07_beyond_yeh", 2),
    "beyond_celeba": ("07_beyond_yeh", 2),
    "beyond_targets": ("07_beyond_yeh", 1),
}


def load_tables(profile: str) -> dict[str, pd.DataFrame | None]:
    """Every table the findings read; None for a table whose notebook has not run."""
    return {name: load_table(profile, name, columns) for name, (_, columns) in TABLES.items()}


def missing(tables: dict) -> list[str]:
    """The notebooks whose tables are missing, in order."""
    return sorted({TABLES[name][0] for name, table in tables.items() if table is None})


def dB(value: float) -> str:
    return f"{value:.2f} dB"


def differs(a: float, a_sem: float, b: float, b_sem: float) -> bool:
    return abs(a - b) > 2 * math.hypot(a_sem, b_sem)


def compare(name_a: str, a: pd.Series, name_b: str, b: pd.Series, column: str = "psnr_hole",
            unit=dB) -> str:
    """'A (x) is above/below/level with B (y)' for one metric with standard errors."""
    x, y = a[column], b[column]
    if not differs(x, a[column + "_sem"], y, b[column + "_sem"]):
        return (f"{name_a} ({unit(x)}) and {name_b} ({unit(y)}) do not differ beyond their "
                f"standard errors")
    return f"{name_a} ({unit(x)}) is {'above' if x > y else 'below'} {name_b} ({unit(y)})"


def lam_finding(ablation: pd.DataFrame) -> str:
    """The post's 'lambda matters most' against the ablation (pasted completions)."""
    pasted = ablation.loc["paste"].groupby(level="lam")[["psnr_hole", "psnr_hole_sem"]].mean()
    base = pasted.iloc[0]
    level = [lam for lam, row in pasted.iterrows()
             if not differs(row.psnr_hole, row.psnr_hole_sem, base.psnr_hole, base.psnr_hole_sem)]
    flat_to = max(lam for lam in level if all(l in level for l in pasted.index if l <= lam))
    flat = pasted.loc[:flat_to, "psnr_hole"]
    largest = pasted.iloc[-1]
    text = (f"From λ = {lam_label(pasted.index[0])} to λ = {lam_label(flat_to)}, the mean hole PSNR "
            f"of the pasted completions stays between {dB(flat.min())} and {dB(flat.max())}, "
            f"within the standard errors (averaged over both norms and both weightings).")
    if flat_to < pasted.index[-1]:
        text += (f" At λ = {lam_label(pasted.index[-1])} it is {dB(largest.psnr_hole)}, "
                 f"{dB(abs(base.psnr_hole - largest.psnr_hole))} "
                 f"{'below' if largest.psnr_hole < base.psnr_hole else 'above'} λ = 0.")
    if flat_to >= 0.003:
        text += (" Over the range where the paper (0.003) and the post set it, λ changes nothing "
                 "we can measure: the context term decides the fill, and the post's \"λ matters "
                 "most\" does not hold here."
                 + (" λ matters only once it is large enough to outweigh the context term, and "
                    "then it " + ("hurts." if largest.psnr_hole < base.psnr_hole else "helps.")
                    if flat_to < pasted.index[-1] else ""))
    else:
        text += " λ changes the fill within the range the paper uses: the post was right."
    return text


def setting_means(ablation: pd.DataFrame, level: str) -> pd.DataFrame:
    """Mean hole PSNR and its standard error per value of one setting, pasted, over all λ."""
    return ablation.loc["paste"].groupby(level=level)[["psnr_hole", "psnr_hole_sem"]].mean()


def choice_finding(ablation: pd.DataFrame, level: str, a: str, b: str) -> str:
    """One setting against another (norm l1/l2, weighting yeh/plain), pasted, over all λ."""
    means = setting_means(ablation, level)
    return compare(a, means.loc[a], b, means.loc[b])


def choices_that_matter(tables: dict) -> tuple[list[str], list[str]]:
    """(choices that change the centre-mask hole PSNR beyond the standard errors, those that
    do not), over the choices the post and the paper differ on."""
    def pair(table, a, b):
        return differs(table.loc[a].psnr_hole, table.loc[a].psnr_hole_sem,
                       table.loc[b].psnr_hole, table.loc[b].psnr_hole_sem)

    verdicts = {}
    ablation, comparison = tables["ablation"], tables["comparison"]
    if ablation is not None:
        means = setting_means(ablation, "lam")
        verdicts["λ from 0 to the paper's 0.003"] = pair(means, means.index[0], 0.003) \
            if 0.003 in means.index else None
        verdicts["ℓ1 or ℓ2"] = pair(setting_means(ablation, "norm"), "l1", "l2")
        verdicts["plain or Yeh's weights"] = pair(setting_means(ablation, "weighting"),
                                                  "yeh", "plain")
    if comparison is not None:
        centre = comparison.loc["center"]
        verdicts["pasting or Poisson blending"] = pair(centre, "GAN (poisson)", "GAN (paste)")
        one = [name for name in centre.index if "1 start" in name]
        if one:
            verdicts["one start or the best of several"] = pair(centre, "GAN (poisson)", one[0])
    matter = [name for name, changed in verdicts.items() if changed is not None and changed]
    level = [name for name, changed in verdicts.items() if changed is not None and not changed]
    return matter, level


def rules_finding(rules: pd.DataFrame) -> str:
    gd, adam = rules.loc["gd"], rules.loc["adam"]
    return (f"Under the post's rule, gradient descent until ‖∇z‖₁ < {gd.tol:g} on our summed loss, "
            f"{int(gd.stopped)} of {int(gd.images)} images stopped within {int(gd.cap)} "
            f"iterations, and {int(gd.crossed_post_tol)} ever crossed the post's threshold "
            f"converted to our units ({gd.post_tol:g}). Adam reached a hole PSNR of "
            f"{dB(adam['hole PSNR (Poisson)'])} against gradient descent's "
            f"{dB(gd['hole PSNR (Poisson)'])}, final losses {adam['final loss']:.1f} against "
            f"{gd['final loss']:.1f}.")


def schedule_finding(schedules: pd.DataFrame) -> str:
    joint, blocks = schedules.loc["joint"], schedules.loc["blocks"]
    text = (f"In the last epoch of two equal short runs, the discriminator's mean probability that "
            f"a generated image is real, D(G(z)), was {blocks.d_fake:.3f} under the post's blocks "
            f"against {joint.d_fake:.3f} under joint steps; G's loss was {blocks.g_loss:.2f} "
            f"against {joint.g_loss:.2f}.")
    if blocks.d_fake < joint.d_fake:
        return text + (" With more discriminator than generator batches, the discriminator wins "
                       "and the generator learns less: the joint DCGAN default, which we train "
                       "with, keeps the game balanced.")
    return text + " The blocks did not tip the game towards the discriminator here."


def g_loss_finding(thirds: pd.DataFrame) -> str:
    middle, last = thirds.iloc[1], thirds.iloc[2]
    steps = thirds.post_steps.iloc[0]
    trend = "rises" if last.g_loss > middle.g_loss else "does not rise"
    return (f"The evaluated model's G loss {trend} late in training: {last.g_loss:.2f} on average "
            f"in the last third of its steps against {middle.g_loss:.2f} in the middle third. Its "
            f"run is {steps:,.0f} of the post's batch-64 steps long"
            + (", short of the post's step 30,000, so it cannot show a rise there."
               if steps < 30_000 else "."))


def selection_finding(scores: pd.DataFrame) -> str:
    tied = scores.index[scores.tied_with_best].tolist()
    chosen = int(scores.index[scores.chosen][0])
    text = (f"Scored by the hole PSNR of their completions, {len(tied)} of the {len(scores)} "
            f"checkpoints (epochs {', '.join(str(e) for e in tied)}) are within one standard "
            f"error of the best. The chapters use epoch {chosen}"
            + (", chosen by eye" if scores.by_eye.iloc[0] else ", the latest of those")
            + ("; it is among them." if chosen in tied else
               "; it is not among them, and the selection chapter says why."))
    if len(tied) > 1:
        text += (" The numbers cannot rank these checkpoints, so the post was right to look: a "
                 "person's judgement of the samples is as good a rule, and the book records it.")
    return text


def method_ranking(comparison: pd.DataFrame, mask: str) -> str:
    """Where the GAN stands among the methods on one mask kind."""
    table = comparison.loc[mask].sort_values("psnr_hole", ascending=False)
    best = table.iloc[0]
    gan = table.loc["GAN (poisson)"]
    rank = list(table.index).index("GAN (poisson)") + 1
    return (f"{mask}: best {table.index[0]} ({dB(best.psnr_hole)}); the GAN + Poisson is "
            f"{rank} of {len(table)} ({dB(gan.psnr_hole)}"
            + ("" if table.index[0] == "GAN (poisson)" else
               ", " + ("within" if not differs(gan.psnr_hole, gan.psnr_hole_sem, best.psnr_hole,
                                               best.psnr_hole_sem) else "outside")
               + " the standard errors of the best") + ")")


def paper_finding(celeba: pd.DataFrame) -> str:
    gan, telea = celeba.loc["GAN (poisson)"], celeba.loc["telea"]
    reported = ", ".join(f"{value} dB for {name.split(' (')[0]}"
                         for name, value in PAPER_CELEBA_CENTRE_PSNR.items())
    return (f"On held-out CelebA faces (centre mask, hole PSNR), our GAN + Poisson reaches "
            f"{dB(gan.psnr_hole)} and Telea {dB(telea.psnr_hole)}; the paper reports {reported}. "
            f"Our faces model is smaller and saw fewer faces, so the gap to the paper's numbers "
            f"measures our budget as much as the method.")


def conclusion(tables: dict) -> str:
    """The two questions answered in a few sentences, from the same tables."""
    parts = []
    comparison = tables["comparison"]
    if comparison is not None:
        centre = comparison.loc["center"]
        classical = centre.loc[[name for name in CLASSICAL if name in centre.index]]
        best = classical.psnr_hole.idxmax()
        gan = centre.loc["GAN (poisson)"]
        parts.append(
            f"On the centre mask Yeh's latent search ({dB(gan.psnr_hole)}) "
            + ("does not beat" if gan.psnr_hole <= classical.psnr_hole.max() else "beats")
            + f" the best classical fill, {best} ({dB(classical.psnr_hole.max())}), on hole PSNR.")
    verdict, centre = tables["beyond_verdict"], tables["beyond_centre"]
    if verdict is not None:
        ensemble = [name for name in centre.index if "ensemble of" in name][-1]
        won = bool(verdict.loc["telea", "psnr_better"])
        realistic = verdict.loc[list(CLASSICAL)].more_realistic.astype(bool)
        parts.append(
            f"Averaging the starts' fills ({ensemble.replace(' (poisson)', '')}) "
            + ("beats Telea's PSNR beyond the interval" if won else
               "does not beat Telea's PSNR beyond the interval")
            + f", and a fresh critic finds it more realistic than {int(realistic.sum())} of the "
              f"{len(realistic)} classical fills.")
    matter, level = choices_that_matter(tables)
    if matter or level:
        parts.append("Of the choices the post and the paper differ on, "
                     + (f"these change the hole PSNR beyond the standard errors: "
                        f"{', '.join(matter)}" if matter else "none changes the hole PSNR "
                        "beyond the standard errors")
                     + (f"; these do not: {', '.join(level)}." if level else "."))
    return " ".join(parts)


def targets_sentence(targets: pd.DataFrame) -> str:
    """Which of the fills tried beat Telea's PSNR and every classical fill's realism."""
    both = targets.index[targets.both.astype(bool)].tolist()
    closer = targets.index[targets.closer.astype(bool)].tolist()
    realistic = targets.index[targets.more_realistic.astype(bool)].tolist()
    if both:
        return f"Both targets are met by: {', '.join(both)}."
    return (f"Of the {len(targets)} GAN fills tried, {len(closer)} beat Telea's hole PSNR beyond "
            f"the intervals and {len(realistic)} are more realistic than every classical fill; "
            f"none does both.")


def beyond_finding(centre: pd.DataFrame, verdict: pd.DataFrame,
                   targets: pd.DataFrame | None = None) -> str:
    """The ensemble against the classical fills: the two targets of the beyond-Yeh chapter."""
    ensemble = [name for name in centre.index if "ensemble of" in name][-1]
    row = centre.loc[ensemble]
    telea = verdict.loc["telea"]
    classical = verdict.loc[list(CLASSICAL)]
    realistic = classical.index[classical.more_realistic.astype(bool)].tolist()
    lines = [
        f"The {ensemble.replace(' (poisson)', '')} (Poisson-blended) reaches a hole PSNR of "
        f"{dB(row.psnr_hole)}; against Telea, image by image, it is "
        f"{telea.psnr_difference:+.2f} dB (95% interval {telea.psnr_low:+.2f} to "
        f"{telea.psnr_high:+.2f}): "
        + ("**better, outside the interval**." if telea.psnr_better else
           "**not better beyond the interval**."),
        f"A fresh critic tells its fills from real photographs with accuracy {row.critic:.3f} "
        f"({row.critic_low:.3f}–{row.critic_high:.3f}); real against real gives "
        f"{centre.loc['real images', 'critic']:.3f}. It is more realistic, beyond the intervals, "
        f"than {len(realistic)} of the {len(CLASSICAL)} classical fills"
        + (f" ({', '.join(realistic)})" if realistic else "") + ".",
        targets_sentence(targets) if targets is not None else "",
        "Yeh's single best start: hole PSNR "
        f"{dB(centre.loc['GAN (poisson)', 'psnr_hole'])}, critic accuracy "
        f"{centre.loc['GAN (poisson)', 'critic']:.3f}; Telea: "
        f"{dB(centre.loc['telea', 'psnr_hole'])}, {centre.loc['telea', 'critic']:.3f}.",
    ]
    return " ".join(lines)


def multistart_finding(comparison: pd.DataFrame) -> str:
    """Best of K starts (lowest loss) against the first start alone, centre mask."""
    centre = comparison.loc["center"]
    one = [name for name in centre.index if "1 start" in name]
    if not one:
        return "This profile's comparison ran one start per image, so it cannot compare."
    best, first = centre.loc["GAN (poisson)"], centre.loc[one[0]]
    text = ("Keeping the lowest-loss of several starts (the post's first next step): "
            + compare("the best start", best, "the first start alone", first) + ".")
    if not best.psnr_hole > first.psnr_hole + 2 * math.hypot(best.psnr_hole_sem,
                                                             first.psnr_hole_sem):
        text += (" A lower loss does not buy a truer hole: the loss sees only the known pixels, "
                 "and starts that fit them about equally well disagree inside. This is the "
                 "post's own argument, that the model cannot know the interior, in numbers.")
    return text

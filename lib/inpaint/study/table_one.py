"""Yeh et al.'s Table 1, like for like (the faces chapter, `make faces`): our GAN + Poisson on the
authors' own test faces and on our held-out faces in both crops, in every reading of PSNR the
paper may mean (`paper.PSNR_READINGS`), beside the paper's numbers, the strongest classical fill
and the spread over training seeds.

The chapter's per-image table (`faces_images`) has one row per image set, training seed, mask
kind, method and face: columns `set` (a key of SETS), `seed`, `mask`, `method`, `image` and the
metrics of `inpaint.method.metrics.evaluate`.
"""
from __future__ import annotations

import pandas as pd

from inpaint.method.masks import MASK_KINDS, READINGS as MASK_READINGS
from inpaint.study import stats, wording
from inpaint.study.fills import YEH
from inpaint.study.rivals import rivals
from inpaint.study.paper import (CE, FACE_SETS as SETS, PAPER_TRAINING_FACES, PSNR_READINGS,
                                 TABLE_1_CELEBA, YEH as PAPER_YEH, readings)


def paper_row(mask: str) -> str:
    """The paper's mask kind a mask kind of ours stands for: itself, or the one it reads."""
    return MASK_READINGS.get(mask, mask)


def masks_in(metrics: pd.DataFrame) -> list[str]:
    """The mask kinds of `metrics`, the paper's four first, then the other readings of two."""
    return [mask for mask in MASK_KINDS + tuple(MASK_READINGS) if mask in set(metrics["mask"])]


def part(metrics: pd.DataFrame, images: str, seed: int = 0) -> pd.DataFrame:
    """The rows of one image set and training seed."""
    chosen = metrics[(metrics["set"] == images) & (metrics["seed"] == seed)]
    if chosen.empty:
        raise ValueError(f"no rows for set {images!r} and seed {seed}; the table holds sets "
                         f"{sorted(set(metrics['set']))} and seeds {sorted(set(metrics['seed']))}")
    return chosen


def readings_table(metrics: pd.DataFrame, images: str, seed: int = 0) -> pd.DataFrame:
    """One row per mask kind: the paper's two numbers (for the row a mask reads), then our GAN +
    Poisson in each reading of PSNR, the 95% interval of its per-image mean, and the faces."""
    rows = {}
    for mask in masks_in(part(metrics, images, seed)):
        ours = part(metrics, images, seed).query("mask == @mask and method == @YEH")
        low, high = stats.mean_interval(ours.psnr_hole)
        paper = TABLE_1_CELEBA[paper_row(mask)]
        rows[mask] = {f"{PAPER_YEH} (paper)": paper[PAPER_YEH], f"{CE} (paper)": paper[CE],
                      **readings(ours), "low": low, "high": high, "faces": len(ours)}
    return pd.DataFrame.from_dict(rows, orient="index").rename_axis("mask")


def every_fill(metrics: pd.DataFrame, images: str, seed: int = 0) -> pd.DataFrame:
    """Every method's hole PSNR in each reading, one row per mask kind and method (the GAN's
    fills first, then the classical fills, as the chapter made them), with the faces."""
    chosen = part(metrics, images, seed)
    rows = {(mask, method): {**readings(group), "faces": len(group)}
            for mask in masks_in(chosen)
            for method, group in chosen[chosen["mask"] == mask].groupby("method", sort=False)}
    table = pd.DataFrame.from_dict(rows, orient="index")
    table.index = pd.MultiIndex.from_tuples(table.index, names=["mask", "method"])
    return table


def rivals_table(metrics: pd.DataFrame, images: str, seed: int = 0) -> pd.DataFrame:
    """One row per mask kind: the strongest classical fill (by its mean, tested against the
    runner-up: `rivals.rivals`), its hole PSNR in each reading, and our GAN + Poisson minus it,
    face by face, with the Holm-adjusted interval of the family over every classical fill."""
    rows = {}
    chosen = part(metrics, images, seed)
    for mask in masks_in(chosen):
        r = rivals(chosen, mask, SETS[images])
        best = chosen.query("mask == @mask and method == @r.best")
        c = r.tests[r.best]
        rows[mask] = {"strongest classical fill": wording.method(r.best),
                      **{f"its {key}": value for key, value in readings(best).items()},
                      "GAN + Poisson minus it": c.difference, "low": c.low, "high": c.high,
                      "faces": c.n}
    return pd.DataFrame.from_dict(rows, orient="index").rename_axis("mask")


def seeds_table(metrics: pd.DataFrame, images: str) -> pd.DataFrame:
    """Our GAN + Poisson's hole PSNR (mean of images) for each training seed of the model, per
    mask kind, with the seeds' range: how far apart models of one configuration land."""
    seeds = sorted(set(metrics.loc[metrics["set"] == images, "seed"]))
    table = pd.DataFrame({f"seed {seed}": readings_table(metrics, images, seed)[
        next(iter(PSNR_READINGS))] for seed in seeds})
    return table.assign(range=table.max(axis=1) - table.min(axis=1))


def conditional_sentence(metrics: pd.DataFrame, images: str, mask: str = "center",
                         seed: int = 0) -> str:
    """Our number against the paper's, one clause per reading of PSNR ("if Table 1 is ..., ours
    is ..."), never a bare "reached": which reading the paper used is not known."""
    row = readings_table(metrics, images, seed).loc[mask]
    paper = row[f"{PAPER_YEH} (paper)"]
    clauses = [f"if it is {PSNR_READINGS[key]}, ours is {row[key]:.2f} dB"
               + (f" [{row.low:.2f}, {row.high:.2f}]" if key == next(iter(PSNR_READINGS)) else "")
               for key in PSNR_READINGS]
    return (f"On {SETS[images]}, {int(row.faces)} faces, {mask} mask, against the paper's "
            f"{paper} dB for Yeh et al.: " + "; ".join(clauses) + ".")


def model_words(grid: pd.DataFrame) -> str:
    """The faces chapter's chosen configuration in words, from its grid (`faces_grid`)."""
    from inpaint.study.experiments import grid_table
    table = grid_table(grid)
    row = table[table.chosen].iloc[0]
    tied = int((table.tied | table.best).sum())
    why = ("the best point of the chapter's grid" if tied == 1 else
           f"the cheapest of the {tied} points of the chapter's grid tied with the best")
    return (f"width {int(row.width)}, {int(row.faces):,} training faces cut as the authors' "
            f"are, epoch {int(row.epoch)}: {why}, chosen on other held-out faces (the centre-crop "
            f"faces are filled by the study's own faces model)")


def finding(metrics: pd.DataFrame, grid: pd.DataFrame, iters: int) -> str:
    """The faces chapter's answer: per set of faces, our centre-mask number against the paper's
    in every reading, the GAN against the strongest classical fill per mask (Holm), the spread
    over training seeds, and the confounds that stay (`iters`: the search's Adam iterations)."""
    lines = []
    for images in (key for key in SETS if key in set(metrics["set"])):
        rival = rivals_table(metrics, images)
        below = [m for m, row in rival.iterrows() if row.high < 0]
        above = [m for m, row in rival.iterrows() if row.low > 0]
        lines.append(
            conditional_sentence(metrics, images) + " Against the strongest classical fill of "
            "each mask (Holm-adjusted): "
            + "; ".join(f"{mask}, {row['strongest classical fill']} "
                        f"{row['GAN + Poisson minus it']:+.2f} dB [{row.low:+.2f}, "
                        f"{row.high:+.2f}]" for mask, row in rival.iterrows())
            + (f"; a classical fill is closer than the GAN on {wording.in_words(below)}"
               if below else "; no classical fill is closer than the GAN on any mask")
            + (f", the GAN closer than every classical fill on {wording.in_words(above)}."
               if above else "."))
    seeds = seeds_table(metrics, "authors") if "authors" in set(metrics["set"]) else None
    if seeds is not None and len(seeds.columns) > 2:
        lines.append(f"Over {len(seeds.columns) - 1} training seeds of the model in the authors' "
                     f"crop, the centre-mask number on their faces spans "
                     f"{seeds.loc['center', 'range']:.2f} dB (at most "
                     f"{seeds['range'].max():.2f} dB over the masks).")
    trained = int(grid.faces.max())
    lines.append(f"The model: {model_words(grid)}. What stays apart from the paper: it trained "
                 f"on {trained:,} faces where theirs saw about {PAPER_TRAINING_FACES:,}; our "
                 f"copies are half size, so our own faces are smoother than theirs (the chapter "
                 f"measures what that is worth); and the search ran {iters:,} Adam iterations "
                 f"per face" + (", as the paper's" if iters == 1_500 else
                                " where the paper's ran 1,500") + ".")
    return "\n".join(f"- {line}" for line in lines)

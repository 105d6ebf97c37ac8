"""Figures of the study. Each function returns a matplotlib Figure; the notebooks show it."""
from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import seaborn as sns
import torch

from .data import to_uint8


def moving_average(values: pd.Series, window: int) -> pd.Series:
    """Trailing mean over `window` logged values (missing values skipped)."""
    return values.rolling(window, min_periods=1).mean()


def training_curves(log: pd.DataFrame, window: int = 50, marked_epochs=(),
                    batch_size: int | None = None, title: str | None = None):
    """D and G losses (top) and mean D(x), D(G(z)) (bottom) against the training step.

    log: the run's log.csv as a DataFrame. Faint lines are per step, bold ones the trailing
    moving average over `window` steps. Where the schedule alternates blocks of D-only and
    G-only batches, each series is drawn on the steps that produced it. `marked_epochs` get a
    dotted line at their last step. With `batch_size`, a top axis counts the original post's
    steps of batch 64 that saw as many images.
    """
    fig, (top, bottom) = plt.subplots(2, 1, figsize=(10, 7), sharex=True)
    for axis, columns in ((top, [("d_loss", "D loss"), ("g_loss", "G loss")]),
                          (bottom, [("d_real", "mean D(x)"), ("d_fake", "mean D(G(z))")])):
        for column, label in columns:
            series = log.set_index("step")[column].dropna()
            line, = axis.plot(series.index, series.values, alpha=0.2, linewidth=0.6)
            axis.plot(series.index, moving_average(series, window).values, color=line.get_color(),
                      linewidth=1.8, label=f"{label} (moving average, {window} steps)")
        axis.legend(loc="upper right")
        axis.grid(alpha=0.3)
    for epoch in marked_epochs:
        step = log.step[log.epoch == epoch].max()
        for axis in (top, bottom):
            axis.axvline(step, color="grey", linewidth=0.8, linestyle=":")
        top.annotate(f"{epoch}", (step, 1), xycoords=("data", "axes fraction"), ha="center",
                     va="bottom", fontsize=8, color="grey")
    if batch_size:
        post = top.secondary_xaxis("top", functions=(lambda s: s * batch_size / 64,
                                                     lambda p: p * 64 / batch_size))
        post.set_xlabel("the post's steps of batch 64 (same number of images seen)", fontsize=9)
    top.set_ylabel("loss (binary cross-entropy)")
    bottom.set_ylabel("mean probability 'real'")
    bottom.set_ylim(0, 1)
    bottom.set_xlabel("training step (one batch each; dotted lines: the marked epochs' ends)")
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    return fig


def scores_with_errors(scores: pd.DataFrame, column: str, ylabel: str, chosen: int | None = None):
    """A score per epoch (index) with error bars of one standard error (`column + "_sem"`);
    the `chosen` epoch drawn in red."""
    fig, axis = plt.subplots(figsize=(7, 3.8))
    axis.errorbar(scores.index, scores[column], yerr=scores[column + "_sem"], fmt="o-",
                  capsize=4, label="mean ± one standard error")
    if chosen is not None:
        axis.plot([chosen], [scores.loc[chosen, column]], "o", color="red", markersize=10,
                  label=f"chosen: epoch {chosen}", zorder=3)
    axis.set_xlabel("epoch")
    axis.set_ylabel(ylabel)
    axis.legend()
    axis.grid(alpha=0.3)
    fig.tight_layout()
    return fig


def image_grid(rows: list[torch.Tensor], row_labels: list[str], col_labels: list[str] | None = None,
               title: str | None = None, scale: float = 1.1):
    """A grid of images: rows[r] is float (C, 3, 64, 64) in [-1, 1], one row per label."""
    n_rows, n_cols = len(rows), max(len(r) for r in rows)
    fig, axes = plt.subplots(n_rows, n_cols, figsize=(scale * n_cols + 1.2, scale * n_rows + 0.4),
                             squeeze=False)
    for r, (images, label) in enumerate(zip(rows, row_labels)):
        pictures = to_uint8(images)
        for c in range(n_cols):
            axis = axes[r, c]
            axis.set_xticks([])
            axis.set_yticks([])
            for spine in axis.spines.values():
                spine.set_visible(False)
            if c < len(pictures):
                axis.imshow(pictures[c])
            if c == 0:
                axis.set_ylabel(label, rotation=0, ha="right", va="center", fontsize=9)
            if r == 0 and col_labels:
                axis.set_title(col_labels[c], fontsize=9)
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    return fig


def comparison_columns(examples: dict[str, torch.Tensor], columns: list[str], count: int,
                       title: str | None = None):
    """One row per image, one column per entry of `examples` (e.g. corrupted / completed / true)."""
    rows = [torch.stack([examples[name][i] for name in columns]) for i in range(count)]
    return image_grid(rows, [f"image {i}" for i in range(count)], columns, title)


def metric_bars(table: pd.DataFrame, x: str, y: str, hue: str | None = None, title: str = "",
                ylabel: str | None = None):
    """Means with 95% bootstrap confidence intervals (seaborn), one bar per x (and hue)."""
    fig, axis = plt.subplots(figsize=(10, 4.5))
    sns.barplot(data=table, x=x, y=y, hue=hue, errorbar=("ci", 95), seed=0, ax=axis)
    if hue:
        axis.legend(title=hue, bbox_to_anchor=(1.01, 1), loc="upper left")
    axis.set_title(title)
    axis.set_ylabel(ylabel or y)
    axis.grid(axis="y", alpha=0.3)
    fig.tight_layout()
    return fig


def metric_lines(table: pd.DataFrame, x: str, y: str, hue: str, style: str | None = None,
                 title: str = "", log_x: bool = False, xlabel: str | None = None,
                 ylabel: str | None = None):
    """Means with 95% confidence bands against a numeric x (e.g. lambda); axes named in words
    by `xlabel` and `ylabel` (the column names otherwise)."""
    fig, axis = plt.subplots(figsize=(9, 4.5))
    sns.lineplot(data=table, x=x, y=y, hue=hue, style=style, errorbar=("ci", 95), seed=0,
                 marker="o", ax=axis)
    if log_x:  # symmetric log, so that 0 has a place at the left end
        axis.set_xscale("symlog", linthresh=1e-4)
        axis.set_xlim(0, table[x].max() * 2)
    axis.set_xlabel(xlabel or x)
    axis.set_ylabel(ylabel or y)
    axis.set_title(title)
    axis.grid(alpha=0.3)
    fig.tight_layout()
    return fig


def trajectories(history: np.ndarray, label: str, axis=None, log_y: bool = False):
    """Per-image curves (T, N) of a solver history, with their median in bold."""
    if axis is None:
        _, axis = plt.subplots(figsize=(6, 4))
    axis.plot(history, color="tab:blue", alpha=0.25, linewidth=0.7)
    axis.plot(np.median(history, axis=1), color="black", linewidth=2, label="median")
    if log_y:
        axis.set_yscale("log")
    axis.set_xlabel("iteration")
    axis.set_ylabel(label)
    axis.legend()
    axis.grid(alpha=0.3)
    return axis


def realism_against_psnr(table: pd.DataFrame, title: str = ""):
    """Each method as a point: critic accuracy (x; 0.5 = indistinguishable from real photographs)
    against mean hole PSNR (y), with the critic's 95% interval and +-1.96 standard errors of the
    PSNR as bars. table: one row per method (index) with psnr_hole, psnr_hole_sem, critic,
    critic_low, critic_high, as `experiments.comparison_table` gives for one mask kind. The best
    corner is the top left: close to the truth and hard to tell from a photograph."""
    fig, axis = plt.subplots(figsize=(8, 5.5))
    for name, row in table.iterrows():
        axis.errorbar(row.critic, row.psnr_hole, yerr=1.96 * row.psnr_hole_sem,
                      xerr=[[row.critic - row.critic_low], [row.critic_high - row.critic]],
                      fmt="o", capsize=3, label=name)
    axis.axvline(0.5, color="grey", linestyle=":", linewidth=1)
    axis.set_xlabel("critic accuracy, real against filled (0.5: cannot tell; 1: always caught)")
    axis.set_ylabel("hole PSNR (dB)")
    axis.set_title(title)
    axis.grid(alpha=0.3)
    axis.legend(fontsize=8, loc="center left", bbox_to_anchor=(1.01, 0.5))
    fig.tight_layout()
    return fig


def lambda_panels(psnr: pd.DataFrame, realism: pd.DataFrame, lam_label, title: str | None = None):
    """Hole PSNR and realism against lambda, side by side, each with its 95% interval.

    psnr: one row per lambda other than 0 (index), columns difference, low, high: the paired
    hole-PSNR difference to lambda 0 (dB). realism: one row per lambda (index), columns critic,
    critic_low, critic_high, auc, auc_low, auc_high. lam_label: lambda -> its label. Lambdas
    are drawn evenly spaced, in order, and labelled."""
    fig, (left, right) = plt.subplots(1, 2, figsize=(10, 4))
    positions = {lam: i for i, lam in enumerate(sorted(realism.index))}
    x = [positions[lam] for lam in psnr.index]
    left.errorbar(x, psnr.difference, yerr=[psnr.difference - psnr.low, psnr.high - psnr.difference],
                  fmt="o", capsize=4, color="tab:blue")
    left.axhline(0, color="grey", linewidth=1)
    left.set_ylabel("hole PSNR minus λ = 0's (dB)")
    left.set_title("distortion: paired difference to λ = 0")
    xr = [positions[lam] for lam in realism.index]
    for column, colour, label in (("critic", "tab:red", "critic accuracy"),
                                  ("auc", "tab:green", "critic AUC")):
        right.errorbar(xr, realism[column], capsize=4, fmt="o-", color=colour, label=label,
                       yerr=[realism[column] - realism[column + "_low"],
                             realism[column + "_high"] - realism[column]])
    right.axhline(0.5, color="grey", linewidth=1, linestyle=":")
    right.set_ylabel("critic score (0.5: cannot tell)")
    right.set_title("realism: fresh critics (lower is more real)")
    right.legend()
    for axis in (left, right):
        axis.set_xticks(range(len(positions)), [lam_label(lam) for lam in positions])
        axis.set_xlabel("λ (weight of the realism term)")
        axis.grid(alpha=0.3)
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    return fig

"""Figures of the study. Each function returns a matplotlib Figure; the notebooks show it.

The book shows a figure at most PAGE_PX pixels wide, scaled down from its PNG when wider.
`readable` raises every text of a figure to at least MIN_PX pixels at that width, whatever the
figure's size; each function here calls it last, and a notebook can call it on a figure it draws
itself. Methods get distinct colours and markers (`distinct_styles`). Importing the module sets
figure.dpi to DPI (the inline backend's own default), which that arithmetic assumes.
"""
from __future__ import annotations

import textwrap
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import seaborn as sns
import torch
from matplotlib.lines import Line2D
from matplotlib.text import Text

from inpaint.method.pixels import to_uint8
from inpaint.study import wording

PAGE_PX = 690   # the width of the book's text column at a 1280 px window, in pixels
MIN_PX = 10.5   # the smallest text on a figure, in pixels at PAGE_PX (10 and a margin)
PHONE_PX = 390  # the width a phone shows the front page's figure at
DPI = 100       # pixels per inch of the figures the notebooks show
MARKERS = ("o", "s", "^", "D", "v", "P", "X", "*", "<", ">", "h", "p", "8", "d", "H", "1",
           "2", "3", "4", "+")

# One colour-blind-safe palette for every figure (seaborn's "colorblind"); the functions here also
# give each series a marker of its own (MARKERS), so no series is told by its colour alone.
PALETTE = sns.color_palette("colorblind")
plt.rcParams.update({"figure.dpi": DPI, "savefig.dpi": "figure",
                     "axes.prop_cycle": plt.cycler(color=PALETTE)})


def _figure_width(fig) -> float:
    """The figure's width in inches as the notebook shows it: cropped to its contents, or wider
    than figsize where a legend or label sticks out."""
    renderer = fig.canvas.get_renderer()
    return max(fig.get_tightbbox(renderer).width, 0.1)


def readable(fig, min_px: float = MIN_PX, tight: bool = True):
    """Raise every text of `fig` (tick labels, axis labels, titles, legends, annotations) to at
    least `min_px` pixels when the figure is shown at most PAGE_PX wide, then (with `tight`) lay
    it out again with tight_layout; returns `fig`."""
    if tight:
        fig.tight_layout()
    for _ in range(3):  # larger text widens the figure, which shrinks it on the page: repeat
        fig.canvas.draw()
        width_px = max(_figure_width(fig) * fig.dpi, PAGE_PX)
        smallest = min_px * 72 / fig.dpi * width_px / PAGE_PX   # points
        raised = False
        for axis in fig.axes:
            for which in (axis.xaxis, axis.yaxis):
                labels = which.get_ticklabels()
                if labels and labels[0].get_fontsize() < smallest:
                    which.set_tick_params(labelsize=smallest)
                    raised = True
        for text in fig.findobj(Text):
            if text.get_text() and text.get_fontsize() < smallest - 1e-6:
                text.set_fontsize(smallest)
                raised = True
        if not raised:
            break
        if tight:
            fig.tight_layout()
    return fig


def distinct_styles(names) -> dict[str, dict]:
    """{name: {"color", "marker"}}, no two names sharing a colour: the colour-blind-safe PALETTE
    up to 10 names, tab20's strong shades then its light ones up to 20, and a marker of its own
    for each name (which tells the series apart where colours do not)."""
    names = list(dict.fromkeys(names))
    if len(names) <= len(PALETTE):
        colours = list(PALETTE)
    else:
        tab20 = list(plt.get_cmap("tab20").colors)
        colours = tab20[0::2] + tab20[1::2]
        if len(names) > 20:
            colours += list(plt.get_cmap("tab20b").colors)
    return {name: {"color": colours[i % len(colours)], "marker": MARKERS[i % len(MARKERS)]}
            for i, name in enumerate(names)}


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
        axis.grid(alpha=0.3)
    # The legends go to the side the marked epochs leave free, so that they hide no marker.
    marked_steps = [log.step[log.epoch == epoch].max() for epoch in marked_epochs]
    late = bool(marked_steps) and min(marked_steps) > (log.step.min() + log.step.max()) / 2
    for axis in (top, bottom):
        axis.legend(loc="upper left" if late else "upper right")
    for epoch in marked_epochs:
        step = log.step[log.epoch == epoch].max()
        for axis in (top, bottom):
            axis.axvline(step, color="grey", linewidth=0.8, linestyle=":")
        top.annotate(f"{epoch}", (step, 1), xycoords=("data", "axes fraction"), xytext=(2, -2),
                     textcoords="offset points", ha="left", va="top", color="grey")
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
    return readable(fig)


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
    return readable(fig)


def image_grid(rows: list[torch.Tensor], row_labels: list[str], col_labels: list[str] | None = None,
               title: str | None = None, scale: float = 1.1, min_px: float = MIN_PX):
    """A grid of images: rows[r] is float (C, 3, 64, 64) in [-1, 1], one row per label.

    Column titles are wrapped to their column; where a title would still run into its
    neighbour, the columns are numbered instead and a line under the grid names them."""
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
                axis.set_ylabel(label, rotation=0, ha="right", va="center")
    if title:
        fig.suptitle(title)
    readable(fig, min_px)
    if col_labels:
        _column_titles(fig, list(axes[0]), [str(label) for label in col_labels], min_px=min_px)
    return fig


def _titles_overlap(fig, axes) -> bool:
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    boxes = [axis.title.get_window_extent(renderer) for axis in axes]
    gap = 0.02 * fig.dpi  # pixels between neighbouring titles
    return any(left.x1 + gap > right.x0 for left, right in zip(boxes, boxes[1:]))


def _column_titles(fig, axes, labels: list[str], max_lines: int = 3,
                   min_px: float = MIN_PX) -> None:
    """Titles over the first row's axes, wrapped to the column width, or numbered with a key
    under the figure where wrapping cannot keep neighbours apart."""
    labels = labels + [""] * (len(axes) - len(labels))
    size = axes[0].yaxis.label.get_fontsize()
    column_px = axes[0].get_window_extent().width
    chars = max(4, int(column_px / (0.6 * size * fig.dpi / 72)))
    for width in (chars, max(3, int(chars * 0.75))):
        lines = [textwrap.wrap(label, width, break_on_hyphens=True) or [""] for label in labels]
        if max(len(wrapped) for wrapped in lines) > max_lines:
            continue
        for axis, wrapped in zip(axes, lines):
            axis.set_title("\n".join(wrapped), fontsize=size)
        readable(fig, min_px)
        if not _titles_overlap(fig, axes):
            return
    for number, axis in enumerate(axes, 1):
        axis.set_title(f"({number})" if labels[number - 1] else "", fontsize=size)
    key = "; ".join(f"({number}) {label}" for number, label in enumerate(labels, 1) if label)
    line_chars = int(fig.get_figwidth() * 72 / (0.55 * size))
    fig.text(0.5, 0, "Columns: " + textwrap.fill(key, line_chars), ha="center", va="top",
             fontsize=size)
    readable(fig, min_px)


def comparison_columns(examples: dict[str, torch.Tensor], columns: list[str], images,
                       title: str | None = None, labels: list[str] | None = None):
    """One row per image, one column per entry of `examples` (e.g. corrupted / completed / true).
    images: how many of the first images, or their positions (e.g. `fills.extremes`'s); labels:
    each row's label ("image <position>" by default)."""
    images = list(range(images)) if isinstance(images, int) else list(images)
    rows = [torch.stack([examples[name][i] for name in columns]) for i in images]
    return image_grid(rows, labels or [f"image {i}" for i in images],
                      [wording.method(name) for name in columns], title)


def front_figure(examples: dict[str, torch.Tensor], columns: list[str], images,
                 labels: list[str]):
    """The front page's figure: `comparison_columns` with tiles and type large enough to read on
    a phone (the text at least MIN_PX pixels when the figure is PHONE_PX wide)."""
    rows = [torch.stack([examples[name][i] for name in columns]) for i in images]
    return image_grid(rows, labels, [wording.method(name) for name in columns], scale=1.6,
                      min_px=MIN_PX * PAGE_PX / PHONE_PX)


def metric_bars(table: pd.DataFrame, x: str, y: str, hue: str | None = None, title: str = "",
                ylabel: str | None = None):
    """Means with 95% bootstrap confidence intervals (seaborn), one bar per x (and hue), each
    hue in a colour of its own."""
    fig, axis = plt.subplots(figsize=(10, 4.5))
    palette = None
    if hue:
        palette = {name: style["color"] for name, style in distinct_styles(table[hue]).items()}
    sns.barplot(data=table, x=x, y=y, hue=hue, errorbar=("ci", 95), seed=0, ax=axis,
                palette=palette)
    if hue:
        axis.legend(title=hue, bbox_to_anchor=(1.01, 1), loc="upper left")
    axis.set_title(title)
    axis.set_ylabel(ylabel or y)
    axis.grid(axis="y", alpha=0.3)
    return readable(fig)


def metric_lines(table: pd.DataFrame, x: str, y: str, hue: str, style: str | None = None,
                 title: str = "", log_x: bool = False, xlabel: str | None = None,
                 ylabel: str | None = None):
    """Means with 95% confidence bands against a numeric x (e.g. lambda); axes named in words
    by `xlabel` and `ylabel` (the column names otherwise)."""
    fig, axis = plt.subplots(figsize=(9, 4.5))
    palette = {name: style["color"] for name, style in distinct_styles(table[hue]).items()}
    sns.lineplot(data=table, x=x, y=y, hue=hue, style=style, errorbar=("ci", 95), seed=0,
                 marker="o", ax=axis, palette=palette)
    if log_x:  # symmetric log, so that 0 has a place at the left end
        axis.set_xscale("symlog", linthresh=1e-4)
        axis.set_xlim(0, table[x].max() * 2)
    axis.set_xlabel(xlabel or x)
    axis.set_ylabel(ylabel or y)
    axis.set_title(title)
    axis.grid(alpha=0.3)
    return readable(fig)


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


def _place_labels(fig, axis, labels) -> None:
    """Write each (text, x, y, colour) beside its point, at the first of a few offsets where it
    overlaps no label already placed, so that crowded points keep legible numbers."""
    offsets = [(5, 4), (5, -14), (-14, 4), (-14, -14), (10, 14), (-20, 14), (10, -24),
               (-20, -24), (18, -5), (-28, -5)]
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    placed = []
    for text, x, y, colour in labels:
        for dx, dy in offsets:
            note = axis.annotate(text, (x, y), xytext=(dx, dy), textcoords="offset points",
                                 color=colour, fontweight="bold")
            box = note.get_window_extent(renderer)
            if not any(box.overlaps(other) for other in placed) or (dx, dy) == offsets[-1]:
                placed.append(box)
                break
            note.remove()


def realism_against_psnr(table: pd.DataFrame, title: str = ""):
    """Each method as a point: critic accuracy (x; 0.5 = indistinguishable from real photographs)
    against mean hole PSNR (y), with the critic's 95% interval and +-1.96 standard errors of the
    PSNR as bars. table: one row per method (index) with psnr_hole, psnr_hole_sem, critic,
    critic_low, critic_high, as `experiments.comparison_table` gives for one mask kind. The best
    corner is the top left: close to the truth and hard to tell from a photograph. Each method
    has a colour, a marker and a number of its own, written beside its point and before its name
    in the legend (below the plot), so that a point is named even where the points crowd. The
    x-axis spans the intervals; the chance line (0.5) is drawn when it falls inside them."""
    fig, axis = plt.subplots(figsize=(8, 6.5 + 0.18 * len(table)))
    styles = distinct_styles(table.index)
    for number, (name, row) in enumerate(table.iterrows(), start=1):
        axis.errorbar(row.critic, row.psnr_hole, yerr=1.96 * row.psnr_hole_sem,
                      xerr=[[row.critic - row.critic_low], [row.critic_high - row.critic]],
                      fmt=styles[name]["marker"], color=styles[name]["color"], capsize=3,
                      markersize=7, label=f"{number}  {wording.method(name)}")
    low, high = table.critic_low.min(), table.critic_high.max()
    margin = 0.05 * max(high - low, 0.05)
    axis.set_xlim(low - margin, high + margin)
    readable(fig)
    _place_labels(fig, axis, [(str(number), row.critic, row.psnr_hole, styles[name]["color"])
                              for number, (name, row) in enumerate(table.iterrows(), start=1)])
    if low - margin <= 0.5 <= high + margin:
        axis.axvline(0.5, color="grey", linestyle=":", linewidth=1)
    axis.set_xlabel("critic accuracy, real against filled (0.5: cannot tell; 1: always caught)")
    axis.set_ylabel("hole PSNR (dB)")
    axis.set_title(title)
    axis.grid(alpha=0.3)
    axis.legend(loc="upper center", bbox_to_anchor=(0.5, -0.12), ncol=2, frameon=False)
    return readable(fig)


def paired_differences(table: pd.DataFrame, title: str = "", xlabel: str = "difference",
                       group_title: str | None = None, group: str = "group",
                       label: str = "label"):
    """Dots with intervals for paired differences, e.g. each method's hole PSNR minus Telea's on
    the same images, one colour and marker per mask kind, with a line at zero.

    table: one row per (group, label) with the columns
      - `group` (default "group"): the set a difference belongs to, e.g. the mask kind; one colour
        and marker each, named in the legend (titled `group_title`);
      - `label` (default "label"): what is compared, e.g. the method; one row of the plot each,
        top to bottom in order of first appearance;
      - "difference": the estimate (the mean paired difference);
      - "low", "high": its interval, e.g. a 95% bootstrap interval (clipped to contain the
        estimate).
    A filled marker is an interval that excludes zero; an open one includes it."""
    missing = {group, label, "difference", "low", "high"} - set(table.columns)
    if missing:
        raise KeyError(f"paired_differences needs the columns {sorted(missing)}")
    labels = list(dict.fromkeys(table[label]))
    groups = list(dict.fromkeys(table[group]))
    styles = distinct_styles(groups)
    position = {name: i for i, name in enumerate(labels)}
    step = 0.8 / len(groups)
    fig, axis = plt.subplots(figsize=(8, 1.6 + len(labels) * (0.3 + 0.12 * len(groups))))
    handles = []
    for k, name in enumerate(groups):
        part = table[table[group] == name]
        y = part[label].map(position).to_numpy(float) + (k - (len(groups) - 1) / 2) * step
        x = part["difference"].to_numpy(float)
        low = np.maximum(x - part["low"].to_numpy(float), 0)
        high = np.maximum(part["high"].to_numpy(float) - x, 0)
        excludes = (part["low"].to_numpy(float) > 0) | (part["high"].to_numpy(float) < 0)
        colour, marker = styles[name]["color"], styles[name]["marker"]
        axis.errorbar(x, y, xerr=[low, high], fmt="none", ecolor=colour, capsize=3)
        axis.scatter(x[excludes], y[excludes], marker=marker, color=colour, zorder=3)
        axis.scatter(x[~excludes], y[~excludes], marker=marker, facecolors="white",
                     edgecolors=colour, zorder=3)
        handles.append(Line2D([], [], color=colour, marker=marker, linestyle="none",
                              label=str(name)))
    axis.axvline(0, color="black", linewidth=1)
    axis.set_yticks(range(len(labels)), [str(name) for name in labels])
    axis.set_ylim(len(labels) - 0.5, -0.5)
    axis.set_xlabel(xlabel)
    axis.set_title(title)
    axis.grid(axis="x", alpha=0.3)
    axis.legend(handles=handles, title=(group_title or group) + "\n(filled: interval excludes 0)",
                loc="center left", bbox_to_anchor=(1.01, 0.5))
    return readable(fig)


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
    return readable(fig)

"""How the book's generated text and tables word things, in one place: the reader's name of every
method (one registry, keyed by the names the tables store), lists joined in words, numbers, and
tables with reader column names and units, no NaN and no True/False.

Text only (pandas and str): the page writers and the findings use it without importing torch."""
from __future__ import annotations

import math
from typing import Iterable

import pandas as pd

# The reader's name of each classical fill (inpaint.method.baselines.BASELINES's keys, checked by
# tests/test_wording.py), as a proper noun in a sentence and in a table.
METHOD_NAMES = {"mean": "mean colour", "telea": "Telea", "navier-stokes": "Navier–Stokes",
                "biharmonic": "biharmonic"}
# The blends of a GAN fill's stored name, "GAN (poisson)" (inpaint.study.fills.method_name).
BLEND_NAMES = {"poisson": "Poisson", "paste": "pasted"}
# The table columns the chapters show, with their reader names and units.
COLUMNS = {"psnr_hole": "hole PSNR (dB)", "psnr_hole_sem": "s.e.", "ssim_hole": "hole SSIM",
           "ssim_hole_sem": "s.e. (SSIM)", "psnr": "PSNR (dB)", "psnr_sem": "s.e. (PSNR)",
           "ssim": "SSIM", "ssim_sem": "s.e. (SSIM)", "p_holm": "p (Holm)", "p": "p",
           "difference": "difference", "low": "95% low", "high": "95% high", "n": "n",
           "tied": "tied with the best", "best": "best", "critic": "critic accuracy",
           "critic_low": "critic 95% low", "critic_high": "critic 95% high", "auc": "AUC",
           "auc_low": "AUC 95% low", "auc_high": "AUC 95% high", "seconds": "seconds",
           "d_loss": "D loss", "g_loss": "G loss", "d_real": "D(x)", "d_fake": "D(G(z))",
           "iterations": "mean iterations", "lam": "λ", "norm": "norm", "weighting": "weighting",
           "blend": "blend", "method": "method", "mask": "mask", "epoch": "epoch",
           "l1_hole": "hole L1 (grey levels)", "l1_hole_sem": "s.e. (L1)",
           "psnr_full": "whole-image PSNR (dB)", "psnr_full_sem": "s.e. (whole PSNR)",
           "ssim_full": "whole-image SSIM", "ssim_full_sem": "s.e. (whole SSIM)",
           "differs": "difference stated", "chosen": "chosen", "psnr_better": "closer (PSNR)",
           "more_realistic": "more realistic", "closer": "closer", "both": "both", "interval": "interval", "held_out": "held out",
           "seeds": "seeds", "discriminator_epoch": "D epoch",
           "psnr_difference": "hole PSNR difference (dB)", "psnr_low": "95% low (PSNR)",
           "psnr_high": "95% high (PSNR)", "critic_difference": "score difference",
           "critic_n": "n (critic)", "no_easier": "no easier to catch"}
# The ablation's settings (inpaint.study.experiments' norm and weighting levels) in a sentence.
SETTING_NAMES = {"l1": "the ℓ1 context loss", "l2": "the ℓ2 context loss",
                 "yeh": "Yeh's importance weights", "plain": "the plain mask"}
# The training schedules (inpaint.training's `schedule`) and the solver's stopping rules (chapter
# 06's `rules`) in a sentence or a title.
SCHEDULE_NAMES = {"joint": "joint D and G steps", "blocks": "the post's 30:10 blocks"}
RULE_NAMES = {"gd": "gradient descent", "adam": "Adam"}
BLANK = "—"  # what a missing number is shown as
# The columns that state a verdict, shown first so that a wide table never clips them, and those
# that say how a number was made or what it cost, shown last (the chapters order the rest).
VERDICT_COLUMNS = ("differs", "tied", "best", "chosen", "closer", "more_realistic", "no_easier",
                   "both")
DETAIL_COLUMNS = ("p", "level", "interval", "seconds", "minutes", "held_out", "seeds")


def method(name: str) -> str:
    """A stored method name as the reader reads it: "telea" -> "Telea", "navier-stokes" ->
    "Navier–Stokes", "GAN (poisson)" -> "GAN (Poisson)"; any other name is returned as it is."""
    if name in METHOD_NAMES:
        return METHOD_NAMES[name]
    for blend, word in BLEND_NAMES.items():
        if isinstance(name, str) and name.endswith(f"({blend})"):
            return f"{name[:-len(blend) - 2]}({word})"
    return name


def setting(name: str) -> str:
    """An ablation setting as a sentence names it: "l1" -> "the ℓ1 context loss"."""
    return SETTING_NAMES.get(name, name)


def schedule(name: str) -> str:
    """A training schedule in words: "joint" -> "joint D and G steps"."""
    return SCHEDULE_NAMES.get(name, name)


def rule(name: str) -> str:
    """A stopping rule in words: "gd" -> "gradient descent"."""
    return RULE_NAMES.get(name, name)


def in_words(items: Iterable, last: str = "and") -> str:
    """[30, 35, 40] -> "30, 35 and 40"; one item -> "30"; none -> ""."""
    words = [str(item) for item in items]
    if len(words) <= 1:
        return "".join(words)
    return f"{', '.join(words[:-1])} {last} {words[-1]}"


def number(value, digits: int = 2, unit: str = "") -> str:
    """A number as the book prints it: integers (or whole floats) without decimals, with thousands
    separators; other floats with `digits` decimals; NaN or None as a dash; `unit` after it."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return BLANK
    if isinstance(value, bool):
        return "yes" if value else "no"
    if float(value).is_integer() and abs(value) < 1e15:
        text = f"{int(value):,}"
    else:
        text = f"{value:,.{digits}f}"
    return text + (f" {unit}" if unit else "")


P_COLUMNS = ("p", "p_holm")  # shown as p-values, not rounded to 0.00
# Columns that read a clock, not a result (their values change with the machine and its load),
# and the chapter after Yeh's reader name for its seconds per image. The nbval comparison of the
# reference notebooks leaves the p-value and clock columns out under these names.
CLOCK_COLUMNS = ("seconds", "minutes")
SECONDS_PER_IMAGE = "CPU s per image"


def p_value(value) -> str:
    """A p-value: three decimals, or two significant digits below 0.001; NaN as a dash."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return BLANK
    return f"{value:.1e}" if value < 1e-3 else f"{value:.3f}"


def seconds(value: float) -> str:
    """A duration: "1.01 s" under a minute, "3.2 min" above."""
    return f"{value:.2f} s" if value < 60 else f"{value / 60:.1f} min"


def readable(table: pd.DataFrame, digits: int = 2, columns: dict | None = None) -> pd.DataFrame:
    """A table as the page shows it: its verdict columns first (`VERDICT_COLUMNS`) and its
    detail columns last (`DETAIL_COLUMNS`), reader column (and index) names with units
    (`COLUMNS`, then `columns`), method names as proper nouns, numbers formatted by `number`
    (NaN as a dash), True/False as yes/no. The stored table is left as it is."""
    names = {**COLUMNS, **(columns or {})}
    first = [column for column in VERDICT_COLUMNS if column in table.columns]
    last = [column for column in table.columns if column in DETAIL_COLUMNS]
    shown = table[first + [column for column in table.columns if column not in first + last]
                  + last].copy()
    for column in shown.columns:
        values = shown[column]
        if column == "method":
            shown[column] = values.map(method)
        elif values.dtype == bool or (values.dtype == object and len(values.dropna())
                                      and set(values.dropna().unique()) <= {True, False}):
            shown[column] = values.map(lambda v: BLANK if pd.isna(v) else ("yes" if v else "no"))
        elif column in P_COLUMNS and pd.api.types.is_numeric_dtype(values):
            shown[column] = values.map(p_value)
        elif pd.api.types.is_numeric_dtype(values):
            whole = values.dropna().map(lambda v: float(v).is_integer()).all()
            shown[column] = values.map(  # a column of counts without decimals, else all with
                lambda v: number(v, digits) if whole or pd.isna(v) else f"{v:,.{digits}f}")
        else:
            shown[column] = values.map(lambda v: BLANK if v is None or (
                isinstance(v, float) and math.isnan(v)) else v)
    if isinstance(shown.index, pd.MultiIndex):
        shown.index = shown.index.set_levels(
            [level.map(method) if pd.api.types.is_string_dtype(level) else level
             for level in shown.index.levels])
        shown.index = shown.index.set_names([names.get(n, n) for n in shown.index.names])
    else:
        if all(isinstance(i, str) for i in shown.index):
            shown.index = pd.Index([method(i) for i in shown.index], name=table.index.name)
        shown.index.name = names.get(shown.index.name, shown.index.name)
    return shown.rename(columns=lambda c: names.get(c, c) if isinstance(c, str) else method(c))

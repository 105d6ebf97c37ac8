"""Why an average of GAN fills can be closer to the truth than any one of them: the findings
chapter's explanation of the chapter after Yeh, with the measurement behind it. Only the
findings notebook imports this module, so its wording can change without invalidating the
chapters that import `findings`."""
from __future__ import annotations

import re

import pandas as pd

from inpaint.study import stats, wording
from inpaint.study.fills import CLASSICAL, YEH, method_name, paired_families


def ensemble_of(metrics: pd.DataFrame) -> tuple[str, int] | None:
    """The ensemble of Yeh's starts among a table's methods, with its number of starts (the
    table's own: a chapter run with other parameters names another), or None if it has none."""
    pattern = re.escape(method_name(fill="ensemble", starts=999)).replace("999", r"(\d+)")
    found = [(m, int(match.group(1))) for m in dict.fromkeys(metrics.method)
             if (match := re.fullmatch(pattern, m))]
    return found[0] if found else None


def averaging_finding(metrics: pd.DataFrame, caught: pd.DataFrame, rival: str = "telea") -> str:
    """Why the methods after Yeh are not closer than `rival` (Telea) on the chapter after Yeh's
    photographs, in sentences with the measurement that backs it: each returns one fill drawn
    from the generator, as each of Yeh's searches does, while the ensemble of Yeh's starts
    averages their fills. The ensemble against the rival (hole PSNR and the critic's
    per-image score, Holm over Yeh's search and the classical fills, as the chapter's answers)
    beside Yeh's best start alone (hole PSNR, Holm over the classical fills), paired on the same
    images. metrics, caught: the chapter's `after_images` and `after_caught` tables (one row per
    image and method)."""
    found = ensemble_of(metrics)
    if found is None or YEH not in set(metrics.method):
        return ""
    ensemble, starts = found
    averaged = paired_families(metrics, caught, ensemble, (YEH, *CLASSICAL))
    single = paired_families(metrics, caught, YEH, CLASSICAL)["psnr"][rival]
    closer, realism = averaged["psnr"][rival], averaged["critic"][rival]
    name, shown, yeh = wording.method(rival), wording.method(ensemble), wording.method(YEH)
    text = ("Each method after Yeh returns one fill drawn from the generator, as each of Yeh's "
            "searches does, and hole PSNR penalises the texture such a fill invents wherever it "
            "is not the photograph's. ")
    if closer.differs and closer.difference > 0:
        text += (f"Averaging the fills of {starts} searches moves the hole toward their mean, "
                 f"which PSNR rewards: on the same photographs, "
                 f"{stats.verdict(shown, name, closer)}; for Yeh's best start alone, "
                 f"{stats.verdict(yeh, name, single)}. ")
    else:
        text += (f"Averaging the fills of {starts} searches does not make a GAN fill closer "
                 f"either: {stats.verdict(shown, name, closer)}; for Yeh's best start alone, "
                 f"{stats.verdict(yeh, name, single)}. ")
    caught_more = realism.differs and realism.difference > 0
    return text + (f"{'The average pays for it in realism' if caught_more else 'Realism'}: the "
                   f"critic's score (lower: more real), "
                   f"{stats.verdict(shown, name, realism, unit='', digits=3)}.")

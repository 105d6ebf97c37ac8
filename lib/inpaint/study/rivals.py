"""The GAN against the classical fills, as every chapter and the findings state it: Yeh's method
(GAN + Poisson) against each classical fill on the same images of one mask kind, one Holm family
per mask (`method_tests`), and the best classical fill tested against the runner-up (`rivals`).
Below both the findings and the faces chapter's Table 1 (`table_one`), which read it."""
from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from inpaint.study import stats, wording
from inpaint.study.fills import CLASSICAL, YEH, per_image


def named(method: str) -> str:
    """A method as a sentence names it: its reader name (`wording.METHOD_NAMES`), "the mean
    colour" with its article."""
    return ("the " if method == "mean" else "") + wording.method(method)


def method_tests(comparison: pd.DataFrame, mask: str) -> dict[str, stats.Comparison]:
    """Yeh's method (GAN + Poisson) against each classical fill on one mask kind, image by image,
    one Holm family per mask."""
    wide = per_image(comparison[comparison["mask"] == mask], "method")
    return stats.family({name: stats.paired(wide[YEH], wide[name])
                         for name in CLASSICAL if name in wide.columns})


@dataclass(frozen=True)
class Rivals:
    """The GAN against the classical fills on one table's images and one mask kind.

    tests       the GAN minus each classical fill, one Holm family (`method_tests`)
    best        the classical fill with the highest mean hole PSNR
    runner_up   the next one
    lead        best minus runner-up, paired (95%): whether the best is really the best
    """

    images: str
    mask: str
    tests: dict
    best: str
    runner_up: str
    lead: stats.Comparison

    @property
    def n(self) -> int:
        return next(iter(self.tests.values())).n

    @property
    def beaten_by(self) -> list[str]:
        """The classical fills above the GAN beyond their Holm-adjusted intervals."""
        return [name for name, c in self.tests.items() if c.sign < 0]

    def best_words(self) -> str:
        """The best classical fill by its own paired test against the runner-up."""
        if self.lead.differs:
            return (f"the best classical fill is {named(self.best)}: "
                    + stats.verdict(named(self.best), named(self.runner_up), self.lead))
        return (f"{named(self.best)} and {named(self.runner_up)} tie for the best classical "
                f"fill: " + stats.verdict(named(self.best), named(self.runner_up), self.lead))

    def against_best_words(self) -> str:
        """The GAN against the best classical fill, from its Holm family."""
        return stats.verdict(named(YEH), named(self.best), self.tests[self.best])


def rivals(metrics: pd.DataFrame, mask: str, images: str = "") -> Rivals:
    """The GAN against every classical fill on one mask kind (Holm over the fills), and the best
    classical fill tested against the runner-up."""
    tests = method_tests(metrics, mask)
    wide = per_image(metrics[metrics["mask"] == mask], "method")
    means = wide[[name for name in tests]].mean().sort_values(ascending=False)
    best, runner_up = means.index[0], means.index[1]
    return Rivals(images, mask, tests, best, runner_up,
                  stats.paired(wide[best], wide[runner_up]))

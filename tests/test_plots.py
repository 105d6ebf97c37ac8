"""Figures read at the book's page width: no text under 9 pixels, no column titles run together,
no two methods in one colour."""
from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402
import torch  # noqa: E402
from matplotlib.text import Text  # noqa: E402

from inpaint.study import plots, wording

METHODS = ["GAN (paste)", "GAN (poisson)", "GAN ensemble of 8 starts (poisson)", "mean", "telea",
           "navier-stokes", "biharmonic", "Yeh et al. (reported)", "Context Encoders",
           "GAN, 1 start", "GAN ensemble of 2", "GAN ensemble of 4"]


def smallest_text_px(fig) -> float:
    """The smallest text of `fig` in pixels once shown at most plots.PAGE_PX wide."""
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    shown = min(1.0, plots.PAGE_PX / (fig.get_tightbbox(renderer).width * fig.dpi))
    texts = [text for text in fig.findobj(Text) if text.get_text() and text.get_visible()]
    return min(text.get_fontsize() * fig.dpi / 72 * shown for text in texts)


def test_paired_differences_reads_at_page_width():
    rng = np.random.default_rng(0)
    table = pd.DataFrame([{"group": mask, "label": method, "difference": d, "low": d - 0.5,
                           "high": d + 0.5}
                          for mask in ("center", "pattern", "random", "half")
                          for method in METHODS if method != "telea"
                          for d in [rng.normal()]])
    fig = plots.paired_differences(table, title="hole PSNR minus Telea's",
                                   xlabel="difference (dB)", group_title="mask")
    assert smallest_text_px(fig) >= 9
    assert [label.get_text() for label in fig.axes[0].get_yticklabels()] == \
        [m for m in METHODS if m != "telea"]
    with pytest.raises(KeyError, match="difference"):
        plots.paired_differences(table.drop(columns="difference"))


@pytest.mark.parametrize("columns", [METHODS[:6], METHODS[:4] + ["true"]])
def test_column_titles_never_overlap(columns):
    examples = {name: torch.rand(3, 3, 64, 64) * 2 - 1 for name in columns}
    fig = plots.comparison_columns(examples, columns, 3, title="centre mask")
    assert smallest_text_px(fig) >= 9
    renderer = fig.canvas.get_renderer()
    boxes = [axis.title.get_window_extent(renderer) for axis in fig.axes[:len(columns)]]
    assert all(left.x1 < right.x0 for left, right in zip(boxes, boxes[1:]))


def test_many_methods_get_distinct_colours_and_markers():
    styles = plots.distinct_styles(METHODS + [f"extra {i}" for i in range(6)])
    assert len({style["color"] for style in styles.values()}) == len(styles)
    assert len({style["marker"] for style in styles.values()}) == len(styles)


def test_realism_plot_names_every_point_and_spans_its_intervals():
    rng = np.random.default_rng(1)
    critic = rng.uniform(0.85, 0.97, len(METHODS))
    table = pd.DataFrame({"psnr_hole": rng.uniform(13, 15, len(METHODS)), "psnr_hole_sem": 0.2,
                          "critic": critic, "critic_low": critic - 0.05,
                          "critic_high": np.minimum(critic + 0.03, 1.0)}, index=METHODS)
    fig = plots.realism_against_psnr(table, title="centre mask")
    assert smallest_text_px(fig) >= 9
    axis = fig.axes[0]
    numbers = [text.get_text() for text in axis.texts]
    legend = [text.get_text() for text in axis.get_legend().get_texts()]
    # each point's number, beside it and before its name in the legend
    assert numbers == [str(i) for i in range(1, len(METHODS) + 1)]
    assert legend == [f"{i}  {wording.method(name)}" for i, name in enumerate(METHODS, start=1)]
    low, high = axis.get_xlim()
    assert low <= table.critic_low.min() and high >= table.critic_high.max()
    assert low > 0.5  # the chance line is left out when no interval reaches it

"""One source per number (issue 33, item 6): a number that two pages show (the README's results
block, the front page's abstract, the findings, chapter 05) is written from the same stored value
with one rounding, and images are numbered from 1 on every page."""
from __future__ import annotations

import re

import pandas as pd

from inpaint.files import PROJECT_ROOT
from inpaint.study import findings, wording
from inpaint.study.fills import extremes, per_image, YEH
from inpaint.tools.pages import README, README_END, README_START, results_table

ABSTRACT = PROJECT_ROOT / "book" / "_generated" / "abstract.md"
INTERVAL = re.compile(r"([+-]\d+\.\d+) \[([+-]\d+\.\d+), ([+-]\d+\.\d+)\]")


def readme_rows(text: str) -> dict[str, list[str]]:
    """The README results table's rows: method -> its cells."""
    block = text[text.index(README_START):text.index(README_END)]
    rows = {}
    for line in block.splitlines():
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        if line.startswith("|") and not set(cells[0]) <= {":", "-"} and cells[0] != "method":
            rows[cells[0]] = cells
    return rows


def test_the_readme_the_abstract_and_the_findings_print_one_interval_from_the_same_tables(
        committed_tables):
    saved = committed_tables
    table = results_table(saved["comparison_images"]).set_index("method")
    rival = findings.rivals(saved["comparison_images"], "center")
    column = [c for c in table.columns if c.startswith("GAN + Poisson minus it")][0]
    readme = INTERVAL.fullmatch(table.loc[rival.best, column]).groups()
    in_dB = "{} dB [{}, {}]".format(*readme)
    assert in_dB in findings.abstract(saved)
    assert in_dB in findings.rivals_finding(saved)
    assert in_dB in findings.conclusion(saved)


def test_the_readme_means_are_the_chapter_s_means_rounded_once(committed_tables):
    """13.555005 is 13.56 everywhere (it read 13.55 in chapter 05, rounded to 13.555 first)."""
    metrics = committed_tables["comparison_images"]
    centre = metrics[metrics["mask"] == "center"]
    table = results_table(metrics).set_index("method")
    means = centre.groupby("method").psnr_hole.mean()
    with pd.option_context("display.float_format", "{:.2f}".format):  # chapter 05's printing
        printed = means.to_frame().to_string()
    for method, mean in means.items():
        assert table.loc[method, "psnr_hole"] == f"{mean:.2f}"
        assert re.search(rf"{re.escape(method)}\s+{re.escape(f'{mean:.2f}')}\b", printed)
        assert table.loc[method, "images"] == centre[centre.method == method].image.nunique()


def test_the_committed_readme_and_abstract_agree_on_the_number_they_share(committed_tables):
    """The GAN minus the best classical fill on the centre mask, in the README's table and in the
    abstract, as committed (both are rewritten by the same `make study`)."""
    saved = committed_tables
    best = findings.rivals(saved["comparison_images"], "center").best
    cells = readme_rows(README.read_text())[wording.method(best)]
    readme = INTERVAL.search(cells[-1]).groups()
    assert "{} dB [{}, {}]".format(*readme) in ABSTRACT.read_text()


def test_images_are_numbered_from_1(committed_tables):
    metrics = committed_tables["comparison_images"]
    picked, labels = extremes(metrics, "center")
    wide = per_image(metrics[metrics["mask"] == "center"], "method")
    for position, label in zip(picked, labels):
        assert label.startswith(f"image {position + 1}:")
        gain = wide.loc[position, YEH] - wide.loc[position, "telea"]
        assert label.endswith(f"{gain:+.1f} dB")


def test_the_limitations_page_states_scale_from_the_findings_own_sentence(committed_tables):
    saved = committed_tables
    limitations = (PROJECT_ROOT / "book" / "limitations.md").read_text()
    assert "```{include} _generated/scale.md" in limitations
    written = (PROJECT_ROOT / "book" / "_generated" / "scale.md").read_text().strip()
    assert written == findings.scale_finding(saved["comparison_images"],
                                             saved.get("scale_images"))

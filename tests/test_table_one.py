"""Table 1, like for like (`inpaint.study.table_one`): every reading of PSNR, the strongest
classical fill, the seeds' spread and a comparison with the paper that names its reading."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from inpaint.study import table_one
from inpaint.study.fills import CLASSICAL, YEH
from inpaint.study.paper import PSNR_READINGS


def faces_images(n: int = 30, seed: int = 0) -> pd.DataFrame:
    """Per-image rows as the faces chapter saves them: GAN + Poisson at 20 dB on the centre
    mask, biharmonic 1 dB above it, the other fills below; seed 1 half a dB lower."""
    rng = np.random.default_rng(seed)
    offsets = {YEH: 0.0, "biharmonic": 1.0, "telea": -0.5, "navier-stokes": -0.6, "mean": -4.0}
    rows = []
    for images in ("authors", "ours-centre"):
        for model_seed in (0, 1):
            for mask, level in (("center", 20.0), ("random", 25.0)):
                base = rng.normal(level - 0.5 * model_seed, 2.0, n)
                for method, offset in offsets.items():
                    hole = base + offset + rng.normal(0, 0.2, n)
                    rows.append(pd.DataFrame({"set": images, "seed": model_seed, "mask": mask,
                                              "method": method, "image": range(n),
                                              "psnr_hole": hole, "psnr_full": hole + 6.02}))
    return pd.concat(rows, ignore_index=True)


def test_every_reading_of_the_gan_beside_the_paper_s_numbers():
    metrics = faces_images()
    table = table_one.readings_table(metrics, "authors")
    assert list(table.index) == ["center", "random"]
    ours = metrics.query("set == 'authors' and seed == 0 and mask == 'center' and method == @YEH")
    row = table.loc["center"]
    assert row["Yeh et al. (paper)"] == 19.4 and row["Context Encoders (paper)"] == 21.3
    mean, pooled, whole = (row[key] for key in PSNR_READINGS)
    assert mean == pytest.approx(ours.psnr_hole.mean()) and pooled < mean
    assert whole == pytest.approx(mean + 6.02) and row.low < mean < row.high
    assert row.faces == 30


def test_the_strongest_classical_fill_is_named_and_the_gan_tested_against_it():
    table = table_one.rivals_table(faces_images(), "authors")
    row = table.loc["center"]
    assert row["strongest classical fill"] == "biharmonic"
    assert row["GAN + Poisson minus it"] == pytest.approx(-1.0, abs=0.15)
    assert row.high < 0  # below it, beyond the Holm-adjusted interval


def test_the_seeds_spread_is_the_range_of_their_means():
    table = table_one.seeds_table(faces_images(), "authors")
    assert list(table.columns) == ["seed 0", "seed 1", "range"]
    assert table.loc["center", "range"] == pytest.approx(
        abs(table.loc["center", "seed 0"] - table.loc["center", "seed 1"]))
    assert table.loc["center", "range"] == pytest.approx(0.5, abs=0.8)


def test_the_comparison_with_the_paper_names_each_reading_and_never_says_reached():
    sentence = table_one.conditional_sentence(faces_images(), "authors")
    for words in PSNR_READINGS.values():
        assert f"if it is {words}, ours is" in sentence
    assert "reach" not in sentence and "cannot be told" not in sentence
    assert "against the paper's 19.4 dB" in sentence


def test_an_image_set_or_seed_the_table_lacks_is_refused_in_one_line():
    with pytest.raises(ValueError, match="no rows for set 'ours-yeh-crop' and seed 0"):
        table_one.readings_table(faces_images(), "ours-yeh-crop")


def test_the_other_readings_of_two_masks_sit_beside_the_paper_s_row_they_read():
    metrics = faces_images()
    blocks = metrics[metrics["mask"] == "center"].assign(mask="blocks")
    table = table_one.readings_table(pd.concat([metrics, blocks]), "authors")
    assert list(table.index) == ["center", "random", "blocks"]
    assert table.loc["blocks", "Yeh et al. (paper)"] == 17.4  # the paper's pattern row


def test_the_finding_names_each_set_the_strongest_rival_the_seeds_and_the_confounds():
    grid = pd.DataFrame([{"image": i, "point": point, "model": point, "width": width,
                          "faces": 8930, "epoch": epoch, "minutes": 1.0, "psnr_hole": 18 + i % 5
                          + shift + 0.3 * np.sin(i * width)} for i in range(20)
                         for point, width, epoch, shift in (("small", 32, 30, 0.0),
                                                            ("large", 64, 20, 0.01))])
    text = table_one.finding(faces_images(), grid, iters=200)
    assert text.count("- On ") == 2  # the two sets the table holds, each its own line
    assert "Yeh et al.'s test faces (their crop)" in text and "biharmonic -1.0" in text
    assert "a classical fill is closer than the GAN on center and random" in text
    assert "Over 2 training seeds" in text
    assert "width 32, 8,930 training faces cut as the authors' are, epoch 30: the cheapest" in text
    assert "trained on 8,930 faces where theirs saw about 200,000" in text
    assert "200 Adam iterations per face where the paper's ran 1,500" in text
    assert "reach" not in text


def test_every_fill_is_read_three_ways_beside_the_gan():
    table = table_one.every_fill(faces_images(), "authors")
    assert set(table.index.get_level_values("method")) == {YEH, *CLASSICAL}
    row = table.loc[("center", "biharmonic")]
    mean, pooled, whole = (row[key] for key in PSNR_READINGS)
    assert pooled < mean and whole == pytest.approx(mean + 6.02) and row.faces == 30

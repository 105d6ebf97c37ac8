"""The faces chapter's parts: the grid's models and summary, the smoothing measurement and the
choice of example faces."""
import numpy as np
import pandas as pd
import pytest

from inpaint.data.cache import load_sample_split
from inpaint.method.pixels import to_tensor
from inpaint.study import experiments, fills, gans
from inpaint.study.fills import YEH
from inpaint.study.profiles import PROFILES, FacesModel, StudyConfig


def test_each_faces_model_trains_its_own_run_with_its_width_faces_and_epochs():
    settings = PROFILES["cpu"]
    names = [model.name for model in settings.study.faces_models]
    assert len(set(names)) == len(names)
    model = FacesModel(64, None, 25)
    config = gans.faces_config(settings, model)
    # the chapter's models train on faces cut as the authors' are; the study's own is centre-cut
    assert (config.dataset, config.width, config.limit, config.epochs) == \
        ("celeba-yeh-crop", 64, None, 25)
    assert gans.faces_config(settings, FacesModel(64, None, 25, dataset="celeba")).dataset == \
        "celeba"
    assert gans.run_config(settings, "celeba").dataset == "celeba"
    assert config.checkpoint_every == settings.study.faces_checkpoint_every
    assert config.batch_size == settings.train.batch_size
    assert gans.faces_config(settings, FacesModel(32, 4000, 20)).limit == 4000
    with pytest.raises(ValueError, match="faces_models"):
        StudyConfig(faces_models=())


def test_smoothing_raises_a_classical_fills_psnr_on_real_photographs():
    photos = to_tensor(load_sample_split("val")[:16])
    table = experiments.smoothing_effect(photos, sizes=(48, 32))
    assert sorted(table["size"].unique()) == [32, 48, 64]
    assert len(table) == 3 * 16
    means = table.groupby("size").psnr_hole.mean()
    assert means[32] > means[48] > means[64]


def grid(shifts: dict[str, float]) -> pd.DataFrame:
    """A made-up faces grid: per point, one row per face at a level plus the point's shift."""
    base = np.random.default_rng(0).normal(18.0, 2.0, 64)
    rows = []
    for k, (point, shift) in enumerate(shifts.items()):
        values = base + shift + np.random.default_rng(k + 1).normal(0, 0.1, 64)
        rows += [{"image": i, "point": point, "model": point, "width": 32, "faces": 9000,
                  "epoch": 10 * (k + 1), "minutes": 2.0 * (k + 1), "psnr_hole": v}
                 for i, v in enumerate(values)]
    return pd.DataFrame(rows)


def test_the_grid_table_names_the_best_point_and_those_tied_with_it():
    table = experiments.grid_table(grid({"a": 0.0, "b": 1.0, "c": 0.98, "d": -2.0}))
    assert table.index[table.best].tolist() == ["b"]
    assert table.tied.to_dict() == {"a": False, "b": True, "c": True, "d": False}
    assert table.loc["d", "minus best"] == pytest.approx(-3.0, abs=0.05)
    assert (table.low < table["hole PSNR"]).all()
    # b (epoch 20) and c (epoch 30) tie: the cheaper one, b, is chosen; with c cheaper, c
    assert table.index[table.chosen].tolist() == ["b"]
    cheaper = grid({"a": 0.0, "b": 1.0, "c": 0.98, "d": -2.0})
    cheaper.loc[cheaper.point == "c", "width"] = 16
    chosen = experiments.grid_table(cheaper).chosen
    assert chosen[chosen].index.tolist() == ["c"]


def test_extremes_are_the_best_then_the_worst_images_against_telea():
    rows = [{"mask": "center", "method": method, "image": i, "psnr_hole": value}
            for i, gain in enumerate([0.5, 3.0, -2.0, 1.0, -4.0, 0.0])
            for method, value in ((YEH, 15.0 + gain), ("telea", 15.0))]
    picked, labels = fills.extremes(pd.DataFrame(rows), "center", 2, noun="face")
    assert picked == [1, 3, 2, 4]
    # positions 1 and 4 are faces 2 and 5: every page numbers images from 1
    assert labels[0] == "face 2: +3.0 dB" and labels[-1] == "face 5: -4.0 dB"

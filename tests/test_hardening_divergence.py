"""Hardening, round 2, item 5: a diverged solve is an error, never a black image and exit 0."""
from __future__ import annotations

import pandas as pd
import pytest

from inpaint.method.solver import SolverConfig
from inpaint.tools import photos as complete_module
from inpaint.tools.cli import main

FAST = ["--iters", "3", "--restarts", "1"]


def complete(checkpoint, images, out, *extra):
    return main(["complete", "--checkpoint", checkpoint, "--input", str(images),
                 "--out", str(out), *FAST, *extra])


@pytest.mark.parametrize("extra,setting", [
    (["--lam", "1e308"], "lam"), (["--optimizer", "gd", "--lr", "1e308"], "lr"),
])
def test_5_settings_that_overflow_float32_are_refused(checkpoint, images, tmp_path, capsys,
                                                     extra, setting):
    assert complete(checkpoint, images, tmp_path / "out", *extra) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith(f"error: {setting} must be a finite number") and "\n" not in err
    assert "overflows float32" in err and not (tmp_path / "out").exists()
    with pytest.raises(ValueError, match=setting):
        SolverConfig(**{setting: 1e308})
    SolverConfig(lam=1e6, lr=1e6)  # the largest accepted


def test_a_fill_saturated_by_a_huge_gd_step_is_a_failed_image_and_exit_3(checkpoint, images,
                                                                         tmp_path, capsys):
    """--optimizer gd --lr 1e6 (the largest lr accepted) throws z far outside the prior and G's
    tanh saturates: pure black and white, which is a diverged search, not a fill."""
    assert complete(checkpoint, images, tmp_path / "out", "--optimizer", "gd", "--lr", "1e6",
                    "--iters", "20") == 3
    err = capsys.readouterr().err
    assert "G(z) saturated to black and white" in err and "lower --lr or --lam" in err
    assert complete(checkpoint, images, tmp_path / "ok", "--optimizer", "gd") == 0  # lr 0.01


def test_5_a_non_finite_fill_is_a_failed_image_and_exit_3(checkpoint, images, tmp_path, capsys,
                                                          monkeypatch):
    solve = complete_module.complete

    def diverging_on_the_first_image(*args, **kwargs):
        result = solve(*args, **kwargs)
        result.generated[0] = float("nan")
        result.loss[0] = float("inf")
        return result

    monkeypatch.setattr(complete_module, "complete", diverging_on_the_first_image)
    out = tmp_path / "out"
    assert complete(checkpoint, images, out, "--score") == 3
    err = capsys.readouterr().err
    first = sorted(p.stem for p in images.iterdir())[0]
    assert f"failed {first}: the solver diverged" in err and "lower --lr or --lam" in err
    assert not list(out.glob(f"{first}_*"))  # nothing black written for it
    assert len(pd.read_csv(out / "metrics.csv").image.unique()) == 2  # the others are done
    assert not (out / "INCOMPLETE").exists()

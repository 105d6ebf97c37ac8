"""Hardening, round 2, item 7 (train): damaged checkpoints and a mistyped --resume --out."""
from __future__ import annotations

import pytest
import torch

from inpaint.tools.cli import main
from inpaint.training.checkpoints import CheckpointError, load_checkpoint, load_models

FAST = ["--iters", "3", "--restarts", "1"]


def error_line(capsys) -> str:
    err = capsys.readouterr().err.strip()
    assert err.startswith("error: ") and "\n" not in err, err
    return err


def test_7_a_corrupted_checkpoint_weight_is_refused_with_one_line(checkpoint, images, tmp_path,
                                                                 capsys):
    state = torch.load(checkpoint, weights_only=True)
    assert "digest" in state  # stored at save
    state["generator"]["net.0.weight"][0, 0, 0, 0] = -4.8e36  # a finite but damaged weight
    damaged = tmp_path / "damaged.pt"
    torch.save(state, damaged)
    with pytest.raises(CheckpointError, match="is damaged"):
        load_checkpoint(damaged)
    assert main(["complete", "--checkpoint", str(damaged), "--input", str(images),
                 "--out", str(tmp_path / "out"), *FAST]) == 2
    err = error_line(capsys)
    assert f"checkpoint {damaged} is damaged" in err and "retrain" in err
    assert not (tmp_path / "out").exists()


def test_7_a_checkpoint_saved_without_a_digest_still_loads(checkpoint, tmp_path):
    state = torch.load(checkpoint, weights_only=True)
    del state["digest"]  # as written before digests were stored
    torch.save(state, tmp_path / "old.pt")
    generator, _ = load_models(tmp_path / "old.pt")
    assert torch.equal(generator.state_dict()["net.0.weight"], state["generator"]["net.0.weight"])


def test_7_resume_with_a_mistyped_out_is_refused(ci_run, tmp_path, capsys):
    typo = tmp_path / "rn"
    assert main(["train", "--profile", "ci", "--resume", "--out", str(typo)]) == 2
    assert error_line(capsys) == (f"error: no run to resume in {typo}; check --out or drop "
                                  f"--resume")
    assert not typo.exists()

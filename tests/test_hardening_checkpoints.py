"""Hardening, round 2, item 7 (train): damaged checkpoints and a mistyped --resume --out; round 3,
item 1: whatever file or folder is given as a checkpoint or a model, one line and exit 2."""
from __future__ import annotations

import os
import shutil

import pytest
import torch

from inpaint.files import PROJECT_ROOT
from inpaint.tools.cli import main
from inpaint.training import shipped
from inpaint.training.checkpoints import CheckpointError, load_checkpoint, load_models
from test_complete_model import fake_model  # noqa: F401  (a fixture)
from test_reference import FAKE, make_fake_reference, write_sums

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


def refused(argv, capsys) -> str:
    """The one error line of `complete` with argv, checked to exit 2."""
    assert main(["complete", *argv, *FAST]) == 2
    return error_line(capsys)


def test_a_file_holding_a_number_is_not_a_checkpoint(images, tmp_path, capsys):
    torch.save(5, tmp_path / "five.pt")
    err = refused(["--checkpoint", str(tmp_path / "five.pt"), "--input", str(images), "--out",
                   str(tmp_path / "out")], capsys)
    assert "holds a int, not a checkpoint of this project" in err


def test_a_run_folder_as_checkpoint_names_its_checkpoint_files(ci_run, images, tmp_path, capsys):
    for folder in (ci_run, ci_run / "checkpoints"):
        err = refused(["--checkpoint", str(folder), "--input", str(images), "--out",
                       str(tmp_path / "out")], capsys)
        assert f"checkpoint {folder} is a folder; pass one of its 3 checkpoint files" in err
        assert "epoch_001.pt epoch_002.pt epoch_003.pt" in err
        assert f"the last: {ci_run / 'checkpoints' / 'epoch_003.pt'}" in err
    (tmp_path / "empty").mkdir()
    err = refused(["--checkpoint", str(tmp_path / "empty"), "--input", str(images), "--out",
                   str(tmp_path / "out")], capsys)
    assert "is a folder with no checkpoint in it" in err


def test_a_shipped_models_file_as_checkpoint_points_to_model(images, tmp_path, capsys):
    folder = PROJECT_ROOT / "data" / "models" / "tiny-imagenet-full"
    generator = folder / "generator_epoch_055.pt"
    if not generator.is_file():
        pytest.skip("the shipped model is not in this clone")
    err = refused(["--checkpoint", str(generator), "--input", str(images), "--out",
                   str(tmp_path / "out")], capsys)
    assert f"is a file of the shipped model in {folder}" in err
    assert f"pass --model {folder}" in err


class RunsCode:
    """Pickled as a call of os.getcwd: what a malicious file would make torch.load run."""

    def __reduce__(self):
        return os.getcwd, ()


def test_a_code_running_pickle_is_refused_as_not_plain_weights(fake_model, checkpoint, images,
                                                               tmp_path, capsys):
    state = torch.load(checkpoint, weights_only=True)
    torch.save({**state, "config": RunsCode()}, tmp_path / "evil.pt")
    err = refused(["--checkpoint", str(tmp_path / "evil.pt"), "--input", str(images), "--out",
                   str(tmp_path / "out")], capsys)
    assert "is refused: it holds more than plain weights" in err
    torch.save(RunsCode(), fake_model / FAKE.generator_filename(10))
    write_sums(fake_model)
    err = refused(["--model", str(fake_model), "--input", str(images), "--out",
                   str(tmp_path / "out")], capsys)
    assert f"model file {fake_model / FAKE.generator_filename(10)} is refused" in err
    assert "weights_only" not in err


def test_a_model_folder_of_another_width_is_refused_naming_both(fake_model, images, tmp_path,
                                                               capsys):
    shutil.rmtree(fake_model)
    make_fake_reference(fake_model, width=4)  # the registry says 8
    err = refused(["--model", str(fake_model), "--input", str(images), "--out",
                   str(tmp_path / "out")], capsys)
    assert (f"does not fit {FAKE.name}, whose networks have width 8 in the registry (its weights "
            f"are for width 4)") in err

"""Issue 12: no bad input or interruption silently corrupts a run, a cache or a result.

One test (or a few) per numbered item of the issue, named test_<item>_...; each checks the message
or the files left behind, not only the exit code. Runs use the committed sample and the tiny `ci`
profile (width 8).
"""
from __future__ import annotations

import csv
import hashlib
import os
import shutil
import zipfile
from dataclasses import replace
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest
import torch
from PIL import Image

from inpaint import files
from inpaint.data import cache as data_cache, registry
from inpaint.data.cache import SAMPLE_DIR
from inpaint.data.registry import Archive, DatasetSpec, Split
from inpaint.method import masks
from inpaint.method.solver import SolverConfig
from inpaint.study.profiles import PROFILES, train_config
from inpaint.tools import photos as complete_module
from inpaint.tools.cli import main
from inpaint.tools.photos import read_photos
from inpaint.training import train as train_module
from inpaint.training.checkpoints import CheckpointError, checkpoints, load_checkpoint
from inpaint.training.train import train

FAST = ["--iters", "3", "--restarts", "1"]
SAMPLE_JPEGS = sorted((SAMPLE_DIR / "val").glob("*.JPEG"))


def error_line(capsys) -> str:
    """The CLI's stderr, checked to be one `error: ...` line (no traceback)."""
    err = capsys.readouterr().err.strip()
    assert err.startswith("error: ") and "\n" not in err, err
    return err


def log_rows(run) -> list[dict]:
    """A run's log without the wall-clock column, which differs between runs."""
    with open(run / "log.csv", newline="") as handle:
        return [{k: v for k, v in row.items() if k != "elapsed_s"} for row in csv.DictReader(handle)]


def same_weights(a, b) -> bool:
    return all(torch.equal(a[net][name], tensor)
               for net in ("generator", "discriminator") for name, tensor in b[net].items())


@pytest.fixture
def toy(monkeypatch, data_places):
    """Empty data/raw, shared and cache folders, and a registry entry 'toy' (train and val
    splits) whose archive, the committed sample zipped, lies in data/raw."""
    raw = data_places["raw"]
    with zipfile.ZipFile(raw / "toy.zip", "w") as archive:
        for image in sorted((SAMPLE_DIR / "train").glob("*.JPEG")):
            archive.write(image, f"images/{image.name}")
    checksum = "sha256:" + hashlib.sha256((raw / "toy.zip").read_bytes()).hexdigest()
    split = Split((Archive("toy.zip", checksum),), "images/*.JPEG")
    monkeypatch.setitem(registry.DATASETS, "toy", DatasetSpec("toy", "test", "test", "none",
                                                              {"train": split, "val": split}))
    return data_places


def complete(checkpoint, images, out, *extra):
    return main(["complete", "--checkpoint", checkpoint, "--input", str(images),
                 "--out", str(out), *FAST, *extra])


# 1 ------------------------------------------------------------------ limit 0 and the cache key

def test_1_limit_zero_is_refused_and_never_caches_an_empty_full_dataset(toy, tmp_path, capsys):
    with pytest.raises(ValueError, match=r"limit must be a whole number of at least 1, got 0"):
        data_cache.load_images("toy", "train", limit=0)
    assert main(["train", "--profile", "ci", "--dataset", "toy", "--limit", "0",
                 "--out", str(tmp_path / "run")]) == 2
    assert "--limit" in error_line(capsys)
    assert not any(toy["cache"].iterdir()) and not (tmp_path / "run").exists()
    assert len(data_cache.load_images("toy", "train")) == 64  # the full set is intact
    assert len(data_cache.load_images("toy", "train", limit=5)) == 5
    names = sorted(p.name for p in toy["cache"].iterdir())
    assert len(names) == 2 and any("-all-" in n for n in names) and any("-limit5-" in n for n in names)


# 2 ------------------------------------------------------------------ log after an early kill

def test_2_resume_after_a_kill_before_the_first_checkpoint_keeps_one_clean_log(ci_run, tmp_path):
    config = train_config(PROFILES["ci"])
    train(config, tmp_path, stop_after_epoch=1, progress=False)
    # As if killed during epoch 1's save: no checkpoint, and a torn last log line.
    shutil.rmtree(tmp_path / "checkpoints")
    with open(tmp_path / "log.csv", "a") as handle:
        handle.write("4,2,DG,1.38")
    train(config, tmp_path, resume=True, progress=False)
    assert (tmp_path / "log.csv").read_text().splitlines()[0] == ",".join(train_module.LOG_FIELDS)
    assert log_rows(tmp_path) == log_rows(ci_run)  # steps 0..11 once each, as uninterrupted

    early = tmp_path / "killed_at_start"  # killed before the header was written
    early.mkdir()
    (early / "log.csv").write_text("")
    train(replace(config, epochs=1), early, resume=True, progress=False)
    assert log_rows(early) == log_rows(ci_run)[:4]


# 3 ------------------------------------------------------------------ refused resume writes nothing

def test_3_refused_resume_keeps_the_runs_noise_config_and_log(tmp_path):
    config = train_config(PROFILES["ci"])
    train(config, tmp_path, stop_after_epoch=1, progress=False)
    kept = {name: (tmp_path / name).read_bytes() for name in ("fixed_noise.pt", "config.json",
                                                              "log.csv")}
    with pytest.raises(CheckpointError, match=r"seed: run 0, now 1"):
        train(replace(config, seed=1), tmp_path, resume=True, progress=False)
    assert {name: (tmp_path / name).read_bytes() for name in kept} == kept


# 4 ------------------------------------------------------------------ inputs sharing a stem

def test_4_inputs_sharing_a_stem_keep_both_results(checkpoint, tmp_path):
    folder = tmp_path / "in"
    folder.mkdir()
    shutil.copy(SAMPLE_JPEGS[0], folder / "cat.jpg")
    Image.open(SAMPLE_JPEGS[1]).save(folder / "cat.png")
    assert complete(checkpoint, folder, tmp_path / "out", "--score") == 0
    for name in ("cat.jpg", "cat.png"):
        for kind in ("corrupted", "generated", "completed", "blended"):
            assert (tmp_path / "out" / f"{name}_{kind}.png").is_file()
    metrics = pd.read_csv(tmp_path / "out" / "metrics.csv")
    assert sorted(metrics.image.unique()) == ["cat.jpg", "cat.png"] and len(metrics) == 4
    corrupted = [np.asarray(Image.open(tmp_path / "out" / f"{n}_corrupted.png"))
                 for n in ("cat.jpg", "cat.png")]
    assert not np.array_equal(*corrupted)  # two different photographs, neither lost


# 5 ------------------------------------------------------------------ an explicit path must exist

def test_5_a_missing_data_path_is_an_error_not_a_fallback(toy, tmp_path, monkeypatch, capsys):
    missing = tmp_path / "nonexistent"
    with pytest.raises(registry.DatasetNotFoundError, match=r"--data .*nonexistent does not exist"):
        registry.locate("toy", "train", source=missing)  # although data/raw holds toy.zip
    assert main(["data", "--profile", "ci", "--dataset", "toy", "--data", str(missing)]) == 2
    assert "does not exist" in error_line(capsys)
    monkeypatch.setenv("INPAINT_DATA", str(missing))
    with pytest.raises(registry.DatasetNotFoundError,
                       match=r"INPAINT_DATA .*nonexistent does not exist"):
        data_cache.load_images("toy", "train")
    monkeypatch.delenv("INPAINT_DATA")
    # The committed sample takes no --data: saying so beats ignoring it.
    assert main(["train", "--profile", "ci", "--data", str(toy["raw"] / "toy.zip"),
                 "--out", str(tmp_path / "run")]) == 2
    assert "--data" in error_line(capsys) and not (tmp_path / "run" / "log.csv").exists()


# 6 ------------------------------------------------------------------ an empty cache file

def test_6_an_empty_cache_file_is_rebuilt_with_a_warning(toy):
    images = data_cache.load_images("toy", "train")
    cache_file = next(toy["cache"].iterdir())
    cache_file.write_bytes(b"")
    with pytest.warns(UserWarning, match="unreadable"):
        again = data_cache.load_images("toy", "train")
    np.testing.assert_array_equal(again, images)
    assert cache_file.stat().st_size > 0  # rewritten
    np.testing.assert_array_equal(data_cache.load_images("toy", "train"), images)


# 7 ------------------------------------------------------------------ values that gave wrong
# results

@pytest.mark.parametrize("flag,value,setting", [
    ("--lam", "nan", "lam"), ("--lam", "inf", "lam"), ("--lam", "-1", "lam"),
    ("--iters", "0", "iters"), ("--iters", "-5", "iters"), ("--batch-size", "-1", "--batch-size"),
])
def test_7_complete_refuses_values_that_give_a_wrong_result(checkpoint, images, tmp_path, capsys,
                                                            flag, value, setting):
    assert complete(checkpoint, images, tmp_path / "out", flag, value) == 2
    assert setting in error_line(capsys)
    assert not (tmp_path / "out").exists()


def test_7_solver_config_refuses_bad_values_for_the_library_and_notebooks():
    for bad in ({"iters": 0}, {"iters": -5}, {"lam": float("nan")}, {"lam": -1.0},
                {"restarts": 0}, {"lr": 0.0}, {"window": 4}, {"norm": "l3"}):
        with pytest.raises(ValueError, match=next(iter(bad))):
            SolverConfig(**bad)
    with pytest.raises(ValueError, match="iters"):
        replace(SolverConfig(), iters=0)


def test_7_train_refuses_a_negative_batch_size(tmp_path, capsys):
    assert main(["train", "--profile", "ci", "--batch-size", "-1", "--out", str(tmp_path / "r")]) == 2
    assert "batch_size (--batch-size)" in error_line(capsys)
    assert not (tmp_path / "r").exists()  # no untrained checkpoints


# 8, 9 -------------------------------------------------------------- faithful decoding

def test_8_a_16_bit_greyscale_png_is_scaled_not_clipped(tmp_path):
    values = np.linspace(0, 65535, 64 * 64).round().astype(np.uint16).reshape(64, 64)
    Image.fromarray(values).save(tmp_path / "deep.png")
    assert Image.open(tmp_path / "deep.png").mode.startswith("I")  # really 16-bit
    decoded = np.stack(read_photos(tmp_path / "deep.png").images)
    expected = np.round(values / 257).astype(np.uint8)
    for channel in range(3):
        np.testing.assert_array_equal(decoded[0, :, :, channel], expected)


def test_9_transparent_pixels_are_composited_on_white_with_a_warning(tmp_path):
    rgb = np.asarray(Image.open(SAMPLE_JPEGS[0]))
    alpha = np.full((64, 64), 255, np.uint8)
    alpha[:, :32] = 0
    rgba = np.dstack([rgb, alpha])
    rgba[:, :32, :3] = 0  # what is under the transparent area: black
    Image.fromarray(rgba, "RGBA").save(tmp_path / "cut.png")
    with pytest.warns(UserWarning, match=r"transparent pixels, composited on white.*cut.png"):
        decoded = np.stack(read_photos(tmp_path / "cut.png").images)
    assert (decoded[0, :, :32] == 255).all()
    np.testing.assert_array_equal(decoded[0, :, 32:], rgb[:, 32:])


# 10 ----------------------------------------------------------------- grey masks

def test_10_a_grey_mask_is_thresholded_at_half_with_a_warning(tmp_path):
    grey = np.full((64, 64), 255, np.uint8)
    grey[0:10, 0:10] = 0      # hole
    grey[20:30, 20:30] = 100  # dark grey: hole
    grey[40:50, 40:50] = 200  # light grey: known
    Image.fromarray(grey).save(tmp_path / "soft.png")
    with pytest.warns(UserWarning, match=r"200 grey pixel\(s\).*thresholded at 50%"):
        mask = masks.from_png(tmp_path / "soft.png")
    assert torch.equal(mask[0, 0], torch.from_numpy(grey >= 128).float())
    assert mask[0, 0, 25, 25] == 0 and mask[0, 0, 45, 45] == 1


# 11 ----------------------------------------------------------------- a sentence, not a traceback

def test_11_zero_restarts_is_an_error_message(checkpoint, images, tmp_path, capsys):
    assert complete(checkpoint, images, tmp_path / "out", "--restarts", "0") == 2
    assert "restarts (--restarts)" in error_line(capsys)


def test_11_unwritable_out_is_refused_before_the_solve(checkpoint, images, tmp_path, capsys,
                                                      monkeypatch):
    def solver_must_not_run(*args, **kwargs):
        raise AssertionError("the solver ran before --out was checked")

    monkeypatch.setattr(complete_module, "complete", solver_must_not_run)
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(0o555)
    if os.access(locked, os.W_OK):  # root may write anywhere: emulate what the OS says
        def read_only(*args, **kwargs):
            raise PermissionError(13, "Permission denied")

        monkeypatch.setattr(files, "tempfile", SimpleNamespace(TemporaryFile=read_only))
    assert complete(checkpoint, images, locked / "out") == 2
    assert "not writable (Permission denied)" in error_line(capsys)
    locked.chmod(0o755)


def test_11_out_inside_a_file_is_an_error_message(checkpoint, images, tmp_path, capsys):
    (tmp_path / "file.txt").write_text("not a folder")
    assert complete(checkpoint, images, tmp_path / "file.txt" / "out") == 2
    assert "part of its path is a file" in error_line(capsys)
    assert complete(checkpoint, images, tmp_path / "file.txt") == 2
    assert "is a file, not a folder" in error_line(capsys)


def test_11_a_decompression_bomb_is_skipped_like_other_bad_files(checkpoint, images, tmp_path,
                                                                capsys, monkeypatch):
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 5000)  # 64x64 passes, 200x200 is a "bomb"
    Image.new("RGB", (200, 200), (90, 120, 30)).save(images / "huge.png")
    assert complete(checkpoint, images, tmp_path / "out", "--score") == 0
    err = capsys.readouterr().err
    assert "skipping unreadable image" in err and "huge.png" in err and "decompression" in err
    assert len(pd.read_csv(tmp_path / "out" / "metrics.csv").image.unique()) == 3


@pytest.mark.parametrize("flag", ["--batch-size", "--checkpoint-every", "--samples", "--width"])
def test_11_train_zero_settings_are_error_messages_and_leave_no_run(tmp_path, capsys, flag):
    out = tmp_path / "run"
    assert main(["train", "--profile", "ci", flag, "0", "--out", str(out)]) == 2
    assert f"({flag}) to 1 or more" in error_line(capsys)
    assert not (out / "log.csv").exists()


def test_11_bad_precision_leaves_no_log_so_the_retry_needs_no_resume(tmp_path, capsys):
    out = tmp_path / "run"
    assert main(["train", "--profile", "ci", "--precision", "fp16", "--out", str(out)]) == 2
    assert "precision must be one of ['auto', 'bf16', 'fp32']" in error_line(capsys)
    assert not (out / "log.csv").exists()
    assert main(["train", "--profile", "ci", "--epochs", "1", "--out", str(out)]) == 0
    assert sorted(checkpoints(out)) == [1]


@pytest.mark.parametrize("damage,message", [
    ("contradict", "says width 16 but its weights are for width 8"),
    ("lack", "has no width in its config (its weights are for width 8)"),
])
def test_11_checkpoint_config_and_weights_disagreeing_is_one_line(checkpoint, images, tmp_path,
                                                                  capsys, damage, message):
    state = load_checkpoint(checkpoint)
    if damage == "contradict":
        state["config"]["width"] = 16
    else:
        del state["config"]["width"]
    torch.save(state, tmp_path / "edited.pt")
    assert complete(str(tmp_path / "edited.pt"), images, tmp_path / "out") == 2
    assert message in error_line(capsys)


# 12 ----------------------------------------------------------------- resume: what differs, extend

def test_12_refused_resume_names_the_setting_that_differs(tmp_path, capsys):
    out = str(tmp_path / "run")
    assert main(["train", "--profile", "ci", "--epochs", "1", "--out", out]) == 0
    capsys.readouterr()
    assert main(["train", "--profile", "ci", "--epochs", "1", "--resume", "--seed", "3",
                 "--width", "16", "--out", out]) == 2
    err = error_line(capsys)
    assert "width: run 8, now 16; seed: run 0, now 3" in err and "only --epochs may change" in err


def test_12_resume_with_more_epochs_extends_a_finished_run(ci_run, tmp_path, capsys):
    out = tmp_path / "run"
    assert main(["train", "--profile", "ci", "--epochs", "2", "--out", str(out)]) == 0
    assert sorted(checkpoints(out)) == [1, 2]
    assert main(["train", "--profile", "ci", "--resume", "--epochs", "3", "--out", str(out)]) == 0
    assert sorted(checkpoints(out)) == [1, 2, 3]
    extended, straight = (load_checkpoint(checkpoints(run)[3]) for run in (out, ci_run))
    assert same_weights(extended, straight)  # as if trained for 3 epochs at once
    assert log_rows(out) == log_rows(ci_run)
    assert load_checkpoint(checkpoints(out)[3])["config"]["epochs"] == 3
    capsys.readouterr()
    assert main(["train", "--profile", "ci", "--resume", "--epochs", "2", "--out", str(out)]) == 2
    assert "already has epoch 3; pass --epochs 3 or more" in error_line(capsys)


# 13 ----------------------------------------------------------------- an interrupted `complete`

def test_13_an_interrupted_complete_is_marked_and_refused_until_overwrite(
        checkpoint, images, tmp_path, capsys, monkeypatch):
    solve = complete_module.complete
    calls = []

    def killed_on_the_second_batch(*args, **kwargs):
        calls.append(1)
        if len(calls) == 2:
            raise KeyboardInterrupt
        return solve(*args, **kwargs)

    monkeypatch.setattr(complete_module, "complete", killed_on_the_second_batch)
    out = tmp_path / "out"
    assert complete(checkpoint, images, out, "--batch-size", "1", "--score") == 130  # Ctrl-C: one line
    assert capsys.readouterr().err.strip().endswith("interrupted; --out may hold partial "
                                                    "outputs: rerun with --overwrite")
    left = sorted(p.name for p in out.iterdir())
    assert "INCOMPLETE" in left and "metrics.csv" not in left
    assert not [name for name in left if ".tmp" in name]
    assert "interrupted" in (out / "INCOMPLETE").read_text()

    monkeypatch.setattr(complete_module, "complete", solve)
    capsys.readouterr()
    assert complete(checkpoint, images, out) == 2
    assert "was interrupted" in error_line(capsys)
    assert complete(checkpoint, images, out, "--overwrite", "--score") == 0
    assert not (out / "INCOMPLETE").exists() and len(pd.read_csv(out / "metrics.csv")) == 6


def test_13_a_failed_write_never_leaves_a_file_under_the_real_name(tmp_path):
    target = tmp_path / "x_completed.png"
    with pytest.raises(OSError):
        with files.atomic_path(target) as tmp:
            tmp.write_bytes(b"\x89PNG half an ima")
            raise OSError("disk full")
    assert list(tmp_path.iterdir()) == []

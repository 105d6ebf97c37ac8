"""DCGAN shapes and ranges, `ci` training runs, checkpoints, resuming, and clear errors."""
from __future__ import annotations

import csv
from dataclasses import asdict, replace

import pytest
import torch

from inpaint.method.models import Discriminator, Generator, sample_z
from inpaint.method.pixels import to_tensor, to_uint8
from inpaint.method.precision import resolve_precision
from inpaint.study.profiles import PROFILES, train_config
from inpaint.training.checkpoints import CheckpointError, checkpoints, load_checkpoint, load_models
from inpaint.training.train import data_device, epoch_randomness, real_batch, train, write_rows


def test_generator_and_discriminator_shapes_and_ranges():
    generator, discriminator = Generator(width=8), Discriminator(width=8)
    z = sample_z(5, generator=torch.Generator().manual_seed(0))
    assert z.shape == (5, 100) and z.min() >= -1 and z.max() <= 1
    images = generator(z)
    assert images.shape == (5, 3, 64, 64)
    assert images.min() >= -1 and images.max() <= 1
    assert discriminator(images).shape == (5,)


def test_ci_run_writes_checkpoints_log_and_samples(ci_run):
    config = train_config(PROFILES["ci"])
    assert sorted(checkpoints(ci_run)) == list(range(1, config.epochs + 1))
    assert sorted(p.name for p in (ci_run / "samples").iterdir()) == [
        f"epoch_{e:03d}.png" for e in range(1, config.epochs + 1)]
    with open(ci_run / "log.csv") as handle:
        rows = list(csv.DictReader(handle))
    assert len(rows) == config.epochs * (64 // config.batch_size)  # 64 colour sample images
    assert all(float(row["d_loss"]) > 0 and 0 < float(row["d_real"]) < 1 for row in rows)
    state = load_checkpoint(checkpoints(ci_run)[config.epochs])
    assert {"opt_g", "opt_d", "rng", "torch_rng", "epoch", "step"} <= set(state)
    generator, _ = load_models(checkpoints(ci_run)[config.epochs])
    assert not generator.training


def test_resumed_run_matches_uninterrupted_run(ci_run, tmp_path):
    config = train_config(PROFILES["ci"])
    train(config, tmp_path, stop_after_epoch=1, progress=False)
    train(config, tmp_path, resume=True, progress=False)
    final = config.epochs
    resumed = load_checkpoint(checkpoints(tmp_path)[final])
    straight = load_checkpoint(checkpoints(ci_run)[final])
    for net in ("generator", "discriminator"):
        for name, tensor in straight[net].items():
            torch.testing.assert_close(resumed[net][name], tensor, rtol=0, atol=0, msg=name)
    with open(tmp_path / "log.csv") as a, open(ci_run / "log.csv") as b:
        drop_time = lambda rows: [{k: v for k, v in r.items() if k != "elapsed_s"} for r in rows]
        assert drop_time(csv.DictReader(a)) == drop_time(csv.DictReader(b))


def test_existing_run_is_not_overwritten(ci_run):
    with pytest.raises(FileExistsError, match="--resume"):
        train(train_config(PROFILES["ci"]), ci_run, progress=False)


def test_resume_with_other_settings_is_refused(ci_run, tmp_path):
    config = train_config(PROFILES["ci"])
    train(config, tmp_path, stop_after_epoch=1, progress=False)
    with pytest.raises(CheckpointError, match=r"lr: run 0.0002, now 0.001\).*only --epochs"):
        train(replace(config, lr=1e-3), tmp_path, resume=True, progress=False)


def test_missing_and_corrupt_checkpoint_errors(tmp_path):
    with pytest.raises(CheckpointError, match="does not exist"):
        load_checkpoint(tmp_path / "epoch_055.pt")
    corrupt = tmp_path / "epoch_005.pt"
    corrupt.write_bytes(b"not a checkpoint")
    with pytest.raises(CheckpointError, match="cannot be read"):
        load_models(corrupt)


class Unpicklable:
    """Stands for any object that unpickling would construct by running code."""


def test_a_checkpoint_is_read_without_running_code_from_it(tmp_path, ci_run):
    """weights_only=True: a real checkpoint (tensors and plain containers) loads; one that would
    construct an arbitrary object is refused."""
    assert load_checkpoint(checkpoints(ci_run)[1])["config"] == asdict(train_config(PROFILES["ci"]))
    path = tmp_path / "epoch_001.pt"
    torch.save({"generator": {}, "discriminator": {}, "config": Unpicklable()}, path)
    with pytest.raises(CheckpointError, match="is refused: it holds more than plain weights"):
        load_checkpoint(path)


def test_schedule_of_the_original_post(tmp_path):
    """"30:10"-style blocks: D-only batches, then G-only batches, logged as such."""
    config = train_config(PROFILES["ci"], schedule="2:1", epochs=1)
    train(config, tmp_path, progress=False)
    with open(tmp_path / "log.csv") as handle:
        phases = [row["phase"] for row in csv.DictReader(handle)]
    assert phases == ["D", "D", "G", "D"]


# Speed paths (issue 11): the same code gathers batches on a GPU and on the CPU.

def test_real_batch_scales_like_to_tensor_and_flips_left_right(sample_val):
    images = to_uint8(sample_val[:6])  # uint8 (6, 64, 64, 3)
    index, flip = torch.tensor([4, 0, 5]), torch.tensor([True, False, True])
    batch = real_batch(torch.from_numpy(images), index, flip, torch.device("cpu"),
                       torch.channels_last)
    expected = to_tensor(images)[index]
    expected[flip] = expected[flip].flip(3)
    assert torch.equal(batch, expected)  # bit for bit
    assert batch.is_contiguous(memory_format=torch.channels_last)
    plain = real_batch(torch.from_numpy(images), index, None, torch.device("cpu"),
                       torch.contiguous_format)
    assert torch.equal(plain, to_tensor(images)[index]) and plain.is_contiguous()


def test_epoch_randomness_is_drawn_as_one_batch_at_a_time():
    config = train_config(PROFILES["ci"])
    order, flips, codes = epoch_randomness(50, 3, config, torch.Generator().manual_seed(5))
    rng = torch.Generator().manual_seed(5)
    assert torch.equal(order, torch.randperm(50, generator=rng))
    for i in range(3):  # as the loop drew them before: each batch's flips, then its codes
        assert torch.equal(flips[i], torch.rand(config.batch_size, generator=rng) < 0.5)
        assert torch.equal(codes[i], sample_z(config.batch_size, generator=rng))
    _, no_flips, _ = epoch_randomness(50, 3, replace(config, flip=False), rng)
    assert no_flips is None


def test_log_rows_are_filled_from_one_read_of_the_device():
    rows = [{"step": 0, "phase": "D", "d_loss": "", "g_loss": "", "d_real": "", "d_fake": ""},
            {"step": 1, "phase": "G", "d_loss": "", "g_loss": "", "d_real": "", "d_fake": ""}]
    values = [{"d_loss": torch.tensor(1.5), "d_real": torch.tensor(0.25),
               "d_fake": torch.tensor(0.125)},
              {"g_loss": torch.tensor(2.0), "d_fake": torch.tensor(0.5)}]
    written = []
    write_rows(type("Log", (), {"writerow": lambda self, row: written.append(dict(row))})(),
               rows, values)
    assert written[0] == {"step": 0, "phase": "D", "d_loss": 1.5, "g_loss": "", "d_real": 0.25,
                          "d_fake": 0.125}
    assert written[1] == {"step": 1, "phase": "G", "d_loss": "", "g_loss": 2.0, "d_real": "",
                          "d_fake": 0.5}


def test_auto_precision_is_fp32_on_cuda_and_the_data_stays_on_the_cpu_without_one():
    assert resolve_precision("auto", torch.device("cuda")) == "fp32"  # measured faster there
    assert resolve_precision("bf16", torch.device("cuda")) == "bf16"
    assert data_device(torch.zeros(2, 64, 64, 3, dtype=torch.uint8),
                       torch.device("cpu")).type == "cpu"


# Hardening, round 3 (issue 37): one run per folder, and a resume says what it changes.

def test_a_second_train_into_a_folder_in_use_is_refused_naming_the_first_pid(tmp_path, capsys):
    import os
    import subprocess
    import sys
    import time
    from pathlib import Path
    import inpaint
    from inpaint.tools.cli import main
    out = tmp_path / "run"
    lib = str(Path(inpaint.__file__).parents[1])
    first = subprocess.Popen([sys.executable, "-m", "inpaint", "train", "--profile", "ci",
                              "--width", "8", "--epochs", "100000", "--out", str(out)],
                             env={**os.environ, "PYTHONPATH": lib}, stdout=subprocess.DEVNULL,
                             stderr=subprocess.DEVNULL)
    try:
        while not (out / "config.json").exists():  # it holds the folder from before this
            assert first.poll() is None, "the first train ended early"
            time.sleep(0.05)
        assert main(["train", "--profile", "ci", "--width", "16", "--out", str(out)]) == 2
    finally:
        first.kill()
        first.wait()
    err = capsys.readouterr().err.strip()
    assert err == (f"error: another `train` is running into {out} (pid {first.pid}); wait for it "
                   f"to finish or choose another --out")
    assert '"width": 8' in (out / "config.json").read_text()


def test_a_fresh_train_refuses_a_folder_holding_another_runs_checkpoints(tmp_path):
    config = train_config(PROFILES["ci"])
    train(config, tmp_path, stop_after_epoch=2, progress=False)
    (tmp_path / "log.csv").unlink()
    before = checkpoints(tmp_path)[2].read_bytes()
    with pytest.raises(FileExistsError, match="already holds a training run.*--resume"):
        train(replace(config, width=16), tmp_path, progress=False)
    assert checkpoints(tmp_path)[2].read_bytes() == before and "epoch_003" not in str(
        checkpoints(tmp_path))


def test_resume_on_other_photographs_is_refused_and_recorded_when_accepted(tmp_path,
                                                                          monkeypatch):
    import inpaint.training.train as training
    from inpaint.data.cache import load_sample_split
    config = train_config(PROFILES["ci"])
    train(config, tmp_path, stop_after_epoch=1, progress=False)
    monkeypatch.setattr(training, "load_sample_split", lambda split: load_sample_split("val"))
    with pytest.raises(CheckpointError, match=r"data: run \d+ images from sample .* now \d+ "
                                              r"images.*--accept-changes"):
        train(config, tmp_path, resume=True, progress=False)
    assert 2 not in checkpoints(tmp_path)
    train(replace(config, lr=1e-3), tmp_path, resume=True, progress=False, accept_changes=True)
    recorded = (tmp_path / "CHANGES").read_text()
    assert recorded.startswith("resumed at epoch 1 with --accept-changes: lr: run 0.0002, now "
                               "0.001; data: run ")
    assert load_checkpoint(checkpoints(tmp_path)[3])["config"]["lr"] == 1e-3


def test_resume_past_a_corrupt_last_checkpoint_says_to_move_it_aside(tmp_path, capsys):
    from inpaint.tools.cli import main
    train(train_config(PROFILES["ci"]), tmp_path, stop_after_epoch=2, progress=False)
    checkpoints(tmp_path)[2].write_bytes(b"torn")
    assert main(["train", "--profile", "ci", "--resume", "--out", str(tmp_path)]) == 2
    err = capsys.readouterr().err.strip()
    assert "\n" not in err and "resume to rewrite" not in err
    assert err.startswith(f"error: cannot resume {tmp_path}: its last checkpoint epoch_002.pt is "
                          f"unreadable") and err.endswith("resume from epoch_001.pt")

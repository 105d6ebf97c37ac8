"""DCGAN shapes and ranges, `ci` training runs, checkpoints, resuming, and clear errors."""
from __future__ import annotations

import csv
from dataclasses import replace

import pytest
import torch

from inpaint.config import train_config
from inpaint.models import Discriminator, Generator, sample_z
from inpaint.train import CheckpointError, checkpoints, load_checkpoint, load_models, train


def test_generator_and_discriminator_shapes_and_ranges():
    generator, discriminator = Generator(width=8), Discriminator(width=8)
    z = sample_z(5, generator=torch.Generator().manual_seed(0))
    assert z.shape == (5, 100) and z.min() >= -1 and z.max() <= 1
    images = generator(z)
    assert images.shape == (5, 3, 64, 64)
    assert images.min() >= -1 and images.max() <= 1
    assert discriminator(images).shape == (5,)


def test_ci_run_writes_checkpoints_log_and_samples(ci_run):
    config = train_config("ci")
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
    config = train_config("ci")
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
        train(train_config("ci"), ci_run, progress=False)


def test_resume_with_other_settings_is_refused(ci_run, tmp_path):
    config = train_config("ci")
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


def test_schedule_of_the_original_post(tmp_path):
    """"30:10"-style blocks: D-only batches, then G-only batches, logged as such."""
    config = train_config("ci", schedule="2:1", epochs=1)
    train(config, tmp_path, progress=False)
    with open(tmp_path / "log.csv") as handle:
        phases = [row["phase"] for row in csv.DictReader(handle)]
    assert phases == ["D", "D", "G", "D"]

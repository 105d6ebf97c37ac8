"""Shared fixtures: the committed sample photographs and a tiny trained `ci` run."""
from __future__ import annotations

import shutil

import pytest
import torch

from inpaint.data.cache import SAMPLE_DIR, load_sample_split
from inpaint.method.pixels import to_tensor
from inpaint.study.profiles import PROFILES, train_config
from inpaint.training.checkpoints import checkpoints
from inpaint.training.train import train

import nbval_tolerance  # noqa: F401  (nbval compares floats within a stated tolerance)

@pytest.fixture(scope="session")
def sample_val() -> torch.Tensor:
    """32 real photographs, float (32, 3, 64, 64) in [-1, 1]."""
    return to_tensor(load_sample_split("val"))


@pytest.fixture
def checkpoint(ci_run) -> str:
    """The path of the `ci` run's last checkpoint (epoch 3), as `complete --checkpoint`."""
    return str(checkpoints(ci_run)[3])


@pytest.fixture
def images(tmp_path):
    """A folder of three committed sample photographs (64x64 JPEGs), as `complete --input`."""
    folder = tmp_path / "in"
    folder.mkdir()
    for image in sorted((SAMPLE_DIR / "val").glob("*.JPEG"))[:3]:
        shutil.copy(image, folder)
    return folder


@pytest.fixture(scope="session")
def ci_run(tmp_path_factory):
    """A `ci` profile training run (3 epochs on the committed sample), shared by the tests."""
    return train(train_config(PROFILES["ci"]), tmp_path_factory.mktemp("ci_run"), progress=False)

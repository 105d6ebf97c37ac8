"""Completing an image loads neither the training loop nor the study's experiments or pipeline.

Each check runs a fresh interpreter with `-X importtime`, which lists every module it imports, so a
module that this test process has already imported cannot hide one that the import would load.
"""
from __future__ import annotations

import subprocess
import sys

import pytest

from inpaint.files import PROJECT_ROOT

TRAINING_AND_STUDY = ("inpaint.training.train", "inpaint.study.experiments",
                      "inpaint.tools.pipeline")


def imported_modules(*args: str) -> set[str]:
    """The names of the modules `python -X importtime *args` imports (it must exit 0)."""
    result = subprocess.run([sys.executable, "-X", "importtime", *args], cwd=PROJECT_ROOT,
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr[-2000:]
    return {line.rsplit("|", 1)[1].strip() for line in result.stderr.splitlines()
            if line.startswith("import time:")}


@pytest.mark.parametrize("args", [
    ("-c", "import inpaint.tools.photos"),
    ("-c", "import inpaint.study.gans"),  # what `complete --model NAME` loads for the chosen epoch
    ("-m", "inpaint", "complete", "--help"),
], ids=["import photos", "import gans", "complete --help"])
def test_completing_loads_nothing_of_training_or_the_study(args):
    loaded = imported_modules(*args)
    # the listing was read
    assert "inpaint.tools.photos" in loaded or "inpaint.study.gans" in loaded
    pulled_in = sorted(set(TRAINING_AND_STUDY) & loaded)
    assert not pulled_in, (
        f"`python {' '.join(args)}` imports {pulled_in}: completing an image must not load the "
        f"training loop or the study; import checkpoint helpers from inpaint.training.checkpoints "
        f"and device ones from inpaint.method.device, or import the training module inside the "
        f"function that trains")

"""Completing an image loads neither the training loop nor the study's experiments or pipeline.

Each check runs a fresh interpreter with `-X importtime`, which lists every module it imports, so a
module that this test process has already imported cannot hide one that the import would load.
"""
from __future__ import annotations

import subprocess
import sys

import pytest

from inpaint.data import PROJECT_ROOT

TRAINING_AND_STUDY = ("inpaint.train", "inpaint.experiments", "inpaint.pipeline")


def imported_modules(*args: str) -> set[str]:
    """The names of the modules `python -X importtime *args` imports (it must exit 0)."""
    result = subprocess.run([sys.executable, "-X", "importtime", *args], cwd=PROJECT_ROOT,
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr[-2000:]
    return {line.rsplit("|", 1)[1].strip() for line in result.stderr.splitlines()
            if line.startswith("import time:")}


@pytest.mark.parametrize("args", [
    ("-c", "import inpaint.complete"),
    ("-c", "import inpaint.runs"),  # what `complete --model NAME` loads for the chosen epoch
    ("-m", "inpaint", "complete", "--help"),
], ids=["import complete", "import runs", "complete --help"])
def test_completing_loads_nothing_of_training_or_the_study(args):
    loaded = imported_modules(*args)
    assert "inpaint.complete" in loaded or "inpaint.runs" in loaded  # the listing was read
    pulled_in = sorted(set(TRAINING_AND_STUDY) & loaded)
    assert not pulled_in, (
        f"`python {' '.join(args)}` imports {pulled_in}: completing an image must not load the "
        f"training loop or the study; import checkpoint and device helpers from "
        f"inpaint.checkpoints and precision ones from inpaint.precision, or import the training "
        f"module inside the function that trains")

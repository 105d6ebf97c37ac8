"""Hardening, round 2, item 4: file names that are not valid UTF-8 (b'caf\\xe9.png' on Linux)."""
from __future__ import annotations

import os
import shutil

import pandas as pd

from inpaint.data.cache import SAMPLE_DIR
from inpaint.tools.cli import main

FAST = ["--iters", "3", "--restarts", "1"]


def test_4_a_file_name_that_is_not_utf8_is_completed_and_escaped_in_metrics(checkpoint, tmp_path):
    folder = tmp_path / "in"
    folder.mkdir()
    latin1 = os.path.join(os.fsencode(folder), b"caf\xe9.jpg")  # Latin-1 e-acute: invalid UTF-8
    shutil.copy(sorted((SAMPLE_DIR / "val").glob("*.JPEG"))[0], latin1)
    out = tmp_path / "out"
    assert main(["complete", "--checkpoint", checkpoint, "--input", str(folder),
                 "--out", str(out), *FAST, "--score"]) == 0
    written = set(os.listdir(os.fsencode(out)))
    assert {b"caf\xe9_completed.png", b"caf\xe9_blended.png", b"metrics.csv"} <= written
    metrics = pd.read_csv(out / "metrics.csv", encoding="utf-8")  # valid UTF-8
    assert list(metrics.image.unique()) == ["caf\\xe9"]  # the byte as a \xNN escape

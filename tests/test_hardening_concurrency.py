"""Hardening, round 2, item 2: two `complete` runs into one --out.

--out is claimed (its INCOMPLETE file created and locked, holding the pid) before any work, so a
second run is refused at once and told the truth: running (with the pid) or interrupted.
"""
from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd

import inpaint

from inpaint.tools.cli import main

FAST = ["--iters", "3", "--restarts", "1"]
# A `complete` whose solve takes 4 s longer, so that the other run starts while it holds --out.
SLOW_RUN = """
import sys, time
import inpaint.tools.photos as c
solve = c.complete
def slow(*args, **kwargs):
    time.sleep(4)
    return solve(*args, **kwargs)
c.complete = slow
from inpaint.tools.cli import main
sys.exit(main(sys.argv[1:]))
"""


def test_2_two_runs_into_one_out_one_completes_the_other_is_refused_at_once(checkpoint, images,
                                                                             tmp_path):
    out = tmp_path / "out"
    env = {**os.environ, "PYTHONPATH": str(Path(inpaint.__file__).parents[1])}
    command = [sys.executable, "-c", SLOW_RUN, "complete", "--checkpoint", checkpoint,
               "--input", str(images), "--out", str(out), *FAST, "--score"]
    runs = [subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                             text=True) for _ in range(2)]
    ended = {}
    while len(ended) < 2:
        for k, run in enumerate(runs):
            if k not in ended and run.poll() is not None:
                ended[k] = time.monotonic()
        time.sleep(0.05)
    codes = [run.returncode for run in runs]
    assert sorted(codes) == [0, 2], [run.stderr.read() for run in runs]
    winner, loser = (runs[0], runs[1]) if codes[0] == 0 else (runs[1], runs[0])
    err = loser.stderr.read().strip()
    assert err == (f"error: another `complete` is running into {out} (pid {winner.pid}); wait "
                   f"for it to finish or choose another --out")
    assert ended[runs.index(loser)] < ended[runs.index(winner)] - 2  # refused at once
    assert len(pd.read_csv(out / "metrics.csv").image.unique()) == 3  # the winner's, kept
    assert len(list(out.glob("*_blended.png"))) == 3 and not (out / "INCOMPLETE").exists()


def test_2_a_dead_runs_marker_is_reported_as_interrupted(checkpoint, images, tmp_path, capsys):
    out = tmp_path / "out"
    out.mkdir()
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True).stdout.strip()
    (out / "INCOMPLETE").write_text(f"{dead}\npython -m inpaint complete ...\n")
    args = ["complete", "--checkpoint", checkpoint, "--input", str(images), "--out", str(out),
            *FAST]
    assert main(args) == 2
    err = capsys.readouterr().err.strip()
    assert "was interrupted" in err and "running" not in err and "--overwrite" in err
    assert main([*args, "--overwrite"]) == 0 and not (out / "INCOMPLETE").exists()

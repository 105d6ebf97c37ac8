"""Hardening, round 2, item 3: a full disk is one line naming the file and the fix, not a
traceback, and leaves nothing partial under a final name."""
from __future__ import annotations

import errno

import torch
from PIL import Image

from inpaint.tools.cli import main
from inpaint.training.checkpoints import checkpoints

FAST = ["--iters", "3", "--restarts", "1"]


def error_line(capsys) -> str:
    err = capsys.readouterr().err.strip().splitlines()[-1]
    assert err.startswith("error: "), err
    return err


def test_3_a_full_disk_during_complete_is_one_line_and_leaves_nothing_partial(
        checkpoint, images, tmp_path, capsys, monkeypatch):
    save, calls = Image.Image.save, []

    def disk_full_on_the_third_png(image, fp, *args, **kwargs):
        calls.append(fp)
        if len(calls) == 3:
            with open(fp, "wb") as handle:
                handle.write(b"\x89PNG half an ima")
            raise OSError(errno.ENOSPC, "No space left on device")
        return save(image, fp, *args, **kwargs)

    monkeypatch.setattr(Image.Image, "save", disk_full_on_the_third_png)
    out = tmp_path / "out"
    assert main(["complete", "--checkpoint", checkpoint, "--input", str(images),
                 "--out", str(out), *FAST, "--score"]) == 1
    err = error_line(capsys)
    target = out / calls[2].name.replace(".", "", 1).replace(".tmp", "")
    assert err == (f"error: cannot write {target} (No space left on device); the disk may be "
                   f"full: free some space or choose another --out")
    left = sorted(p.name for p in out.iterdir())
    assert target.name not in left and not [n for n in left if ".tmp" in n]
    assert "metrics.csv" not in left and "INCOMPLETE" in left  # marked partial


def test_3_a_full_disk_during_train_names_the_checkpoint(tmp_path, capsys, monkeypatch):
    save = torch.save

    def disk_full_for_checkpoints(obj, f, *args, **kwargs):
        if "epoch_" in str(f):
            raise RuntimeError("[enforce fail at inline_container.cc:626] . unexpected pos "
                               "4480 vs 4374")
        return save(obj, f, *args, **kwargs)

    monkeypatch.setattr(torch, "save", disk_full_for_checkpoints)
    out = tmp_path / "run"
    assert main(["train", "--profile", "ci", "--epochs", "1", "--out", str(out)]) == 1
    err = error_line(capsys)
    assert err.startswith(f"error: cannot write {out / 'checkpoints' / 'epoch_001.pt'} (")
    assert err.endswith("the disk may be full: free some space or choose another --out")
    assert not checkpoints(out) and not list((out / "checkpoints").iterdir())

"""Hardening, item 6: an image's result does not depend on the other images of its folder, on
its place among them or on the batch size. Each image's starting codes come from its own pixels
and the seed (`inpaint.method.solver.initial_codes`)."""
from __future__ import annotations

import shutil

from inpaint.tools.cli import main

FAST = ["--iters", "5", "--restarts", "2", "--mask", "center"]


def run(checkpoint, source, out, *extra) -> int:
    return main(["complete", "--checkpoint", checkpoint, "--input", str(source),
                 "--out", str(out), *FAST, *extra])


def test_6_an_image_gives_the_same_bytes_alone_in_a_folder_and_at_any_batch_size(
        checkpoint, images, tmp_path):
    names = sorted(p.name for p in images.iterdir())
    last = names[-1]
    alone = tmp_path / "alone"
    alone.mkdir()
    shutil.copy(images / last, alone)
    # Copies of the image beside it: each copy must get the same fill, not the next codes.
    for copy in ("copy_a", "copy_b"):
        shutil.copy(images / last, images / f"{copy}_{last}")
    assert run(checkpoint, alone / last, tmp_path / "single") == 0
    assert run(checkpoint, images, tmp_path / "folder_b1", "--batch-size", "1") == 0
    assert run(checkpoint, images, tmp_path / "folder_b8", "--batch-size", "8") == 0
    stem = last.rsplit(".", 1)[0]
    outputs = ["completed", "blended"]
    for kind in outputs:
        expected = (tmp_path / "single" / f"{stem}_{kind}.png").read_bytes()
        for folder in ("folder_b1", "folder_b8"):
            for name in (stem, f"copy_a_{stem}", f"copy_b_{stem}"):
                got = (tmp_path / folder / f"{name}_{kind}.png").read_bytes()
                assert got == expected, (folder, name, kind)

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


def test_6_a_seeded_mask_kind_is_the_same_for_an_image_alone_and_in_a_folder(
        checkpoint, images, tmp_path):
    """pattern, random and half draw each photo's mask from the seed and its own pixels, not
    from its place in the folder."""
    last = sorted(p.name for p in images.iterdir())[-1]
    alone = tmp_path / "alone"
    alone.mkdir()
    shutil.copy(images / last, alone)
    stem = last.rsplit(".", 1)[0]
    for kind in ("pattern", "random", "half"):
        extra = ["--iters", "5", "--restarts", "2", "--mask", kind]
        assert main(["complete", "--checkpoint", checkpoint, "--input", str(alone / last),
                     "--out", str(tmp_path / f"single_{kind}"), *extra]) == 0
        assert main(["complete", "--checkpoint", checkpoint, "--input", str(images),
                     "--out", str(tmp_path / f"folder_{kind}"), *extra]) == 0
        single = (tmp_path / f"single_{kind}" / f"{stem}_blended.png").read_bytes()
        assert (tmp_path / f"folder_{kind}" / f"{stem}_blended.png").read_bytes() == single, kind

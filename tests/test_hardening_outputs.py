"""Hardening, round 3 (issue 37): `complete` never writes over a file it reads, never reads its
own outputs back, and never writes through a symbolic link planted in --out."""
from __future__ import annotations

import shutil

import numpy as np
from PIL import Image

from inpaint.tools.cli import main

FAST = ["--iters", "3", "--restarts", "1"]


def complete(checkpoint, images, out, *extra):
    return main(["complete", "--checkpoint", checkpoint, "--input", str(images),
                 "--out", str(out), *FAST, *extra])


def error_line(capsys) -> str:
    err = capsys.readouterr().err.strip()
    assert err.startswith("error: ") and "\n" not in err, err
    return err


def test_out_as_the_input_folder_is_refused_even_with_overwrite(checkpoint, images, capsys):
    first = sorted(images.iterdir())[0]
    shutil.copy(first, images / "sunset_completed.png")  # a photo named like an output
    before = {p.name: p.read_bytes() for p in images.iterdir()}
    assert complete(checkpoint, images, images, "--overwrite") == 2
    assert "is the --input folder" in error_line(capsys)
    assert {p.name: p.read_bytes() for p in images.iterdir()} == before


def test_an_output_never_replaces_the_mask_it_reads(checkpoint, images, tmp_path, capsys):
    photo = sorted(images.iterdir())[0]
    mask = np.full((64, 64), 255, np.uint8)
    mask[20:40, 20:40] = 0
    out = tmp_path / "out"
    out.mkdir()
    path = out / f"{photo.stem}_completed.png"  # the mask kept where an output will go
    Image.fromarray(mask).save(path)
    assert complete(checkpoint, photo, out, "--mask", str(path), "--overwrite") == 2
    assert error_line(capsys) == (f"error: the output {path} would replace the input {path}; "
                                  f"choose another --out or rename the input")
    np.testing.assert_array_equal(np.asarray(Image.open(path)), mask)


def test_a_mask_kept_among_the_photos_is_not_read_as_a_photo(checkpoint, images, tmp_path):
    mask = np.full((64, 64), 255, np.uint8)
    mask[20:40, 20:40] = 0
    Image.fromarray(mask).save(images / "mask.png")
    assert complete(checkpoint, images, tmp_path / "out", "--mask", str(images / "mask.png")) == 0
    assert not list((tmp_path / "out").glob("mask_*"))
    assert len(list((tmp_path / "out").glob("*_blended.png"))) == 3


def test_a_symlink_named_incomplete_in_out_is_never_followed(checkpoint, images, tmp_path,
                                                            capsys):
    victim = tmp_path / "precious.txt"
    victim.write_text("keep me\n")
    out = tmp_path / "out"
    out.mkdir()
    (out / "INCOMPLETE").symlink_to(victim)
    assert complete(checkpoint, images, out, "--overwrite") == 2
    assert "INCOMPLETE is a symbolic link" in error_line(capsys)
    assert victim.read_text() == "keep me\n" and (out / "INCOMPLETE").is_symlink()


def test_a_symlink_where_an_output_is_staged_is_replaced_not_written_through(
        checkpoint, images, tmp_path):
    victim = tmp_path / "precious.png"
    victim.write_bytes(b"keep me")
    out = tmp_path / "out"
    out.mkdir()
    name = sorted(images.iterdir())[0].stem
    (out / f".{name}_blended.tmp.png").symlink_to(victim)
    assert complete(checkpoint, images, out) == 0
    assert victim.read_bytes() == b"keep me"

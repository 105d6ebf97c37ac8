"""Hardening, round 2, item 1: phone photos (EXIF orientation) are read as a viewer shows them.

The photo and the mask are both turned upright before anything else, so a mask drawn on the photo
as it appears on screen marks the pixels meant; outputs are written upright, with no tag.
"""
from __future__ import annotations

import numpy as np
from PIL import Image, ImageOps

from inpaint.data.cache import SAMPLE_DIR
from inpaint.tools.cli import main

FAST = ["--iters", "3", "--restarts", "1"]
ORIENTATION = 0x0112  # the EXIF tag; 6 = "rotate 90 degrees clockwise to view"


def upright_photo() -> np.ndarray:
    """A 96x128 (portrait) photo, uint8 (128, 96, 3), from two committed samples."""
    tiles = [np.asarray(Image.open(p).convert("RGB"))
             for p in sorted((SAMPLE_DIR / "val").glob("*.JPEG"))[:2]]
    stacked = np.concatenate(tiles, axis=0)  # (128, 64, 3)
    return np.concatenate([stacked, stacked[:, :32]], axis=1)  # (128, 96, 3)


def hole_mask(height: int, width: int) -> np.ndarray:
    """uint8 (H, W): white known, a black box off the centre (rows 10..40, columns 20..50)."""
    mask = np.full((height, width), 255, np.uint8)
    mask[10:40, 20:50] = 0
    return mask


def tagged(image: Image.Image) -> Image.Image.Exif:
    exif = image.getexif()
    exif[ORIENTATION] = 6
    return exif


def test_1_exif_orientation_photo_is_filled_where_the_upright_mask_says(checkpoint, tmp_path):
    upright = Image.fromarray(upright_photo())
    stored = upright.transpose(Image.Transpose.ROTATE_90)  # what the phone stores: landscape
    stored.save(tmp_path / "phone.jpg", quality=95, exif=tagged(stored))
    with Image.open(tmp_path / "phone.jpg") as image:
        assert image.size == (128, 96) and image.getexif()[ORIENTATION] == 6
        expected = np.asarray(ImageOps.exif_transpose(image).convert("RGB"))  # as a viewer shows
    assert expected.shape == (128, 96, 3)  # non-square, portrait once upright
    mask = hole_mask(128, 96)
    Image.fromarray(mask).save(tmp_path / "mask.png")  # drawn on the upright view
    out = tmp_path / "out"
    assert main(["complete", "--checkpoint", checkpoint, "--input", str(tmp_path / "phone.jpg"),
                 "--mask", str(tmp_path / "mask.png"), "--out", str(out), *FAST]) == 0
    known = mask == 255
    for kind in ("corrupted", "completed", "blended"):
        with Image.open(out / f"phone_{kind}.png") as written:
            assert written.size == (96, 128)  # upright
            assert ORIENTATION not in written.getexif()
            pixels = np.asarray(written)
        np.testing.assert_array_equal(pixels[known], expected[known])  # every known pixel
    corrupted = np.asarray(Image.open(out / "phone_corrupted.png"))
    assert (corrupted[~known] == 128).all()  # the hole is where the mask says


def test_1_a_mask_png_with_an_orientation_tag_is_read_upright(checkpoint, tmp_path):
    Image.fromarray(upright_photo()).save(tmp_path / "photo.png")
    mask = Image.fromarray(hole_mask(128, 96)).transpose(Image.Transpose.ROTATE_90)
    mask.save(tmp_path / "mask.png", exif=tagged(mask))  # stored sideways, tagged to be turned
    out = tmp_path / "out"
    assert main(["complete", "--checkpoint", checkpoint, "--input", str(tmp_path / "photo.png"),
                 "--mask", str(tmp_path / "mask.png"), "--out", str(out), *FAST]) == 0
    corrupted = np.asarray(Image.open(out / "photo_corrupted.png"))
    known = hole_mask(128, 96) == 255
    assert (corrupted[~known] == 128).all()
    np.testing.assert_array_equal(corrupted[known], upright_photo()[known])

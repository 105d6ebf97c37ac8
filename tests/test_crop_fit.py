"""The crop of Yeh et al.'s test faces is measured, not assumed (`inpaint.data.crop_fit`): a face
cut from a known square of a real photograph is traced back to that square, whatever its colour
balance, and the fits are stated in the official CelebA images' pixels."""
from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from inpaint.data.crop_fit import fit_crop, fit_crops
from inpaint.files import PROJECT_ROOT

SAMPLE = sorted((PROJECT_ROOT / "data" / "sample" / "val").glob("*.JPEG"))


def original(index: int = 0, size=(89, 109)) -> np.ndarray:
    """A real photograph of the committed sample at the size of our CelebA copies."""
    picture = Image.open(SAMPLE[index]).convert("RGB").resize(size, Image.BICUBIC)
    return np.asarray(picture)


def cut(image: np.ndarray, side: float, left: float, top: float) -> np.ndarray:
    square = Image.fromarray(image).crop((left, top, left + side, top + side))
    return np.asarray(square.resize((64, 64), Image.BICUBIC))


@pytest.mark.parametrize("side, left, top", [(44, 22, 48), (40, 10, 60)])
def test_a_face_cut_from_a_known_square_is_traced_back_to_it(side, left, top):
    image = original()
    fit = fit_crop(cut(image, side, left, top), image, sides=range(36, 50, 2))
    assert fit.side == side
    assert abs(fit.left - left) <= side / 64 and abs(fit.top - top) <= side / 64
    assert fit.mse < 30  # resampling's rounding, not a wrong square


def test_a_face_with_another_colour_balance_lands_on_the_same_square():
    image = original(1)
    face = cut(image, 44, 22, 48).astype(float)
    brighter = np.clip(1.3 * face - 20, 0, 255).astype(np.uint8)  # more contrast, darker
    fit = fit_crop(brighter, image, sides=range(36, 50, 2))
    assert (fit.side, round(fit.left), round(fit.top)) == (44, 22, 48)


def test_the_fits_are_stated_in_the_official_images_pixels():
    small, large = original(2), original(2, size=(178, 218))
    faces = {"000003": cut(small, 44, 22, 48)}
    table = fit_crops(faces, {"000003": small}, sides=range(40, 48, 2))
    assert table.loc["000003", "side"] == pytest.approx(88)  # 44 of 89 is 88 of 178
    assert table.loc["000003", "centre_y"] == pytest.approx(2 * (48 + 22), abs=2)
    assert table.loc["000003", "psnr"] > 30
    with pytest.raises(ValueError, match="no face has its original"):
        fit_crops(faces, {"000004": large}, sides=[40])


def test_a_face_of_the_wrong_size_or_a_side_beyond_the_image_is_refused():
    image = original()
    with pytest.raises(ValueError, match="face must be a 64x64 RGB array"):
        fit_crop(image, image, sides=[40])
    with pytest.raises(ValueError, match="sides must lie between 1"):
        fit_crop(cut(image, 44, 22, 48), image, sides=[120])

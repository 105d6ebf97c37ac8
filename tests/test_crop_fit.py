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


SHARED = PROJECT_ROOT.parent / "shared" / "datasets"


def test_the_yeh_crop_cuts_the_same_square_at_half_and_at_full_size():
    """`YEH_CROP` is stated in the official 178x218 pixels and scaled to each copy: a smooth
    picture at both sizes gives nearly the same 64x64 face."""
    from inpaint.data.decoding import preprocess
    y, x = np.mgrid[0:218, 0:178]
    picture = np.stack([x * 255 / 177, y * 255 / 217, (x + y) * 255 / 394], -1).astype(np.uint8)
    full = np.asarray(preprocess(Image.fromarray(picture), "yeh"), dtype=float)
    half = np.asarray(preprocess(Image.fromarray(picture).resize((89, 109), Image.BICUBIC),
                                 "yeh"), dtype=float)
    assert np.abs(full - half).mean() < 3
    # the square's centre lies 141.5 of 218 pixels down, its side 88 of 178 across
    assert full[32, 32, 1] == pytest.approx(141.5 * 255 / 217, abs=3)
    assert full[:, -1, 0].mean() - full[:, 0, 0].mean() == pytest.approx(87 * 255 / 177, abs=6)


@pytest.mark.skipif(not (SHARED / "yeh-celeba-testimages-65.zip").is_file(),
                    reason="needs ../shared (Yeh et al.'s test faces and our CelebA copies)")
def test_the_yeh_crop_is_the_median_fit_of_the_authors_faces():
    """Measured again: the authors' faces fitted against our copies of the same CelebA files
    (the first 16) give `YEH_CROP` within two official pixels."""
    from inpaint.data.crop_fit import load_members
    from inpaint.data.decoding import YEH_CROP
    faces = load_members(SHARED / "yeh-celeba-testimages-65.zip", "*testimages/[0-9]*.png")
    assert len(faces) == 64 and "000001" in faces  # face1.png, of no CelebA number, left out
    faces = dict(list(faces.items())[:16])
    originals = load_members(SHARED / "celeba-10k.zip", "*img_align_celeba/*.jpg",
                             stems=set(faces))
    assert sorted(originals) == sorted(faces) and originals["000001"].shape == (109, 89, 3)
    table = fit_crops(faces, originals, sides=np.arange(38, 50, 0.5))
    side, x, y = YEH_CROP
    assert table.side.median() == pytest.approx(side, abs=2)
    assert table.centre_x.median() == pytest.approx(x, abs=2)
    assert table.centre_y.median() == pytest.approx(y, abs=2)

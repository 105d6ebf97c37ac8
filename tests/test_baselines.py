"""Classical inpainting baselines: known pixels kept, hidden pixels ignored, sensible fills."""
import numpy as np
import pytest
import torch

from inpaint.data.cache import load_sample_split
from inpaint.method.baselines import BASELINES, mean_fill, telea
from inpaint.method.masks import make_mask
from inpaint.method.metrics import evaluate
from inpaint.method.pixels import to_tensor


@pytest.fixture(scope="module")
def photos():
    """The 32 real validation photographs, uint8 (32, 64, 64, 3)."""
    return load_sample_split("val")


def test_registry_names():
    assert set(BASELINES) == {"mean", "telea", "navier-stokes", "biharmonic"}


@pytest.mark.parametrize("name", sorted(BASELINES))
@pytest.mark.parametrize("kind", ("center", "random", "half-right"))
def test_known_pixels_kept_and_hidden_pixels_ignored(photos, name, kind):
    y = to_tensor(photos[:3])
    mask = make_mask(kind, len(y))
    out = BASELINES[name](y, mask)
    known = mask.expand_as(y) > 0.5
    assert out.shape == y.shape and out.dtype == y.dtype
    assert torch.equal(out[known], y[known])
    assert torch.isfinite(out).all() and out.min() >= -1 and out.max() <= 1
    noisy = torch.where(known, y, torch.rand_like(y) * 2 - 1)
    assert torch.equal(BASELINES[name](noisy, mask), out)


def test_mean_fill_is_the_known_pixel_mean(photos):
    mask = make_mask("center", len(photos))
    out = mean_fill(to_tensor(photos), mask)
    known = mask[:, 0].numpy() > 0.5
    for image, filled, keep in zip(photos, out, known):
        expected = image[keep].astype(np.float64).mean(0) / 127.5 - 1  # (3,)
        hole_values = filled[:, ~torch.from_numpy(keep)].double()  # (3, hole pixels)
        np.testing.assert_allclose(hole_values.numpy(), expected[:, None].repeat(hole_values.shape[1], 1),
                                   atol=1e-6)


@pytest.mark.parametrize("name", sorted(BASELINES))
@pytest.mark.parametrize("kind", ("center", "half-left", "half-bottom"))
def test_constant_image_is_filled_with_its_colour(name, kind):
    # OpenCV's Telea adds a normalised gradient term that turns rounding into a few grey levels
    # of noise even on a flat image (9 at most here, at the far edge of a half hole); the others
    # are exact up to quantisation
    grey_levels = 9 if name == "telea" else 1
    y = to_tensor(np.full((1, 64, 64, 3), (40, 128, 200), dtype=np.uint8))
    out = BASELINES[name](y, make_mask(kind, 1))
    torch.testing.assert_close(out, y, atol=grey_levels / 127.5 + 1e-6, rtol=0)


def test_telea_radius_is_used(photos):
    y = to_tensor(photos[:2])
    mask = make_mask("center", 2)
    assert not torch.equal(telea(y, mask, radius=1), telea(y, mask, radius=8))


def test_interpolating_baselines_beat_mean_fill_on_scattered_pixels(photos):
    # with 80% of pixels missing at random, every hole pixel has known pixels close by, so local
    # interpolation beats one flat colour by a wide margin on real photographs
    y = to_tensor(photos[:8])
    mask = make_mask("random", len(y))
    hole_l1 = {name: evaluate(method(y, mask), y, mask)["l1_hole"].mean()
               for name, method in BASELINES.items()}
    for name in ("telea", "navier-stokes", "biharmonic"):
        assert hole_l1[name] < 0.7 * hole_l1["mean"], hole_l1

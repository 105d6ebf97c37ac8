"""PSNR, SSIM and L1 over the hole and the whole image, checked against known values."""
import math

import numpy as np
import pytest
import torch

from inpaint.data.cache import load_sample_split
from inpaint.method.masks import center, make_mask
from inpaint.method.metrics import COLUMNS, evaluate, l1, psnr
from inpaint.method.pixels import to_tensor


@pytest.fixture(scope="module")
def truth():
    """Real photographs, uint8 (4, 64, 64, 3), clipped to 0..245 so that +10 stays in range."""
    return np.minimum(load_sample_split("val")[:4], 245)


def test_one_row_per_image_with_the_documented_columns(truth):
    table = evaluate(to_tensor(truth), to_tensor(truth), center(len(truth)))
    assert list(table.columns) == list(COLUMNS)
    assert list(table.index) == [0, 1, 2, 3] and table.index.name == "image"


def test_identical_images_have_infinite_psnr_ssim_one_and_zero_l1(truth):
    table = evaluate(to_tensor(truth), to_tensor(truth), make_mask("pattern", len(truth)))
    assert np.isinf(table[["psnr_hole", "psnr_full"]].to_numpy()).all()
    np.testing.assert_allclose(table[["ssim_hole", "ssim_full"]], 1.0)
    assert (table[["l1_hole", "l1_full"]] == 0).all().all()


def test_uniform_error_of_10_grey_levels(truth):
    table = evaluate(to_tensor(truth + 10), to_tensor(truth), center(len(truth)))
    np.testing.assert_allclose(table[["l1_hole", "l1_full"]], 10.0, rtol=1e-12)
    np.testing.assert_allclose(table[["psnr_hole", "psnr_full"]], 20 * math.log10(255 / 10), rtol=1e-12)
    assert (table[["ssim_hole", "ssim_full"]] < 1).all().all()


def test_hole_only_error_scales_full_metrics_by_the_hole_fraction(truth):
    mask = center(len(truth))
    hole = mask[:, 0].numpy() == 0
    completed = truth.copy()
    completed[hole] += 10
    table = evaluate(to_tensor(completed), to_tensor(truth), mask)
    fraction = 0.25
    np.testing.assert_allclose(table["l1_hole"], 10.0, rtol=1e-12)
    np.testing.assert_allclose(table["l1_full"], 10.0 * fraction, rtol=1e-12)
    np.testing.assert_allclose(table["psnr_full"], table["psnr_hole"] - 10 * math.log10(fraction),
                               rtol=1e-12)
    assert (table["ssim_hole"] < table["ssim_full"]).all() and (table["ssim_full"] < 1).all()


def test_psnr_of_known_mse_and_rows_follow_images(truth):
    completed = truth.copy()
    completed[1, :32] += 10  # image 1: half the pixels off by 10, MSE = 50; image 0 untouched
    table = evaluate(to_tensor(completed), to_tensor(truth), make_mask("half-top", len(truth)))
    assert math.isinf(table.loc[0, "psnr_full"])
    assert table.loc[1, "psnr_full"] == pytest.approx(10 * math.log10(255 ** 2 / 50))
    assert table.loc[1, "psnr_hole"] == pytest.approx(20 * math.log10(255 / 10))
    assert table.loc[1, "l1_full"] == pytest.approx(5.0)


def test_metrics_are_on_the_quantised_image(truth):
    # less than half a grey level in [-1, 1] (1/255) rounds away, as in the saved PNG
    table = evaluate(to_tensor(truth) + 0.003, to_tensor(truth), center(len(truth)))
    assert np.isinf(table["psnr_full"]).all()


def test_region_helpers_on_uint8_arrays():
    a = np.zeros((64, 64, 3), np.uint8)
    b = a.copy()
    b[0, 0, 0] = 255
    region = np.zeros((64, 64), bool)
    region[0, :2] = True  # 2 pixels x 3 channels, one value off by 255
    assert l1(a, b, region) == pytest.approx(255 / 6)
    assert psnr(a, b, region) == pytest.approx(10 * math.log10(6))
    assert psnr(a, b) == pytest.approx(10 * math.log10(64 * 64 * 3))


def test_mismatched_shapes_and_bad_masks_are_refused(truth):
    with pytest.raises(ValueError, match="same shape"):
        evaluate(to_tensor(truth[:2]), to_tensor(truth), center(4))
    with pytest.raises(ValueError, match="no hole"):
        evaluate(to_tensor(truth), to_tensor(truth), torch.ones(4, 1, 64, 64))

"""Paste and Poisson blending on real photographs: known pixels exact, gradients matched in the
hole, hidden pixels never read."""
import pytest
import torch
import torch.nn.functional as F

from inpaint.data.cache import load_sample_split
from inpaint.method.blend import paste, poisson
from inpaint.method.masks import make_mask
from inpaint.method.pixels import to_tensor

KINDS = ("center", "pattern", "random", "half-left", "half-bottom")


@pytest.fixture(scope="module")
def photos():
    """Real photographs, float (8, 3, 64, 64) in [-1, 1]: y and a different 'generated' batch."""
    images = to_tensor(load_sample_split("val")[:16])
    return images[:8], images[8:]


def laplacian(x):
    """5-point Laplacian of (N, C, H, W) at the interior pixels, shape (N, C, H-2, W-2)."""
    return (x[..., :-2, 1:-1] + x[..., 2:, 1:-1] + x[..., 1:-1, :-2] + x[..., 1:-1, 2:]
            - 4 * x[..., 1:-1, 1:-1])


def neumann_laplacian(x):
    """Sum over in-image 4-neighbours q of (x_q - x_p), every pixel, shape (N, C, H, W).
    Replicate padding makes out-of-image neighbours contribute 0 (zero normal derivative)."""
    padded = F.pad(x, (1, 1, 1, 1), mode="replicate")
    return laplacian(padded)


def with_hole_replaced(y, mask, value):
    return torch.where(mask > 0.5, y, torch.full_like(y, value))


@pytest.mark.parametrize("kind", KINDS)
def test_paste_takes_known_from_y_and_hole_from_generated(photos, kind):
    y, generated = photos
    mask = make_mask(kind, len(y))
    out = paste(y, generated, mask)
    known = mask.expand_as(y) > 0.5
    assert torch.equal(out[known], y[known])
    assert torch.equal(out[~known], generated[~known])
    assert torch.equal(paste(with_hole_replaced(y, mask, float("nan")), generated, mask), out)


def test_paste_passes_gradients_to_generated_in_the_hole(photos):
    y, generated = photos
    mask = make_mask("center", len(y))
    generated = generated.clone().requires_grad_(True)
    paste(y, generated, mask).sum().backward()
    assert torch.equal(generated.grad, (1 - mask).expand_as(y))


@pytest.mark.parametrize("kind", KINDS)
def test_poisson_keeps_every_known_pixel_exactly(photos, kind):
    y, generated = photos
    mask = make_mask(kind, len(y))
    out = poisson(y, generated, mask)
    known = mask.expand_as(y) > 0.5
    assert out.shape == y.shape and out.dtype == y.dtype and out.device == y.device
    assert torch.equal(out[known], y[known])
    assert torch.isfinite(out).all()


@pytest.mark.parametrize("kind", KINDS)
def test_poisson_laplacian_matches_generated_inside_the_hole(photos, kind):
    y, generated = photos
    mask = make_mask(kind, len(y))
    out = poisson(y, generated, mask)
    interior_hole = (mask[..., 1:-1, 1:-1] < 0.5).expand(-1, 3, -1, -1)
    assert interior_hole.any()
    torch.testing.assert_close(laplacian(out)[interior_hole], laplacian(generated)[interior_hole],
                               atol=1e-4, rtol=0)
    # at the image border only in-image neighbours count (Neumann)
    hole = (mask < 0.5).expand_as(y)
    torch.testing.assert_close(neumann_laplacian(out)[hole], neumann_laplacian(generated)[hole],
                               atol=1e-4, rtol=0)


@pytest.mark.parametrize("kind", ("center", "random", "half-top"))
def test_poisson_never_reads_hidden_pixels(photos, kind):
    y, generated = photos
    mask = make_mask(kind, len(y))
    out = poisson(y, generated, mask)
    assert torch.equal(poisson(with_hole_replaced(y, mask, float("nan")), generated, mask), out)
    noisy = torch.where(mask > 0.5, y, torch.rand_like(y) * 2 - 1)
    assert torch.equal(poisson(noisy, generated, mask), out)


def test_poisson_of_the_true_image_returns_it(photos):
    y, _ = photos
    mask = make_mask("pattern", len(y))
    torch.testing.assert_close(poisson(y, y, mask), y, atol=1e-5, rtol=0)


def test_poisson_ignores_a_constant_offset_of_the_generated_image(photos):
    y, generated = photos
    mask = make_mask("center", len(y))
    torch.testing.assert_close(poisson(y, generated + 0.3, mask), poisson(y, generated, mask),
                               atol=1e-5, rtol=0)


def test_poisson_batch_equals_single_images_and_mask_broadcasts(photos):
    y, generated = photos
    mask = make_mask("random", len(y), seed=2)
    batch = poisson(y, generated, mask)
    for i in (0, 5):
        assert torch.equal(poisson(y[i:i + 1], generated[i:i + 1], mask[i:i + 1]), batch[i:i + 1])
    shared = make_mask("center", 1)
    assert torch.equal(poisson(y, generated, shared), poisson(y, generated, shared.expand(8, -1, -1, -1)))


def test_poisson_keeps_float64(photos):
    y, generated = photos
    out = poisson(y[:2].double(), generated[:2].double(), make_mask("center", 2))
    assert out.dtype == torch.float64
    assert torch.equal(out[..., :16, :], y[:2, ..., :16, :].double())


def test_poisson_validates_the_mask(photos):
    y, generated = photos
    with pytest.raises(ValueError, match="no hole"):
        poisson(y[:1], generated[:1], torch.ones(1, 1, 64, 64))

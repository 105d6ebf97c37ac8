"""Mask kinds: shape, hole size and placement, reproducibility, PNG round trip, validation."""
import numpy as np
import pytest
import torch
from PIL import Image

from inpaint.method import masks


def hole_fraction(mask):
    """Fraction of hole pixels of each image of a (N, 1, 64, 64) mask."""
    return 1 - mask.flatten(1).mean(1)


def test_center_hole_is_rows_and_columns_16_to_47():
    mask = masks.center(3)
    expected = torch.ones(3, 1, 64, 64)
    expected[:, :, 16:48, 16:48] = 0
    assert mask.dtype == torch.float32
    assert torch.equal(mask, expected)


def test_center_other_hole_size_stays_centred():
    mask = masks.center(1, hole=16)
    assert torch.equal(torch.nonzero(mask[0, 0] == 0).min(0).values, torch.tensor([24, 24]))
    assert torch.equal(torch.nonzero(mask[0, 0] == 0).max(0).values, torch.tensor([39, 39]))


def test_pattern_is_20_to_30_percent_missing_and_different_per_image():
    mask = masks.pattern(64, seed=0)
    assert mask.shape == (64, 1, 64, 64)
    fraction = hole_fraction(mask)
    assert ((fraction >= 0.2) & (fraction <= 0.3)).all(), fraction
    assert abs(fraction.mean() - 0.25) < 0.02  # Context Encoders' "about 25%"
    assert len({tuple(m.flatten().tolist()) for m in mask}) == 64


def test_pattern_holes_are_smooth_regions_not_squares():
    # Context Encoders' regions are blobs about 17 px across: few hole pixels border a known
    # one (a smooth, compact hole), and the holes are not unions of axis-aligned squares
    def border_share(mask):
        hole = mask[:, 0] == 0
        padded = torch.nn.functional.pad(hole, (1, 1, 1, 1), value=True)
        inner = (padded[:, :-2, 1:-1] & padded[:, 2:, 1:-1] & padded[:, 1:-1, :-2]
                 & padded[:, 1:-1, 2:])
        return ((hole & ~inner).sum() / hole.sum()).item()

    regions, squares, noise = masks.pattern(16, seed=3), masks.blocks(16, seed=3), \
        masks.random_pixels(16, missing=0.25, seed=3)
    assert border_share(regions) < 0.25
    assert border_share(noise) > 0.9
    # a square's hole has straight edges: rows of its boundary repeat; a blob's do not
    def distinct_rows(mask):
        hole = (mask[:, 0] == 0).numpy()
        return np.mean([len({row.tobytes() for row in image if row.any()}) / max(1, image.any(1).sum())
                        for image in hole])
    assert distinct_rows(regions) > distinct_rows(squares)


def test_pattern_is_reproducible_from_seed_or_generator():
    assert torch.equal(masks.pattern(4, seed=7), masks.pattern(4, seed=7))
    assert not torch.equal(masks.pattern(4, seed=7), masks.pattern(4, seed=8))
    from_generator = masks.pattern(4, generator=np.random.default_rng(7))
    assert torch.equal(from_generator, masks.pattern(4, seed=7))


def test_blocks_are_about_a_quarter_missing_and_made_of_squares():
    mask = masks.blocks(16, seed=0)
    fraction = hole_fraction(mask)
    assert ((fraction >= 0.25) & (fraction < 0.25 + 144 / 4096)).all(), fraction
    # blocks are at least 4x4, so no hole pixel is isolated from all its 4-neighbours
    hole = mask[:, 0] == 0
    padded = torch.nn.functional.pad(hole, (1, 1, 1, 1))
    neighbours = padded[:, :-2, 1:-1] | padded[:, 2:, 1:-1] | padded[:, 1:-1, :-2] | padded[:, 1:-1, 2:]
    assert not (hole & ~neighbours).any()
    assert torch.equal(masks.make_mask("blocks", 3, seed=2), masks.blocks(3, seed=2))


def test_random_pixels_are_missing_independently_with_probability_0_8():
    mask = masks.random_pixels(200, seed=1)
    fraction = hole_fraction(mask)
    # independent pixels: the hole fraction varies as a binomial proportion, sd 0.00625
    assert abs(fraction.mean() - 0.8) < 0.002
    assert 0.004 < fraction.std() < 0.009, fraction.std()
    assert len(set(fraction.tolist())) > 20
    # neighbours are independent: P(both missing) = 0.64
    hole = (mask[:, 0] == 0).float()
    both = (hole[:, :, 1:] * hole[:, :, :-1]).mean()
    assert abs(both - 0.64) < 0.005
    assert torch.equal(mask, masks.random_pixels(200, seed=1))
    assert not torch.equal(mask, masks.random_pixels(200, seed=2))


def test_random_halves_draw_each_of_the_four_halves_per_image():
    mask = masks.random_halves(40, seed=0)
    assert mask.shape == (40, 1, 64, 64)
    assert torch.allclose(hole_fraction(mask), torch.tensor(0.5))
    seen = set()
    for image in mask:
        match = [side for side in masks.HALF_SIDES if torch.equal(image, masks.half(1, side)[0])]
        assert len(match) == 1
        seen.add(match[0])
    assert seen == set(masks.HALF_SIDES)
    assert torch.equal(masks.make_mask("half", 40, seed=0), mask)
    assert not torch.equal(masks.make_mask("half", 40, seed=1), mask)


@pytest.mark.parametrize("side, region", [
    ("left", np.s_[:, :32]), ("right", np.s_[:, 32:]),
    ("top", np.s_[:32, :]), ("bottom", np.s_[32:, :]),
])
def test_half_removes_the_named_half(side, region):
    expected = torch.ones(64, 64)
    expected[region] = 0
    mask = masks.half(2, side)
    assert mask.shape == (2, 1, 64, 64)
    assert torch.equal(mask[:, 0], expected.expand(2, 64, 64))
    assert torch.equal(masks.make_mask(f"half-{side}", 2), mask)


def test_half_rejects_unknown_side():
    with pytest.raises(ValueError, match="left"):
        masks.half(1, "middle")


def test_make_mask_names_every_kind():
    assert masks.MASK_KINDS == ("center", "pattern", "random", "half")
    assert torch.equal(masks.make_mask("center", 2), masks.center(2))
    assert torch.equal(masks.make_mask("pattern", 2, seed=4), masks.pattern(2, seed=4))
    assert torch.equal(masks.make_mask("random", 2, seed=4), masks.random_pixels(2, seed=4))
    assert torch.equal(masks.make_mask("half", 2, seed=4), masks.random_halves(2, seed=4))
    assert torch.equal(masks.make_mask("half-top", 2), masks.half(2, "top"))
    for kind in masks.MASKS:
        assert masks.make_mask(kind, 3).shape == (3, 1, 64, 64)
        assert masks.MASKS[kind].paper == (kind in masks.MASK_KINDS)
        assert masks.MASKS[kind].paper or masks.MASKS[kind].reads in masks.MASK_KINDS
    assert set(masks.READINGS) <= set(masks.MASKS)
    with pytest.raises(ValueError, match="unknown mask kind 'circle'; choose one of center, "
                                         "pattern, random, half, blocks, half-left"):
        masks.make_mask("circle", 1)


def test_png_round_trip(tmp_path):
    mask = masks.pattern(1, seed=5)
    path = tmp_path / "mask.png"
    Image.fromarray(mask[0, 0].numpy().astype(np.uint8) * 255).save(path)
    assert torch.equal(masks.from_png(path), mask)
    assert torch.equal(masks.make_mask(str(path), 3), mask.expand(3, 1, 64, 64))


def test_png_white_is_known_and_black_is_hole(tmp_path, recwarn):
    grey = np.full((64, 64), 255, dtype=np.uint8)
    grey[10:20, 30:50] = 0
    Image.fromarray(np.stack([grey] * 3, -1)).save(tmp_path / "rgb.png")
    mask = masks.from_png(tmp_path / "rgb.png", n=2)
    assert mask.shape == (2, 1, 64, 64)
    assert torch.equal(mask[:, 0], torch.from_numpy(grey > 0).float().expand(2, 64, 64))
    assert not recwarn.list  # pure black and white: nothing to warn about


def test_png_of_wrong_size_is_refused(tmp_path):
    Image.fromarray(np.full((32, 48), 255, dtype=np.uint8)).save(tmp_path / "small.png")
    with pytest.raises(ValueError, match="64x64"):
        masks.from_png(tmp_path / "small.png")


def test_validate_refuses_wrong_size():
    with pytest.raises(ValueError, match=r"\(N, 1, 64, 64\)"):
        masks.validate(torch.zeros(1, 1, 32, 32))
    with pytest.raises(ValueError, match=r"mask\[None, None\]"):
        masks.validate(masks.center(1)[0, 0])


def test_validate_refuses_mask_without_hole_naming_the_image():
    mask = masks.center(3)
    mask[1] = 1
    with pytest.raises(ValueError, match=r"\[1\].*no hole"):
        masks.validate(mask)


def test_validate_refuses_mask_without_known_pixel():
    mask = masks.center(2)
    mask[0] = 0
    with pytest.raises(ValueError, match=r"\[0\].*no known pixel"):
        masks.validate(mask)


def test_validate_refuses_nan_and_soft_values():
    mask = masks.center(1)
    mask[0, 0, 0, 0] = float("nan")
    with pytest.raises(ValueError, match="NaN"):
        masks.validate(mask)
    mask[0, 0, 0, 0] = 0.5
    with pytest.raises(ValueError, match="other than 0 and 1"):
        masks.validate(mask)


def test_validate_refuses_non_tensor_and_returns_good_mask():
    with pytest.raises(TypeError, match="tensor"):
        masks.validate(np.ones((1, 1, 64, 64)))
    mask = masks.center(1)
    assert masks.validate(mask) is mask

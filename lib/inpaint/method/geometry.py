"""Photos of any size for a 64x64 model: the square around a hole, shrunk to 64x64 for the
solver, the fill put back at the square's size, and full-size scores.

Plain values in and out: a photo's mask `known` is bool (H, W), True = known, False = hole; the
square of a photo is a `Square`; images are float (3, S, S) tensors in [-1, 1] or uint8
(H, W, 3) arrays as saved. Only the square is ever turned to float, and the Poisson solve runs at
most BLEND_SIDE pixels a side, so memory grows with the hole but stays bounded.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F

from inpaint.method.blend import blend_image
from inpaint.method.metrics import COLUMNS, ssim_map

SIZE = 64  # the side of the model's images
CONTEXT = 2  # the square completed around a hole is CONTEXT times the hole's longer side
# the largest side solved exactly by Poisson blending; a larger square's blend is solved at this
# side (its correction to the fill is smooth inside the hole) and resized up. The fill itself is
# a 64x64 image resized, so nothing finer than this exists in it.
BLEND_SIDE = 512
STRIP = 256  # rows of the SSIM map computed at once
SSIM_REACH = 6  # SSIM's 7x7 window: pixels up to 3 from a change differ, and they see 3 further


@dataclass(frozen=True)
class Square:
    """The square of a photo that the solver completes: rows top..top+side, columns
    left..left+side."""

    top: int
    left: int
    side: int

    @property
    def region(self) -> tuple[slice, slice]:
        return slice(self.top, self.top + self.side), slice(self.left, self.left + self.side)


def square_around_hole(known: np.ndarray) -> Square:
    """The square around the hole of a bool (H, W) mask (True = known): centred on the hole's
    bounding box, CONTEXT times its longer side, at least 64 pixels and at most the photo's
    shorter side, moved inside the photo. For a 64x64 photo, the whole photo.
    ValueError if the hole is longer than the photo's shorter side (no square holds it)."""
    height, width = known.shape
    rows, cols = np.nonzero(~known)
    top, bottom, left, right = rows.min(), rows.max() + 1, cols.min(), cols.max() + 1
    longest, shortest = max(bottom - top, right - left), min(height, width)
    if longest > shortest:
        raise ValueError(f"the hole spans {right - left}x{bottom - top} pixels, longer than the "
                         f"image's shorter side ({shortest}), so no square around it fits in the "
                         f"{width}x{height} image; use a smaller hole or crop the image")
    side = min(max(CONTEXT * longest, SIZE), shortest)
    top = int(np.clip(top - (side - (bottom - top)) // 2, 0, height - side))
    left = int(np.clip(left - (side - (right - left)) // 2, 0, width - side))
    return Square(top, left, int(side))


def shrink(photo: torch.Tensor, known: np.ndarray, square: Square, size: int = SIZE):
    """The square of a photo as the solver sees it: (y float (3, size, size) in [-1, 1], mask
    float (1, size, size), 1 = known, 0 = hole), from photo float (3, H, W) in [-1, 1] and known
    bool (H, W).

    Area resizing over the known pixels only: a small pixel is known only if every photo pixel it
    averages is, so no hole pixel leaks into it; hole pixels are 0. At `size`, the square as it is.
    """
    rows, cols = square.region
    mask = torch.from_numpy(known[rows, cols]).float()[None]
    area = F.adaptive_avg_pool2d(torch.cat([photo[:, rows, cols] * mask, mask]), size)
    known_small = (area[3:] > 1 - 1e-6).float()
    return area[:3] * known_small, known_small


def put_back(photo: torch.Tensor, known: np.ndarray, square: Square, generated: torch.Tensor,
             blend: str) -> tuple[torch.Tensor, torch.Tensor]:
    """(completed, blended), float (3, side, side): the square of the photo (float (3, H, W) in
    [-1, 1]) with the hole of `known` (bool (H, W), True = known) filled from G(z*) (float
    (3, 64, 64) in [-1, 1]) resized to the square. `completed` pastes the fill; `blended` is
    `blend` ("paste", or "poisson": see `poisson_within`). Both keep every known pixel of the
    photo exactly."""
    rows, cols = square.region
    fill = generated
    if square.side != SIZE:
        fill = F.interpolate(generated[None], size=(square.side, square.side), mode="bicubic",
                             align_corners=False, antialias=True)[0].clamp(-1, 1)
    part, inside = photo[:, rows, cols], torch.from_numpy(known[rows, cols])
    completed = torch.where(inside, part, fill)
    if blend == "paste":
        return completed, completed
    return completed, poisson_within(part, inside, fill)


def poisson_within(part: torch.Tensor, inside: torch.Tensor, fill: torch.Tensor) -> torch.Tensor:
    """Poisson blending (`inpaint.method.blend.blend_image`) of `fill` into the hole of the square
    `part`, both float (3, S, S) in [-1, 1], `inside` bool (S, S), True = known: float (3, S, S),
    the known pixels `part`'s exactly.

    Up to BLEND_SIDE pixels a side, solved exactly. A larger square is solved at BLEND_SIDE
    (`shrink`'s area resizing) and only the correction the solve adds to the fill, which is
    smooth inside the hole, is resized up to S and added to the full-size fill: memory and time
    bounded whatever the photo's size."""
    side = part.shape[-1]
    if side <= BLEND_SIDE:
        solved = blend_image(part.permute(1, 2, 0).double().numpy(),
                             fill.permute(1, 2, 0).double().numpy(), inside.numpy())
        return torch.where(inside, part, torch.from_numpy(solved).permute(2, 0, 1).to(part.dtype))
    whole = Square(0, 0, side)
    small_part, small_known = shrink(part, inside.numpy(), whole, BLEND_SIDE)
    small_fill = F.adaptive_avg_pool2d(fill, BLEND_SIDE)
    solved = blend_image(small_part.permute(1, 2, 0).double().numpy(),
                         small_fill.permute(1, 2, 0).double().numpy(),
                         small_known[0].numpy() > 0.5)
    correction = torch.from_numpy(solved).permute(2, 0, 1).float() - small_fill
    correction = F.interpolate(correction[None], size=(side, side), mode="bilinear",
                               align_corners=False)[0]
    return torch.where(inside, part, fill + correction)


def scores(completed: np.ndarray, truth: np.ndarray, known: np.ndarray, square: Square) -> dict:
    """PSNR, SSIM and L1 (`inpaint.method.metrics.COLUMNS`) of a completed image against the
    original, both uint8 (H, W, 3) as saved, over the hole of `known` (bool (H, W)) and the whole
    image (as `inpaint.method.metrics.evaluate` at 64x64).

    Computed on the square around the hole widened by SSIM_REACH pixels, never on the whole
    photo: outside the square the images are equal (error 0, SSIM exactly 1), so the whole-image
    values follow exactly from the widened square, in memory that grows with the hole, not with
    the photo."""
    height, width = known.shape
    top, left, end = square.top, square.left, square.side + SSIM_REACH
    rows = slice(max(top - SSIM_REACH, 0), min(top + end, height))
    cols = slice(max(left - SSIM_REACH, 0), min(left + end, width))
    a, b, hole = completed[rows, cols], truth[rows, cols], ~known[rows, cols]
    ssim_total, ssim_hole = ssim_sums(a, b, hole)
    error = a.astype(np.int16) - b.astype(np.int16)  # exact, and a quarter of float64's memory
    squared, absolute = np.square(error, dtype=np.int32), np.abs(error)
    values = 3 * height * width  # every pixel's channels, also those outside the widened square
    in_hole = 3 * int(hole.sum())
    full_mse = int(squared.sum(dtype=np.int64)) / values
    hole_mse = int(squared[hole].sum(dtype=np.int64)) / in_hole
    decibels = lambda mse: float("inf") if mse == 0 else float(10 * np.log10(255.0 ** 2 / mse))
    full_ssim = (ssim_total + values - a.size) / values
    hole_values = (decibels(hole_mse), ssim_hole / in_hole,
                   int(absolute[hole].sum(dtype=np.int64)) / in_hole)
    full_values = (decibels(full_mse), full_ssim, int(absolute.sum(dtype=np.int64)) / values)
    return dict(zip(COLUMNS, hole_values + full_values))


def ssim_sums(a: np.ndarray, b: np.ndarray, hole: np.ndarray) -> tuple[float, float]:
    """(the sum of `inpaint.method.metrics.ssim_map` of uint8 (H, W, 3) images a and b over every
    pixel and channel, its sum over the pixels of `hole`, bool (H, W)), computed in strips of
    STRIP rows, each read with the 3 rows either side that its 7x7 window sees: memory grows with
    the width, not with the area."""
    height, reach = a.shape[0], 3
    total = in_hole = 0.0
    for top in range(0, height, STRIP):
        bottom = min(top + STRIP, height)
        low, high = max(top - reach, 0), min(bottom + reach, height)
        low = max(min(low, high - 7), 0)  # skimage needs 7 rows
        strip = ssim_map(a[low:high], b[low:high])[top - low:bottom - low]
        total += float(strip.sum())
        in_hole += float(strip[hole[top:bottom]].sum())
    return total, in_hole

"""Classical inpainting, the baselines the GAN completion is compared with.

Every method takes y, float (N, 3, 64, 64) in [-1, 1], and a mask, float (N, 1, 64, 64) with
1 for KNOWN pixels and 0 for the HOLE (N = 1 serves a whole batch), and returns the completed
batch, float (N, 3, 64, 64) in [-1, 1] of y's dtype and device, where
  * every known pixel is y's, exactly;
  * the hole is filled from the known pixels only: y's hidden pixels are set to 0 before any
    method sees them, so they cannot change the result.
"""
from __future__ import annotations

import cv2
import numpy as np
import torch
from skimage.restoration import inpaint_biharmonic

from inpaint.method.masks import validate
from inpaint.method.pixels import to_tensor, to_uint8

def _prepare(y: torch.Tensor, mask: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Validate the mask, expand it to y's batch as bool (N, 1, H, W) True = known, and return
    it with y whose hidden pixels are zeroed, made contiguous so that sums over it do not depend on
    y's memory layout."""
    known = validate(mask).expand(y.shape[0], 1, *y.shape[2:]).to(y.device) > 0.5
    zero = torch.zeros((), dtype=y.dtype, device=y.device)
    return known, torch.where(known, y.detach(), zero).contiguous()


def _keep_known(y: torch.Tensor, known: torch.Tensor, filled: torch.Tensor) -> torch.Tensor:
    """y's known pixels exactly, `filled` (any device/dtype) in the hole."""
    return torch.where(known, y.detach(), filled.to(device=y.device, dtype=y.dtype))


def mean_fill(y: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """Fill each image's hole with the mean colour (per channel) of that image's known pixels,
    summed in float64."""
    known, visible = _prepare(y, mask)
    mean = visible.double().sum((2, 3), keepdim=True) / known.sum((2, 3), keepdim=True)
    return _keep_known(y, known, mean.expand_as(y))


def _opencv(y: torch.Tensor, mask: torch.Tensor, radius: int, method: int) -> torch.Tensor:
    """cv2.inpaint with `method` on each image. OpenCV's colour inpainting works on 8-bit images
    (its Telea step adds offsets meant for the 0..255 scale), so the known pixels are quantised
    with to_uint8 for it and the filled hole comes back as multiples of 1/127.5."""
    known, visible = _prepare(y, mask)
    holes = (~known[:, 0]).cpu().numpy().astype(np.uint8)
    filled = np.stack([cv2.inpaint(image, hole, radius, method)
                       for image, hole in zip(to_uint8(visible), holes)])
    return _keep_known(y, known, to_tensor(filled))


def telea(y: torch.Tensor, mask: torch.Tensor, radius: int = 3) -> torch.Tensor:
    """Telea's fast-marching inpainting (J. Graphics Tools 2004): cv2.inpaint with INPAINT_TELEA,
    each hole pixel a weighted average of known pixels within `radius` pixels. OpenCV's version
    adds a normalised gradient term and a +0.5 offset, so even a flat hole comes back with a few
    grey levels of noise (up to 8 on a constant image with a half mask)."""
    return _opencv(y, mask, radius, cv2.INPAINT_TELEA)


def navier_stokes(y: torch.Tensor, mask: torch.Tensor, radius: int = 3) -> torch.Tensor:
    """Bertalmio et al.'s Navier-Stokes inpainting (CVPR 2001): cv2.inpaint with INPAINT_NS and
    a neighbourhood of `radius` pixels."""
    return _opencv(y, mask, radius, cv2.INPAINT_NS)


def biharmonic(y: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """Biharmonic inpainting (Damelin and Hoang 2018): skimage.restoration.inpaint_biharmonic with
    channel_axis=-1, solved in float64 on y's values (no quantisation)."""
    known, visible = _prepare(y, mask)
    images = visible.cpu().double().permute(0, 2, 3, 1).numpy()
    holes = (~known[:, 0]).cpu().numpy()
    filled = np.stack([inpaint_biharmonic(image, hole, channel_axis=-1)
                       for image, hole in zip(images, holes)])
    return _keep_known(y, known, torch.from_numpy(filled).permute(0, 3, 1, 2))


BASELINES = {"mean": mean_fill, "telea": telea, "navier-stokes": navier_stokes,
             "biharmonic": biharmonic}


def telea_photo(photo: np.ndarray, known: np.ndarray, radius: int = 3) -> np.ndarray:
    """Telea's fill of a photo at its own resolution: uint8 (H, W, 3) with the hole of `known`
    (bool (H, W), True = known) filled by cv2.inpaint with INPAINT_TELEA from the known pixels
    only; every known pixel is the photo's, exactly. Only the hole's bounding box widened by
    `radius` + 1 is processed (Telea reads no pixel farther from the hole), so memory grows with
    the hole, not the photo."""
    rows, cols = np.nonzero(~known)
    reach = radius + 1
    box = (slice(max(rows.min() - reach, 0), rows.max() + 1 + reach),
           slice(max(cols.min() - reach, 0), cols.max() + 1 + reach))
    part, part_known = np.ascontiguousarray(photo[box]), known[box]
    filled = cv2.inpaint(part, (~part_known).astype(np.uint8), radius, cv2.INPAINT_TELEA)
    result = photo.copy()
    result[box] = np.where(part_known[..., None], part, filled)
    return result

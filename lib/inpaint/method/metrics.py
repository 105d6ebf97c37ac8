"""Image quality of completions: PSNR, SSIM and mean L1 error, over the hole and the whole image.

All metrics are computed on the quantised 0..255 images, as they are saved to PNG: `evaluate`
takes float tensors (N, 3, 64, 64) in [-1, 1] and converts them with
`inpaint.method.pixels.to_uint8`
(rounded and clipped). For a region R of the image (the hole, or every pixel), with a and b
the two uint8 images read as float64 and the averages taken over the pixels of R and the 3
colour channels:

  L1   = mean |a - b|, in grey levels (0..255);
  PSNR = 10 log10(255^2 / MSE), MSE = mean (a - b)^2, in dB; +inf where MSE = 0 (identical);
  SSIM = mean over R (and channels) of the SSIM map of
         skimage.metrics.structural_similarity(a, b, channel_axis=-1, data_range=255, full=True)
         (skimage's defaults: 7x7 uniform window, K1 = 0.01, K2 = 0.03). The map is computed
         on the whole image, so hole SSIM also sees the known pixels within 3 pixels of the
         hole. Note that full-image SSIM here is the mean of the whole map, whereas skimage's
         own scalar leaves out a 3-pixel border; the two differ slightly.
"""
from __future__ import annotations

import numpy as np
import pandas as pd
import torch
from skimage.metrics import structural_similarity

from inpaint.method.masks import validate
from inpaint.method.pixels import to_uint8

COLUMNS = ("psnr_hole", "ssim_hole", "l1_hole", "psnr_full", "ssim_full", "l1_full")


def psnr(a: np.ndarray, b: np.ndarray, region: np.ndarray | None = None) -> float:
    """PSNR in dB of uint8 images a, b (H, W, 3) over a bool (H, W) region (None = all pixels).

    10 log10(255^2 / MSE), MSE over the region's pixels and channels; +inf if MSE = 0.
    """
    error = (a.astype(np.float64) - b.astype(np.float64)) ** 2
    mse = error.mean() if region is None else error[region].mean()
    return float("inf") if mse == 0 else float(10 * np.log10(255.0 ** 2 / mse))


def l1(a: np.ndarray, b: np.ndarray, region: np.ndarray | None = None) -> float:
    """Mean absolute difference in grey levels (0..255) of uint8 images a, b (H, W, 3) over a
    bool (H, W) region (None = all pixels), averaged over the region's pixels and channels."""
    error = np.abs(a.astype(np.float64) - b.astype(np.float64))
    return float(error.mean() if region is None else error[region].mean())


def ssim_map(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """SSIM map (H, W, 3), float64, of uint8 images a, b (H, W, 3); values in [-1, 1], 1 = equal."""
    _, full = structural_similarity(a, b, channel_axis=-1, data_range=255, full=True)
    return full


def evaluate(completed: torch.Tensor, truth: torch.Tensor, mask: torch.Tensor) -> pd.DataFrame:
    """Per-image metrics of completions against the true images.

    completed, truth: float (N, 3, 64, 64) in [-1, 1]; mask: (N, 1, 64, 64), 1 = known, 0 = hole.
    Returns a DataFrame with one row per image (index "image", 0..N-1) and the columns
    psnr_hole, ssim_hole, l1_hole (over the hole's pixels) and psnr_full, ssim_full, l1_full
    (over all pixels), as defined in the module docstring, on the 0..255 scale.
    """
    if completed.shape != truth.shape:
        raise ValueError(f"completed {tuple(completed.shape)} and truth {tuple(truth.shape)} "
                         f"must have the same shape (N, 3, 64, 64)")
    mask = validate(mask).expand(completed.shape[0], 1, *completed.shape[2:])
    holes = mask[:, 0].detach().cpu().numpy() < 0.5
    rows = []
    for a, b, hole in zip(to_uint8(completed), to_uint8(truth), holes):
        similarity = ssim_map(a, b)
        rows.append({
            "psnr_hole": psnr(a, b, hole), "ssim_hole": float(similarity[hole].mean()),
            "l1_hole": l1(a, b, hole),
            "psnr_full": psnr(a, b), "ssim_full": float(similarity.mean()), "l1_full": l1(a, b),
        })
    return pd.DataFrame(rows, columns=list(COLUMNS)).rename_axis("image")

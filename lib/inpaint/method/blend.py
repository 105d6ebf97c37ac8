"""Putting a generated image into the hole of a corrupted one (Yeh et al., section 3.3).

All images are float tensors (N, 3, 64, 64) in [-1, 1]; masks are float tensors (N, 1, 64, 64)
with 1 for KNOWN pixels and 0 for the HOLE (a mask with N = 1 serves a whole batch).

`paste` overlays the generated pixels as they are; `poisson` keeps the generated image's
gradients but fits them to the known pixels around the hole, which removes visible seams.
"""
from __future__ import annotations

import numpy as np
import torch
from scipy import sparse
from scipy.sparse.linalg import splu

from inpaint.method.masks import validate

NEIGHBOURS = ((-1, 0), (1, 0), (0, -1), (0, 1))


def paste(y: torch.Tensor, generated: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """M * y + (1 - M) * G(z): y's known pixels, the generated pixels in the hole.

    y, generated: float (N, 3, 64, 64) in [-1, 1]; mask: (N, 1, 64, 64) of 0/1, 1 = known.
    Returns (N, 3, 64, 64) of their dtype and device. Computed with torch.where, so y's hidden
    pixels are never read (not even as 0 * NaN) and known pixels are y's exactly; gradients
    flow to `generated` in the hole. The mask is not validated here, to keep this cheap inside
    optimisation loops.
    """
    return torch.where(mask > 0.5, y, generated)


def poisson(y: torch.Tensor, generated: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """Poisson blending: inside the hole, the generated image's gradients on y's known boundary.

    y, generated: float (N, 3, 64, 64) in [-1, 1]; mask: (N, 1, 64, 64) of 0/1, 1 = known.
    Returns float (N, 3, 64, 64) on y's device and of y's dtype, where
      * every known pixel is y's, exactly;
      * every hole pixel p solves, per image and channel, the discrete Poisson equation
            sum_{q in N(p)} (x_p - x_q) = sum_{q in N(p)} (g_p - g_q)
        over its 4-neighbours N(p) inside the image, with x_q = y_q for known q (Dirichlet
        boundary) and g = generated. At hole pixels away from the image border this says the
        5-point Laplacian of the result equals the generated image's; at the image border only
        in-image neighbours count (zero normal derivative, Neumann).
    Only y's known pixels are read. The result is not clamped: where the generated gradients
    push past the known colours it may leave [-1, 1] slightly (to_uint8 clamps when saving).
    Not differentiable: the solve runs in float64 on the CPU with scipy's sparse LU.
    """
    mask = validate(mask).expand(y.shape[0], 1, *y.shape[2:])
    known = mask[:, 0].detach().cpu().numpy() > 0.5
    y_np = y.detach().cpu().double().permute(0, 2, 3, 1).numpy()
    g_np = generated.detach().cpu().double().permute(0, 2, 3, 1).numpy()
    out = np.stack([blend_image(y_np[i], g_np[i], known[i]) for i in range(len(known))])
    return torch.from_numpy(out).permute(0, 3, 1, 2).to(device=y.device, dtype=y.dtype)


def blend_image(y: np.ndarray, generated: np.ndarray, known: np.ndarray) -> np.ndarray:
    """Poisson blending of one image, as in `poisson`.

    y, generated: float (H, W, C) arrays; known: bool (H, W), True = known pixel, with at least
    one known pixel. Returns float64 (H, W, C): y on known pixels, the Poisson solution in the hole.
    """
    height, width = known.shape
    rows, cols = np.nonzero(~known)
    index = np.full(known.shape, -1)
    index[rows, cols] = np.arange(rows.size)
    degree = np.zeros(rows.size)
    rhs = np.zeros((rows.size, y.shape[2]))
    row_ids, col_ids = [], []
    for dr, dc in NEIGHBOURS:
        r, c = rows + dr, cols + dc
        inside = (r >= 0) & (r < height) & (c >= 0) & (c < width)
        p, r, c = np.nonzero(inside)[0], r[inside], c[inside]
        degree[p] += 1
        rhs[p] += generated[rows[p], cols[p]] - generated[r, c]
        q = index[r, c]
        in_hole = q >= 0
        row_ids.append(p[in_hole])
        col_ids.append(q[in_hole])
        rhs[p[~in_hole]] += y[r[~in_hole], c[~in_hole]]
    row_ids, col_ids = np.concatenate(row_ids), np.concatenate(col_ids)
    laplacian = sparse.csc_matrix((-np.ones(row_ids.size), (row_ids, col_ids)),
                                  shape=(rows.size, rows.size)) + sparse.diags(degree)
    out = np.where(known[..., None], y, 0.0)
    out[rows, cols] = splu(laplacian.tocsc()).solve(rhs)
    return out

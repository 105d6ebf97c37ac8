"""Inpainting masks: which pixels of an image are known and which form the hole.

A mask is a float32 tensor of shape (N, 1, 64, 64) with 1 for KNOWN pixels and 0 for the HOLE,
one mask per image (it broadcasts over the 3 colour channels of an (N, 3, 64, 64) image batch).
Every constructor returns a mask that has passed `validate`.

The kinds follow Yeh et al. (CVPR 2017), section 5, which takes its masks from Context Encoders
(Pathak et al., CVPR 2016):
  center   a 32x32 square hole in the middle (rows and columns 16..47), 25% missing;
  pattern  Context Encoders' random-region masks: smooth random blobs about 17 px across, 20-30%
           missing (the paper: "about 25%");
  random   each pixel missing independently with probability 0.8;
  half     one of the four halves missing (left, right, top or bottom), drawn per image.
Where the paper can be read otherwise, the other reading is a kind of its own:
  blocks          random squares of 4..12 px until 25% is missing (a "pattern" of blocks);
  half-left etc.  the same half for every image.

torch is imported inside the functions that make or check a mask, so that the registry's names
(`MASKS`) are read without it: a chapter checks its `mask` parameter before any heavy import.
"""
from __future__ import annotations

import os
import warnings
from dataclasses import dataclass
from typing import Callable

import numpy as np

HALF_SIDES = ("left", "right", "top", "bottom")


def validate(mask: torch.Tensor, size: int = 64) -> torch.Tensor:
    """Check that `mask` is a usable batch of masks and return it unchanged.

    A usable mask is a tensor of shape (N, 1, size, size), size 64 unless said otherwise, holding
    only the values 0 (hole) and 1 (known), with at least one hole pixel and one known pixel in
    every image. Anything else raises ValueError (TypeError if it is not a tensor) naming the
    problem and the fix.
    """
    import torch
    if not isinstance(mask, torch.Tensor):
        raise TypeError(f"a mask must be a torch tensor of shape (N, 1, {size}, {size}), got "
                        f"{type(mask).__name__}; build one with inpaint.method.masks.make_mask")
    if mask.ndim != 4 or mask.shape[1] != 1 or tuple(mask.shape[2:]) != (size, size):
        raise ValueError(f"a mask must have shape (N, 1, {size}, {size}), got {tuple(mask.shape)}; "
                         f"resize the mask to {size}x{size} and add the batch and channel axes "
                         f"(mask[None, None] for a single {size}x{size} mask)")
    if mask.shape[0] == 0:
        raise ValueError("the mask batch is empty (N = 0); make at least one mask")
    if mask.is_floating_point() and torch.isnan(mask).any():
        raise ValueError("the mask holds NaN values; a mask holds only 0 (hole) and 1 (known)")
    if not ((mask == 0) | (mask == 1)).all():
        raise ValueError("the mask holds values other than 0 and 1; threshold it first, "
                         "e.g. (mask > 0.5).float(), with 1 for known pixels and 0 for the hole")
    known = mask.flatten(1).sum(1)
    no_hole = torch.nonzero(known == mask[0].numel()).flatten().tolist()
    if no_hole:
        raise ValueError(f"image(s) {no_hole} of the mask have no hole (every pixel is 1 = known); "
                         f"set the pixels to fill to 0")
    no_known = torch.nonzero(known == 0).flatten().tolist()
    if no_known:
        raise ValueError(f"image(s) {no_known} of the mask have no known pixel (every pixel is "
                         f"0 = hole); inpainting needs some known pixels, set them to 1")
    return mask


def _batch(known: np.ndarray, size: int = 64) -> torch.Tensor:
    """bool or 0/1 array (N, size, size), True = known -> validated float32 mask (N, 1, size, size)."""
    import torch
    return validate(torch.from_numpy(np.asarray(known, dtype=np.float32))[:, None], size)


def center(n: int, size: int = 64, hole: int = 32) -> torch.Tensor:
    """n masks with a centred hole x hole square (rows and columns 16..47 for the defaults).

    Returns float32 (n, 1, size, size), 1 = known, 0 = hole.
    """
    start = (size - hole) // 2
    known = np.ones((n, size, size), dtype=bool)
    known[:, start:start + hole, start:start + hole] = False
    return _batch(known, size)


def pattern(n: int, missing: tuple[float, float] = (0.2, 0.3), density: float = 0.25,
            scale: float = 0.06, seed: int = 0, generator: np.random.Generator | None = None,
            size: int = 64) -> torch.Tensor:
    """n masks of Context Encoders' random-region kind (Pathak et al. 2016, the masks Yeh et al.
    call "pattern"), each with between missing[0] and missing[1] of its pixels lost.

    As in Context Encoders' code: uniform noise on a coarse grid (`scale` grid points per pixel)
    is upsampled bicubically, and the pixels where it falls below `density` form the hole, so the
    hole is smooth blobs about 1 / scale = 17 px across. Each mask is a random size x size window
    of such a pattern, drawn again until its hole fraction lies in `missing`. The draws come from
    `generator` if given, else from np.random.default_rng(seed): the same seed gives the same masks.

    Returns float32 (n, 1, size, size), 1 = known, 0 = hole.
    """
    import torch
    rng = generator if generator is not None else np.random.default_rng(seed)
    side = 8 * size                      # one pattern gives many windows
    coarse = max(2, round(scale * side))
    known = np.ones((n, size, size), dtype=bool)
    made = 0
    while made < n:
        noise = torch.from_numpy(rng.random((1, 1, coarse, coarse)))
        smooth = torch.nn.functional.interpolate(noise, size=(side, side), mode="bicubic",
                                                 align_corners=False)[0, 0].numpy()
        hole = smooth < density
        for _ in range(64):
            row, col = rng.integers(0, side - size + 1, size=2)
            window = hole[row:row + size, col:col + size]
            if missing[0] <= window.mean() <= missing[1]:
                known[made] = ~window
                made += 1
                if made == n:
                    break
    return _batch(known, size)


def blocks(n: int, missing: float = 0.25, block: tuple[int, int] = (4, 12), seed: int = 0,
            generator: np.random.Generator | None = None, size: int = 64) -> torch.Tensor:
    """n masks, each its own random set of square blocks, about `missing` of the pixels lost (a
    reading of the paper's "pattern" as blocks; `pattern` is Context Encoders' masks).

    Squares with sides drawn uniformly from block[0]..block[1] pixels are dropped at uniform
    random places (overlaps allowed) until at least `missing` of the image is hole, so the hole
    fraction lies in [missing, missing + block[1]**2 / size**2), i.e. [0.25, 0.285) by default.
    The draws come from `generator` if given, else from np.random.default_rng(seed): the same
    seed gives the same masks.

    Returns float32 (n, 1, size, size), 1 = known, 0 = hole.
    """
    rng = generator if generator is not None else np.random.default_rng(seed)
    known = np.ones((n, size, size), dtype=bool)
    for image in known:
        while 1 - image.mean() < missing:
            side = rng.integers(block[0], block[1] + 1)
            row, col = rng.integers(0, size - side + 1, size=2)
            image[row:row + side, col:col + side] = False
    return _batch(known, size)


def random_pixels(n: int, missing: float = 0.8, seed: int = 0,
                  generator: np.random.Generator | None = None, size: int = 64) -> torch.Tensor:
    """n masks in which each pixel is missing independently with probability `missing`, as in
    Yeh et al.'s "random" masks (80% missing): the hole fraction varies a little from image to
    image (a binomial count, 0.8 +- 0.006 for 64x64).

    The draws come from `generator` if given, else from np.random.default_rng(seed).
    Returns float32 (n, 1, size, size), 1 = known, 0 = hole.
    """
    rng = generator if generator is not None else np.random.default_rng(seed)
    known = rng.random((n, size, size)) >= missing
    return _batch(known, size)


def half(n: int, side: str = "left", size: int = 64) -> torch.Tensor:
    """n masks missing one half of the image: side is "left", "right", "top" or "bottom".

    For size 64, "left" is columns 0..31 missing, "right" columns 32..63, "top" rows 0..31,
    "bottom" rows 32..63. Returns float32 (n, 1, size, size), 1 = known, 0 = hole.
    """
    middle = size // 2
    regions = {"left": np.s_[:, :, :middle], "right": np.s_[:, :, middle:],
               "top": np.s_[:, :middle, :], "bottom": np.s_[:, middle:, :]}
    if side not in regions:
        raise ValueError(f"unknown half {side!r}; choose one of {HALF_SIDES}")
    known = np.ones((n, size, size), dtype=bool)
    known[regions[side]] = False
    return _batch(known, size)


def random_halves(n: int, seed: int = 0, generator: np.random.Generator | None = None,
                  size: int = 64) -> torch.Tensor:
    """n masks, each missing one of its four halves (left, right, top or bottom), drawn
    uniformly and independently per image: Yeh et al.'s "half" masks.

    The draws come from `generator` if given, else from np.random.default_rng(seed).
    Returns float32 (n, 1, size, size), 1 = known, 0 = hole.
    """
    rng = generator if generator is not None else np.random.default_rng(seed)
    sides = rng.integers(0, len(HALF_SIDES), size=n)
    whole = {side: half(1, side, size)[0, 0].numpy() > 0.5 for side in HALF_SIDES}
    return _batch(np.stack([whole[HALF_SIDES[i]] for i in sides]).reshape(n, size, size), size)


def from_png(path: str | os.PathLike, n: int = 1) -> torch.Tensor:
    """The mask drawn in a 64x64 PNG, repeated for n images.

    The PNG is read as 8-bit greyscale (16-bit scaled, transparency on white: see
    `inpaint.method.pixels.to_rgb`) and thresholded at 50%: 128..255 (white) = KNOWN pixel, 0..127
    (black) = HOLE. Grey values (neither 0 nor 255) are counted in a warning. Returns float32 (n, 1,
    64, 64). A PNG of another size raises ValueError.
    """
    from PIL import Image

    from inpaint.method.pixels import to_rgb
    with Image.open(path) as image:
        grey = np.asarray(to_rgb(image).convert("L"))
    if grey.shape != (64, 64):
        raise ValueError(f"the mask PNG {path} is {grey.shape[1]}x{grey.shape[0]} pixels; masks must "
                         f"be 64x64, resize it (nearest neighbour keeps it black and white)")
    grey_pixels = int(((grey != 0) & (grey != 255)).sum())
    if grey_pixels:
        warnings.warn(f"the mask PNG {path} has {grey_pixels} grey pixel(s), neither black (0) nor "
                      f"white (255); thresholded at 50%: 128 and above known, below 128 hole")
    return _batch(np.repeat(grey[None] >= 128, n, axis=0))


# ---------------------------------------------------------------- the registry

@dataclass(frozen=True)
class MaskKind:
    """One named kind of mask: how to make n of them from a seed, and what it is."""

    make: Callable[[int, int], torch.Tensor]   # (n, seed) -> float32 (n, 1, 64, 64)
    about: str                                 # one line for help texts and the book
    reads: str | None = None                   # the paper's kind it is another reading of
    paper: bool = False                        # one of Yeh et al.'s four


# Every mask kind, by name: make_mask, the notebooks, `complete --mask` and the findings read
# this. Adding a kind is one entry here, its constructor above, and its test in test_masks.py.
MASKS: dict[str, MaskKind] = {
    "center": MaskKind(lambda n, seed: center(n), "a 32x32 square hole in the middle",
                       paper=True),
    "pattern": MaskKind(lambda n, seed: pattern(n, seed=seed),
                        "Context Encoders' random regions, 20-30% missing", paper=True),
    "random": MaskKind(lambda n, seed: random_pixels(n, seed=seed),
                       "each pixel missing with probability 0.8", paper=True),
    "half": MaskKind(lambda n, seed: random_halves(n, seed=seed),
                     "a random one of the four halves per image", paper=True),
    "blocks": MaskKind(lambda n, seed: blocks(n, seed=seed),
                       "random squares of 4..12 px until 25% is missing", reads="pattern"),
    **{f"half-{side}": MaskKind(lambda n, seed, side=side: half(n, side),
                                f"the {side} half, the same for every image", reads="half")
       for side in HALF_SIDES},
}
MASK_KINDS = tuple(name for name, kind in MASKS.items() if kind.paper)  # the paper's four, in order
# the other readings the faces chapter scores, each with the paper's kind it reads
READINGS = {name: MASKS[name].reads for name in ("blocks", "half-left")}


def make_mask(kind: str | os.PathLike, n: int, seed: int = 0) -> torch.Tensor:
    """n masks of a named kind, float32 (n, 1, 64, 64), 1 = known, 0 = hole.

    kind: a name in MASKS (the paper's MASK_KINDS "center", "pattern", "random", "half", and the
    other readings "blocks", "half-left", ...), or the path of a PNG ending in ".png" (see
    from_png). `seed` matters for the random kinds only: "pattern", "random", "half" and "blocks".
    """
    name = os.fspath(kind)
    if name.lower().endswith(".png"):
        return from_png(name, n)
    if name not in MASKS:
        raise ValueError(f"unknown mask kind {name!r}; choose one of {', '.join(MASKS)} or a "
                         f"path ending in .png")
    return MASKS[name].make(n, seed)

"""Pixels in and out of the method: PIL images decoded faithfully to 8-bit RGB, and uint8 arrays
(N, 64, 64, 3) in 0..255 to float tensors (N, 3, 64, 64) in [-1, 1] and back."""
from __future__ import annotations

import numpy as np
import torch
from PIL import Image

BACKGROUND = (255, 255, 255)  # what transparent pixels are composited on: white


GREYSCALE_MODES = ("1", "L", "LA", "La", "I", "I;16", "I;16B", "I;16L", "I;16N", "F")


def has_alpha(image: Image.Image) -> bool:
    """Whether `image` has transparency: an alpha channel or a transparent palette/colour entry."""
    return image.mode in ("RGBA", "RGBa", "LA", "La", "PA") or "transparency" in image.info


def to_rgb(image: Image.Image) -> Image.Image:
    """An 8-bit RGB copy of a PIL image, decoded faithfully.

    16-bit (and other integer) greyscale is scaled from 0..65535 to 0..255, never clipped;
    transparency is composited on BACKGROUND (white); floating-point images are refused
    (ValueError), since their range is unknown. Everything else goes through PIL's conversion.
    """
    if image.mode.startswith("I"):
        values = np.asarray(image).astype(np.float64)
        if values.min() < 0 or values.max() > 65535:
            raise ValueError(f"integer image (mode {image.mode}) with values outside 0..65535; "
                             f"save it as an 8- or 16-bit PNG")
        return Image.fromarray(np.round(values * 255 / 65535).astype(np.uint8), "L").convert("RGB")
    if image.mode == "F":
        raise ValueError("floating-point image (mode F) of unknown range; save it as an 8- or "
                         "16-bit PNG")
    if has_alpha(image):
        background = Image.new("RGBA", image.size, BACKGROUND + (255,))
        return Image.alpha_composite(background, image.convert("RGBA")).convert("RGB")
    return image.convert("RGB")


def to_tensor(images: np.ndarray) -> torch.Tensor:
    """uint8 (N, 64, 64, 3) in 0..255 -> float32 (N, 3, 64, 64) in [-1, 1]."""
    return torch.from_numpy(np.ascontiguousarray(images)).permute(0, 3, 1, 2).float().div(127.5).sub(1)


def to_uint8(images: torch.Tensor) -> np.ndarray:
    """float (N, 3, 64, 64) in [-1, 1] -> uint8 (N, 64, 64, 3) in 0..255, rounded and clipped."""
    scaled = (images.detach().float().cpu().clamp(-1, 1) + 1) * 127.5
    return scaled.round().to(torch.uint8).permute(0, 2, 3, 1).numpy()

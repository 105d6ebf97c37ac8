"""Which square of a larger image a small face was cut from: the crop of Yeh et al.'s 64x64 test
faces, measured against our copies of the same CelebA files.

Their faces are squares of the aligned CelebA images, resized to 64x64; the paper does not say
which squares. For one face, `fit_crop` tries every square side in a range and, for each, every
position (in steps of one 64th of the side), by resizing the whole original so that the square
becomes 64x64 and sliding a 64x64 window over it: the sum of squared differences of every window
at once is an FFT correlation. It returns the square with the smallest mean squared difference.
`fit_crops` fits each face of a set and states the fits in the coordinates of the official
178x218 images, so that they read the same whatever size our copies are.

Images here are uint8 arrays (H, W, 3), RGB, values 0..255.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from PIL import Image
from scipy.signal import fftconvolve

SIDE = 64          # the faces' size
OFFICIAL_WIDTH = 178  # the official aligned CelebA images are 178x218


@dataclass(frozen=True)
class CropFit:
    """The square of the original a face was cut from, in the original's pixels: its side, its
    left and top edges, and the mean squared difference (grey levels²) of the face from that
    square resized to 64x64, after each channel's best gain and offset (`window_errors`)."""

    side: float
    left: float
    top: float
    mse: float

    @property
    def centre(self) -> tuple[float, float]:
        """(x, y) of the square's centre."""
        return self.left + self.side / 2, self.top + self.side / 2


def window_errors(image: np.ndarray, face: np.ndarray) -> np.ndarray:
    """The mean squared difference between `face` (64, 64, 3) and every 64x64 window of `image`
    (H, W, 3), float arrays, once each channel of the window is given the gain and offset that
    fit the face best (least squares): the face's variance times 1 - r², r the window's
    correlation with the face, so that a difference of colour or contrast (the authors' faces
    are more saturated than our copies) does not move the fit. Shape (H - 63, W - 63), the
    window whose top-left pixel is [i, j] at [i, j]."""
    image, face = image.astype(np.float64), face.astype(np.float64)
    ones = np.ones(face.shape[:2])
    count = ones.size
    errors = 0.0
    for channel in range(3):
        plane, template = image[..., channel], face[..., channel]
        template = template - template.mean()
        sums = fftconvolve(plane, ones, mode="valid")
        window_var = fftconvolve(plane ** 2, ones, mode="valid") / count - (sums / count) ** 2
        cov = fftconvolve(plane, template[::-1, ::-1], mode="valid") / count
        face_var = (template ** 2).mean()
        explained = cov ** 2 / np.maximum(window_var, 1e-9)
        errors = errors + np.maximum(face_var - explained, 0.0)
    return errors / 3


def fit_crop(face: np.ndarray, original: np.ndarray, sides) -> CropFit:
    """The square of `original` (H, W, 3) that, resized to 64x64 (bicubic, as the usual DCGAN
    preprocessing), is closest to `face` (64, 64, 3): every side in `sides` (pixels of
    `original`), at every position in steps of side / 64."""
    if face.shape != (SIDE, SIDE, 3):
        raise ValueError(f"face must be a {SIDE}x{SIDE} RGB array, got shape {face.shape}")
    height, width = original.shape[:2]
    best = None
    picture = Image.fromarray(original)
    for side in sides:
        if not 0 < side <= min(height, width):
            raise ValueError(f"sides must lie between 1 and the original's smaller side "
                             f"({min(height, width)}), got {side}")
        scale = SIDE / side
        size = (round(width * scale), round(height * scale))
        resized = np.asarray(picture.resize(size, Image.BICUBIC))
        errors = window_errors(resized, face)
        top, left = np.unravel_index(errors.argmin(), errors.shape)
        fit = CropFit(side=float(side), left=left / scale, top=top / scale,
                      mse=float(errors[top, left]))
        if best is None or fit.mse < best.mse:
            best = fit
    return best


def fit_crops(faces: dict[str, np.ndarray], originals: dict[str, np.ndarray],
              sides) -> pd.DataFrame:
    """`fit_crop` for every face named in both `faces` and `originals` (e.g. by CelebA file
    number): one row per face with the square's side, left, top and centre in the official
    178x218 image's pixels (our copy's scaled by 178 / its width), the fit's mean squared
    difference (after each channel's gain and offset) and its PSNR (dB)."""
    rows = []
    for name in sorted(set(faces) & set(originals)):
        original = originals[name]
        fit = fit_crop(faces[name], original, sides)
        to_official = OFFICIAL_WIDTH / original.shape[1]
        x, y = fit.centre
        rows.append({"face": name, "side": fit.side * to_official,
                     "left": fit.left * to_official, "top": fit.top * to_official,
                     "centre_x": x * to_official, "centre_y": y * to_official, "mse": fit.mse,
                     "psnr": 10 * np.log10(255.0 ** 2 / max(fit.mse, 1e-12))})
    if not rows:
        raise ValueError("no face has its original among `originals`: name them alike "
                         "(e.g. by CelebA file number)")
    return pd.DataFrame(rows).set_index("face")


def load_members(path, pattern: str, stems: set[str] | None = None) -> dict[str, np.ndarray]:
    """The images of a zip archive (or a folder) whose member paths match `pattern`, as they are
    (no crop, no resize: `crop_fit` needs the originals), keyed by the file's stem (its first six
    characters, a CelebA number); only the `stems` given, if any."""
    import fnmatch
    import io
    import zipfile
    from pathlib import Path
    path = Path(path)
    found = {}
    if path.is_dir():
        files = {str(p.relative_to(path)): p for p in path.rglob("*") if p.is_file()}
        read = lambda name: files[name].read_bytes()
        names = list(files)
    else:
        archive = zipfile.ZipFile(path)
        read, names = archive.read, archive.namelist()
    for name in sorted(names):
        stem = name.rsplit("/", 1)[-1][:6]
        if fnmatch.fnmatch(name, pattern) and (stems is None or stem in stems):
            found[stem] = np.asarray(Image.open(io.BytesIO(read(name))).convert("RGB"))
    return found

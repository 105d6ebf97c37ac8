"""Decoding archive members and photographs into the study's 64x64 RGB images.

Every image leaves as a uint8 array of shape (64, 64, 3), RGB, values 0..255: cropped by the
dataset's rule (`preprocess`) and resized with antialiasing. `DECODER` is part of every cache
key."""
from __future__ import annotations

import fnmatch
import io
import tarfile
import warnings
import zipfile
from dataclasses import dataclass
from pathlib import Path
import numpy as np
from PIL import Image
from tqdm.auto import tqdm

from inpaint.method.pixels import GREYSCALE_MODES, to_rgb

IMAGE_SIZE = 64
IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".bmp", ".webp")
DECODER = "v2"  # part of every cache key: bump it when decoding changes what an image becomes


# ---------------------------------------------------------------- decoding

@dataclass
class DecodeReport:
    """What happened to each member while decoding: kept, dropped as greyscale, or corrupt."""

    kept: int = 0
    greyscale: int = 0
    corrupt: int = 0

    def __str__(self) -> str:
        return (f"{self.kept} images kept, {self.greyscale} greyscale dropped, "
                f"{self.corrupt} corrupt skipped")


# Yeh et al.'s face crop in the official 178x218 aligned CelebA images: a square's side and its
# centre (x, y), the medians of `inpaint.data.crop_fit`'s fits of their 64 CelebA test faces
# against our copies of the same files (sides 85-92 between the quartiles; tests/test_crop_fit.py
# measures them again). The usual DCGAN crop is the centre 108x108.
YEH_CROP = (88.0, 88.5, 141.5)
OFFICIAL_SIZE = (178, 218)


def preprocess(image: Image.Image, crop: str) -> Image.Image:
    """Crop as the dataset's recipe says, then resize to 64x64 (bicubic, antialiased)."""
    width, height = image.size
    if crop == "celeba":
        # The usual DCGAN face crop: the centre 108x108 of the 178x218 original, i.e. a square of
        # 108/178 of the width; the same fraction works for the half-size copies.
        side = round(width * 108 / 178)
        left, top = (width - side) // 2, (height - side) // 2
    elif crop == "yeh":  # YEH_CROP, scaled from the official size to this copy's
        side_px, x, y = YEH_CROP
        side = round(width * side_px / OFFICIAL_SIZE[0])
        left = round(width * x / OFFICIAL_SIZE[0] - side / 2)
        top = round(height * y / OFFICIAL_SIZE[1] - side / 2)
    elif crop in ("center-square", "none"):
        side = min(width, height)
        left, top = (width - side) // 2, (height - side) // 2
    else:
        raise ValueError(f"unknown crop {crop!r}")
    image = image.crop((left, top, left + side, top + side))
    if image.size != (IMAGE_SIZE, IMAGE_SIZE):
        image = image.resize((IMAGE_SIZE, IMAGE_SIZE), Image.BICUBIC)
    return image


def decode(data: bytes, crop: str) -> np.ndarray | None:
    """JPEG/PNG bytes to a (64, 64, 3) uint8 array (see `to_rgb`); None for greyscale.
    Raises on corrupt data and on images over PIL's decompression-bomb limit."""
    with Image.open(io.BytesIO(data)) as image:
        image.load()
        if image.mode in GREYSCALE_MODES:
            return None
        return np.asarray(preprocess(to_rgb(image), crop), dtype=np.uint8)


def list_members(path: Path, pattern: str) -> list[str]:
    """Sorted member names of a zip, tar or folder that match `pattern` (folders: any image)."""
    if path.is_dir():
        return sorted(str(p.relative_to(path)) for p in path.rglob("*")
                      if p.suffix.lower() in IMAGE_SUFFIXES)
    if zipfile.is_zipfile(path):
        with zipfile.ZipFile(path) as archive:
            names = archive.namelist()
    elif tarfile.is_tarfile(path):
        with tarfile.open(path) as archive:
            names = [m.name for m in archive.getmembers() if m.isfile()]
    else:
        raise ValueError(f"{path} is neither a zip nor a tar archive nor a folder of images; "
                         f"pass an archive from the registry or a folder of .jpg/.png files")
    return sorted(n for n in names if fnmatch.fnmatch(n, pattern))


def read_members(path: Path, names: list[str]):
    """Yield (name, bytes) for each member, from a zip, tar or folder."""
    if path.is_dir():
        for name in names:
            yield name, (path / name).read_bytes()
    elif zipfile.is_zipfile(path):
        with zipfile.ZipFile(path) as archive:
            for name in names:
                yield name, archive.read(name)
    else:
        wanted = set(names)
        with tarfile.open(path) as archive:
            for member in archive:
                if member.name in wanted:
                    yield member.name, archive.extractfile(member).read()


def decode_members(path: Path, members: list[str], crop: str,
                   desc: str = "decode") -> tuple[np.ndarray, DecodeReport]:
    """Decode the listed members; greyscale dropped, corrupt skipped, both counted."""
    report = DecodeReport()
    images = []
    for member, data in tqdm(read_members(path, members), total=len(members), desc=desc,
                             mininterval=1.0, disable=len(members) < 1000):
        try:
            array = decode(data, crop)
        except (OSError, ValueError, SyntaxError, Image.DecompressionBombError) as error:
            report.corrupt += 1
            warnings.warn(f"skipping corrupt image {member} in {path}: {error}")
            continue
        if array is None:
            report.greyscale += 1
        else:
            images.append(array)
    report.kept = len(images)
    stacked = np.stack(images) if images else np.zeros((0, IMAGE_SIZE, IMAGE_SIZE, 3), np.uint8)
    return stacked, report

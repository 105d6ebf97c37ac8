"""Real photographs for the study: a registry of datasets, archive lookup, download, decoding and
cache.

Every image leaves this module as a uint8 array of shape (N, 64, 64, 3), RGB, values 0..255.
`to_tensor` turns such an array into the float range the models use, [-1, 1], shape (N, 3, 64, 64).

Where archives are looked for, in order:
  1. an explicit path (argument `source`, or the environment variable INPAINT_DATA): an archive,
     a folder holding the registry's archive file names, a plain folder of images, or the original
     course layout (`inpainting/train2014/*.jpg`, `inpainting/val2014/*.jpg`);
  2. `data/raw/` in the project;
  3. `../shared/datasets/` beside the project;
  4. the official download URL, saved into `data/raw/` and checked against its checksum.
"""
from __future__ import annotations

import os
import urllib.request
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from tqdm.auto import tqdm

from inpaint.files import ChecksumError, PROJECT_ROOT, file_checksum, verify_checksum

RAW_DIR = PROJECT_ROOT / "data" / "raw"
SHARED_DIR = PROJECT_ROOT.parent / "shared" / "datasets"


class DatasetNotFoundError(FileNotFoundError):
    """No archive or folder for a dataset was found in any of the places looked."""


@dataclass(frozen=True)
class Archive:
    """One file that holds a dataset's images.

    `checksum` is "sha256:<hex>" or "md5:<hex>" (the official archives publish md5 only).
    `url` is the official download address, or None for subsets that exist only as files.
    """

    filename: str
    checksum: str | None
    url: str | None = None


@dataclass(frozen=True)
class Split:
    """Which members of an archive form a split: a glob over member paths, then a slice of the
    sorted list (CelebA keeps its last 1,000 faces apart as validation)."""

    archives: tuple[Archive, ...]
    pattern: str
    start: int = 0
    stop: int | None = None


@dataclass(frozen=True)
class DatasetSpec:
    name: str
    description: str
    licence: str
    crop: str  # "none" (already 64x64), "center-square", or "celeba" (DCGAN face crop)
    splits: dict[str, Split] = field(default_factory=dict)


TINY_TRAIN = Archive("tiny-imagenet-64-train.zip",
                     "sha256:65d1a678da46630999107e69ee7cc8e643254589f21da53c1cb456f55848a593")
TINY_VAL = Archive("tiny-imagenet-64-val.zip",
                   "sha256:14ad9e026db611b2a4d4ce6bc2985596a7b8511759fa3086545bd6484de474f4")
TINY_OFFICIAL = Archive("tiny-imagenet-200.zip", "md5:90528d7ca1a48142e341f4ef8d21d0de",
                        "http://cs231n.stanford.edu/tiny-imagenet-200.zip")
CELEBA_10K = Archive("celeba-10k.zip",
                     "sha256:f2236a7202811529dbbe3370dad50744aa7497589d6711c8fd91a46c0fdaae02")
CELEBA_OFFICIAL = Archive("img_align_celeba.zip", "md5:00d2c5bc6d35e252742224ab0c1e8fcb",
                          "https://drive.google.com/uc?id=0B7EVK8r0v71pZjFTYXZWM3FlRnM")
COCO_100 = Archive("coco-train2014-100.zip",
                   "sha256:42baf20465d3e22f17f694cb50f52541332f4422f9f4cadb260b2e51fc267451")
COCO_OFFICIAL = Archive("train2014.zip", "md5:0da8c0bd3d6becc4dcb32757491aca88",
                        "http://images.cocodataset.org/zips/train2014.zip")

DATASETS: dict[str, DatasetSpec] = {
    "tiny-imagenet": DatasetSpec(
        "tiny-imagenet",
        "Tiny ImageNet (Stanford CS231n): 64x64 photographs of objects and scenes, 200 classes. "
        "Our stand-in for the course's 64x64 MSCOCO crops.",
        "ImageNet terms: non-commercial research and education",
        crop="none",
        splits={
            "train": Split((TINY_TRAIN, TINY_OFFICIAL), "*train/*/images/*.JPEG"),
            "val": Split((TINY_VAL, TINY_OFFICIAL), "*val/images/*.JPEG"),
        },
    ),
    "celeba": DatasetSpec(
        "celeba",
        "CelebA aligned faces (Liu et al., ICCV 2015), the first 10,000; the data of Yeh et al.'s table.",
        "CelebA terms: non-commercial research only",
        crop="celeba",
        splits={
            "train": Split((CELEBA_10K, CELEBA_OFFICIAL), "*img_align_celeba/*.jpg", 0, 9000),
            "val": Split((CELEBA_10K, CELEBA_OFFICIAL), "*img_align_celeba/*.jpg", 9000, 10000),
        },
    ),
    "coco": DatasetSpec(
        "coco",
        "MSCOCO 2014 train photographs, the source of the original course data; evaluation only.",
        "Flickr terms of each image (mostly Creative Commons)",
        crop="center-square",
        splits={"val": Split((COCO_100, COCO_OFFICIAL), "*train2014/*.jpg", 0, 100)},
    ),
}


def download(url: str, dest: Path, checksum: str | None) -> Path:
    """Download `url` to `dest` with a progress bar, verify it, then move it into place.

    The partial file is kept as `dest.part` until the checksum passes, so a failed or
    refused download never leaves a file that looks complete.
    """
    dest.parent.mkdir(parents=True, exist_ok=True)
    part = dest.with_name(dest.name + ".part")
    with urllib.request.urlopen(url) as response, open(part, "wb") as out:
        total = int(response.headers.get("Content-Length") or 0) or None
        with tqdm(total=total, unit="B", unit_scale=True, desc=f"download {dest.name}") as bar:
            for block in iter(lambda: response.read(1 << 20), b""):
                out.write(block)
                bar.update(len(block))
    if checksum is None:
        warnings.warn(f"{url} has no published checksum in the registry: {dest.name} is kept "
                      f"unverified (sha256 {file_checksum(part)})")
    try:
        verify_checksum(part, checksum)
    except ChecksumError:
        part.unlink()
        raise
    part.replace(dest)
    return dest


# ---------------------------------------------------------------- lookup

def locate(name: str, split: str = "train", source: str | os.PathLike | None = None,
           allow_download: bool = True) -> tuple[Path, Archive | None]:
    """Find the archive (or image folder) holding `name`/`split`.

    Returns (path, archive) where archive is the registry entry that matched, or None when the
    path is a user folder or archive outside the registry (then no checksum applies).
    """
    spec = dataset_spec(name)
    entry = spec.splits.get(split)
    if entry is None:
        raise ValueError(f"dataset {name!r} has no split {split!r}; it has {sorted(spec.splits)}")
    explicit = []
    for given, place in (("--data", source), ("INPAINT_DATA", os.environ.get("INPAINT_DATA"))):
        if place:  # an explicit place must exist: never fall back silently to another copy
            if not Path(place).exists():
                raise DatasetNotFoundError(f"{given} {place} does not exist; fix the path, or "
                                           f"drop {given} to use data/raw/ or the download")
            explicit.append(Path(place))
    places = explicit + [RAW_DIR, SHARED_DIR]
    for place in places:
        if place.is_file():
            known = [a for a in entry.archives if a.filename == place.name]
            return place, (known[0] if known else None)
        for archive in entry.archives:
            if (place / archive.filename).is_file():
                return place / archive.filename, archive
        if place in explicit and place.is_dir():  # a folder of images, or the course layout
            return place, None
    downloadable = [a for a in entry.archives if a.url]
    if allow_download and downloadable:
        archive = downloadable[0]
        try:
            return download(archive.url, RAW_DIR / archive.filename, archive.checksum), archive
        except OSError as error:
            reason = f"download of {archive.url} failed ({error})"
    else:
        reason = "no download was attempted"
    looked = "\n  ".join(str(p) for p in places)
    names = ", ".join(a.filename for a in entry.archives)
    raise DatasetNotFoundError(
        f"dataset {name!r} ({split}) not found: none of {names} is in\n  {looked}\nand {reason}.\n"
        f"Fix: put one of those archives in {RAW_DIR}, or pass its path (or a folder of images) "
        f"with --data PATH or the environment variable INPAINT_DATA.")


def dataset_spec(name: str) -> DatasetSpec:
    if name not in DATASETS:
        raise ValueError(f"unknown dataset {name!r}; known: {sorted(DATASETS)}")
    return DATASETS[name]


def course_folder(path: Path, split: str) -> Path | None:
    """The original IFT6266 layout: `inpainting/train2014`, `inpainting/val2014` (or without
    the `inpainting/` level). Returns the split's folder, or None if `path` is not that layout."""
    for root in (path / "inpainting", path):
        folder = root / ("train2014" if split == "train" else "val2014")
        if folder.is_dir():
            return folder
    return None

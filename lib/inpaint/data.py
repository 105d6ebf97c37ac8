"""Real photographs for the study: a registry of datasets, archive lookup, download, decoding and cache.

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

import contextlib
import errno
import fnmatch
import hashlib
import io
import numbers
import os
import random
import tarfile
import tempfile
import urllib.request
import warnings
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch
from PIL import Image
from tqdm.auto import tqdm

PROJECT_ROOT = Path(__file__).resolve().parents[2]
RAW_DIR = PROJECT_ROOT / "data" / "raw"
CACHE_DIR = PROJECT_ROOT / "data" / "cache"
SHARED_DIR = PROJECT_ROOT.parent / "shared" / "datasets"
SAMPLE_DIR = PROJECT_ROOT / "data" / "sample"
IMAGE_SIZE = 64
IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".bmp", ".webp")
BACKGROUND = (255, 255, 255)  # what transparent pixels are composited on: white
DECODER = "v2"  # part of every cache key: bump it when decoding changes what an image becomes


class DatasetNotFoundError(FileNotFoundError):
    """No archive or folder for a dataset was found in any of the places looked."""


class ChecksumError(ValueError):
    """An archive's checksum differs from the registry's."""


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


class WriteError(OSError):
    """A file could not be written (a full disk, a quota, a folder gone); the message is one line
    naming the file and the fix."""


def write_error(path: str | os.PathLike, error: Exception) -> WriteError:
    """The WriteError for a failed write of `path`: an OSError, or the RuntimeError torch.save
    raises when the disk fills ("[enforce fail at inline_container.cc] ... unexpected pos")."""
    reason = getattr(error, "strerror", None) or str(error).strip().splitlines()[0]
    full = (getattr(error, "errno", None) in (errno.ENOSPC, errno.EDQUOT)
            or "unexpected pos" in str(error) or "inline_container" in str(error))
    hint = "the disk may be full: free some space" if full else "check the folder"
    return WriteError(f"cannot write {path} ({reason}); {hint} or choose another --out")


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike):
    """A temporary path beside `path` (same suffix, so writers infer the format) to write to.
    It replaces `path` only when the block ends without error; otherwise it is removed. A crash
    mid-write therefore never leaves a truncated file under the real name. A write that fails
    (OSError, or torch.save's RuntimeError on a full disk) is raised as a `WriteError`."""
    path = Path(path)
    tmp = path.with_name(f".{path.stem}.tmp{path.suffix}")
    try:
        yield tmp
        os.replace(tmp, path)
    except WriteError:
        raise
    except OSError as error:
        raise write_error(path, error) from None
    except RuntimeError as error:
        if "unexpected pos" in str(error) or "inline_container" in str(error):
            raise write_error(path, error) from None
        raise
    finally:
        tmp.unlink(missing_ok=True)


def prepare_output(out: Path, flag: str = "--out") -> Path:
    """Create the folder `out` if needed and check that files can be written in it: done before
    any long computation, so that a bad location costs nothing. Raises ValueError naming the
    problem and the fix."""
    if out.exists() and not out.is_dir():
        raise ValueError(f"{flag} {out} is a file, not a folder; choose a folder for {flag}")
    try:
        out.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryFile(dir=out):
            pass
    except (FileExistsError, NotADirectoryError):
        raise ValueError(f"{flag} {out} cannot be created: part of its path is a file; choose "
                         f"another {flag}") from None
    except OSError as error:
        raise ValueError(f"{flag} {out} is not writable ({error.strerror}); choose a writable "
                         f"folder for {flag}") from None
    return out


# ---------------------------------------------------------------- checksums and download

def file_checksum(path: Path, algorithm: str = "sha256") -> str:
    """Hex digest of a file, read in 1 MiB blocks."""
    digest = hashlib.new(algorithm)
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def verify_checksum(path: Path, expected: str | None) -> str:
    """Check `path` against "sha256:..." or "md5:..."; return the file's sha256 (the cache key).

    Raises ChecksumError naming the file, both digests and what to do.
    """
    sha256 = file_checksum(path, "sha256")
    if expected is None:
        return sha256
    algorithm, want = expected.split(":", 1)
    got = sha256 if algorithm == "sha256" else file_checksum(path, algorithm)
    if got != want:
        raise ChecksumError(
            f"{path}: {algorithm} is {got}, expected {want}. The file is corrupt, truncated or a "
            f"different version: delete it and download it again from the official source.")
    return sha256


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


def preprocess(image: Image.Image, crop: str) -> Image.Image:
    """Crop as the dataset's recipe says, then resize to 64x64 (bicubic, antialiased)."""
    width, height = image.size
    if crop == "celeba":
        # The usual DCGAN face crop: the centre 108x108 of the 178x218 original, i.e. a square of
        # 108/178 of the width; the same fraction works for the half-size copies.
        side = round(width * 108 / 178)
    elif crop in ("center-square", "none"):
        side = min(width, height)
    else:
        raise ValueError(f"unknown crop {crop!r}")
    left, top = (width - side) // 2, (height - side) // 2
    image = image.crop((left, top, left + side, top + side))
    if image.size != (IMAGE_SIZE, IMAGE_SIZE):
        image = image.resize((IMAGE_SIZE, IMAGE_SIZE), Image.BICUBIC)
    return image


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


def course_folder(path: Path, split: str) -> Path | None:
    """The original IFT6266 layout: `inpainting/train2014`, `inpainting/val2014` (or without
    the `inpainting/` level). Returns the split's folder, or None if `path` is not that layout."""
    for root in (path / "inpainting", path):
        folder = root / ("train2014" if split == "train" else "val2014")
        if folder.is_dir():
            return folder
    return None


def select(names: list[str], limit: int | None, seed: int = 0) -> list[str]:
    """A seeded random subset of at most `limit` names, kept in sorted order (all if None)."""
    if limit is None or limit >= len(names):
        return names
    return sorted(random.Random(seed).sample(names, limit))


def load_images(name: str = "tiny-imagenet", split: str = "train", limit: int | None = None,
                source: str | os.PathLike | None = None, cache: bool = True,
                allow_download: bool = True, verbose: bool = True, return_report: bool = False):
    """The images of a dataset split as uint8 (N, 64, 64, 3), N >= 1, decoded once then cached.

    `limit` (None, or at least 1) keeps a seeded random subset of the members (the same one
    every run). The cache file, under data/cache/, is keyed by everything its content depends
    on: the dataset, the split, the archive's sha256 (or a folder's listing), the crop, the limit
    and the decoder version; it is written atomically, and an unreadable or empty one is rebuilt.
    Greyscale images are dropped and corrupt ones skipped; both are counted and printed, and
    with `return_report=True` returned as (images, DecodeReport).
    """
    if limit is not None and (isinstance(limit, bool) or not isinstance(limit, numbers.Integral)
                              or limit < 1):
        raise ValueError(f"limit must be a whole number of at least 1, got {limit!r}; set limit "
                         f"(--limit) to 1 or more, or leave it out to use every image")
    spec = dataset_spec(name)
    path, archive = locate(name, split, source, allow_download)
    entry = spec.splits[split]
    if path.is_dir():
        path = course_folder(path, split) or path
        pattern, key = "*", f"folder-{_folder_key(path)}"
    else:
        key = verify_checksum(path, archive.checksum if archive else None)[:16]
        pattern = entry.pattern
    subset = "all" if limit is None else f"limit{limit}"
    cache_file = CACHE_DIR / f"{name}-{split}-{key}-{spec.crop}-{subset}-{DECODER}.npz"
    if cache and cache_file.is_file():
        try:
            with np.load(cache_file) as stored:
                images = stored["images"]
                report = DecodeReport(len(images), int(stored["greyscale"]), int(stored["corrupt"]))
            if len(images) == 0:
                raise ValueError("it holds no image")
        except (OSError, EOFError, ValueError, KeyError, zipfile.BadZipFile) as error:
            warnings.warn(f"cache file {cache_file} is unreadable ({error}); decoding the "
                          f"archive again and rewriting it")
        else:
            if verbose:
                print(f"{name}/{split}: {len(images)} images from cache {cache_file.name}")
            return (images, report) if return_report else images
    members = list_members(path, pattern)
    if not path.is_dir() and archive is not None:
        members = members[entry.start:entry.stop]
    if not members:
        raise DatasetNotFoundError(f"{path} holds no images matching {pattern!r} for {name}/{split}")
    members = select(members, limit)
    images, report = decode_members(path, members, spec.crop, desc=f"decode {name}/{split}")
    if verbose:
        print(f"{name}/{split} from {path}: {report}")
    if not len(images):
        raise DatasetNotFoundError(f"no usable colour image among the {len(members)} of {name}/"
                                   f"{split} in {path} ({report}); check the archive or --data")
    if cache:
        CACHE_DIR.mkdir(parents=True, exist_ok=True)
        with atomic_path(cache_file) as tmp:
            np.savez(tmp, images=images, greyscale=report.greyscale, corrupt=report.corrupt)
    return (images, report) if return_report else images


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


def _folder_key(folder: Path) -> str:
    """A cache key for a plain folder: hash of its image names, sizes and modification times."""
    digest = hashlib.sha256()
    for p in sorted(folder.rglob("*")):
        if p.suffix.lower() in IMAGE_SUFFIXES:
            stat = p.stat()
            digest.update(f"{p.relative_to(folder)}:{stat.st_size}:{stat.st_mtime_ns}".encode())
    return digest.hexdigest()[:16]


def load_sample_split(split: str = "train") -> np.ndarray:
    """The committed sample of real photographs (data/sample/<split>), uint8 (N, 64, 64, 3).

    66 Tiny ImageNet validation photographs in `train` (2 of them greyscale, dropped here) and
    32 in `val`; small enough to decode on every call, so never cached.
    """
    folder = SAMPLE_DIR / split
    if not folder.is_dir():
        raise DatasetNotFoundError(f"the committed sample {folder} is missing; restore it with "
                                   f"`git checkout -- data/sample`")
    images, _ = decode_members(folder, list_members(folder, "*"), "center-square",
                               desc=f"decode sample/{split}")
    return images


def to_tensor(images: np.ndarray) -> torch.Tensor:
    """uint8 (N, 64, 64, 3) in 0..255 -> float32 (N, 3, 64, 64) in [-1, 1]."""
    return torch.from_numpy(np.ascontiguousarray(images)).permute(0, 3, 1, 2).float().div(127.5).sub(1)


def to_uint8(images: torch.Tensor) -> np.ndarray:
    """float (N, 3, 64, 64) in [-1, 1] -> uint8 (N, 64, 64, 3) in 0..255, rounded and clipped."""
    scaled = (images.detach().float().cpu().clamp(-1, 1) + 1) * 127.5
    return scaled.round().to(torch.uint8).permute(0, 2, 3, 1).numpy()

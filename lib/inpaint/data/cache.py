"""The decoded images, cached: `load_images` decodes a dataset split once (found by
`inpaint.data.registry.locate`) into data/cache/, and reads it back from there after; the committed
sample (data/sample/train, val) is read by `load_sample_split`; the committed MSCOCO photographs
(data/sample/coco/) are the `coco` dataset, found by `locate` like any other.

Every array is uint8 (N, 64, 64, 3), RGB, values 0..255; `inpaint.method.pixels.to_tensor` turns
it into the float range the models use."""
from __future__ import annotations

import hashlib
import numbers
import os
import random
import warnings
import zipfile
from pathlib import Path
import numpy as np

from inpaint.data.decoding import (DECODER, DecodeReport, IMAGE_SUFFIXES, decode_members,
                                   list_members)
from inpaint.data.registry import (DatasetNotFoundError, SAMPLE_DIR, course_folder, dataset_spec,
                                   locate)
from inpaint.files import PROJECT_ROOT, atomic_path, shown, verify_checksum

CACHE_DIR = PROJECT_ROOT / "data" / "cache"
_REPORTED: set[Path] = set()  # the cache files load_images has named in this process


def select(names: list[str], limit: int | None, seed: int = 0) -> list[str]:
    """A seeded random subset of at most `limit` names, kept in sorted order (all if None)."""
    if limit is None or limit >= len(names):
        return names
    return sorted(random.Random(seed).sample(names, limit))


def split_members(name: str, split: str, path: Path, archive: bool = True,
                  limit: int | None = None) -> list[str]:
    """The members of `path` that a dataset split's images are decoded from, in order: those
    matching the split's pattern, sliced as the registry says when `path` is one of its archives
    (`archive`; a folder given by --data is the split as it is), then `select`ed by `limit`."""
    entry = dataset_spec(name).splits[split]
    members = list_members(path, "*" if path.is_dir() else entry.pattern)
    if not path.is_dir() and archive:
        members = members[entry.start:entry.stop]
    if not members:
        raise DatasetNotFoundError(f"{path} holds no images matching {entry.pattern!r} for "
                                   f"{name}/{split}")
    return select(members, limit)


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
        key = f"folder-{_folder_key(path)}"
    else:
        key = verify_checksum(path, archive.checksum if archive else None)[:16]
    subset = "all" if limit is None else f"limit{limit}"
    span = "" if path.is_dir() or archive is None or (entry.start, entry.stop) == (0, None) \
        else f"-{entry.start}to{entry.stop}"  # a split of an archive: which of its members
    cache_file = CACHE_DIR / f"{name}-{split}-{key}{span}-{spec.crop}-{subset}-{DECODER}.npz"
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
            if verbose and cache_file not in _REPORTED:  # once per process, not per call
                _REPORTED.add(cache_file)
                print(f"{name}/{split}: {len(images)} images from cache")
            return (images, report) if return_report else images
    members = split_members(name, split, path, archive is not None, limit)
    images, report = decode_members(path, members, spec.crop, desc=f"decode {name}/{split}")
    if verbose:
        print(f"{name}/{split} from {shown(path)}: {report}")
    if not len(images):
        raise DatasetNotFoundError(f"no usable colour image among the {len(members)} of {name}/"
                                   f"{split} in {path} ({report}); check the archive or --data")
    if cache:
        CACHE_DIR.mkdir(parents=True, exist_ok=True)
        with atomic_path(cache_file) as tmp:
            np.savez(tmp, images=images, greyscale=report.greyscale, corrupt=report.corrupt)
    return (images, report) if return_report else images


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

"""Real photographs for the study: a registry of datasets, where their files are looked for, and
their download.

Every dataset split the study reads is listed in `DATASETS`, each file with its checksum and its
public source. Where a split's images are looked for, in order:
  1. an explicit path (argument `source`, or the environment variable INPAINT_DATA): an archive,
     a folder holding the registry's archive file names, a plain folder of images, or the original
     course layout (`inpainting/train2014/*.jpg`, `inpainting/val2014/*.jpg`);
  2. the split's committed copy under `data/sample/` (MSCOCO: its 100 photographs are in the
     repository, so nobody needs the 13 GB official archive);
  3. `data/raw/` in the project;
  4. `../shared/datasets/` beside the project (the project's own machines);
  5. the public URL, fetched by pooch with a progress bar into `data/raw/` and checked against its
     checksum (a timeout of `DOWNLOAD_TIMEOUT_S` on every network wait, so a blocked network fails
     fast). An archive a plain HTTP fetch cannot get (CelebA is on Google Drive) says in one line
     what to download, from where, and where to put it.

Images leave `inpaint.data.cache` as uint8 arrays of shape (N, 64, 64, 3), RGB, values 0..255.
"""
from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from inpaint.files import ChecksumError, PROJECT_ROOT

RAW_DIR = PROJECT_ROOT / "data" / "raw"
SHARED_DIR = PROJECT_ROOT.parent / "shared" / "datasets"
SAMPLE_DIR = PROJECT_ROOT / "data" / "sample"
DOWNLOAD_TIMEOUT_S = 20  # seconds any network wait (connect, or the next block) may take


class DatasetNotFoundError(FileNotFoundError):
    """No archive or folder for a dataset was found in any of the places looked, and none could be
    downloaded. `line` is one line saying what to download, from where, and where to put it."""

    def __init__(self, message: str, line: str | None = None):
        super().__init__(message)
        self.line = line or message


@dataclass(frozen=True)
class Archive:
    """One file that holds a dataset's images.

    `checksum` is "sha256:<hex>" or "md5:<hex>" (the official archives publish md5 only).
    `url` is a plain HTTP(S) address pooch can fetch it from, or None when it cannot be fetched
    that way; `source` says, for a person, where it comes from (which official file a subset of
    ours was drawn from); `manual`, for the one file of a split to get by hand, says how.
    """

    filename: str
    checksum: str | None
    url: str | None = None
    source: str = ""
    manual: str = ""  # when no plain HTTP fetch gets it: what to download from where, "{raw}"
                      # standing for data/raw/ (see `fetch_line`)


@dataclass(frozen=True)
class Split:
    """Which files form a split: its archives, preferred first (the first with a `url` is the one
    downloaded), a glob over member paths, then a slice of the sorted list (CelebA keeps its last
    1,000 faces apart as validation). `sample`, when set, is a folder under data/sample/ that holds
    the split's images, committed with the repository (the exact bytes of the archive's members,
    under the same paths: the same images in the same order)."""

    archives: tuple[Archive, ...]
    pattern: str
    start: int = 0
    stop: int | None = None
    sample: str | None = None


@dataclass(frozen=True)
class DatasetSpec:
    name: str
    description: str
    licence: str
    crop: str  # "none" (already 64x64), "center-square", "celeba" (DCGAN face crop) or "yeh"
    splits: dict[str, Split] = field(default_factory=dict)


TINY_OFFICIAL = Archive(
    "tiny-imagenet-200.zip", "md5:90528d7ca1a48142e341f4ef8d21d0de",
    "http://cs231n.stanford.edu/tiny-imagenet-200.zip",
    "Tiny ImageNet, Stanford CS231n (248 MB; 100,000 train, 10,000 val, 10,000 test images)")
TINY_TRAIN = Archive(
    "tiny-imagenet-64-train.zip",
    "sha256:65d1a678da46630999107e69ee7cc8e643254589f21da53c1cb456f55848a593",
    source="the project's copy of Tiny ImageNet train (60,600 images, 202 classes); not published: "
           "use tiny-imagenet-200.zip")
TINY_VAL = Archive(
    "tiny-imagenet-64-val.zip",
    "sha256:14ad9e026db611b2a4d4ce6bc2985596a7b8511759fa3086545bd6484de474f4",
    source="the project's copy of Tiny ImageNet val (10,100 images, 202 classes); not published: "
           "use tiny-imagenet-200.zip")
CELEBA_OFFICIAL = Archive(
    "img_align_celeba.zip", "md5:00d2c5bc6d35e252742224ab0c1e8fcb",
    source="CelebA \"Align&Cropped Images\" (202,599 faces, 178x218), "
           "https://mmlab.ie.cuhk.edu.hk/projects/CelebA.html",
    manual="download img_align_celeba.zip (\"Align&Cropped Images\", 1.4 GB) from the CelebA page "
           "https://mmlab.ie.cuhk.edu.hk/projects/CelebA.html (it is on Google Drive, which a plain "
           "HTTP fetch cannot download) and put it in {raw}")
CELEBA_10K = Archive(
    "celeba-10k.zip", "sha256:f2236a7202811529dbbe3370dad50744aa7497589d6711c8fd91a46c0fdaae02",
    source="the project's copy of the first 10,000 aligned CelebA faces at half size; not "
           "published: use img_align_celeba.zip")
COCO_OFFICIAL = Archive(
    "train2014.zip", "md5:0da8c0bd3d6becc4dcb32757491aca88",
    "http://images.cocodataset.org/zips/train2014.zip",
    "MSCOCO 2014 train (13 GB); not needed: the 100 photographs the study uses are committed")
COCO_100 = Archive(
    "coco-train2014-100.zip",
    "sha256:42baf20465d3e22f17f694cb50f52541332f4422f9f4cadb260b2e51fc267451",
    source="the course-era 224x224 copies of 100 MSCOCO train2014 photographs, committed as "
           "data/sample/coco/")
YEH_URL = ("https://raw.githubusercontent.com/moodoki/semantic_image_inpainting/"
           "c9201b0707b0d200c2bdb89ca23af078cb9aa153/testimages/NAME.png")
YEH_TEST = Archive(
    "yeh-celeba-testimages-65.zip",
    "sha256:18112566e8daa0123c6bebfd4056a29158cb1d8af5ceaeeb6538be1a289de3cf",
    source=f"the 65 PNGs of Yeh et al.'s testimages/, each at {YEH_URL}, zipped as testimages/*.png",
    manual=f"download the 65 PNGs of Yeh et al.'s testimages/ (each at {YEH_URL}) into a folder and "
           f"pass it with --data PATH, or put yeh-celeba-testimages-65.zip in {{raw}}")

# CelebA 000001-000070 hold Yeh et al.'s test faces (`yeh-celeba`): no faces model trains on them,
# and our own held-out faces (009001-010000) are apart from them too.
YEH_TEST_FACES = 70
# Both CelebA crops read the same files: training 000071-009000, held out 009001-010000.
CELEBA_SPLITS = {
    "train": Split((CELEBA_10K, CELEBA_OFFICIAL), "*img_align_celeba/*.jpg", YEH_TEST_FACES, 9000),
    "val": Split((CELEBA_10K, CELEBA_OFFICIAL), "*img_align_celeba/*.jpg", 9000, 10000),
}

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
        splits=CELEBA_SPLITS,
    ),
    "celeba-yeh-crop": DatasetSpec(
        "celeba-yeh-crop",
        "The same CelebA faces as `celeba`, cropped as Yeh et al.'s test faces are (a square of "
        "88 of the 178 pixels' width, its centre 141.5 pixels from the top: measured, see "
        "inpaint.data.crop_fit), so that the centre hole covers nose and mouth.",
        "CelebA terms: non-commercial research only",
        crop="yeh",
        splits=CELEBA_SPLITS,
    ),
    "coco": DatasetSpec(
        "coco",
        "MSCOCO 2014 train photographs, the source of the original course data; evaluation only. "
        "The 100 the study uses, as 224x224 course-era copies, are committed in data/sample/coco/.",
        "Flickr terms of each image (mostly Creative Commons)",
        crop="center-square",
        splits={"val": Split((COCO_100,), "*train2014/*.jpg", 0, 100, sample="coco")},
    ),
    "yeh-celeba": DatasetSpec(
        "yeh-celeba",
        "The CelebA test faces Yeh et al. released with their code (64x64 PNG, their own crop): "
        "the 64 named after CelebA 000001-000070 (six numbers missing); the 65th file, "
        "face1.png, names no CelebA file, so nothing says our models never saw it, and it is left "
        "out.",
        "repository: MIT licence; the faces: CelebA terms, non-commercial research only",
        crop="none",
        splits={"test": Split((YEH_TEST,), "*testimages/[0-9]*.png")},
    ),
}


# ---------------------------------------------------------------- download

def download(url: str, dest: Path, checksum: str | None) -> Path:
    """Fetch `url` into `dest` with pooch (a progress bar, `DOWNLOAD_TIMEOUT_S` on every network
    wait), verified against `checksum` ("sha256:<hex>" or "md5:<hex>"; None: unverified).

    pooch writes to a temporary file beside `dest` and moves it under its final name only once
    the checksum passes, so a failed, refused or corrupt download never leaves a file that looks
    complete. Raises ChecksumError for a corrupt download, OSError (requests' errors) for one
    that failed.
    """
    import pooch
    downloader = pooch.HTTPDownloader(progressbar=True, timeout=DOWNLOAD_TIMEOUT_S)
    try:
        return Path(pooch.retrieve(url, known_hash=checksum, fname=dest.name, path=dest.parent,
                                   downloader=downloader))
    except ValueError as error:  # pooch: the checksum differs (the download was deleted)
        raise ChecksumError(f"the download of {url} is corrupt ({error}) and was not kept; "
                            f"try again, or download it by hand into {dest.parent}") from None


def _reason(error: Exception) -> str:
    """A failed download's cause, on one short line."""
    import requests
    text = " ".join(str(error).split())
    if isinstance(error, requests.Timeout):
        return f"no answer within {DOWNLOAD_TIMEOUT_S} s"
    if isinstance(error, requests.HTTPError) and error.response is not None:
        return f"HTTP {error.response.status_code} {error.response.reason}"
    if isinstance(error, requests.ConnectionError):
        if "NameResolution" in text or "name resolution" in text or "not known" in text:
            return "the host name does not resolve: no network?"
        if "refused" in text:
            return "the connection was refused"
        return "the connection failed"
    return text if len(text) <= 160 else text[:157] + "..."


def fetch_line(name: str, split: str, reason: str = "") -> str:
    """One line for a split that is missing: what to download, from where, and where to put it
    (`reason`, when given, says why it was not downloaded)."""
    return f"{name} ({split}): {_how_to_get(dataset_spec(name).splits[split], reason)}"


def _how_to_get(entry: Split, reason: str = "") -> str:
    why = f" ({reason})" if reason else ""
    if entry.sample is not None:
        return (f"the committed photographs {SAMPLE_DIR / entry.sample} are missing{why}; "
                f"restore them with `git checkout -- data/sample/{entry.sample}`")
    fetchable = [a for a in entry.archives if a.url]
    if fetchable:
        return (f"download {fetchable[0].url} into {RAW_DIR}/{why}, or put "
                f"{' or '.join(a.filename for a in entry.archives)} there")
    manual = next((a for a in entry.archives if a.manual), entry.archives[-1])
    how = manual.manual or f"put {manual.filename} in {{raw}}"
    return how.format(raw=f"{RAW_DIR}/") + why


# ---------------------------------------------------------------- lookup

def locate(name: str, split: str = "train", source: str | os.PathLike | None = None,
           allow_download: bool = True) -> tuple[Path, Archive | None]:
    """Find the archive (or image folder) holding `name`/`split`, in the order of the module
    docstring, downloading it into data/raw/ when it is nowhere and `allow_download`.

    Returns (path, archive) where archive is the registry entry that matched, or None when the
    path is a folder (the committed sample, or a user's) or an archive outside the registry (then
    no checksum applies). Raises DatasetNotFoundError (its `line`: what to download, from where,
    where to put it) when the split is nowhere and cannot be downloaded, ChecksumError when a
    download arrives corrupt.
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
    for place in explicit:
        if place.is_file():
            known = [a for a in entry.archives if a.filename == place.name]
            return place, (known[0] if known else None)
        found = _archive_in(place, entry)
        return found if found else (place, None)  # a folder of images, or the course layout
    if entry.sample is not None and (SAMPLE_DIR / entry.sample).is_dir():
        return SAMPLE_DIR / entry.sample, None
    for place in (RAW_DIR, SHARED_DIR):
        if found := _archive_in(place, entry):
            return found
    fetchable = [a for a in entry.archives if a.url]
    if allow_download and fetchable:
        archive = fetchable[0]
        try:
            return download(archive.url, RAW_DIR / archive.filename, archive.checksum), archive
        except OSError as error:
            reason = f"the download failed: {_reason(error)}"
    else:
        reason = "no download was attempted" if fetchable else ""
    names = ", ".join(a.filename for a in entry.archives)
    raise DatasetNotFoundError(
        f"dataset {name!r} ({split}) is missing: none of {names} is in {RAW_DIR} or {SHARED_DIR}. "
        f"Fix: {_how_to_get(entry, reason)}; or pass an archive or a folder of images with "
        f"--data PATH or the environment variable INPAINT_DATA", fetch_line(name, split, reason))


def _archive_in(place: Path, entry: Split) -> tuple[Path, Archive] | None:
    """The first of the split's archives that lies in the folder `place`, with its entry."""
    for archive in entry.archives:
        if (place / archive.filename).is_file():
            return place / archive.filename, archive
    return None


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

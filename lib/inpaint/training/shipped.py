"""The shipped, pre-trained reference models: a registry, folder lookup, checksums and loading.

A reference model is a folder made by this project's own training code on a GPU (so that the book
and `complete` can use a full-scale model without training one here). It holds:
  generator_epoch_EEE.pt       float16 state_dict of `inpaint.method.models.Generator(width)`
  discriminator_epoch_EEE.pt   float16 state_dict of `inpaint.method.models.Discriminator(width)`
  fixed_noise.pt               the run's fixed sample codes, float (64, 100) in [-1, 1]
  log.csv.gz                   the run's per-step log, in the project's log.csv format
  run.json                     provenance: configuration, command, commit, hardware, scores
  SHA256SUMS                   `sha256sum` lines for every other file
Every file is checked against SHA256SUMS each time it is read.

The weights ship with the repository, under `data/models/<folder>/`. Where a model's folder is
looked for, in order:
  1. an explicit path (argument `source`): the model folder itself, or a folder holding model
     folders. A path given here that does not hold the model is an error, not skipped;
  2. the environment variable INPAINT_MODELS: the same two forms; skipped when it lacks the model;
  3. `data/models/<folder>` in the repository, when the library runs from a clone of it;
  4. `models/<folder>` in the user's cache (`inpaint.files.user_cache()`), where
     `install_shipped` (`inpaint install-model`) puts a copy for an install outside the
     repository.

Loaded models are float32, in eval mode, on the requested device:
  G(z)  z float (N, 100) in [-1, 1]       -> images float (N, 3, 64, 64) in [-1, 1]
  D(x)  x float (N, 3, 64, 64) in [-1, 1] -> logits float (N,)
"""
from __future__ import annotations

import gzip
import json
import os
import shutil
from dataclasses import dataclass
from pathlib import Path
import pandas as pd
import torch

from inpaint.files import (ChecksumError, PROJECT_ROOT, atomic_path, file_checksum, in_repository,
                           user_cache)
from inpaint.method.models import Discriminator, Generator
from inpaint.training.checkpoints import CheckpointError, read_weights

MODELS_ENV = "INPAINT_MODELS"
DATA_MODELS_DIR = PROJECT_ROOT / "data" / "models"
SUMS_FILENAME = "SHA256SUMS"
RUN_INFO_FILENAME = "run.json"
FIXED_NOISE_FILENAME = "fixed_noise.pt"
LOG_FILENAME = "log.csv.gz"
MAKE_COMMAND = "make study PROFILE=full"


class ShippedModelNotFoundError(FileNotFoundError):
    """A reference model's folder, or one of its files, is in none of the places looked."""


class ShippedModelChecksumError(ChecksumError):
    """A reference file differs from its SHA256SUMS line, is not listed, or SHA256SUMS is missing."""


class EpochNotAvailableError(ValueError):
    """The reference model has no checkpoint of this network at this epoch."""


@dataclass(frozen=True)
class ShippedModel:
    """One shipped model: its folder name, the width of its networks, the epochs it has for G and
    for D, how to train it again (`command`, the training run that produced it), and the sha256
    of its SHA256SUMS (`sums_sha256`), which vouches for every file when it is installed from a
    copy or a URL (`install_shipped`)."""

    name: str
    folder: str
    width: int
    generator_epochs: tuple[int, ...]
    discriminator_epochs: tuple[int, ...]
    description: str
    command: str
    sums_sha256: str

    def generator_filename(self, epoch: int) -> str:
        return f"generator_epoch_{epoch:03d}.pt"

    def discriminator_filename(self, epoch: int) -> str:
        return f"discriminator_epoch_{epoch:03d}.pt"


SHIPPED_MODELS: dict[str, ShippedModel] = {
    "tiny-imagenet-full": ShippedModel(
        name="tiny-imagenet-full",
        folder="tiny-imagenet-full",
        width=64,
        generator_epochs=(30, 35, 40, 45, 50, 55),
        discriminator_epochs=(35, 55),
        description="The `full` profile's DCGAN (width 64, batch 128, 55 epochs) trained on one "
                    "GPU on 29,451 Tiny ImageNet training photographs.",
        command="python -m inpaint train --profile full --limit 30000 --out runs/full/train",
        sums_sha256="2dee341df9be764787f0c69d3b6ab4bc3d2470edd4347895657348539b8ee347",
    ),
}


def shipped_spec(name: str) -> ShippedModel:
    """The registry entry for `name`; ValueError listing the known names otherwise."""
    if name not in SHIPPED_MODELS:
        raise ValueError(f"unknown reference model {name!r}; known: {sorted(SHIPPED_MODELS)}")
    return SHIPPED_MODELS[name]


# ---------------------------------------------------------------- lookup

def _model_folder_in(place: Path, spec: ShippedModel) -> Path | None:
    """`place/<folder>` if it exists; else `place` itself if it has a SHA256SUMS."""
    if (place / spec.folder).is_dir():
        return place / spec.folder
    if (place / SUMS_FILENAME).is_file():
        return place
    return None


def user_models_dir() -> Path:
    """models/ in the user's cache: the fourth place looked (see the module docstring)."""
    return user_cache() / "models"


def model_places() -> list[tuple[Path, str]]:
    """The folders looked in for model folders, in order, each with how it was chosen: places 2-4
    of the module docstring (INPAINT_MODELS when set, the repository's data/models when the
    library runs from a clone, the user's cache)."""
    places = []
    if os.environ.get(MODELS_ENV):
        places.append((Path(os.environ[MODELS_ENV]), f"from {MODELS_ENV}"))
    if in_repository():
        places.append((DATA_MODELS_DIR, "the repository's"))
    places.append((user_models_dir(), "the user's cache"))
    return places


def _how_to_get(spec: ShippedModel) -> str:
    return (f"The weights ship with the repository in data/models/{spec.folder}/: run from a clone "
            f"of it, point {MODELS_ENV} at that folder (or at a folder holding it), or copy it "
            f"into the user's cache with `inpaint install-model {spec.name} --from <clone or its "
            f"URL>`. "
            f"To train them again: `{MAKE_COMMAND}` on a GPU ({spec.command}).")


def locate_shipped(name: str, source: str | os.PathLike | None = None) -> Path:
    """The folder holding reference model `name` (see the module docstring for the order).

    Raises ShippedModelNotFoundError naming every place looked and how to get the weights.
    Only finds the folder: its files are verified when they are read.
    """
    spec = shipped_spec(name)
    if source is not None:
        place = Path(source)
        found = _model_folder_in(place, spec)
        if found is None:
            raise ShippedModelNotFoundError(
                f"reference model {name!r} not found at the given path {place}: it should be the "
                f"model folder (with {SUMS_FILENAME}) or a folder holding `{spec.folder}/`. "
                + _how_to_get(spec))
        return found
    places = model_places()
    for place, _ in places:
        found = _model_folder_in(place, spec)
        if found is not None:
            return found
    looked = "; ".join(f"{place / spec.folder} ({how})" for place, how in places)
    raise ShippedModelNotFoundError(
        f"reference model {name!r} not found (looked in {looked}). " + _how_to_get(spec))


# ---------------------------------------------------------------- checksums

def read_checksums(folder: Path) -> dict[str, str]:
    """SHA256SUMS of a model folder as {filename: sha256 hex}; ShippedModelChecksumError if
    absent."""
    sums = Path(folder) / SUMS_FILENAME
    if not sums.is_file():
        raise ShippedModelChecksumError(
            f"{sums} is missing, so the files in {folder} cannot be verified. Restore the folder "
            f"complete from where it came, or make it again with `{MAKE_COMMAND}` on a GPU.")
    digests = {}
    for number, line in enumerate(sums.read_text(errors="replace").splitlines(), start=1):
        if not line.strip():
            continue
        fields = line.split(maxsplit=1)
        if len(fields) != 2 or len(fields[0]) != 64:
            raise ShippedModelChecksumError(
                f"{sums} line {number} is not a `sha256sum` line (64 hex digits, then a file "
                f"name): {line[:60]!r}. Restore the file as shipped.")
        digests[fields[1].strip().lstrip("*")] = fields[0].lower()
    return digests


def verified_file(folder: Path, filename: str) -> Path:
    """`folder/filename` after checking its sha256 against the folder's SHA256SUMS.

    Raises ShippedModelNotFoundError if the file is absent, ShippedModelChecksumError (naming the
    file and the fix) if it is not listed or its digest differs.
    """
    folder = Path(folder)
    path = folder / filename
    digests = read_checksums(folder)
    if not path.is_file():
        raise ShippedModelNotFoundError(
            f"{path} is missing from the reference folder {folder}. Restore the folder complete, "
            f"or make it again with `{MAKE_COMMAND}` on a GPU.")
    if filename not in digests:
        raise ShippedModelChecksumError(
            f"{path} is not listed in {folder / SUMS_FILENAME}, so it cannot be verified and is "
            f"refused. Use the folder as shipped, or make it again with `{MAKE_COMMAND}`.")
    got = file_checksum(path, "sha256")
    if got != digests[filename]:
        raise ShippedModelChecksumError(
            f"{path}: sha256 is {got}, but {SUMS_FILENAME} expects {digests[filename]}. The file is "
            f"corrupt, truncated or from another run, and is refused. Replace it with the copy in "
            f"the repository's data/models/{folder.name}/ (`git checkout -- data/models`), or "
            f"make the folder again with `{MAKE_COMMAND}` on a GPU. Do not edit {SUMS_FILENAME} "
            f"to match.")
    return path


def verify_shipped(name: str, source: str | os.PathLike | None = None) -> Path:
    """Check every file the registry promises for `name` (and every file SHA256SUMS lists);
    return the folder. Raises on the first missing or mismatching file."""
    spec = shipped_spec(name)
    folder = locate_shipped(name, source)
    wanted = ([spec.generator_filename(e) for e in spec.generator_epochs]
              + [spec.discriminator_filename(e) for e in spec.discriminator_epochs]
              + [FIXED_NOISE_FILENAME, LOG_FILENAME, RUN_INFO_FILENAME])
    for filename in dict.fromkeys(wanted + sorted(read_checksums(folder))):
        verified_file(folder, filename)
    return folder


# ---------------------------------------------------------------- installing a copy

def fetch_file(source: str, relative: str, dest: Path, sha256: str | None) -> None:
    """`source/relative` (a folder or an http(s) URL) to `dest`, checked against `sha256` when
    given: a URL through pooch (progress bar, kept under a temporary name until it checks out),
    a folder by copying."""
    if source.startswith(("http://", "https://")):
        import pooch
        import requests  # pooch's HTTP client
        url = f"{source.rstrip('/')}/{relative}"
        try:
            pooch.retrieve(url, f"sha256:{sha256}" if sha256 else None, fname=dest.name,
                           path=dest.parent, progressbar=True)
        except requests.RequestException as error:
            raise ShippedModelNotFoundError(f"cannot fetch {url} ({error}); check --from, which "
                                            f"should serve the repository's files") from None
        except ValueError:  # pooch: the download's hash differs (nothing is kept)
            raise ShippedModelChecksumError(f"{url} differs from the registry's checksum: it is "
                                            f"not the shipped file; check --from") from None
        return
    origin = Path(source) / relative
    if not origin.is_file():
        raise ShippedModelNotFoundError(f"{origin} does not exist: --from should be a clone of the "
                                        f"repository (or its URL), which holds {relative}")
    if sha256 is not None and file_checksum(origin) != sha256:
        raise ShippedModelChecksumError(f"{origin} differs from the registry's checksum: it is "
                                        f"not the shipped file; use a clean clone")
    with atomic_path(dest) as tmp:
        shutil.copyfile(origin, tmp)


def install_shipped(name: str, source: str, dest: Path | None = None) -> Path:
    """Copy shipped model `name` from `source` into `dest/<folder>` (default: the user's cache,
    `user_models_dir()`), every file verified, and return that folder.

    `source` is a clone of the repository or its URL for raw files (the files are read from
    `data/models/<folder>/`). Its SHA256SUMS must match the registry's `sums_sha256`, and every
    file must match SHA256SUMS: nothing unverified is installed (a file already there and intact
    is kept, not fetched again).
    """
    spec = shipped_spec(name)
    folder = (dest or user_models_dir()) / spec.folder
    folder.mkdir(parents=True, exist_ok=True)
    remote = f"data/models/{spec.folder}"
    sums = folder / SUMS_FILENAME
    if not sums.is_file() or file_checksum(sums) != spec.sums_sha256:
        sums.unlink(missing_ok=True)
        fetch_file(source, f"{remote}/{SUMS_FILENAME}", sums, spec.sums_sha256)
    for filename, digest in read_checksums(folder).items():
        target = folder / filename
        if not (target.is_file() and file_checksum(target) == digest):
            target.unlink(missing_ok=True)
            fetch_file(source, f"{remote}/{filename}", target, digest)
    verify_shipped(name, folder)
    return folder


# ---------------------------------------------------------------- epochs

def _nearest(available: tuple[int, ...], epoch: int) -> int:
    """The epoch of `available` nearest to `epoch`; a tie goes to the later (longer trained)."""
    return min(available, key=lambda e: (abs(e - epoch), -e))


def _check_epoch(spec: ShippedModel, network: str, epoch: int, available: tuple[int, ...]) -> None:
    if epoch not in available:
        hint = ""
        if network == "discriminator":
            hint = (f" The nearest with a discriminator is {_nearest(available, epoch)} "
                    f"(nearest_discriminator_epoch).")
        raise EpochNotAvailableError(
            f"reference model {spec.name!r} has no {network} at epoch {epoch}; available epochs: "
            f"{', '.join(map(str, available))}.{hint}")


def nearest_discriminator_epoch(name: str, epoch: int) -> int:
    """The epoch nearest to `epoch` that has a discriminator (ties go to the later epoch).

    For "tiny-imagenet-full" (D at 35 and 55): 30..44 -> 35, 45..55 -> 55.
    """
    return _nearest(shipped_spec(name).discriminator_epochs, epoch)


# ---------------------------------------------------------------- loading

def _load_float32_state(path: Path) -> dict[str, torch.Tensor]:
    """A state_dict from `path` with floating values as float32 (integer counters untouched);
    a CheckpointError in one line when it is not plain weights (see `read_weights`)."""
    state = read_weights(path, "cpu", "model file")
    if not isinstance(state, dict) or not all(isinstance(v, torch.Tensor) for v in state.values()):
        raise CheckpointError(f"model file {path} holds no state_dict of weights; restore the "
                              f"model folder as shipped")
    return {key: value.float() if value.is_floating_point() else value
            for key, value in state.items()}


def _load_network(network, name: str, filename: str, device, source):
    """`network` with the shipped model's verified weights from `filename`, float32, eval mode,
    on `device`; a CheckpointError naming both widths when they are another width's."""
    path = verified_file(locate_shipped(name, source), filename)
    state = _load_float32_state(path)
    spec = shipped_spec(name)
    try:
        network.load_state_dict(state)
    except RuntimeError:
        first = state.get("net.0.weight")  # G: (100, 8 width, 4, 4); D: (width, 3, 4, 4)
        found = None if first is None or first.ndim != 4 else \
            first.shape[1] // 8 if isinstance(network, Generator) else first.shape[0]
        raise CheckpointError(f"model file {path} does not fit {name}, whose networks have "
                              f"width {spec.width} in the registry"
                              f"{f' (its weights are for width {found})' if found else ''}; "
                              f"pass the folder of {name} as shipped, or a checkpoint of your "
                              f"own with --checkpoint") from None
    return network.to(device).eval()


def load_generator(name: str, epoch: int, device: str | torch.device = "cpu",
                   source: str | os.PathLike | None = None) -> Generator:
    """The reference generator at `epoch`, verified, float32, eval mode, on `device`.

    G maps z float (N, 100) in [-1, 1] to images float (N, 3, 64, 64) in [-1, 1].
    Raises EpochNotAvailableError listing the epochs it has.
    """
    spec = shipped_spec(name)
    _check_epoch(spec, "generator", epoch, spec.generator_epochs)
    return _load_network(Generator(spec.width), name, spec.generator_filename(epoch), device,
                         source)


def load_discriminator(name: str, epoch: int, device: str | torch.device = "cpu",
                       source: str | os.PathLike | None = None) -> Discriminator:
    """The reference discriminator at `epoch`, verified, float32, eval mode, on `device`.

    D maps images float (N, 3, 64, 64) in [-1, 1] to logits float (N,); sigmoid gives P(real).
    Raises EpochNotAvailableError listing the epochs it has (see nearest_discriminator_epoch).
    """
    spec = shipped_spec(name)
    _check_epoch(spec, "discriminator", epoch, spec.discriminator_epochs)
    return _load_network(Discriminator(spec.width), name, spec.discriminator_filename(epoch),
                         device, source)


def fixed_noise(name: str, source: str | os.PathLike | None = None) -> torch.Tensor:
    """The run's fixed sample codes, verified: float32 (64, 100) in [-1, 1], on the CPU."""
    path = verified_file(locate_shipped(name, source), FIXED_NOISE_FILENAME)
    return torch.load(path, map_location="cpu", weights_only=True).float()


def read_shipped_log(name: str, source: str | os.PathLike | None = None) -> pd.DataFrame:
    """The run's per-step training log, verified; the columns of
    `inpaint.training.checkpoints.read_log`
    (step, epoch, phase, d_loss, g_loss, d_real, d_fake, elapsed_s; empty losses are NaN)."""
    path = verified_file(locate_shipped(name, source), LOG_FILENAME)
    with gzip.open(path, "rt", newline="") as handle:
        return pd.read_csv(handle)


def run_info(name: str, source: str | os.PathLike | None = None) -> dict:
    """The run's run.json, verified: config, command, project_commit, hardware, scores, files."""
    path = verified_file(locate_shipped(name, source), RUN_INFO_FILENAME)
    return json.loads(path.read_text())

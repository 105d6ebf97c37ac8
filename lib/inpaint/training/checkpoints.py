"""A training run's saved state, for whoever reads it: inference, benchmarks, notebooks and the
training loop itself when it resumes.

A checkpoint (runs/.../checkpoints/epoch_055.pt) is a dict of plain types only: G's and D's state
dicts, both optimisers' state dicts, the CPU generators' states (uint8 tensors), epoch, step,
elapsed_s, the run's TrainConfig as a dict, and "digest": the sha256 of G's and D's weights
(`weights_digest`), checked on loading (checkpoints written before it was stored load unchecked).
So it is read with `torch.load(weights_only=True)`,
which runs no code from the file. `inpaint.training.train` writes checkpoints and the log; this
module imports nothing of training, so loading a model never loads the training loop.
"""
from __future__ import annotations

import hashlib
import os
import pickle
import re
from pathlib import Path
import pandas as pd
import torch

from inpaint.files import atomic_path
from inpaint.method.models import Discriminator, Generator

class CheckpointError(FileNotFoundError):
    """A checkpoint is missing, unreadable, or from another configuration."""


def weights_digest(state: dict) -> str:
    """sha256 (hex) of G's and D's state dicts in `state`: every tensor's name, dtype, shape and
    bytes, so that a weight changed on disk (a flipped bit, a value such as -4.8e36) is caught."""
    digest = hashlib.sha256()
    for net in ("generator", "discriminator"):
        for name, tensor in sorted(state[net].items()):
            tensor = tensor.detach().cpu().contiguous()
            digest.update(f"{net}.{name}:{tensor.dtype}:{tuple(tensor.shape)}".encode())
            digest.update(tensor.reshape(-1).view(torch.uint8).numpy().tobytes())
    return digest.hexdigest()


def save_checkpoint(path: Path, state: dict) -> None:
    """Write atomically, with the weights' `weights_digest`: a crash mid-write never leaves a
    truncated checkpoint, and damage later is caught on loading."""
    with atomic_path(path) as tmp:
        torch.save({**state, "digest": weights_digest(state)}, tmp)


def load_checkpoint(path: str | os.PathLike, map_location="cpu") -> dict:
    """Read a checkpoint written by `train`, with a one-line error when it is missing, a folder,
    unreadable, refused by `weights_only` (it holds more than plain weights), or something else
    than a checkpoint of this project (a shipped model's file, a bare number)."""
    path = Path(path)
    if path.is_dir():  # a run folder, or its checkpoints/
        found = sorted(path.glob("epoch_*.pt")) or sorted(path.glob("checkpoints/epoch_*.pt"))
        if not found:
            raise CheckpointError(f"checkpoint {path} is a folder with no checkpoint in it "
                                  f"(checkpoints/epoch_*.pt); train first (python -m inpaint "
                                  f"train --out DIR) or pass a checkpoint file")
        files = " ".join(p.name for p in found) if len(found) <= 6 else \
            f"{found[0].name} ... {found[-1].name}"
        raise CheckpointError(f"checkpoint {path} is a folder; pass one of its {len(found)} "
                              f"checkpoint files ({files} in {found[-1].parent}), e.g. the "
                              f"last: {found[-1]}")
    if not path.is_file():
        raise CheckpointError(f"checkpoint {path} does not exist; train first "
                              f"(python -m inpaint train --out DIR) or check the path")
    state = read_weights(path, map_location, "checkpoint")
    if not isinstance(state, dict):
        raise CheckpointError(f"checkpoint {path} holds a {type(state).__name__}, not a checkpoint "
                              f"of this project (written by `train`); check the path")
    missing = {"generator", "discriminator", "config"} - set(state)
    if missing and shipped_file(path):
        raise CheckpointError(f"checkpoint {path} is a file of the shipped model in "
                              f"{path.parent}, not a checkpoint of `train`; pass --model "
                              f"{path.parent} (and --epoch) instead of --checkpoint")
    if missing:
        raise CheckpointError(f"{path} lacks {sorted(missing)}; it is not a checkpoint of this "
                              f"project (written by `train`); check the path")
    if "digest" in state:
        try:
            intact = weights_digest(state) == state["digest"]
        except (AttributeError, TypeError, RuntimeError):  # not tensors where weights should be
            intact = False
        if not intact:
            raise CheckpointError(f"checkpoint {path} is damaged: its weights differ from the "
                                  f"checksum stored when it was saved; use an earlier checkpoint "
                                  f"or retrain")
    return state


def read_weights(path: Path, map_location, what: str):
    """`torch.load(path, weights_only=True)`, any failure in one line: a file holding more than
    plain weights (a pickle that would run code) is refused as such, never loaded."""
    try:
        return torch.load(path, map_location=map_location, weights_only=True)
    except pickle.UnpicklingError as error:
        if "GLOBAL" not in str(error):  # damaged bytes rather than a refused object
            raise CheckpointError(f"{what} {path} cannot be read (not a file torch wrote); it is "
                                  f"corrupt or not a file of this project: retrain, or restore "
                                  f"it") from None
        # weights_only refused a class or function the pickle asks to call
        raise CheckpointError(f"{what} {path} is refused: it holds more than plain weights "
                              f"(objects whose loading could run code); use a file written by "
                              f"this project") from None
    except Exception as error:  # torch raises several types for a damaged file
        reason = (str(error).strip().splitlines() or [type(error).__name__])[0]
        raise CheckpointError(f"{what} {path} cannot be read ({reason}); it is corrupt or not "
                              f"a file of this project: retrain, or restore it") from None


def shipped_file(path: Path) -> bool:
    """Whether `path` looks like a shipped model's weights: generator_epoch_EEE.pt or
    discriminator_epoch_EEE.pt beside a SHA256SUMS."""
    return (re.fullmatch(r"(generator|discriminator)_epoch_\d+\.pt", path.name) is not None
            and (path.parent / "SHA256SUMS").is_file())


def checkpoints(run: str | os.PathLike) -> dict[int, Path]:
    """{epoch: path} of the checkpoints in a run directory, in epoch order."""
    paths = sorted(Path(run, "checkpoints").glob("epoch_*.pt"))
    return {int(p.stem.split("_")[1]): p for p in paths}


def last_checkpoint(run: str | os.PathLike) -> Path | None:
    found = checkpoints(run)
    return found[max(found)] if found else None


def weights_width(state: dict) -> int | None:
    """The width of the DCGAN whose weights `state` holds (G's first layer has 8 * width output
    channels), or None when it has no such layer."""
    first = state["generator"].get("net.0.weight") if isinstance(state["generator"], dict) else None
    return first.shape[1] // 8 if isinstance(first, torch.Tensor) and first.ndim == 4 else None


def load_weights(state: dict, path, generator, discriminator) -> None:
    """Load a checkpoint's G and D weights into the models; CheckpointError when they do not fit."""
    try:
        generator.load_state_dict(state["generator"])
        discriminator.load_state_dict(state["discriminator"])
    except (RuntimeError, KeyError, TypeError, AttributeError) as error:
        reason = str(error).strip().splitlines()[0]
        raise CheckpointError(f"checkpoint {path}: its weights do not fit the DCGAN its config "
                              f"describes ({reason}); it is damaged or was edited: retrain") from None


def load_models(path: str | os.PathLike, device: str | torch.device = "cpu"):
    """(G, D) from a checkpoint, in eval mode and float32, on `device`."""
    state = load_checkpoint(path, map_location=device)
    config = state["config"] if isinstance(state["config"], dict) else {}
    width, found = config.get("width"), weights_width(state)
    if width is None:
        raise CheckpointError(f"checkpoint {path} has no width in its config (its weights are for "
                              f"width {found}); it was not written by `train` or was edited: "
                              f"retrain, or restore its config")
    if width != found:
        raise CheckpointError(f"checkpoint {path} says width {width} but its weights are for "
                              f"width {found}; it was edited or mixed up: retrain, or restore "
                              f"its config")
    generator, discriminator = Generator(width), Discriminator(width)
    load_weights(state, path, generator, discriminator)
    return generator.to(device).eval(), discriminator.to(device).eval()


def read_log(run: str | os.PathLike) -> pd.DataFrame:
    """A run's log.csv as a DataFrame (empty loss cells, e.g. G's on D-only steps, are NaN); its
    columns are `inpaint.training.train.LOG_FIELDS`."""
    path = Path(run) / "log.csv"
    if not path.is_file():
        raise FileNotFoundError(f"{path} does not exist; train first (python -m inpaint train)")
    return pd.read_csv(path)

"""The GANs a study evaluates: this project's training runs, the shipped reference model, and the
checkpoint chosen for the results chapters.

Training runs live under runs/<profile>/<name>:
  main              the profile's DCGAN on its dataset, trained from scratch by `make study`
  celeba            the faces model for the comparison with Yeh et al.
  schedule-joint    two short runs that compare the DCGAN's joint D/G steps
  schedule-blocks   with the original post's blocks of D-only and G-only batches

The chapters report the profile's *evaluated* GAN (`evaluated_gan`): the shipped reference model
when the profile names one (the default `cpu` profile evaluates the GPU-trained
`tiny-imagenet-full`), otherwise its own `main` run. Which of its checkpoints the chapters use is
chosen by eye in the selection chapter and recorded, with the reason, in book/choices.yml; the
selection notebook writes the epoch it settled on to runs/<profile>/chosen_epoch.json, which the
later notebooks read.
"""
from __future__ import annotations

import json
from dataclasses import asdict, dataclass, replace
from pathlib import Path

import pandas as pd
import torch
import yaml

from . import reference
from .config import TrainConfig, get_profile
from .data import PROJECT_ROOT
from .checkpoints import CheckpointError, checkpoints, load_models, read_log

RUNS_DIR = PROJECT_ROOT / "runs"
RUN_NAMES = ("main", "celeba", "schedule-joint", "schedule-blocks")
CHOICES_FILE = PROJECT_ROOT / "book" / "choices.yml"


def run_dir(profile: str, name: str = "main") -> Path:
    """runs/<profile>/<name>, for a name in RUN_NAMES."""
    if name not in RUN_NAMES:
        raise ValueError(f"run name must be one of {RUN_NAMES}, not {name!r}")
    return RUNS_DIR / profile / name


def run_config(profile: str, name: str = "main") -> TrainConfig:
    """The training settings of one of a profile's runs."""
    config = get_profile(profile).train
    study = get_profile(profile).study
    if name == "celeba":
        dataset = "sample" if config.dataset == "sample" else "celeba"
        config = replace(config, dataset=dataset, limit=study.celeba_images,
                         epochs=study.celeba_epochs, width=study.celeba_width,
                         checkpoint_every=study.celeba_epochs)
    elif name.startswith("schedule-"):
        schedule = "joint" if name == "schedule-joint" else study.schedule_blocks
        config = replace(config, schedule=schedule, limit=study.schedule_images,
                         epochs=study.schedule_epochs, checkpoint_every=study.schedule_epochs)
    return config


def ensure_trained(profile: str, name: str = "main", progress: bool = True) -> Path:
    """The directory of a finished training run, training (or resuming) it first if needed.

    A finished run is one whose last checkpoint is the configured last epoch. A run written with
    other settings is never overwritten: that raises CheckpointError.
    """
    run, config = run_dir(profile, name), run_config(profile, name)
    saved = run / "config.json"
    if saved.exists() and json.loads(saved.read_text()) != asdict(config):
        raise CheckpointError(f"{run} was trained with other settings than profile {profile!r} "
                              f"now has; move or delete it to train again, or restore the profile")
    found = checkpoints(run)
    if found and max(found) >= config.epochs:
        return run
    from .train import train  # here, so that loading a model never loads the training loop
    print(f"training {name} for profile {profile} into {run}")
    return train(config, run, resume=(run / "log.csv").exists(), progress=progress)


# ------------------------------------------------------------------------- evaluated GANs

@dataclass(frozen=True)
class GAN:
    """A trained DCGAN that the chapters evaluate: one of this project's training runs (`run`, a
    directory written by `train`) or a shipped reference model (`reference`, a name in
    `inpaint.reference.REFERENCE_MODELS`). Exactly one of the two is set.

    key    names it in book/choices.yml: the reference's name, or "<profile>/main"
    label  names it in tables and figures
    """

    key: str
    label: str
    run: Path | None = None
    reference: str | None = None

    @property
    def generator_epochs(self) -> tuple[int, ...]:
        if self.reference:
            return reference.reference_spec(self.reference).generator_epochs
        return tuple(checkpoints(self.run))

    @property
    def discriminator_epochs(self) -> tuple[int, ...]:
        if self.reference:
            return reference.reference_spec(self.reference).discriminator_epochs
        return self.generator_epochs  # a training checkpoint holds both

    def discriminator_epoch(self, epoch: int) -> int:
        """The epoch of the discriminator used with the generator of `epoch`: the same epoch
        when it was saved, else the nearest one that was (the later on a tie)."""
        if self.reference:
            return reference.nearest_discriminator_epoch(self.reference, epoch)
        return epoch  # a training checkpoint holds both networks

    def config(self) -> dict:
        """The training settings it was made with (TrainConfig's fields)."""
        if self.reference:
            return reference.run_info(self.reference)["config"]
        return json.loads((self.run / "config.json").read_text())

    def generator(self, epoch: int, device: str | torch.device = "cpu"):
        """G of `epoch`, float32, eval mode: z (N, 100) in [-1, 1] -> (N, 3, 64, 64) in [-1, 1]."""
        if self.reference:
            return reference.load_generator(self.reference, epoch, device)
        return load_models(self._checkpoint(epoch), device)[0]

    def load(self, epoch: int, device: str | torch.device = "cpu"):
        """(G of `epoch`, D of `discriminator_epoch(epoch)`), float32, eval mode."""
        if self.reference:
            return (reference.load_generator(self.reference, epoch, device),
                    reference.load_discriminator(self.reference, self.discriminator_epoch(epoch),
                                                 device))
        return load_models(self._checkpoint(epoch), device)

    def fixed_noise(self) -> torch.Tensor:
        """The run's fixed sample codes, float (samples, 100) in [-1, 1]."""
        if self.reference:
            return reference.fixed_noise(self.reference)
        return torch.load(self.run / "fixed_noise.pt", weights_only=True)

    def log(self) -> pd.DataFrame:
        """The per-step training log (step, epoch, phase, d_loss, g_loss, d_real, d_fake, ...)."""
        if self.reference:
            return reference.read_reference_log(self.reference)
        return read_log(self.run)

    def files(self) -> list[Path]:
        """The files its results depend on (for the pipeline's fingerprints)."""
        if self.reference:
            return [reference.locate_reference(self.reference) / reference.SUMS_FILENAME]
        return [self.run / "config.json", *checkpoints(self.run).values()]

    def _checkpoint(self, epoch: int) -> Path:
        found = checkpoints(self.run)
        if epoch not in found:
            raise CheckpointError(f"{self.run} has no checkpoint for epoch {epoch}; it has "
                                  f"{sorted(found)}. Train longer or choose another epoch")
        return found[epoch]


def scratch_gan(profile: str, progress: bool = True) -> GAN:
    """The profile's own `main` run, trained here from scratch (trained first if needed)."""
    config = run_config(profile)
    label = (f"{profile} model (width {config.width}, "
             f"{'all' if config.limit is None else f'{config.limit:,}'} images, trained here)")
    return GAN(key=f"{profile}/main", label=label, run=ensure_trained(profile, progress=progress))


def evaluated_gan(profile: str, progress: bool = True) -> GAN:
    """The GAN every results chapter reports: the profile's reference model if it names one,
    else its own `main` run."""
    name = get_profile(profile).study.reference
    if name is None:
        return scratch_gan(profile, progress)
    spec = reference.reference_spec(name)
    return GAN(key=name, label=f"{name} (width {spec.width}, trained on a GPU)", reference=name)


# ------------------------------------------------------------------------- the chosen checkpoint

def recorded_choice(gan: GAN, choices_file: Path = CHOICES_FILE) -> dict | None:
    """The by-eye choice for `gan` in book/choices.yml ({"epoch", "reason"}), or None."""
    if not choices_file.is_file():
        return None
    entry = (yaml.safe_load(choices_file.read_text()) or {}).get(gan.key)
    if entry is None:
        return None
    if entry.get("epoch") not in gan.generator_epochs or not entry.get("reason"):
        raise ValueError(f"{choices_file}: the entry for {gan.key!r} needs an epoch among "
                         f"{list(gan.generator_epochs)} and a reason in words; fix it")
    return {"epoch": int(entry["epoch"]), "reason": " ".join(str(entry["reason"]).split())}


def chosen_epoch_file(profile: str) -> Path:
    """runs/<profile>/chosen_epoch.json: written by the selection notebook, read by the later ones."""
    return RUNS_DIR / profile / "chosen_epoch.json"


def settle_choice(gan: GAN, profile: str, numeric: list[int]) -> dict:
    """The epoch the chapters use: the by-eye choice recorded for `gan`, or, when none is
    recorded, the latest of the `numeric` aid's epochs (those tied with the best score).
    Writes it, with both views, to `chosen_epoch_file(profile)` and returns that record."""
    by_eye = recorded_choice(gan)
    epoch = by_eye["epoch"] if by_eye else max(numeric)
    record = {"model": gan.key, "epoch": epoch, "discriminator_epoch": gan.discriminator_epoch(epoch),
              "by_eye": by_eye, "numeric": sorted(numeric)}
    path = chosen_epoch_file(profile)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(record, indent=2))
    return record


def chosen_epoch(profile: str) -> int:
    """The epoch written by the selection notebook (run it first: `make study` does)."""
    path = chosen_epoch_file(profile)
    if not path.is_file():
        raise FileNotFoundError(f"{path} does not exist: run the checkpoint-selection notebook "
                                f"(notebooks/02_checkpoint_selection.ipynb, or `make study`) first")
    return json.loads(path.read_text())["epoch"]


def chosen_models(profile: str, device: str | torch.device = "cpu"):
    """(G, D) of the evaluated GAN at the chosen epoch (D: the nearest saved one)."""
    return evaluated_gan(profile).load(chosen_epoch(profile), device)

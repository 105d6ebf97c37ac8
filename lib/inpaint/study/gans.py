"""The GANs a study evaluates: this project's training runs, the shipped reference model, and the
checkpoint chosen for the results chapters.

Training runs live under runs/<profile>/<name> ($INPAINT_RUNS/<profile>/<name> where that
environment variable is set: a test runs the notebooks apart from runs/):
  main              the profile's DCGAN on its dataset, trained from scratch by `make study`
  celeba            the faces model for the comparison with Yeh et al.
  schedule-joint    two short runs that compare the DCGAN's joint D/G steps
  schedule-blocks   with the original post's blocks of D-only and G-only batches
  faces-w<width>-<faces>-yeh-crop[-seed<k>]  the faces chapter's grid and its chosen model's
                    other seeds (`StudyConfig.faces_models`, `make faces`)

The chapters report the profile's *evaluated* GAN (`evaluated_gan`): the shipped reference model
when the profile names one (the default `cpu` profile evaluates the GPU-trained
`tiny-imagenet-full`), otherwise its own `main` run. Which of its checkpoints the chapters use is
chosen by eye in the selection chapter and recorded, with the reason, in book/choices.yml; the
selection notebook writes the epoch it settled on to runs/<profile>/chosen_epoch.json, which the
later notebooks read.
"""
from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass, replace
from pathlib import Path
import pandas as pd
import torch
import yaml

from inpaint.files import PROJECT_ROOT, atomic_path, in_repository, shown
from inpaint.study.profiles import FacesModel, Profile
from inpaint.training import shipped
from inpaint.training.checkpoints import CheckpointError, checkpoints, load_models, read_log
from inpaint.training.config import TrainConfig

RUNS_ENV = "INPAINT_RUNS"
RUNS_DIR = Path(os.environ.get(RUNS_ENV) or PROJECT_ROOT / "runs")
RUN_NAMES = ("main", "celeba", "schedule-joint", "schedule-blocks")
CHOICES_FILE = PROJECT_ROOT / "book" / "choices.yml"  # the study's record (the selection chapter)


def run_dir(settings: Profile, name: str = "main") -> Path:
    """runs/<profile>/<name>, for a name in RUN_NAMES."""
    if name not in RUN_NAMES:
        raise ValueError(f"run name must be one of {RUN_NAMES}, not {name!r}")
    return RUNS_DIR / settings.name / name


def run_config(settings: Profile, name: str = "main") -> TrainConfig:
    """The training settings of one of a profile's runs."""
    config = settings.train
    study = settings.study
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


def faces_config(settings: Profile, model: FacesModel) -> TrainConfig:
    """The training settings of one faces model of the faces chapter: the profile's faces run
    (`run_config(settings, "celeba")`) at the model's width, faces, epochs, crop and seed (the
    `ci` profile's faces are the committed sample, whatever the crop)."""
    config = run_config(settings, "celeba")
    dataset = config.dataset if config.dataset == "sample" else model.dataset
    return replace(config, dataset=dataset, width=model.width, limit=model.faces,
                   epochs=model.epochs, checkpoint_every=settings.study.faces_checkpoint_every,
                   seed=model.seed)


def faces_gan(settings: Profile, model: FacesModel, progress: bool = True) -> "TrainedRun":
    """One faces model of the grid, trained first if needed (runs/<profile>/<model.name>)."""
    run = _ensure(RUNS_DIR / settings.name / model.name, faces_config(settings, model),
                  settings, model.name, progress)
    return TrainedRun(key=f"{settings.name}/{model.name}", label=model.label, run=run)


def study_faces_gan(settings: Profile, progress: bool = True) -> "TrainedRun":
    """The study's own faces model, the `celeba` run `make study` trains (the usual centre crop;
    chapter 05's), trained first if needed."""
    config = run_config(settings, "celeba")
    faces = "all" if config.limit is None else f"{config.limit:,}"
    return TrainedRun(key=f"{settings.name}/celeba",
                      label=f"width {config.width}, {faces} faces, the centre crop",
                      run=ensure_trained(settings, "celeba", progress))


def ensure_trained(settings: Profile, name: str = "main", progress: bool = True) -> Path:
    """The directory of a finished training run, training (or resuming) it first if needed.

    A finished run is one whose last checkpoint is the configured last epoch. A run written with
    other settings is never overwritten: that raises CheckpointError.
    """
    return _ensure(run_dir(settings, name), run_config(settings, name), settings, name, progress)


def trained_on_the_same_images(run: Path, last: Path, config: TrainConfig,
                               settings: Profile) -> None:
    """Refuse a finished run whose last checkpoint records other training images than `config`
    reads now (their number and digest, `inpaint.training.train.data_identity`): the registry's
    split may have changed under the same settings (CelebA's first 70 faces, Yeh et al.'s test
    faces, were once in it). A checkpoint that recorded none passes."""
    from inpaint.training.checkpoints import load_checkpoint
    from inpaint.training.train import data_change, data_identity, training_images
    images = torch.from_numpy(training_images(config, verbose=False))
    changed = data_change(load_checkpoint(last), data_identity(images, config, None))
    if changed:
        raise CheckpointError(f"{shown(run)} was trained on other images than profile "
                              f"{settings.name!r} reads now ({changed[0]}); move or delete it to "
                              f"train again")


def _ensure(run: Path, config: TrainConfig, settings: Profile, name: str, progress: bool) -> Path:
    saved = run / "config.json"
    if saved.exists() and json.loads(saved.read_text()) != asdict(config):
        raise CheckpointError(f"{run} was trained with other settings than profile "
                              f"{settings.name!r} "
                              f"now has; move or delete it to train again, or restore the profile")
    found = checkpoints(run)
    if found and max(found) >= config.epochs:
        trained_on_the_same_images(run, found[max(found)], config, settings)
        return run
    from inpaint.training.train import train
    print(f"training {name} for profile {settings.name} into {shown(run)}")
    return train(config, run, resume=(run / "log.csv").exists(), progress=progress)


# ------------------------------------------------------------------------- evaluated GANs

@dataclass(frozen=True)
class TrainedRun:
    """A DCGAN trained by this project's `train` into `run` (a directory of checkpoints; each
    holds both networks of its epoch). The chapters evaluate it through the same methods as a
    `ShippedGAN`:

    key    names it in book/choices.yml: "<profile>/main"
    label  names it in tables and figures
    """

    key: str
    label: str
    run: Path

    @property
    def generator_epochs(self) -> tuple[int, ...]:
        return tuple(checkpoints(self.run))

    @property
    def discriminator_epochs(self) -> tuple[int, ...]:
        return self.generator_epochs

    def discriminator_epoch(self, epoch: int) -> int:
        """The epoch of the discriminator used with the generator of `epoch`: the same one."""
        return epoch

    def config(self) -> dict:
        """The training settings it was made with (TrainConfig's fields)."""
        return json.loads((self.run / "config.json").read_text())

    def generator(self, epoch: int, device: str | torch.device = "cpu"):
        """G of `epoch`, float32, eval mode: z (N, 100) in [-1, 1] -> (N, 3, 64, 64) in [-1, 1]."""
        return self.load(epoch, device)[0]

    def load(self, epoch: int, device: str | torch.device = "cpu"):
        """(G, D) of `epoch`, float32, eval mode."""
        found = checkpoints(self.run)
        if epoch not in found:
            raise CheckpointError(f"{self.run} has no checkpoint for epoch {epoch}; it has "
                                  f"{sorted(found)}. Train longer or choose another epoch")
        return load_models(found[epoch], device)

    def fixed_noise(self) -> torch.Tensor:
        """The run's fixed sample codes, float (samples, 100) in [-1, 1]."""
        return torch.load(self.run / "fixed_noise.pt", weights_only=True)

    def log(self) -> pd.DataFrame:
        """The per-step training log (step, epoch, phase, d_loss, g_loss, d_real, d_fake, ...)."""
        return read_log(self.run)

    def files(self) -> list[Path]:
        """The files its results depend on (for the pipeline's fingerprints)."""
        return [self.run / "config.json", *checkpoints(self.run).values()]


@dataclass(frozen=True)
class ShippedGAN:
    """A shipped, GPU-trained DCGAN (`name` in `inpaint.training.shipped.SHIPPED_MODELS`), read
    from its checksummed folder. Its generator and discriminator may be saved at different epochs.
    The same methods as `TrainedRun`; its key in book/choices.yml is its name."""

    name: str

    @property
    def key(self) -> str:
        return self.name

    @property
    def label(self) -> str:
        return f"{self.name} (width {shipped.shipped_spec(self.name).width}, trained on a GPU)"

    @property
    def generator_epochs(self) -> tuple[int, ...]:
        return shipped.shipped_spec(self.name).generator_epochs

    @property
    def discriminator_epochs(self) -> tuple[int, ...]:
        return shipped.shipped_spec(self.name).discriminator_epochs

    def discriminator_epoch(self, epoch: int) -> int:
        """The epoch of the discriminator used with the generator of `epoch`: the same epoch
        when it was saved, else the nearest one that was (the later on a tie)."""
        return shipped.nearest_discriminator_epoch(self.name, epoch)

    def config(self) -> dict:
        """The training settings it was made with (TrainConfig's fields)."""
        return shipped.run_info(self.name)["config"]

    def generator(self, epoch: int, device: str | torch.device = "cpu"):
        """G of `epoch`, float32, eval mode: z (N, 100) in [-1, 1] -> (N, 3, 64, 64) in [-1, 1]."""
        return shipped.load_generator(self.name, epoch, device)

    def load(self, epoch: int, device: str | torch.device = "cpu"):
        """(G of `epoch`, D of `discriminator_epoch(epoch)`), float32, eval mode."""
        return (shipped.load_generator(self.name, epoch, device),
                shipped.load_discriminator(self.name, self.discriminator_epoch(epoch), device))

    def fixed_noise(self) -> torch.Tensor:
        """The run's fixed sample codes, float (samples, 100) in [-1, 1]."""
        return shipped.fixed_noise(self.name)

    def log(self) -> pd.DataFrame:
        """The per-step training log (step, epoch, phase, d_loss, g_loss, d_real, d_fake, ...)."""
        return shipped.read_shipped_log(self.name)

    def files(self) -> list[Path]:
        """The files its results depend on (for the pipeline's fingerprints)."""
        return [shipped.locate_shipped(self.name) / shipped.SUMS_FILENAME]


GAN = TrainedRun | ShippedGAN  # what the chapters evaluate


def scratch_gan(settings: Profile, progress: bool = True) -> GAN:
    """The profile's own `main` run, trained here from scratch (trained first if needed)."""
    config = run_config(settings)
    label = (f"{settings.name} model (width {config.width}, "
             f"{'all' if config.limit is None else f'{config.limit:,}'} images, trained here)")
    return TrainedRun(key=f"{settings.name}/main", label=label,
                      run=ensure_trained(settings, progress=progress))


def evaluated_gan(settings: Profile, progress: bool = True) -> GAN:
    """The GAN every results chapter reports: the profile's reference model if it names one,
    else its own `main` run."""
    if settings.study.shipped is None:
        return scratch_gan(settings, progress)
    return ShippedGAN(settings.study.shipped)


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


def choices_files() -> list[Path]:
    """Where the book's choices are looked for by a command outside the study (`complete
    --model`), in the order of the models (`shipped.model_places`): beside the models of
    INPAINT_MODELS, the repository's book/choices.yml, the user's cache (`install_choices`)."""
    files = []
    if os.environ.get(shipped.MODELS_ENV):
        files.append(Path(os.environ[shipped.MODELS_ENV]) / CHOICES_FILE.name)
    if in_repository():
        files.append(CHOICES_FILE)
    return files + [shipped.user_models_dir() / CHOICES_FILE.name]


def install_choices(source: str) -> Path:
    """Copy the book's choices.yml from `source` (a clone of the repository, or the URL its raw
    files are served from) beside the models in the user's cache; return where. Its entries are
    checked as `recorded_choice` reads them before it replaces anything."""
    target = shipped.user_models_dir() / CHOICES_FILE.name
    target.parent.mkdir(parents=True, exist_ok=True)
    relative = CHOICES_FILE.relative_to(PROJECT_ROOT).as_posix()
    with atomic_path(target) as tmp:
        shipped.fetch_file(source, relative, tmp, None)
        for name in shipped.SHIPPED_MODELS:
            recorded_choice(ShippedGAN(name), tmp)
    return target


def chosen_epoch_file(settings: Profile) -> Path:
    """runs/<profile>/chosen_epoch.json: written by the selection notebook, read by the later ones."""
    return RUNS_DIR / settings.name / "chosen_epoch.json"


def settle_choice(gan: GAN, settings: Profile, numeric: list[int]) -> dict:
    """The epoch the chapters use: the by-eye choice recorded for `gan`, or, when none is
    recorded, the latest of the `numeric` aid's epochs (those tied with the best score).
    Writes it, with both views, to `chosen_epoch_file(settings)` and returns that record."""
    by_eye = recorded_choice(gan)
    epoch = by_eye["epoch"] if by_eye else max(numeric)
    record = {"model": gan.key, "epoch": epoch, "discriminator_epoch": gan.discriminator_epoch(epoch),
              "by_eye": by_eye, "numeric": sorted(numeric)}
    path = chosen_epoch_file(settings)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(record, indent=2))
    return record


def chosen_epoch(settings: Profile) -> int:
    """The epoch written by the selection notebook (run it first: `make study` does)."""
    path = chosen_epoch_file(settings)
    if not path.is_file():
        raise FileNotFoundError(f"{path} does not exist: run the checkpoint-selection notebook "
                                f"(notebooks/02_checkpoint_selection.ipynb, or `make study`) first")
    return json.loads(path.read_text())["epoch"]


def chosen_models(settings: Profile, device: str | torch.device = "cpu"):
    """(G, D) of the evaluated GAN at the chosen epoch (D: the nearest saved one)."""
    return evaluated_gan(settings).load(chosen_epoch(settings), device)

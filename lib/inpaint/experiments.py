"""The study's experiments, as functions the notebooks call: trained models for a profile, the
validation images, checkpoint selection, the lambda/norm ablation and the method comparison.

Runs live under runs/<profile>/: `train/` (the main DCGAN on the profile's dataset), `celeba/`
(the faces model for the comparison with Yeh et al.), and `chosen_epoch.json`.
"""
from __future__ import annotations

import itertools
import json
import time
from dataclasses import asdict, replace
from pathlib import Path

import pandas as pd
import torch
from tqdm.auto import tqdm

from .baselines import BASELINES
from .blend import paste, poisson
from .config import TrainConfig, get_profile
from .data import PROJECT_ROOT, load_images, load_sample_split, to_tensor
from .masks import make_mask
from .metrics import evaluate
from .models import sample_z
from .solver import SolverConfig, complete
from .train import CheckpointError, checkpoints, load_models, pick_device, train

RUNS_DIR = PROJECT_ROOT / "runs"
MODELS = ("train", "celeba", "schedule-joint", "schedule-blocks")


def run_dir(profile: str, model: str = "train") -> Path:
    """runs/<profile>/<model>: "train" is the main DCGAN, "celeba" the faces model, and
    "schedule-joint" / "schedule-blocks" the short runs comparing training schedules."""
    if model not in MODELS:
        raise ValueError(f"model must be one of {MODELS}, not {model!r}")
    return RUNS_DIR / profile / model


def model_config(profile: str, model: str = "train") -> TrainConfig:
    """The training settings of a profile's main model, or of its CelebA model."""
    config = get_profile(profile).train
    if model == "celeba":
        study = get_profile(profile).study
        dataset = "sample" if config.dataset == "sample" else "celeba"
        config = replace(config, dataset=dataset, limit=study.celeba_images,
                         epochs=study.celeba_epochs, width=study.celeba_width,
                         checkpoint_every=study.celeba_epochs)
    elif model.startswith("schedule-"):
        study = get_profile(profile).study
        schedule = "joint" if model == "schedule-joint" else study.schedule_blocks
        config = replace(config, schedule=schedule, limit=study.schedule_images,
                         epochs=study.schedule_epochs, checkpoint_every=study.schedule_epochs)
    return config


def ensure_trained(profile: str, model: str = "train", progress: bool = True) -> Path:
    """The run directory of a finished training run, training (or resuming) it first if needed.

    A finished run is one whose last checkpoint is the configured last epoch. A run written with
    other settings is never overwritten: resuming it raises CheckpointError.
    """
    run, config = run_dir(profile, model), model_config(profile, model)
    saved = run / "config.json"
    if saved.exists() and json.loads(saved.read_text()) != asdict(config):
        raise CheckpointError(f"{run} was trained with other settings than profile {profile!r} "
                              f"now has; move or delete it to train again, or restore the profile")
    found = checkpoints(run)
    if found and max(found) >= config.epochs:
        return run
    print(f"training {model} for profile {profile} into {run}")
    return train(config, run, resume=(run / "log.csv").exists(), progress=progress)


def validation_images(profile: str, dataset: str | None = None, n: int | None = None,
                      seed: int = 0) -> torch.Tensor:
    """Held-out photographs, float (n, 3, 64, 64) in [-1, 1]: a seeded random choice of n colour
    images from the whole validation split (decoded once, then cached), the same every time.

    dataset: the profile's validation set by default; "celeba" or "coco" for the others
    (the `ci` profile always uses the committed sample). n: the profile's val_images by default;
    all images if n is larger than the split.
    """
    study = get_profile(profile).study
    dataset = dataset or study.val_dataset
    n = n or study.val_images
    if study.val_dataset == "sample":
        images = load_sample_split("val")
    else:
        images = load_images(dataset, "val", verbose=False)
    order = torch.randperm(len(images), generator=torch.Generator().manual_seed(seed))[:n]
    return to_tensor(images[order.sort().values.numpy()])


def epoch_samples(profile: str, epochs: tuple[int, ...], count: int = 8) -> list[torch.Tensor]:
    """G(fixed noise) for each epoch's checkpoint: the same `count` codes in every row, as in
    the post. Returns one float (count, 3, 64, 64) tensor in [-1, 1] per epoch."""
    run = ensure_trained(profile)
    found = checkpoints(run)
    noise = torch.load(run / "fixed_noise.pt")[:count]
    rows = []
    for epoch in epochs:
        if epoch not in found:
            raise FileNotFoundError(f"{run} has no checkpoint for epoch {epoch}; it has "
                                    f"{sorted(found)}")
        generator, _ = load_models(found[epoch], pick_device())
        with torch.no_grad():
            rows.append(generator(noise.to(pick_device())).cpu())
    return rows


# ------------------------------------------------------------------------- inpainting + metrics

def inpaint(generator, discriminator, images: torch.Tensor, mask: torch.Tensor,
            config: SolverConfig, progress: bool = True):
    """Run the solver on `images` (float (N, 3, 64, 64) in [-1, 1]) with `mask`, blend both ways,
    and score. Returns (completion, {"paste": ..., "poisson": ...}, metrics) where metrics has
    one row per image and blend, with the seconds per image."""
    started = time.perf_counter()
    result = complete(generator, discriminator, images, mask, config, progress=progress)
    seconds = (time.perf_counter() - started) / len(images)
    generated = result.generated.cpu()
    outputs = {"paste": paste(images, generated, mask), "poisson": poisson(images, generated, mask)}
    tables = [evaluate(out, images, mask).assign(blend=name, loss=result.loss.cpu().numpy(),
                                                 seconds_per_image=seconds).reset_index()
              for name, out in outputs.items()]
    return result, outputs, pd.concat(tables, ignore_index=True)


def solver_config(profile: str, **overrides) -> SolverConfig:
    """The profile's solver settings (iterations, restarts, lambda) with `overrides` applied."""
    study = get_profile(profile).study
    base = SolverConfig(lam=study.lam, iters=study.solver_iters, restarts=study.restarts)
    return replace(base, **overrides)


# ------------------------------------------------------------------------- checkpoint selection

def checkpoint_scores(profile: str, epochs: tuple[int, ...] | None = None,
                      progress: bool = True) -> pd.DataFrame:
    """Numbers to aid the eye when choosing a checkpoint, one row per epoch:
    hole PSNR/SSIM of centre-mask completions (paste) on a fixed validation subset, and the
    discriminator's mean probability 'real' for real validation images and for G's samples."""
    study = get_profile(profile).study
    epochs = epochs or study.selection_epochs
    run = ensure_trained(profile)
    found = checkpoints(run)
    missing = [e for e in epochs if e not in found]
    if missing:
        raise FileNotFoundError(f"{run} has no checkpoint for epoch(s) {missing}; it has "
                                f"{sorted(found)}. Train longer or choose other epochs")
    images = validation_images(profile, n=study.selection_images)
    mask = make_mask("center", len(images))
    config = solver_config(profile, iters=study.selection_iters, restarts=1)
    rows = []
    for epoch in tqdm(epochs, desc="score checkpoints", disable=not progress):
        generator, discriminator = load_models(found[epoch], pick_device())
        _, _, metrics = inpaint(generator, discriminator, images, mask, config, progress=False)
        pasted = metrics[metrics.blend == "paste"]
        with torch.no_grad():
            d_real = torch.sigmoid(discriminator(images.to(pick_device()))).mean().item()
            samples = generator(sample_z(len(images), generator=torch.Generator().manual_seed(1),
                                         device=pick_device()))
            d_fake = torch.sigmoid(discriminator(samples)).mean().item()
        rows.append({"epoch": epoch, "psnr_hole": pasted.psnr_hole.mean(),
                     "ssim_hole": pasted.ssim_hole.mean(), "d_real": d_real, "d_fake": d_fake})
    return pd.DataFrame(rows).set_index("epoch")


def chosen_epoch_file(profile: str) -> Path:
    """runs/<profile>/chosen_epoch.json: written by the selection notebook, read by the later ones."""
    return RUNS_DIR / profile / "chosen_epoch.json"


def choose_epoch(scores: pd.DataFrame, profile: str) -> int:
    """The epoch with the best mean hole PSNR, written to `chosen_epoch_file(profile)`."""
    epoch = int(scores.psnr_hole.idxmax())
    path = chosen_epoch_file(profile)
    path.write_text(json.dumps({"epoch": epoch, "criterion": "max mean centre-mask hole PSNR",
                                "scores": scores.reset_index().to_dict("records")}, indent=2))
    return epoch


def chosen_checkpoint(profile: str) -> Path:
    """The checkpoint chosen by the selection notebook (runs/<profile>/chosen_epoch.json);
    computed here, the same way, when that file is missing."""
    path = chosen_epoch_file(profile)
    if path.is_file():
        epoch = json.loads(path.read_text())["epoch"]
    else:
        epoch = choose_epoch(checkpoint_scores(profile), profile)
    return checkpoints(run_dir(profile))[epoch]


# ------------------------------------------------------------------------- ablation and comparison

def ablation(generator, discriminator, images: torch.Tensor, base: SolverConfig,
             lams, norms=("l1", "l2"), weightings=("plain", "yeh"), mask_kind: str = "center",
             progress: bool = True):
    """Every (lambda, norm, weighting) on the same images and mask.

    Returns (metrics, examples): metrics has one row per image, setting and blend; examples maps
    (lam, norm, weighting) to the Poisson-blended completions, float (N, 3, 64, 64) in [-1, 1].
    """
    mask = make_mask(mask_kind, len(images))
    settings = list(itertools.product(lams, norms, weightings))
    tables, examples = [], {}
    for lam, norm, weighting in tqdm(settings, desc="ablation", disable=not progress):
        config = replace(base, lam=lam, norm=norm, weighting=weighting)
        _, outputs, metrics = inpaint(generator, discriminator, images, mask, config, progress=False)
        tables.append(metrics.assign(lam=lam, norm=norm, weighting=weighting))
        examples[(lam, norm, weighting)] = outputs["poisson"]
    return pd.concat(tables, ignore_index=True), examples


def compare_methods(generator, discriminator, images: torch.Tensor, config: SolverConfig,
                    mask_kinds=("center", "pattern", "random", "half"), progress: bool = True):
    """The GAN solver (paste and Poisson) against every classical baseline, per mask kind.

    Returns (metrics, examples): metrics has one row per image, mask and method; examples maps
    mask kind to {"corrupted", "true", method: completions}, each float (N, 3, 64, 64).
    """
    tables, examples = [], {}
    for kind in mask_kinds:
        mask = make_mask(kind, len(images), seed=config.seed)
        _, outputs, metrics = inpaint(generator, discriminator, images, mask, config,
                                      progress=progress)
        results = {f"GAN ({blend})": out for blend, out in outputs.items()}
        for name, method in BASELINES.items():
            results[name] = method(images, mask)
        for name, out in results.items():
            tables.append(evaluate(out, images, mask).reset_index().assign(mask=kind, method=name))
        examples[kind] = {"corrupted": images * mask, "true": images, **results}
    return pd.concat(tables, ignore_index=True), examples


def summary(metrics: pd.DataFrame, by: list[str], columns=("psnr_hole", "ssim_hole", "l1_hole")):
    """Mean and standard error of the metric columns, grouped by `by`."""
    grouped = metrics.groupby(by)[list(columns)]
    table = grouped.mean().round(3)
    errors = grouped.sem().round(3).add_suffix("_sem")
    return table.join(errors)


"""The study's experiments, as functions the notebooks call: the profile's settings, the
validation images, checkpoint selection, the lambda/norm ablation and the method comparison.
Which GANs they evaluate, and which checkpoint, is `inpaint.runs`' business.
"""
from __future__ import annotations

import itertools
import time
from dataclasses import dataclass, replace

import pandas as pd
import torch
from tqdm.auto import tqdm

from .baselines import BASELINES
from .blend import paste, poisson
from .config import Profile, get_profile
from .data import load_images, load_sample_split, to_tensor
from .masks import make_mask
from .metrics import evaluate
from .runs import GAN
from .solver import Completion, SolverConfig, complete
from .train import pick_device


def setup(profile: str) -> Profile:
    """A notebook's first call: the profile's settings, with its thread count applied
    (`ci` fixes one thread, so that the numbers the tests compare do not depend on the machine)."""
    settings = get_profile(profile)
    if settings.threads is not None:
        torch.set_num_threads(settings.threads)
    return settings


def validation_images(profile: str, dataset: str | None = None, n: int | None = None,
                      seed: int = 0) -> torch.Tensor:
    """Held-out photographs, float (n, 3, 64, 64) in [-1, 1]: a seeded random choice of n colour
    images from the whole validation split (decoded once, then cached), the same every time and
    in the same order, so that the first k of n images are the same for every n >= k.

    dataset: the profile's validation set by default; "celeba" or "coco" for the others
    (the `ci` profile always uses the committed sample). n: the profile's val_images by default;
    all images if n is larger than the split.
    """
    study = get_profile(profile).study
    dataset = study.val_dataset if dataset is None else dataset
    n = study.val_images if n is None else n
    if study.val_dataset == "sample":
        images = load_sample_split("val")
    else:
        images = load_images(dataset, "val", verbose=False)
    order = torch.randperm(len(images), generator=torch.Generator().manual_seed(seed))[:n]
    return to_tensor(images[order.numpy()])


def epoch_samples(gan: GAN, epochs, count: int = 8) -> list[torch.Tensor]:
    """G(fixed noise) at each epoch: the same `count` codes in every row, as in the post.
    Returns one float (count, 3, 64, 64) tensor in [-1, 1] per epoch."""
    noise = gan.fixed_noise()[:count].to(pick_device())
    rows = []
    for epoch in epochs:
        with torch.no_grad():
            rows.append(gan.generator(epoch, pick_device())(noise).cpu())
    return rows


# ------------------------------------------------------------------------- inpainting + metrics

@dataclass
class Inpainting:
    """The solver's completion of N images, both blends, and their scores.

    completion  the solver's result (G(z*), z*, losses, histories)
    outputs     {"paste": ..., "poisson": ...}, each float (N, 3, 64, 64) in [-1, 1]
    metrics     one row per image and blend: hole and whole-image metrics, loss, seconds per image
    """

    completion: Completion
    outputs: dict[str, torch.Tensor]
    metrics: pd.DataFrame


def inpaint(generator, discriminator, images: torch.Tensor, mask: torch.Tensor,
            config: SolverConfig, progress: bool = True) -> Inpainting:
    """Run the solver on `images` (float (N, 3, 64, 64) in [-1, 1]) with `mask` (N, 1, 64, 64),
    blend both ways, and score."""
    started = time.perf_counter()
    result = complete(generator, discriminator, images, mask, config, progress=progress)
    seconds = (time.perf_counter() - started) / len(images)
    generated = result.generated.cpu()
    outputs = {"paste": paste(images, generated, mask), "poisson": poisson(images, generated, mask)}
    tables = [evaluate(out, images, mask).assign(blend=name, loss=result.loss.cpu().numpy(),
                                                 seconds_per_image=seconds).reset_index()
              for name, out in outputs.items()]
    return Inpainting(result, outputs, pd.concat(tables, ignore_index=True))


def solver_config(profile: str, **overrides) -> SolverConfig:
    """The profile's solver settings (iterations, restarts, lambda, and the precision its
    training uses: `ci` is float32 everywhere) with `overrides` applied; an override of None
    keeps the profile's value."""
    settings = get_profile(profile)
    study = settings.study
    base = SolverConfig(lam=study.lam, iters=study.solver_iters, restarts=study.restarts,
                        precision=settings.train.precision)
    return replace(base, **{k: v for k, v in overrides.items() if v is not None})


# ------------------------------------------------------------------------- checkpoint selection

def checkpoint_scores(gan: GAN, epochs, images: torch.Tensor, config: SolverConfig,
                      progress: bool = True):
    """Numbers to aid the eye when choosing a checkpoint, and the completions they score.

    For each epoch, the centre-mask completions of `images` (float (N, 3, 64, 64) in [-1, 1])
    with G of that epoch and D of the nearest saved epoch, pasted into the known pixels.
    Returns (scores, completions): scores has one row per epoch with the mean hole PSNR and SSIM
    and their standard errors (`_sem`) and the discriminator's epoch; completions maps each
    epoch to its pasted completions, float (N, 3, 64, 64) in [-1, 1].
    """
    mask = make_mask("center", len(images))
    rows, completions = [], {}
    for epoch in tqdm(epochs, desc="score checkpoints", disable=not progress):
        generator, discriminator = gan.load(epoch, pick_device())
        result = inpaint(generator, discriminator, images, mask, config, progress=False)
        pasted = result.metrics[result.metrics.blend == "paste"]
        completions[epoch] = result.outputs["paste"]
        rows.append({"epoch": epoch, "discriminator epoch": gan.discriminator_epoch(epoch),
                     "psnr_hole": pasted.psnr_hole.mean(), "psnr_hole_sem": pasted.psnr_hole.sem(),
                     "ssim_hole": pasted.ssim_hole.mean(), "ssim_hole_sem": pasted.ssim_hole.sem()})
    return pd.DataFrame(rows).set_index("epoch"), completions


def tied_with_best(table: pd.DataFrame, column: str) -> pd.DataFrame:
    """The rows whose mean `column` is within one standard error (`column + "_sem"`) of the
    best row's: the ones the data cannot tell apart from the best. A single best would be an
    argmax over noise; this set is what the numbers support."""
    best = table[column].idxmax()
    threshold = table.loc[best, column] - table.loc[best, column + "_sem"]
    return table[table[column] >= threshold]


# ------------------------------------------------------------------------- ablation and comparison

def lam_label(lam: float) -> str:
    """How tables name a lambda: "0", "1e-4", "3e-3", "0.1" -> "1e-1", "1", "100"."""
    if lam == 0 or lam >= 1:
        return f"{lam:g}"
    return f"{lam:.0e}".replace("e-0", "e-")


def ablation(generator, discriminator, images: torch.Tensor, base: SolverConfig,
             lams, norms=("l1", "l2"), weightings=("plain", "yeh"), mask_kind: str = "center",
             progress: bool = True):
    """Every (lambda, norm, weighting) on the same images and mask.

    Returns (metrics, examples): metrics has one row per image, setting and blend (`lam` the
    number, `λ` its label in order); examples maps (lam, norm, weighting) to the Poisson-blended
    completions, float (N, 3, 64, 64) in [-1, 1].
    """
    mask = make_mask(mask_kind, len(images))
    settings = list(itertools.product(lams, norms, weightings))
    tables, examples = [], {}
    for lam, norm, weighting in tqdm(settings, desc="ablation", disable=not progress):
        config = replace(base, lam=lam, norm=norm, weighting=weighting)
        result = inpaint(generator, discriminator, images, mask, config, progress=False)
        tables.append(result.metrics.assign(lam=lam, norm=norm, weighting=weighting))
        examples[(lam, norm, weighting)] = result.outputs["poisson"]
    metrics = pd.concat(tables, ignore_index=True)
    metrics["λ"] = pd.Categorical(metrics.lam.map(lam_label), ordered=True,
                                  categories=[lam_label(lam) for lam in lams])
    return metrics, examples


def compare_methods(generator, discriminator, images: torch.Tensor, config: SolverConfig,
                    mask_kinds=("center", "pattern", "random", "half"), label: str = "GAN",
                    baselines: bool = True, progress: bool = True):
    """The GAN solver (paste and Poisson, named "<label> (paste)" and "<label> (poisson)")
    against every classical baseline (unless `baselines` is False), per mask kind.

    Returns (metrics, examples): metrics has one row per image, mask and method; examples maps
    mask kind to {"corrupted", "true", method: completions}, each float (N, 3, 64, 64).
    """
    tables, examples = [], {}
    for kind in mask_kinds:
        mask = make_mask(kind, len(images), seed=config.seed)
        result = inpaint(generator, discriminator, images, mask, config, progress=progress)
        results = {f"{label} ({blend})": out for blend, out in result.outputs.items()}
        for name, method in (BASELINES.items() if baselines else ()):
            results[name] = method(images, mask)
        for name, out in results.items():
            tables.append(evaluate(out, images, mask).reset_index().assign(mask=kind, method=name))
        examples[kind] = {"corrupted": images * mask, "true": images, **results}
    return pd.concat(tables, ignore_index=True), examples


def summary(metrics: pd.DataFrame, by: list[str], columns=("psnr_hole", "ssim_hole", "l1_hole")):
    """Mean and standard error of the metric columns, grouped by `by`."""
    grouped = metrics.groupby(by, observed=True)[list(columns)]
    table = grouped.mean().round(3)
    errors = grouped.sem().round(3).add_suffix("_sem")
    return table.join(errors)


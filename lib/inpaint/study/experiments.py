"""The study's experiments, as functions the notebooks call: the profile's settings, the
validation images, checkpoint selection, the lambda/norm ablation and the method comparison.
Which GANs they evaluate, and which checkpoint, is `inpaint.study.gans`' business.
"""
from __future__ import annotations

from dataclasses import replace
import numpy as np
import pandas as pd
import torch
from tqdm.auto import tqdm

from inpaint.data.cache import load_images, load_sample_split
from inpaint.method.baselines import BASELINES
from inpaint.method.device import pick_device
from inpaint.method.masks import make_mask
from inpaint.method.metrics import evaluate
from inpaint.method.pixels import to_tensor
from inpaint.method.realism import two_sample_test
from inpaint.method.solver import SolverConfig
from inpaint.study import gans, stats
from inpaint.study.fills import per_image, solve_and_score
from inpaint.study.gans import GAN
from inpaint.study.store import NO_STORE, Store
from inpaint.study.profiles import Profile
from inpaint.training.train import training_images

def start(settings: Profile) -> None:
    """A notebook's call after its heavy imports, once `profiles.setup` has checked its
    parameters: applies the profile's thread count (`ci` fixes one, so that the numbers the tests
    compare do not depend on the machine)."""
    if settings.threads is not None:
        torch.set_num_threads(settings.threads)


# The two parts of a validation split (`validation_images`): the images that tune the study
# (the checkpoint of chapter 02, the ablation of chapter 03) and the images it is tested on (the
# comparison, the solver, the beyond-Yeh and faces chapters). Test images are the seeded order's
# first n, tuning images its last n (last first), so the two are disjoint whenever they fit.
PARTS = ("test", "tuning")
TUNING_CHAPTERS = {"02_checkpoint_selection": 1, "03_lambda_norm_ablation": 2}  # images per n


def _order(settings: Profile, dataset: str | None, seed: int) -> tuple[np.ndarray, np.ndarray]:
    study = settings.study
    dataset = study.val_dataset if dataset is None else dataset
    if study.val_dataset == "sample":
        images = load_sample_split("val")
    else:
        images = load_images(dataset, "val", verbose=False)
    order = torch.randperm(len(images), generator=torch.Generator().manual_seed(seed)).numpy()
    return images, order


def validation_images(settings: Profile, n: int, dataset: str | None = None,
                      seed: int = 0, part: str = "test") -> torch.Tensor:
    """Held-out photographs, float (n, 3, 64, 64) in [-1, 1]: a seeded random choice of n colour
    images from the whole validation split (decoded once, then cached), the same every time and
    in the same order, so that the first k of n images are the same for every n >= k.

    dataset: the profile's validation set by default; "celeba" or "coco" for the others
    (the `ci` profile always uses the committed sample). n: how many; all images if n is larger
    than the split. part: "test" (the seeded order from its start) or "tuning" (from its end),
    so that the images that choose the checkpoint and run the ablation are not the images the
    comparison is tested on (`tuning_overlap` counts any that are, where a split is too small).
    """
    if part not in PARTS:
        raise ValueError(f"part must be one of {', '.join(PARTS)}, got {part!r}")
    images, order = _order(settings, dataset, seed)
    chosen = order[:n] if part == "test" else order[::-1][:n]
    return to_tensor(images[chosen])


def tuning_images(settings: Profile) -> int:
    """How many validation images the tuning chapters (`TUNING_CHAPTERS`) draw at most."""
    return max(settings.chapters[name].images * per for name, per in TUNING_CHAPTERS.items())


def tuning_overlap(settings: Profile, n: int, split_size: int) -> int:
    """How many of the first n test images of a split of `split_size` images are also tuning
    images of this profile: 0 when both fit in the split."""
    return max(0, min(n, split_size) + min(tuning_images(settings), split_size) - split_size)


def validation_size(settings: Profile, dataset: str | None = None) -> int:
    """The images of the validation split `validation_images` draws from."""
    return len(_order(settings, dataset, 0)[1])


def epoch_samples(gan: GAN, epochs, count: int = 8) -> list[torch.Tensor]:
    """G(fixed noise) at each epoch: the same `count` codes in every row, as in the post.
    Returns one float (count, 3, 64, 64) tensor in [-1, 1] per epoch."""
    noise = gan.fixed_noise()[:count].to(pick_device())
    rows = []
    for epoch in epochs:
        with torch.no_grad():
            rows.append(gan.generator(epoch, pick_device())(noise).cpu())
    return rows


def solver_config(settings: Profile, **overrides) -> SolverConfig:
    """The settings' solver (iterations, restarts, lambda, and the precision its training uses:
    `ci` is float32 everywhere) with `overrides` applied; an override of None keeps the
    settings' value."""
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
    Returns (scores, completions, per_image): scores has one row per epoch with the mean hole
    PSNR and SSIM and their standard errors (`_sem`) and the discriminator's epoch; completions
    maps each epoch to its pasted completions, float (N, 3, 64, 64) in [-1, 1]; per_image has one
    row per epoch and image (the same images and starting codes for every epoch: paired).
    """
    mask = make_mask("center", len(images))
    rows, completions, parts = [], {}, []
    for epoch in tqdm(epochs, desc="score checkpoints", disable=not progress):
        generator, discriminator = gan.load(epoch, pick_device())
        result = solve_and_score(generator, discriminator, images, mask, config, progress=False)
        pasted = result.metrics[result.metrics.blend == "paste"]
        completions[epoch] = result.outputs["paste"]
        parts.append(pasted.assign(epoch=epoch))
        rows.append({"epoch": epoch, "discriminator epoch": gan.discriminator_epoch(epoch),
                     "psnr_hole": pasted.psnr_hole.mean(), "psnr_hole_sem": pasted.psnr_hole.sem(),
                     "ssim_hole": pasted.ssim_hole.mean(), "ssim_hole_sem": pasted.ssim_hole.sem()})
    return (pd.DataFrame(rows).set_index("epoch"), completions,
            pd.concat(parts, ignore_index=True))


def against_best(metrics: pd.DataFrame, by: str, column: str = "psnr_hole") -> pd.DataFrame:
    """Each value of `by` against the one with the best mean `column`, image by image, as one
    family of paired tests (Holm). metrics: one row per image and value of `by`, the same images
    for each. One row per value: difference to the best, its 95% interval, the corrected p and
    `tied` (no difference from the best is stated; the best is tied with itself). Chapter 02
    and the findings use this one rule for "tied"."""
    wide = per_image(metrics, by, column)
    best = wide.mean().idxmax()
    tests = stats.family({value: stats.paired(wide[value], wide[best])
                          for value in wide.columns if value != best})
    rows = [{by: best, "difference": 0.0, "low": 0.0, "high": 0.0, "p_holm": 1.0,
             "tied": True, "best": True}]
    rows += [{by: value, "difference": c.difference, "low": c.low, "high": c.high,
              "p_holm": c.p_holm, "tied": not c.differs, "best": False}
             for value, c in tests.items()]
    return pd.DataFrame(rows).set_index(by).sort_index()


# ------------------------------------------------------------------------- ablation and comparison

def lam_label(lam: float) -> str:
    """How tables name a lambda: "0", "1e-4", "3e-3", "0.1" -> "1e-1", "1", "100"."""
    if lam == 0 or lam >= 1:
        return f"{lam:g}"
    return f"{lam:.0e}".replace("e-0", "e-")


def ablation_settings(lams, lam: float = 0.003) -> list[tuple[float, str, str]]:
    """The (lambda, norm, weighting) settings the ablation runs: every lambda of `lams` with the
    paper's l1 and Yeh's weights, then, at `lam` (the paper's 0.003), the other norm and
    weighting and the post's own (l2, plain). Fewer settings than the full cross, so that each
    verdict gets the images it needs."""
    grid = [(value, "l1", "yeh") for value in lams]
    return grid + [(lam, norm, weighting) for norm, weighting in
                   (("l2", "yeh"), ("l1", "plain"), ("l2", "plain"))]


def ablation(generator, discriminator, images: torch.Tensor, base: SolverConfig, settings,
             mask_kind: str = "center", progress: bool = True, store: Store = NO_STORE):
    """Every (lambda, norm, weighting) of `settings` (see `ablation_settings`) on the same images,
    mask and starting codes.

    Returns (metrics, examples): metrics has one row per image, setting and blend (`lam` the
    number, `λ` its label in order); examples maps (lam, norm, weighting) to the Poisson-blended
    completions, float (N, 3, 64, 64) in [-1, 1]. Each setting's search comes from `store` when
    it holds it (`result_store`), so that a rerun with one more λ searches only for that one.
    """
    mask = make_mask(mask_kind, len(images))
    tables, examples = [], {}
    for lam, norm, weighting in tqdm(settings, desc="ablation", disable=not progress):
        config = replace(base, lam=lam, norm=norm, weighting=weighting)
        metrics, outputs = store.get("ablation", lambda: scored_outputs(
            generator, discriminator, images, mask, config), generator, discriminator, images,
            mask, config, code=__file__)
        tables.append(metrics.assign(lam=lam, norm=norm, weighting=weighting))
        examples[(lam, norm, weighting)] = outputs["poisson"]
    metrics = pd.concat(tables, ignore_index=True)
    lams = sorted({lam for lam, _, _ in settings})
    metrics["λ"] = pd.Categorical(metrics.lam.map(lam_label), ordered=True,
                                  categories=[lam_label(lam) for lam in lams])
    return metrics, examples


def scored_outputs(generator, discriminator, images, mask, config):
    """What the ablation keeps of one search: its metrics and both blends' completions."""
    result = solve_and_score(generator, discriminator, images, mask, config, progress=False)
    return result.metrics, result.outputs


def result_store(settings: Profile) -> Store:
    """runs/<profile>/cache: the results the chapters keep by their inputs (`inpaint.study.store`)."""
    return Store(gans.RUNS_DIR / settings.name / "cache")


def fills_realism(fills: dict, images: torch.Tensor, mask: torch.Tensor, real: torch.Tensor,
                  seeds: int, steps: int, progress: bool = True, store: Store = NO_STORE):
    """The critic's verdict on each of several fills of the SAME `images` (float (N, 3, 64, 64)
    in [-1, 1], masks `mask`), against the same `real` photographs (others, never the sources),
    with the same critic seeds and splits, so that the fills pair image by image.

    Returns (summary, caught): summary has one row per fill (the dict's keys): critic accuracy,
    AUC and their 95% intervals over the seeds, and the held-out images each seed tests on;
    caught has one row per fill and image: the fraction of held-out real images the critic found
    more real than that filled image (NaN where no seed held it out), for `stats.paired`.
    """
    kind_mask = mask if len(mask) == len(real) else mask[:1].expand(len(real), -1, -1, -1)
    rows, caught = [], []
    for name, filled in tqdm(fills.items(), desc="critics", disable=not progress):
        result = store.get("critic", lambda: two_sample_test(
            real, kind_mask, filled, mask, seeds=seeds, steps=steps),
            real, kind_mask, filled, mask, seeds, steps, code=__file__)
        rows.append({"fill": name, "critic": result.mean, "critic_low": result.low,
                     "critic_high": result.high, "auc": result.auc, "auc_low": result.auc_low,
                     "auc_high": result.auc_high, "held_out": result.held_out,
                     "seeds": len(result.per_seed)})
        caught.append(pd.DataFrame({"fill": name, "image": range(len(filled)),
                                    "caught": result.caught}))
    return (pd.DataFrame(rows).set_index("fill"),
            pd.concat(caught, ignore_index=True))


# ------------------------------------------------------------------------- the faces chapter

def faces_grid(settings: Profile, faces: torch.Tensor, config: SolverConfig,
               progress: bool = True) -> pd.DataFrame:
    """Every faces model of the grid (`StudyConfig.faces_models`, trained first if needed) at each
    of its checkpoints in `faces_score_epochs` (and its last), completing `faces` (float
    (N, 3, 64, 64) in [-1, 1]) with the centre mask: Yeh's search, Poisson-blended.

    One row per face, model and epoch: image, model (its label), width, faces (training faces),
    epoch, minutes (training time to the end of that epoch, from the run's log), point (the
    model and epoch in words), the metrics of `inpaint.method.metrics.evaluate`, the search's
    loss and its seconds per face."""
    study = settings.study
    mask = make_mask("center", len(faces))
    all_faces = len_train_faces(settings)  # the training count of a model with faces=None
    todo = [(model, gans.faces_gan(settings, model, progress=progress))
            for model in study.faces_models]
    points = [(model, gan, epoch) for model, gan in todo for epoch in gan.generator_epochs
              if epoch in study.faces_score_epochs or epoch == max(gan.generator_epochs)]
    logs = {model: gan.log() for model, gan in todo}
    rows = []
    for model, gan, epoch in tqdm(points, desc="faces models", disable=not progress):
        generator, discriminator = gan.load(epoch)
        result = solve_and_score(generator, discriminator, faces, mask, config, progress=False)
        log = logs[model]
        minutes = log.loc[log.epoch <= epoch, "elapsed_s"].max() / 60
        scored = result.metrics[result.metrics.blend == "poisson"].drop(columns="blend")
        count = model.faces or all_faces
        rows.append(scored.assign(model=model.label, width=model.width, faces=count,
                                  epoch=epoch, minutes=minutes,
                                  point=f"width {model.width}, {count:,} faces, epoch {epoch}"))
    return pd.concat(rows, ignore_index=True)


def len_train_faces(settings: Profile) -> int:
    """How many faces the profile's faces training split holds (9,000 for CelebA)."""
    return len(training_images(replace(gans.run_config(settings, "celeba"), limit=None)))


def grid_table(grid: pd.DataFrame) -> pd.DataFrame:
    """The faces grid summarised, one row per model and epoch: width, training faces, epoch,
    training minutes, mean hole PSNR (GAN + Poisson) with its 95% interval, and the paired
    difference to the best point on the same faces (Holm over the others; `tied`: no
    difference from the best is stated)."""
    against = against_best(grid, "point")
    rows = []
    for point, part in grid.groupby("point", sort=False):
        low, high = stats.mean_interval(part.psnr_hole)
        first = part.iloc[0]
        rows.append({"point": point, "width": first.width, "faces": first.faces,
                     "epoch": first.epoch, "minutes": first.minutes,
                     "hole PSNR": part.psnr_hole.mean(), "low": low, "high": high,
                     "minus best": against.loc[point, "difference"],
                     "minus best low": against.loc[point, "low"],
                     "minus best high": against.loc[point, "high"],
                     "p_holm": against.loc[point, "p_holm"], "tied": against.loc[point, "tied"],
                     "best": against.loc[point, "best"]})
    return pd.DataFrame(rows).set_index("point")


def smoothing_effect(images: torch.Tensor, sizes=(54, 32), method: str = "telea") -> pd.DataFrame:
    """How much smoothing alone moves a classical fill's score: `method`'s hole PSNR (centre
    mask) on `images` (float (N, 3, 64, 64) in [-1, 1]) as they are, and after resampling them
    down to each of `sizes` pixels and back up to 64 (bicubic, antialiased, as the faces' own
    resize), each scored against its own resampled truth. One row per image and size (64: as
    they are): image, size, psnr_hole, ...; compare sizes image by image with `stats.paired`."""
    mask = make_mask("center", len(images))
    rows = []
    for size in (64, *sizes):
        if size == 64:
            smooth = images
        else:
            down = torch.nn.functional.interpolate(images, size=(size, size), mode="bicubic",
                                                   antialias=True, align_corners=False)
            smooth = torch.nn.functional.interpolate(down, size=(64, 64), mode="bicubic",
                                                     align_corners=False).clamp(-1, 1)
        filled = BASELINES[method](smooth, mask)
        rows.append(evaluate(filled, smooth, mask).reset_index().assign(size=size))
    return pd.concat(rows, ignore_index=True)


def images_seen(gan, epoch: int) -> int:
    """Training images a GAN's generator had seen by `epoch`: its training steps up to that
    epoch (from its log: the last step logged, plus one) times its batch size."""
    log = gan.log()
    steps = int(log.loc[log.epoch <= epoch, "step"].max()) + 1
    return steps * int(gan.config()["batch_size"])

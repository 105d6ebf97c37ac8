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
from inpaint.method.solver import SolverConfig, complete
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


def comparison_realism(comparison, images: torch.Tensor, real: torch.Tensor, seeds: int,
                       steps: int, progress: bool = True, store: Store = NO_STORE):
    """The critic on every fill of a `fills.compare_methods` comparison of `images`, and on
    `images` themselves as the floor ("real images", real against real), per mask kind, against
    the `real` photographs (others, never the sources), with one set of critic seeds and splits
    so that the fills pair image by image (`fills_realism`). Sets `comparison.realism` (one row
    per mask and method: critic accuracy and AUC with their 95% intervals) and returns the
    per-image scores: one row per mask, method and image (`caught`; NaN where no seed held the
    image out)."""
    summaries, scores = [], []
    for kind, examples in comparison.examples.items():
        mask = comparison.masks[kind]
        fills = {"real images": images, **{name: fill for name, fill in examples.items()
                                           if name not in ("corrupted", "true")}}
        summary, caught = fills_realism(fills, images, mask, real, seeds=seeds, steps=steps,
                                        progress=progress, store=store)
        summaries.append(summary.rename_axis("method").reset_index().assign(mask=kind))
        scores.append(caught.rename(columns={"fill": "method"}).assign(mask=kind))
    comparison.realism = pd.concat(summaries).set_index(["mask", "method"])
    return pd.concat(scores, ignore_index=True)


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
    """How many faces the profile's faces training split holds (8,930 for CelebA: 000071-009000)."""
    return len(training_images(replace(gans.run_config(settings, "celeba"), limit=None)))


def grid_table(grid: pd.DataFrame) -> pd.DataFrame:
    """The faces grid summarised, one row per model and epoch: width, training faces, epoch,
    training minutes, mean hole PSNR (GAN + Poisson) with its 95% interval, and the paired
    difference to the best point on the same faces (Holm over the others; `tied`: no
    difference from the best is stated). `chosen`: the cheapest point tied with the best, by
    its training cost (width² x faces x epochs, proportional to its multiply-adds; minutes
    depend on the machine): the model the faces chapter trains again in the authors' crop and
    with other seeds, which a costlier tie would not fit in its budget."""
    against = against_best(grid, "point")
    rows = []
    for point, part in grid.groupby("point", sort=False):
        low, high = stats.mean_interval(part.psnr_hole)
        first = part.iloc[0]
        rows.append({"point": point, "tied": against.loc[point, "tied"],  # the verdict first
                     "best": against.loc[point, "best"],
                     "minus best": against.loc[point, "difference"],
                     "minus best low": against.loc[point, "low"],
                     "minus best high": against.loc[point, "high"],
                     "p_holm": against.loc[point, "p_holm"],
                     "hole PSNR": part.psnr_hole.mean(), "low": low, "high": high,
                     "width": first.width, "faces": first.faces, "epoch": first.epoch,
                     "minutes": first.minutes})
    table = pd.DataFrame(rows).set_index("point")
    cost = table.width.astype(float) ** 2 * table.faces * table.epoch
    cheapest = cost[table.tied | table.best].idxmin()
    return table.assign(chosen=table.index == cheapest)


AUTHORS_STAND_IN = 16  # the `ci` profile's stand-in for Yeh et al.'s faces: sample photographs


def authors_faces(settings: Profile) -> torch.Tensor:
    """Yeh et al.'s own CelebA test faces (`yeh-celeba`: the 64 named after CelebA files, in
    their order), float (64, 3, 64, 64) in [-1, 1]; for the `ci` profile, whose data are the
    committed sample, the first AUTHORS_STAND_IN sample photographs stand in for them."""
    if settings.study.val_dataset == "sample":
        return to_tensor(load_sample_split("val")[:AUTHORS_STAND_IN])
    return to_tensor(load_images("yeh-celeba", "test", verbose=False))


def authors_crop_fit(settings: Profile) -> pd.DataFrame | None:
    """Yeh et al.'s crop measured (`inpaint.data.crop_fit.fit_crops`): each of their faces
    traced back to the square of our copy of the same CelebA file it was cut from, in the
    official images' pixels; None for the `ci` profile (no CelebA files)."""
    if settings.study.val_dataset == "sample":
        return None
    from inpaint.data.crop_fit import fit_crops, load_members
    from inpaint.data.registry import locate
    faces = load_members(locate("yeh-celeba", "test")[0], "*testimages/[0-9]*.png")
    originals = load_members(locate("celeba", "val")[0], "*img_align_celeba/*.jpg",
                             stems=set(faces))
    return fit_crops(faces, originals, sides=np.arange(34, 52, 0.5))


def resampled(images: torch.Tensor, size: int) -> torch.Tensor:
    """`images` (float (N, 3, 64, 64) in [-1, 1]) down to size x size pixels and back up to 64
    (bicubic, antialiased, as the faces' own resize): the smoothing a photograph gets from a
    smaller source. size 64: the images as they are."""
    if size == 64:
        return images
    down = torch.nn.functional.interpolate(images, size=(size, size), mode="bicubic",
                                           antialias=True, align_corners=False)
    return torch.nn.functional.interpolate(down, size=(64, 64), mode="bicubic",
                                           align_corners=False).clamp(-1, 1)


def smoothing_effect(images: torch.Tensor, sizes=(54, 32), method: str = "telea") -> pd.DataFrame:
    """How much smoothing alone moves a classical fill's score: `method`'s hole PSNR (centre
    mask) on `images` (float (N, 3, 64, 64) in [-1, 1]) as they are, and after resampling them
    down to each of `sizes` pixels and back up to 64 (bicubic, antialiased, as the faces' own
    resize), each scored against its own resampled truth. One row per image and size (64: as
    they are): image, size, psnr_hole, ...; compare sizes image by image with `stats.paired`."""
    mask = make_mask("center", len(images))
    rows = []
    for size in (64, *sizes):
        smooth = resampled(images, size)
        filled = BASELINES[method](smooth, mask)
        rows.append(evaluate(filled, smooth, mask).reset_index().assign(size=size))
    return pd.concat(rows, ignore_index=True)


def images_seen(gan, epoch: int) -> int:
    """Training images a GAN's generator had seen by `epoch`: its training steps up to that
    epoch (from its log: the last step logged, plus one) times its batch size."""
    log = gan.log()
    steps = int(log.loc[log.epoch <= epoch, "step"].max()) + 1
    return steps * int(gan.config()["batch_size"])


# ------------------------------------------------------------------------- the budget chapter

REFERENCE = ("l1", "yeh")  # with the study's λ and one start: the setting the others pair with


def setting_name(lam: float, norm: str = "l1", weighting: str = "yeh", prefix: str = "") -> str:
    """How the budget chapter names a search in its tables, figures and sentences: "λ = 3e-3"
    (the paper's ℓ1 and Yeh's weights), "ℓ2, λ = 3e-3", "plain weights, λ = 3e-3", "ℓ2, plain
    weights, λ = 3e-3" (the post's loss), after an optional prefix ("G and D of epoch 55, ")."""
    parts = (["ℓ2"] if norm == "l2" else []) + (["plain weights"] if weighting == "plain" else [])
    return prefix + ", ".join(parts + [f"λ = {lam_label(lam)}"])


def starts_name(starts: int, fill: str) -> str:
    """The budget chapter's multi-start settings: "best of 2 starts", "mean of 2 starts"."""
    return f"{fill} of {starts} starts"


def rule_name(lr: float) -> str:
    """The budget chapter's name of the post's rule: gradient descent with its step size."""
    return f"gradient descent (the post's rule), step {lr:g}"


def budget_search(generator, discriminator, images: torch.Tensor, mask: torch.Tensor,
                  config: SolverConfig, checkpoints, store: Store = NO_STORE):
    """One search of config.iters iterations over `images` (float (N, 3, 64, 64) in [-1, 1],
    centre `mask` (N, 1, 64, 64), 1 known), and its fills at every budget of `checkpoints`
    (each exactly a run of that many iterations: `complete(checkpoints=...)`).

    Returns {budget: {"best": G(z*) of the best start, "loss": the best start's loss (N,), and
    with several starts "mean": the mean of every start's G(z)}}, float images in [-1, 1] on the
    CPU, kept in `store` by the networks, images, mask, config and budgets (about 7 x N x 48 KB
    per setting: the fills, not every start's)."""
    def search():
        result = complete(generator, discriminator, images, mask, config, progress=False,
                          checkpoints=tuple(checkpoints))
        return {k: {"best": at.generated.cpu(), "loss": at.loss.cpu(),
                    **({"mean": at.starts.mean(dim=1).cpu()} if config.restarts > 1 else {})}
                for k, at in result.at.items()}
    return store.get("budget", search, generator, discriminator, images, mask, config,
                     tuple(checkpoints), code=__file__)


def budget_runs(settings: Profile, gan: GAN, epoch: int, images: torch.Tensor, p,
                progress: bool = True, store: Store = NO_STORE):
    """The budget chapter's searches, every one over the same `images` (float (N, 3, 64, 64) in
    [-1, 1]), centre mask and starting codes, each run once to the last of `p.checkpoints`
    (`profiles.Budget`) and read at every checkpoint:

    lambda     each λ of p.lams with ℓ1 and Yeh's weights, one start (G of `epoch`, D nearest)
    norm       ℓ2 and the plain mask at the study's λ (`ablation_settings`)
    starts     p.starts starts at the study's λ: the best of them, and their mean (ensemble)
    rule       the post's rule: "gd" with step p.gd_lr, each image stopping when ||grad||_1 <
               p.tol, capped at the last checkpoint
    matched    each λ of p.matched_lams with G and D of the same epoch (D's epoch nearest `epoch`)
    classical  every classical fill (`fills.CLASSICAL`), the same at every budget

    Returns (metrics, fills): metrics has one row per setting, budget and image (hole PSNR, SSIM,
    L1 of the Poisson-blended fill; `loss`: the search's, NaN for the classical fills), columns
    setting, group, lam, norm, weighting, budget, image; fills maps (setting, budget) to the
    Poisson-blended fills of the λ grid, for the critic."""
    from inpaint.method.blend import poisson
    from inpaint.study.fills import CLASSICAL

    study = settings.study
    budgets = sorted(set(p.checkpoints))
    last = budgets[-1]
    mask = make_mask("center", len(images))
    base = solver_config(settings, restarts=1, iters=last, lam=study.lam)
    d_epoch = gan.discriminator_epoch(epoch)
    matched = f"G and D of epoch {d_epoch}, "
    networks = {"": gan.load(epoch), matched: gan.load(d_epoch)}
    runs = [("lambda", "", replace(base, lam=lam)) for lam in p.lams]
    runs += [("norm", "", replace(base, norm=norm, weighting=weighting))
             for lam, norm, weighting in ablation_settings((), study.lam)]
    runs += [("starts", "", replace(base, restarts=p.starts))]
    runs += [("rule", "", replace(base, optimizer="gd", lr=p.gd_lr, tol=p.tol))]
    runs += [("matched", matched, replace(base, lam=lam))
             for lam in p.matched_lams]
    rows, fills = [], {}

    def score(name, group, config, budget, filled, loss):
        table = evaluate(filled, images, mask).reset_index()
        rows.append(table.assign(setting=name, group=group, lam=config.lam, norm=config.norm,
                                 weighting=config.weighting, budget=budget, loss=loss))

    for group, prefix, config in tqdm(runs, desc=f"searches of {last} iterations",
                                      disable=not progress):
        generator, discriminator = networks[prefix]
        at = budget_search(generator, discriminator, images, mask, config, budgets, store)
        for budget, result in at.items():
            loss = result["loss"].numpy()
            if group == "starts":
                score(starts_name(p.starts, "best"), group, config, budget,
                      poisson(images, result["best"], mask), loss)
                score(starts_name(p.starts, "mean"), group, config, budget,
                      poisson(images, result["mean"], mask), float("nan"))
            elif group == "rule":
                score(rule_name(p.gd_lr), group, config, budget,
                      poisson(images, result["best"], mask), loss)
            else:
                name = setting_name(config.lam, config.norm, config.weighting, prefix)
                filled = poisson(images, result["best"], mask)
                score(name, group, config, budget, filled, loss)
                if group == "lambda":
                    fills[(name, budget)] = filled
    for name in CLASSICAL:
        filled = BASELINES[name](images, mask)
        for budget in budgets:
            score(name, "classical", base, budget, filled, float("nan"))
    metrics = pd.concat(rows, ignore_index=True)
    return metrics, fills


def budget_differences(metrics: pd.DataFrame, reference: str, column: str = "psnr_hole",
                       group: str | None = None) -> pd.DataFrame:
    """Each setting minus `reference`, image by image, at each budget: one row per setting and
    budget with the mean paired difference, its 95% interval and n (`stats.paired`).
    metrics: `budget_runs`' table (or a part of it, e.g. one `group`)."""
    rows = []
    for budget, part in metrics.groupby("budget"):
        wide = part.pivot(index="image", columns="setting", values=column)
        names = [name for name in wide.columns if name != reference and
                 (group is None or part.loc[part.setting == name, "group"].iloc[0] == group)]
        for name in names:
            c = stats.paired(wide[name], wide[reference])
            rows.append({"setting": name, "budget": budget, "difference": c.difference,
                         "low": c.low, "high": c.high, "n": c.n, "differs": c.differs,
                         "sd": float((wide[name] - wide[reference]).std())})
    return pd.DataFrame(rows)


def budget_realism(fills: dict, images: torch.Tensor, real: torch.Tensor, budgets, seeds: int,
                   steps: int, progress: bool = True, store: Store = NO_STORE) -> pd.DataFrame:
    """The critic's per-image score for the fills of `budget_runs` (keyed (setting, budget)) at
    each of `budgets`: fresh critics (`fills_realism`: same real photographs, seeds and splits
    for every fill, so the scores pair image by image). Returns one row per setting, budget and
    image: caught, the share of held-out real photographs the critic found more real than the
    fill (NaN where no seed held the image out; lower is more real)."""
    keys = {f"{setting} @ {budget}": (setting, budget) for setting, budget in fills
            if budget in set(budgets)}
    mask = make_mask("center", len(images))
    _, caught = fills_realism({name: fills[key] for name, key in keys.items()}, images, mask,
                              real, seeds=seeds, steps=steps, progress=progress, store=store)
    return caught.assign(setting=caught.fill.map(lambda name: keys[name][0]),
                         budget=caught.fill.map(lambda name: keys[name][1])
                         )[["setting", "budget", "image", "caught"]]


# The post's λ: its context term was the mean over the 64 x 64 x 3 values, ours is their sum, so
# the same minimiser takes lam = POST_SCALE * lam_post here (book/method.md, eq-lam-map).
POST_SCALE = 64 * 64 * 3


def post_lam_label(lam: float) -> str:
    """λ in the post's units (lam / 12,288), as the λ axes' second labels: "0", "2.4e-07"."""
    return "0" if lam == 0 else f"{lam / POST_SCALE:.2g}"

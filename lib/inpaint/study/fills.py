"""The fills a comparison scores, named in one place: Yeh's search (best start, first start,
ensembles) blended by paste or Poisson, and the classical fills; each scored per image and mask.

Method names are built by `method_name` and kept as named constants (YEH, YEH_PASTE, FIRST_START),
so the findings select rows with the same call and never parse a name."""
from __future__ import annotations

import time
from dataclasses import dataclass, field, replace
import pandas as pd
import torch
from tqdm.auto import tqdm

from inpaint.method.baselines import BASELINES
from inpaint.method.blend import paste, poisson
from inpaint.method.masks import MASK_KINDS, make_mask
from inpaint.method.metrics import evaluate
from inpaint.method.pixels import to_uint8
from inpaint.method.realism import two_sample_test
from inpaint.method.solver import Completion, SolverConfig, complete
from inpaint.study import stats
from inpaint.study.store import NO_STORE, Store

CLASSICAL = tuple(BASELINES)  # the fills that need no training: mean, telea, navier-stokes, ...


def method_name(label: str = "GAN", fill: str = "best", blend: str = "poisson",
                starts: int | None = None) -> str:
    """The name of a GAN fill in every table's `method` column, built in one place so that the
    findings select rows with the same call and never parse a name:
    fill "best" (Yeh et al.: the lowest-loss start) -> "GAN (poisson)" / "GAN (paste)";
    "first" (the first start alone) -> "GAN, 1 start (poisson)";
    "ensemble" (the mean of `starts` starts' G(z)) -> "GAN ensemble of 4 (poisson)"."""
    if fill == "best":
        return f"{label} ({blend})"
    if fill == "first":
        return f"{label}, 1 start ({blend})"
    if fill == "ensemble":
        return f"{label} ensemble of {starts} ({blend})"
    raise ValueError(f"fill must be 'best', 'first' or 'ensemble', not {fill!r}")


YEH = method_name()                        # the paper's method, as the book reports it
YEH_PASTE = method_name(blend="paste")     # the post's output, M*y + (1-M)*G(z)
FIRST_START = method_name(fill="first")


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


def solve_and_score(generator, discriminator, images: torch.Tensor, mask: torch.Tensor,
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


def per_image(metrics: pd.DataFrame, by: str, column: str = "psnr_hole") -> pd.DataFrame:
    """One column per value of `by` (an epoch, a method, a lambda), one row per image."""
    return metrics.pivot(index="image", columns=by, values=column)


@dataclass
class Comparison:
    """Every method on the same images, per mask kind.

    metrics   one row per image, mask and method: hole and whole-image PSNR, SSIM and L1
    examples  mask kind -> {"corrupted", "true", method: completions}, each float (N, 3, 64, 64)
              in [-1, 1]
    seconds   one row per mask and method: CPU seconds per image (all threads; the solver's
              time is shared by the fills made from the same search)
    realism   one row per mask and method, and a row "real images" (real against real, the
              floor): the critic's accuracy and AUC with their 95% intervals over seeds
              (`experiments.comparison_realism`); None until measured
    searches  mask kind -> the latent search the GAN's fills came from (every start's G(z) in
              `.starts`), for fills made afterwards (`mixtures`)
    masks     mask kind -> its masks, (N, 1, 64, 64), 1 = known
    """

    metrics: pd.DataFrame
    examples: dict[str, dict[str, torch.Tensor]]
    seconds: pd.DataFrame
    realism: pd.DataFrame | None
    searches: dict[str, Completion]
    masks: dict[str, torch.Tensor] = field(default_factory=dict)


def gan_fills(generator, discriminator, images: torch.Tensor, mask: torch.Tensor,
              config: SolverConfig, label: str, ensembles=(), progress: bool = True):
    """One latent search with config.restarts starts per image, and the fills made from it:
    "<label> (paste)" and "<label> (poisson)" from the best start (Yeh et al.); with
    `ensembles`, "<label>, 1 start (poisson)" from the first start alone (what a one-start search
    gives: start j is the same whatever the number of starts), and for each k in `ensembles` (at
    most config.restarts), "<label> ensemble of k (poisson)": the mean of the first k starts'
    G(z), Poisson-blended.
    Returns ({name: float (N, 3, 64, 64) in [-1, 1]}, CPU seconds per image of the search, the
    search's Completion)."""
    if any(k > config.restarts for k in ensembles):
        raise ValueError(f"an ensemble of {max(ensembles)} needs at least as many starts; the "
                         f"solver has restarts={config.restarts}")
    started = time.process_time()
    result = complete(generator, discriminator, images, mask, replace(config, combine="best"),
                      progress=progress)
    generated = result.generated.cpu()
    fills = {method_name(label, blend="paste"): paste(images, generated, mask),
             method_name(label): poisson(images, generated, mask)}
    if ensembles:
        fills[method_name(label, "first")] = poisson(images, result.starts[:, 0].cpu(), mask)
    for k in ensembles:
        mean = result.starts[:, :k].mean(dim=1).cpu()
        fills[method_name(label, "ensemble", starts=k)] = poisson(images, mean, mask)
    return fills, (time.process_time() - started) / len(images), result


def mixtures(images: torch.Tensor, mask: torch.Tensor, search: Completion, weights,
             label: str = "GAN") -> dict[str, torch.Tensor]:
    """Fills between the ensemble and one guess: w * (mean of every start's G(z)) + (1 - w) *
    (the best start's G(z)), Poisson-blended, for each w in `weights`, named
    "<label> w x ensemble + (1 - w) x best (poisson)". images: float (N, 3, 64, 64) in [-1, 1];
    mask: (N, 1, 64, 64); search: the Completion of the search over those images and mask."""
    best = search.starts[torch.arange(len(images)), search.start_losses.argmin(dim=1)].cpu()
    mean = search.starts.mean(dim=1).cpu()
    return {f"{label} {w:g} x ensemble + {1 - w:g} x best (poisson)":
            poisson(images, w * mean + (1 - w) * best, mask) for w in weights}


def score_fills(fills: dict[str, torch.Tensor], images: torch.Tensor, mask: torch.Tensor,
                kind: str) -> Comparison:
    """The metrics of each fill of `images` (float (N, 3, 64, 64) in [-1, 1]) made with `mask`
    of kind `kind`, and the examples. No timings (`seconds` is empty) and no realism (the
    critic's: `experiments.comparison_realism`)."""
    metrics = pd.concat([evaluate(out, images, mask).reset_index().assign(mask=kind, method=name)
                         for name, out in fills.items()], ignore_index=True)
    examples = {kind: {"corrupted": images * mask, "true": images, **fills}}
    return Comparison(metrics, examples, pd.DataFrame(columns=["mask", "method", "seconds"]),
                      None, {}, {kind: mask})


def compare_methods(generator, discriminator, images: torch.Tensor, config: SolverConfig,
                    mask_kinds=MASK_KINDS, label: str = "GAN",
                    baselines: bool = True, ensembles=(), progress: bool = True,
                    store: Store = NO_STORE) -> Comparison:
    """The GAN solver against every classical baseline (unless `baselines` is False), per mask
    kind, on `images` (float (N, 3, 64, 64) in [-1, 1]); see `gan_fills` for the GAN's fills
    and `score_fills` for the scores (the critic's: `experiments.comparison_realism`).
    The search and each classical fill come from `store` when it holds them, so that a rerun
    with one more classical fill computes only that fill.
    """
    parts = []
    for kind in mask_kinds:
        mask = make_mask(kind, len(images), seed=config.seed)
        fills, seconds, search = store.get("search", lambda: gan_fills(
            generator, discriminator, images, mask, config, label, ensembles, progress),
            generator, discriminator, images, mask, config, label, tuple(ensembles),
            code=__file__)
        times = [{"mask": kind, "method": name, "seconds": seconds} for name in fills]
        for name, method in (BASELINES.items() if baselines else ()):
            fills[name], spent = store.get("fill", lambda: timed(method, images, mask), name,
                                           images, mask, code=__file__, function=method)
            times.append({"mask": kind, "method": name, "seconds": spent})
        scored = score_fills(fills, images, mask, kind)
        scored.seconds, scored.searches = pd.DataFrame(times), {kind: search}
        parts.append(scored)
    return Comparison(
        pd.concat([part.metrics for part in parts], ignore_index=True),
        {kind: part.examples[kind] for kind, part in zip(mask_kinds, parts)},
        pd.concat([part.seconds for part in parts], ignore_index=True), None,
        {kind: part.searches[kind] for kind, part in zip(mask_kinds, parts)},
        {kind: part.masks[kind] for kind, part in zip(mask_kinds, parts)})


def timed(method, images: torch.Tensor, mask: torch.Tensor) -> tuple[torch.Tensor, float]:
    """A classical fill, method(images, mask), and its CPU seconds per image."""
    started = time.process_time()
    filled = method(images, mask)
    return filled, (time.process_time() - started) / len(images)


def ensemble_sizes(starts: int) -> tuple[int, ...]:
    """The ensembles a K-start search is shown as: 2, 4, 8, ... below K, then K itself
    (8 -> (2, 4, 8); 6 -> (2, 4, 6); 1 -> ())."""
    sizes = [k for k in (2 ** i for i in range(1, starts.bit_length())) if k < starts]
    return tuple(sizes + [starts]) if starts > 1 else ()


def comparison_table(comparison: Comparison) -> pd.DataFrame:
    """One row per mask kind and method: mean hole PSNR, SSIM and L1 with standard errors, the
    critic accuracy and its 95% interval (if measured; the "real images" row is the floor), and
    the CPU seconds per image."""
    table = summary(comparison.metrics, ["mask", "method"])
    if comparison.realism is not None:
        table = table.join(comparison.realism.round(3), how="outer")
    if comparison.seconds.empty:
        return table
    seconds = comparison.seconds.set_index(["mask", "method"]).seconds.round(3)
    return table.join(seconds)


def paired_families(metrics: pd.DataFrame, caught: pd.DataFrame, method: str, rivals) -> dict:
    """`method` against each of `rivals` on the same images of one mask kind, as two Holm
    families ({rival: stats.Comparison} each): "psnr", hole PSNR, method minus rival (dB), and
    "critic", the critic's per-image score, method minus rival (below 0: more real), over the
    images every fill's critics held out. metrics: rows of image, method, psnr_hole; caught:
    rows of image, method, caught (`experiments.fills_realism`)."""
    psnr = metrics.pivot(index="image", columns="method", values="psnr_hole")
    score = caught.pivot(index="image", columns="method", values="caught").dropna()
    present = [rival for rival in rivals if rival in psnr.columns and rival != method]
    return {"psnr": stats.family({r: stats.paired(psnr[method], psnr[r]) for r in present}),
            "critic": stats.family({r: stats.paired(score[method], score[r]) for r in present})}


def paired_verdicts(metrics: pd.DataFrame, caught: pd.DataFrame, method: str, rivals) -> pd.DataFrame:
    """`method` against each of `rivals` on the same images of one mask kind, one row per rival:
    hole PSNR (method minus rival, dB) and the critic's per-image score (method minus rival;
    below 0 is more real), each one Holm family over the rivals with Holm-adjusted 95% intervals
    (`paired_families`); n and n (critic). Verdicts: `closer` (the PSNR interval is above 0),
    `more_realistic` (the score interval is below 0) and `no_easier` (the score interval is not
    above 0: not shown easier to catch)."""
    families = paired_families(metrics, caught, method, rivals)
    closeness, realism = families["psnr"], families["critic"]
    rows = {r: {"psnr_difference": closeness[r].difference, "psnr_low": closeness[r].low,
                "psnr_high": closeness[r].high, "n": closeness[r].n,
                "critic_difference": realism[r].difference, "critic_low": realism[r].low,
                "critic_high": realism[r].high, "critic_n": realism[r].n,
                "closer": closeness[r].low > 0, "more_realistic": realism[r].high < 0,
                "no_easier": not realism[r].low > 0} for r in closeness}
    return pd.DataFrame.from_dict(rows, orient="index").rename_axis("rival")


def both_targets(metrics: pd.DataFrame, caught: pd.DataFrame, methods, against: str = "telea",
                 classical=CLASSICAL) -> pd.DataFrame:
    """Which of `methods` meet both targets on one mask kind, paired image by image: `closer`
    than `against` (hole PSNR, Holm over every classical fill) and `more_realistic` than every
    classical fill (the critic's per-image score below each, Holm over them); `both`."""
    rows = {}
    for method in methods:
        verdicts = paired_verdicts(metrics, caught, method, classical)
        rows[method] = {"psnr_difference": verdicts.loc[against, "psnr_difference"],
                        "closer": bool(verdicts.loc[against, "closer"]),
                        "more_realistic": bool(verdicts.more_realistic.all())}
    table = pd.DataFrame.from_dict(rows, orient="index").rename_axis("method")
    return table.assign(both=table.closer & table.more_realistic)


def extremes(metrics: pd.DataFrame, mask: str, count: int = 2, method: str = YEH,
             against: str = "telea", noun: str = "image") -> tuple[list[int], list[str]]:
    """The `count` images where `method` does best against `against` (hole PSNR, one mask kind),
    then the `count` where it does worst: their positions in the images tensor (the `image`
    column), and a label for each, "image 13: +3.1 dB" (method minus against), numbered from 1 as
    on every page (position 12 is image 13)."""
    wide = per_image(metrics[metrics["mask"] == mask], "method")
    difference = (wide[method] - wide[against]).sort_values(ascending=False)
    count = min(count, len(difference) // 2) or 1
    chosen = list(difference.index[:count]) + list(difference.index[-count:])
    return ([int(i) for i in chosen],
            [f"{noun} {int(i) + 1}: {difference[i]:+.1f} dB" for i in chosen])


def summary(metrics: pd.DataFrame, by: list[str], columns=("psnr_hole", "ssim_hole", "l1_hole")):
    """Mean and standard error of the metric columns, grouped by `by`, unrounded: every page
    rounds the same stored mean once, when it prints it (a mean rounded here and again there
    read 13.55 in one place and 13.56 in another)."""
    grouped = metrics.groupby(by, observed=True)[list(columns)]
    table = grouped.mean()
    errors = grouped.sem().add_suffix("_sem")
    return table.join(errors)


def hole_sharpness(images: torch.Tensor, mask: torch.Tensor) -> list[float]:
    """Per image, the mean gradient magnitude inside the hole, in grey levels (0..255) per pixel:
    forward differences of the grey image, over the pixels whose right and lower neighbours are
    in the hole too (so the seam with the known pixels is left out). A blurred fill scores below
    the truth's; images: float (N, 3, 64, 64) in [-1, 1]; mask: (N or 1, 1, 64, 64), 0 = hole."""
    grey = (images.float().mean(1) + 1) * 127.5
    gx = grey[:, :-1, 1:] - grey[:, :-1, :-1]
    gy = grey[:, 1:, :-1] - grey[:, :-1, :-1]
    hole = (mask[:, 0] < 0.5).expand(len(images), -1, -1)
    inside = (hole[:, :-1, :-1] & hole[:, 1:, :-1] & hole[:, :-1, 1:]).float()
    magnitude = torch.sqrt(gx ** 2 + gy ** 2)
    return ((magnitude * inside).sum((1, 2)) / inside.sum((1, 2)).clamp(min=1)).tolist()


def hole_error_parts(images: torch.Tensor, truth: torch.Tensor,
                     mask: torch.Tensor) -> tuple[list[float], list[float]]:
    """Per image, the mean squared error inside the hole that `evaluate`'s hole PSNR reads (on
    the 8-bit images, 0..255), split in two parts that add up to it, in grey levels squared: the
    part of the hole's mean colour (per channel, the squared difference of the fill's and the
    truth's mean over the hole, averaged over the channels) and the rest (what remains once that
    mean difference is taken out: texture, edges, placement). images, truth: float
    (N, 3, 64, 64) in [-1, 1]; mask: (N or 1, 1, 64, 64), 0 = hole."""
    error = torch.from_numpy(to_uint8(images)).double() - torch.from_numpy(to_uint8(truth)).double()
    hole = (mask[:, 0] < 0.5).double().expand(len(images), -1, -1)[..., None]  # (N, 64, 64, 1)
    pixels = hole.sum((1, 2))                                                 # (N, 1)
    offset = (error * hole).sum((1, 2)) / pixels                             # (N, 3): mean error
    colour = (offset ** 2).mean(1)
    rest = (((error - offset[:, None, None]) ** 2) * hole).sum((1, 2)) / pixels
    return colour.tolist(), rest.mean(1).tolist()


def sharpness_table(fills: dict[str, torch.Tensor], truth: torch.Tensor,
                    mask: torch.Tensor) -> pd.DataFrame:
    """`hole_sharpness` of each fill and of the truth, and the two parts of each one's hole
    error against the truth (`hole_error_parts`: `colour_error`, `rest_error`, 0 for the
    truth), one row per image and fill (columns image, fill, sharpness, colour_error,
    rest_error), for comparing them image by image with `stats.paired`."""
    rows = []
    for name, images in {"true": truth, **fills}.items():
        colour, rest = hole_error_parts(images, truth, mask)
        rows.append(pd.DataFrame({"image": range(len(truth)), "fill": name,
                                  "sharpness": hole_sharpness(images, mask),
                                  "colour_error": colour, "rest_error": rest}))
    return pd.concat(rows, ignore_index=True)

"""The methods that came after Yeh et al., on the same images as Yeh's search and the classical
fills: the computation of their chapter and the answer it gives.

Every fill is made for the same images, the same centre holes and (for the searches) the same
starting codes, blended into the photograph by Poisson blending like Yeh's, and scored image by
image (hole PSNR, SSIM, L1) and by the realism critic's paired per-image score
(`experiments.fills_realism`: one set of critic seeds and splits for every fill). The methods
(`inpaint.method.dgp`, `.ilo`, `.encoder`):

- "DGP": Deep Generative Prior's start and progressive fine-tuning of G;
- "ILO": Intermediate Layer Optimization, from the codes of Yeh's search;
- "encoder start": Yeh's search started from an encoder's code instead of a random one, and
  "encoder alone", the encoder's code with no search at all.

The question each is asked (`answer`): is it closer to the truth than Telea (the strongest
classical fill on this mask in the comparison chapter; here tested against every classical fill)
and no easier for the critic to catch than Telea's fill?
"""
from __future__ import annotations

import time
from dataclasses import dataclass, replace

import pandas as pd
import torch

from inpaint.method.baselines import BASELINES
from inpaint.method.blend import poisson
from inpaint.method.dgp import DGPConfig, dgp_complete
from inpaint.method.encoder import EncoderConfig, encode, train_encoder
from inpaint.method.ilo import ILOConfig, ilo_complete
from inpaint.method.masks import make_mask
from inpaint.method.metrics import evaluate
from inpaint.method.solver import SolverConfig, complete
from inpaint.study import stats, wording
from inpaint.study.experiments import fills_realism
from inpaint.study.fills import (CLASSICAL, FIRST_START, YEH, gan_fills, method_name,
                                 paired_families, paired_verdicts)
from inpaint.study.fills import summary as fills_summary
from inpaint.study.fills import timed as timed_fill
from inpaint.study.store import NO_STORE, Store

DGP = method_name("DGP")                    # "DGP (poisson)"
ILO = method_name("ILO")                    # "ILO (poisson)"
ENCODER = method_name("Encoder start")      # the search from the encoder's code
ENCODER_ALONE = method_name("Encoder alone")
NEW = (DGP, ILO, ENCODER, ENCODER_ALONE)    # the methods after Yeh, in the order shown
TARGET = "telea"                            # the classical fill each is asked to beat


@dataclass
class AfterYeh:
    """The chapter's results on N images (centre mask).

    metrics   one row per image and method: hole and whole-image PSNR, SSIM, L1 (`evaluate`)
    caught    one row per image and method: the critic's score, the share of held-out real
              photographs it found more real than the fill (lower: more real; NaN where no
              critic seed held the image out)
    seconds   one row per method: CPU seconds per image (all threads); ILO's includes the
              search it starts from, the encoder's its share of the encoder's training
    fills     method -> float (N, 3, 64, 64) in [-1, 1], and "corrupted", "true"
    dgp_stages float (S, N, 3, 64, 64) in [-1, 1]: DGP's image after each stage
    encoder_losses  the encoder's training loss at each step
    """

    metrics: pd.DataFrame
    caught: pd.DataFrame
    seconds: pd.DataFrame
    fills: dict[str, torch.Tensor]
    dgp_stages: torch.Tensor
    encoder_losses: list[float]


def timed(compute):
    """(compute(), CPU seconds it took, all threads)."""
    started = time.process_time()
    value = compute()
    return value, time.process_time() - started


def run(generator, discriminator, truth: torch.Tensor, real: torch.Tensor, search: SolverConfig,
        dgp: DGPConfig, ilo: ILOConfig, encoder: EncoderConfig, seeds: int, critic_steps: int,
        store: Store = NO_STORE, progress: bool = True) -> AfterYeh:
    """Every method on `truth` (float (N, 3, 64, 64) in [-1, 1], centre mask), the critic against
    `real` (other photographs, never the sources of `truth`). `search` is Yeh's search as the
    other chapters run it, with `search.restarts` starts (its best start is "GAN (poisson)", its
    first alone "GAN, 1 start (poisson)", their mean the ensemble); ILO starts from its best
    codes, the encoder's search runs one start with the same settings. Searches, fine-tunings and
    critics are kept in `store` by their inputs."""
    n = len(truth)
    mask = make_mask("center", n)
    code = __file__
    (searched, _, result), search_seconds = store.get("after-search", lambda: timed(
        lambda: gan_fills(generator, discriminator, truth, mask, search, "GAN",
                          ensembles=(search.restarts,) if search.restarts > 1 else (),
                          progress=progress)), generator, discriminator, truth, mask, search,
        code=code)
    fills = {name: fill for name, fill in searched.items() if "(paste)" not in name}
    seconds = {name: search_seconds / n for name in fills}
    if search.restarts > 1:  # one start of the K costs a K-th of the search
        seconds[FIRST_START] = search_seconds / n / search.restarts

    outcome, dgp_seconds = store.get("after-dgp", lambda: timed(lambda: dgp_complete(
        generator, discriminator, truth, mask, dgp, progress=progress)), generator,
        discriminator, truth, mask, dgp, code=code)
    fills[DGP] = poisson(truth, outcome.generated, mask)
    seconds[DGP] = dgp_seconds / n

    one_start = replace(search, restarts=1)
    deeper, ilo_seconds = store.get("after-ilo", lambda: timed(lambda: ilo_complete(
        generator, discriminator, truth, mask, result.z, ilo, one_start, progress=progress)),
        generator, discriminator, truth, mask, result.z, ilo, one_start, code=code)
    fills[ILO] = poisson(truth, deeper.generated, mask)
    seconds[ILO] = (ilo_seconds + search_seconds) / n

    trained, train_seconds = store.get("after-encoder", lambda: timed(lambda: train_encoder(
        generator, encoder, progress=progress)), generator, encoder, code=code)
    def encoder_search():
        codes = encode(trained.encoder, truth, mask)
        return codes, complete(generator, discriminator, truth, mask, one_start, z0=codes,
                               progress=progress)

    (codes, encoded), encode_seconds = timed(encoder_search)
    with torch.no_grad():
        alone = generator(codes).float()
    fills[ENCODER] = poisson(truth, encoded.generated.cpu(), mask)
    fills[ENCODER_ALONE] = poisson(truth, alone.cpu(), mask)
    seconds[ENCODER] = (encode_seconds + train_seconds) / n
    seconds[ENCODER_ALONE] = train_seconds / n

    for name, fill in BASELINES.items():
        fills[name], seconds[name] = timed_fill(fill, truth, mask)  # per image already

    metrics = pd.concat([evaluate(fill, truth, mask).reset_index().assign(method=name)
                         for name, fill in fills.items()], ignore_index=True)
    _, caught = fills_realism(fills, truth, mask, real, seeds=seeds, steps=critic_steps,
                              progress=progress, store=store)
    caught = caught.rename(columns={"fill": "method"})
    return AfterYeh(metrics, caught,
                    pd.DataFrame({"method": list(seconds), "seconds": list(seconds.values())}),
                    {"corrupted": truth * mask, "true": truth, **fills}, outcome.stages,
                    trained.losses)


def summary(metrics: pd.DataFrame, caught: pd.DataFrame, seconds: pd.DataFrame) -> pd.DataFrame:
    """One row per method, in the order `run` made them (Yeh's search, its first start and its
    ensemble, the methods after Yeh, the classical fills): mean hole PSNR and SSIM with their
    standard errors, the critic's mean per-image score with its 95% interval (t, over the images
    some critic seed held out; 0.5: the critic cannot tell the fill from a photograph, 1: always
    caught), and CPU seconds per image."""
    order = list(dict.fromkeys(metrics.method))
    table = fills_summary(metrics, ["method"], ("psnr_hole", "ssim_hole")).reindex(order)
    scores = caught.dropna(subset=["caught"]).groupby("method").caught
    low, high = zip(*(stats.mean_interval(scores.get_group(m)) for m in order))
    return table.assign(score=scores.mean(), score_low=list(low), score_high=list(high),
                        seconds=seconds.set_index("method").seconds)


def comparisons(metrics: pd.DataFrame, caught: pd.DataFrame, method: str,
                rivals=(YEH, *CLASSICAL)) -> dict:
    """`method` against Yeh's search and every classical fill (`fills.paired_families`)."""
    return paired_families(metrics, caught, method, rivals)


def answer_table(metrics: pd.DataFrame, caught: pd.DataFrame, methods=NEW,
                 target: str = TARGET) -> pd.DataFrame:
    """One row per method after Yeh: its hole PSNR minus the target's (Telea's) and its critic
    score minus the target's, each with its Holm-adjusted 95% interval (the family: every
    classical fill and Yeh's search), n, and the verdicts: `closer` (PSNR interval above 0),
    `no_easier` (critic interval not above 0: not shown easier to catch) and `both`."""
    rows = {method: paired_verdicts(metrics, caught, method, (YEH, *CLASSICAL)).loc[target]
            for method in methods if method in set(metrics.method)}
    table = pd.DataFrame.from_dict(rows, orient="index").rename_axis("method")
    table = table.drop(columns="more_realistic").astype({"closer": bool, "no_easier": bool})
    return table.assign(both=table.closer & table.no_easier)


def answer(metrics: pd.DataFrame, caught: pd.DataFrame, methods=NEW, target: str = TARGET) -> str:
    """The chapter's answer in sentences: for each method, whether it is closer to the truth
    than the target (hole PSNR, paired, Holm over Yeh's search and the classical fills) and no
    easier to catch (the critic's paired per-image score), with intervals and n; then which
    methods, if any, are both."""
    name = wording.method(target)
    lines = []
    for method in methods:
        if method not in set(metrics.method):
            continue
        c = comparisons(metrics, caught, method)
        shown = wording.method(method)
        lines.append(f"- **{shown}**: hole PSNR, {stats.verdict(shown, name, c['psnr'][target])}; "
                     f"the critic's score (lower: more real), "
                     f"{stats.verdict(shown, name, c['critic'][target], unit='', digits=3)}.")
    table = answer_table(metrics, caught, methods, target)
    both = [wording.method(m) for m in table.index[table.both]]
    closest = table.psnr_difference.idxmax()
    if both:
        lines.append(f"\nCloser than {name} and no easier to catch: {wording.in_words(both)}.")
    else:
        row = table.loc[closest]
        lines.append(f"\nNo method after Yeh is both closer than {name} and no easier to catch. "
                     f"The closest, {wording.method(closest)}, is "
                     f"{row.psnr_difference:+.2f} dB [{row.psnr_low:+.2f}, {row.psnr_high:+.2f}] "
                     f"from {name} (Holm-adjusted 95% interval, n = {int(row.n)}).")
    return "\n".join(lines)

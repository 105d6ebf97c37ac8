"""Realism of filled holes by a classifier two-sample test (C2ST), not by the GAN's discriminator.

Lopez-Paz and Oquab, "Revisiting Classifier Two-Sample Tests" (ICLR 2017): train a fresh
classifier (the critic) to tell real images from filled ones, and measure its accuracy on
images it was not trained on. 0.5 means the critic cannot tell them apart (the best a filling
method can do); 1.0 means every filled image is caught. The critic is small and trained from
scratch here, so the measure does not trust the GAN's own discriminator, which the filling
was optimised against.

The critic sees only the `region` of each image: the hole and a ring of `border` known pixels
around it (other pixels set to 0), with the region itself as a 4th input channel, so real and
filled images are seen through the same kind of window and the known pixels, identical in
kind for both, do not dilute the difference. A real image is seen through its own mask's
region (its true pixels in the hole).

Both sets are first rounded to 256 grey levels and clipped to [-1, 1], as they would be saved
to PNG (`inpaint.method.pixels.to_uint8`), so the critic cannot tell a filling by its fractional
values
(real photographs are always whole grey levels).

The real and the filled images must come from DIFFERENT source photographs: if a filled image's
source were among the real ones, the critic could learn to match the shared known pixels
rather than judge the hole. The caller guarantees it (e.g. the first half of a validation set
as real, the second half masked and filled); passing the very same tensor twice is refused.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
import numpy as np
import torch
import torch.nn.functional as F
from scipy import stats
from torch import nn
from tqdm.auto import tqdm

from inpaint.method.checks import MIN_IMAGES
from inpaint.method.masks import validate


def region(mask: torch.Tensor, border: int = 4) -> torch.Tensor:
    """The hole plus a ring of `border` known pixels around it (the hole dilated by `border`
    pixels, a (2 border + 1)-pixel square neighbourhood).

    mask: (N, 1, 64, 64), 1 = known, 0 = hole. Returns float32 of the same shape, 1 inside the
    region and 0 outside; border = 0 gives the hole alone.
    """
    if border < 0:
        raise ValueError(f"border must be 0 or more pixels, got {border}")
    hole = 1 - validate(mask).float()
    return F.max_pool2d(hole, 2 * border + 1, stride=1, padding=border)


def critic() -> nn.Module:
    """A fresh critic: 4 convolutions on (N, 4, 64, 64) (image times region, then region),
    64 -> 32 -> 16 -> 8 pixels at widths 16, 32, 64, then an 8x8 convolution to one logit per
    image, shape (N,). LeakyReLU(0.2), no normalisation layers (so tiny batches are fine).
    (Widths 32, 64, 128 take about 3x the time per step: 93 against 32 ms for a batch of 64
    on one CPU thread.)"""
    return nn.Sequential(
        nn.Conv2d(4, 16, 4, stride=2, padding=1), nn.LeakyReLU(0.2),
        nn.Conv2d(16, 32, 4, stride=2, padding=1), nn.LeakyReLU(0.2),
        nn.Conv2d(32, 64, 4, stride=2, padding=1), nn.LeakyReLU(0.2),
        nn.Conv2d(64, 1, 8), nn.Flatten(0),
    )


@dataclass
class CriticAccuracy:
    """The held-out accuracy of fresh critics telling real from filled images.

    mean      mean over seeds of the per-seed accuracy (balanced: the mean of the accuracy on
              the real and on the filled test images), 0.5 = indistinguishable, 1.0 = all caught
    low, high the 95% confidence interval of the mean, Student t over the seeds (seeds - 1
              degrees of freedom), clipped to [0, 1]. It covers the critics' and splits'
              variation on THESE images, not a fresh draw of images: two fixed sets of real
              photographs can differ by chance, so real against real may land a few points off
              0.5 with an interval that misses it (0.47..0.55 over five disjoint pairs of
              256 Tiny ImageNet validation images). Run real against real at the same sizes as
              the floor.
    per_seed  the accuracy of each seed, seeds 0, 1, ...
    n_real, n_filled  the number of images in each set (half of each trains, half tests)
    auc, auc_low, auc_high  the threshold-free score beside the accuracy, which saturates near
              1: the probability that the critic scores a held-out filled image as less real
              than a held-out real one (0.5 indistinguishable, 1 all caught), mean over seeds
              with its 95% Student t interval over the seeds
    caught    float (n_filled,): per filled image, the fraction of held-out real images the
              critic found more real than it, averaged over the seeds that held the image out
              (NaN if none did). Its mean over images is about `auc`. Two fills of the same
              photographs, tested with the same seeds, hold out the same images, so `caught`
              pairs them image by image (`inpaint.study.stats.paired`).
    held_out  held-out images each seed tests on (real + filled); the interval rests on
              `held_out` x seeds predictions from `seeds` critics
    """

    mean: float
    low: float
    high: float
    per_seed: list[float]
    n_real: int
    n_filled: int
    auc: float = float("nan")
    auc_low: float = float("nan")
    auc_high: float = float("nan")
    caught: np.ndarray | None = None
    held_out: int = 0

    def __str__(self) -> str:
        return (f"critic accuracy {self.mean:.3f} (95% CI {self.low:.3f}..{self.high:.3f}), "
                f"AUC {self.auc:.3f} ({self.auc_low:.3f}..{self.auc_high:.3f}); "
                f"{len(self.per_seed)} seeds, {self.n_real} real vs {self.n_filled} filled, "
                f"{self.held_out} held out per seed")


def _views(images: torch.Tensor, masks: torch.Tensor, border: int, name: str) -> torch.Tensor:
    """Check one set and return the critic's input, float32 (N, 4, 64, 64): the image, quantised
    to 8 bits and clipped, times its region, then the region."""
    if not isinstance(images, torch.Tensor) or tuple(images.shape[1:]) != (3, 64, 64):
        shape = tuple(images.shape) if isinstance(images, torch.Tensor) else type(images).__name__
        raise ValueError(f"{name} must be a float tensor (N, 3, 64, 64) in [-1, 1], got {shape}")
    if len(images) < MIN_IMAGES:
        raise ValueError(f"{name} has {len(images)} image(s); the test needs at least "
                         f"{MIN_IMAGES} real and {MIN_IMAGES} filled images (half of each trains "
                         f"the critic, half tests it)")
    if not torch.isfinite(images).all():
        raise ValueError(f"{name} holds NaN or infinite values; check how the images were made")
    masks = validate(masks).to(images.device)
    if masks.shape[0] not in (1, len(images)):
        raise ValueError(f"{name} has {len(images)} images but its masks have {masks.shape[0]}; "
                         f"give one mask per image, or a single (1, 1, 64, 64) mask for all")
    window = region(masks, border).expand(len(images), 1, 64, 64)
    quantised = ((images.detach().float().clamp(-1, 1) + 1) * 127.5).round() / 127.5 - 1
    return torch.cat([quantised * window, window], dim=1)


def _halves(n: int, generator: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
    """A random split of range(n) into a train half (n // 2) and a test half (the rest)."""
    order = torch.randperm(n, generator=generator)
    return order[:n // 2], order[n // 2:]


def _one_seed(real: torch.Tensor, filled: torch.Tensor, seed: int, steps: int, batch: int,
              lr: float) -> tuple[float, float, torch.Tensor, torch.Tensor]:
    """Train a fresh critic for `steps` Adam steps on a random half of each set (balanced
    batches, half real labelled 1 and half filled labelled 0). Returns, on the other halves,
    its balanced accuracy, its AUC, the indices of the held-out filled images and, for each,
    the fraction of held-out real images scored more real than it. The split, the batches and
    the initial weights depend only on `seed`; the global random state is left as it was."""
    generator = torch.Generator().manual_seed(seed)
    real_train, real_test = _halves(len(real), generator)
    filled_train, filled_test = _halves(len(filled), generator)
    half = max(1, batch // 2)
    labels = torch.cat([torch.ones(half), torch.zeros(half)]).to(real.device)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        model = critic().to(real.device)
    optimiser = torch.optim.Adam(model.parameters(), lr=lr)
    model.train()
    for step in range(steps):
        optimiser.param_groups[0]["lr"] = lr * (1 - step / steps)  # linear decay, steadier end
        pick_real = real_train[torch.randint(len(real_train), (half,), generator=generator)]
        pick_filled = filled_train[torch.randint(len(filled_train), (half,), generator=generator)]
        logits = model(torch.cat([real[pick_real], filled[pick_filled]]))
        loss = F.binary_cross_entropy_with_logits(logits, labels)
        optimiser.zero_grad()
        loss.backward()
        optimiser.step()
    model.eval()
    with torch.no_grad():
        real_scores, filled_scores = model(real[real_test]), model(filled[filled_test])
    real_right = (real_scores > 0).float().mean().item()
    filled_right = (filled_scores <= 0).float().mean().item()
    # Ties count a half, as in the Mann-Whitney statistic.
    above = (real_scores[None, :] > filled_scores[:, None]).float()
    ties = (real_scores[None, :] == filled_scores[:, None]).float()
    caught = (above + ties / 2).mean(dim=1).cpu()
    return (real_right + filled_right) / 2, caught.mean().item(), filled_test, caught


def two_sample_test(real: torch.Tensor, real_masks: torch.Tensor, filled: torch.Tensor,
                    filled_masks: torch.Tensor, seeds: int = 5, steps: int = 150,
                    batch: int = 64, border: int = 4, lr: float = 2e-3,
                    progress: bool = False) -> CriticAccuracy:
    """How well fresh critics tell real images from filled ones, on images they did not train on.

    real: float (N, 3, 64, 64) in [-1, 1], real photographs; real_masks: their masks, (N, 1, 64,
    64) or (1, 1, 64, 64), 1 = known, 0 = hole; the critic sees each real image through its
    mask's region, so give the real images the same kind of mask as the filled ones.
    filled: float (M, 3, 64, 64) in [-1, 1], completions of OTHER photographs (the caller
    guarantees that no filled image's source is among `real`); filled_masks: their masks.
    N and M must be at least 8 each; they may differ.

    For each seed 0 .. seeds-1: a fresh critic (see `critic`), a fresh random 50/50 split of each
    set, `steps` Adam steps (learning rate falling linearly from lr to 0) of binary
    cross-entropy on balanced batches of `batch` images from the train halves, then the
    balanced accuracy on the test halves. The defaults take about 5 s per seed for 256 against
    256 images on one CPU thread.
    Deterministic for given inputs (and thread count), and it leaves the global random state
    untouched. Runs in float32 on real's device, with the caller's thread setting; progress
    shows a bar over the seeds. Returns a CriticAccuracy (mean, 95% interval, per-seed values).
    """
    if real is filled:
        raise ValueError("real and filled are the same tensor; the test compares real photographs "
                         "with completions of DIFFERENT photographs (e.g. split a validation set "
                         "in two, fill the second half)")
    if seeds < 2:
        raise ValueError(f"seeds must be at least 2 for a confidence interval, got {seeds}")
    if steps < 1 or batch < 2:
        raise ValueError(f"steps must be at least 1 and batch at least 2, got {steps} and {batch}")
    real_views = _views(real, real_masks, border, "real")
    filled_views = _views(filled, filled_masks, border, "filled").to(real_views.device)
    runs = [_one_seed(real_views, filled_views, seed, steps, batch, lr)
            for seed in tqdm(range(seeds), desc="critic seeds", disable=not progress)]
    per_seed = [run[0] for run in runs]
    total, count = torch.zeros(len(filled)), torch.zeros(len(filled))
    for _, _, held_out, caught in runs:
        total[held_out] += caught
        count[held_out] += 1
    caught = torch.where(count > 0, total / count.clamp(min=1), float("nan")).numpy()
    mean, low, high = _t_mean([run[0] for run in runs])
    auc, auc_low, auc_high = _t_mean([run[1] for run in runs])
    held_out = (len(real) - len(real) // 2) + (len(filled) - len(filled) // 2)
    return CriticAccuracy(mean=mean, low=low, high=high, per_seed=per_seed, n_real=len(real),
                          n_filled=len(filled), auc=auc, auc_low=auc_low, auc_high=auc_high,
                          caught=caught, held_out=held_out)


def _t_mean(values: list[float]) -> tuple[float, float, float]:
    """Mean and 95% Student t interval over seeds, clipped to [0, 1] (a rate; with few seeds
    the t interval can cross either end)."""
    mean = sum(values) / len(values)
    spread = math.sqrt(sum((a - mean) ** 2 for a in values) / (len(values) - 1))
    half_width = float(stats.t.ppf(0.975, len(values) - 1)) * spread / math.sqrt(len(values))
    return mean, max(0.0, mean - half_width), min(1.0, mean + half_width)

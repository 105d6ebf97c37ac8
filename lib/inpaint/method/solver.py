"""The latent-space inpainting solver of Yeh et al. (CVPR 2017).

Given a corrupted image y and its mask M (1 = known pixel, 0 = hole), find the latent code

    z* = argmin_z  ||W * (G(z) - y)||_p^p  +  lam * log(1 - D(G(z)))
                   `---- context loss ---'    `-- perceptual loss --'

then fill the hole with G(z*) (see `blend`). W is the mask itself ("plain") or Yeh's importance
weights ("yeh"): each known pixel weighted by the fraction of hole pixels in a window around it.

Normalisation. Both terms are per image and the context term is a *sum* over pixels and channels
of images in [-1, 1], as in the paper, so lam = 0.003 means what it means there. The original
course post used a per-pixel *mean* of the squared error (over 64*64*3 = 12,288 values); a post
weight lam_post corresponds to lam = 12,288 * lam_post here (and lam here to lam / 12,288 there).

Two optimisation rules:
  "gd"   the post's: plain gradient descent on z, each image stopping on its own when the l1 norm
         of its gradient falls below `tol` (1e-4 in the post), or after `iters` iterations;
  "adam" the paper's: Adam, z clipped to [-1, 1] after every step, for `iters` iterations (1,500).
Multi-start: `restarts` codes per image are optimised in one batch. `combine` says how an image's
K results become one fill:
  "best"  Yeh's rule and the post's next step: the start with the lowest final loss;
  "mean"  the ensemble: the average of the K images G(z_k). Each search lands on one plausible
          fill; their average estimates what the plausible fills agree on (the posterior mean,
          the fill that minimises the expected squared error), at the price of detail.
G and D are in eval mode (batch-norm running statistics), and each image's starting codes come
from a random stream of its own (`initial_codes`), so an image's result never depends on the
other images in its batch, nor on its place there.

Speed. G and D run channels_last, and their forward and backward passes in the precision training
would choose (`inpaint.method.precision.resolve_precision`): bfloat16 autocast on a CPU with native
bf16, float32
elsewhere (`precision` forces either). z, Adam's state, the losses and the returned images are
float32,
and the final G(z*) and losses are computed in float32. The loss and gradient histories stay on the
device until the end, so a GPU is never made to wait for the host inside the loop.
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass, field, replace
import numpy as np
import torch
import torch.nn.functional as F
from tqdm.auto import tqdm

from inpaint.method.checks import check_choice, check_count, check_number
from inpaint.method.models import sample_z
from inpaint.method.precision import PRECISIONS, autocast, resolve_precision

# The largest lam and lr accepted: far beyond any useful value, and small enough that the weighted
# loss and the step stay finite in float32 (whose largest number is about 3.4e38).
SCALE_LIMIT = 1e6


@dataclass(frozen=True)
class SolverConfig:
    """The solver's settings. Each field's metadata["help"] is also its command-line help."""

    lam: float = field(default=0.003, metadata={
        "help": "weight of the perceptual term lam * log(1 - D(G(z))); 0: the context loss only"})
    norm: str = field(default="l1", metadata={
        "help": 'context loss: "l1" (the paper) or "l2" (the course post)'})
    weighting: str = field(default="yeh", metadata={
        "help": '"yeh" (importance weights: known pixels near the hole count most) or "plain" '
                '(every known pixel alike)'})
    window: int = field(default=7, metadata={
        "help": "side of Yeh's weighting window, in pixels (odd)"})
    optimizer: str = field(default="adam", metadata={
        "help": '"adam" (the paper: Adam, z clipped to [-1, 1]) or "gd" (the post: plain '
                'gradient descent)'})
    iters: int = field(default=1500, metadata={
        "help": "iteration budget per image (the paper: 1,500)"})
    lr: float = field(default=0.01, metadata={
        "help": "step size of either optimizer"})
    tol: float = field(default=1e-4, metadata={
        "help": '"gd" only: stop an image when the l1 norm of its gradient in z is below tol'})
    restarts: int = field(default=1, metadata={
        "help": "starting codes per image, optimised together (see combine)"})
    combine: str = field(default="best", metadata={
        "help": 'how the starts become one fill: "best" (Yeh: the start with the lowest final '
                'loss) or "mean" (the ensemble: the average of every start\'s image)'})
    seed: int = field(default=0, metadata={
        "help": "seeds the starting codes (with each image's own pixels, so an image gets the "
                "same codes alone or in a batch)"})
    precision: str = field(default="auto", metadata={
        "help": 'G and D passes: "bf16" (autocast), "fp32", or "auto": as training picks (bf16 '
                'on a CPU with native bf16, else fp32); z, losses and images stay fp32'})

    def __post_init__(self):
        """Refuse settings that would return a wrong or empty result (NaN lam, no iteration, a
        lam or lr so large that float32 overflows and the fill comes out black)."""
        check_number("lam", self.lam, f"from 0 to {SCALE_LIMIT:g} (larger overflows float32)",
                     lambda v: 0 <= v <= SCALE_LIMIT)
        check_choice("norm", self.norm, ("l1", "l2"))
        check_choice("weighting", self.weighting, ("yeh", "plain"))
        check_count("window", self.window)
        if self.window % 2 == 0:
            raise ValueError(f"window must be odd (a square centred on a pixel), got "
                             f"{self.window}; set window (--window) to an odd number such as 7")
        check_choice("optimizer", self.optimizer, ("adam", "gd"))
        check_count("iters", self.iters)
        check_number("lr", self.lr, f"greater than 0 and at most {SCALE_LIMIT:g} (larger "
                     f"overflows float32)", lambda v: 0 < v <= SCALE_LIMIT)
        check_number("tol", self.tol, "of at least 0", lambda v: v >= 0)
        check_count("restarts", self.restarts)
        check_choice("combine", self.combine, ("best", "mean"))
        check_count("seed", self.seed, least=0)
        check_choice("precision", self.precision, PRECISIONS)


def saturated(images: torch.Tensor, share: float = 0.9) -> torch.Tensor:
    """Which fills are G's tanh saturated: images float (N, 3, H, W) in [-1, 1] -> bool (N,), True
    where more than `share` of the values sit at -1 or 1 (black, white and pure primaries). That is
    what plain gradient descent with a huge step gives: z thrown far outside the prior that G was
    trained on. A failed search, like a loss that is not finite; adam keeps z in [-1, 1]."""
    return (images.abs() >= 0.999).flatten(1).float().mean(1) > share


@dataclass
class Completion:
    """The solver's result for N images.

    generated   float (N, 3, 64, 64) in [-1, 1]: the fill, G(z*) of the best start of each image
                (combine "best") or the mean of every start's G(z) (combine "mean")
    z           float (N, 100) in [-1, 1] for "adam" (unbounded for "gd"), of the best start
    loss, context, perceptual   float (N,): the final terms of the best start (perceptual
                unweighted: log(1 - D(G(z))), so loss = context + lam * perceptual)
    iterations  int (N,): iterations the best start ran (< iters when "gd" stopped it)
    start_losses float (N, K): the final loss of every start
    starts      float (N, K, 3, 64, 64) in [-1, 1]: G(z) of every start, best or not (what
                `ensemble` averages)
    history     {"loss", "grad_l1"}: float (T, N) per iteration for the best start
    at          {k: Completion}: for each checkpoint k asked of `complete`, the result a run of k
                iterations would have returned (same float32 final pass, same choice of the best
                start, same history up to k), taken from this one search; its own `at` is empty
    """

    generated: torch.Tensor
    z: torch.Tensor
    loss: torch.Tensor
    context: torch.Tensor
    perceptual: torch.Tensor
    iterations: torch.Tensor
    start_losses: torch.Tensor
    starts: torch.Tensor
    history: dict[str, np.ndarray]
    at: dict[int, "Completion"] = field(default_factory=dict)


def yeh_weights(mask: torch.Tensor, window: int = 7) -> torch.Tensor:
    """Importance weights (N, 1, H, W) in [0, 1]: for a known pixel, the fraction of hole pixels
    among the pixels of the `window` x `window` square centred on it (inside the image); 0 in the
    hole. Known pixels next to the hole count most, those far from it not at all."""
    if window % 2 == 0:
        raise ValueError(f"the weighting window must be odd, got {window}")
    hole_fraction = F.avg_pool2d(1 - mask, window, stride=1, padding=window // 2,
                                 count_include_pad=False)
    return mask * hole_fraction


def context_weights(mask: torch.Tensor, config: SolverConfig) -> torch.Tensor:
    if config.weighting == "yeh":
        return yeh_weights(mask, config.window)
    if config.weighting == "plain":
        return mask
    raise ValueError(f"weighting must be 'yeh' or 'plain', not {config.weighting!r}")


def context_loss(generated: torch.Tensor, y: torch.Tensor, weights: torch.Tensor,
                 norm: str) -> torch.Tensor:
    """||W * (G(z) - y)||_p^p per image, summed over pixels and channels: (N,)."""
    difference = (weights * (generated - y)).abs()
    if norm == "l1":
        return difference.sum(dim=(1, 2, 3))
    if norm == "l2":
        return difference.pow(2).sum(dim=(1, 2, 3))
    raise ValueError(f"norm must be 'l1' or 'l2', not {norm!r}")


def perceptual_loss(logits: torch.Tensor) -> torch.Tensor:
    """log(1 - D(G(z))) per image from D's logit l, computed stably as -softplus(l): (N,).
    It decreases as D finds the image more real, so minimising it pushes G(z) towards realism."""
    return -F.softplus(logits)


def losses(generator, discriminator, z, y, weights, config: SolverConfig):
    """(total, context, perceptual), each (N,), and G(z), for codes z (N, 100)."""
    generated = generator(z)  # bfloat16 under bf16 autocast; the losses are float32 either way
    context = context_loss(generated, y, weights, config.norm)
    perceptual = perceptual_loss(discriminator(generated).float())
    return context + config.lam * perceptual, context, perceptual, generated


def image_keys(y: torch.Tensor, mask: torch.Tensor) -> list[int]:
    """A key per image from what the solver may see of it: its known pixels at 8 bits and its
    mask. y: float (N, 3, H, W) in [-1, 1]; mask: (N, 1, H, W), 1 known, 0 hole. The same image
    and mask give the same key wherever they sit in a batch, and hidden pixels never change it."""
    known = mask.detach().cpu() > 0.5
    levels = ((y.detach().cpu().float().clamp(-1, 1) + 1) * 127.5).round().to(torch.uint8)
    levels = torch.where(known, levels, torch.zeros_like(levels))
    keys = []
    for image, where in zip(levels, known):
        digest = hashlib.sha256(image.numpy().tobytes() + where.numpy().tobytes()).digest()
        keys.append(int.from_bytes(digest[:7], "little"))
    return keys


def initial_codes(keys: list[int], config: SolverConfig, z_dim: int = 100) -> torch.Tensor:
    """Starting codes (len(keys) * restarts, z_dim) in U(-1, 1); image i owns rows i*K .. i*K+K-1.

    Image i's codes come from a random stream of its own, seeded by config.seed and its key
    (`image_keys`), so an image starts from the same codes alone, in any batch, at any place and
    at any batch size, and a comparison of two settings on the same images is paired start for
    start. Each stream is drawn start by start, so start k of an image is the same whatever K
    is: a run with K starts contains the run with one start, and can only end with a lower loss.
    """
    codes = [sample_z(config.restarts, z_dim, generator=torch.Generator().manual_seed(
        (config.seed * 0x9E3779B97F4A7C15 + key) % 2 ** 63)) for key in keys]
    return torch.cat(codes) if codes else torch.empty(0, z_dim)


def stop_check_every(device: torch.device) -> int:
    """How often "gd" asks whether every image has stopped. On a GPU each question waits for it
    to finish its queue, so only every 25 iterations (iterations past the last stop change
    nothing: a stopped code no longer moves); on the CPU the question is free."""
    return 1 if device.type == "cpu" else 25


def complete(generator, discriminator, y: torch.Tensor, mask: torch.Tensor,
             config: SolverConfig = SolverConfig(), z0: torch.Tensor | None = None,
             progress: bool = True, checkpoints: tuple[int, ...] = ()) -> Completion:
    """Optimise latent codes so that G(z) fits y's known pixels and looks real to D.

    y: float (N, 3, 64, 64) in [-1, 1]; mask: (N, 1, 64, 64), 1 known, 0 hole.
    z0: optional starting codes (N * restarts, 100); by default `initial_codes` of each image's
    own key, so that an image's result does not depend on the other images in the batch.
    Hidden pixels of y are multiplied by zero weights, so they never influence the result.
    G and D are put in eval mode, frozen and made channels_last, in place (what they compute is
    unchanged). Their passes run in `config.precision`; see the module's "Speed".
    checkpoints: iteration counts k (1 <= k <= config.iters) at which to also take the result:
    `Completion.at[k]` is exactly what a run with iters=k would return (torch.equal), so one
    search of config.iters iterations gives the fill at every budget. Each costs one float32
    forward pass of G and D.
    """
    wanted = sorted(set(int(k) for k in checkpoints))
    if wanted and not 1 <= wanted[0] <= wanted[-1] <= config.iters:
        raise ValueError(f"checkpoints must be iteration counts from 1 to iters ({config.iters}), "
                         f"got {list(checkpoints)}")
    known = mask.to(y.device) > 0.5
    if not (torch.isfinite(y) | ~known).all():
        raise ValueError("the known pixels of the images contain NaN or infinite values; "
                         "fix the input (hidden pixels may be anything)")
    device = next(generator.parameters()).device
    precision = resolve_precision(config.precision, device)
    for network in (generator, discriminator):
        network.eval().requires_grad_(False).to(memory_format=torch.channels_last)
    n, k = len(y), config.restarts
    # Each start gets its own copy of its image; rows i*K .. i*K+K-1 belong to image i.
    y_rep = y.to(device).repeat_interleave(k, dim=0)
    weights = context_weights(mask.to(device).float(), config).repeat_interleave(k, dim=0)
    y_rep = torch.where(weights > 0, y_rep, 0.0)  # the solver never sees hidden pixels
    y_rep = y_rep.contiguous(memory_format=torch.channels_last)  # G(z)'s layout
    z = initial_codes(image_keys(y, mask), config) if z0 is None else z0.clone()
    z = z.to(device).requires_grad_(True)
    optimizer = (torch.optim.Adam([z], lr=config.lr, fused=device.type == "cuda")
                 if config.optimizer == "adam" else None)
    active = torch.ones(n * k, dtype=torch.bool, device=device)
    iterations = torch.zeros(n * k, dtype=torch.long, device=device)
    # Row t: the loss and ||grad_z||_1 of every code at iteration t, kept on the device.
    loss_history = torch.zeros(config.iters, n * k, device=device)
    grad_history = torch.zeros(config.iters, n * k, device=device)
    check_every = stop_check_every(device)

    def result(budget: int) -> Completion:
        """What a run of `budget` iterations returns, from the search's present state."""
        with torch.no_grad():  # the result in float32, whatever the loop ran in
            total, context, perceptual, generated = losses(generator, discriminator, z, y_rep,
                                                           weights, config)
        start_losses = total.view(n, k)
        best = start_losses.argmin(dim=1) + torch.arange(n, device=device) * k
        # Every code stopped: the history ends at the iteration where the last one did.
        rows = budget if active.any() else int(iterations.max()) + 1
        history = torch.stack([loss_history[:rows, best],
                               grad_history[:rows, best]]).cpu().numpy()
        starts = generated.detach().contiguous().view(n, k, *generated.shape[1:])
        fill = starts.mean(dim=1) if config.combine == "mean" else generated[best].detach()
        return Completion(
            generated=fill.contiguous(), z=z[best].detach().clone(), loss=total[best],
            context=context[best], perceptual=perceptual[best],
            iterations=iterations[best].cpu(), start_losses=start_losses.cpu(), starts=starts,
            history={"loss": history[0], "grad_l1": history[1]})

    snapshots: dict[int, Completion | None] = dict.fromkeys(w for w in wanted if w < config.iters)
    for t in tqdm(range(config.iters), desc=f"solve {n}x{k} ({config.optimizer}, {precision})",
                  disable=not progress, mininterval=1.0):
        with autocast(device, precision):
            total, _, _, _ = losses(generator, discriminator, z, y_rep, weights, config)
        (grad,) = torch.autograd.grad(total.sum(), z)
        grad_l1 = grad.abs().sum(dim=1)
        loss_history[t] = total.detach()
        grad_history[t] = grad_l1
        if config.optimizer == "gd":
            active &= grad_l1 >= config.tol
            with torch.no_grad():
                z -= config.lr * grad * active[:, None]
            iterations += active
            if (t + 1) % check_every == 0 and not active.any():
                break
        else:
            optimizer.zero_grad(set_to_none=True)
            z.grad = grad
            optimizer.step()
            with torch.no_grad():
                z.clamp_(-1, 1)
            iterations += active
        if t + 1 in snapshots:
            snapshots[t + 1] = result(t + 1)

    for budget in snapshots:  # "gd" stopped every code before these: nothing moved since
        if snapshots[budget] is None:
            snapshots[budget] = result(budget)
    final = result(config.iters)
    if config.iters in wanted:
        snapshots[config.iters] = replace(final)
    final.at = dict(sorted(snapshots.items()))
    return final

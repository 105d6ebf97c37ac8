"""Intermediate Layer Optimization (Daras et al., ICML 2021), for the study's 64x64 DCGAN.

Yeh's search moves z, the input of G's first layer, so the fill is an image G can make from
some z. ILO goes on from there, one layer deeper at a time: after z, it moves the output of G's
first block (4x4), then of the second (8x8), and so on, each time feeding the rest of G from the
moved output, so the fill can leave G's range a little. What keeps it near the range is a ball:
each round moves the layer's output by at most `radius` per value on average (an L1 ball of
radius `radius` times the number of values around where the round started; ILO's
`project_onto_l1_ball`), and the iterate with the lowest loss is kept (ILO keeps the lowest
error on the observed pixels).

The loss is Yeh's objective, the solver's own terms (`solver.context_loss` with the configured
norm and weighting, plus lam * log(1 - D(image))), so ILO and Yeh's search differ only in what
they move. Each round runs Adam with ILO's learning-rate schedule (a cosine ramp-down over the
round's last `rampdown` share, after a linear ramp-up over its first `rampup`).

Start: the codes z of Yeh's search (`solver.complete(...).z`). Each image runs alone in float32:
its result does not depend on the other images of a call, and a run repeats bit for bit.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field

import torch
from tqdm.auto import tqdm

from inpaint.method.checks import check_number
from inpaint.method.dgp import prepare
from inpaint.method.models import Discriminator, Generator
from inpaint.method.solver import SolverConfig, context_loss, context_weights, perceptual_loss

LAYERS = 4  # the outputs of G's first four blocks: 4x4, 8x8, 16x16, 32x32


@dataclass(frozen=True)
class ILOConfig:
    """ILO's settings (see the module's text); `layers` and `steps` go together, one per round."""

    layers: tuple[int, ...] = field(default=(1, 2, 3), metadata={
        "help": "the blocks whose outputs are moved, in turn (1: 4x4 ... 4: 32x32)"})
    steps: tuple[int, ...] = field(default=(100, 100, 100), metadata={
        "help": "Adam iterations of each round"})
    lr: float = field(default=0.05, metadata={"help": "Adam's peak learning rate"})
    radius: float = field(default=0.1, metadata={
        "help": "how far a round may move a layer's output: mean absolute change per value"})
    rampup: float = field(default=0.05, metadata={"help": "share of a round ramping lr up"})
    rampdown: float = field(default=0.75, metadata={"help": "share of a round ramping lr down"})

    def __post_init__(self):
        if not self.layers or len(self.layers) != len(self.steps):
            raise ValueError(f"layers and steps must name the same rounds (one step count per "
                             f"layer), got {len(self.layers)} layers and {len(self.steps)} step "
                             f"counts; give each layer its steps")
        if list(self.layers) != sorted(set(self.layers)) or not all(
                isinstance(v, int) and 1 <= v <= LAYERS for v in self.layers):
            raise ValueError(f"layers must rise from 1 to {LAYERS} without repeats (ILO goes "
                             f"deeper each round), got {list(self.layers)}; e.g. (1, 2, 3)")
        for steps in self.steps:
            check_number("steps", steps, "of at least 1", lambda v: float(v).is_integer()
                         and v >= 1)
        check_number("lr", self.lr, "greater than 0", lambda v: v > 0)
        check_number("radius", self.radius, "of at least 0", lambda v: v >= 0)
        for name in ("rampup", "rampdown"):
            check_number(name, getattr(self, name), "in (0, 1]", lambda v: 0 < v <= 1)


@dataclass
class ILOResult:
    """ILO's result for N images.

    generated  float (N, 3, 64, 64) in [-1, 1]: the image of the lowest-loss iterate
    rounds     float (R, N, 3, 64, 64) in [-1, 1]: that image after each round
    loss       float (N,): its loss (Yeh's objective)
    start_loss float (N,): the loss of G(z) at the start
    """

    generated: torch.Tensor
    rounds: torch.Tensor
    loss: torch.Tensor
    start_loss: torch.Tensor


def project_l1_ball(v: torch.Tensor, radius: float) -> torch.Tensor:
    """The point of the L1 ball of `radius` around 0 closest to v (any shape) in Euclidean
    distance (Duchi et al. 2008): v itself when ||v||_1 <= radius, else every value shrunk
    towards 0 by the one threshold that brings the L1 norm to the radius."""
    flat = v.flatten()
    if flat.abs().sum() <= radius:
        return v.clone()
    if radius == 0:
        return torch.zeros_like(v)
    size, _ = flat.abs().sort(descending=True)
    total = size.cumsum(0)
    ranks = torch.arange(1, len(size) + 1, dtype=size.dtype, device=size.device)
    rho = int(torch.nonzero(size * ranks > total - radius).max())
    theta = (total[rho] - radius) / (rho + 1)
    return (v.sign() * (v.abs() - theta).clamp(min=0)).reshape(v.shape)


def block_end(layer: int) -> int:
    """The index in G.net after block `layer`'s ReLU (layer 1: 4x4 ... 4: 32x32)."""
    return 3 * layer


def learning_rate(config: ILOConfig, step: int, steps: int) -> float:
    """ILO's schedule at `step` of a round of `steps`: a cosine ramp-down over the last
    `rampdown` share, times a linear ramp-up over the first `rampup` share."""
    t = step / steps
    ramp = min(1.0, (1 - t) / config.rampdown)
    ramp = 0.5 - 0.5 * math.cos(ramp * math.pi)
    return config.lr * ramp * min(1.0, t / config.rampup)


def ilo_one(generator: Generator, discriminator: Discriminator, y: torch.Tensor,
            weights: torch.Tensor, z: torch.Tensor, config: ILOConfig, objective: SolverConfig
            ) -> tuple[torch.Tensor, torch.Tensor, float, float]:
    """ILO for one image: y (1, 3, 64, 64) with hidden pixels zeroed, its context weights
    (1, 1, 64, 64), its start code z (1, 100). Returns (the best image (1, 3, 64, 64), the best
    image after each round (R, 3, 64, 64), its loss, the start's loss)."""
    layers = list(generator.net)

    def loss_of(image):
        return (context_loss(image, y, weights, objective.norm)
                + objective.lam * perceptual_loss(discriminator(image).float()))[0]

    with torch.no_grad():
        state = generator.net[:block_end(config.layers[0])](z.view(1, -1, 1, 1))
        best_image = generator(z)
        start_loss = best_loss = float(loss_of(best_image))
    done, rounds = block_end(config.layers[0]), []
    for layer, steps in zip(config.layers, config.steps):
        with torch.no_grad():  # carry the kept state forward to this round's layer
            for module in layers[done:block_end(layer)]:
                state = module(state)
        done = block_end(layer)
        tail = torch.nn.Sequential(*layers[done:])
        origin = state.detach().clone()
        budget = config.radius * origin.numel()
        moved = origin.clone().requires_grad_(True)
        optimizer = torch.optim.Adam([moved], lr=config.lr)
        best_state = origin.clone()
        for step in range(steps):
            optimizer.param_groups[0]["lr"] = learning_rate(config, step, steps)
            loss = loss_of(tail(moved))
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            with torch.no_grad():
                moved.copy_(origin + project_l1_ball(moved - origin, budget))
                image = tail(moved)
                now = float(loss_of(image))
                if now < best_loss:
                    best_loss, best_image, best_state = now, image.clone(), moved.detach().clone()
        state = best_state
        rounds.append(best_image[0].clone())
    return best_image, torch.stack(rounds), best_loss, start_loss


def ilo_complete(generator: Generator, discriminator: Discriminator, y: torch.Tensor,
                 mask: torch.Tensor, z: torch.Tensor, config: ILOConfig = ILOConfig(),
                 objective: SolverConfig = SolverConfig(), progress: bool = True) -> ILOResult:
    """Fill the holes of y (N, 3, 64, 64) in [-1, 1] under mask (N, 1, 64, 64) (1 known, 0
    hole) by ILO from codes z (N, 100) (Yeh's search's), with Yeh's objective as `objective`
    configures it (lam, norm, weighting). Hidden pixels of y never influence the result."""
    if len(z) != len(y):
        raise ValueError(f"z must hold one code per image ({len(y)}), got {len(z)}; pass the "
                         f"codes of the solver's result for the same images")
    device = prepare(generator, discriminator, y, mask)
    weights = context_weights(mask.float().to(device), objective)
    y = torch.where(weights > 0, y.float().to(device), 0.0)
    images, rounds, losses, starts = [], [], [], []
    for i in tqdm(range(len(y)), desc=f"ILO {len(y)} images", disable=not progress,
                  mininterval=1.0):
        image, kept, loss, start = ilo_one(generator, discriminator, y[i:i + 1],
                                           weights[i:i + 1], z[i:i + 1].float().to(device),
                                           config, objective)
        images.append(image[0])
        rounds.append(kept)
        losses.append(loss)
        starts.append(start)
    empty = torch.empty(0, 3, 64, 64)
    return ILOResult(
        generated=torch.stack(images) if images else empty,
        rounds=torch.stack(rounds, dim=1) if rounds else empty.unsqueeze(0)[:0],
        loss=torch.tensor(losses), start_loss=torch.tensor(starts))

"""Deep Generative Prior (Pan et al., ECCV 2020), for the study's 64x64 DCGAN.

Yeh's search moves only z, so a fill can be no better than the closest image G can make. DGP also
moves G, one image at a time, in two steps:

1. **The start.** Among `candidates` codes drawn from the prior (the solver's own starting codes
   of the image, `solver.initial_codes`, so candidate 0 is Yeh's first start), the one whose G(z)
   is closest to the image in the discriminator's features, on the known pixels only: the hole
   is zeroed in both (`masked`), and the distance is the L1 distance of the last
   `select_features` feature maps of D (`discriminator_features`).
2. **Progressive fine-tuning.** Stage by stage, Adam moves z (clipped to the prior's [-1, 1])
   and the first `blocks[s]` blocks of G, counted from the z end, shallow blocks first, against
       w_features[s] * sum of L1 distances of D's last `features` maps of M*G(z) and M*y
     + w_mse[s] * mean squared error of M*G(z) and M*y.
   G is in eval mode (batch-norm running statistics): only weights move. One Adam serves every
   block through the stages, a block outside `blocks[s]` runs at learning rate 0 (DGP's
   `LRScheduler`), so its moments keep counting as in the original.

The defaults follow DGP's ImageNet 128-px inpainting script (`experiments/imagenet1k_128/
inpainting/train.sh`: 5 stages of 200 iterations; G at 2e-4, 2e-4, 1e-4, 1e-4, 1e-5; z at 1e-3,
1e-3, 1e-4, 1e-4, 1e-5; feature weights 1, 1, 1, 0.1, 0.1; MSE weights 10, 10, 10, 100, 100; 500
candidates, the start chosen on 3 feature maps), with the blocks fine-tuned progressively as the
paper describes (1 to 5 of the DCGAN's 5). What differs from it, because the networks differ: the
prior is uniform on [-1, 1] (so z is clipped instead of DGP's Gaussian negative log-likelihood
term), and there is no class embedding or instance normalisation to tune.

Each image is fine-tuned alone, on its own copy of G, in float32: its result does not depend on
the other images of a call, and a seeded run repeats bit for bit.
"""
from __future__ import annotations

import copy
from dataclasses import dataclass, field

import torch
import torch.nn.functional as F
from tqdm.auto import tqdm

from inpaint.method.checks import check_count, check_number
from inpaint.method.models import Discriminator, Generator
from inpaint.method.solver import SolverConfig, image_keys, initial_codes

STAGES = 5  # DGP's stages, and the DCGAN generator's blocks


@dataclass(frozen=True)
class DGPConfig:
    """DGP's settings, one value per stage where a field is a tuple (see the module's text)."""

    candidates: int = field(default=500, metadata={
        "help": "codes from the prior the start is chosen from"})
    select_features: int = field(default=3, metadata={
        "help": "D's last feature maps the start is chosen on (DGP: 3)"})
    features: int = field(default=4, metadata={
        "help": "D's last feature maps in the fine-tuning loss (the DCGAN's D has 4)"})
    iters: tuple[int, ...] = field(default=(200,) * STAGES, metadata={
        "help": "Adam iterations of each stage"})
    blocks: tuple[int, ...] = field(default=(1, 2, 3, 4, 5), metadata={
        "help": "G's blocks fine-tuned in each stage, counted from z (0: z alone)"})
    g_lrs: tuple[float, ...] = field(default=(2e-4, 2e-4, 1e-4, 1e-4, 1e-5), metadata={
        "help": "G's learning rate in each stage"})
    z_lrs: tuple[float, ...] = field(default=(1e-3, 1e-3, 1e-4, 1e-4, 1e-5), metadata={
        "help": "z's learning rate in each stage"})
    w_features: tuple[float, ...] = field(default=(1.0, 1.0, 1.0, 0.1, 0.1), metadata={
        "help": "weight of the discriminator-feature loss in each stage"})
    w_mse: tuple[float, ...] = field(default=(10.0, 10.0, 10.0, 100.0, 100.0), metadata={
        "help": "weight of the known pixels' mean squared error in each stage"})
    seed: int = field(default=0, metadata={
        "help": "seeds the candidates (with each image's own pixels, as the solver's starts)"})

    def __post_init__(self):
        check_count("candidates", self.candidates)
        for name in ("select_features", "features"):
            check_number(name, getattr(self, name), "from 1 to 4 (the DCGAN's D has 4 maps)",
                         lambda v: float(v).is_integer() and 1 <= v <= 4)
        stages = len(self.iters)
        if stages == 0:
            raise ValueError("iters must name at least one stage; set iters to e.g. (200,)")
        for name in ("blocks", "g_lrs", "z_lrs", "w_features", "w_mse"):
            if len(getattr(self, name)) != stages:
                raise ValueError(f"{name} must have one value per stage ({stages}, as iters), "
                                 f"got {len(getattr(self, name))}; give {name} {stages} values")
        for stage in range(stages):
            check_count("iters", self.iters[stage])
            check_number("blocks", self.blocks[stage], f"from 0 to {STAGES}",
                         lambda v: float(v).is_integer() and 0 <= v <= STAGES)
            for name in ("g_lrs", "z_lrs", "w_features", "w_mse"):
                check_number(name, getattr(self, name)[stage], "of at least 0", lambda v: v >= 0)
        check_count("seed", self.seed, least=0)


@dataclass
class DGPResult:
    """DGP's result for N images.

    generated  float (N, 3, 64, 64) in [-1, 1]: the fine-tuned G's image of the final z
    stages     float (S, N, 3, 64, 64) in [-1, 1]: that image at the end of each stage
    start      float (N, 3, 64, 64) in [-1, 1]: G(z) of the chosen start, before fine-tuning
    z          float (N, 100) in [-1, 1]: the final codes
    """

    generated: torch.Tensor
    stages: torch.Tensor
    start: torch.Tensor
    z: torch.Tensor


def generator_blocks(generator: Generator) -> list[list[torch.nn.Parameter]]:
    """G's parameters in its 5 blocks from z to the image: each transposed convolution with the
    batch norm after it (the last has none)."""
    layers = list(generator.net)
    blocks, current = [], []
    for layer in layers:
        if isinstance(layer, torch.nn.ConvTranspose2d) and current:
            blocks.append(current)
            current = []
        current += list(layer.parameters())
    return blocks + [current]


def discriminator_features(discriminator: Discriminator, x: torch.Tensor) -> list[torch.Tensor]:
    """D's 4 feature maps of images x (N, 3, 64, 64) in [-1, 1]: the activations after each
    leaky ReLU, (N, w, 32, 32) ... (N, 8w, 4, 4), from the image end to the logit."""
    maps = []
    for layer in discriminator.net:
        x = layer(x)
        if isinstance(layer, torch.nn.LeakyReLU):
            maps.append(x)
    return maps


def feature_distance(discriminator, x: torch.Tensor, target_maps: list[torch.Tensor],
                     last: int) -> torch.Tensor:
    """Per image (N,): the sum over D's `last` feature maps of the mean L1 distance between x's
    maps and the target's (DGP's `DiscriminatorLoss`)."""
    maps = discriminator_features(discriminator, x)[-last:]
    return sum((m - t).abs().flatten(1).mean(1) for m, t in zip(maps, target_maps[-last:]))


def masked(images: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """The known pixels of images (N, 3, 64, 64), the hole set to 0 (mid grey), as DGP degrades
    both G's image and the target before comparing them."""
    return images * mask


def choose_start(generator, discriminator, y: torch.Tensor, mask: torch.Tensor,
                 candidates: torch.Tensor, last: int, batch: int = 100) -> torch.Tensor:
    """The candidate code (1, 100) whose G(z) is closest to y on the known pixels in D's last
    `last` feature maps. y (1, 3, 64, 64) in [-1, 1], mask (1, 1, 64, 64), candidates (K, 100)."""
    with torch.no_grad():
        target = discriminator_features(discriminator, masked(y, mask))
        distances = torch.cat([
            feature_distance(discriminator, masked(generator(codes), mask),
                             [t.expand(len(codes), *t.shape[1:]) for t in target], last)
            for codes in candidates.split(batch)])
    return candidates[distances.argmin()].unsqueeze(0)


def fine_tune(generator: Generator, discriminator: Discriminator, y: torch.Tensor,
              mask: torch.Tensor, z0: torch.Tensor, config: DGPConfig = DGPConfig()
              ) -> tuple[Generator, torch.Tensor, torch.Tensor]:
    """DGP's progressive fine-tuning of one image from code z0 (1, 100): (the fine-tuned copy of
    G, the final code (1, 100), the image at the end of each stage (S, 3, 64, 64)). G and D are
    left as they were. y (1, 3, 64, 64) in [-1, 1]; mask (1, 1, 64, 64), 1 known, 0 hole."""
    tuned = copy.deepcopy(generator).float().eval().requires_grad_(True)
    blocks = generator_blocks(tuned)
    target = masked(y, mask)
    with torch.no_grad():
        target_maps = discriminator_features(discriminator, target)
    z = z0.clone().float().requires_grad_(True)
    g_optimizer = torch.optim.Adam([{"params": block} for block in blocks])
    z_optimizer = torch.optim.Adam([z])
    fills = []
    for stage, iterations in enumerate(config.iters):
        for number, group in enumerate(g_optimizer.param_groups):  # shallow blocks first
            group["lr"] = config.g_lrs[stage] if number < config.blocks[stage] else 0.0
        z_optimizer.param_groups[0]["lr"] = config.z_lrs[stage]
        for _ in range(iterations):
            image = masked(tuned(z), mask)
            loss = (config.w_features[stage]
                    * feature_distance(discriminator, image, target_maps, config.features).sum()
                    + config.w_mse[stage] * F.mse_loss(image, target))
            g_optimizer.zero_grad(set_to_none=True)
            z_optimizer.zero_grad(set_to_none=True)
            loss.backward()
            g_optimizer.step()
            z_optimizer.step()
            with torch.no_grad():
                z.clamp_(-1, 1)
        with torch.no_grad():
            fills.append(tuned(z)[0])
    return tuned.requires_grad_(False), z.detach(), torch.stack(fills)


def prepare(generator: Generator, discriminator: Discriminator, y: torch.Tensor,
            mask: torch.Tensor) -> torch.device:
    """What the methods after Yeh do before they start: refuse NaN or infinite known pixels in
    one line, and put G and D in float32 eval mode with frozen weights (in place, as the solver
    does). Returns the device G lies on."""
    if not (torch.isfinite(y) | ~(mask.float() > 0.5)).all():
        raise ValueError("the known pixels of the images contain NaN or infinite values; "
                         "fix the input (hidden pixels may be anything)")
    generator.float().eval().requires_grad_(False)
    discriminator.float().eval().requires_grad_(False)
    return next(generator.parameters()).device


def dgp_complete(generator: Generator, discriminator: Discriminator, y: torch.Tensor,
                 mask: torch.Tensor, config: DGPConfig = DGPConfig(),
                 progress: bool = True) -> DGPResult:
    """Fill the holes of y (N, 3, 64, 64) in [-1, 1] under mask (N, 1, 64, 64) (1 known, 0
    hole) with Deep Generative Prior: each image's start chosen by `choose_start` among its
    `config.candidates` codes, then `fine_tune`d. Blend the result with the known pixels as for
    the solver's fills (`inpaint.method.blend`). Hidden pixels of y never influence the result."""
    device = prepare(generator, discriminator, y, mask)
    y = torch.where(mask.float() > 0.5, y, 0.0).float().to(device)
    mask = mask.float().to(device)
    codes = initial_codes(image_keys(y, mask), SolverConfig(restarts=config.candidates,
                                                            seed=config.seed))
    stages, starts, finals = [], [], []
    for i in tqdm(range(len(y)), desc=f"DGP {len(y)} images", disable=not progress,
                  mininterval=1.0):
        one_y, one_mask = y[i:i + 1], mask[i:i + 1]
        candidates = codes[i * config.candidates:(i + 1) * config.candidates].to(device)
        z0 = choose_start(generator, discriminator, one_y, one_mask, candidates,
                          config.select_features)
        with torch.no_grad():
            starts.append(generator(z0)[0])
        _, z, fills = fine_tune(generator, discriminator, one_y, one_mask, z0, config)
        stages.append(fills)
        finals.append(z[0])
    stages = torch.stack(stages, dim=1) if stages else torch.empty(len(config.iters), 0, 3, 64, 64)
    return DGPResult(generated=stages[-1].clone(), stages=stages,
                     start=torch.stack(starts) if starts else torch.empty(0, 3, 64, 64),
                     z=torch.stack(finals) if finals else torch.empty(0, 100))

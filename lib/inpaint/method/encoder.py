"""A start for the search from an encoder (Zhu et al.'s in-domain inversion, ECCV 2020; Lahiri et
al., CVPR 2020), for the study's 64x64 DCGAN.

Yeh's search starts from a random code and spends its iterations finding the region of z that
fits the known pixels. An encoder E trained once per generator maps a masked image straight to a
code there, and the search (`solver.complete(..., z0=encode(...))`) starts from it.

E sees what the solver sees: the known pixels (the hole zeroed) and the mask, 4 channels of
64x64. It is the DCGAN discriminator's shape (`width` filters at the wide end) ending in 100
values through tanh, so its codes lie in the prior's [-1, 1]. It is trained on the generator's
own samples, which are the only images whose codes are known: for z from the prior and x = G(z)
under a mask of the chosen kind (a fresh draw each step for the random kinds),
    loss = mean (E(M*x, M) - z)^2  +  image_weight * mean (M * (G(E(M*x, M)) - x))^2,
the second term (as Zhu et al.'s pixel loss, on the known pixels) because codes that differ may
give the same image. G stays frozen; Adam at DCGAN's step and momentum.

`encode` runs E on each image alone (eval mode): an image's code does not depend on the other
images of a call.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import torch
import torch.nn.functional as F
from torch import nn
from tqdm.auto import tqdm

from inpaint.method.checks import check_count, check_number
from inpaint.method.masks import make_mask
from inpaint.method.models import Generator, init_weights, sample_z


@dataclass(frozen=True)
class EncoderConfig:
    """How the encoder is built and trained (see the module's text)."""

    mask: str = field(default="center", metadata={"help": "the mask kind it is trained under"})
    width: int = field(default=64, metadata={"help": "filters at E's wide end"})
    steps: int = field(default=2000, metadata={"help": "training steps"})
    batch: int = field(default=64, metadata={"help": "generator samples per step"})
    lr: float = field(default=2e-4, metadata={"help": "Adam's step (beta1 0.5, as DCGAN)"})
    image_weight: float = field(default=1.0, metadata={
        "help": "weight of the known pixels' error of G(E(x)) beside the code's error"})
    seed: int = field(default=0, metadata={"help": "seeds E's weights, codes and masks"})

    def __post_init__(self):
        for name in ("width", "steps", "batch"):
            check_count(name, getattr(self, name))
        check_number("lr", self.lr, "greater than 0", lambda v: v > 0)
        check_number("image_weight", self.image_weight, "of at least 0", lambda v: v >= 0)
        check_count("seed", self.seed, least=0)
        make_mask(self.mask, 1)  # an unknown kind is refused here, in one line


class Encoder(nn.Module):
    def __init__(self, width: int = 64, z_dim: int = 100):
        super().__init__()

        def down(c_in, c_out):
            return [nn.Conv2d(c_in, c_out, 4, 2, 1, bias=False), nn.BatchNorm2d(c_out),
                    nn.LeakyReLU(0.2, True)]

        self.net = nn.Sequential(
            nn.Conv2d(4, width, 4, 2, 1, bias=False), nn.LeakyReLU(0.2, True),  # 32x32
            *down(width, width * 2),                                           # 16x16
            *down(width * 2, width * 4),                                       # 8x8
            *down(width * 4, width * 8),                                       # 4x4
            nn.Conv2d(width * 8, z_dim, 4, 1, 0),                              # 1x1
            nn.Tanh(),
        )
        self.apply(init_weights)

    def forward(self, known: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        """known pixels (N, 3, 64, 64) in [-1, 1] with the hole zeroed, mask (N, 1, 64, 64)
        -> codes (N, 100) in (-1, 1)."""
        return self.net(torch.cat([known, mask], dim=1)).flatten(1)


@dataclass
class TrainedEncoder:
    """An encoder and its training record: `losses` (steps,) the total loss of each step,
    `code_losses` (steps,) its code term."""

    encoder: Encoder
    losses: list[float]
    code_losses: list[float]


def train_encoder(generator: Generator, config: EncoderConfig = EncoderConfig(),
                  progress: bool = True) -> TrainedEncoder:
    """Train an encoder for `generator` (frozen, eval mode) on its own samples; see the module's
    text. The same config and generator give the same encoder, bit for bit, on one machine."""
    generator = generator.float().eval().requires_grad_(False)
    device = next(generator.parameters()).device
    with torch.random.fork_rng(devices=[]):  # E's initial weights, from the seed alone
        torch.manual_seed(config.seed)
        encoder = Encoder(config.width, generator.z_dim).to(device).train()
    optimizer = torch.optim.Adam(encoder.parameters(), lr=config.lr, betas=(0.5, 0.999))
    codes = torch.Generator().manual_seed(config.seed)
    losses, code_losses = [], []
    for step in tqdm(range(config.steps), desc="train encoder", disable=not progress,
                     mininterval=1.0):
        z = sample_z(config.batch, generator.z_dim, generator=codes, device=device)
        mask = make_mask(config.mask, config.batch, seed=config.seed * 1_000_003 + step).to(device)
        with torch.no_grad():
            x = generator(z)
        guess = encoder(x * mask, mask)
        code_loss = F.mse_loss(guess, z)
        loss = code_loss
        if config.image_weight:
            loss = loss + config.image_weight * F.mse_loss(generator(guess) * mask, x * mask)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        losses.append(float(loss.detach()))
        code_losses.append(float(code_loss.detach()))
    return TrainedEncoder(encoder.eval().requires_grad_(False), losses, code_losses)


def encode(encoder: Encoder, y: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """Starting codes (N, 100) in (-1, 1) for images y (N, 3, 64, 64) in [-1, 1] under masks
    (N, 1, 64, 64) (1 known, 0 hole), each image encoded alone; hidden pixels are never seen."""
    encoder = encoder.eval()
    device = next(encoder.parameters()).device
    mask = mask.float().to(device)
    known = torch.where(mask > 0.5, y.float().to(device), 0.0)
    with torch.no_grad():
        codes = [encoder(known[i:i + 1], mask[i:i + 1]) for i in range(len(y))]
    return torch.cat(codes) if codes else torch.empty(0, encoder.net[-2].out_channels)

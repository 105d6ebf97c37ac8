"""DCGAN for 64x64x3 images (Radford et al. 2016), as used by the original study and Yeh et al.

Shapes and ranges:
  z        float (N, 100), drawn from U(-1, 1)            -> `sample_z`
  G(z)     float (N, 3, 64, 64) in [-1, 1] (tanh)
  D(x)     float (N,) logit; sigmoid(D(x)) is the probability that x is real
`width` is the number of filters at the widest end of D and the narrowest of G
(the original uses 64): G goes 8w -> 4w -> 2w -> w -> 3 channels, D mirrors it.
"""
from __future__ import annotations

import torch
from torch import nn

Z_DIM = 100


def sample_z(n: int, z_dim: int = Z_DIM, generator: torch.Generator | None = None,
             device: str | torch.device = "cpu") -> torch.Tensor:
    """n latent codes from U(-1, 1), shape (n, z_dim), drawn on the CPU so that a seed gives the
    same codes on every device."""
    return (torch.rand(n, z_dim, generator=generator) * 2 - 1).to(device)


def init_weights(module: nn.Module) -> None:
    """DCGAN initialisation: conv weights N(0, 0.02); batch-norm scale N(1, 0.02), shift 0."""
    if isinstance(module, (nn.Conv2d, nn.ConvTranspose2d)):
        nn.init.normal_(module.weight, 0.0, 0.02)
    elif isinstance(module, nn.BatchNorm2d):
        nn.init.normal_(module.weight, 1.0, 0.02)
        nn.init.zeros_(module.bias)


class Generator(nn.Module):
    def __init__(self, width: int = 64, z_dim: int = Z_DIM):
        super().__init__()
        self.z_dim = z_dim

        def up(c_in, c_out):
            return [nn.ConvTranspose2d(c_in, c_out, 4, 2, 1, bias=False),
                    nn.BatchNorm2d(c_out), nn.ReLU(True)]

        self.net = nn.Sequential(
            nn.ConvTranspose2d(z_dim, width * 8, 4, 1, 0, bias=False),  # 1x1 -> 4x4
            nn.BatchNorm2d(width * 8), nn.ReLU(True),
            *up(width * 8, width * 4),                                   # 8x8
            *up(width * 4, width * 2),                                   # 16x16
            *up(width * 2, width),                                       # 32x32
            nn.ConvTranspose2d(width, 3, 4, 2, 1, bias=False),           # 64x64
            nn.Tanh(),
        )
        self.apply(init_weights)

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        """z (N, z_dim) in [-1, 1] -> images (N, 3, 64, 64) in [-1, 1]."""
        return self.net(z.view(z.shape[0], self.z_dim, 1, 1))


class Discriminator(nn.Module):
    def __init__(self, width: int = 64):
        super().__init__()

        def down(c_in, c_out):
            return [nn.Conv2d(c_in, c_out, 4, 2, 1, bias=False),
                    nn.BatchNorm2d(c_out), nn.LeakyReLU(0.2, True)]

        self.net = nn.Sequential(
            nn.Conv2d(3, width, 4, 2, 1, bias=False), nn.LeakyReLU(0.2, True),  # 32x32, no BN
            *down(width, width * 2),                                           # 16x16
            *down(width * 2, width * 4),                                       # 8x8
            *down(width * 4, width * 8),                                       # 4x4
            nn.Conv2d(width * 8, 1, 4, 1, 0, bias=False),                      # 1x1 logit
        )
        self.apply(init_weights)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """images (N, 3, 64, 64) in [-1, 1] -> logits (N,)."""
        return self.net(x).flatten()

"""A training run's settings, as plain data: one frozen dataclass whose fields are the `train`
command's flags and the profiles' values."""
from __future__ import annotations

from dataclasses import dataclass, field

from inpaint.method.checks import check_choice, check_count, check_number
from inpaint.method.precision import PRECISIONS

def parse_schedule(schedule: str) -> tuple[int, int] | None:
    """"joint" -> None (D then G on every batch); "30:10" -> (30, 10) (blocks of D-only then
    G-only batches, the original post's setting). Anything else raises ValueError."""
    if schedule == "joint":
        return None
    try:
        d_steps, g_steps = (int(n) for n in str(schedule).split(":"))
    except ValueError:
        raise ValueError(f"schedule must be 'joint' or 'D:G' such as '30:10', not {schedule!r}; "
                         f"fix --schedule") from None
    if d_steps < 1 or g_steps < 1:
        raise ValueError(f"schedule {schedule!r}: both counts must be at least 1; fix --schedule")
    return d_steps, g_steps


@dataclass(frozen=True)
class TrainConfig:
    """Training settings. Each field's metadata["help"] is also its command-line help."""

    dataset: str = field(default="tiny-imagenet", metadata={
        "help": 'a dataset of inpaint.data.registry.DATASETS, or "sample" (the committed images)'})
    limit: int | None = field(default=None, metadata={
        "help": "training images: a seeded random subset of this many (all when not set)"})
    width: int = field(default=64, metadata={
        "help": "filters at the wide end of D (G mirrors it)"})
    batch_size: int = field(default=128, metadata={"help": "images per training step"})
    epochs: int = field(default=55, metadata={"help": "passes over the training images"})
    checkpoint_every: int = field(default=5, metadata={
        "help": "epochs between checkpoints (and sample grids)"})
    lr: float = field(default=2e-4, metadata={"help": "Adam's step size, as in DCGAN"})
    beta1: float = field(default=0.5, metadata={"help": "Adam's beta1, as in DCGAN"})
    schedule: str = field(default="joint", metadata={
        "help": '"joint": a D step then a G step on every batch; "D:G", e.g. "30:10": blocks of '
                'D-only batches, then of G-only batches (the course post)'})
    precision: str = field(default="auto", metadata={
        "help": '"bf16" (autocast), "fp32", or "auto": bf16 on a CPU that computes it natively, '
                'fp32 on other CPUs and on CUDA (measured faster there for these models)'})
    flip: bool = field(default=True, metadata={
        "help": "random horizontal flips of the training images"})
    channels_last: bool = field(default=True, metadata={
        "help": "channels-last memory layout for the networks and batches"})
    seed: int = field(default=0, metadata={
        "help": "seeds the initial weights, the data order, the noise and the sample codes"})
    samples: int = field(default=64, metadata={"help": "size of the fixed-noise sample grid"})

    def __post_init__(self):
        """Refuse any setting that would crash later or silently train something else."""
        from inpaint.data.registry import DATASETS
        check_choice("dataset", self.dataset, ["sample", *DATASETS])
        if self.limit is not None:
            check_count("limit", self.limit, hint=", or leave it out to use every image")
        for name in ("width", "batch_size", "epochs", "checkpoint_every", "samples"):
            check_count(name, getattr(self, name))
        check_count("seed", self.seed, least=0)
        check_number("lr", self.lr, "greater than 0", lambda v: v > 0)
        check_number("beta1", self.beta1, "in [0, 1)", lambda v: 0 <= v < 1)
        parse_schedule(self.schedule)
        check_choice("precision", self.precision, PRECISIONS)
        for name in ("flip", "channels_last"):
            check_choice(name, getattr(self, name), (True, False))

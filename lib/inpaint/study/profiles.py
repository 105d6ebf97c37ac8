"""Profiles: the named parameter sets shared by the CLI, the notebooks and the tests.

A profile is plain data. `ci` runs the whole pipeline on the committed sample in about 2½
minutes (the regression tests); `cpu`, the default, is the study on a 2-core CPU in at most 45 minutes:
it trains a width-32 model from scratch and evaluates the GPU-trained full-scale reference model
with budgets sized to fit; `full` is the original's scale, trained and evaluated on a GPU. Any
field can be overridden: `replace(PROFILES["cpu"].train, epochs=10)`, or a flag of the same name
on the command line (`--epochs 10`).
"""
from __future__ import annotations

import math
from dataclasses import dataclass, fields, replace
from numbers import Integral

from inpaint.method.checks import check_number
from inpaint.training.config import TrainConfig

@dataclass(frozen=True)
class FacesModel:
    """One faces DCGAN of the faces chapter's grid (`make faces`): its width, its training faces
    (None: all 9,000) and its epochs; checkpoints every `StudyConfig.faces_checkpoint_every`."""

    width: int
    faces: int | None
    epochs: int

    @property
    def name(self) -> str:
        """Its run directory under runs/<profile>/ (a name only: never read back)."""
        return f"faces-w{self.width}-{'all' if self.faces is None else self.faces}"

    @property
    def label(self) -> str:
        """How tables and figures name it."""
        faces = "all" if self.faces is None else f"{self.faces:,}"
        return f"width {self.width}, {faces} faces"


@dataclass(frozen=True)
class StudyConfig:
    """What the notebooks use besides training: the model they evaluate, evaluation sets and
    solver budgets."""

    shipped: str | None = None           # the shipped model the chapters report (a name in
                                         # inpaint.training.shipped); None: the profile's own
                                         # trained model
    val_dataset: str = "tiny-imagenet"   # or "sample" (the committed images)
    val_images: int = 256                # validation images for the comparison tables
    solver_iters: int = 1500             # Adam iterations per image (the paper's rule)
    restarts: int = 4                    # starting codes per image
    lam: float = 0.003                   # weight of the perceptual loss (the paper's value)
    selection_epochs: tuple[int, ...] = (30, 35, 40, 45, 50, 55)
    selection_images: int = 64           # validation images scored per checkpoint
    selection_iters: int = 200
    ablation_images: int = 64           # the same images for every lambda, norm and weighting;
                                         # as many other photographs are the critic's real class
    ablation_iters: int = 300
    ablation_lams: tuple[float, ...] = (0.0, 3e-3, 0.1, 1.0, 10.0, 100.0)  # with l1 and Yeh's
                                         # weights; the norms and weightings cross at 0.003
    gd_lr: float = 1e-3                  # step size of the post's plain gradient descent
    gd_iters: int = 3000                 # its iteration cap
    behaviour_images: int = 32           # images for the solver-behaviour chapter
    schedule_images: int | None = 2_000  # the short runs comparing training schedules
    schedule_epochs: int = 10
    schedule_blocks: str = "30:10"       # the original post's alternation
    compare_images: int = 64             # images per mask kind other than the centre
    coco_images: int = 100               # MSCOCO photographs (out of distribution), at most 100
    celeba_images: int | None = None     # CelebA training faces (None: all 9,000)
    celeba_val_images: int = 256         # held-out faces for the comparison with Yeh et al.
    celeba_epochs: int = 25
    celeba_width: int = 64
    faces_models: tuple[FacesModel, ...] = (  # the faces chapter's grid (`make faces`)
        FacesModel(64, None, 25), FacesModel(32, None, 30), FacesModel(32, 4_000, 20))
    faces_checkpoint_every: int = 5
    faces_score_epochs: tuple[int, ...] = (10, 20, 25, 30)  # checkpoints scored, where saved
    faces_images: int = 256              # held-out faces: the grid is scored on the first
                                         # faces_images, Table 1 on the next faces_images
    faces_iters: int = 1500              # the faces chapter's solver: Adam iterations
    faces_restarts: int = 4              # and starting codes per face
    beyond_images: int = 256             # beyond-Yeh chapter (`make beyond`): centre-mask images,
                                         # and as many other real photographs for the critic
    beyond_others: int = 64              # images per other mask kind there
    beyond_starts: int = 8               # starts per image: Yeh's best one, ensembles 2, 4, .., K
    critic_seeds: int = 5                # critics (seeds and splits) per realism test
    critic_steps: int = 150              # training steps of each critic (batches of 64)

    def __post_init__(self):
        """Refuse a setting (a notebook parameter or a field) that would run on nothing or
        silently on fewer images, naming it."""
        if not self.faces_models:
            raise ValueError("faces_models must name at least one FacesModel(width, faces, "
                             "epochs) for the faces chapter")
        for item in fields(self):
            value = getattr(self, item.name)
            if item.type in ("int", "int | None") and value is not None and (
                    isinstance(value, bool) or not isinstance(value, Integral) or value < 1):
                raise ValueError(f"{item.name} must be a whole number of at least 1, got "
                                 f"{value!r}; set the notebook parameter that gives it (papermill "
                                 f"-p NAME VALUE, e.g. -p images 64) to 1 or more")
        if not self.ablation_lams or any(not math.isfinite(lam) or lam < 0
                                         for lam in self.ablation_lams):
            raise ValueError(f"ablation_lams must be one or more finite numbers of at least 0, "
                             f"got {self.ablation_lams!r}; set lams to such a list")
        check_number("lam", self.lam, "of at least 0", lambda v: v >= 0)


@dataclass(frozen=True)
class Profile:
    name: str
    train: TrainConfig
    study: StudyConfig
    threads: int | None = None           # torch threads for the notebooks (None: torch's default);
                                         # `ci` fixes 1 so that its numbers, which the tests
                                         # compare, do not depend on the machine's core count


PROFILES: dict[str, Profile] = {
    "ci": Profile(
        "ci",
        TrainConfig(dataset="sample", width=8, batch_size=16, epochs=3, checkpoint_every=1,
                    samples=16, precision="fp32"),
        StudyConfig(val_dataset="sample", val_images=8, solver_iters=20, restarts=2,
                    selection_epochs=(1, 2, 3), selection_images=8, selection_iters=10,
                    ablation_images=8, ablation_iters=10, ablation_lams=(0.0, 3e-3, 1.0),
                    gd_iters=30, behaviour_images=4, schedule_epochs=2, schedule_blocks="2:1",
                    compare_images=4, celeba_epochs=2, celeba_width=8,
                    faces_models=(FacesModel(16, None, 2), FacesModel(8, None, 2),
                                  FacesModel(8, 32, 2)),
                    faces_checkpoint_every=1, faces_score_epochs=(1, 2), faces_images=8,
                    faces_iters=10, faces_restarts=2,
                    beyond_images=12,
                    beyond_others=12, beyond_starts=4, critic_seeds=2, critic_steps=10),
        threads=1,
    ),
    "cpu": Profile(
        "cpu",
        # Sized to fit 45 minutes on 2 cores without native bf16 (fp32), images spent where
        # the findings' paired comparisons need them (see the reproducibility chapter). Its
        # faces model sees all 9,000 faces for 10 epochs: about the steps of the 4,000 faces for
        # 20 epochs it had before. The faces chapter's grid (`make faces`) is outside the budget.
        TrainConfig(limit=1_500, width=32, batch_size=64, epochs=25),
        StudyConfig(shipped="tiny-imagenet-full", val_images=104, solver_iters=100,
                    restarts=2, selection_images=36, selection_iters=60, ablation_images=40,
                    ablation_iters=60, gd_iters=200, behaviour_images=16, compare_images=20,
                    schedule_images=500, coco_images=16, celeba_images=None,
                    celeba_epochs=10, celeba_width=32, celeba_val_images=80,
                    faces_iters=200, faces_restarts=2,
                    critic_steps=100),
    ),
    "full": Profile(
        "full",
        TrainConfig(width=64, batch_size=128, epochs=55),
        StudyConfig(val_images=1000, solver_iters=1500, restarts=8, selection_images=256,
                    selection_iters=500, ablation_images=256, ablation_iters=1500,
                    gd_iters=5000, behaviour_images=128, celeba_epochs=25, celeba_width=64),
    ),
}


def get_profile(name: str) -> Profile:
    if name not in PROFILES:
        raise ValueError(f"unknown profile {name!r}; choose one of {sorted(PROFILES)}")
    return PROFILES[name]


def train_config(settings: Profile, **overrides) -> TrainConfig:
    """The profile's training settings with `overrides` applied (None values are ignored)."""
    config = settings.train
    known = {f.name for f in fields(TrainConfig)}
    unknown = set(overrides) - known
    if unknown:
        raise ValueError(f"unknown training settings {sorted(unknown)}; known: {sorted(known)}")
    return replace(config, **{k: v for k, v in overrides.items() if v is not None})

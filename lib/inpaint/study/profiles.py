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
import typing
from dataclasses import dataclass, field, fields, replace
from numbers import Integral, Real

import yaml

from inpaint.method.checks import MIN_IMAGES, check_count, check_number
from inpaint.method.masks import MASKS
from inpaint.training.config import TrainConfig

@dataclass(frozen=True)
class FacesModel:
    """One faces DCGAN of the faces chapter (`make faces`): its width, its training faces (None:
    all 8,930) and its epochs; checkpoints every `StudyConfig.faces_checkpoint_every`. `dataset`
    says how the faces are cropped ("celeba-yeh-crop", the chapter's: as Yeh et al.'s test faces
    are; "celeba": the usual centre 108x108, the study's own faces model's), `seed` which
    training run of that configuration it is."""

    width: int
    faces: int | None
    epochs: int
    dataset: str = "celeba-yeh-crop"
    seed: int = 0

    @property
    def name(self) -> str:
        """Its run directory under runs/<profile>/ (a name only: never read back)."""
        crop = "" if self.dataset == "celeba" else "-yeh-crop"
        seed = "" if self.seed == 0 else f"-seed{self.seed}"
        return f"faces-w{self.width}-{'all' if self.faces is None else self.faces}{crop}{seed}"

    @property
    def label(self) -> str:
        """How tables and figures name it."""
        faces = "all" if self.faces is None else f"{self.faces:,}"
        crop = "" if self.dataset == "celeba" else ", the authors' crop"
        seed = "" if self.seed == 0 else f", seed {self.seed}"
        return f"width {self.width}, {faces} faces{crop}{seed}"


@dataclass(frozen=True)
class StudyConfig:
    """What the chapters share besides training: the model they evaluate, the validation set,
    the solver, and the other runs the study trains (schedules, faces). Each chapter's own knobs
    are its `Profile.chapters` entry."""

    shipped: str | None = None           # the shipped model the chapters report (a name in
                                         # inpaint.training.shipped); None: the profile's own
                                         # trained model
    val_dataset: str = "tiny-imagenet"   # or "sample" (the committed images)
    solver_iters: int = 1500             # Adam iterations per image (the paper's rule)
    restarts: int = 4                    # starting codes per image
    lam: float = 0.003                   # weight of the perceptual loss (the paper's value); the
                                         # ablation's norms and weightings cross here
    schedule_images: int | None = 2_000  # the short runs comparing training schedules
    schedule_epochs: int = 10
    schedule_blocks: str = "30:10"       # the original post's alternation
    celeba_images: int | None = None     # CelebA training faces (None: all 8,930)
    celeba_epochs: int = 25
    celeba_width: int = 64
    faces_models: tuple[FacesModel, ...] = (  # the faces chapter's grid (`make faces`)
        FacesModel(64, None, 25), FacesModel(32, None, 30), FacesModel(32, 4_000, 20))
    faces_checkpoint_every: int = 5
    faces_score_epochs: tuple[int, ...] = (10, 20, 25, 30)  # checkpoints scored, where saved

    def __post_init__(self):
        if not self.faces_models:
            raise ValueError("faces_models must name at least one FacesModel(width, faces, "
                             "epochs) for the faces chapter")
        for item in fields(self):
            value = getattr(self, item.name)
            if item.type in ("int", "int | None") and value is not None:
                check_count(item.name, value)
        check_number("lam", self.lam, "of at least 0", lambda v: v >= 0)


# ------------------------------------------------------------------------- each chapter's knobs
#
# One frozen dataclass per chapter, its fields named as the notebook's `parameters` cell names
# them, each with its help (the cell's comment) and its rule: `least` for numbers, `choices` for
# names. The profile gives their values; `setup` applies a notebook's parameters
# over them (strings from papermill's -p and YAML from -y alike) and checks the result, in one
# line naming the parameter, before any work. A field of None (04's and 05's solver) means the
# study's solver, resolved by setup.

def knob(default, help: str, least: float | None = None, choices=None):
    """A chapter parameter: its default, help, and rule (`least`: the smallest allowed number,
    1 for a count, 0 for a rate, unless given; `choices`: the allowed names)."""
    return field(default=default, metadata={"help": help, "least": least, "choices": choices})


class Parameters:
    """What every chapter's parameters do: refuse a value of the wrong type or out of range in
    one line naming the parameter (`check_values`), and a combination the chapter cannot run
    (`check`, which may read the profile)."""

    def __post_init__(self):
        hints = typing.get_type_hints(type(self))
        for item in fields(self):
            check_value(item.name, hints[item.name], getattr(self, item.name), item.metadata)

    def check(self, settings: "Profile") -> None:
        """Refuse what the chapter cannot run with these settings (nothing, by default)."""

    def check_critic_images(self, *names: str) -> None:
        """Refuse an image count, among the fields `names`, below what the critic needs."""
        for name in names:
            if getattr(self, name) < MIN_IMAGES:
                raise ValueError(f"{name} must be at least {MIN_IMAGES} (the critic's real and "
                                 f"filled classes each need {MIN_IMAGES}), got "
                                 f"{getattr(self, name)}")


def check_value(name: str, hint, value, rule) -> None:
    """One line naming the parameter, what was given and what is allowed, unless `value` fits
    `hint` (int, float, str, a tuple of ints or floats, or one of those or None) and `rule`."""
    options = typing.get_args(hint)
    if value is None and type(None) in options:
        return
    kind = next((t for t in options if t is not type(None)), hint) if type(None) in options \
        else hint
    if typing.get_origin(kind) is tuple:
        item = typing.get_args(kind)[0]
        if not isinstance(value, tuple) or not value:
            raise ValueError(f"{name} must be a list of one or more {describe(item, rule)}, got "
                             f"{value!r}; e.g. -y \"{name}: [...]\" or -p {name} \"[...]\"")
        for element in value:
            if not fits(item, element, rule):
                raise ValueError(f"{name} must be a list of {describe(item, rule)}, got "
                                 f"{list(value)!r} (its {element!r} is not)")
        return
    if not fits(kind, value, rule):
        allowed = f"one of {', '.join(rule['choices'])}" if rule.get("choices") else \
            describe(kind, rule, plural=False)
        raise ValueError(f"{name} must be {allowed}, got {value!r}")


def least(kind, rule):
    return rule.get("least") if rule.get("least") is not None else (1 if kind is int else 0)


def fits(kind, value, rule) -> bool:
    if kind is str:
        return isinstance(value, str) and (not rule.get("choices") or value in rule["choices"])
    number = Integral if kind is int else Real
    return (not isinstance(value, bool) and isinstance(value, number)
            and math.isfinite(value) and value >= least(kind, rule))


def describe(kind, rule, plural=True) -> str:
    if kind is str:
        return "names" if plural else "a name"
    noun = ("whole numbers" if plural else "a whole number") if kind is int else \
        ("finite numbers" if plural else "a finite number")
    return f"{noun} of at least {least(kind, rule):g}"


@dataclass(frozen=True)
class TrainingCurves(Parameters):
    window: int = knob(200, "moving-average window, in steps")


@dataclass(frozen=True)
class Selection(Parameters):
    epochs: tuple[int, ...] = knob((30, 35, 40, 45, 50, 55), "checkpoints compared (saved epochs)")
    samples: int = knob(8, "images per row of the grids (at most images)")
    images: int = knob(64, "validation images scored per checkpoint")
    iters: int = knob(200, "Adam iterations per image")

    def check(self, settings):
        saved = saved_epochs(settings)
        missing = [epoch for epoch in self.epochs if epoch not in saved]
        if missing:
            raise ValueError(f"epochs must be saved epochs of the evaluated model, got "
                             f"{list(self.epochs)} ({', '.join(map(str, missing))} not saved); "
                             f"saved: {list(saved)}")
        if self.samples > self.images:
            raise ValueError(f"samples must be at most images ({self.images}), got {self.samples}")


@dataclass(frozen=True)
class Ablation(Parameters):
    lams: tuple[float, ...] = knob((0.0, 3e-3, 0.1, 1.0, 10.0, 100.0),
                                   "the λ values, with ℓ1 and Yeh's weights; must hold 0.003")
    images: int = knob(64, "images filled, and as many others as the critic's real class")
    iters: int = knob(300, "Adam iterations per image")
    seeds: int = knob(5, "critics per λ", least=2)
    steps: int = knob(150, "training steps per critic")
    mask: str = knob("center", "the mask kind", choices=tuple(MASKS))

    def check(self, settings):
        lam = settings.study.lam
        if lam not in self.lams:
            raise ValueError(f"lams must hold {lam:g}, where the norms and weightings cross, got "
                             f"{list(self.lams)}; add {lam:g} to lams")
        self.check_critic_images("images")


@dataclass(frozen=True)
class Grids(Parameters):
    count: int = knob(6, "images per grid")
    seed: int = knob(0, "which validation images (and random masks)", least=0)
    restarts: int | None = knob(None, "starting codes per image; None: the study's")
    iters: int | None = knob(None, "Adam iterations; None: the study's")


@dataclass(frozen=True)
class Comparison(Parameters):
    images: int = knob(256, "centre-mask validation images")
    others: int = knob(64, "images per other mask kind (at most images)")
    iters: int | None = knob(None, "Adam iterations; None: the study's")
    restarts: int | None = knob(None, "starting codes per image; None: the study's")
    coco: int = knob(100, "MSCOCO photographs (out of distribution), at most 100")
    faces: int = knob(256, "held-out CelebA faces")

    def check(self, settings):
        self.check_critic_images("images")
        if self.others > self.images:
            raise ValueError(f"others must be at most images ({self.images}), got {self.others}")


@dataclass(frozen=True)
class Behaviour(Parameters):
    images: int = knob(32, "validation images")
    gd_lr: float = knob(1e-3, "gradient descent's step size", least=1e-12)
    iters: int = knob(3000, "iteration cap for both rules")
    tol: float = knob(1e-4, "the stopping rule on our summed loss: ||grad_z||_1 < tol",
                      least=1e-12)


@dataclass(frozen=True)
class Beyond(Parameters):
    images: int = knob(256, "centre-mask images, and as many other photographs for the critic")
    others: int = knob(64, "images per other mask kind")
    starts: int = knob(8, "starting codes per image: Yeh's best one, ensembles 2, 4, .., starts")
    seeds: int = knob(5, "critics per realism test", least=2)
    steps: int = knob(150, "training steps per critic")

    def check(self, settings):
        self.check_critic_images("images", "others")


@dataclass(frozen=True)
class Faces(Parameters):
    faces: int = knob(256, "held-out faces: the grid scores the first (the authors' crop), Table 1 "
                           "the next (in both crops)")
    iters: int = knob(1500, "Adam iterations per face")
    restarts: int = knob(4, "starting codes per face")
    seeds: int = knob(3, "training runs of the grid's chosen model, the grid's own first "
                         "(Table 1's spread over seeds)")


@dataclass(frozen=True)
class Budget(Parameters):
    images: int = knob(64, "centre-mask images, and as many other photographs for the critic")
    checkpoints: tuple[int, ...] = knob((25, 60, 100, 200, 400, 800, 1500),
                                        "iteration counts the fills are read at, from one search "
                                        "as long as the largest")
    lams: tuple[float, ...] = knob((0.0, 3e-3, 0.1, 1.0, 10.0, 100.0),
                                   "the λ values, with ℓ1 and Yeh's weights; must hold 0.003")
    matched_lams: tuple[float, ...] = knob((0.0, 3e-3, 0.1, 1.0, 10.0, 100.0),
                                           "the λ values repeated with G and D of one epoch")
    starts: int = knob(4, "starting codes of the multi-start search (best of them, and mean)",
                       least=2)
    gd_lr: float = knob(1e-3, "the post's rule: gradient descent's step size", least=1e-12)
    tol: float = knob(1e-4, "the post's rule: stop an image when ||grad_z||_1 < tol",
                      least=1e-12)
    seeds: int = knob(5, "critics per λ and budget", least=2)
    steps: int = knob(150, "training steps per critic")

    def check(self, settings):
        lam = settings.study.lam
        if lam not in self.lams:
            raise ValueError(f"lams must hold {lam:g}, the setting the others pair with, got "
                             f"{list(self.lams)}; add {lam:g} to lams")
        self.check_critic_images("images")


@dataclass(frozen=True)
class Successors(Parameters):
    images: int = knob(256, "centre-mask photographs, and as many other photographs for the "
                            "critic")
    faces: int = knob(256, "held-out faces, and as many other faces for the critic")
    starts: int = knob(8, "starting codes of Yeh's search: its best one and the ensemble of all",
                       least=2)
    dgp_iters: int = knob(200, "DGP's Adam iterations in each of its 5 stages (DGP: 200)")
    candidates: int = knob(500, "codes from the prior DGP chooses its start among (DGP: 500)")
    ilo_steps: int = knob(100, "ILO's Adam iterations on each of G's 3 first outputs")
    encoder_steps: int = knob(2000, "the encoder's training steps (64 of G's samples each)")
    seeds: int = knob(5, "critics per image set", least=2)
    steps: int = knob(150, "training steps per critic")

    def check(self, settings):
        self.check_critic_images("images", "faces")


@dataclass(frozen=True)
class Findings(Parameters):
    pass


# Each chapter's parameters, by notebook: adding a knob is a field there and a line in the
# notebook's parameters cell (tests/test_parameters.py checks they agree).
PARAMETERS: dict[str, type] = {
    "01_training_curves": TrainingCurves, "02_checkpoint_selection": Selection,
    "03_lambda_norm_ablation": Ablation, "04_reconstruction_grids": Grids,
    "05_comparison": Comparison, "06_solver_behaviour": Behaviour, "07_beyond_yeh": Beyond,
    "08_faces": Faces, "09_budget": Budget, "11_after_yeh": Successors, "10_findings": Findings,
}


def chapter_defaults(*given: Parameters) -> dict[str, Parameters]:
    """Every chapter's parameters: those `given`, the defaults for the others."""
    chosen = {type(config): config for config in given}
    return {name: chosen.get(kind) or kind() for name, kind in PARAMETERS.items()}


def chapter_parameters(settings: "Profile", chapter: str, given: dict) -> Parameters:
    """The chapter's parameters: the profile's, with the notebook's `given` values (None: the
    profile's) applied and checked. Values come as papermill passes them: -p gives a list as a
    string ("[0, 0.1, 10]"), -y as YAML, where "3e-3" stays a string; both are read here."""
    if chapter not in PARAMETERS:
        raise ValueError(f"no chapter {chapter!r}; the chapters are {', '.join(PARAMETERS)}")
    base = settings.chapters[chapter]
    hints = typing.get_type_hints(type(base))
    unknown = sorted(set(given) - set(hints))
    if unknown:
        raise ValueError(f"{chapter} has no parameter {', '.join(unknown)}; its parameters are "
                         f"{', '.join(hints) or 'none'} (and profile)")
    read = {name: parse(hints[name], value) for name, value in given.items() if value is not None}
    config = replace(base, **read)
    study = settings.study
    solver = {name: value for name, value in (("iters", study.solver_iters),
                                              ("restarts", study.restarts))
              if name in hints and getattr(config, name) is None}
    config = replace(config, **solver)
    config.check(settings)
    return config


def parse(hint, value):
    """A notebook parameter as papermill passes it, read as the type `hint` says: a string
    other than for a str parameter is read as YAML, a list becomes a tuple, and numbers given
    as strings ("3e-3") become numbers; anything else is left for the checks to refuse."""
    options = [t for t in typing.get_args(hint) if t is not type(None)]
    kind = options[0] if type(None) in typing.get_args(hint) else hint
    if isinstance(value, str) and kind is not str:
        try:
            value = yaml.safe_load(value)
        except yaml.YAMLError:
            return value
    if typing.get_origin(kind) is tuple and isinstance(value, list | tuple):
        item = typing.get_args(kind)[0]
        return tuple(number(item, element) for element in value)
    return number(kind, value)


def number(kind, value):
    """`value` as a float for a float parameter (ints and number strings too), else unchanged."""
    if kind is not float or isinstance(value, bool):
        return value
    try:
        return float(value) if isinstance(value, Real | str) else value
    except ValueError:
        return value


def saved_epochs(settings: "Profile") -> tuple[int, ...]:
    """The generator epochs the evaluated model has (or will have, once trained): the shipped
    model's, else those the profile's training saves."""
    if settings.study.shipped is not None:
        from inpaint.training.shipped import shipped_spec  # it loads torch: only for a shipped model
        return shipped_spec(settings.study.shipped).generator_epochs
    config = settings.train
    return tuple(epoch for epoch in range(1, config.epochs + 1)
                 if epoch % config.checkpoint_every == 0 or epoch == config.epochs)


@dataclass(frozen=True)
class Profile:
    name: str
    train: TrainConfig
    study: StudyConfig
    chapters: dict[str, Parameters] = field(default_factory=chapter_defaults)  # by notebook
    threads: int | None = None           # torch threads for the notebooks (None: torch's default);
                                         # `ci` fixes 1 so that its numbers, which the tests
                                         # compare, do not depend on the machine's core count


PROFILES: dict[str, Profile] = {
    "ci": Profile(
        "ci",
        TrainConfig(dataset="sample", width=8, batch_size=16, epochs=3, checkpoint_every=1,
                    samples=16, precision="fp32"),
        StudyConfig(val_dataset="sample", solver_iters=20, restarts=2, schedule_epochs=2,
                    schedule_blocks="2:1", celeba_epochs=2, celeba_width=8,
                    faces_models=(FacesModel(16, None, 2), FacesModel(8, None, 2),
                                  FacesModel(8, 32, 2)),
                    faces_checkpoint_every=1, faces_score_epochs=(1, 2)),
        chapter_defaults(
            Selection(epochs=(1, 2, 3), images=8, iters=10),
            Ablation(lams=(0.0, 3e-3, 1.0), images=8, iters=10, seeds=2, steps=10),
            Comparison(images=8, others=4),
            Behaviour(images=4, iters=30),
            Beyond(images=12, others=12, starts=4, seeds=2, steps=10),
            Faces(faces=8, iters=10, restarts=2, seeds=2),
            Budget(images=8, checkpoints=(5, 10, 20), lams=(0.0, 3e-3, 1.0),
                   matched_lams=(0.0, 3e-3), starts=2, seeds=2, steps=10),
            Successors(images=8, faces=8, starts=2, dgp_iters=2, candidates=8, ilo_steps=3,
                       encoder_steps=3, seeds=2, steps=10)),
        threads=1,
    ),
    "cpu": Profile(
        "cpu",
        # Sized to fit 45 minutes on 2 cores without native bf16 (fp32), images spent where
        # the findings' paired comparisons need them (see the reproducibility chapter). Its
        # faces model sees all 8,930 faces for 10 epochs: about the steps of the 4,000 faces for
        # 20 epochs it had before. The faces chapter's grid (`make faces`) is outside the budget.
        TrainConfig(limit=1_500, width=32, batch_size=64, epochs=25),
        # The faces grid (`make faces`), in the authors' crop: width 32 on all 8,930 faces and
        # on 4,000, width 16 on all, each to 15 epochs and scored at 5, 10 and 15. Width 64 is
        # left to the full profile: on 2 AVX2 cores in fp32 an epoch of the 8,930 faces took
        # 2.8 min at width 64 and 0.8 at width 32 (measured 2026-12-05).
        StudyConfig(shipped="tiny-imagenet-full", solver_iters=100, restarts=2,
                    schedule_images=500, celeba_images=None, celeba_epochs=10, celeba_width=32,
                    faces_models=(FacesModel(32, None, 15), FacesModel(32, 4_000, 15),
                                  FacesModel(16, None, 15)),
                    faces_score_epochs=(5, 10, 15)),
        chapter_defaults(
            Selection(images=36, iters=60),
            Ablation(images=40, iters=60, steps=100),
            Comparison(images=104, others=20, coco=16, faces=80),
            Behaviour(images=16, iters=200),
            # `make beyond`, outside the 45 minutes: Yeh's search of 8 starts over 256
            # photographs, the other masks on 40 photographs each, and critics of 100 steps. With
            # 64 photographs per other mask its first run took 90.1 minutes on 2 AVX2 cores in
            # fp32 (71.7 + 18.4, in two runs); 40 cut the other masks' searches by three eighths.
            Beyond(others=40, steps=100),
            # `make faces`: the grid's 9 scored points on 96 faces, the chosen configuration
            # trained with 1 more seed to the chosen epoch, and Table 1's 6 masks on 2 x 64
            # authors' faces and 2 x 96 of ours, at the study's 100 iterations: about 86 minutes
            # on 2 AVX2 cores in fp32 (see the chapter for the time it took).
            Faces(faces=96, iters=100, restarts=2, seeds=2),
            # `make budget`, outside the 45 minutes: 10 searches of 1,500 iterations over 16
            # images, 11 search-equivalents as the two-start one counts twice (from about 2½
            # minutes each on 2 free cores to about 5 on 2 AVX2 cores in fp32), and 12 critics of
            # 100 steps: about 30 to 60 minutes.
            Budget(images=16, lams=(0.0, 3e-3, 1.0), matched_lams=(0.0, 3e-3), starts=2,
                   seeds=2, steps=100),
            # `make after`, outside the 45 minutes, on 2 cores (fp32): Yeh's search of 4 starts
            # over 160 photographs about 11 minutes (256 took 17); DGP fine-tunes G image by
            # image, about 50 ms an iteration, so 5 stages of 20 iterations (a tenth of DGP's)
            # from 200 candidates, about 5 s a photograph (256 took 28 minutes); ILO 50
            # iterations a layer; the encoder about 0.7 s a step.
            Successors(images=160, faces=48, starts=4, dgp_iters=20, candidates=200,
                       ilo_steps=50, encoder_steps=300, steps=100)),
    ),
    "full": Profile(
        "full",
        TrainConfig(width=64, batch_size=128, epochs=55),
        StudyConfig(solver_iters=1500, restarts=8, celeba_epochs=25, celeba_width=64),
        chapter_defaults(
            Selection(images=256, iters=500),
            Ablation(images=256, iters=1500),
            Comparison(images=1000),
            Behaviour(images=128, iters=5000),
            # ±0.15 dB on hole PSNR where the per-image differences' SD is up to 1.7 dB:
            # (1.96 x 1.7 / 0.15)² ≈ 493 images (the chapter prints the count its SDs need)
            Budget(images=512),
            Successors(images=1000)),
    ),
}


def get_profile(name: str) -> Profile:
    if name not in PROFILES:
        raise ValueError(f"unknown profile {name!r}; choose one of {sorted(PROFILES)}")
    return PROFILES[name]


def setup(profile: str, chapter: str, **parameters) -> tuple[Profile, Parameters]:
    """A notebook's first call, in the cell after its `parameters`, and the one place it names its
    profile: the profile's settings and the chapter's parameters (`PARAMETERS[chapter]`) with the
    notebook's `parameters` applied (None keeps the profile's value), each checked in one line
    naming the parameter, what was given and what is allowed. It loads no torch, so that a bad
    value is refused in seconds, before the notebook's heavy imports (then
    `experiments.start(settings)`). Returns (settings, the chapter's parameters), passed to
    every call after it."""
    settings = get_profile(profile)
    config = chapter_parameters(settings, chapter, parameters)
    return replace(settings, chapters={**settings.chapters, chapter: config}), config


def train_config(settings: Profile, **overrides) -> TrainConfig:
    """The profile's training settings with `overrides` applied (None values are ignored)."""
    config = settings.train
    known = {f.name for f in fields(TrainConfig)}
    unknown = set(overrides) - known
    if unknown:
        raise ValueError(f"unknown training settings {sorted(unknown)}; known: {sorted(known)}")
    return replace(config, **{k: v for k, v in overrides.items() if v is not None})

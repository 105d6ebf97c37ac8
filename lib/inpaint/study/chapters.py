"""The book's result chapters, one row each: the notebook, the tables it saves for the findings
(`experiments.save_table`), what it reads, and whether a long command runs it instead of
`make study`. The pipeline, the findings and the tests read this registry; adding a chapter is a
notebook, a row here, its line in _toc.yml and its nbval reference.
"""
from __future__ import annotations

import functools
import os
import time
from dataclasses import dataclass
from pathlib import Path
import pandas as pd

from inpaint.files import atomic_path
from inpaint.study.gans import RUNS_DIR
from inpaint.study.profiles import Profile

@dataclass(frozen=True)
class Chapter:
    name: str                            # notebooks/<name>.ipynb
    writes: tuple[str, ...] = ()         # tables it saves: runs/<profile>/tables/<table>.csv
    reads_chosen_epoch: bool = True      # reads the epoch the selection chapter writes
    reads_tables: bool = False           # reads every other chapter's tables (the findings)
    command: str | None = None           # the long command that runs it; None: `make study`
    reads_parameters_of: tuple[str, ...] = ()  # other chapters whose parameters it reads
    figures: tuple[str, ...] = ()        # figures it saves for the book's generated pages:
                                         # runs/<profile>/tables/<figure>.png (`save_figure`)


CHAPTERS: tuple[Chapter, ...] = (
    Chapter("01_training_curves", ("training_thirds", "schedules"), reads_chosen_epoch=False,
            reads_parameters_of=("02_checkpoint_selection",)),  # marks the epochs it selects from
    Chapter("02_checkpoint_selection", ("checkpoint_scores", "checkpoint_images"),
            reads_chosen_epoch=False, figures=("samples_chosen_epoch",)),
    Chapter("03_lambda_norm_ablation", ("ablation_images", "lambda_realism", "lambda_caught")),
    Chapter("04_reconstruction_grids"),
    Chapter("05_comparison", ("comparison_images", "celeba_images", "coco_images",
                              "scale_images"),
            figures=("front_completions", "readme_masks")),
    Chapter("06_solver_behaviour", ("rules", "rules_images")),
    Chapter("07_beyond_yeh", ("beyond_centre", "beyond_verdict", "beyond_other_masks",
                              "beyond_celeba", "beyond_targets", "beyond_images",
                              "beyond_caught"), command="make beyond"),
    Chapter("08_faces", ("faces_sharpness", "faces_grid", "faces_images", "faces_crop_fit"),
            reads_chosen_epoch=False, command="make faces"),
    Chapter("09_budget", ("budget_images", "budget_caught"), command="make budget"),
    Chapter("11_after_yeh", ("after_images", "after_caught", "after_seconds", "after_face_images",
                             "after_face_caught", "after_face_seconds"), command="make after"),
    Chapter("10_findings", reads_tables=True),
)

# Each table's index columns when it is read back (the others are 1).
INDEX_COLUMNS = {"beyond_other_masks": 2, "beyond_celeba": 2}


def chapter(name: str) -> Chapter:
    for row in CHAPTERS:
        if row.name == name:
            return row
    raise ValueError(f"no chapter {name!r}; the chapters are {[c.name for c in CHAPTERS]}")


def names() -> tuple[str, ...]:
    """Every chapter's notebook, in order."""
    return tuple(row.name for row in CHAPTERS)


def in_study() -> tuple[str, ...]:
    """The notebooks `make study` runs: all but the long ones, in order."""
    return tuple(row.name for row in CHAPTERS if not row.command)


def long_commands() -> dict[str, str]:
    """The chapters too long for `make study`'s budget, with the command that runs each instead.
    The study leaves their last result in place and says whether it is up to date."""
    return {row.name: row.command for row in CHAPTERS if row.command}


def long_chapters(wanted=True) -> tuple[str, ...]:
    """The long chapters a study runs besides `in_study()`: all of them for True, none for
    False or None, else those named in `wanted` (a name not among them is refused)."""
    if wanted is True:
        return tuple(long_commands())
    unknown = sorted(set(wanted or ()) - set(long_commands()))
    if unknown:
        raise ValueError(f"{', '.join(unknown)}: not a long chapter; the long chapters are "
                         f"{', '.join(long_commands())}")
    return tuple(name for name in long_commands() if name in set(wanted or ()))


def table_writer(table: str) -> str:
    """The chapter that saves `table`."""
    for row in CHAPTERS:
        if table in row.writes:
            return row.name
    raise ValueError(f"no chapter writes a table {table!r}")


def tables() -> dict[str, int]:
    """Every table a chapter saves, with its index column count."""
    return {name: INDEX_COLUMNS.get(name, 1) for row in CHAPTERS for name in row.writes}


def tables_dir(settings: Profile) -> Path:
    """runs/<profile>/tables: the study's tables, the ones its findings read. Only `inpaint study`
    writes them, when a chapter's notebook has run to its end (see TABLES_ENV)."""
    return RUNS_DIR / settings.name / "tables"


# The folder a chapter's run reads its tables from and saves them to. `inpaint study` sets it for
# each notebook it runs (a fresh folder, holding copies of the study's tables for the chapter that
# reads them) and adopts the tables saved there once the notebook has run to its end; the tests
# set it for nbval's runs of the references. A notebook run without it (by hand, with papermill)
# reads the study's tables and saves its own in a folder of its own (`hand_run_dir`).
TABLES_ENV = "INPAINT_TABLES"


def hand_run_dir(settings: Profile) -> Path:
    """runs/<profile>/hand-runs/<time>-<pid>/tables: where a notebook run outside the study saves
    its tables, one folder per run (per kernel), so that a hand run never touches the study's
    tables nor another hand run's."""
    return RUNS_DIR / settings.name / "hand-runs" / this_run() / "tables"


@functools.cache
def this_run() -> str:
    """<time>-<pid> of this process's start (its first call), the name of its hand-run folder."""
    return f"{time.strftime('%Y%m%d-%H%M%S')}-{os.getpid()}"


def save_table(settings: Profile, name: str, table: pd.DataFrame) -> None:
    """Save a result table as <name>.csv (index included) in the run's tables folder (TABLES_ENV)
    or, in a run outside the study, in `hand_run_dir`, saying so. `name` must be one of the
    tables `inpaint.study.chapters.CHAPTERS` lists, so no chapter writes a table that no registry
    row knows."""
    table_writer(name)
    given = os.environ.get(TABLES_ENV)
    folder = Path(given) if given else hand_run_dir(settings)
    folder.mkdir(parents=True, exist_ok=True)
    with atomic_path(folder / f"{name}.csv") as tmp:
        table.to_csv(tmp)
    if not given:
        print(f"{name}.csv saved to {folder} (a run outside `inpaint study`: the study's tables "
              f"in {tables_dir(settings)} are left as they are)")


def figure_writer(figure: str) -> str:
    """The chapter that saves `figure`."""
    for row in CHAPTERS:
        if figure in row.figures:
            return row.name
    raise ValueError(f"no chapter saves a figure {figure!r}")


def figures() -> tuple[str, ...]:
    """Every figure a chapter saves for the generated pages."""
    return tuple(name for row in CHAPTERS for name in row.figures)


def save_figure(settings: Profile, name: str, figure) -> None:
    """Save a figure the book's generated pages show (the front page's, README's) as <name>.png
    beside the chapter's tables (see `save_table`), so that the page writers only copy it. `name`
    must be one of the figures `CHAPTERS` lists. `figure`: a matplotlib figure, or a batch of
    images in [-1, 1] (N, 3, H, W), saved as a grid of 8 columns."""
    figure_writer(name)
    given = os.environ.get(TABLES_ENV)
    folder = Path(given) if given else hand_run_dir(settings)
    folder.mkdir(parents=True, exist_ok=True)
    with atomic_path(folder / f"{name}.png") as tmp:
        if hasattr(figure, "savefig"):
            figure.savefig(tmp, format="png", dpi=100, bbox_inches="tight")
        else:
            from torchvision.utils import save_image
            save_image(figure, tmp, format="png", nrow=8, normalize=True, value_range=(-1, 1))


def figure_file(settings: Profile, name: str) -> Path | None:
    """The figure a chapter saved (`save_figure`), from the run's tables folder or the study's;
    None if its chapter has not run for these settings' profile."""
    figure_writer(name)
    path = Path(os.environ.get(TABLES_ENV) or tables_dir(settings)) / f"{name}.png"
    return path if path.is_file() else None


def load_table(settings: Profile, name: str) -> pd.DataFrame | None:
    """A table a results notebook saved (with its index, see `inpaint.study.chapters.tables`), from
    the run's tables folder (TABLES_ENV) or else the study's, or None if the notebook that saves
    it has not run for these settings' profile."""
    path = Path(os.environ.get(TABLES_ENV) or tables_dir(settings)) / f"{name}.csv"
    if not path.exists():
        return None
    return pd.read_csv(path, index_col=list(range(tables()[name])))

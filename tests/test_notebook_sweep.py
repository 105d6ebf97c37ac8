"""Every notebook runs on the `ci` profile with another value for each of its parameters, as a
user reruns a chapter (`papermill ... -p profile ci -p iters 5`): it finishes, or its check cell
refuses the combination in one line. One run per notebook, every parameter changed at once, in
order (02 writes the chosen epoch the later ones read, 10 reads the tables they save), under a
runs folder of its own (INPAINT_RUNS) and with one tables folder for them all (INPAINT_TABLES,
as the study gives its chapters), so that runs/ci keeps the default run's results; the trained
models, which no chapter parameter changes, are shared with runs/ci."""
import json
import os

import papermill
import pytest

from inpaint.files import PROJECT_ROOT
from inpaint.study.chapters import TABLES_ENV
from inpaint.study.gans import RUN_NAMES, RUNS_DIR, RUNS_ENV
from inpaint.study.profiles import PARAMETERS, PROFILES

# Each chapter's parameters other than ci's, as -p passes them (lists as strings), chosen small.
OTHER = {
    "01_training_curves": {"window": 5},
    "02_checkpoint_selection": {"epochs": "[3, 1]", "samples": 4, "images": 6, "iters": 5},
    "03_lambda_norm_ablation": {"lams": "[0.003, 10]", "images": 9, "iters": 5, "seeds": 3,
                                "steps": 5, "mask": "blocks"},
    "04_reconstruction_grids": {"count": 3, "seed": 1, "restarts": 1, "iters": 5},
    "05_comparison": {"images": 9, "others": 3, "iters": 5, "restarts": 1, "coco": 5, "faces": 6},
    "06_solver_behaviour": {"images": 2, "gd_lr": 0.01, "iters": 15, "tol": 0.001},
    "07_beyond_yeh": {"images": 8, "others": 8, "starts": 2, "seeds": 3, "steps": 3},
    "08_faces": {"faces": 6, "iters": 5, "restarts": 1, "seeds": 1},
    "09_budget": {"images": 9, "checkpoints": "[2, 6]", "lams": "[0.003, 10]",
                  "matched_lams": "[0.003]", "starts": 3, "gd_lr": 0.01, "tol": 0.001,
                  "seeds": 3, "steps": 3},
    "11_after_yeh": {"images": 9, "faces": 9, "starts": 3, "dgp_iters": 1, "candidates": 4,
                     "ilo_steps": 2, "encoder_steps": 2, "seeds": 3, "steps": 3},
    "10_findings": {},
}


def test_the_comparison_chapter_refuses_too_few_images_for_its_critic_in_its_check_cell():
    from inpaint.study.profiles import setup
    with pytest.raises(ValueError, match="images must be at least 8"):
        setup("ci", "05_comparison", images=6, others=3)


def test_every_parameter_of_every_chapter_is_swept():
    settings = PROFILES["ci"]
    assert list(OTHER) == list(PARAMETERS)
    for chapter, given in OTHER.items():
        assert set(given) == set(PARAMETERS[chapter].__dataclass_fields__), chapter
        for name, value in given.items():
            assert str(value) != str(getattr(settings.chapters[chapter], name)), (chapter, name)


@pytest.fixture
def runs(tmp_path, monkeypatch):
    """A runs folder of the sweep's own, its profile's trained models linked from runs/ci."""
    profile = tmp_path / "ci"
    profile.mkdir()
    models = [*RUN_NAMES, *(model.name for model in PROFILES["ci"].study.faces_models)]
    for name in models:
        if (RUNS_DIR / "ci" / name).is_dir():
            (profile / name).symlink_to(RUNS_DIR / "ci" / name)
    monkeypatch.setenv(RUNS_ENV, str(tmp_path))
    monkeypatch.setenv(TABLES_ENV, str(tmp_path / "tables"))  # one folder, as a study run's
    monkeypatch.setenv("PYTHONPATH", str(PROJECT_ROOT / "lib"))
    return tmp_path


def test_every_notebook_finishes_or_refuses_with_other_parameters(runs, tmp_path):
    failed = []
    for chapter, given in OTHER.items():
        output = tmp_path / f"{chapter}.ipynb"
        try:
            papermill.execute_notebook(PROJECT_ROOT / "notebooks" / f"{chapter}.ipynb", output,
                                       parameters={"profile": "ci", **given},
                                       cwd=PROJECT_ROOT / "notebooks", kernel_name="python3",
                                       progress_bar=False)
        except papermill.PapermillExecutionError as error:
            cells = json.loads(output.read_text())["cells"]
            check = next(i for i, cell in enumerate(cells)  # after papermill's injected cell
                         if "parameters" in cell["metadata"].get("tags", [])) + 2
            refused = (error.ename == "ValueError" and "\n" not in error.evalue
                       and cells[check]["execution_count"] == error.exec_count
                       and any(error.evalue.startswith(f"{name} ") for name in given))
            if not refused:
                failed.append(f"{chapter} with {given} failed in cell {error.cell_index}: "
                              f"{error.ename}: {error.evalue} (see {output})")
    assert not failed, "\n".join(failed)

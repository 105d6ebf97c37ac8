"""A notebook's parameters: one typed, frozen config per chapter (`profiles.PARAMETERS`), named as
the notebook names them, read as papermill passes them (-p strings, -y YAML) and checked by
`profiles.setup` before any work, in one line naming the parameter, what was given and what
is allowed; in each notebook that check is the cell after `parameters`, which loads no torch, so
a bad value is refused in seconds."""
import json
import os
import subprocess
import sys

import pytest
from papermill.translators import PythonTranslator

from inpaint.files import PROJECT_ROOT
from inpaint.study import profiles
from inpaint.study.profiles import PARAMETERS, PROFILES


def refused(chapter, **given) -> str:
    with pytest.raises(ValueError) as error:
        profiles.setup("ci", chapter, **given)
    message = str(error.value)
    assert "\n" not in message and "--" not in message  # one line, no CLI flag
    return message


@pytest.mark.parametrize("chapter, given, start", [
    ("03_lambda_norm_ablation", {"lams": "[0, 0.1, 10]"}, "lams must hold 0.003"),
    ("03_lambda_norm_ablation", {"lams": [0, 0.1, 10]}, "lams must hold 0.003"),
    ("03_lambda_norm_ablation", {"lams": 0.5}, "lams must be a list of one or more finite"),
    ("03_lambda_norm_ablation", {"lams": "[0, 0.003, -1]"}, "lams must be a list of finite"),
    ("03_lambda_norm_ablation", {"images": 4}, "images must be at least 8"),
    ("03_lambda_norm_ablation", {"mask": "circle"}, "mask must be one of center, pattern"),
    ("03_lambda_norm_ablation", {"seeds": 1}, "seeds must be a whole number of at least 2"),
    ("04_reconstruction_grids", {"count": -3}, "count must be a whole number of at least 1, got -3"),
    ("04_reconstruction_grids", {"count": 0}, "count must be a whole number of at least 1, got 0"),
    ("04_reconstruction_grids", {"seed": 2.5}, "seed must be a whole number of at least 0"),
    ("04_reconstruction_grids", {"iters": True}, "iters must be a whole number"),
    ("02_checkpoint_selection", {"epochs": "[1, 99]"}, "epochs must be saved epochs"),
    ("02_checkpoint_selection", {"samples": 9}, "samples must be at most images (8)"),
    ("05_comparison", {"others": 9}, "others must be at most images (8)"),
    ("06_solver_behaviour", {"tol": -1e-4}, "tol must be a finite number of at least"),
    ("07_beyond_yeh", {"others": 4}, "others must be at least 8"),
    ("08_faces", {"faces": "many"}, "faces must be a whole number of at least 1, got 'many'"),
    ("09_budget", {"lams": "[0, 1]"}, "lams must hold 0.003"),
    ("09_budget", {"checkpoints": "[0, 10]"}, "checkpoints must be a list of whole numbers of at least 1"),
    ("09_budget", {"starts": 1}, "starts must be a whole number of at least 2"),
    ("09_budget", {"images": 4}, "images must be at least 8"),
    ("05_comparison", {"images": 6, "others": 3}, "images must be at least 8"),
    ("11_after_yeh", {"faces": 4}, "faces must be at least 8"),
    ("11_after_yeh", {"starts": 1}, "starts must be a whole number of at least 2"),
    ("11_after_yeh", {"dgp_iters": 0}, "dgp_iters must be a whole number of at least 1"),
    ("05_comparison", {"lams": [0.003]}, "05_comparison has no parameter lams"),
])
def test_a_bad_parameter_is_refused_at_setup_in_one_line_naming_it(chapter, given, start):
    message = refused(chapter, **given)
    assert message.startswith(start), message
    name = next(iter(given))
    assert repr(given[name]) in message or str(given[name]) in message or name == "lams"


def test_the_refusal_says_what_to_add_to_lams():
    assert "add 0.003 to lams" in refused("03_lambda_norm_ablation", lams="[0, 0.1, 10]")


def test_lists_are_read_from_p_strings_and_yaml_alike():
    """-p gives a string; -y gives YAML, in which 3e-3 stays a string: both give the same."""
    from_p = profiles.setup("ci", "03_lambda_norm_ablation", lams="[0, 3e-3, 10]")[1]
    from_yaml = profiles.setup("ci", "03_lambda_norm_ablation", lams=[0, "3e-3", 10])[1]
    assert from_p.lams == from_yaml.lams == (0.0, 0.003, 10.0)
    assert all(type(lam) is float for lam in from_p.lams)
    epochs = profiles.setup("ci", "02_checkpoint_selection", epochs="[3, 1]")[1].epochs
    assert epochs == (3, 1)


def test_none_keeps_the_profiles_values_and_the_solver_is_resolved_once():
    settings, grids = profiles.setup("ci", "04_reconstruction_grids", count=None, iters=7)
    assert grids == profiles.Grids(count=6, seed=0, restarts=2, iters=7)
    assert settings.chapters["04_reconstruction_grids"] == grids
    _, ablation = profiles.setup("ci", "03_lambda_norm_ablation")
    assert ablation == PROFILES["ci"].chapters["03_lambda_norm_ablation"]
    assert ablation.lams == (0.0, 0.003, 1.0) and ablation.images == 8


def test_every_profile_gives_every_chapter_valid_parameters():
    for settings in PROFILES.values():
        assert set(settings.chapters) == set(PARAMETERS)
        for chapter, config in settings.chapters.items():
            assert type(config) is PARAMETERS[chapter]
            config.check(settings)


def parameters_cell(chapter):
    notebook = json.loads((PROJECT_ROOT / "notebooks" / f"{chapter}.ipynb").read_text())
    return next(cell for cell in notebook["cells"]
                if "parameters" in cell["metadata"].get("tags", []))


@pytest.mark.parametrize("chapter", list(PARAMETERS))
def test_each_notebook_declares_its_chapters_parameters_with_type_and_help(chapter):
    """What `papermill --help-notebook` shows: every parameter with its type and a help text,
    and exactly the chapter config's fields (plus profile)."""
    cell = parameters_cell(chapter)
    cell["source"] = "".join(cell["source"])
    found = {p.name: p for p in PythonTranslator.inspect(cell)}
    fields = list(PARAMETERS[chapter].__dataclass_fields__)
    assert list(found) == ["profile", *fields]
    for parameter in found.values():
        assert parameter.inferred_type_name in ("str", "int", "float", "list"), parameter
        assert parameter.help, parameter
    for name in fields:
        assert found[name].default == "None"  # the profile gives the value


def check_cells(chapter) -> tuple[str, str, str]:
    """The notebook's `parameters` cell, the cell after it (the check) and the one after that."""
    notebook = json.loads((PROJECT_ROOT / "notebooks" / f"{chapter}.ipynb").read_text())
    sources = ["".join(cell["source"]) for cell in notebook["cells"]]
    index = next(i for i, cell in enumerate(notebook["cells"])
                 if "parameters" in cell["metadata"].get("tags", []))
    return sources[index], sources[index + 1], sources[index + 2]


def run_check(chapter, **given) -> dict:
    """The notebook's parameters cell, `given` as papermill would inject them (profile ci),
    then its check cell; returns the names they define."""
    parameters, check, _ = check_cells(chapter)
    scope = {}
    exec(parameters, scope)
    scope.update(profile="ci", **given)
    exec(check, scope)
    return scope


CHECK_WITHOUT_TORCH = """
import json, sys
for chapter, parameters, check in json.load(sys.stdin):
    scope = {}
    exec(parameters, scope)
    scope["profile"] = "ci"
    exec(check, scope)
    heavy = sorted({"torch", "pandas", "matplotlib"} & set(sys.modules))
    if heavy:
        sys.exit(f"{chapter}: the cell after parameters imports {heavy}")
"""


def test_each_notebook_checks_its_parameters_first_without_torch():
    """The cell after `parameters` checks them before the notebook's heavy imports, and imports
    no torch (about 5 s of a refusal's wall time otherwise), so a bad value is refused at once.
    A fresh interpreter, as a notebook's kernel: modules this test process holds cannot hide."""
    cells = [(chapter, *check_cells(chapter)[:2]) for chapter in PARAMETERS]
    result = subprocess.run([sys.executable, "-c", CHECK_WITHOUT_TORCH], input=json.dumps(cells),
                            capture_output=True, text=True, timeout=120, cwd=PROJECT_ROOT,
                            env={**os.environ, "PYTHONPATH": str(PROJECT_ROOT / "lib")})
    assert result.returncode == 0, result.stderr[-2000:]


@pytest.mark.parametrize("chapter", list(PARAMETERS))
def test_each_notebook_s_check_cell_passes_every_parameter_and_the_next_sets_threads(chapter):
    """A parameter the check cell forgot to pass would be ignored: each bad value must be
    refused there, naming it. The heavy cell then applies the profile's threads (`ci`'s numbers
    depend on them)."""
    settings = run_check(chapter)["settings"]
    assert settings.name == "ci" and type(settings.chapters[chapter]) is PARAMETERS[chapter]
    for name in PARAMETERS[chapter].__dataclass_fields__:
        with pytest.raises(ValueError, match=f"^{name} must"):
            run_check(chapter, **{name: "not a value"})
    assert "experiments.start(settings)" in check_cells(chapter)[2]


def papermill(chapter, out, *arguments) -> tuple[int, list[dict]]:
    """`papermill` run on the notebook with the `ci` profile and `arguments`, as a user runs it:
    its exit status and the executed notebook's code cells, papermill's injected cell first."""
    result = subprocess.run(
        [sys.executable, "-m", "papermill", str(PROJECT_ROOT / "notebooks" / f"{chapter}.ipynb"),
         str(out), "-p", "profile", "ci", *arguments, "--cwd", str(PROJECT_ROOT / "notebooks")],
        capture_output=True, text=True, timeout=300,
        env={**os.environ, "PYTHONPATH": str(PROJECT_ROOT / "lib")})
    executed = json.loads(out.read_text())
    return result.returncode, [cell for cell in executed["cells"]
                               if cell["cell_type"] == "code"]


def test_a_list_given_with_p_or_with_y_is_refused_alike_by_the_check_cell(tmp_path):
    """-p passes lams as the string "[0, 0.1, 10]", -y as a YAML list: both are refused with the
    same line, naming lams and saying what to add, by the check cell: no cell after it ran."""
    chapter = "03_lambda_norm_ablation"
    refusals = []
    for form in (["-p", "lams", "[0, 0.1, 10]"], ["-y", "lams: [0, 0.1, 10]"]):
        status, cells = papermill(chapter, tmp_path / f"{form[0]}.ipynb", *form)
        assert status != 0
        failed = [i for i, cell in enumerate(cells)
                  if any(output["output_type"] == "error" for output in cell["outputs"])]
        assert len(failed) == 1, failed
        cell = cells[failed[0]]
        assert "".join(cell["source"]) == check_cells(chapter)[1]
        assert all(later["execution_count"] is None for later in cells[failed[0] + 1:])
        error = next(output for output in cell["outputs"] if output["output_type"] == "error")
        refusals.append(f"{error['ename']}: {error['evalue']}")
    assert refusals[0] == refusals[1], refusals
    assert refusals[0].startswith("ValueError: lams must hold 0.003") and \
        refusals[0].endswith("add 0.003 to lams"), refusals[0]

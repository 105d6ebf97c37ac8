"""A notebook's parameters: one typed, frozen config per chapter (`profiles.PARAMETERS`), named as
the notebook names them, read as papermill passes them (-p strings, -y YAML) and checked by
`experiments.setup` before any work, in one line naming the parameter, what was given and what
is allowed."""
import json

import pytest
import torch
from papermill.translators import PythonTranslator

from inpaint.files import PROJECT_ROOT
from inpaint.study import experiments, profiles
from inpaint.study.profiles import PARAMETERS, PROFILES


@pytest.fixture(autouse=True)
def threads():
    """setup("ci") fixes one torch thread, as a notebook's kernel should; the other tests of
    this process keep theirs (a resumed training run is compared bit for bit)."""
    before = torch.get_num_threads()
    yield
    torch.set_num_threads(before)


def refused(chapter, **given) -> str:
    with pytest.raises(ValueError) as error:
        experiments.setup("ci", chapter, **given)
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
    from_p = experiments.setup("ci", "03_lambda_norm_ablation", lams="[0, 3e-3, 10]")[1]
    from_yaml = experiments.setup("ci", "03_lambda_norm_ablation", lams=[0, "3e-3", 10])[1]
    assert from_p.lams == from_yaml.lams == (0.0, 0.003, 10.0)
    assert all(type(lam) is float for lam in from_p.lams)
    epochs = experiments.setup("ci", "02_checkpoint_selection", epochs="[3, 1]")[1].epochs
    assert epochs == (3, 1)


def test_none_keeps_the_profiles_values_and_the_solver_is_resolved_once():
    settings, grids = experiments.setup("ci", "04_reconstruction_grids", count=None, iters=7)
    assert grids == profiles.Grids(count=6, seed=0, restarts=2, iters=7)
    assert settings.chapters["04_reconstruction_grids"] == grids
    _, ablation = experiments.setup("ci", "03_lambda_norm_ablation")
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

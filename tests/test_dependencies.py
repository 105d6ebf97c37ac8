"""One source for dependencies: environment.yml (conda) must list pyproject.toml's (pip)."""
from __future__ import annotations

import tomllib

import yaml
from packaging.specifiers import SpecifierSet  # packaging comes with pytest

from inpaint.files import PROJECT_ROOT


def pyproject() -> dict:
    return tomllib.loads((PROJECT_ROOT / "pyproject.toml").read_text())


def conda_dependencies() -> list:
    return yaml.safe_load((PROJECT_ROOT / "environment.yml").read_text())["dependencies"]


def test_environment_pip_list_is_pyprojects_dependencies_and_the_project():
    pip = next(item["pip"] for item in conda_dependencies() if isinstance(item, dict))
    expected = pyproject()["project"]["dependencies"] + ["-e ."]
    missing, extra = [d for d in expected if d not in pip], [d for d in pip if d not in expected]
    assert pip == expected, (
        f"environment.yml's pip list differs from pyproject.toml's dependencies plus `-e .` "
        f"(missing {missing}, extra {extra}); copy [project] dependencies from pyproject.toml, "
        f"in order")


def test_environment_python_satisfies_requires_python():
    python = next(item for item in conda_dependencies()
                  if isinstance(item, str) and item.startswith("python="))
    assert python.removeprefix("python=") in SpecifierSet(pyproject()["project"]["requires-python"])

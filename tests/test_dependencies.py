"""One source for dependencies: pyproject.toml says what the project needs, requirements.lock pins
every package at an exact version (`make lock` writes it; `make` installs from it), and
environment.yml (conda) installs that lock."""
from __future__ import annotations

import re
import tomllib

import pytest
import yaml
from packaging.requirements import Requirement  # packaging comes with pytest
from packaging.specifiers import SpecifierSet
from packaging.utils import canonicalize_name

from inpaint.files import PROJECT_ROOT

LOCK = PROJECT_ROOT / "requirements.lock"


def pyproject() -> dict:
    return tomllib.loads((PROJECT_ROOT / "pyproject.toml").read_text())


def conda_dependencies() -> list:
    return yaml.safe_load((PROJECT_ROOT / "environment.yml").read_text())["dependencies"]


def declared(project: dict) -> list[Requirement]:
    """Every requirement of pyproject.toml: the dependencies and each extra's."""
    lines = project["project"]["dependencies"] + [
        line for extra in project["project"]["optional-dependencies"].values() for line in extra]
    return [Requirement(line) for line in lines]


def pins(text: str) -> dict[str, tuple[str, list[str]]]:
    """{canonical name: (version, the names it is pinned for)} from a pip-compile lock file."""
    found, current = {}, None
    for line in text.splitlines():
        pin = re.fullmatch(r"([A-Za-z0-9_.\-]+)==(\S+)", line.strip())
        if pin:
            current = canonicalize_name(pin[1])
            found[current] = (pin[2], [])
        elif line.startswith("    #") and current:
            via = line.strip("# ").removeprefix("via ").strip()
            if via:
                found[current][1].append(via)
    return found


def disagreements(project: dict, lock_text: str) -> list[str]:
    """Why the lock does not pin what pyproject.toml asks for (empty when they agree)."""
    locked = pins(lock_text)
    problems = []
    wanted = {canonicalize_name(r.name): r for r in declared(project)}
    for name, requirement in wanted.items():
        if name not in locked:
            problems.append(f"{requirement} is not pinned in the lock")
        elif not requirement.specifier.contains(locked[name][0], prereleases=True):
            problems.append(f"{requirement} is pinned at {locked[name][0]}, outside its range")
    for name, (version, via) in locked.items():
        if any("pyproject.toml" in v for v in via) and name not in wanted:
            problems.append(f"{name}=={version} is pinned for pyproject.toml, which no longer "
                            f"asks for it")
    if any(line.startswith(("-e", "--", "file:")) or " @ " in line
           for line in lock_text.splitlines()):
        problems.append("the lock names an index, a path or a URL; pin names and versions only")
    return problems


def test_the_lock_pins_exactly_what_pyproject_asks_for():
    problems = disagreements(pyproject(), LOCK.read_text())
    assert not problems, ("requirements.lock and pyproject.toml disagree; run `make lock`:\n  "
                          + "\n  ".join(problems))


@pytest.mark.parametrize("change, expected", [
    (lambda p: p["project"]["dependencies"].append("rich"), "rich is not pinned"),
    (lambda p: p["project"]["dependencies"].remove("seaborn") if "seaborn" in
     p["project"]["dependencies"] else p["project"]["optional-dependencies"]["study"].remove(
         "seaborn"), "seaborn==")])
def test_the_lock_check_fails_when_pyproject_moves(change, expected):
    """A dependency added to pyproject.toml, or one dropped from it, is caught."""
    project = pyproject()
    change(project)
    assert any(expected in problem for problem in disagreements(project, LOCK.read_text()))


def test_the_lock_check_fails_on_a_pin_outside_the_range():
    text = re.sub(r"^torch==\S+", "torch==2.13.0", LOCK.read_text(), flags=re.M)
    assert any("outside its range" in p for p in disagreements(pyproject(), text))


def test_environment_installs_the_lock_and_the_project():
    pip = next(item["pip"] for item in conda_dependencies() if isinstance(item, dict))
    assert pip == [f"-r {LOCK.name}", "-e ."], (
        "environment.yml's pip list should be exactly the lock and the project: "
        f"['-r {LOCK.name}', '-e .'], not {pip}")


def test_environment_python_is_the_locks_and_satisfies_requires_python():
    python = next(item for item in conda_dependencies()
                  if isinstance(item, str) and item.startswith("python="))
    version = python.removeprefix("python=")  # "3.11"
    assert version in SpecifierSet(pyproject()["project"]["requires-python"])
    assert f"with Python {version}" in LOCK.read_text(), "environment.yml's Python isn't the lock's"

"""Checks shared by the settings dataclasses (SolverConfig, TrainConfig, StudyConfig): each refuses
a bad value with one line that names the setting, its flag and the rule."""
from __future__ import annotations

import math
from numbers import Integral, Real

# The fewest images of each class, real and filled, the realism critic takes
# (`inpaint.method.realism`): its 50/50 split then leaves at least 4 of each to test on. Kept here,
# without torch, for the chapters' parameter checks that run before any heavy import.
MIN_IMAGES = 8

def flag(name: str) -> str:
    return "--" + name.replace("_", "-")


def check_count(name: str, value, least: int = 1, hint: str = "") -> None:
    """Raise ValueError, in one line naming the setting and the fix, unless `value` is a whole
    number >= `least`."""
    if isinstance(value, bool) or not isinstance(value, Integral) or value < least:
        raise ValueError(f"{name} must be a whole number of at least {least}, got {value!r}; "
                         f"set {name} ({flag(name)}) to {least} or more{hint}")


def check_number(name: str, value, rule: str, ok) -> None:
    """Raise ValueError unless `value` is a finite real number for which `ok(value)` holds;
    `rule` says the condition in words ("greater than 0")."""
    if (isinstance(value, bool) or not isinstance(value, Real) or not math.isfinite(value)
            or not ok(value)):
        raise ValueError(f"{name} must be a finite number {rule}, got {value!r}; "
                         f"set {name} ({flag(name)}) to such a number")


def check_choice(name: str, value, choices) -> None:
    if value not in choices:
        raise ValueError(f"{name} must be one of {list(choices)}, got {value!r}; "
                         f"set {name} ({flag(name)}) to one of them")

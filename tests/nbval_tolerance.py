"""nbval, with floats compared within a stated tolerance instead of as text.

nbval compares a re-executed reference notebook's outputs with the stored ones as text (after
tests/sanitize.cfg). Here text, integers (step counts, epochs, the chosen epoch) and the order of
rows must still match exactly. A number written with a decimal point (the notebooks print them
with 2 decimals) may differ from the stored one by at most FLOAT_TOLERANCE: kernels, instruction
sets (AVX-512, AVX2, none) and thread counts move the last bits of a float32 result, and a few
dozen optimiser steps can carry that into the second decimal. Columns that pandas pads to the
widest number may then differ in spaces too. Anything larger is a changed result and fails, with
nbval's usual report naming the notebook and the cell.

Importing this module installs the comparison (tests/conftest.py imports it).
"""
from __future__ import annotations

import copy
import re

from nbval.plugin import IPyNbCell

FLOAT_TOLERANCE = 0.02
FLOAT = re.compile(r"(?<![\w.])-?\d+\.\d+(?:e[-+]?\d+)?")
SPACES = re.compile(r"\s+")


def agree(reference: str, actual: str) -> bool:
    """True when two outputs are the same text, except for decimal numbers that differ by at most
    FLOAT_TOLERANCE (and the padding around them)."""
    skeleton = [SPACES.sub(" ", part) for part in FLOAT.split(reference)]
    if skeleton != [SPACES.sub(" ", part) for part in FLOAT.split(actual)]:
        return False
    pairs = zip(FLOAT.findall(reference), FLOAT.findall(actual))
    return all(abs(float(r) - float(a)) <= FLOAT_TOLERANCE for r, a in pairs)


def _with_reference_text(test_output: dict, reference_output: dict, sanitize) -> dict:
    """A copy of `test_output` whose text fields that `agree` with the reference's are replaced
    by the reference's text, so that nbval's exact comparison passes on them (and still reports,
    naming the cell, every field that does not agree)."""
    output = copy.deepcopy(test_output)
    fields = [(output, reference_output, "text")]
    fields += [(output.get("data", {}), reference_output.get("data", {}), mime)
               for mime in output.get("data", {})]
    for mine, theirs, key in fields:
        if isinstance(mine.get(key), str) and isinstance(theirs.get(key), str) and \
                agree(sanitize(theirs[key]), sanitize(mine[key])):
            mine[key] = theirs[key]
    return output


_exact_compare = IPyNbCell.compare_outputs


def _compare_within_tolerance(self, test, ref, skip_compare=None):
    if len(test) == len(ref):
        test = [_with_reference_text(t, r, self.sanitize) for t, r in zip(test, ref)]
    return _exact_compare(self, test, ref, skip_compare)


IPyNbCell.compare_outputs = _compare_within_tolerance

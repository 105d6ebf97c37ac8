"""nbval, with floats compared within a stated tolerance instead of as text.

nbval compares a re-executed reference notebook's outputs with the stored ones as text (after
tests/sanitize.cfg). Here text, integers (step counts, epochs, the chosen epoch) and the order of
rows must still match exactly. A number written with a decimal point (the notebooks print them
with 2 decimals) may differ from the stored one by at most FLOAT_TOLERANCE: kernels, instruction
sets (AVX-512, AVX2, none) and thread counts move the last bits of a float32 result, and a few
dozen optimiser steps can carry that into the second decimal. Columns that pandas pads to the
widest number may then differ in spaces too. Anything larger is a changed result and fails, with
nbval's usual report naming the notebook and the cell.

A table (a DataFrame's HTML) is compared cell by cell under its column names, and p-values
(the columns of `wording.P_COLUMNS`, under their stored or shown names: "p", "p (Holm)") are
not compared: at the `ci` profile's 8 images, the p of an effect that is nil (λ = 0.003 against
λ = 0, the best start against the first when both are the same start) swings between 0.1 and
0.9 with those last bits. For the same reason the word saying how an interval was made (the
`interval` column, "t" or "bootstrap") is not compared: `stats.paired` takes the bootstrap when
the differences' skewness passes 1, and the skewness of a nil effect's differences swings as
its p does (seen between an AMD EPYC and an Intel Xeon with AVX-512). A column that reads a
clock (`wording.CLOCK_COLUMNS`, and the chapter after Yeh's `wording.SECONDS_PER_IMAGE`) is
not a result: it is not compared either (CI's machine read 0.38 s where the reference says
0.30 s), though it must still be a number. A number's sign is part of the number, so that a nil
effect printed "+0.00" on one machine and "-0.00" on another agrees, and "+1.20" against
"-1.20" does not.

Two decisions follow from numbers that may move: they are compared as far as those numbers
allow, and no further. A row's "difference stated" may read yes on one machine and no on the
other only where the row's interval ("95% low", "95% high") reaches within FLOAT_TOLERANCE of 0
on both: the ℓ1 and ℓ2 losses, 0.0002 dB apart at the `ci` scale, were stated different on an
AMD EPYC with AVX2 and not on one with AVX512-BF16. A critic's accuracy (and its interval) may
differ by one held-out prediction, 1 / (held out x seeds) of the same row, on top of the
tolerance every printed number has (its rounding to 2 decimals): the critic is
trained from scratch by Adam in float32, and at the `ci` scale's 8 held-out images a
prediction near its boundary changes sides with the last bits (0.69 against 0.62 with 8 held
out and 2 seeds, seen between the same two machines). The differences, their interval bounds
and every other verdict are compared like every other number and word. The table's text/plain
form is the same table, and is taken as agreeing when its HTML does. In prose, a verdict's
"paired t-test p = 0.275" and its "; bootstrap interval (skewed differences)" are left out of
the comparison in the same way (`without_test_details`); its difference, interval and words are
not.

Importing this module installs the comparison (tests/conftest.py imports it).
"""
from __future__ import annotations

import copy
import re

from bs4 import BeautifulSoup
from nbval.plugin import IPyNbCell

from inpaint.study import wording

FLOAT_TOLERANCE = 0.02
# a number with a decimal point, with its sign: "+0.00" and "-0.00" are the same nil effect
FLOAT = re.compile(r"(?<![\w.])[-+]?\d+\.\d+(?:e[-+]?\d+)?")
SPACES = re.compile(r"\s+")
PROSE_P = re.compile(r"(?<=\bp )(?:= -?\d+\.\d+(?:e[-+]?\d+)?|< \d(?:\.\d+)?e[-+]?\d+)")
PROSE_BOOTSTRAP = "; bootstrap interval (skewed differences)"


def without_test_details(text: str) -> str:
    """`text` with the p-values of its verdicts ("p = 0.275") written as "p = P" (or "p < 1e-04", a bootstrap p below its resolution) and the note
    that an interval is a bootstrap one left out: what swings with the last bits of a nil effect
    (see the module's docstring)."""
    return PROSE_P.sub("= P", text).replace(PROSE_BOOTSTRAP, "")


def agree(reference: str, actual: str) -> bool:
    """True when two outputs are the same text, except for decimal numbers that differ by at most
    FLOAT_TOLERANCE (and the padding around them)."""
    reference, actual = without_test_details(reference), without_test_details(actual)
    skeleton = [SPACES.sub(" ", part) for part in FLOAT.split(reference)]
    if skeleton != [SPACES.sub(" ", part) for part in FLOAT.split(actual)]:
        return False
    pairs = zip(FLOAT.findall(reference), FLOAT.findall(actual))
    # rounded, so that 224.56 against 224.54 is the 0.02 it reads as, not 0.0200000000000102
    return all(round(abs(float(r) - float(a)), 9) <= FLOAT_TOLERANCE for r, a in pairs)


def _shown(columns) -> set[str]:
    """Column names as stored and as the pages show them (`wording.COLUMNS`)."""
    return {name for column in columns for name in (column, wording.COLUMNS.get(column, column))}


P_NAMES = _shown(wording.P_COLUMNS)                     # p, p_holm, "p (Holm)"
CLOCK_NAMES = _shown(wording.CLOCK_COLUMNS) | {wording.SECONDS_PER_IMAGE}  # clocks, not results
INTERVAL_METHODS = {"t", "bootstrap", "welch"}   # stats.Comparison.interval
STATED = _shown(("differs",))                   # "difference stated": the interval excludes 0
BOUNDS = _shown(("low", "high"))                # that interval's bounds, "95% low", "95% high"
ACCURACY = _shown(("critic", "critic_low", "critic_high"))  # a critic's accuracy and its interval
HELD_OUT, SEEDS = wording.COLUMNS["held_out"], wording.COLUMNS["seeds"]


def table_rows(html: str) -> list[list[tuple[str, str]]] | None:
    """Every row of a DataFrame's HTML table as [(column name, text), ...], header rows
    included, in order; None when `html` is not one table. A body cell's column is the header
    cell above it in the first header row (index cells and header cells have the column "")."""
    tables = BeautifulSoup(html, "html.parser").find_all("table")
    if len(tables) != 1:
        return None
    header = tables[0].find("thead")
    names = [th.get_text(strip=True) for th in header.find("tr").find_all("th")] if header else []
    rows = []
    for row in tables[0].find_all("tr"):
        rows.append([(names[k] if cell.name == "td" and k < len(names) else "",
                      cell.get_text(strip=True))
                     for k, cell in enumerate(row.find_all(["th", "td"]))])
    return rows


def _number(text: str) -> float | None:
    return float(text) if FLOAT.fullmatch(text) or re.fullmatch(r"[-+]?\d+", text) else None


def _touches_zero(row: dict) -> bool:
    """Whether the row's interval (`BOUNDS`) has a bound within FLOAT_TOLERANCE of 0, so that
    numbers which may each move by the tolerance can put it on either side of 0."""
    bounds = [_number(text) for name, text in row.items() if name in BOUNDS]
    return bool(bounds) and None not in bounds and min(map(abs, bounds)) <= FLOAT_TOLERANCE


def _one_decision(row: dict) -> float | None:
    """The change one held-out prediction makes to a critic's mean balanced accuracy in this
    row: 1 / (held out x seeds), or None where the row does not say its held-out images."""
    held, seeds = _number(row.get(HELD_OUT, "")), _number(row.get(SEEDS, "1"))
    return 1 / (held * seeds) if held and seeds else None


def _cells_agree(column: str, value: str, other: str, row: dict, other_row: dict) -> bool:
    if column in P_NAMES and FLOAT.fullmatch(value) and FLOAT.fullmatch(other):
        return True
    if column == "interval" and {value, other} <= INTERVAL_METHODS:
        return True
    if column in CLOCK_NAMES and FLOAT.fullmatch(value) and FLOAT.fullmatch(other):
        return True
    if column in STATED and {value, other} == {"yes", "no"}:
        return _touches_zero(row) and _touches_zero(other_row)
    if column in ACCURACY and _number(value) is not None and _number(other) is not None:
        step = _one_decision(row)
        if step is not None and _one_decision(other_row) == step:
            return round(abs(_number(value) - _number(other)), 9) <= step + FLOAT_TOLERANCE
    return agree(value, other)


def tables_agree(reference: str, actual: str) -> bool:
    """Two DataFrame tables agree: the same shape, names and words, numbers within
    FLOAT_TOLERANCE, and the p-value, interval-method and clock columns not compared. A
    "difference stated" may read yes in one and no in the other only where both intervals reach
    within the tolerance of 0, and a critic's accuracy may differ by one held-out prediction."""
    mine, theirs = table_rows(actual), table_rows(reference)
    if mine is None or theirs is None or [len(r) for r in mine] != [len(r) for r in theirs]:
        return False
    for their_row, my_row in zip(theirs, mine):
        theirs_by_name, mine_by_name = dict(their_row), dict(my_row)
        for (column, value), (other_column, other) in zip(their_row, my_row):
            if column != other_column:
                return False
            if not _cells_agree(column, value, other, theirs_by_name, mine_by_name):
                return False
    return True


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
    data, stored = output.get("data", {}), reference_output.get("data", {})
    if isinstance(data.get("text/html"), str) and isinstance(stored.get("text/html"), str) and \
            tables_agree(sanitize(stored["text/html"]), sanitize(data["text/html"])):
        data["text/html"] = stored["text/html"]
        if "text/plain" in stored:
            data["text/plain"] = stored["text/plain"]
    return output


_exact_compare = IPyNbCell.compare_outputs


WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"  # a progress bar's live widget


def _compare_within_tolerance(self, test, ref, skip_compare=None):
    # A progress bar drawn as a widget is not a result: the pipeline drops these outputs from the
    # references it writes (`pipeline` WIDGET_VIEW), so the re-execution's are dropped here too.
    test = [t for t in test if WIDGET_VIEW not in t.get("data", {})]
    if len(test) == len(ref):
        test = [_with_reference_text(t, r, self.sanitize) for t, r in zip(test, ref)]
    return _exact_compare(self, test, ref, skip_compare)


IPyNbCell.compare_outputs = _compare_within_tolerance

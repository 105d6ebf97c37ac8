"""`make bench`'s table: every row it promises, at each width, with rates and ratios that agree.
Speed itself is never asserted here (it belongs to the benchmark, not the tests)."""
from __future__ import annotations

import re

from inpaint.study.profiles import PROFILES, train_config
from inpaint.tools import bench


def rate(cell: str) -> float:
    """The number at the start of a cell such as "1,204 (bf16)"."""
    return float(re.match(r"([\d,]+)", cell).group(1).replace(",", ""))


def test_the_table_has_every_row_at_each_width_and_its_ratios_follow_its_rates():
    config = train_config(PROFILES["ci"])
    rows = bench.table(config, steps=1, solver_iters=2, rounds=1, widths=(32,))
    names = [r["what"] for r in rows]
    assert names == [
        f"training step, width 32, batch {config.batch_size} (images/s)",
        "solver, width 32, 64 codes (image-iterations/s)",
        "solver against a bare G+D pass, width 32 (image-iterations/s; goal: a ratio of at least "
        "0.91, at most 1.1x the time)",
        "bare G+D pass in fp32, width 32: the solver's layout against contiguous "
        "(image-iterations/s)",
    ]
    assert "(fp32, contiguous)" in rows[0]["reference"]
    assert rows[3]["project"].endswith("(channels_last)")
    assert rows[3]["reference"].endswith("(contiguous)")
    for r in rows:
        project, reference = rate(r["project"]), rate(r["reference"])
        assert project > 0 and reference > 0
        ratio = float(r["ratio"].rstrip("x"))
        # rates are rounded to whole units, so compare loosely
        assert abs(ratio - project / reference) <= 0.02 * ratio + 1 / reference

    table = bench.markdown(rows).splitlines()
    assert table[0].split("|")[1].strip() == "what" and len(table) == 2 + len(rows)
    assert all(r["what"] in line for r, line in zip(rows, table[2:]))

"""The chapters' registry is the one list of result chapters: the table of contents, the notebooks,
the nbval references and the tables all agree with it, so adding a chapter is its notebook, its
CHAPTERS row, its _toc.yml line and its reference, and nothing else."""
from __future__ import annotations

import pandas as pd
import pytest
import yaml

from inpaint.files import PROJECT_ROOT
from inpaint.study import chapters
from inpaint.study.chapters import Chapter
from inpaint.study.profiles import PROFILES


def toc_results() -> list[str]:
    """The result chapters _toc.yml lists, in order (the files under book/results/)."""
    toc = yaml.safe_load((PROJECT_ROOT / "_toc.yml").read_text())
    files = [entry["file"] for part in toc["parts"] for entry in part["chapters"]]
    return [f.removeprefix("book/results/") for f in files if f.startswith("book/results/")]


def test_the_table_of_contents_lists_every_chapter_in_the_registry_order():
    assert toc_results() == list(chapters.names())


@pytest.mark.parametrize("folder", ["notebooks", "tests/references"])
def test_every_chapter_has_its_notebook_and_reference_and_no_other(folder):
    found = sorted(p.stem for p in (PROJECT_ROOT / folder).glob("*.ipynb"))
    assert found == sorted(chapters.names())


def test_a_new_chapter_is_one_row(monkeypatch, tmp_path):
    """A row added to CHAPTERS is a chapter everywhere: in order, run by `make study` (or by its
    command), and its tables may be saved and are read back with the others."""
    extra = Chapter("09_new", ("new_images",))
    monkeypatch.setattr(chapters, "CHAPTERS", (*chapters.CHAPTERS, extra))
    monkeypatch.setattr(chapters, "RUNS_DIR", tmp_path)
    assert chapters.names()[-1] == "09_new" and "09_new" in chapters.in_study()
    assert chapters.table_writer("new_images") == "09_new"
    settings = PROFILES["ci"]
    monkeypatch.setenv(chapters.TABLES_ENV, str(chapters.tables_dir(settings)))  # as `study` runs it
    chapters.save_table(settings, "new_images", pd.DataFrame({"psnr": [1.0]}))
    assert chapters.load_table(settings, "new_images").psnr.tolist() == [1.0]
    with pytest.raises(ValueError, match="no chapter writes"):
        chapters.save_table(settings, "unregistered", pd.DataFrame({"x": [1]}))


def test_a_long_chapter_is_run_by_name_and_a_wrong_name_is_refused():
    long = chapters.long_commands()
    assert set(long) == {"07_beyond_yeh", "08_faces", "09_budget", "11_after_yeh"}
    assert long["08_faces"] == "make faces" and long["07_beyond_yeh"] == "make beyond"
    assert long["09_budget"] == "make budget" and long["11_after_yeh"] == "make after"
    assert chapters.long_chapters(True) == tuple(long)
    assert chapters.long_chapters(False) == chapters.long_chapters(None) == ()
    assert chapters.long_chapters(["08_faces"]) == ("08_faces",)
    with pytest.raises(ValueError, match="05_comparison: not a long chapter"):
        chapters.long_chapters(["05_comparison"])
    makefile = (PROJECT_ROOT / "Makefile").read_text()
    for name, command in long.items():
        assert f"{command.split()[1]}: $(VENV)/.installed" in makefile
        assert f"--long {name}" in makefile

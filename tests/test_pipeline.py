"""The study pipeline: notebooks run through papermill, skipped when unchanged, failures named."""
from __future__ import annotations

import os
import re
import shutil
from dataclasses import replace
from pathlib import Path

import nbformat
import pandas as pd
import pytest
from nbformat.v4 import new_code_cell, new_notebook

from inpaint.study import chapters, gans, profiles
from inpaint.study.chapters import Chapter
from inpaint.study.profiles import PROFILES
from inpaint.tools import fingerprints, pages, pipeline
from inpaint.training import shipped


def write_notebook(folder, name, sources, parameters='profile = "cpu"'):
    cells = [new_code_cell(parameters, metadata={"tags": ["parameters"]})]
    cells += [new_code_cell(source) for source in sources]
    notebook = new_notebook(cells=cells)
    notebook.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3",
                                       "language": "python"}
    nbformat.write(notebook, folder / f"{name}.ipynb")


@pytest.fixture
def notebooks(tmp_path, monkeypatch):
    source, out = tmp_path / "notebooks", tmp_path / "results"
    source.mkdir()
    monkeypatch.setattr(fingerprints, "NOTEBOOK_DIR", source)
    monkeypatch.setattr(chapters, "CHAPTERS", (Chapter("ok"),))
    write_notebook(source, "ok", ["print('profile is', profile)"])
    return source, out


def test_notebook_runs_with_the_profile_then_is_skipped(notebooks, capsys):
    source, out = notebooks
    first = pipeline.run_notebooks(PROFILES["ci"], out)
    executed = nbformat.read(out / "ok.ipynb", 4)
    assert "profile is ci" in executed.cells[-1].outputs[0].text
    assert isinstance(first["ok"], float)
    pipeline.run_notebooks(PROFILES["ci"], out)
    assert "up to date, skipped" in capsys.readouterr().out
    write_notebook(source, "ok", ["print('changed', profile)"])
    pipeline.run_notebooks(PROFILES["ci"], out)
    assert "changed ci" in nbformat.read(out / "ok.ipynb", 4).cells[-1].outputs[0].text


def test_failing_notebook_names_notebook_and_cell(notebooks, monkeypatch):
    source, out = notebooks
    write_notebook(source, "broken", ["x = 1", "raise ValueError('the mask is empty')"])
    monkeypatch.setattr(chapters, "CHAPTERS", (Chapter("broken"),))
    with pytest.raises(pipeline.NotebookFailed) as error:
        pipeline.run_notebooks(PROFILES["ci"], out)
    message = str(error.value)
    assert "broken" in message and "cell 3" in message and "the mask is empty" in message


def test_a_changed_chosen_epoch_reruns_the_notebooks_that_read_it(tmp_path, monkeypatch, capsys):
    """The selection notebook writes runs/<profile>/chosen_epoch.json; the notebooks after it
    read that file, so changing it (and nothing else) must re-run exactly those notebooks."""
    source, out = tmp_path / "notebooks", tmp_path / "results"
    source.mkdir()
    monkeypatch.setattr(fingerprints, "NOTEBOOK_DIR", source)
    monkeypatch.setattr(gans, "RUNS_DIR", tmp_path / "runs")
    names = chapters.in_study()
    chosen = gans.chosen_epoch_file(PROFILES["ci"])
    chosen.parent.mkdir(parents=True)
    chosen.write_text('{"epoch": 2}')
    for name in names:
        write_notebook(source, name, [f"print('{name} ran')"])
    pipeline.run_notebooks(PROFILES["ci"], out)
    pipeline.run_notebooks(PROFILES["ci"], out)
    assert capsys.readouterr().out.count("up to date, skipped") == len(names)

    chosen.write_text('{"epoch": 3}')
    pipeline.run_notebooks(PROFILES["ci"], out)
    log = capsys.readouterr().out
    rerun = {name for name in names if f"{name}: running" in log}
    assert rerun == {"03_lambda_norm_ablation", "04_reconstruction_grids", "05_comparison",
                     "06_solver_behaviour", "10_findings"}


def test_the_study_leaves_the_long_chapter_to_its_own_command(tmp_path, monkeypatch, capsys):
    """`make study` never runs a long chapter (nor overwrites its result) but says
    whether it is missing or out of date and which command runs it; `--long` runs it."""
    source, out = tmp_path / "notebooks", tmp_path / "results"
    source.mkdir()
    monkeypatch.setattr(fingerprints, "NOTEBOOK_DIR", source)
    monkeypatch.setattr(gans, "RUNS_DIR", tmp_path / "runs")
    monkeypatch.setattr(fingerprints, "book_dirs", lambda settings: (out, tmp_path / "generated"))
    for name in chapters.names():
        write_notebook(source, name, [f"print('{name} ran')"])
    long = next(iter(chapters.long_commands()))
    pipeline.run_notebooks(PROFILES["ci"])
    assert f"{long}: running" not in capsys.readouterr().out
    assert fingerprints.long_notebook_status(PROFILES["ci"])[long] == "missing"
    pipeline.report_long_notebooks(PROFILES["ci"])
    assert f"{long}: missing" in capsys.readouterr().out

    pipeline.run_notebooks(PROFILES["ci"], names=chapters.names())
    assert f"{long}: running" in capsys.readouterr().out
    assert fingerprints.long_notebook_status(PROFILES["ci"])[long] == "up to date"
    write_notebook(source, long, ["print('changed')"])
    pipeline.run_notebooks(PROFILES["ci"])
    assert fingerprints.long_notebook_status(PROFILES["ci"])[long] == "out of date"
    assert "ran" in [c for c in nbformat.read(out / f"{long}.ipynb", 4).cells
                    if c.cell_type == "code"][-1].outputs[0].text


def test_the_time_table_lists_the_long_chapter_once_under_its_own_command():
    """After `make beyond` the long chapter is among the notebooks that ran; the reproducibility
    page's time table must still count it apart from `make study`, and once."""
    long = next(iter(chapters.long_commands()))
    rows = pages.notebook_rows({"01_training_curves": 60.0, long: 2900.0}, {long: 3000.0})
    assert rows == {"01_training_curves": 60.0,
                    f"{long} (`{chapters.long_commands()[long]}`)": 3000.0}


def test_only_the_published_profile_writes_the_committed_book():
    """Trying a quick profile must not overwrite book/results or book/_generated."""
    published = PROFILES[fingerprints.PUBLISHED]
    assert fingerprints.book_dirs(published) == (fingerprints.RESULTS_DIR,
                                                 fingerprints.GENERATED_DIR)
    for profile in ("ci", "full"):
        results, generated = fingerprints.book_dirs(PROFILES[profile])
        assert results.is_relative_to(gans.RUNS_DIR / profile)
        assert generated.is_relative_to(gans.RUNS_DIR / profile)


def test_the_study_stops_at_once_without_the_reference_model(tmp_path, monkeypatch):
    """No weights: an error naming the places looked and how to make them, before any training."""
    monkeypatch.delenv(shipped.MODELS_ENV, raising=False)
    monkeypatch.setattr(shipped, "DATA_MODELS_DIR", tmp_path / "data" / "models")
    monkeypatch.setattr(shipped, "user_models_dir", lambda: tmp_path / "cache" / "models")
    monkeypatch.setattr(pipeline, "training_images", lambda config: pytest.fail("trained"))
    with pytest.raises(shipped.ShippedModelNotFoundError) as error:
        pipeline.run_study(PROFILES["cpu"])
    message = str(error.value)
    assert str(tmp_path / "data" / "models") in message and "make study PROFILE=full" in message


def test_each_chapter_page_links_its_per_image_tables_once(tmp_path, monkeypatch):
    """The executed notebook ends with links to the CSVs its chapter saved, and the CSVs are
    copied beside the book where the links point; preparing it again does not add a second. A
    table the chapter did not write in this run (the faces chapter's crop fit at the ci scale,
    which has no CelebA files) is not linked: the book's build fails on a link to no file."""
    monkeypatch.setattr(chapters, "CHAPTERS", (Chapter("ok", ("rules", "crop_fit")),
                                               Chapter("none")))
    monkeypatch.setattr(chapters, "RUNS_DIR", tmp_path / "runs")
    saved = tmp_path / "saved"
    saved.mkdir()
    (saved / "rules.csv").write_text("a\n1\n")
    for name in ("ok", "none"):
        write_notebook(tmp_path, name, ["print(1)"])
        pipeline.prepare_for_book(tmp_path / f"{name}.ipynb", saved)
    pipeline.prepare_for_book(tmp_path / "ok.ipynb", saved)
    cells = nbformat.read(tmp_path / "ok.ipynb", 4).cells
    links = [c for c in cells if pipeline.TABLES_NOTE in c.metadata.get("tags", [])]
    assert len(links) == 1 and "(../_generated/tables/rules.csv)" in links[0].source
    assert "crop_fit" not in links[0].source
    assert cells[-1] is links[0]
    assert not any(pipeline.TABLES_NOTE in c.metadata.get("tags", [])
                   for c in nbformat.read(tmp_path / "none.ipynb", 4).cells)

    settings = PROFILES["full"]  # not the published profile: its pages go under runs/
    monkeypatch.setenv(chapters.TABLES_ENV, str(chapters.tables_dir(settings)))  # as `study` runs it
    chapters.save_table(settings, "rules", pd.DataFrame({"x": [1.5]}, index=["gd"]))
    monkeypatch.setattr(fingerprints, "RUNS_DIR", tmp_path / "runs")
    copies = pages.write_tables(settings)
    assert [c.name for c in copies] == ["rules.csv"]
    assert copies[0].parent == fingerprints.book_dirs(settings)[1] / "tables"
    assert pd.read_csv(copies[0], index_col=0).x.tolist() == [1.5]


def test_a_fresh_checkout_gives_the_findings_the_long_chapters_committed_tables(tmp_path,
                                                                                 monkeypatch):
    """runs/ is not committed, so without this the findings of a fresh clone's `make study`
    would lose the long chapters' results that the book still shows. Their tables come back from
    the copies beside the book; a table already in runs/ is kept; a long chapter that runs now, or
    whose notebook has never run, gets nothing back."""
    monkeypatch.setattr(chapters, "CHAPTERS", (
        Chapter("short", ("rules",)), Chapter("long", ("faces_grid", "faces_images"), command="x"),
        Chapter("never", ("beyond_centre",), command="y")))
    monkeypatch.setattr(chapters, "RUNS_DIR", tmp_path / "runs")
    results, generated = tmp_path / "results", tmp_path / "generated"
    monkeypatch.setattr(pages, "book_dirs", lambda settings: (results, generated))
    settings = PROFILES["full"]
    (generated / "tables").mkdir(parents=True)
    results.mkdir()
    for name in ("rules", "faces_grid", "faces_images", "beyond_centre"):
        pd.DataFrame({"x": [1.0]}).to_csv(generated / "tables" / f"{name}.csv")
    (results / "long.ipynb").write_text("{}")
    monkeypatch.setenv(chapters.TABLES_ENV, str(chapters.tables_dir(settings)))  # as `study` runs it
    chapters.save_table(settings, "faces_images", pd.DataFrame({"x": [2.0]}))

    assert pages.restore_long_tables(settings, ("short",)) == ["faces_grid"]
    assert chapters.load_table(settings, "faces_grid").x.tolist() == [1.0]
    assert chapters.load_table(settings, "faces_images").x.tolist() == [2.0]  # kept, not replaced
    assert chapters.load_table(settings, "rules") is None  # a short chapter makes its own
    assert chapters.load_table(settings, "beyond_centre") is None  # never ran: nothing shown
    (tmp_path / "runs" / "full" / "tables" / "faces_grid.csv").unlink()
    assert pages.restore_long_tables(settings, ("short", "long")) == []  # it runs now


def test_the_data_counts_name_the_evaluated_model_and_its_training_set():
    """Data's counts say which model saw which images: the evaluated model first (for a shipped
    one, the images its own record says it kept), then each run trained here, by name."""
    ci = PROFILES["ci"]
    with_shipped = replace(ci, study=replace(ci.study, shipped="tiny-imagenet-full"))
    kept = shipped.run_info("tiny-imagenet-full")["images_kept"]
    for settings, first in ((ci, "the `ci` model trained here, the evaluated model"),
                            (with_shipped, "tiny-imagenet-full, the evaluated model")):
        rows = [line for line in pages.data_summary(settings).splitlines()
                if line.startswith("| training")]
        assert first in rows[0]
        assert any("the `ci` faces model" in row for row in rows)
    assert re.search(rf"\|\s*{kept}\s*\|", rows[0])
    assert len(rows) == 3 and "evaluated" not in rows[1]


def test_the_book_copy_drops_progress_bars_and_keeps_the_results(tmp_path, monkeypatch):
    """A tqdm bar in a notebook is a widget whose text form is its first state ("0%"): the book
    would show it as a stray line, and load the widget's JavaScript from a CDN. Printed results
    stay."""
    monkeypatch.setattr(chapters, "CHAPTERS", (Chapter("ok"),))
    write_notebook(tmp_path, "ok", ["print(1)"])
    path = tmp_path / "ok.ipynb"
    notebook = nbformat.read(path, 4)
    bar = nbformat.v4.new_output("display_data", data={
        "text/plain": "decode celeba/val:   0%|          | 0/1000",
        pipeline.WIDGET_VIEW: {"model_id": "abc", "version_major": 2, "version_minor": 0}})
    printed = nbformat.v4.new_output("stream", name="stdout", text="PSNR 19.39\n")
    notebook.cells[1].outputs = [bar, printed]
    notebook.metadata["widgets"] = {"state": {}}
    nbformat.write(notebook, path)
    pipeline.prepare_for_book(path, tmp_path)
    prepared = nbformat.read(path, 4)
    assert prepared.cells[1].outputs == [printed]
    assert "widgets" not in prepared.metadata


def test_every_reference_runs_its_notebook_s_current_code():
    """nbval re-executes tests/references/, so a notebook edited without `make references` would
    be tested as it was: each reference's cells must be the notebook's (after its note and
    papermill's parameters cell, and before the cell linking the chapter's tables)."""
    for name in chapters.names():
        notebook = nbformat.read(fingerprints.NOTEBOOK_DIR / f"{name}.ipynb", as_version=4)
        reference = nbformat.read(pipeline.REFERENCE_DIR / f"{name}.ipynb", as_version=4)
        assert reference.cells[0].source == pipeline.REFERENCE_NOTE, name
        added = {"injected-parameters", pipeline.TABLES_NOTE, pipeline.STAMP}
        cells = [c for c in reference.cells[1:] if not added & set(c.metadata.get("tags", []))]
        assert [(c.cell_type, c.source) for c in cells] == \
               [(c.cell_type, c.source) for c in notebook.cells], \
            f"tests/references/{name}.ipynb is not notebooks/{name}.ipynb: run `make references`"


def test_the_run_summary_says_which_precision_auto_chose_and_why(monkeypatch):
    import torch
    from inpaint.method import precision
    cpu = torch.device("cpu")
    monkeypatch.setattr(precision, "native_cpu_bf16", lambda: True)
    assert pages.arithmetic("auto", cpu) == \
        "bfloat16 autocast (the profile's `auto`: this CPU has native bfloat16)"
    monkeypatch.setattr(precision, "native_cpu_bf16", lambda: False)
    assert pages.arithmetic("auto", cpu) == \
        "float32 (the profile's `auto`: this CPU has no native bfloat16)"
    assert pages.arithmetic("auto", torch.device("cuda")).startswith("float32")
    assert pages.arithmetic("bf16", cpu) == "bfloat16 autocast (the profile's precision)"


def test_a_docstring_or_comment_edit_reruns_no_chapter_and_a_code_edit_does(tmp_path):
    """Chapter fingerprints digest a module's code, not its bytes."""
    module = tmp_path / "module.py"
    module.write_text('"""Module."""\n\ndef f(x):\n    """Twice x."""\n    return 2 * x  # double\n')
    before = fingerprints.content_digest(module)
    module.write_text('"""A module, reworded."""\n\n\ndef f(x):\n    """Twice x, as a float or an '
                      'int."""\n    # the same code\n    return 2 * x\n')
    assert fingerprints.content_digest(module) == before
    module.write_text('"""Module."""\n\ndef f(x):\n    """Twice x."""\n    return 3 * x\n')
    assert fingerprints.content_digest(module) != before
    module.write_text('"""Module."""\n\ndef f(x):\n    return "Twice x."\n')  # a string result
    assert fingerprints.content_digest(module) != before


def test_the_shipped_models_fingerprint_the_same_wherever_they_lie(tmp_path, monkeypatch):
    """A copy of the shipped weights in INPAINT_MODELS (or the user's cache) is the same input as
    the repository's: the chapters stay up to date."""
    cpu = PROFILES["cpu"]
    before = fingerprints.fingerprint("04_reconstruction_grids", cpu)
    shutil.copytree(shipped.DATA_MODELS_DIR, tmp_path / "models")
    monkeypatch.setenv(shipped.MODELS_ENV, str(tmp_path / "models"))
    assert shipped.locate_shipped("tiny-imagenet-full").is_relative_to(tmp_path)
    assert fingerprints.fingerprint("04_reconstruction_grids", cpu) == before


def test_the_environment_page_lists_archives_and_skips_a_committed_folder_of_photographs():
    """The MSCOCO photographs are a committed folder (with their own SHA256SUMS), not an archive:
    the run summary lists the archives it found and does not try to checksum a folder."""
    page = pages.environment("a test machine", {"data": 0.0}, {}, {})
    archives = page.split("Archives used (sha256):")[1]
    assert "`coco`" not in archives and "(coco)" not in archives


def table_notebook(folder, runs, name, cells, parameters='profile = "cpu"'):
    """A chapter notebook whose kernel imports this library and keeps the study's runs/ in
    `runs`, as the test's own process does."""
    lib = str(Path(chapters.__file__).parents[2])
    write_notebook(folder, name, [
        f"import os, signal, sys\nsys.path.insert(0, {lib!r})\nfrom pathlib import Path\n"
        f"import pandas as pd\nfrom inpaint.study import chapters\n"
        f"from inpaint.study.profiles import PROFILES\nchapters.RUNS_DIR = Path({str(runs)!r})",
        *cells], parameters)


@pytest.fixture
def table_chapter(tmp_path, monkeypatch):
    """A registered chapter "ok" saving the table "rules", with runs/ under tmp_path."""
    source, out, runs = tmp_path / "notebooks", tmp_path / "results", tmp_path / "runs"
    source.mkdir()
    monkeypatch.setattr(fingerprints, "NOTEBOOK_DIR", source)
    monkeypatch.setattr(chapters, "CHAPTERS", (Chapter("ok", ("rules",)),))
    monkeypatch.setattr(chapters, "RUNS_DIR", runs)
    monkeypatch.delenv(chapters.TABLES_ENV, raising=False)
    return source, out, runs / "ci" / "tables" / "rules.csv"


def snapshot(out, table):
    return [path.read_bytes() for path in (out / "ok.ipynb", out / "fingerprints.json", table)]


@pytest.mark.parametrize("interruption", ["KeyboardInterrupt in a cell", "kernel killed",
                                          "Ctrl-C in the study"])
def test_an_interrupted_chapter_keeps_its_last_result(table_chapter, tmp_path, monkeypatch,
                                                      capsys, interruption):
    """`study --force-notebooks` interrupted once the chapter has saved a table and before its
    last cell: the notebook, its tables and its stamp stay those of the last complete run, and
    the next study finds that run up to date: the same book as without the interruption."""
    source, out, table = table_chapter
    stop = tmp_path / "stop"
    stopping = {"KeyboardInterrupt in a cell": "raise KeyboardInterrupt",
                "kernel killed": "os.kill(os.getpid(), signal.SIGKILL)",
                "Ctrl-C in the study": "pass"}[interruption]
    table_notebook(source, tmp_path / "runs", "ok", [
        f"stopped = Path({str(stop)!r}).exists()\n"
        f"chapters.save_table(PROFILES[profile], 'rules', pd.DataFrame({{'x': [stopped]}}))",
        f"if stopped:\n    {stopping}",
        "print('the last cell ran')"])
    pipeline.run_notebooks(PROFILES["ci"], out)
    complete = snapshot(out, table)
    assert pd.read_csv(table, index_col=0).x.tolist() == [False]

    stop.touch()
    if interruption == "Ctrl-C in the study":
        import papermill
        real = papermill.execute_notebook

        def interrupted(*args, **kwargs):
            real(*args, **kwargs)
            raise KeyboardInterrupt
        monkeypatch.setattr(papermill, "execute_notebook", interrupted)
    with pytest.raises((KeyboardInterrupt, pipeline.NotebookFailed)):
        pipeline.run_notebooks(PROFILES["ci"], out, force=True)
    assert snapshot(out, table) == complete
    assert sorted(p.name for p in table.parent.iterdir()) == ["rules.csv"]
    assert not any(p.name.startswith(".") for p in [*out.iterdir(), *table.parents[1].iterdir()])

    stop.unlink()
    capsys.readouterr()
    pipeline.run_notebooks(PROFILES["ci"], out)
    assert "ok: up to date, skipped" in capsys.readouterr().out
    assert snapshot(out, table) == complete
    assert "the last cell ran" in nbformat.read(out / "ok.ipynb", 4).cells[-2].outputs[0].text


def test_a_hand_run_never_touches_the_study_s_tables(table_chapter, tmp_path, capsys):
    """The README's papermill line with other parameters saves the chapter's tables in a folder
    of its own and says where; the study's tables stay byte for byte, and the next study skips the
    chapter. A study table that is not the one the chapter's last run saved reruns the chapter."""
    import papermill
    source, out, table = table_chapter
    table_notebook(source, tmp_path / "runs", "ok", [
        "chapters.save_table(PROFILES[profile], 'rules', pd.DataFrame({'x': [value]}))"],
        parameters='profile = "cpu"\nvalue = 1')
    pipeline.run_notebooks(PROFILES["ci"], out)
    study = table.read_bytes()

    papermill.execute_notebook(source / "ok.ipynb", tmp_path / "hand.ipynb", cwd=source,
                               parameters={"profile": "ci", "value": 50}, kernel_name="python3")
    said = nbformat.read(tmp_path / "hand.ipynb", 4).cells[-1].outputs[0].text
    folder = Path(said.split(" saved to ")[1].split(" (a run outside")[0])
    assert folder.is_relative_to(tmp_path / "runs" / "ci" / "hand-runs")
    assert pd.read_csv(folder / "rules.csv", index_col=0).x.tolist() == [50]
    assert table.read_bytes() == study
    capsys.readouterr()
    pipeline.run_notebooks(PROFILES["ci"], out)
    assert "ok: up to date, skipped" in capsys.readouterr().out
    assert table.read_bytes() == study

    table.write_text(",x\n0,50\n")  # e.g. written by a hand run of an earlier version
    pipeline.run_notebooks(PROFILES["ci"], out)
    assert "its tables are not the ones its last run saved" in capsys.readouterr().out
    assert table.read_bytes() == study


def test_a_second_study_of_a_profile_is_refused_with_the_first_one_s_pid(tmp_path, monkeypatch,
                                                                         capsys):
    """Two studies of one profile would overwrite each other's notebooks and break the book
    build: the second stops at once, in one line; once the first has ended (even killed, leaving
    its lock file), a study runs."""
    from inpaint.tools import cli
    monkeypatch.setattr(pipeline, "RUNS_DIR", tmp_path)
    monkeypatch.setattr(pipeline, "study", lambda *args: pytest.fail("a second study ran"))
    with pipeline.one_study(PROFILES["ci"]):
        assert cli.main(["study", "--profile", "ci"]) == 2
    error = capsys.readouterr().err
    assert error.count("\n") == 1 and f"(pid {os.getpid()})" in error and "--profile ci" in error
    assert (tmp_path / "ci" / pipeline.LOCK_NAME).read_text().split() == [str(os.getpid())]
    ran = []
    monkeypatch.setattr(pipeline, "study", lambda *args: ran.append(args))
    assert cli.main(["study", "--profile", "ci"]) == 0 and ran
    with pipeline.one_study(PROFILES["cpu"]):  # another profile is another study
        assert cli.main(["study", "--profile", "ci"]) == 0


def test_the_executed_notebooks_name_their_paths_relative_to_the_repository(notebooks,
                                                                            monkeypatch):
    """papermill records the paths it read and wrote; the committed notebooks must not name the
    folder of the machine (nor the temporary file) that ran them."""
    source, out = notebooks
    monkeypatch.setattr(pipeline, "PROJECT_ROOT", source.parent)
    pipeline.run_notebooks(PROFILES["ci"], out)
    recorded = nbformat.read(out / "ok.ipynb", 4).metadata.papermill
    assert (recorded.input_path, recorded.output_path) == ("notebooks/ok.ipynb", "results/ok.ipynb")


def test_changing_one_chapters_values_in_a_profile_reruns_that_chapter_alone(monkeypatch):
    """A chapter's fingerprint takes the values it runs with, not the profiles module's literal:
    one more λ for chapter 03 changes 03's fingerprint (and so its tables, the findings') and no
    other chapter's; a change to the study's shared settings changes them all; 01 follows 02's
    parameters, which it reads."""
    ci = PROFILES["ci"]
    before = {name: fingerprints.fingerprint(name, ci) for name in chapters.names()}
    ablation = ci.chapters["03_lambda_norm_ablation"]
    more = replace(ci, chapters={**ci.chapters, "03_lambda_norm_ablation": replace(
        ablation, lams=(*ablation.lams, 10.0))})
    changed = {n for n in before if fingerprints.fingerprint(n, more) != before[n]}
    assert changed == {"03_lambda_norm_ablation"}
    selection = ci.chapters["02_checkpoint_selection"]
    other = replace(ci, chapters={**ci.chapters, "02_checkpoint_selection": replace(
        selection, iters=selection.iters + 1)})
    changed = {n for n in before if fingerprints.fingerprint(n, other) != before[n]}
    assert changed == {"01_training_curves", "02_checkpoint_selection"}
    shared = replace(ci, threads=ci.threads + 1)
    assert all(fingerprints.fingerprint(n, shared) != before[n] for n in before)


def test_a_new_chapter_or_one_chapter_s_parameter_rules_rerun_that_chapter_alone(tmp_path,
                                                                                  monkeypatch):
    """The registries' code counts for every chapter, but each chapter's entries only for it:
    a new chapter's parameter class and registry row change no other chapter's fingerprint (the
    findings, which read every table, follow the new row); an edit to one chapter's parameter
    class changes that chapter's alone; an edit to the shared code changes them all."""
    profiles_module, chapters_module = fingerprints.REGISTRIES
    source = profiles_module.read_text()
    copy = tmp_path / "profiles.py"
    digests = lambda: {n: fingerprints.registry_code_digest(copy, n) for n in chapters.names()}
    copy.write_text(source)
    before = digests()
    copy.write_text(source.replace('knob(1500, "Adam iterations per face")',
                                   'knob(1000, "Adam iterations per face")'))
    assert {n for n, d in digests().items() if d != before[n]} == {"08_faces"}

    class Later(profiles.Parameters):
        pass
    monkeypatch.setitem(profiles.PARAMETERS, "99_later", Later)
    copy.write_text(source + "\n\n@dataclass(frozen=True)\nclass Later(Parameters):\n"
                    "    images: int = knob(8, 'images')\n")
    assert digests() == before
    copy.write_text(source.replace("def least(kind, rule):", "def least(kind, rule):\n    pass"))
    assert all(d != before[n] for n, d in digests().items())

    cpu = PROFILES["cpu"]
    prints = {n: fingerprints.fingerprint(n, cpu) for n in chapters.names()}
    monkeypatch.setattr(chapters, "CHAPTERS", (*chapters.CHAPTERS, Chapter("99_later", ("later",),
                                                                           command="make later")))
    changed = {n for n in prints if fingerprints.fingerprint(n, cpu) != prints[n]}
    assert changed == {n for n in prints if chapters.chapter(n).reads_tables} != set()


def test_a_chapter_s_fingerprint_covers_the_modules_it_reaches_and_no_other(tmp_path,
                                                                              monkeypatch):
    """A module a chapter imports, directly, lazily inside a function or through another module,
    is part of its fingerprint; a module no chapter's code reaches (a new chapter's method, say)
    changes no other chapter's fingerprint; the tools never count."""
    package = tmp_path / "inpaint"
    (package / "method").mkdir(parents=True)
    (package / "tools").mkdir()
    for path in (package / "__init__.py", package / "method" / "__init__.py",
                 package / "tools" / "__init__.py"):
        path.write_text("")
    (package / "study.py").write_text("def run():\n    from inpaint.method import solver\n")
    (package / "method" / "solver.py").write_text("import numpy\nfrom inpaint.method.masks "
                                                  "import make_mask\n")
    (package / "method" / "masks.py").write_text("from inpaint.tools import cli\n")
    (package / "method" / "new.py").write_text("x = 1\n")
    (package / "tools" / "cli.py").write_text("")
    monkeypatch.setattr(fingerprints, "LIBRARY", package)
    monkeypatch.setattr(fingerprints, "TOOLS", package / "tools")
    found = fingerprints.imported_modules(["from inpaint import study  # the chapter's code"])
    assert [p.relative_to(package).as_posix() for p in found] == [
        "__init__.py", "method/__init__.py", "method/masks.py", "method/solver.py", "study.py"]


def test_every_chapter_s_fingerprint_covers_the_solver_and_the_findings_it_imports():
    """The real chapters: the solver reached through `experiments`, the findings where the
    notebook imports them, and no command-line tool."""
    library = fingerprints.LIBRARY
    for name in chapters.names():
        modules = fingerprints.imported_modules(fingerprints.notebook_sources(
            fingerprints.NOTEBOOK_DIR / f"{name}.ipynb"))
        assert library / "method" / "solver.py" in modules, name
        assert library / "study" / "profiles.py" in modules, name
        assert not any(fingerprints.TOOLS in path.parents for path in modules), name
    imported = fingerprints.imported_modules(fingerprints.notebook_sources(
        fingerprints.NOTEBOOK_DIR / "03_lambda_norm_ablation.ipynb"))
    assert library / "study" / "findings.py" in imported

"""`python -m inpaint study`: the whole study, stage by stage, skipping what is up to date.

  0. preflight  find, or download, every dataset the profile reads; stop (exit 2) with one line
                per missing dataset when some cannot be had
  1. data       decode (or read from cache) the training and evaluation images
  2. train      the profile's main DCGAN and its CelebA model (resumed if interrupted, skipped
                if done)
  3. notebooks  each notebook through papermill with the profile's parameters into book/results/
                (skipped when its fingerprint, covering the notebook, the library code, the runs
                and the parameters, is unchanged)
  4. book       the generated pages (run summary, data counts, environment), then jupyter-book

`python -m inpaint references` re-executes the notebooks with the `ci` profile into
tests/references/, the outputs that nbval compares against in `make test`.
"""
from __future__ import annotations

import contextlib
import json
import os
import shutil
import tempfile
import time
from pathlib import Path

from inpaint.data import registry
from inpaint.files import ChecksumError, PROJECT_ROOT, atomic_path, single_run
from inpaint.study import chapters
from inpaint.study.chapters import TABLES_ENV, tables_dir
from inpaint.study.gans import RUNS_DIR, ensure_trained, run_config
from inpaint.study.profiles import Profile
from inpaint.tools import fingerprints
from inpaint.tools.fingerprints import (GENERATED_DIR, PUBLISHED, TRAINED, long_notebook_status,
                                        read_stamps, stamp_key, status, table_digests)
from inpaint.tools.pages import (build_book, built_from, ensure_bench_page, restore_long_tables, stage,
                                 write_front_page, write_generated_pages, write_readme_results,
                                 write_tables)
from inpaint.training import shipped
from inpaint.training.train import training_images

REFERENCE_DIR = PROJECT_ROOT / "tests" / "references"


class NotebookFailed(RuntimeError):
    """A notebook raised an error; the message names the notebook and the cell."""


def execute(notebook: str, settings: Profile, out_dir: Path) -> float:
    """Run one notebook through papermill with the profile's name into out_dir/<notebook>.ipynb;
    returns the seconds it took.

    Nothing is replaced before the notebook has run to its end: papermill writes a temporary
    notebook, and the chapter's tables go to a folder of this run (TABLES_ENV); then the tables
    replace the study's (`adopt_tables`) and the notebook replaces the last one. An interrupted
    run (Ctrl-C, a killed kernel) leaves the previous result, or none; a failed one also leaves
    its partly executed notebook as out_dir/<notebook>.failed.ipynb, which the book ignores."""
    import papermill
    from nbclient.exceptions import DeadKernelError
    out_dir.mkdir(parents=True, exist_ok=True)
    output = out_dir / f"{notebook}.ipynb"
    failed = out_dir / f"{notebook}.failed.ipynb"
    source = fingerprints.NOTEBOOK_DIR / f"{notebook}.ipynb"
    started = time.perf_counter()
    with run_tables(notebook, settings) as tables, atomic_path(output) as partial:
        try:
            papermill.execute_notebook(source, partial, parameters={"profile": settings.name},
                                       cwd=fingerprints.NOTEBOOK_DIR,
                                       kernel_name="python3", progress_bar=True)
        except papermill.PapermillExecutionError as error:
            os.replace(partial, failed)
            raise NotebookFailed(
                f"notebook {notebook} failed in cell {error.cell_index} (execution count "
                f"{error.exec_count}): {error.ename}: {error.evalue}. The partly executed "
                f"notebook is {failed}; fix the cause and run the study again") from None
        except DeadKernelError:
            raise NotebookFailed(f"notebook {notebook}: its kernel died (killed, or out of "
                                 f"memory); its last result is kept: run the study again") from None
        prepare_for_book(partial, tables, notebook)
        record_paths(partial, source, output)
        stamp_page(partial, notebook, settings, time.perf_counter() - started)
        adopt_tables(notebook, settings, tables)
    failed.unlink(missing_ok=True)
    return time.perf_counter() - started


@contextlib.contextmanager
def run_tables(notebook: str, settings: Profile):
    """A fresh folder for one run of `notebook`'s tables, named to its kernel by TABLES_ENV, with
    copies of the study's tables when the chapter reads them (the findings); removed after."""
    study = tables_dir(settings)
    study.mkdir(parents=True, exist_ok=True)
    folder = Path(tempfile.mkdtemp(prefix=f".{notebook}.", dir=study.parent))
    before = os.environ.get(TABLES_ENV)
    try:
        if chapters.chapter(notebook).reads_tables:
            for table in study.glob("*.csv"):
                shutil.copyfile(table, folder / table.name)
        os.environ[TABLES_ENV] = str(folder)
        yield folder
    finally:
        if before is None:
            os.environ.pop(TABLES_ENV, None)
        else:
            os.environ[TABLES_ENV] = before
        shutil.rmtree(folder, ignore_errors=True)


def adopt_tables(notebook: str, settings: Profile, folder: Path) -> None:
    """Make the tables `notebook` saved in its run's `folder` the study's: each of the chapter's
    tables replaces the study's copy, and one the run did not save is removed (it belonged to
    an earlier result)."""
    study = tables_dir(settings)
    row = chapters.chapter(notebook)
    files = [f"{name}.csv" for name in row.writes] + [f"{name}.png" for name in row.figures]
    for file in files:
        if (folder / file).is_file():
            os.replace(folder / file, study / file)
        else:
            (study / file).unlink(missing_ok=True)


def record_paths(path: Path, source: Path, output: Path) -> None:
    """Papermill records the absolute paths it read and wrote (here a temporary name); record them
    relative to the repository instead, as the notebook will be read: the committed notebooks do
    not name the folder of the machine that ran them."""
    import nbformat
    notebook = nbformat.read(path, as_version=4)
    recorded = notebook.metadata.get("papermill", {})
    for key, value in (("input_path", source), ("output_path", output)):
        recorded[key] = str(value.relative_to(PROJECT_ROOT) if value.is_relative_to(PROJECT_ROOT)
                            else value.name)
    notebook.metadata["papermill"] = recorded
    nbformat.write(notebook, path)


WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"
TABLES_NOTE = "downloadable-tables"  # the tag of the cell that links a chapter's per-image CSVs


def tables_cell(notebook: str, saved: Path):
    """A markdown cell linking the CSV tables the chapter saved in the folder `saved` (copied
    beside the book by `pages.write_tables`), or None where it saved none. A table the chapter
    writes only under some profiles (the authors' crop fit needs the CelebA files) is linked only
    where this run wrote it, so that no link points at a missing file."""
    import nbformat
    written = [name for name in chapters.chapter(notebook).writes
               if (saved / f"{name}.csv").is_file()]
    if not written:
        return None
    links = ", ".join(f"[{name}.csv](../{GENERATED_DIR.name}/tables/{name}.csv)" for name in written)
    return nbformat.v4.new_markdown_cell(
        f"**This chapter's saved tables**, as CSV (the tables the findings test): "
        f"{links}.", metadata={"tags": [TABLES_NOTE]})


STAMP = "build-stamp"  # the tag of the page's first box: how this page was made


def command_of(notebook: str, settings: Profile) -> str:
    """The command that runs `notebook` for `settings`: `make study` or its long chapter's."""
    command = chapters.long_commands().get(notebook, "make study")
    return f"{command} PROFILE={settings.name}"


def parameter_words(value) -> str:
    """A chapter parameter's value in the stamp: lists in words, None (the profile's own value) as
    "the profile's"."""
    from inpaint.study import wording
    if value is None:
        return "the profile's"
    return wording.in_words(value) if isinstance(value, (list, tuple)) else str(value)


def stamp_text(notebook: str, settings: Profile, seconds: float, when: str, source: str) -> str:
    """The box a result page opens with: the command and profile that made it, the chapter's
    parameters under that profile, how long it ran, and the commit and date it was built from."""
    from dataclasses import asdict
    from inpaint.study import wording
    parameters = settings.chapters.get(notebook)
    values = asdict(parameters) if parameters is not None else {}
    worded = "; ".join(f"{key} {parameter_words(value)}" for key, value in values.items())
    return "\n".join([
        ":::{admonition} How this page was made",
        ":class: note",
        f"`{command_of(notebook, settings)}`, profile **{settings.name}**"
        + (f" (this chapter's parameters: {worded})" if worded else "")
        + f"; it ran in {wording.seconds(seconds)}, from {source}, on {when}.",
        ":::"])


def stamp_page(path: Path, notebook: str, settings: Profile, seconds: float) -> None:
    """Open the executed notebook at `path` with its stamp (`stamp_text`), after its title cell,
    replacing an earlier one."""
    import datetime
    import nbformat
    page = nbformat.read(path, as_version=4)
    page.cells = [cell for cell in page.cells if STAMP not in cell.metadata.get("tags", [])]
    when = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    box = nbformat.v4.new_markdown_cell(stamp_text(notebook, settings, seconds, when,
                                                   built_from()), metadata={"tags": [STAMP]})
    page.cells.insert(1 if page.cells and page.cells[0].cell_type == "markdown" else 0, box)
    nbformat.write(page, path)


def prepare_for_book(path: Path, saved: Path, name: str | None = None) -> None:
    """Make an executed notebook ready for the offline book: tag papermill's injected-parameters
    cell `remove-cell` (the book shows results, not set-up; nbval still re-executes it), drop
    the progress-bar widgets, for which the book would load JavaScript from a CDN and whose text
    form is the bar's first state ("0%"), and end it with the links to the per-image tables its
    chapter (`name`, by default the file's) saved in the folder `saved`."""
    import nbformat
    notebook = nbformat.read(path, as_version=4)
    notebook.metadata.pop("widgets", None)
    notebook.cells = [cell for cell in notebook.cells
                      if TABLES_NOTE not in cell.metadata.get("tags", [])]
    if (links := tables_cell(name or path.stem, saved)) is not None:
        notebook.cells.append(links)
    for cell in notebook.cells:
        tags = cell.metadata.get("tags", [])
        if "injected-parameters" in tags and "remove-cell" not in tags:
            cell.metadata["tags"] = [*tags, "remove-cell"]
        if "outputs" in cell:
            cell.outputs = [output for output in cell.outputs
                            if WIDGET_VIEW not in output.get("data", {})]
    nbformat.write(notebook, path)


def run_notebooks(settings: Profile, out_dir: Path | None = None, force: bool = False,
                  names=None) -> dict:
    """Execute each of `notebooks` (by default `chapters.in_study()`) whose fingerprint changed
    into `out_dir` (by default the profile's, see `book_dirs`); returns {notebook: seconds of its
    last execution}, recorded in fingerprints.json for the ones skipped."""
    out_dir = out_dir or fingerprints.book_dirs(settings)[0]
    names = chapters.in_study() if names is None else names
    stamps_file = out_dir / "fingerprints.json"
    stamps = read_stamps(out_dir)
    times = {}
    for notebook in names:
        state = status(notebook, settings, out_dir, stamps)
        if not force and state == "up to date":
            print(f"{notebook}: up to date, skipped")
            times[notebook] = stamps[notebook]["seconds"]
            continue
        reason = {"tables changed": " (its tables are not the ones its last run saved)"}
        print(f"{notebook}: running with profile {settings.name}{reason.get(state, '')}")
        seconds = execute(notebook, settings, out_dir)
        # Fingerprint again: the selection notebook writes the chosen epoch the others read. The
        # stamp is written last, once the notebook and its tables are in place.
        stamps[notebook] = {"key": stamp_key(notebook, settings), "seconds": round(seconds, 1),
                            "tables": table_digests(notebook, settings)}
        with atomic_path(stamps_file) as tmp:
            tmp.write_text(json.dumps(stamps, indent=2))
        times[notebook] = round(seconds, 1)
    return times


def report_long_notebooks(settings: Profile) -> None:
    for notebook, state in long_notebook_status(settings).items():
        if state != "up to date":
            command = chapters.long_commands()[notebook] + (
                "" if settings.name == PUBLISHED else f" PROFILE={settings.name}")
            print(f"{notebook}: {state}; `make study` does not run it (too long for its "
                  f"budget): run `{command}`. The book shows "
                  + ("a page saying so." if state == "missing" else "its last result."))


def datasets_read(settings: Profile) -> dict[str, tuple[str, ...]]:
    """The registry's dataset splits `settings` reads, {dataset: (split, ...)}: the training sets
    of the runs `make study` trains (the faces chapter's grid trains on the same CelebA split)
    and the evaluation sets of the chapters and the data summary. The committed sample of the
    `ci` profile is none of them."""
    wanted: dict[str, tuple[str, ...]] = {}
    for name in TRAINED:
        dataset = run_config(settings, name).dataset
        if dataset != "sample":
            wanted[dataset] = (*wanted.get(dataset, ()), "train")
    if settings.study.val_dataset != "sample":
        for dataset in (settings.study.val_dataset, "celeba", "coco"):
            wanted[dataset] = (*wanted.get(dataset, ()), "val")
    return wanted


def preflight(settings: Profile) -> None:
    """Before any training: find every dataset split `settings` reads, downloading what is missing
    and can be downloaded (each network wait times out after registry.DOWNLOAD_TIMEOUT_S, and a
    dataset whose first split fails is not tried again, so no network costs seconds). Raises
    DatasetNotFoundError (exit 2 from the CLI) with one line per missing dataset: what to
    download, from where, and where to put it."""
    lines = []
    for dataset, splits in datasets_read(settings).items():
        for split in splits:
            try:
                registry.locate(dataset, split)
            except registry.DatasetNotFoundError as error:
                lines.append(error.line)
                break
            except ChecksumError as error:
                lines.append(registry.fetch_line(dataset, split, str(error)))
                break
    if lines:
        raise registry.DatasetNotFoundError(
            f"{len(lines)} of the datasets the {settings.name} profile reads "
            f"{'is' if len(lines) == 1 else 'are'} missing; get "
            f"{'it' if len(lines) == 1 else 'them'}, then run again:\n  " + "\n  ".join(lines))


LOCK_NAME = "study.lock"


def one_study(settings: Profile):
    """Hold runs/<profile>/study.lock while a study (or `references`, for `ci`) runs: a second
    one for the same profile is refused at once with the first one's pid (FileExistsError, exit 2
    from the CLI) instead of failing later in the book build."""
    return single_run(RUNS_DIR / settings.name / LOCK_NAME, "`inpaint study`", "--profile",
                      f"another `inpaint study --profile {settings.name}` (or `references`) is "
                      f"running (pid {{pid}}); wait for it to finish, or stop it")


def run_study(settings: Profile, force_notebooks: bool = False, long=False) -> Path:
    """Data, training, the notebooks (with `long`, also the long ones: True for all of them,
    or their names, e.g. ("07_beyond_yeh",) for `make beyond`), the generated pages and the
    book; returns the book's index.html. One study at a time per profile (`one_study`)."""
    extra = chapters.long_chapters(long)  # a wrong name is refused before anything runs
    with one_study(settings):
        return study(settings, force_notebooks, extra)


def study(settings: Profile, force_notebooks: bool, extra: tuple[str, ...]) -> Path:
    started = time.perf_counter()
    name = settings.study.shipped
    if name:  # before any training: a missing or damaged reference model is said at once
        shipped.verify_shipped(name)
    preflight(settings)  # and so are missing datasets, one line each
    stage("data")
    for name in TRAINED:
        training_images(run_config(settings, name))
    stage_seconds = {"data": time.perf_counter() - started}
    stage("train")
    for name in TRAINED:
        ensure_trained(settings, name)
    stage("notebooks")
    names = tuple(name for name in chapters.names()
                  if name in chapters.in_study() or name in extra)
    restore_long_tables(settings, names)
    seconds = run_notebooks(settings, force=force_notebooks, names=names)
    report_long_notebooks(settings)
    write_generated_pages(settings, stage_seconds, seconds)
    write_tables(settings)
    ensure_bench_page(settings)
    write_front_page(settings)
    if settings.name == PUBLISHED:
        write_readme_results(settings)
    html = build_book(settings)
    print(f"\nstudy ({settings.name}) done in {(time.perf_counter() - started) / 60:.1f} min")
    print(f"open the book: {html}")
    return html


REFERENCE_NOTE = """**nbval reference** (written by `make references`; `make test` re-executes it).
Compared exactly: every text output (printed lines, tables, messages), every whole number in it
(step counts, epochs, the chosen epoch) and the order of rows. Compared within a tolerance:
numbers with a decimal point may differ by at most `FLOAT_TOLERANCE` (0.02, see
tests/nbval_tolerance.py), the drift of float32 results across CPUs, kernels and thread counts.
Not compared: images, cells tagged `nbval-ignore-output` (set-up and timings), and p-values and
the word for how an interval was made ("t", "bootstrap"), which swing with those last bits when
an effect is nil; the differences, bounds and verdicts beside them are compared. Sanitised
first: times, rates, absolute paths and memory addresses (tests/sanitize.cfg)."""


def as_reference(path: Path) -> None:
    """Turn an executed notebook into an nbval reference: a first cell that says what is
    compared and how (REFERENCE_NOTE), and no PNG/JPEG outputs, which nbval does not compare
    (a reference only needs their text, e.g. "<Figure size 1000x700 with 2 Axes>")."""
    import nbformat
    notebook = nbformat.read(path, as_version=4)
    for cell in notebook.cells:
        for output in cell.get("outputs", []):
            for mime in ("image/png", "image/jpeg"):
                output.get("data", {}).pop(mime, None)
    notebook.cells.insert(0, nbformat.v4.new_markdown_cell(REFERENCE_NOTE))
    nbformat.write(notebook, path)


def refresh_references(settings: Profile) -> None:
    """Re-execute every notebook with `settings` (the `ci` profile) into tests/references/ (for
    nbval).

    The `ci` runs (runs/ci/, seconds of training) are removed first and retrained inside the
    notebooks, as on a clean checkout: the references then match what `make test` computes
    there, not a model left over from an earlier session (whose floats may differ in the last
    digits, e.g. if it was trained with another number of threads).
    """
    with one_study(settings):
        for path in (RUNS_DIR / settings.name).iterdir():
            if path.is_dir():
                shutil.rmtree(path)
            elif path.name != LOCK_NAME:
                path.unlink()
        for notebook in chapters.names():
            print(f"{notebook}: reference run ({settings.name})")
            execute(notebook, settings, REFERENCE_DIR)
            as_reference(REFERENCE_DIR / f"{notebook}.ipynb")
    print(f"references written to {REFERENCE_DIR}; review `git diff` before committing")

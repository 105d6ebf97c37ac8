"""`python -m inpaint study`: the whole study, stage by stage, skipping what is up to date.

  1. data       decode (or read from cache) the training and evaluation images
  2. train      the profile's main DCGAN and its CelebA model (resumed if interrupted, skipped if done)
  3. notebooks  each notebook through papermill with the profile's parameters into book/results/
                (skipped when its fingerprint, covering the notebook, the library code, the runs
                and the parameters, is unchanged)
  4. book       the generated pages (run summary, data counts, environment), then jupyter-book

`python -m inpaint references` re-executes the notebooks with the `ci` profile into
tests/references/, the outputs that nbval compares against in `make test`.
"""
from __future__ import annotations

import hashlib
import json
import platform
import shutil
import subprocess
import sys
import time
from dataclasses import asdict
from importlib import metadata
from pathlib import Path

import pandas as pd
import torch
from torchvision.utils import save_image

from . import reference
from .config import get_profile
from .data import DATASETS, PROJECT_ROOT, file_checksum, load_images, locate
from .experiments import validation_images
from .chapters import CHAPTERS
from .experiments import load_table, summary, tables_dir
from .runs import (CHOICES_FILE, RUN_NAMES, RUNS_DIR, chosen_epoch, chosen_epoch_file,
                   chosen_models, ensure_trained, evaluated_gan, run_config, run_dir)
from .checkpoints import describe_machine, pick_device, read_log
from .train import training_images

NOTEBOOK_DIR = PROJECT_ROOT / "notebooks"
BOOK_DIR = PROJECT_ROOT / "book"
RESULTS_DIR = BOOK_DIR / "results"
REFERENCE_DIR = PROJECT_ROOT / "tests" / "references"
GENERATED_DIR = BOOK_DIR / "_generated"
PUBLISHED = "cpu"  # the profile whose results the committed book shows (book/results, _generated)
# The chapters, their tables and their commands: inpaint.chapters.CHAPTERS.
TRAINED = ("main", "celeba")  # the runs `make study` trains before the notebooks
TOOLS = ("pipeline", "cli", "flags", "bench", "complete", "__main__")
PACKAGES = ("torch", "torchvision", "numpy", "scipy", "pandas", "matplotlib", "seaborn",
            "scikit-image", "opencv-python-headless", "papermill", "nbval", "jupyter-book")


class NotebookFailed(RuntimeError):
    """A notebook raised an error; the message names the notebook and the cell."""


def stage(name: str) -> None:
    print(f"\n=== {name} ===", flush=True)


def notebooks() -> tuple[str, ...]:
    """Every chapter's notebook, in order."""
    return tuple(row.name for row in CHAPTERS)


def long_notebooks() -> dict[str, str]:
    """The chapters too long for `make study`'s budget, with the command that runs each instead.
    The study leaves their last result in place and says whether it is up to date."""
    return {row.name: row.command for row in CHAPTERS if row.command}


def registered(notebook: str):
    return next(row for row in CHAPTERS if row.name == notebook)


def notebook_inputs(notebook: str, profile: str) -> list[Path]:
    """Every file a notebook's result depends on: its source, the library modules the notebooks
    use (not the command-line tools: pipeline, cli, bench, complete), the trained runs (settings
    and checkpoints), the evaluated model's files and the recorded by-eye choices, and, for the
    notebooks after the selection chapter, the chosen epoch it wrote. Files that do not exist
    (yet) are listed too: their absence is part of the state."""
    modules = [p for p in sorted((PROJECT_ROOT / "lib").rglob("*.py")) if p.stem not in TOOLS]
    paths = [NOTEBOOK_DIR / f"{notebook}.ipynb", *modules, CHOICES_FILE]
    for name in TRAINED:
        run = run_dir(profile, name)
        paths += [run / "config.json", *sorted(run.glob("checkpoints/*.pt"))]
    if get_profile(profile).study.reference:
        paths += evaluated_gan(profile).files()
    chapter = registered(notebook)
    if chapter.reads_chosen_epoch:
        paths.append(chosen_epoch_file(profile))
    if chapter.reads_tables:
        paths += sorted(tables_dir(get_profile(profile)).glob("*.csv"))
    return paths


def fingerprint(notebook: str, profile: str) -> str:
    """A digest of `notebook_inputs` (names and contents) and the profile's name."""
    digest = hashlib.sha256(profile.encode())
    for path in notebook_inputs(notebook, profile):
        digest.update(path.name.encode())
        digest.update(file_checksum(path).encode() if path.is_file() else b"absent")
    return digest.hexdigest()


def execute(notebook: str, profile: str, out_dir: Path) -> float:
    """Run one notebook through papermill with `profile`; returns the seconds it took."""
    import papermill
    out_dir.mkdir(parents=True, exist_ok=True)
    output = out_dir / f"{notebook}.ipynb"
    started = time.perf_counter()
    try:
        papermill.execute_notebook(NOTEBOOK_DIR / f"{notebook}.ipynb", output,
                                   parameters={"profile": profile}, cwd=NOTEBOOK_DIR,
                                   kernel_name="python3", progress_bar=True)
    except papermill.PapermillExecutionError as error:
        raise NotebookFailed(
            f"notebook {notebook} failed in cell {error.cell_index} (execution count "
            f"{error.exec_count}): {error.ename}: {error.evalue}. The partly executed notebook "
            f"is {output}; fix the cause and run the study again") from None
    prepare_for_book(output)
    return time.perf_counter() - started


WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"


def prepare_for_book(path: Path) -> None:
    """Make an executed notebook ready for the offline book: tag papermill's injected-parameters
    cell `remove-cell` (the book shows results, not set-up; nbval still re-executes it), and drop
    the progress-bar widgets' state, for which the book would load JavaScript from a CDN (each
    widget output keeps its text form)."""
    import nbformat
    notebook = nbformat.read(path, as_version=4)
    notebook.metadata.pop("widgets", None)
    for cell in notebook.cells:
        tags = cell.metadata.get("tags", [])
        if "injected-parameters" in tags and "remove-cell" not in tags:
            cell.metadata["tags"] = [*tags, "remove-cell"]
        for output in cell.get("outputs", []):
            output.get("data", {}).pop(WIDGET_VIEW, None)
    nbformat.write(notebook, path)


def study_notebooks() -> tuple[str, ...]:
    """The notebooks `make study` runs: all but the long ones, in order."""
    return tuple(row.name for row in CHAPTERS if not row.command)


def read_stamps(out_dir: Path) -> dict:
    """{notebook: {"key", "seconds"}} from out_dir/fingerprints.json, {} if there is none."""
    stamps_file = out_dir / "fingerprints.json"
    return json.loads(stamps_file.read_text()) if stamps_file.exists() else {}


def run_notebooks(profile: str, out_dir: Path | None = None, force: bool = False,
                  names=None) -> dict:
    """Execute each of `notebooks` (by default `study_notebooks()`) whose fingerprint changed
    into `out_dir` (by default the profile's, see `book_dirs`); returns {notebook: seconds of its
    last execution}, recorded in fingerprints.json for the ones skipped."""
    out_dir = out_dir or book_dirs(profile)[0]
    names = study_notebooks() if names is None else names
    stamps_file = out_dir / "fingerprints.json"
    stamps = read_stamps(out_dir)
    times = {}
    for notebook in names:
        key = f"{profile}:{fingerprint(notebook, profile)}"
        if not force and stamps.get(notebook, {}).get("key") == key and \
                (out_dir / f"{notebook}.ipynb").exists():
            print(f"{notebook}: up to date, skipped")
            times[notebook] = stamps[notebook]["seconds"]
            continue
        print(f"{notebook}: running with profile {profile}")
        seconds = execute(notebook, profile, out_dir)
        # Fingerprint again: the selection notebook writes the chosen epoch the others read.
        stamps[notebook] = {"key": f"{profile}:{fingerprint(notebook, profile)}",
                            "seconds": round(seconds, 1)}
        stamps_file.write_text(json.dumps(stamps, indent=2))
        times[notebook] = round(seconds, 1)
    return times


# ------------------------------------------------------------------------- generated pages

def training_seconds(profile: str, name: str) -> float:
    """Wall-clock training time of a run, from its log."""
    return float(read_log(run_dir(profile, name)).elapsed_s.max())


def describe(config: dict) -> str:
    """A training configuration in words: width, images, epochs, batch."""
    images = "all" if config["limit"] is None else f"{config['limit']:,}"
    return (f"width {config['width']}, {images} {config['dataset']} images, "
            f"{config['epochs']} epochs of batch {config['batch_size']}")


def book_dirs(profile: str) -> tuple[Path, Path]:
    """(executed notebooks, generated pages) of a profile: book/results and book/_generated for
    the published profile; runs/<profile>/book/{results,_generated} for any other, so that trying
    another profile never overwrites the committed book."""
    if profile == PUBLISHED:
        return RESULTS_DIR, GENERATED_DIR
    return RUNS_DIR / profile / "book" / "results", RUNS_DIR / profile / "book" / "_generated"


def write_generated_pages(profile: str, stage_seconds: dict, notebook_seconds: dict) -> None:
    """The generated pages of `book_dirs(profile)`: run_summary.md, data_summary.md and
    environment.md, included by the chapters, and samples_chosen_epoch.png, the evaluated
    model's samples on the front page."""
    generated = book_dirs(profile)[1]
    generated.mkdir(parents=True, exist_ok=True)
    device = pick_device()
    hardware = describe_machine()
    train_s = {name: training_seconds(profile, name) for name in RUN_NAMES}
    # The schedule runs are trained inside the training-curves notebook: counted there.
    schedules = train_s["schedule-joint"] + train_s["schedule-blocks"]
    # The training-curves notebook trains the schedule runs when they are missing, and its time
    # then includes theirs; when it found them trained, they are added here. Either way they count
    # once.
    inside = schedules if notebook_seconds.get(notebooks()[0], 0) >= schedules else 0.0
    minutes = {"data": stage_seconds["data"] / 60,
               "training": (sum(train_s[name] for name in TRAINED) + schedules - inside) / 60,
               "notebooks": sum(notebook_seconds.get(name, 0) for name in study_notebooks()) / 60}
    stamps = read_stamps(book_dirs(profile)[0])
    long_seconds = {name: stamps[name]["seconds"] for name in long_notebooks() if name in stamps}
    status = long_notebook_status(profile)
    gan, epoch = evaluated_gan(profile), chosen_epoch(profile)
    scratch = run_config(profile)
    if gan.reference:
        info = reference.run_info(gan.reference)
        evaluated = (f"the shipped reference model **{gan.key}** ({describe(gan.config())}; "
                     f"{info['images_kept']:,} images kept), trained by this project's code on "
                     f"{info['hardware'].split(',')[0]} in {info['training_seconds']} s and "
                     f"evaluated here at its epoch-{epoch} checkpoint, chosen in the selection "
                     f"chapter. Beside it, the `{profile}` model ({describe(asdict(scratch))}) "
                     f"was trained here from scratch in {train_s['main'] / 60:.1f} min")
    else:
        evaluated = (f"the `{profile}` model ({describe(asdict(scratch))}), trained here in "
                     f"{train_s['main'] / 60:.1f} min, at its epoch-{epoch} checkpoint, chosen "
                     f"in the selection chapter")
    (generated / "run_summary.md").write_text(
        f"The results in this book were computed with the **`{profile}` profile** on {hardware} "
        f"({device.type.upper()}). Every results chapter reports {evaluated}. The CelebA model took "
        f"{train_s['celeba'] / 60:.1f} min to train and the two short schedule runs "
        f"{(train_s['schedule-joint'] + train_s['schedule-blocks']) / 60:.1f} min (in the "
        f"training-curves notebook). End to end: "
        + ", ".join(f"{stage} {value:.1f} min" for stage, value in minutes.items())
        + f", **{sum(minutes.values()):.1f} min in all** (then a minute or so for this book's "
        f"HTML)."
        + "".join(f" The chapter {name} is not part of `make study`: `{long_notebooks()[name]}` ran "
                  f"it in {value / 60:.1f} min, "
                  + ("with this build's code." if status[name] == "up to date" else
                     "with an earlier version of the code: it is out of date, and the book shows "
                     "its last result.")
                  for name, value in long_seconds.items())
        + " See {doc}`reproducibility` for the commands and each step's time.\n")
    with torch.no_grad():
        samples = gan.generator(epoch)(gan.fixed_noise())
    save_image(samples, generated / "samples_chosen_epoch.png", nrow=8, normalize=True,
               value_range=(-1, 1))
    (generated / "data_summary.md").write_text(data_summary(profile))
    (generated / "environment.md").write_text(environment(
        hardware, stage_seconds, train_s,
        notebook_rows(notebook_seconds, long_seconds)))


def notebook_rows(notebook_seconds: dict, long_seconds: dict) -> dict:
    """{row: seconds} of the time table: the study's notebooks (`make study`'s times), then each
    long chapter once, named with the command that runs it (`long_seconds`, from its stamp)."""
    rows = {name: value for name, value in notebook_seconds.items()
            if name not in long_notebooks()}
    rows.update({f"{name} (`{long_notebooks()[name]}`)": value
                 for name, value in long_seconds.items()})
    return rows


def write_bench_page(profile: str, rows: list[dict]) -> Path:
    """book/_generated/bench.md (or the profile's own, see `book_dirs`): `make bench`'s table
    `rows`, measured on this machine. `make study` does not time (it would cost its budget
    minutes); `make bench` writes this page, and the book says when it has not run."""
    from . import bench
    page = book_dirs(profile)[1] / "bench.md"
    page.parent.mkdir(parents=True, exist_ok=True)
    page.write_text(
        f"Measured by `make bench` on {describe_machine()} (`{profile}` profile's batch size and "
        f"precision; the reference side of each row is timed alternately with the project's, on "
        f"the same machine):\n\n{bench.markdown(rows)}\n")
    return page


def ensure_bench_page(profile: str) -> None:
    """A bench page saying how to make one, where `make bench` has not written it."""
    page = book_dirs(profile)[1] / "bench.md"
    if not page.exists():
        page.write_text(f"Not timed for this build: run `make bench PROFILE={profile}`, which "
                        f"writes the table here.\n")


README = PROJECT_ROOT / "README.md"
README_START, README_END = "<!-- results:start -->", "<!-- results:end -->"


def write_readme_results(profile: str) -> None:
    """The pictures and the headline table at the top of README.md, from the published results:
    book/_generated/readme_masks.png (one row per mask kind: corrupted, GAN, Telea, original) and
    the centre-mask rows of runs/<profile>/comparison.csv, between the README's results markers.
    The README links the front-page samples (samples_chosen_epoch.png) as they are."""
    import matplotlib
    matplotlib.use("Agg")
    from .baselines import BASELINES
    from .experiments import inpaint, solver_config
    from .masks import MASK_KINDS, make_mask
    from .plots import image_grid

    generator, discriminator = chosen_models(profile)
    settings = get_profile(profile)
    truth = validation_images(settings, n=1)
    rows = []
    for kind in MASK_KINDS:
        mask = make_mask(kind, 1)
        result = inpaint(generator, discriminator, truth, mask, solver_config(settings),
                         progress=False)
        rows.append(torch.cat([truth * mask, result.outputs["poisson"],
                               BASELINES["telea"](truth, mask), truth]))
    figure = image_grid(rows, [f"mask: {kind}" for kind in MASK_KINDS],
                        ["corrupted", "GAN + Poisson", "Telea", "original"], scale=1.3)
    figure.savefig(GENERATED_DIR / "readme_masks.png", dpi=90)

    from .findings import method_tests
    metrics = load_table(get_profile(profile), "comparison_images")
    centre = metrics[metrics["mask"] == "center"]
    table = summary(centre, ["method"]).reset_index()
    table = table[["method", "psnr_hole", "psnr_hole_sem", "ssim_hole"]].round(2)
    tests = method_tests(metrics, "center")
    table["GAN + Poisson minus it (paired, 95% CI)"] = table.method.map(
        {name: f"{c.difference:+.2f} [{c.low:+.2f}, {c.high:+.2f}]" for name, c in tests.items()}
    ).fillna("")
    n = centre.image.nunique()
    gan = evaluated_gan(profile)
    block = "\n".join([
        README_START,
        f"Centre 32x32 hole, {gan.key} at epoch {chosen_epoch(profile)}, {n} Tiny ImageNet "
        f"validation photographs (`{profile}` profile; written by `make study`; the last column "
        f"is the paired difference image by image, with its 95% interval, Holm-corrected "
        f"verdicts in the findings chapter):",
        "",
        table.rename(columns={"psnr_hole": "hole PSNR (dB)", "psnr_hole_sem": "± s.e.",
                              "ssim_hole": "hole SSIM"}).to_markdown(index=False),
        README_END])
    text = README.read_text()
    start, end = text.index(README_START), text.index(README_END) + len(README_END)
    README.write_text(text[:start] + block + text[end:])


def write_front_page(profile: str) -> None:
    """The front page's abstract (abstract.md, from the saved tables, `findings.abstract`) and its
    result figure (front_completions.png): four held-out photographs of the comparison chapter,
    the two where Yeh's search beats Telea most and the two where it loses most, completed by
    each method. Each image's starting codes are its own, so the fills are the chapter's."""
    import matplotlib
    matplotlib.use("Agg")
    from .baselines import BASELINES
    from .experiments import YEH, gan_fills, method_name, per_image, solver_config
    from .findings import abstract, load_tables
    from .masks import make_mask
    from .plots import image_grid

    settings = get_profile(profile)
    generated = book_dirs(profile)[1]
    saved = load_tables(settings)
    (generated / "abstract.md").write_text(abstract(saved) + "\n")
    if saved["comparison_images"] is None:
        return
    centre = saved["comparison_images"].query("mask == 'center'")
    gain = (per_image(centre, "method")[YEH] - per_image(centre, "method")["telea"]).sort_values()
    chosen = [*gain.index[::-1][:2], *gain.index[:2]]
    truth = validation_images(settings, n=int(centre.image.max()) + 1)[chosen]
    mask = make_mask("center", len(truth))
    config = solver_config(settings)
    fills, _, _ = gan_fills(*chosen_models(profile), truth, mask, config, "GAN",
                            ensembles=(config.restarts,), progress=False)
    fills.update({name: method(truth, mask) for name, method in BASELINES.items()})
    ensemble = method_name(fill="ensemble", starts=config.restarts)
    columns = ["corrupted", method_name(blend="paste"), YEH, ensemble, "telea", "navier-stokes",
               "biharmonic", "true"]
    examples = {"corrupted": truth * mask, "true": truth, **fills}
    rows = [torch.stack([examples[name][i] for name in columns]) for i in range(len(truth))]
    labels = [f"photo {image + 1}: GAN {gain[image]:+.1f} dB vs Telea" for image in chosen]
    figure = image_grid(rows, labels, columns)
    figure.savefig(generated / "front_completions.png", dpi=150, bbox_inches="tight")


def data_summary(profile: str) -> str:
    """A Markdown table of the images each model and notebook used, with dropped counts."""
    rows = []
    for name in TRAINED:
        config = run_config(profile, name)
        images = training_images(config)
        rows.append({"use": f"training ({name})", "dataset": config.dataset,
                     "images": len(images)})
    study = get_profile(profile).study
    evaluation = () if study.val_dataset == "sample" else (study.val_dataset, "celeba", "coco")
    for dataset in evaluation:
        images, report = load_images(dataset, "val", verbose=False, return_report=True)
        rows.append({"use": "evaluation", "dataset": dataset, "images": len(images),
                     "greyscale dropped": report.greyscale, "corrupt skipped": report.corrupt})
    return ("Images available to this run: the training subsets are seeded and the same every "
            "run; evaluation images are drawn, seeded, from the whole validation split, whose "
            "dropped greyscale and skipped corrupt images are counted here.\n\n"
            + pd.DataFrame(rows).fillna("").to_markdown(index=False) + "\n")


def environment(hardware: str, stage_seconds: dict, train_s: dict, notebook_seconds: dict) -> str:
    """Versions, hardware, run times and the sha256 of every archive found, as Markdown."""
    versions = {name: _version(name) for name in PACKAGES}
    lines = [f"- Python {platform.python_version()} on {platform.platform()}",
             f"- Hardware: {hardware}",
             "- Packages: " + ", ".join(f"{k} {v}" for k, v in versions.items()), "",
             "| step | minutes |", "|---|---|"]
    lines += [f"| data: decode or read the cache | {stage_seconds['data'] / 60:.1f} |"]
    lines += [f"| training: {m} | {s / 60:.1f} |" for m, s in train_s.items()]
    lines += [f"| notebook: {n} | {s / 60:.1f} |" for n, s in notebook_seconds.items()]
    lines += ["", "Archives used (sha256):", ""]
    for name, spec in DATASETS.items():
        for split in spec.splits:
            try:
                path, _ = locate(name, split, allow_download=False)
            except FileNotFoundError:
                continue
            line = f"- `{path.name}` ({name}): `{file_checksum(path)}`"
            if path.is_file() and line not in lines:
                lines.append(line)
    return "\n".join(lines) + "\n"


def _version(package: str) -> str:
    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        return "not installed"


# ------------------------------------------------------------------------- the whole study

def build_book(profile: str = PUBLISHED) -> Path:
    """The HTML book of a profile's results; returns its index.html. The published profile's
    book is built in place (_build/html); another profile's from a copy of the book's sources
    with its own results, under runs/<profile>/book-source/_build/html."""
    stage("book")
    source = PROJECT_ROOT
    if profile != PUBLISHED:
        source = RUNS_DIR / profile / "book-source"
        shutil.rmtree(source, ignore_errors=True)
        shutil.copytree(BOOK_DIR, source / "book", ignore=shutil.ignore_patterns(
            RESULTS_DIR.name, GENERATED_DIR.name))
        for name in ("_config.yml", "_toc.yml"):
            shutil.copyfile(PROJECT_ROOT / name, source / name)
        results, generated = book_dirs(profile)
        shutil.copytree(results, source / "book" / RESULTS_DIR.name)
        shutil.copytree(generated, source / "book" / GENERATED_DIR.name)
        for notebook, command in long_notebooks().items():
            if not (results / f"{notebook}.ipynb").exists():
                # A notebook, not a page, so that links to the chapter still resolve.
                import nbformat
                page = nbformat.v4.new_notebook(cells=[nbformat.v4.new_markdown_cell(
                    f"# {notebook}\n\nThis chapter has not been run for the `{profile}` "
                    f"profile: `make study` leaves it out for time. Run `{command} "
                    f"PROFILE={profile}` to compute it.")])
                nbformat.write(page, source / "book" / RESULTS_DIR.name / f"{notebook}.ipynb")
    command = [str(Path(sys.executable).with_name("jupyter-book")), "build", str(source),
               "--warningiserror", "--keep-going"]
    result = subprocess.run(command, cwd=source)
    if result.returncode != 0:
        raise RuntimeError(f"the book build failed or warned (exit {result.returncode}); "
                           f"see the messages above")
    return source / "_build" / "html" / "index.html"


def long_notebook_status(profile: str) -> dict[str, str]:
    """For each notebook `make study` leaves to its own command: "up to date", "out of date"
    (its inputs changed since it ran) or "missing", as recorded in fingerprints.json."""
    results = book_dirs(profile)[0]
    stamps = read_stamps(results)
    status = {}
    for notebook in long_notebooks():
        if not (results / f"{notebook}.ipynb").exists():
            status[notebook] = "missing"
        elif stamps.get(notebook, {}).get("key") == f"{profile}:{fingerprint(notebook, profile)}":
            status[notebook] = "up to date"
        else:
            status[notebook] = "out of date"
    return status


def report_long_notebooks(profile: str) -> None:
    for notebook, status in long_notebook_status(profile).items():
        if status != "up to date":
            command = long_notebooks()[notebook] + ("" if profile == PUBLISHED
                                                  else f" PROFILE={profile}")
            print(f"{notebook}: {status}; `make study` does not run it (too long for its "
                  f"budget): run `{command}`. The book shows "
                  + ("its last result." if status == "out of date" else "a page saying so."))


def run_study(profile: str = "cpu", force_notebooks: bool = False, long: bool = False) -> Path:
    """Data, training, the notebooks (with `long`, also the long ones: `make beyond`), the
    generated pages and the book; returns the book's index.html."""
    started = time.perf_counter()
    name = get_profile(profile).study.reference
    if name:  # before any training: a missing or damaged reference model is said at once
        reference.verify_reference(name)
    stage("data")
    for name in TRAINED:
        training_images(run_config(profile, name))
    stage_seconds = {"data": time.perf_counter() - started}
    stage("train")
    for name in TRAINED:
        ensure_trained(profile, name)
    stage("notebooks")
    seconds = run_notebooks(profile, force=force_notebooks, names=notebooks() if long else None)
    report_long_notebooks(profile)
    write_generated_pages(profile, stage_seconds, seconds)
    ensure_bench_page(profile)
    write_front_page(profile)
    if profile == PUBLISHED:
        write_readme_results(profile)
    html = build_book(profile)
    print(f"\nstudy ({profile}) done in {(time.perf_counter() - started) / 60:.1f} min")
    print(f"open the book: {html}")
    return html


REFERENCE_NOTE = """**nbval reference** (written by `make references`; `make test` re-executes it).
Compared exactly: every text output (printed lines, tables, messages), every whole number in it
(step counts, epochs, the chosen epoch) and the order of rows. Compared within a tolerance:
numbers with a decimal point may differ by at most `FLOAT_TOLERANCE` (0.02, see
tests/nbval_tolerance.py), the drift of float32 results across CPUs, kernels and thread counts.
Not compared: images, and cells tagged `nbval-ignore-output` (set-up and timings). Sanitised
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


def refresh_references() -> None:
    """Re-execute every notebook with the `ci` profile into tests/references/ (for nbval).

    The `ci` runs (runs/ci/, seconds of training) are removed first and retrained inside the
    notebooks, as on a clean checkout: the references then match what `make test` computes
    there, not a model left over from an earlier session (whose floats may differ in the last
    digits, e.g. if it was trained with another number of threads).
    """
    shutil.rmtree(RUNS_DIR / "ci", ignore_errors=True)
    for notebook in notebooks():
        print(f"{notebook}: reference run (ci)")
        execute(notebook, "ci", REFERENCE_DIR)
        as_reference(REFERENCE_DIR / f"{notebook}.ipynb")
    print(f"references written to {REFERENCE_DIR}; review `git diff` before committing")


"""The book's generated pages, written from the saved results: the run summary, the data counts,
the environment, the bench table, the front page's abstract and figure, and README's results;
then the book itself (`build_book`, jupyter-book)."""
from __future__ import annotations

import platform
import shutil
import subprocess
import sys
from dataclasses import asdict
from importlib import metadata
from pathlib import Path
import pandas as pd
import torch

from inpaint.data.cache import load_images
from inpaint.data.registry import DATASETS, locate
from inpaint.files import PROJECT_ROOT, file_checksum
from inpaint.method.device import describe_machine, pick_device
from inpaint.method.precision import resolve_precision
from inpaint.study import chapters, wording
from inpaint.study.chapters import load_table, tables_dir
from inpaint.study.fills import summary
from inpaint.study.gans import (RUNS_DIR, RUN_NAMES, ShippedGAN, TrainedRun, chosen_epoch,
                                run_config, run_dir)
from inpaint.study.profiles import Profile
from inpaint.tools.fingerprints import (BOOK_DIR, GENERATED_DIR, PUBLISHED, RESULTS_DIR, TRAINED,
                                        book_dirs, long_notebook_status, read_stamps)
from inpaint.training import shipped
from inpaint.training.checkpoints import read_log
from inpaint.training.train import training_images

PACKAGES = ("torch", "torchvision", "numpy", "scipy", "pandas", "matplotlib", "seaborn",
            "scikit-image", "opencv-python-headless", "papermill", "nbval", "jupyter-book")


def stage(name: str) -> None:
    print(f"\n=== {name} ===", flush=True)


# ------------------------------------------------------------------------- generated pages

# What a result depends on in the working tree: the library, the notebooks and the pinned
# environment. The pipeline's own outputs (book/results, book/_generated, the README's results
# block) change during every run and say nothing about the code that ran.
RESULT_SOURCES = ("lib", "notebooks", "pyproject.toml", "requirements.lock", "environment.yml")


def built_from() -> str:
    """The commit the working tree is at, and whether the sources a result depends on
    (`RESULT_SOURCES`) have uncommitted changes, in words."""
    import subprocess
    try:
        commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=PROJECT_ROOT,
                                capture_output=True, text=True, check=True).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--", *RESULT_SOURCES],
                               cwd=PROJECT_ROOT, capture_output=True, text=True,
                               check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "an unknown commit (no git repository here)"
    return f"commit `{commit}`" + (" with uncommitted changes" if dirty else "")


def training_seconds(settings: Profile, name: str) -> float:
    """Wall-clock training time of a run, from its log."""
    return float(read_log(run_dir(settings, name)).elapsed_s.max())


def describe_config(config: dict) -> str:
    """A training configuration in words: width, images, epochs, batch."""
    images = "all" if config["limit"] is None else f"{config['limit']:,}"
    return (f"width {config['width']}, {images} {config['dataset']} images, "
            f"{config['epochs']} epochs of batch {config['batch_size']}")


def write_tables(settings: Profile) -> list[Path]:
    """Copy every chapter's saved table (runs/<profile>/tables/*.csv) to <generated>/tables/,
    where each chapter's page links them; returns the copies. Tables a chapter has not written
    (a long chapter never run) are left out."""
    target = book_dirs(settings)[1] / "tables"
    target.mkdir(parents=True, exist_ok=True)
    copies = []
    for name in chapters.tables():
        source = tables_dir(settings) / f"{name}.csv"
        if source.is_file():
            shutil.copyfile(source, target / source.name)
            copies.append(target / source.name)
    return copies


def restore_long_tables(settings: Profile, running: tuple[str, ...]) -> list[str]:
    """The inverse of `write_tables` for the long chapters this study does not run: the book
    shows their last result, so the findings read the tables that result saved, copied back from
    <generated>/tables/ (committed beside the book) into runs/<profile>/tables/ where a fresh
    checkout has none. A table already in runs/ is never overwritten. Returns the tables copied."""
    results, generated = book_dirs(settings)
    restored = []
    for name in chapters.long_commands():
        if name in running or not (results / f"{name}.ipynb").exists():
            continue
        for table in chapters.chapter(name).writes:
            source = generated / "tables" / f"{table}.csv"
            target = tables_dir(settings) / f"{table}.csv"
            if source.is_file() and not target.exists():
                target.parent.mkdir(parents=True, exist_ok=True)
                shutil.copyfile(source, target)
                restored.append(table)
    if restored:
        print(f"tables of the long chapters' last results, restored from the book for the "
              f"findings: {', '.join(restored)}")
    return restored


def arithmetic(precision: str, device: torch.device) -> str:
    """The precision training and the solver ran in, in words, and why (what `auto` chose)."""
    chosen = resolve_precision(precision, device)
    words = {"bf16": "bfloat16 autocast", "fp32": "float32"}[chosen]
    if precision != "auto":
        return f"{words} (the profile's precision)"
    reason = ("on CUDA" if device.type == "cuda" else
              "this CPU has native bfloat16" if chosen == "bf16" else
              "this CPU has no native bfloat16")
    return f"{words} (the profile's `auto`: {reason})"


def write_generated_pages(settings: Profile, stage_seconds: dict, notebook_seconds: dict) -> None:
    """The generated pages of `book_dirs(settings)`: run_summary.md, data_summary.md and
    environment.md, included by the chapters, and samples_chosen_epoch.png, the evaluated
    model's samples on the front page."""
    generated = book_dirs(settings)[1]
    generated.mkdir(parents=True, exist_ok=True)
    device = pick_device()
    hardware = describe_machine()
    train_s = {name: training_seconds(settings, name) for name in RUN_NAMES}
    # The schedule runs are trained inside the training-curves notebook: counted there.
    schedules = train_s["schedule-joint"] + train_s["schedule-blocks"]
    # The training-curves notebook trains the schedule runs when they are missing, and its time
    # then includes theirs; when it found them trained, they are added here. Either way they count
    # once.
    inside = schedules if notebook_seconds.get(chapters.names()[0], 0) >= schedules else 0.0
    minutes = {"data": stage_seconds["data"] / 60,
               "training": (sum(train_s[name] for name in TRAINED) + schedules - inside) / 60,
               "notebooks": sum(notebook_seconds.get(name, 0) for name in chapters.in_study()) / 60}
    stamps = read_stamps(book_dirs(settings)[0])
    long_seconds = {name: stamps[name]["seconds"] for name in chapters.long_commands()
                    if name in stamps}
    status = long_notebook_status(settings)
    gan, epoch = evaluated_model(settings), chosen_epoch(settings)
    scratch = run_config(settings)
    if isinstance(gan, ShippedGAN):
        info = shipped.run_info(gan.name)
        evaluated = (f"the shipped reference model **{gan.key}** ({describe_config(gan.config())}; "
                     f"{info['images_kept']:,} images kept), trained by this project's code on "
                     f"{info['hardware'].split(',')[0]} in {info['training_seconds']} s and "
                     f"evaluated here at its epoch-{epoch} checkpoint, chosen in the selection "
                     f"chapter. Beside it, the `{settings.name}` model "
                     f"({describe_config(asdict(scratch))}) "
                     f"was trained here from scratch in {train_s['main'] / 60:.1f} min")
    else:
        evaluated = (f"the `{settings.name}` model ({describe_config(asdict(scratch))}), "
                     f"trained here in "
                     f"{train_s['main'] / 60:.1f} min, at its epoch-{epoch} checkpoint, chosen "
                     f"in the selection chapter")
    (generated / "run_summary.md").write_text(
        f"The results in this book were computed with the **`{settings.name}` profile** on "
        f"{hardware} "
        f"({device.type.upper()}), in {arithmetic(settings.train.precision, device)}. The "
        f"Tiny ImageNet results report {evaluated}. The "
        f"comparison chapter's CelebA model took {train_s['celeba'] / 60:.1f} min to train and "
        f"the two short schedule runs {schedules / 60:.1f} min (in the training-curves "
        f"notebook). End to end: "
        + ", ".join(f"{stage} {value:.1f} min" for stage, value in minutes.items())
        + f", **{sum(minutes.values()):.1f} min in all** (then a minute or so for this book's "
        f"HTML)."
        + "".join(f" The chapter {name} is not part of `make study`: "
                  f"`{chapters.long_commands()[name]}` ran "
                  f"it in {value / 60:.1f} min, "
                  + ("with this build's code." if status[name] == "up to date" else
                     "with an earlier version of the code: it is out of date, and the book shows "
                     "its last result.")
                  for name, value in long_seconds.items())
        + " See {doc}`reproducibility` for the commands and each step's time.\n")
    copy_figure(settings, "samples_chosen_epoch", generated / "samples_chosen_epoch.png")
    (generated / "data_summary.md").write_text(data_summary(settings))
    (generated / "book_stamp.md").write_text(book_stamp(settings, sum(minutes.values())))
    (generated / "environment.md").write_text(environment(
        hardware, stage_seconds, train_s,
        notebook_rows(notebook_seconds, long_seconds)))


def book_stamp(settings: Profile, minutes: float) -> str:
    """The front page's box: the command and profile that made the book, how long it took end to
    end, and the commit and date it was built from (each chapter opens with its own)."""
    import datetime
    when = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    return "\n".join([
        ":::{admonition} How this book was made",
        ":class: note",
        f"`make study PROFILE={settings.name}`, profile **{settings.name}**, "
        f"{minutes:.1f} min end to end, from {built_from()}, on {when}. Each chapter opens with "
        f"its own command, parameters and time; {{doc}}`reproducibility` says how to rerun it.",
        ":::", ""])


def notebook_rows(notebook_seconds: dict, long_seconds: dict) -> dict:
    """{row: seconds} of the time table: the study's notebooks (`make study`'s times), then each
    long chapter once, named with the command that runs it (`long_seconds`, from its stamp)."""
    rows = {name: value for name, value in notebook_seconds.items()
            if name not in chapters.long_commands()}
    rows.update({f"{name} (`{chapters.long_commands()[name]}`)": value
                 for name, value in long_seconds.items()})
    return rows


def write_bench_page(settings: Profile, rows: list[dict]) -> Path:
    """book/_generated/bench.md (or the profile's own, see `book_dirs`): `make bench`'s table
    `rows`, measured on this machine. `make study` does not time (it would cost its budget
    minutes); `make bench` writes this page, and the book says when it has not run."""
    from inpaint.tools import bench
    page = book_dirs(settings)[1] / "bench.md"
    page.parent.mkdir(parents=True, exist_ok=True)
    page.write_text(
        f"Measured by `make bench` on {describe_machine()} (`{settings.name}` profile's batch "
        f"size and "
        f"precision; the reference side of each row is timed alternately with the project's, on "
        f"the same machine):\n\n{bench.markdown(rows)}\n")
    return page


def ensure_bench_page(settings: Profile) -> None:
    """A bench page saying how to make one, where `make bench` has not written it."""
    page = book_dirs(settings)[1] / "bench.md"
    if not page.exists():
        page.write_text(f"Not timed for this build: run `make bench PROFILE={settings.name}`, "
                        f"which "
                        f"writes the table here.\n")


README = PROJECT_ROOT / "README.md"
README_START, README_END = "<!-- results:start -->", "<!-- results:end -->"


def results_table(metrics: pd.DataFrame) -> pd.DataFrame:
    """The README's centre-mask table from chapter 05's per-image table: each method's images,
    mean hole PSNR, its standard error and hole SSIM, printed as the chapter prints them (the
    same stored mean, rounded once), and the GAN minus each classical fill with its Holm-adjusted
    interval (`rivals.method_tests`, as the findings state it)."""
    from inpaint.study.rivals import method_tests
    centre = metrics[metrics["mask"] == "center"]
    table = summary(centre, ["method"]).reset_index()
    table = table[["method", "psnr_hole", "psnr_hole_sem", "ssim_hole"]]
    table = table.assign(**{column: table[column].map("{:.2f}".format)  # as the chapter prints
                            for column in ("psnr_hole", "psnr_hole_sem", "ssim_hole")})
    table.insert(1, "images", table.method.map(centre.groupby("method").image.nunique()))
    tests = method_tests(metrics, "center")
    table["GAN + Poisson minus it (paired, Holm-adjusted 95% interval)"] = table.method.map(
        {name: f"{c.difference:+.2f} [{c.low:+.2f}, {c.high:+.2f}]" for name, c in tests.items()}
    ).fillna("")
    return table


def copy_figure(settings: Profile, name: str, target: Path) -> bool:
    """Copy the figure a chapter saved (`chapters.save_figure`) to `target`; False, and a line
    saying which chapter to run, when it has not saved one."""
    saved = chapters.figure_file(settings, name)
    if saved is None:
        print(f"no {name}.png for profile {settings.name}: run "
              f"{chapters.figure_writer(name)} (`make study`) to make it")
        return False
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(saved, target)
    return True


def evaluated_model(settings: Profile):
    """The GAN the chapters evaluate (see `gans`), but never trained here: the pages only
    read its record (config, log) of the run the study already made."""
    if settings.study.shipped:
        return ShippedGAN(settings.study.shipped)
    return TrainedRun(key=f"{settings.name}/main", label=f"{settings.name} model",
                      run=run_dir(settings, "main"))


def evaluated_key(settings: Profile) -> str:
    """The evaluated GAN's key (book/choices.yml), named without loading or training it."""
    return settings.study.shipped or f"{settings.name}/main"


def write_readme_results(settings: Profile, generated: Path = GENERATED_DIR,
                         readme: Path | None = None) -> None:
    """The pictures and the headline table at the top of README.md, from the published results:
    readme_masks.png (one row per mask kind: corrupted, GAN, Telea, original), saved by the
    comparison chapter, and the centre-mask rows of its comparison table, between the README's
    results markers. Reads stored results only: nothing here trains or searches.
    The README links the front-page samples (samples_chosen_epoch.png) as they are."""
    from inpaint.study import wording
    readme = readme or README
    copy_figure(settings, "readme_masks", generated / "readme_masks.png")
    metrics = load_table(settings, "comparison_images")
    scores = load_table(settings, "checkpoint_scores")
    centre = metrics[metrics["mask"] == "center"]
    table = results_table(metrics)
    n = centre.image.nunique()
    epoch = int(scores.index[scores.chosen.astype(bool)][0])
    block = "\n".join([
        README_START,
        f"Centre 32x32 hole, {evaluated_key(settings)} at epoch {epoch}, Tiny ImageNet "
        f"validation photographs ({n} for the shipped model and the classical fills, `images` "
        f"for each row; `{settings.name}` profile; written by `make study`; the last column is "
        f"the paired difference image by image, with its Holm-adjusted 95% interval over the "
        f"classical fills, verdicts in the findings chapter):",
        "",
        wording.readable(table.set_index("method")).rename(
            columns={"hole PSNR (dB)": "hole PSNR (dB)", "s.e.": "± s.e."}).reset_index()
        .rename(columns={"index": "method"}).to_markdown(index=False),
        README_END])
    text = readme.read_text()
    start, end = text.index(README_START), text.index(README_END) + len(README_END)
    readme.write_text(text[:start] + block + text[end:])


def write_front_page(settings: Profile) -> None:
    """The front page's abstract (abstract.md, from the saved tables, `findings.abstract`) and its
    result figure (front_completions.png), saved by the comparison chapter: held-out photographs
    where Yeh's search beats Telea most and where it loses most, completed by each method. Reads
    stored results only: nothing here trains or searches."""
    from inpaint.study.findings import abstract, load_tables, scale_finding
    generated = book_dirs(settings)[1]
    generated.mkdir(parents=True, exist_ok=True)
    saved = load_tables(settings)
    (generated / "abstract.md").write_text(abstract(saved) + abstract_after_yeh(saved)
                                           + abstract_budget(settings, saved) + "\n")
    copy_figure(settings, "front_completions", generated / "front_completions.png")
    if saved["comparison_images"] is not None:  # the limitations page's scale paragraph
        (generated / "scale.md").write_text(scale_finding(saved["comparison_images"],
                                                          saved.get("scale_images")) + "\n")


def abstract_after_yeh(saved: dict) -> str:
    """The abstract's sentence on the methods after Yeh (`after_yeh_sentence`, on the
    photographs), linked to their chapter; "" when that chapter has saved no tables."""
    if saved.get("after_images") is None or saved.get("after_caught") is None:
        return ""
    sentence = after_yeh_sentence(saved["after_images"].reset_index(),
                                 saved["after_caught"].reset_index())
    return f" {sentence[:-1]} ([the chapter after Yeh](results/11_after_yeh.ipynb))."


def after_yeh_sentence(metrics: pd.DataFrame, caught: pd.DataFrame) -> str:
    """The chapter after Yeh's answer in one sentence for the front page: the methods closer to
    the truth than Telea and no easier to catch (`after_yeh.answer_table`), or, if none, the
    closest one's hole-PSNR difference from Telea with its Holm-adjusted interval and n."""
    from inpaint.study import after_yeh
    table = after_yeh.answer_table(metrics, caught)
    name, shown = wording.method(after_yeh.TARGET), [wording.method(m) for m in table.index]
    opening = (f"Of the GAN-prior methods that followed Yeh ({wording.in_words(shown)}), on the "
               f"same {int(table.n.max())} photographs, ")
    both = [wording.method(m) for m in table.index[table.both]]
    if both:
        return (opening + f"{wording.in_words(both)} {'is' if len(both) == 1 else 'are'} closer "
                f"to the truth than {name} and no easier for the critic to catch.")
    closest = table.psnr_difference.idxmax()
    row = table.loc[closest]
    closer = [wording.method(m) for m in table.index[table.closer]]
    return (opening + f"none is both closer to the truth than {name} and no easier for the "
            f"critic to catch"
            + (f" ({wording.in_words(closer)} {'is' if len(closer) == 1 else 'are'} closer but "
               f"easier to catch)" if closer else "")
            + f"; the closest, {wording.method(closest)}, is {row.psnr_difference:+.2f} dB "
            f"[{row.psnr_low:+.2f}, {row.psnr_high:+.2f}] from {name} (Holm-adjusted 95% "
            f"interval, n = {int(row.n)}).")


def abstract_budget(settings: Profile, saved: dict) -> str:
    """The sentence that closes the abstract: the budget its verdicts hold at (the comparison's
    and the λ chapter's, `findings.budget_header`, from the profile that ran them), and where the
    paper's 1,500 iterations are read; "" when those chapters have saved no tables."""
    from inpaint.study.findings import budget_header
    comparison, ablation = saved.get("comparison_images"), saved.get("ablation_images")
    if comparison is None or ablation is None:
        return ""
    centre = comparison[comparison["mask"] == "center"].image.nunique()
    return (f" The photographs' verdicts hold "
            f"{budget_header(settings, '05_comparison', centre)} (the λ chapter's "
            f"{budget_header(settings, '03_lambda_norm_ablation', ablation.image.nunique())}; "
            f"the faces' at the budget their chapter states); the "
            f"[budget chapter](results/09_budget.ipynb) reads each setting again at the paper's "
            f"1,500 iterations.")


def data_summary(settings: Profile) -> str:
    """A Markdown table of the images each model and notebook used, with dropped counts."""
    rows = []
    gan = evaluated_model(settings)
    if isinstance(gan, ShippedGAN):  # trained elsewhere: its own record says what it saw
        rows.append({"use": f"training: {gan.key}, the evaluated model (on a GPU)",
                     "dataset": gan.config()["dataset"],
                     "images": shipped.run_info(gan.name)["images_kept"]})
    uses = {"main": f"the `{settings.name}` model trained here"
                    + ("" if isinstance(gan, ShippedGAN) else ", the evaluated model"),
            "celeba": f"the `{settings.name}` faces model"}
    for name in TRAINED:
        config = run_config(settings, name)
        images = training_images(config)
        rows.append({"use": f"training: {uses[name]}", "dataset": config.dataset,
                     "images": len(images)})
    study = settings.study
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
            if path.is_file():  # a committed folder of photographs (MSCOCO) has its SHA256SUMS
                line = f"- `{path.name}` ({name}): `{file_checksum(path)}`"
                lines += [line] if line not in lines else []
    return "\n".join(lines) + "\n"


def _version(package: str) -> str:
    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        return "not installed"


# ------------------------------------------------------------------------- the whole study

def build_book(settings: Profile) -> Path:
    """The HTML book of a profile's results; returns its index.html. The published profile's
    book is built in place (_build/html); another profile's from a copy of the book's sources
    with its own results, under runs/<profile>/book-source/_build/html."""
    stage("book")
    source = PROJECT_ROOT
    if settings.name != PUBLISHED:
        source = RUNS_DIR / settings.name / "book-source"
        shutil.rmtree(source, ignore_errors=True)
        shutil.copytree(BOOK_DIR, source / "book", ignore=shutil.ignore_patterns(
            RESULTS_DIR.name, GENERATED_DIR.name))
        for name in ("_config.yml", "_toc.yml"):
            shutil.copyfile(PROJECT_ROOT / name, source / name)
        results, generated = book_dirs(settings)
        shutil.copytree(results, source / "book" / RESULTS_DIR.name)
        shutil.copytree(generated, source / "book" / GENERATED_DIR.name)
        for notebook, command in chapters.long_commands().items():
            if not (results / f"{notebook}.ipynb").exists():
                # A notebook, not a page, so that links to the chapter still resolve.
                import nbformat
                page = nbformat.v4.new_notebook(cells=[nbformat.v4.new_markdown_cell(
                    f"# {notebook}\n\nThis chapter has not been run for the `{settings.name}` "
                    f"profile: `make study` leaves it out for time. Run `{command} "
                    f"PROFILE={settings.name}` to compute it.")])
                nbformat.write(page, source / "book" / RESULTS_DIR.name / f"{notebook}.ipynb")
    command = [str(Path(sys.executable).with_name("jupyter-book")), "build", str(source),
               "--warningiserror", "--keep-going"]
    result = subprocess.run(command, cwd=source)
    if result.returncode != 0:
        raise RuntimeError(f"the book build failed or warned (exit {result.returncode}); "
                           f"see the messages above")
    return source / "_build" / "html" / "index.html"

"""The chapters' fingerprints: what each notebook's result depends on (its source, the library code
below the tools, the trained runs, the chosen epoch, the tables it reads), digested, so that the
pipeline reruns a chapter only when one of them changed."""
from __future__ import annotations

import ast
import hashlib
import json
from pathlib import Path

from inpaint.files import PROJECT_ROOT, code_digest, file_checksum, source_digest
from inpaint.study import chapters, profiles
from inpaint.study.chapters import tables_dir
from inpaint.study.gans import CHOICES_FILE, RUNS_DIR, chosen_epoch_file, evaluated_gan, run_dir
from inpaint.study.profiles import Profile
from inpaint.training.shipped import DATA_MODELS_DIR

NOTEBOOK_DIR = PROJECT_ROOT / "notebooks"
BOOK_DIR = PROJECT_ROOT / "book"
RESULTS_DIR = BOOK_DIR / "results"
GENERATED_DIR = BOOK_DIR / "_generated"
PUBLISHED = "cpu"  # the profile whose results the committed book shows (book/results, _generated)
TRAINED = ("main", "celeba")  # the runs `make study` trains before the notebooks
LIBRARY = PROJECT_ROOT / "lib" / "inpaint"
TOOLS = LIBRARY / "tools"  # the command-line tools: no chapter's result depends on them
# The registries: their values count per chapter (`settings_digest`), their code for every chapter.
REGISTRIES = (LIBRARY / "study" / "profiles.py", LIBRARY / "study" / "chapters.py")
REGISTRY_TABLES = {"PROFILES", "PARAMETERS", "CHAPTERS", "INDEX_COLUMNS"}


def imported_modules(sources: list[str]) -> list[Path]:
    """The library's module files that Python `sources` import, directly or through one another
    (every `import inpaint...` and `from inpaint... import ...`, at any depth of the code, with the
    packages on the way), sorted. A module no chapter's code reaches is not among them, so adding
    one (a new chapter's method, say) leaves the other chapters' fingerprints as they were."""
    found: set[Path] = set()
    pending = list(sources)
    while pending:
        for node in ast.walk(ast.parse(pending.pop())):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names = [node.module] + [f"{node.module}.{alias.name}" for alias in node.names]
            else:
                continue
            for name in names:
                parts = name.split(".")
                if parts[0] != LIBRARY.name:
                    continue
                for depth in range(1, len(parts) + 1):  # each package on the way, then the module
                    stem = LIBRARY.parent.joinpath(*parts[:depth])
                    for path in (stem / "__init__.py", stem.with_suffix(".py")):
                        if path.is_file() and path not in found and TOOLS not in path.parents:
                            found.add(path)
                            pending.append(path.read_text(encoding="utf-8"))
    return sorted(found)


def notebook_sources(notebook: Path) -> list[str]:
    """The code cells of a notebook, each as Python source (IPython magics and shell lines, which
    import nothing of the library, left out)."""
    cells = json.loads(notebook.read_text(encoding="utf-8"))["cells"]
    return ["\n".join(line for line in "".join(cell["source"]).splitlines()
                       if not line.lstrip().startswith(("%", "!")))
            for cell in cells if cell["cell_type"] == "code"]


def notebook_inputs(notebook: str, settings: Profile) -> list[Path]:
    """Every file a notebook's result depends on: its source, the library modules it imports
    (`imported_modules`: directly or through one another, tools aside), the trained runs
    (settings and checkpoints), the evaluated model's files and the recorded by-eye choices,
    and, for the notebooks after the selection chapter, the chosen epoch it wrote. Files that do
    not exist (yet) are listed too: their absence is part of the state."""
    source = NOTEBOOK_DIR / f"{notebook}.ipynb"
    modules = imported_modules(notebook_sources(source)) if source.is_file() else []
    paths = [source, *modules, CHOICES_FILE]
    for name in TRAINED:
        run = run_dir(settings, name)
        paths += [run / "config.json", *sorted(run.glob("checkpoints/*.pt"))]
    if settings.study.shipped:
        paths += evaluated_gan(settings).files()
    chapter = chapters.chapter(notebook)
    if chapter.reads_chosen_epoch:
        paths.append(chosen_epoch_file(settings))
    if chapter.reads_tables:
        paths += sorted(tables_dir(settings).glob("*.csv"))
    return paths


def content_digest(path: Path, notebook: str | None = None) -> str:
    """What a chapter's fingerprint takes of one input: `code_digest` for a Python module (for
    the two registries, the profiles module and the chapters module, `registry_code_digest`: the
    code without the other chapters' entries), the file's sha256 for anything else, "absent" when
    it does not exist."""
    if not path.is_file():
        return "absent"
    if path in REGISTRIES:
        return registry_code_digest(path, notebook)
    return code_digest(path) if path.suffix == ".py" else file_checksum(path)


def registry_code_digest(path: Path, notebook: str | None = None) -> str:
    """A registry module's code without its tables of values (`PROFILES`, `PARAMETERS`,
    `CHAPTERS`, `INDEX_COLUMNS`) and without the other chapters' parameter classes: what one
    chapter runs with enters its fingerprint through `settings_digest` instead (its profile
    values, its registry row, its parameter class's code), so that adding a chapter, or changing
    one chapter's values or parameter rules, reruns that chapter (and the findings, through its
    tables) alone."""
    own = {profiles.PARAMETERS[name].__name__ for name in readable_parameters(notebook)
           if name in profiles.PARAMETERS}
    others = {kind.__name__ for kind in profiles.PARAMETERS.values()} - own
    tree = ast.parse(path.read_bytes())
    tree.body = [node for node in tree.body
                 if not assigned_names(node) & REGISTRY_TABLES and not (isinstance(node, ast.ClassDef) and node.name in others)]
    return source_digest(ast.unparse(tree))


def assigned_names(node: ast.stmt) -> set[str]:
    """The names a module-level statement assigns (none for anything but an assignment)."""
    targets = node.targets if isinstance(node, ast.Assign) else \
        [node.target] if isinstance(node, ast.AnnAssign) else []
    return {target.id for target in targets if isinstance(target, ast.Name)}


def readable_parameters(notebook: str | None) -> tuple[str, ...]:
    """The chapters whose parameters `notebook` runs with: its own and those it reads."""
    if notebook is None:
        return ()
    return (notebook, *chapters.chapter(notebook).reads_parameters_of)


def settings_digest(notebook: str, settings: Profile) -> str:
    """The profile's values a notebook runs with: training, the study's shared settings, the
    threads, its own parameters and those of the chapters it reads parameters of, and its row in
    the chapters' registry (every row, for a chapter that reads every table)."""
    chapter = chapters.chapter(notebook)
    own = [settings.chapters.get(name) for name in readable_parameters(notebook)]
    rows = chapters.CHAPTERS if chapter.reads_tables else (chapter,)
    indexes = {table: chapters.tables()[table] for row in rows for table in row.writes}
    return hashlib.sha256(repr((settings.train, settings.study, settings.threads, own, rows,
                                indexes)).encode()).hexdigest()


def fingerprint(notebook: str, settings: Profile) -> str:
    """A digest of `notebook_inputs` (names and contents), the profile's name and the values the
    notebook runs with (`settings_digest`). A file inside
    the project is named by its path there; one outside it, or a shipped model's (checked against
    its SHA256SUMS wherever it lies), by its file name alone."""
    digest = hashlib.sha256(settings.name.encode())
    digest.update(settings_digest(notebook, settings).encode())
    models = DATA_MODELS_DIR
    for path in notebook_inputs(notebook, settings):
        inside = path.is_relative_to(PROJECT_ROOT) and not path.is_relative_to(models)
        digest.update(str(path.relative_to(PROJECT_ROOT) if inside else path.name).encode())
        digest.update(content_digest(path, notebook).encode())
    return digest.hexdigest()


def stamp_key(notebook: str, settings: Profile) -> str:
    """What fingerprints.json records for a notebook's last run: "<profile>:<fingerprint>"."""
    return f"{settings.name}:{fingerprint(notebook, settings)}"


def read_stamps(out_dir: Path) -> dict:
    """{notebook: {"key", "seconds", "tables"}} from out_dir/fingerprints.json, {} if there is
    none."""
    stamps_file = out_dir / "fingerprints.json"
    return json.loads(stamps_file.read_text()) if stamps_file.exists() else {}


def table_digests(notebook: str, settings: Profile) -> dict[str, str]:
    """{table: sha256} of the study's tables (runs/<profile>/tables) that `notebook` saves, for
    those that exist: what its stamp records when it has run, and what must still hold for the
    stamp to be current."""
    folder = tables_dir(settings)
    return {name: file_checksum(folder / f"{name}.csv")
            for name in chapters.chapter(notebook).writes if (folder / f"{name}.csv").is_file()}


def status(notebook: str, settings: Profile, results: Path, stamps: dict) -> str:
    """"up to date" when `notebook`'s result in `results` is its last complete run with the
    current inputs and the study's tables are the ones that run saved; else "missing" (never ran
    to its end), "out of date" (its inputs changed) or "tables changed" (one of its tables is
    not the one its last run saved)."""
    stamp = stamps.get(notebook, {})
    if not (results / f"{notebook}.ipynb").exists() or "key" not in stamp:
        return "missing"
    if stamp["key"] != stamp_key(notebook, settings):
        return "out of date"
    if stamp.get("tables") != table_digests(notebook, settings):
        return "tables changed"
    return "up to date"


def book_dirs(settings: Profile) -> tuple[Path, Path]:
    """(executed notebooks, generated pages) of a profile: book/results and book/_generated for
    the published profile; runs/<profile>/book/{results,_generated} for any other, so that trying
    another profile never overwrites the committed book."""
    if settings.name == PUBLISHED:
        return RESULTS_DIR, GENERATED_DIR
    own = RUNS_DIR / settings.name / "book"
    return own / "results", own / "_generated"


def long_notebook_status(settings: Profile) -> dict[str, str]:
    """For each notebook `make study` leaves to its own command, its `status`, as recorded in
    fingerprints.json."""
    results = book_dirs(settings)[0]
    stamps = read_stamps(results)
    return {notebook: status(notebook, settings, results, stamps)
            for notebook in chapters.long_commands()}

"""What a reader sees on the book's pages: prose with no stray control characters, and no figure
shown twice. These read the committed files only (no build, no execution)."""
from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path

from inpaint.files import PROJECT_ROOT

NOTEBOOK_DIRS = ("notebooks", "book/results", "tests/references")

# Every C0 control character but the newline. A tab counts: in a notebook's JSON, "\text" is a tab
# followed by "ext", which is how a LaTeX \text once reached a page as "w·extensemble".
CONTROL = re.compile(r"[\x00-\x09\x0b-\x1f\x7f]")


def notebooks(*folders: str) -> list[Path]:
    return sorted(path for folder in folders for path in (PROJECT_ROOT / folder).glob("*.ipynb"))


def cells(path: Path) -> list[dict]:
    return json.loads(path.read_text(encoding="utf-8"))["cells"]


def text(value) -> str:
    """A notebook field, stored as one string or as a list of lines."""
    return value if isinstance(value, str) else "".join(value)


def control_characters(source: str) -> list[str]:
    """Each control character in `source` with a little context, as repr (so it shows)."""
    return [repr(source[max(0, m.start() - 20):m.end() + 20]) for m in CONTROL.finditer(source)]


def test_the_collections_checked_are_not_empty():
    for folder in NOTEBOOK_DIRS:
        assert notebooks(folder), f"no notebooks in {folder}"
    assert sorted((PROJECT_ROOT / "book").glob("*.md"))


def test_no_control_character_in_markdown():
    found = []
    for path in notebooks(*NOTEBOOK_DIRS):
        for index, cell in enumerate(cells(path)):
            if cell["cell_type"] == "markdown":
                found += [f"{path.relative_to(PROJECT_ROOT)} cell {index}: {context}"
                          for context in control_characters(text(cell["source"]))]
    for path in sorted((PROJECT_ROOT / "book").glob("*.md")):
        found += [f"{path.relative_to(PROJECT_ROOT)}: {context}"
                  for context in control_characters(path.read_text(encoding="utf-8"))]
    assert not found, ("control characters in prose (in a notebook's JSON, write a backslash as "
                       "\\\\, e.g. \\\\text):\n" + "\n".join(found))


def figures(path: Path) -> list[tuple[str, str]]:
    """(where, digest) of every image output of an executed notebook, in page order."""
    found = []
    for index, cell in enumerate(cells(path)):
        for output in cell.get("outputs", []):
            for kind, data in output.get("data", {}).items():
                if kind.startswith("image/"):
                    digest = hashlib.sha256(text(data).strip().encode()).hexdigest()
                    found.append((f"{path.name} cell {index}", digest))
    return found


def test_no_figure_is_shown_twice_in_the_results():
    """Two byte-identical images, on one page or on two, are a copy the reader sees twice."""
    first_seen, copies = {}, []
    for path in notebooks("book/results"):
        for where, digest in figures(path):
            if digest in first_seen:
                copies.append(f"{where} repeats {first_seen[digest]}")
            first_seen.setdefault(digest, where)
    assert first_seen, "no figures found in book/results"
    assert not copies, "figures shown twice: " + "; ".join(copies)


# A measured or reported result typed into prose: a decimal number of decibels, or a speed-up
# ("1.9 times", "0.91x"). Such numbers live in tables; the pages include them from
# book/_generated/ (written from the tables) so that a hand-typed copy cannot go stale.
RESULT_NUMBER = re.compile(r"(?<![\w.$\\{])\d+\.\d+\s*(?:dB\b|times\b|x\b)")


def result_numbers(source: str) -> list[str]:
    """The result numbers in `source`, outside math ($...$, $$...$$) and code (`...`)."""
    prose = re.sub(r"\$\$.*?\$\$|\$[^$\n]*\$|`[^`\n]*`", " ", source, flags=re.S)
    return [prose[max(0, m.start() - 30):m.end() + 10] for m in RESULT_NUMBER.finditer(prose)]


def test_the_hand_written_pages_type_no_result_number():
    found = {page.name: result_numbers(page.read_text(encoding="utf-8"))
             for page in sorted((PROJECT_ROOT / "book").glob("*.md"))}
    found = {name: hits for name, hits in found.items() if hits}
    assert not found, (f"result numbers typed into prose (include them from book/_generated/ "
                       f"or say them without the number): {found}")


def test_the_result_number_check_sees_one():
    assert len(result_numbers("scores 19.4 dB against 21.3 dB")) == 2
    assert result_numbers("about 1.9 times faster; $10 \\log_{10} 4 \\approx 6.02$ dB") != []
    assert result_numbers("$x = 6.02$ dB, `0.91x`, λ = 0.003") == []


# What git leaves in a file when a merge conflict is committed unresolved (book/index.md once
# showed its readers "<<<<<<< HEAD" and both sides of a chapter list).
CONFLICT = re.compile(r"^(<{7} |={7}$|>{7} )", re.MULTILINE)


def test_no_page_source_or_notebook_holds_an_unresolved_merge_conflict():
    files = [path for pattern in ("*.md", "*.yml", "*.toml", "Makefile", "*.py", "*.ipynb")
             for folder in ("", "book", "tests", "notebooks", "book/results")
             for path in (PROJECT_ROOT / folder).glob(pattern)]
    files += sorted((PROJECT_ROOT / "lib" / "inpaint").rglob("*.py"))
    assert len(files) > 50
    found = []
    for path in files:
        source = path.read_text(encoding="utf-8")
        if path.suffix == ".ipynb":
            source = "\n".join(text(cell["source"]) for cell in cells(path))
        found += [f"{path.relative_to(PROJECT_ROOT)}: {m.group(0)!r}" for m in CONFLICT.finditer(source)]
    assert not found, found

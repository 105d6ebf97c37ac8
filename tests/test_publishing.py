"""What the project shows outside its own machines: the GitHub workflow that tests it and publishes
the book, the licences, the citation file, the book's references, and how the repository's address
reaches the book (inpaint.tools.publish). Each check is shown to fail on a broken copy.

The linters are pip packages of the test dependencies: check-jsonschema validates the workflows
against GitHub's workflow schema (SchemaStore's, vendored in the package) and CITATION.cff against
the Citation File Format 1.2.0 schema (vendored too); zizmor audits the workflows (actions pinned
to a commit, no template injection, no credentials left in the checkout, least permissions).
"""
from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from inpaint.files import PROJECT_ROOT
from inpaint.tools import publish

WORKFLOWS = sorted((PROJECT_ROOT / ".github" / "workflows").glob("*.y*ml"))
WORKFLOW = PROJECT_ROOT / ".github" / "workflows" / "book.yml"
BIN = Path(sys.executable).parent
ON_MAIN = "github.event_name == 'push' && github.ref == 'refs/heads/main'"


def tool(name: str) -> str:
    path = BIN / name
    assert path.exists(), f"{name} is not installed beside {sys.executable} (a test dependency)"
    return str(path)


def check_jsonschema(schema: str, path: Path) -> subprocess.CompletedProcess:
    return subprocess.run([tool("check-jsonschema"), "--builtin-schema", schema,
                           "--default-filetype", "yaml", str(path)],
                          capture_output=True, text=True, timeout=120)


def zizmor(path: Path) -> subprocess.CompletedProcess:
    # --offline: the audits that need GitHub's API are skipped (the tests run without a network).
    return subprocess.run([tool("zizmor"), "--offline", "--no-progress", str(path)],
                          capture_output=True, text=True, timeout=120,
                          env={**os.environ, "NO_COLOR": "1"})


def load_workflow(path: Path = WORKFLOW) -> dict:
    workflow = yaml.safe_load(path.read_text())
    # YAML 1.1 reads the key `on` as True.
    workflow["on"] = workflow.pop(True, workflow.get("on"))
    return workflow


# ------------------------------------------------------------------------- the workflow

def test_there_is_a_workflow():
    assert WORKFLOW in WORKFLOWS, f"no {WORKFLOW.relative_to(PROJECT_ROOT)}"


@pytest.mark.parametrize("path", WORKFLOWS, ids=lambda p: p.name)
def test_the_workflow_passes_its_linters(path):
    schema = check_jsonschema("vendor.github-workflows", path)
    assert schema.returncode == 0, schema.stdout + schema.stderr
    audit = zizmor(path)
    assert audit.returncode == 0, audit.stdout + audit.stderr


BREAKAGES = {
    # (what is broken, how, the linter that must reject it)
    "a job without runs-on": (lambda s: s.replace("runs-on:", "run-on:"), "schema"),
    "an event that does not exist": (lambda s: s.replace("  push:\n", "  pushed:\n", 1), "schema"),
    "a permission that does not exist": (lambda s: s.replace("pages: read", "page: read"),
                                          "schema"),
    "an action pinned by tag": (lambda s: re.sub(r"actions/checkout@[0-9a-f]{40}",
                                                 "actions/checkout@v4", s), "zizmor"),
    "a branch name pasted into a shell": (
        lambda s: s.replace("run: make book", "run: make book BRANCH=${{ github.head_ref }}"),
        "zizmor"),
}


@pytest.mark.parametrize("breakage", BREAKAGES)
def test_the_linters_reject_a_broken_workflow(breakage, tmp_path):
    change, linter = BREAKAGES[breakage]
    text = WORKFLOW.read_text()
    broken = tmp_path / WORKFLOW.name
    broken.write_text(change(text))
    assert broken.read_text() != text, f"the breakage '{breakage}' changed nothing"
    result = (check_jsonschema("vendor.github-workflows", broken) if linter == "schema"
              else zizmor(broken))
    assert result.returncode != 0, f"{linter} accepted {breakage}:\n{result.stdout}"


def steps(job: dict) -> list[dict]:
    return job.get("steps", [])


def step_using(job: dict, action: str) -> dict:
    found = [s for s in steps(job) if s.get("uses", "").split("@")[0] == action]
    assert len(found) == 1, f"expected one step using {action}, found {len(found)}"
    return found[0]


def step_running(job: dict, command: str) -> dict:
    found = [s for s in steps(job) if s.get("run", "").strip() == command]
    assert len(found) == 1, f"expected one step running `{command}`, found {len(found)}"
    return found[0]


def test_the_workflow_tests_builds_and_publishes_only_from_main():
    workflow = load_workflow()
    assert {"push", "pull_request"} <= set(workflow["on"]), workflow["on"]
    assert workflow["permissions"] == {"contents": "read"}, "least privilege by default"
    jobs = workflow["jobs"]
    for name, job in jobs.items():
        needs = job.get("needs", [])
        for need in [needs] if isinstance(needs, str) else needs:
            assert need in jobs, f"job {name} needs {need}, which does not exist"
    build = jobs["build"]
    # The README's test command, then the book with warnings as errors.
    names = [s.get("run", s.get("uses", "")).strip() for s in steps(build)]
    assert names.index("make test") < names.index("make book"), names
    book = step_running(build, "make book")
    # The addresses come from the workflow's context, never written in the repository.
    assert book["env"]["INPAINT_REPOSITORY_URL"] == \
        "${{ github.server_url }}/${{ github.repository }}"
    pages = step_using(build, "actions/configure-pages")
    assert book["env"]["INPAINT_BASEURL"] == f"${{{{ steps.{pages['id']}.outputs.base_url }}}}"
    assert names.index(pages["uses"]) < names.index("make book")
    upload = step_using(build, "actions/upload-pages-artifact")
    assert upload["with"]["path"] == "_build/html"
    for step in (pages, upload):
        assert step["if"] == ON_MAIN, f"{step['uses']} must run on main only"
    deploy = jobs["deploy"]
    assert deploy["needs"] == "build" and deploy["if"] == ON_MAIN
    assert deploy["permissions"] == {"pages": "write", "id-token": "write"}
    assert deploy["environment"]["name"] == "github-pages"
    assert deploy["concurrency"] == {"group": "pages", "cancel-in-progress": False}
    step_using(deploy, "actions/deploy-pages")
    assert "concurrency" in workflow
    for name, job in jobs.items():
        if name != "deploy":
            assert "pages: write" not in yaml.safe_dump(job.get("permissions", {})), name


# Addresses that only a placeholder or one hard-coded owner could fill: a github.io site, or a
# github.com address followed by an owner. (The host alone, as in inpaint.tools.publish, is fine.)
HARD_CODED = re.compile(r"[A-Za-z0-9-]+\.github\.io|github\.com[/:][A-Za-z0-9-]+")


def project_files() -> list[Path]:
    """Every file of the project that git tracks or would track (not the ignored ones)."""
    listed = subprocess.run(["git", "-C", str(PROJECT_ROOT), "ls-files", "--cached", "--others",
                             "--exclude-standard", "-z"], capture_output=True, text=True)
    if listed.returncode == 0 and listed.stdout:
        return [PROJECT_ROOT / name for name in sorted(set(listed.stdout.split("\0"))) if name]
    skip = {".git", ".venv", "_build", "runs", "data"}
    return [p for p in PROJECT_ROOT.rglob("*") if p.is_file() and not skip & set(p.parts)]


def hard_coded_addresses(text: str) -> list[str]:
    return [text[max(0, m.start() - 30):m.end() + 20] for m in HARD_CODED.finditer(text)]


def test_no_address_of_the_repository_or_its_site_is_written_in_the_project():
    found = {}
    for path in project_files():
        if path.is_file():
            try:
                hits = hard_coded_addresses(path.read_text(encoding="utf-8"))
            except UnicodeDecodeError:  # a picture or an archive
                continue
            if hits:
                found[str(path.relative_to(PROJECT_ROOT))] = hits
    assert not found, (f"hard-coded repository or Pages addresses (they come from the workflow's "
                       f"context or the clone's origin): {found}")


def test_the_address_check_sees_one():
    owner_site = "someone" + ".github" + ".io"
    assert hard_coded_addresses(f"see https://{owner_site}/inpaint/")
    assert hard_coded_addresses("git@" + "github.com" + ":someone/inpaint.git")
    assert not hard_coded_addresses('f"https://github.com/{owner}/{name}"')


# ------------------------------------------------------------------------- licences and citation

def test_the_code_licence_is_mit_and_named_in_the_readme():
    licence = (PROJECT_ROOT / "LICENSE").read_text()
    assert licence.startswith("MIT License") and "Permission is hereby granted" in licence
    readme = (PROJECT_ROOT / "README.md").read_text()
    assert re.search(r"^## Licence$", readme, re.M) and re.search(r"^## How to cite$", readme, re.M)
    licence_section = readme.split("## Licence", 1)[1].split("\n## ", 1)[0]
    for named in ("LICENSE", "MIT", "LICENSE-text.md", "CC BY 4.0", "ImageNet", "CelebA",
                  "Flickr", "non-commercial"):
        assert named in licence_section, f"README's Licence section does not name {named}"
    text = (PROJECT_ROOT / "LICENSE-text.md").read_text()
    assert "CC BY 4.0" in text and "https://creativecommons.org/licenses/by/4.0/legalcode" in text


def test_citation_file_is_valid_cff():
    result = check_jsonschema("vendor.citation-file-format", PROJECT_ROOT / "CITATION.cff")
    assert result.returncode == 0, result.stdout + result.stderr
    citation = yaml.safe_load((PROJECT_ROOT / "CITATION.cff").read_text())
    assert citation["cff-version"] == "1.2.0" and citation["license"] == "MIT"
    assert citation["title"] and citation["abstract"] and citation["keywords"]
    assert "10.1109/CVPR.2017.728" in {r.get("doi") for r in citation["references"]}
    assert "repository-code" not in citation or not hard_coded_addresses(
        citation["repository-code"]), "the repository's address is not known in its files"


CFF_BREAKAGES = {
    "no authors": lambda c: c.pop("authors"),
    "a version that is a number": lambda c: c.update({"cff-version": 1.2}),
    "a malformed DOI": lambda c: c["references"][0].update(doi="CVPR.2017.728"),
    "an unknown licence": lambda c: c.update(license="MIT-ish"),
}


@pytest.mark.parametrize("breakage", CFF_BREAKAGES)
def test_the_citation_check_rejects_an_invalid_file(breakage, tmp_path):
    change = CFF_BREAKAGES[breakage]
    citation = yaml.safe_load((PROJECT_ROOT / "CITATION.cff").read_text())
    change(citation)
    broken = tmp_path / "CITATION.cff"
    broken.write_text(yaml.safe_dump(citation, allow_unicode=True))
    result = check_jsonschema("vendor.citation-file-format", broken)
    assert result.returncode != 0, result.stdout


# ------------------------------------------------------------------------- references

BIB = PROJECT_ROOT / "book" / "references.bib"
CITE = re.compile(r"\{cite(?::[a-z]+)?\}`([^`]+)`")


def cited_keys(text: str) -> set[str]:
    return {key.strip() for match in CITE.finditer(text) for key in match.group(1).split(",")}


def book_sources() -> dict[str, str]:
    import json
    sources = {p.name: p.read_text(encoding="utf-8") for p in (PROJECT_ROOT / "book").glob("*.md")}
    for path in (PROJECT_ROOT / "book" / "results").glob("*.ipynb"):
        cells = json.loads(path.read_text(encoding="utf-8"))["cells"]
        sources[path.name] = "\n".join("".join(c["source"]) for c in cells
                                       if c["cell_type"] == "markdown")
    return sources


def bib_entries() -> dict:
    from pybtex.database import parse_file  # comes with sphinxcontrib-bibtex
    return dict(parse_file(str(BIB)).entries)


def test_every_citation_is_in_the_bib_and_every_entry_is_cited():
    entries = bib_entries()
    cited = {name: cited_keys(text) for name, text in book_sources().items()}
    missing = {name: keys - set(entries) for name, keys in cited.items() if keys - set(entries)}
    assert not missing, f"cited but not in {BIB.name}: {missing}"
    uncited = set(entries) - set().union(*cited.values())
    assert not uncited, f"in {BIB.name} but cited nowhere: {uncited}"
    assert "```{bibliography}" in (PROJECT_ROOT / "book" / "introduction.md").read_text()


def test_every_reference_has_a_doi_or_a_link():
    lacking = [key for key, entry in bib_entries().items()
               if not ({"doi", "url"} & {field.lower() for field in entry.fields})]
    assert not lacking, f"references without a doi or url: {lacking}"
    for key, entry in bib_entries().items():
        doi = entry.fields.get("doi")
        assert doi is None or re.fullmatch(r"10\.\d{4,9}/\S+", doi), (key, doi)


def test_the_citation_checks_see_keys():
    assert cited_keys("as {cite:t}`yeh2017` and {cite:p}`telea2004, bertalmio2001`") == \
        {"yeh2017", "telea2004", "bertalmio2001"}
    assert cited_keys("{cite}`radford2016`") == {"radford2016"}


# ------------------------------------------------------------------------- the address in the book

def test_the_repository_address_is_read_from_a_github_remote_only():
    host = "https://" + "github.com"
    web = f"{host}/octo/study"
    for remote in (f"{web}.git", web, f"{web}/", "git@" + "github.com" + ":octo/study.git",
                   "ssh://git@" + "github.com" + "/octo/study.git",
                   "https://token@" + "github.com" + "/octo/study.git"):
        assert publish.github_address(remote) == web, remote
    for remote in ("/srv/git/study", "../study", "file:///srv/study.git",
                   "https://gitlab.example.org/octo/study.git", host):
        assert publish.github_address(remote) is None, remote


def git(*args, cwd: Path) -> None:
    subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True)


def test_the_repository_address_comes_from_the_environment_then_the_origin(tmp_path):
    clone = tmp_path / "clone"
    clone.mkdir()
    git("init", "-q", cwd=clone)
    assert publish.repository_url(clone, {}) is None  # no origin
    git("remote", "add", "origin", str(tmp_path / "elsewhere"), cwd=clone)
    assert publish.repository_url(clone, {}) is None  # a clone of a local path (CI here)
    server = "https://" + "github.com"
    git("remote", "set-url", "origin", f"{server}/octo/study.git", cwd=clone)
    assert publish.repository_url(clone, {}) == f"{server}/octo/study"
    actions = {"GITHUB_SERVER_URL": server, "GITHUB_REPOSITORY": "octo/fork"}
    assert publish.repository_url(clone, actions) == f"{server}/octo/fork"
    told = {**actions, "INPAINT_REPOSITORY_URL": f"{server}/octo/told/"}
    assert publish.repository_url(clone, told) == f"{server}/octo/told"
    assert publish.repository_url(tmp_path, {}) is None  # not a clone at all


def test_no_address_leaves_the_buttons_off(tmp_path):
    found = publish.settings(tmp_path, {})
    assert found["html_baseurl"] == ""
    theme = found["html_theme_options"]
    assert not theme["use_repository_button"] and not theme["use_issues_button"]
    assert "repository_url" not in theme and found["repository"] == publish.UNKNOWN
    told = publish.settings(tmp_path, {"INPAINT_REPOSITORY_URL": "https://git.example.org/o/s",
                                       "INPAINT_BASEURL": "https://pages.example.org/s"})
    assert told["html_baseurl"] == "https://pages.example.org/s/"
    assert told["html_theme_options"]["use_repository_button"]
    assert told["html_theme_options"]["repository_url"] == "https://git.example.org/o/s"


def build(source: Path, output: Path, environ: dict) -> Path:
    jupyter_book = Path(sys.executable).with_name("jupyter-book")
    result = subprocess.run([str(jupyter_book), "build", str(source), "--path-output",
                             str(output), "--warningiserror", "--keep-going"],
                            capture_output=True, text=True, env=environ, cwd=source)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    return output / "_build" / "html"


def clean_environment() -> dict:
    names = ("INPAINT_REPOSITORY_URL", "INPAINT_BASEURL", "INPAINT_REPOSITORY_BRANCH",
             "GITHUB_SERVER_URL", "GITHUB_REPOSITORY")
    environ = {k: v for k, v in os.environ.items() if k not in names}
    # The book's extension is imported from this checkout's library.
    environ["PYTHONPATH"] = os.pathsep.join(
        [str(PROJECT_ROOT / "lib")] + [p for p in [os.environ.get("PYTHONPATH")] if p])
    return environ


def test_the_book_builds_with_warnings_as_errors_with_an_address(tmp_path):
    web, site = "https://git.example.org/octo/study", "https://pages.example.org/study"
    html = build(PROJECT_ROOT, tmp_path, {**clean_environment(), "INPAINT_REPOSITORY_URL": web,
                                          "INPAINT_BASEURL": site})
    page = (html / "book" / "reproducibility.html").read_text(encoding="utf-8")
    assert f'<link rel="canonical" href="{site}/book/reproducibility.html"' in page
    assert f'href="{web}"' in page and f'href="{web}/issues/new' in page  # the two buttons
    assert publish.UNKNOWN not in page
    notebook = (html / "book" / "results" / "05_comparison.html").read_text(encoding="utf-8")
    assert "Download source file" in notebook and f'href="{web}"' in notebook


def test_the_book_builds_with_warnings_as_errors_without_an_address(tmp_path):
    # A copy that is no git clone, so no origin can name the repository.
    source = tmp_path / "source"
    for name in ("_config.yml", "_toc.yml"):
        (source / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(PROJECT_ROOT / name, source / name)
    shutil.copytree(PROJECT_ROOT / "book", source / "book",
                    ignore=shutil.ignore_patterns("_build"))
    html = build(source, tmp_path / "out", clean_environment())
    page = (html / "book" / "reproducibility.html").read_text(encoding="utf-8")
    assert 'rel="canonical"' not in page and "/issues/new" not in page
    assert publish.UNKNOWN.replace("'", "&#8217;") in page or publish.UNKNOWN in page
    footer = (html / "book" / "introduction.html").read_text(encoding="utf-8")
    assert "MIT licence" in footer and "CC BY 4.0" in footer
    assert "10.1109/CVPR.2017.728" in footer  # the bibliography, with its DOIs

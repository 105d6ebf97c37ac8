"""The book builds from the committed results and renders with no network."""
from __future__ import annotations

import subprocess
import sys
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import urlparse

import pytest

from inpaint.files import PROJECT_ROOT


class Resources(HTMLParser):
    """The addresses a page loads: every <script src> and <link href>."""

    def __init__(self):
        super().__init__()
        self.addresses: list[str] = []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "script" and attrs.get("src"):
            self.addresses.append(attrs["src"])
        # A canonical link (html_baseurl, set when the site's address is known) names the page's
        # published address; nothing is loaded from it.
        if tag == "link" and attrs.get("href") and attrs.get("rel") != "canonical":
            self.addresses.append(attrs["href"])


def loaded_addresses(page: Path) -> list[str]:
    parser = Resources()
    parser.feed(page.read_text(encoding="utf-8"))
    return parser.addresses


class Paragraphs(HTMLParser):
    """The text of a page's paragraphs (<p>), each as one string."""

    def __init__(self):
        super().__init__()
        self.paragraphs: list[str] = []
        self.open = False

    def handle_starttag(self, tag, attrs):
        if tag == "p":
            self.open = True
            self.paragraphs.append("")

    def handle_endtag(self, tag):
        if tag == "p":
            self.open = False

    def handle_data(self, data):
        if self.open:
            self.paragraphs[-1] += data


@pytest.fixture(scope="module")
def html(tmp_path_factory) -> Path:
    """The book built from the committed results, as `make study` builds it (-W)."""
    out = tmp_path_factory.mktemp("book")
    jupyter_book = Path(sys.executable).with_name("jupyter-book")
    build = subprocess.run([str(jupyter_book), "build", str(PROJECT_ROOT), "--path-output",
                            str(out), "--warningiserror", "--keep-going"],
                           capture_output=True, text=True)
    assert build.returncode == 0, build.stdout[-3000:] + build.stderr[-3000:]
    return out / "_build" / "html"


def built_pages(html: Path) -> list[Path]:
    pages = sorted(p for p in html.rglob("*.html") if "_static" not in p.parts)  # not templates
    assert len(pages) > 10
    return pages


def test_every_table_a_chapter_displays_renders_as_a_table(html):
    # A Markdown table a notebook displays (the findings' budget table, say) must be read as MyST,
    # not CommonMark, or it shows as a paragraph of pipes and dashes.
    unrendered = {}
    for page in built_pages(html):
        parser = Paragraphs()
        parser.feed(page.read_text(encoding="utf-8"))
        rows = [text.strip()[:80] for text in parser.paragraphs if text.lstrip().startswith("|")]
        if rows:
            unrendered[page.relative_to(html).as_posix()] = rows
    assert not unrendered, f"Markdown tables shown as text: {unrendered}"
    findings = (html / "book" / "results" / "10_findings.html").read_text(encoding="utf-8")
    assert "<table" in findings


def test_the_book_loads_nothing_from_outside_its_build(html):
    pages = built_pages(html)
    outside = {}
    for page in pages:
        for address in loaded_addresses(page):
            parsed = urlparse(address)
            target = (page.parent / parsed.path).resolve()
            if parsed.scheme or parsed.netloc or not target.is_relative_to(html.resolve()) or \
                    not target.exists():
                outside.setdefault(page.relative_to(html).as_posix(), []).append(address)
    assert not outside, f"pages load files from outside the build: {outside}"
    method = loaded_addresses(html / "book" / "method.html")
    assert any(address.split("?")[0].endswith("_static/mathjax/tex-chtml.js")
               for address in method), method

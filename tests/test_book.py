"""The book builds from the committed results and renders with no network."""
from __future__ import annotations

import subprocess
import sys
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import urlparse

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


def test_the_book_loads_nothing_from_outside_its_build(tmp_path):
    jupyter_book = Path(sys.executable).with_name("jupyter-book")
    build = subprocess.run([str(jupyter_book), "build", str(PROJECT_ROOT), "--path-output",
                            str(tmp_path), "--warningiserror", "--keep-going"],
                           capture_output=True, text=True)
    assert build.returncode == 0, build.stdout[-3000:] + build.stderr[-3000:]
    html = tmp_path / "_build" / "html"
    pages = sorted(p for p in html.rglob("*.html") if "_static" not in p.parts)  # not templates
    assert len(pages) > 10
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

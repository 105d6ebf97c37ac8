"""Where the book is published: the repository's address and the site's base URL, written into the
book's build configuration. No address is written in the project's files: it is known only where
the book is built.

The repository's address is, in this order:

1. `INPAINT_REPOSITORY_URL`, which the GitHub workflow sets from its context
   (`${{ github.server_url }}/${{ github.repository }}`);
2. `GITHUB_SERVER_URL` and `GITHUB_REPOSITORY`, which GitHub Actions sets in every job;
3. the `origin` remote of the git clone the book is built in, when it is on github.com (its
   `https://`, `ssh://` or `git@` form); a clone of a local path or of another host gives none.

The site's base URL is `INPAINT_BASEURL` alone (the workflow passes the `base_url` output of
actions/configure-pages): a Pages address cannot be told from the repository's, since a site may
have its own domain.

Used as a Sphinx extension (`sphinx.local_extensions` in `_config.yml`), so that every build of the
book, `make book`, `make study` and the tests alike, gets the same configuration: when an address
is known the repository and issue buttons link to it, `html_baseurl` is set and the substitution
`{{ repository }}` names it; when none is known the buttons stay off (no warning) and the
substitution says so.
"""
from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path

# The forms of a remote on github.com: https (with an optional user or token before the host),
# ssh://git@ and the scp-like git@host:owner/name; each with or without a trailing .git.
GITHUB_REMOTE = re.compile(
    r"^(?:https://(?:[^@/]+@)?|ssh://git@|git@)github\.com[/:]"
    r"(?P<owner>[A-Za-z0-9](?:[A-Za-z0-9-]{0,38}))/(?P<name>[A-Za-z0-9._-]+?)(?:\.git)?/?$")

# What `{{ repository }}` says when no address is known; the pages write "the project's repository
# {{ repository }}", which reads either way.
UNKNOWN = "(its address was not known to this build of the book)"


def github_address(remote: str) -> str | None:
    """The web address of a remote on github.com (https, the host, then owner and name), or None
    for any other remote (a local path, another host)."""
    match = GITHUB_REMOTE.match(remote.strip())
    if not match:
        return None
    return f"https://github.com/{match['owner']}/{match['name']}"


def origin_remote(where: Path) -> str | None:
    """The URL of the `origin` remote of the git clone holding `where`, or None (no git, no clone,
    no origin)."""
    try:
        result = subprocess.run(["git", "-C", str(where), "remote", "get-url", "origin"],
                                capture_output=True, text=True, timeout=20)
    except (OSError, subprocess.SubprocessError):
        return None
    return result.stdout.strip() if result.returncode == 0 and result.stdout.strip() else None


def repository_url(where: Path, environ=None) -> str | None:
    """The repository's web address (no trailing slash), or None when it cannot be known."""
    environ = os.environ if environ is None else environ
    if environ.get("INPAINT_REPOSITORY_URL", "").strip():
        return environ["INPAINT_REPOSITORY_URL"].strip().rstrip("/")
    server, repository = environ.get("GITHUB_SERVER_URL", ""), environ.get("GITHUB_REPOSITORY", "")
    if server.strip() and repository.strip():
        return f"{server.strip().rstrip('/')}/{repository.strip()}"
    remote = origin_remote(where)
    return github_address(remote) if remote else None


def base_url(environ=None) -> str | None:
    """The published site's base URL, ending in a slash, or None when it is not known."""
    environ = os.environ if environ is None else environ
    url = environ.get("INPAINT_BASEURL", "").strip()
    return url.rstrip("/") + "/" if url else None


def settings(where: Path, environ=None) -> dict:
    """The build settings for the book built in `where`: Sphinx's `html_baseurl`, the theme's
    repository options and the `repository` substitution."""
    environ = os.environ if environ is None else environ
    url = repository_url(where, environ)
    theme = {"use_download_button": True}
    if url:
        # The address is GitHub's (the workflow's server, which may be GitHub Enterprise's own
        # host, or a github.com remote): the theme is told so, rather than guess from the host.
        theme.update(repository_url=url, repository_provider="github",
                     use_repository_button=True, use_issues_button=True,
                     repository_branch=environ.get("INPAINT_REPOSITORY_BRANCH", "").strip()
                     or "main",
                     path_to_docs="")
    else:
        theme.update(use_repository_button=False, use_issues_button=False,
                     use_edit_page_button=False)
    return {"html_baseurl": base_url(environ) or "",
            "html_theme_options": theme,
            "repository": f"[{url}]({url})" if url else UNKNOWN}


def _configure(app, config) -> None:
    """Sphinx `config-inited`: write the settings into the build's configuration."""
    found = settings(Path(app.srcdir))
    config.html_baseurl = found["html_baseurl"]
    config.html_theme_options = {**(config.html_theme_options or {}),
                                 **found["html_theme_options"]}
    config.myst_substitutions = {**(getattr(config, "myst_substitutions", None) or {}),
                                 "repository": found["repository"]}


def setup(app) -> dict:
    app.connect("config-inited", _configure)
    return {"parallel_read_safe": True, "parallel_write_safe": True}

"""Safe files for every layer: the project's folder, atomic writes, one-line write errors and
checksums. Nothing here knows images, models or the study."""
from __future__ import annotations

import ast
import contextlib
import errno
import fcntl
import hashlib
import os
import tempfile
import time
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parents[2]


def in_repository() -> bool:
    """Whether the library runs from a clone of the study's repository (an editable install or
    `PYTHONPATH=lib`), so that PROJECT_ROOT holds data/, book/ and the shipped weights. False for
    a plain `pip install .`, where PROJECT_ROOT is somewhere under the install prefix."""
    return (PROJECT_ROOT / "pyproject.toml").is_file() and (PROJECT_ROOT / "book").is_dir()


def user_cache() -> Path:
    """The user's cache folder for this study (`~/.cache/inpaint` on Linux, as platformdirs says
    elsewhere; `XDG_CACHE_HOME` moves it): where an install outside the repository keeps the
    shipped models (`inpaint install-model`)."""
    import pooch  # imported here: platformdirs' answer, without loading pooch for every command
    return Path(pooch.os_cache("inpaint"))


class ChecksumError(ValueError):
    """An archive's checksum differs from the registry's."""


class WriteError(OSError):
    """A file could not be written (a full disk, a quota, a folder gone); the message is one line
    naming the file and the fix."""


def write_error(path: str | os.PathLike, error: Exception) -> WriteError:
    """The WriteError for a failed write of `path`: an OSError, or the RuntimeError torch.save
    raises when the disk fills ("[enforce fail at inline_container.cc] ... unexpected pos")."""
    reason = getattr(error, "strerror", None) or str(error).strip().splitlines()[0]
    full = (getattr(error, "errno", None) in (errno.ENOSPC, errno.EDQUOT)
            or "unexpected pos" in str(error) or "inline_container" in str(error))
    hint = "the disk may be full: free some space" if full else "check the folder"
    return WriteError(f"cannot write {path} ({reason}); {hint} or choose another --out")


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike):
    """A temporary path beside `path` (same suffix, so writers infer the format) to write to.
    It replaces `path` only when the block ends without error; otherwise it is removed. A crash
    mid-write therefore never leaves a truncated file under the real name. A write that fails
    (OSError, or torch.save's RuntimeError on a full disk) is raised as a `WriteError`."""
    path = Path(path)
    tmp = path.with_name(f".{path.stem}.tmp{path.suffix}")
    try:
        tmp.unlink(missing_ok=True)  # a stale one, or a symlink planted there: never written through
        yield tmp
        os.replace(tmp, path)
    except WriteError:
        raise
    except OSError as error:
        raise write_error(path, error) from None
    except RuntimeError as error:
        if "unexpected pos" in str(error) or "inline_container" in str(error):
            raise write_error(path, error) from None
        raise
    finally:
        tmp.unlink(missing_ok=True)


@contextlib.contextmanager
def single_run(path: str | os.PathLike, command: str, flag: str = "--out",
               busy: str | None = None, remove: bool = False):
    """Hold the lock file `path` (see `lock_file`, which `command`, `flag` and `busy` word the
    refusals of; created with its folder if needed) while the block runs, with this process's
    pid in it; removed when the block ends if `remove`. A lock held by another process raises
    FileExistsError naming that process's pid at once, before any work."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with lock_file(path, command, flag, busy) as handle:
        handle.seek(0)
        handle.truncate()
        handle.write(f"{os.getpid()}\n")
        handle.flush()
        try:
            yield
        finally:
            if remove:
                path.unlink(missing_ok=True)


def prepare_output(out: Path, flag: str = "--out") -> Path:
    """Create the folder `out` if needed and check that files can be written in it: done before
    any long computation, so that a bad location costs nothing. Raises ValueError naming the
    problem and the fix."""
    if out.exists() and not out.is_dir():
        raise ValueError(f"{flag} {out} is a file, not a folder; choose a folder for {flag}")
    try:
        out.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryFile(dir=out):
            pass
    except (FileExistsError, NotADirectoryError):
        raise ValueError(f"{flag} {out} cannot be created: part of its path is a file; choose "
                         f"another {flag}") from None
    except OSError as error:
        raise ValueError(f"{flag} {out} is not writable ({error.strerror}); choose a writable "
                         f"folder for {flag}") from None
    return out


def lock_file(path: Path, command: str, flag: str = "--out", busy: str | None = None):
    """Open `path` (created if absent, never through a symbolic link) and lock it with
    fcntl.flock, which the kernel releases however the process ends: the open text handle, at
    its end ("a+"), for the caller to read and then write its pid into.

    A lock held by another process is refused at once with FileExistsError naming its pid ("another
    `train` is running into runs/x (pid 123)", or `busy` with "{pid}" replaced); a symbolic link
    at `path` with ValueError."""
    while True:
        try:
            fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_APPEND | os.O_NOFOLLOW, 0o644)
        except OSError as error:
            if error.errno != errno.ELOOP:
                raise
            raise ValueError(f"{path} is a symbolic link, not the lock file {command} writes; "
                             f"remove it or choose another {flag}") from None
        handle = os.fdopen(fd, "a+")
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            pid = (lock_text(handle).split() or ["?"])[0]
            handle.close()
            raise FileExistsError(busy.format(pid=pid) if busy else
                                  f"another {command} is running into {path.parent} (pid {pid}); "
                                  f"wait for it to finish or choose another {flag}") from None
        try:  # the lock is ours, unless the file was removed (by a run finishing) meanwhile
            current = os.fstat(handle.fileno()).st_ino == os.lstat(path).st_ino
        except FileNotFoundError:
            current = False
        if current:
            return handle
        handle.close()


def lock_text(handle) -> str:
    """What the lock file open as `handle` holds; a process that has just created it may not have
    written its pid yet, so an empty file is read again for up to half a second."""
    for _ in range(50):
        handle.seek(0)
        text = handle.read()
        if text:
            return text
        time.sleep(0.01)
    return ""


# ---------------------------------------------------------------- checksums and download

def shown(path: str | os.PathLike) -> str:
    """A path as a page or a log line shows it: relative to the project when inside it (runs/cpu/x),
    else its name alone, so that no machine's absolute path reaches a notebook's output."""
    path = Path(path)
    try:
        return str(path.resolve().relative_to(PROJECT_ROOT.resolve()))
    except ValueError:
        return path.name


def file_checksum(path: Path, algorithm: str = "sha256") -> str:
    """Hex digest of a file, read in 1 MiB blocks."""
    digest = hashlib.new(algorithm)
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def verify_checksum(path: Path, expected: str | None) -> str:
    """Check `path` against "sha256:..." or "md5:..."; return the file's sha256 (the cache key).

    Raises ChecksumError naming the file, both digests and what to do.
    """
    sha256 = file_checksum(path, "sha256")
    if expected is None:
        return sha256
    algorithm, want = expected.split(":", 1)
    got = sha256 if algorithm == "sha256" else file_checksum(path, algorithm)
    if got != want:
        raise ChecksumError(
            f"{path}: {algorithm} is {got}, expected {want}. The file is corrupt, truncated or a "
            f"different version: delete it and download it again from the official source.")
    return sha256


def code_digest(path: Path) -> str:
    """sha256 of a Python module's code: its syntax tree without docstrings, so that comments,
    docstrings and layout can change without invalidating what was computed with it (any other
    change does). Used by the chapters' fingerprints and the study's result cache."""
    return source_digest(Path(path).read_bytes())


def source_digest(source: str | bytes) -> str:
    """sha256 of Python source's code, docstrings aside (see `code_digest`)."""
    tree = ast.parse(source)
    for node in ast.walk(tree):
        body = getattr(node, "body", None)
        if (isinstance(body, list) and body and isinstance(body[0], ast.Expr)
                and isinstance(body[0].value, ast.Constant) and isinstance(body[0].value.value, str)):
            node.body = body[1:] or [ast.Pass()]
    return hashlib.sha256(ast.dump(tree).encode()).hexdigest()

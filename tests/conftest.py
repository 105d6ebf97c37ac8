"""Shared fixtures: the committed sample photographs and a tiny trained `ci` run."""
from __future__ import annotations

import functools
import http.server
import os
from pathlib import Path
import shutil
import tempfile
import threading

import pandas as pd
import pytest
import torch
from nbval.plugin import IPyNbCell

from inpaint.data import cache as data_cache, registry
from inpaint.data.cache import SAMPLE_DIR, load_sample_split
from inpaint.files import PROJECT_ROOT
from inpaint.study import chapters
from inpaint.study.chapters import TABLES_ENV
from inpaint.method.pixels import to_tensor
from inpaint.study.profiles import PROFILES, train_config
from inpaint.training.checkpoints import checkpoints
from inpaint.training.train import train

import nbval_tolerance  # noqa: F401  (nbval compares floats within a stated tolerance)

class FolderHandler(http.server.SimpleHTTPRequestHandler):
    """Serves a folder, records the paths asked for in `requests`, says nothing on stderr."""

    def __init__(self, *args, requests: list, **kwargs):
        self.requests = requests
        super().__init__(*args, **kwargs)

    def do_GET(self):
        self.requests.append(self.path)
        super().do_GET()

    def log_message(self, *args):
        pass


@pytest.fixture
def serve_folder(monkeypatch):
    """A real HTTP server on 127.0.0.1 per call: `serve_folder(folder)` serves it and returns its
    base URL; `serve_folder.requests` lists the paths every server was asked for, in order."""
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")  # never through a proxy
    monkeypatch.setenv("no_proxy", "127.0.0.1,localhost")
    servers, requests = [], []

    def serve(folder) -> str:
        handler = functools.partial(FolderHandler, directory=str(folder), requests=requests)
        server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        servers.append(server)
        return f"http://127.0.0.1:{server.server_address[1]}"

    serve.requests = requests
    yield serve
    for server in servers:
        server.shutdown()
        server.server_close()


@pytest.fixture
def data_places(tmp_path, monkeypatch) -> dict:
    """Empty data/raw, ../shared/datasets and decoded-image cache folders in tmp_path, with the
    registry and the cache pointed at them and INPAINT_DATA unset: {"raw", "shared", "cache"}."""
    places = {name: tmp_path / name for name in ("raw", "shared", "cache")}
    for folder in places.values():
        folder.mkdir()
    monkeypatch.setattr(registry, "RAW_DIR", places["raw"])
    monkeypatch.setattr(registry, "SHARED_DIR", places["shared"])
    monkeypatch.setattr(data_cache, "CACHE_DIR", places["cache"])
    monkeypatch.delenv("INPAINT_DATA", raising=False)
    return places


@pytest.fixture(scope="session")
def committed_tables() -> dict:
    """The cpu book's committed per-chapter tables (book/_generated/tables), as the findings
    read them: {table name: DataFrame, or None where its chapter has saved none}."""
    folder = PROJECT_ROOT / "book" / "_generated" / "tables"
    saved = {}
    for name, index in chapters.tables().items():
        path = folder / f"{name}.csv"
        saved[name] = pd.read_csv(path, index_col=list(range(index))) if path.exists() else None
    return saved


@pytest.fixture(scope="session")
def sample_val() -> torch.Tensor:
    """32 real photographs, float (32, 3, 64, 64) in [-1, 1]."""
    return to_tensor(load_sample_split("val"))


@pytest.fixture
def checkpoint(ci_run) -> str:
    """The path of the `ci` run's last checkpoint (epoch 3), as `complete --checkpoint`."""
    return str(checkpoints(ci_run)[3])


@pytest.fixture
def images(tmp_path):
    """A folder of three committed sample photographs (64x64 JPEGs), as `complete --input`."""
    folder = tmp_path / "in"
    folder.mkdir()
    for image in sorted((SAMPLE_DIR / "val").glob("*.JPEG"))[:3]:
        shutil.copy(image, folder)
    return folder


@pytest.fixture(scope="session")
def ci_run(tmp_path_factory):
    """A `ci` profile training run (3 epochs on the committed sample), shared by the tests."""
    return train(train_config(PROFILES["ci"]), tmp_path_factory.mktemp("ci_run"), progress=False)


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item):
    """nbval's runs of the reference notebooks are one study: each saves its tables in a folder of
    this test session (TABLES_ENV, read when its kernel starts), where the findings notebook reads
    them, and none touches the `ci` study's tables in runs/ci/tables. Other tests see no such
    folder, as a hand run."""
    if isinstance(item, IPyNbCell):
        if "folder" not in NBVAL_TABLES:
            NBVAL_TABLES["folder"] = tempfile.mkdtemp(prefix="inpaint-nbval-tables-")
        os.environ[TABLES_ENV] = NBVAL_TABLES["folder"]
    else:
        os.environ.pop(TABLES_ENV, None)


def pytest_collection_modifyitems(session, config, items):
    """nbval's reference notebooks run in the registry's order (`chapters.names()`), as the study
    runs them, not by file name: the findings (10) read the tables of the chapter after Yeh (11).
    Every other test keeps its place."""
    from inpaint.study import chapters
    order = {name: k for k, name in enumerate(chapters.names())}
    slots = [k for k, item in enumerate(items) if isinstance(item, IPyNbCell)]
    ranked = sorted((items[k] for k in slots),
                    key=lambda item: order.get(Path(str(item.fspath)).stem, len(order)))
    for k, item in zip(slots, ranked):  # sorted() is stable: cells keep their order
        items[k] = item


def pytest_unconfigure(config):
    if "folder" in NBVAL_TABLES:
        shutil.rmtree(NBVAL_TABLES["folder"], ignore_errors=True)


NBVAL_TABLES: dict[str, str] = {}  # the session's folder for nbval's tables, made when first needed

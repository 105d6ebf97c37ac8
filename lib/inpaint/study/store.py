"""The study's result cache: the expensive per-setting work (a latent search and its scores for
one solver config, model and set of images; a critic's verdict on one fill) kept under a key made
of its real inputs, so that rerunning a chapter with one more λ or fill computes only what is new.

The key digests the models' weights, the config's values, the images' and masks' bytes, and the
code that computes the result (every module of `inpaint.method`, which the search, the blends,
the metrics and the critic live in, and the study module that calls it). Results lie in
runs/<profile>/cache/ (ignored by git), one file per key, written atomically.
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import torch

from inpaint.files import PROJECT_ROOT, atomic_path, code_digest

METHOD = PROJECT_ROOT / "lib" / "inpaint" / "method"


def method_code() -> str:
    """A digest of the method layer's code (docstrings and comments aside)."""
    return "".join(code_digest(path) for path in sorted(METHOD.glob("*.py")))


def digest(part) -> str:
    """One part of a key: a tensor's dtype, shape and bytes; a module's weights; else its repr
    (plain values and frozen dataclasses of them)."""
    if isinstance(part, torch.nn.Module):
        return "".join(digest(tensor) for tensor in part.state_dict().values())
    if isinstance(part, torch.Tensor):
        tensor = part.detach().cpu().contiguous()
        return hashlib.sha256(f"{tensor.dtype}{tuple(tensor.shape)}".encode()
                              + tensor.numpy().tobytes()).hexdigest()
    return repr(part)


@dataclass(frozen=True)
class Store:
    """Results by the digest of their inputs, in `folder`; a Store of None computes every time."""

    folder: Path | None

    def get(self, name: str, compute: Callable[[], object], *inputs, code: Path) -> object:
        """compute(), or what it returned before for the same `name`, `inputs` and code (the
        method layer and the module `code`, usually the caller's __file__)."""
        if self.folder is None:
            return compute()
        key = hashlib.sha256("\n".join(
            [name, method_code(), code_digest(Path(code)), *map(digest, inputs)]).encode())
        path = self.folder / f"{name}-{key.hexdigest()[:32]}.pt"
        if path.exists():
            return torch.load(path, weights_only=False)
        value = compute()
        self.folder.mkdir(parents=True, exist_ok=True)
        with atomic_path(path) as tmp:
            torch.save(value, tmp)
        return value


NO_STORE = Store(None)

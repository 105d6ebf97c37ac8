"""The study's result cache: the expensive per-setting work (a latent search and its scores for
one solver config, model and set of images; a critic's verdict on one fill) kept under a key made
of its real inputs, so that rerunning a chapter with one more λ or fill computes only what is new.

The key digests the models' weights, the config's values, the images' and masks' bytes, and the
code that computes the result: every module of `inpaint.method` (the search, the blends, the
metrics, the critic) but `baselines`, and the `code` the caller names: its module, and for a
classical fill that fill's function (`function_code`). The classical fills are keyed each by its
own code, which nothing else in the method layer calls, so that adding one to `BASELINES`
computes only it. Results lie in runs/<profile>/cache/ (ignored by git), one file per key,
written atomically.
"""
from __future__ import annotations

import ast
import hashlib
import inspect
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import torch

from inpaint.files import PROJECT_ROOT, atomic_path, code_digest, source_digest

METHOD = PROJECT_ROOT / "lib" / "inpaint" / "method"
BASELINES = METHOD / "baselines.py"  # keyed fill by fill (`function_code`)


def method_code() -> str:
    """A digest of the method layer's code but the classical fills' (docstrings and comments
    aside)."""
    return "".join(code_digest(path) for path in sorted(METHOD.glob("*.py")) if path != BASELINES)


def function_code(function: Callable) -> str:
    """A digest of a module-level function's code and of the functions and values of its module
    that it names, and they name, in turn (docstrings aside): another function added to or
    changed in its module, that it does not call, leaves it unchanged."""
    tree = ast.parse(Path(inspect.getsourcefile(function)).read_text())
    defined = {}
    for node in tree.body:
        if isinstance(node, ast.FunctionDef | ast.ClassDef):
            defined[node.name] = node
        elif isinstance(node, ast.Assign | ast.AnnAssign):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            defined.update((target.id, node) for target in targets if isinstance(target, ast.Name))
    used, todo = [], [function.__name__]
    while todo:
        name = todo.pop()
        if name in defined and defined[name] not in used:
            used.append(defined[name])
            todo += [node.id for node in ast.walk(defined[name]) if isinstance(node, ast.Name)]
    return hashlib.sha256("".join(sorted(source_digest(ast.unparse(node)) for node in used))
                          .encode()).hexdigest()


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

    def get(self, name: str, compute: Callable[[], object], *inputs, code: Path,
            function: Callable | None = None) -> object:
        """compute(), or what it returned before for the same `name`, `inputs` and code (the
        method layer, the module `code`, usually the caller's __file__, and the `function` that
        computes it where it lies outside that digest: a classical fill)."""
        if self.folder is None:
            return compute()
        parts = [name, method_code(), code_digest(Path(code)),
                 function_code(function) if function else "", *map(digest, inputs)]
        key = hashlib.sha256("\n".join(parts).encode())
        path = self.folder / f"{name}-{key.hexdigest()[:32]}.pt"
        if path.exists():
            return torch.load(path, weights_only=False)
        value = compute()
        self.folder.mkdir(parents=True, exist_ok=True)
        with atomic_path(path) as tmp:
            torch.save(value, tmp)
        return value


NO_STORE = Store(None)

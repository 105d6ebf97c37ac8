"""The arithmetic precision training and the solver run in: "bf16" (bfloat16 autocast) or "fp32",
and what "auto" chooses on this machine. Shared by `inpaint.training.train`,
`inpaint.method.solver` and
`inpaint.tools.bench`, so that completing an image needs nothing of the training loop. torch is
imported inside the functions that use it: `PRECISIONS` (TrainConfig's check) is read without it,
as a chapter's parameter check before any heavy import needs."""
from __future__ import annotations

import contextlib
import os

def resolve_precision(precision: str, device: torch.device) -> str:
    """"auto" -> "bf16" on a CPU with native bfloat16 (AVX512-BF16 or AMX), else "fp32".

    Measured: on a 2-core AVX-512 Xeon without native bf16, bf16 autocast ran a width-32 step
    2.5x slower than fp32; on a 2-core AMD EPYC with it, 1.9x faster. On CUDA these models are
    too small for bf16 to pay: on one H200, width 64, batch 128, a plain step with the data on the
    GPU ran 18,339 images/s in fp32 and 15,168 in bf16 autocast (17% fewer), so "auto" is fp32
    there (issue 11)."""
    if precision != "auto":
        return precision
    if device.type == "cuda":
        return "fp32"
    return "bf16" if native_cpu_bf16() else "fp32"


def native_cpu_bf16() -> bool:
    """Whether this CPU computes bfloat16 natively (AVX512-BF16 or AMX). The environment
    variable INPAINT_NATIVE_BF16=1 or =0 overrides the answer, so that one machine can check
    both branches of "auto" (`make test-matrix` does)."""
    forced = os.environ.get("INPAINT_NATIVE_BF16")
    if forced is not None:
        if forced not in ("0", "1"):
            raise ValueError(f"INPAINT_NATIVE_BF16 must be 0 or 1, not {forced!r}")
        return forced == "1"
    import torch
    return torch.cpu._is_avx512_bf16_supported() or torch.cpu._is_amx_tile_supported()


def autocast(device: torch.device, precision: str):
    """bfloat16 autocast for "bf16" (or "auto" where native), nothing for "fp32"."""
    import torch
    precision = resolve_precision(precision, device)
    if precision == "bf16":
        return torch.autocast(device.type, dtype=torch.bfloat16)
    if precision == "fp32":
        return contextlib.nullcontext()
    raise ValueError(f"precision must be 'bf16' or 'fp32', not {precision!r}")

PRECISIONS = ("auto", "bf16", "fp32")

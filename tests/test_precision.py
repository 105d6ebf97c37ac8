"""precision="auto": bf16 where the hardware has it, fp32 elsewhere; the override used by
`make test-matrix` to take each branch on one machine."""
from __future__ import annotations

import pytest
import torch

from inpaint.method.precision import native_cpu_bf16, resolve_precision
from inpaint.study.profiles import PROFILES, train_config


@pytest.mark.parametrize("forced, expected", [("1", "bf16"), ("0", "fp32")])
def test_auto_follows_the_native_bf16_override(monkeypatch, forced, expected):
    monkeypatch.setenv("INPAINT_NATIVE_BF16", forced)
    assert resolve_precision("auto", torch.device("cpu")) == expected
    assert resolve_precision("fp32", torch.device("cpu")) == "fp32"


def test_without_override_auto_asks_the_cpu(monkeypatch):
    monkeypatch.delenv("INPAINT_NATIVE_BF16", raising=False)
    native = torch.cpu._is_avx512_bf16_supported() or torch.cpu._is_amx_tile_supported()
    assert native_cpu_bf16() == native


def test_a_bad_override_is_refused(monkeypatch):
    monkeypatch.setenv("INPAINT_NATIVE_BF16", "yes")
    with pytest.raises(ValueError, match="INPAINT_NATIVE_BF16 must be 0 or 1"):
        resolve_precision("auto", torch.device("cpu"))


def test_the_ci_profile_is_fixed_to_fp32_so_its_references_hold_everywhere():
    assert train_config(PROFILES["ci"]).precision == "fp32"

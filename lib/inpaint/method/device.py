"""The machine the method runs on: the torch device, and a one-line description of it."""
from __future__ import annotations

import os
import platform
import torch

def pick_device() -> torch.device:
    return torch.device("cuda" if torch.cuda.is_available() else "cpu")


def describe_machine() -> str:
    """What computes, in words: the GPU's name, or the CPU's model and the kernels torch uses
    (e.g. "AMD EPYC (AVX512)"), then the CPU cores this process may use and torch's threads."""
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    if pick_device().type == "cuda":
        name = torch.cuda.get_device_name(0)
    else:
        name = platform.processor() or "unknown CPU"
        try:
            with open("/proc/cpuinfo") as handle:
                name = next(line.split(":", 1)[1].strip() for line in handle
                            if line.startswith("model name"))
        except (OSError, StopIteration):
            pass
        name += f" ({torch.backends.cpu.get_cpu_capability()})"
    return f"{name}, {cores} CPU cores, {torch.get_num_threads()} torch threads"

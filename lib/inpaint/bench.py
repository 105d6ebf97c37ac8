"""Training-step benchmark: the project's step (channels_last + bf16 autocast, as configured)
against a plain float32 reference step of the same model, in the same run, as images/s and ratio."""
from __future__ import annotations

import time
from dataclasses import replace

import torch

from .config import TrainConfig
from .models import sample_z
from .train import build_models, d_step, g_step, make_optimizers, pick_device, resolve_precision


def best_seconds(fn, device: torch.device, rounds: int = 1) -> float:
    """The fastest of `rounds` wall-clock timings of fn(), waiting for the GPU where there is one."""
    best = float("inf")
    for _ in range(rounds):
        if device.type == "cuda":
            torch.cuda.synchronize()
        start = time.perf_counter()
        fn()
        if device.type == "cuda":
            torch.cuda.synchronize()
        best = min(best, time.perf_counter() - start)
    return best


def images_per_second(config: TrainConfig, steps: int = 20, warmup: int = 3) -> float:
    """Joint D+G training steps on random images shaped like real ones; returns images/s."""
    device = pick_device()
    torch.manual_seed(config.seed)
    generator, discriminator = build_models(config, device)
    opt_g, opt_d = make_optimizers(config, generator, discriminator)
    memory_format = torch.channels_last if config.channels_last else torch.contiguous_format
    real = (torch.rand(config.batch_size, 3, 64, 64) * 2 - 1).to(device, memory_format=memory_format)
    z = sample_z(config.batch_size, device=device)

    def run(count: int) -> None:
        for _ in range(count):
            d_step(generator, discriminator, opt_d, real, z, config, device)
            g_step(generator, discriminator, opt_g, z, config, device)

    run(warmup)
    return steps * config.batch_size / best_seconds(lambda: run(steps), device)


def compare(config: TrainConfig, steps: int = 20, rounds: int = 2) -> dict:
    """The configured step against float32 + contiguous memory, interleaved `rounds` times so
    that both see the same machine load; the best round of each is kept."""
    reference = replace(config, precision="fp32", channels_last=False)
    ours, ref = [], []
    for _ in range(rounds):
        ref.append(images_per_second(reference, steps))
        ours.append(images_per_second(config, steps))
    return {"device": str(pick_device()), "width": config.width, "batch_size": config.batch_size,
            "threads": torch.get_num_threads(),
            "project_step": f"{config.precision} -> "
                            f"{resolve_precision(config.precision, pick_device())}, "
                            f"channels_last={config.channels_last}",
            "project_images_per_s": round(max(ours), 1),
            "fp32_images_per_s": round(max(ref), 1),
            "speedup": round(max(ours) / max(ref), 2)}


def solver_speed(checkpoint: str, images: int = 32, restarts: int = 4, iters: int = 20,
                 rounds: int = 2) -> dict:
    """The batched multi-start solver against the post's way (one image, one start at a time),
    at the same iterations per image and start, and the solver's cost per iteration against a
    bare G+D forward and backward on the same batch. Real validation images, centre mask."""
    from .data import load_sample_split, to_tensor
    from .masks import center
    from .solver import SolverConfig, complete
    from .train import load_models

    device = pick_device()
    generator, discriminator = load_models(checkpoint, device)
    sample = to_tensor(load_sample_split("val"))
    y = sample.repeat((images + len(sample) - 1) // len(sample), 1, 1, 1)[:images]
    mask = center(images)
    config = SolverConfig(iters=iters, restarts=restarts)

    def timed(fn) -> float:
        return best_seconds(fn, device, rounds)

    batched = timed(lambda: complete(generator, discriminator, y, mask, config, progress=False))
    single = replace(config, restarts=1)
    one_by_one = timed(lambda: [complete(generator, discriminator, y[i:i + 1], mask[i:i + 1], single,
                                         progress=False)
                                for i in range(images) for _ in range(restarts)])
    z = sample_z(images * restarts, device=device).requires_grad_(True)

    def bare():
        for _ in range(iters):
            (grad,) = torch.autograd.grad(discriminator(generator(z)).sum(), z)
    bare_s = timed(bare)
    solves = images * restarts
    return {"device": str(device), "threads": torch.get_num_threads(), "images": images,
            "restarts": restarts, "iters": iters,
            "batched_images_per_s": round(images / batched, 2),
            "one_at_a_time_images_per_s": round(images / one_by_one, 2),
            "batching_speedup": round(one_by_one / batched, 2),
            "solver_ms_per_iteration": round(1000 * batched / iters, 2),
            "bare_g_d_fwd_bwd_ms_per_iteration": round(1000 * bare_s / iters, 2),
            "solver_overhead": round(batched / bare_s, 2),
            "codes_per_batch": solves}

"""Speed on whatever device is present, in one table beside its references (`make bench`):

  training step   the project's D+G step (channels_last and `precision` as the profile sets them)
                  against a plain float32, contiguous step of the same model, in images/s;
  solver          `solver.complete` in its chosen precision against the same solver forced to
                  float32, in image-iterations/s (codes x iterations per second);
  solver cost     the solver against a bare G+D forward and backward to z on the same batch,
                  same precision and layout: the floor under its own work (goal: at most 1.1x
                  the time, a ratio of at least 0.91; the solver's fixed cost per call, its
                  set-up and final float32 pass, is included, spread over `solver_iters`);
  solver layout   that bare pass in float32, channels_last (the solver's layout) against
                  contiguous (its layout before it took training's): where bf16 is not native the
                  solver runs float32, and this row says whether its layout alone costs or pays;

each at width 32 and 64, with the profile's batch size and 64 codes for the solver. Weights are
freshly initialised (speed does not depend on them). The two sides of a row are timed alternately,
`rounds` times, keeping the best of each, so that both see the same machine load: compare ratios
within one run, not numbers across runs on a shared machine.

`precision_check` is the accuracy side of the solver's bfloat16: the full-scale reference model
on validation photographs, solved in bf16 and in fp32 from the same starting codes.
"""
from __future__ import annotations

import time
from dataclasses import replace
import torch

from inpaint.method.device import describe_machine, pick_device
from inpaint.method.models import Discriminator, Generator, sample_z
from inpaint.method.precision import autocast, resolve_precision
from inpaint.training.config import TrainConfig
from inpaint.training.train import build_models, d_step, g_step, make_optimizers

WIDTHS = (32, 64)
SOLVER_CODES = 64
SOLVER_COST_GOAL = 1.1  # the solver may take at most this many times a bare G+D pass


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


def alternate(runs: dict, device: torch.device, rounds: int) -> dict:
    """{name: fastest seconds} of the callables `runs`, timed one after the other, `rounds` times."""
    best = {name: float("inf") for name in runs}
    for _ in range(rounds):
        for name, fn in runs.items():
            best[name] = min(best[name], best_seconds(fn, device))
    return best


def training_steps(config: TrainConfig, device: torch.device, steps: int, warmup: int = 3):
    """A callable running `steps` joint D+G training steps of `config` on random images shaped
    like real ones (float (B, 3, 64, 64) in [-1, 1]), warmed up."""
    torch.manual_seed(config.seed)
    generator, discriminator = build_models(config, device)
    opt_g, opt_d = make_optimizers(config, generator, discriminator)
    memory_format = torch.channels_last if config.channels_last else torch.contiguous_format
    real = (torch.rand(config.batch_size, 3, 64, 64) * 2 - 1).to(device, memory_format=memory_format)
    z = sample_z(config.batch_size, device=device)

    def run(count: int = steps) -> None:
        for _ in range(count):
            d_step(generator, discriminator, opt_d, real, z, config, device)
            g_step(generator, discriminator, opt_g, z, config, device)

    run(warmup)
    return run


def solver_iterations(width: int, precision: str, device: torch.device, iters: int,
                      codes: int = SOLVER_CODES):
    """A callable running `solver.complete` for `iters` Adam iterations on `codes` random images
    (one start each, centre mask), warmed up."""
    from inpaint.method.masks import center
    from inpaint.method.solver import SolverConfig, complete

    torch.manual_seed(0)
    generator, discriminator = Generator(width).to(device), Discriminator(width).to(device)
    y = torch.rand(codes, 3, 64, 64) * 2 - 1
    mask = center(codes)

    def run(count: int = iters) -> None:
        complete(generator, discriminator, y, mask, SolverConfig(iters=count, precision=precision),
                 progress=False)

    run(2)
    return run


def bare_passes(width: int, precision: str, device: torch.device, iters: int,
                codes: int = SOLVER_CODES, channels_last: bool = True):
    """A callable running `iters` bare G+D forward and backward passes to z (codes, 100), in
    `precision` and the solver's layout (channels_last) or, with channels_last=False, the default
    contiguous one; warmed up."""
    torch.manual_seed(0)
    memory_format = torch.channels_last if channels_last else torch.contiguous_format
    generator = Generator(width).to(device, memory_format=memory_format).eval()
    discriminator = Discriminator(width).to(device, memory_format=memory_format).eval()
    generator.requires_grad_(False)
    discriminator.requires_grad_(False)
    z = sample_z(codes, device=device).requires_grad_(True)

    def run(count: int = iters) -> None:
        for _ in range(count):
            with autocast(device, precision):
                logits = discriminator(generator(z))
            torch.autograd.grad(logits.float().sum(), z)

    run(2)
    return run


def table(config: TrainConfig, steps: int = 20, solver_iters: int = 40, rounds: int = 3,
          widths=WIDTHS) -> list[dict]:
    """Rows {what, project, reference, ratio} (ratio: project speed / reference speed) for the
    training step, the solver, its cost and its layout at each width in `widths`, with `config`'s
    batch size, layout and precision (the solver's too). A row's sides are timed alternately
    (module docstring)."""
    device = pick_device()
    chosen = resolve_precision(config.precision, device)
    layout = "channels_last" if config.channels_last else "contiguous"
    batch = config.batch_size
    rows = []
    for width in widths:
        project = replace(config, width=width)
        plain = replace(project, precision="fp32", channels_last=False)
        best = alternate({"project": training_steps(project, device, steps),
                          "plain": training_steps(plain, device, steps)}, device, rounds)
        rows.append(row(f"training step, width {width}, batch {batch} (images/s)",
                        steps * batch, best["project"], f"{chosen}, {layout}",
                        best["plain"], "fp32, contiguous"))

        best = alternate({"solver": solver_iterations(width, chosen, device, solver_iters),
                          "fp32": solver_iterations(width, "fp32", device, solver_iters),
                          "bare": bare_passes(width, chosen, device, solver_iters)},
                         device, rounds)
        work = solver_iters * SOLVER_CODES
        rows.append(row(f"solver, width {width}, {SOLVER_CODES} codes (image-iterations/s)",
                        work, best["solver"], chosen, best["fp32"], "the solver in fp32"))
        rows.append(row(f"solver against a bare G+D pass, width {width} (image-iterations/s; "
                        f"goal: a ratio of at least {1 / SOLVER_COST_GOAL:.2f}, at most "
                        f"{SOLVER_COST_GOAL}x the time)",
                        work, best["solver"], chosen, best["bare"],
                        f"bare G+D forward+backward, {chosen}"))

        best = alternate({
            "channels_last": bare_passes(width, "fp32", device, solver_iters),
            "contiguous": bare_passes(width, "fp32", device, solver_iters, channels_last=False),
        }, device, rounds)
        rows.append(row(f"bare G+D pass in fp32, width {width}: the solver's layout against "
                        f"contiguous (image-iterations/s)",
                        work, best["channels_last"], "channels_last", best["contiguous"],
                        "contiguous"))
    return rows


def row(what: str, work: int, seconds: float, label: str, reference_seconds: float,
        reference_label: str) -> dict:
    """One table row: `work` units done in `seconds` by the project and `reference_seconds` by
    the reference, as rates and their ratio."""
    return {"what": what, "project": f"{work / seconds:,.0f} ({label})",
            "reference": f"{work / reference_seconds:,.0f} ({reference_label})",
            "ratio": f"{reference_seconds / seconds:.2f}x"}


def markdown(rows: list[dict]) -> str:
    """The rows as a Markdown table."""
    columns = ["what", "project", "reference", "ratio"]
    widths = {c: max(len(c), *(len(r[c]) for r in rows)) for c in columns}
    lines = ["| " + " | ".join(c.ljust(widths[c]) for c in columns) + " |",
             "|" + "|".join("-" * (widths[c] + 2) for c in columns) + "|"]
    lines += ["| " + " | ".join(r[c].ljust(widths[c]) for c in columns) + " |" for r in rows]
    return "\n".join(lines)


def solver_speed(checkpoint: str, images: int = 32, restarts: int = 4, iters: int = 20,
                 rounds: int = 2) -> dict:
    """The batched multi-start solver against the post's way (one image, one start at a time),
    at the same iterations per image and start, with a trained checkpoint and real validation
    images (centre mask), in the solver's chosen precision."""
    from inpaint.data.cache import load_sample_split
    from inpaint.method.pixels import to_tensor
    from inpaint.method.masks import center
    from inpaint.method.solver import SolverConfig, complete
    from inpaint.training.checkpoints import load_models

    device = pick_device()
    generator, discriminator = load_models(checkpoint, device)
    sample = to_tensor(load_sample_split("val"))
    y = sample.repeat((images + len(sample) - 1) // len(sample), 1, 1, 1)[:images]
    mask = center(images)
    config = SolverConfig(iters=iters, restarts=restarts)
    single = replace(config, restarts=1)
    best = alternate({
        "batched": lambda: complete(generator, discriminator, y, mask, config, progress=False),
        "one_by_one": lambda: [complete(generator, discriminator, y[i:i + 1], mask[i:i + 1],
                                        single, progress=False)
                               for i in range(images) for _ in range(restarts)],
    }, device, rounds)
    return {"device": describe_machine(), "images": images, "restarts": restarts, "iters": iters,
            "precision": resolve_precision(config.precision, device),
            "batched_images_per_s": round(images / best["batched"], 2),
            "one_at_a_time_images_per_s": round(images / best["one_by_one"], 2),
            "batching_speedup": round(best["one_by_one"] / best["batched"], 2)}


def precision_check(images: int = 256, restarts: int = 2, iters: int = 150,
                    mask_kind: str = "center", model: str = "tiny-imagenet-full",
                    epoch: int = 55) -> dict:
    """The solver in bf16 against fp32 on the same photographs and starting codes.

    The first `images` Tiny ImageNet validation photographs, the reference model `model` at
    `epoch`, `mask_kind` masks, Adam for `iters` iterations with `restarts` starts (the cpu
    profile's budget); each result pasted into its input. Returns the mean hole PSNR (dB) of
    each precision, their mean paired difference and its standard error (single images can
    differ by dB: rounding sends some codes to other minima, both ways), the largest per-image
    difference, and whether every known pixel of both pasted outputs equals the input exactly
    (as floats in [-1, 1] and as saved uint8).
    """
    from inpaint.method.blend import paste
    from inpaint.data.cache import load_images
    from inpaint.method.pixels import to_tensor, to_uint8
    from inpaint.method.masks import make_mask
    from inpaint.method.metrics import evaluate
    from inpaint.training import shipped
    from inpaint.method.solver import SolverConfig, complete

    device = pick_device()
    generator = shipped.load_generator(model, epoch, device)
    discriminator = shipped.load_discriminator(model, epoch, device)
    y = to_tensor(load_images("tiny-imagenet", "val", verbose=False)[:images])
    mask = make_mask(mask_kind, len(y))
    known = (mask > 0.5).expand_as(y)
    known_hwc = known.permute(0, 2, 3, 1).numpy()  # the same pixels in to_uint8's layout
    result = {"device": describe_machine(), "model": f"{model} epoch {epoch}", "images": len(y),
              "mask": mask_kind, "restarts": restarts, "iters": iters}
    psnr, known_equal = {}, True
    for precision in ("bf16", "fp32"):
        config = SolverConfig(iters=iters, restarts=restarts, precision=precision)
        solved = complete(generator, discriminator, y, mask, config, progress=False)
        pasted = paste(y, solved.generated.cpu(), mask)
        known_equal &= bool((pasted[known] == y[known]).all())
        known_equal &= bool((to_uint8(pasted)[known_hwc] == to_uint8(y)[known_hwc]).all())
        psnr[precision] = evaluate(pasted, y, mask)["psnr_hole"]
    difference = psnr["bf16"] - psnr["fp32"]
    result.update({"psnr_hole_bf16_db": round(psnr["bf16"].mean(), 4),
                   "psnr_hole_fp32_db": round(psnr["fp32"].mean(), 4),
                   "mean_difference_db": round(difference.mean(), 4),
                   "difference_sem_db": round(difference.sem(), 4),
                   "largest_image_difference_db": round(difference.abs().max(), 4),
                   "known_pixels_equal_input": known_equal})
    return result

"""DCGAN training with checkpoints every few epochs, a per-step log and fixed-noise sample grids.

Layout of a run directory:
  config.json                 the full TrainConfig of the run
  log.csv                     one row per step: step, epoch, phase, d_loss, g_loss, d_real, d_fake, elapsed_s
  checkpoints/epoch_055.pt    G, D, both optimisers, RNG state, step, epoch and config
  samples/epoch_055.png       G applied to the same fixed noise at every checkpoint
  fixed_noise.pt              that noise, (samples, 100) in [-1, 1]

Every file but the log is written atomically (a kill mid-write leaves the previous version); the
log is appended to, and rewritten from the last checkpoint's step when a run resumes.

Speed. Nothing waits for a GPU inside an epoch: the uint8 training set lives on the GPU when it
fits (batches are gathered, flipped and scaled there), the epoch's random numbers are drawn at its
start, and the losses stay on the device until the epoch's rows are written to the log together.
The random numbers come from one seeded CPU generator in the same order on every device, so a
resumed run repeats an uninterrupted one exactly (bit for bit on the CPU). On a GPU, a row's
elapsed_s is when its step was issued; the GPU may still have been working on earlier ones.

Read top to bottom: `train` checks the run directory, loads the data, builds the models, then
loops over epochs and batches.
"""
from __future__ import annotations

import contextlib
import csv
import json
import os
import tempfile
import time
from dataclasses import asdict
from pathlib import Path

import numpy as np
import pandas as pd
import torch
import torch.nn.functional as F
from torchvision.utils import save_image
from tqdm.auto import tqdm

from .config import TrainConfig, parse_schedule
from .data import atomic_path, load_images, load_sample_split
from .models import Discriminator, Generator, sample_z

LOG_FIELDS = ["step", "epoch", "phase", "d_loss", "g_loss", "d_real", "d_fake", "elapsed_s"]


class CheckpointError(FileNotFoundError):
    """A checkpoint is missing, unreadable, or from another configuration."""


def pick_device() -> torch.device:
    return torch.device("cuda" if torch.cuda.is_available() else "cpu")


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
    return torch.cpu._is_avx512_bf16_supported() or torch.cpu._is_amx_tile_supported()


def autocast(device: torch.device, precision: str):
    """bfloat16 autocast for "bf16" (or "auto" where native), nothing for "fp32"."""
    precision = resolve_precision(precision, device)
    if precision == "bf16":
        return torch.autocast(device.type, dtype=torch.bfloat16)
    if precision == "fp32":
        return contextlib.nullcontext()
    raise ValueError(f"precision must be 'bf16' or 'fp32', not {precision!r}")


def batch_phase(step: int, blocks: tuple[int, int] | None) -> str:
    """Which networks step `step` updates: "DG" (joint), "D" or "G"."""
    if blocks is None:
        return "DG"
    d_steps, g_steps = blocks
    return "D" if step % (d_steps + g_steps) < d_steps else "G"


def training_images(config: TrainConfig, source=None) -> np.ndarray:
    """uint8 (N, 64, 64, 3) training photographs for `config`."""
    if config.dataset == "sample":
        if source is not None:
            raise ValueError(f"--data {source} is not used by dataset 'sample' (the committed "
                             f"images); drop --data, or pick a dataset with --dataset")
        return load_sample_split("train")
    return load_images(config.dataset, "train", limit=config.limit, source=source)


def build_models(config: TrainConfig, device: torch.device):
    memory_format = torch.channels_last if config.channels_last else torch.contiguous_format
    generator = Generator(config.width).to(device, memory_format=memory_format)
    discriminator = Discriminator(config.width).to(device, memory_format=memory_format)
    return generator, discriminator


def make_optimizers(config: TrainConfig, generator, discriminator):
    """Adam for G and D. Fused (one kernel per step) on CUDA; PyTorch's default elsewhere, so
    CPU runs keep their exact numbers."""
    betas = (config.beta1, 0.999)
    fused = True if next(generator.parameters()).device.type == "cuda" else None
    return (torch.optim.Adam(generator.parameters(), lr=config.lr, betas=betas, fused=fused),
            torch.optim.Adam(discriminator.parameters(), lr=config.lr, betas=betas, fused=fused))


def d_step(generator, discriminator, opt_d, real, z, config, device) -> dict:
    """One discriminator update on a real and a fake batch. Returns {"d_loss", "d_real": mean
    D(x), "d_fake": mean D(G(z))}, float32 0-dim tensors left on the device (reading them waits
    for it)."""
    with autocast(device, config.precision):
        with torch.no_grad():
            fake = generator(z)
        logits_real = discriminator(real)
        logits_fake = discriminator(fake)
        loss = (F.binary_cross_entropy_with_logits(logits_real, torch.ones_like(logits_real))
                + F.binary_cross_entropy_with_logits(logits_fake, torch.zeros_like(logits_fake)))
    opt_d.zero_grad(set_to_none=True)
    loss.backward()
    opt_d.step()
    return {"d_loss": loss.detach().float(),
            "d_real": torch.sigmoid(logits_real.detach().float()).mean(),
            "d_fake": torch.sigmoid(logits_fake.detach().float()).mean()}


def g_step(generator, discriminator, opt_g, z, config, device) -> dict:
    """One generator update with the non-saturating loss -log D(G(z)). Returns {"g_loss",
    "d_fake": mean D(G(z)) before the update}, float32 0-dim tensors left on the device."""
    with autocast(device, config.precision):
        logits = discriminator(generator(z))
        loss = F.binary_cross_entropy_with_logits(logits, torch.ones_like(logits))
    opt_g.zero_grad(set_to_none=True)
    loss.backward()
    opt_g.step()
    return {"g_loss": loss.detach().float(),
            "d_fake": torch.sigmoid(logits.detach().float()).mean()}


def data_device(images: torch.Tensor, device: torch.device) -> torch.device:
    """Where the uint8 training set lives: on a GPU when it takes at most half its free memory
    (no copy per batch), otherwise on the CPU."""
    if device.type == "cuda":
        free, _ = torch.cuda.mem_get_info(device)
        if images.numel() * images.element_size() <= free // 2:
            return device
    return torch.device("cpu")


def epoch_randomness(n_images: int, batches: int, config: TrainConfig, rng: torch.Generator):
    """One epoch's random numbers from the CPU generator `rng`: the data order, int64 (N,); the
    flips, bool (batches, B) (None without `flip`); the codes, float (batches, B, 100) in [-1, 1].
    Drawn in the order a batch-at-a-time loop draws them (the order, then each batch's flips and
    codes), so every device, and a resumed run, sees the same numbers."""
    order = torch.randperm(n_images, generator=rng)
    flips, codes = [], []
    for _ in range(batches):
        if config.flip:
            flips.append(torch.rand(config.batch_size, generator=rng) < 0.5)
        codes.append(sample_z(config.batch_size, generator=rng))
    return order, torch.stack(flips) if flips else None, torch.stack(codes)


def real_batch(images: torch.Tensor, index: torch.Tensor, flip: torch.Tensor | None,
               device: torch.device, memory_format: torch.memory_format) -> torch.Tensor:
    """float (B, 3, 64, 64) in [-1, 1] on `device`, in `memory_format`: the uint8 (N, 64, 64, 3)
    `images` at `index` (B,), mirrored left-right where `flip` (B,) is True. Scaled exactly as
    `inpaint.data.to_tensor` scales, wherever `images` lives."""
    batch = images[index]
    if flip is not None:
        batch = torch.where(flip[:, None, None, None], batch.flip(2), batch)
    batch = batch.to(device).permute(0, 3, 1, 2)
    return batch.float().div(127.5).sub(1).contiguous(memory_format=memory_format)


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


def resume_state(out: Path, config: TrainConfig, device) -> dict | None:
    """The last checkpoint's state in run `out` to continue from; None to start at step 0 (no
    checkpoint yet). Only `epochs` may differ from the run's settings, and only upwards (to extend
    a finished run); otherwise CheckpointError names every setting that differs."""
    last = last_checkpoint(out)
    if last is not None:
        state = load_checkpoint(last, map_location=device)
        saved, source = state["config"], last.name
    elif (out / "config.json").is_file():
        state, source = None, "config.json"
        try:
            saved = json.loads((out / "config.json").read_text())
        except ValueError:
            raise CheckpointError(f"{out / 'config.json'} is unreadable and the run has no "
                                  f"checkpoint; delete the run or choose another --out") from None
    else:
        return None
    differ = [f"{name}: run {saved.get(name)!r}, now {value!r}"
              for name, value in asdict(config).items()
              if name != "epochs" and saved.get(name) != value]
    if differ:
        raise CheckpointError(f"cannot resume {out}: settings differ from its {source} "
                              f"({'; '.join(differ)}); resume with the run's settings (only "
                              f"--epochs may change) or choose another --out")
    if state is not None and state["epoch"] > config.epochs:
        raise CheckpointError(f"cannot resume {out} with epochs={config.epochs}: it already has "
                              f"epoch {state['epoch']}; pass --epochs {state['epoch']} or more")
    return state


def train(config: TrainConfig, out: str | os.PathLike, resume: bool = False, source=None,
          stop_after_epoch: int | None = None, progress: bool = True) -> Path:
    """Train a DCGAN as `config` says, writing checkpoints, log and samples under `out`.

    `resume=True` continues from the last checkpoint in `out` (same config required, except
    `epochs`, which may be raised to extend a finished run); a run killed before its first
    checkpoint starts again from step 0. `stop_after_epoch` ends the run early after that epoch
    (used to test resuming). An existing run is never overwritten: without `resume`, an `out`
    holding a log is an error. Nothing but the folder itself is written before the settings, the
    folder, the run to resume and the data have been checked. Returns the run directory.
    """
    out = Path(out)
    if not resume and (out / "log.csv").exists():
        raise FileExistsError(f"{out} already holds a training run; pass --resume to continue it "
                              f"or choose another --out")
    prepare_output(out)
    device = pick_device()
    state = resume_state(out, config, device) if resume else None
    blocks = parse_schedule(config.schedule)

    images = torch.from_numpy(np.ascontiguousarray(training_images(config, source)))
    batches_per_epoch = len(images) // config.batch_size
    if batches_per_epoch == 0:
        raise ValueError(f"{len(images)} training images are fewer than one batch of "
                         f"{config.batch_size}; lower --batch-size or raise --limit")

    images = images.to(data_device(images, device))
    torch.manual_seed(config.seed)
    generator, discriminator = build_models(config, device)
    opt_g, opt_d = make_optimizers(config, generator, discriminator)
    rng = torch.Generator().manual_seed(config.seed)  # data order and noise, saved with checkpoints
    fixed_noise = sample_z(config.samples, generator=torch.Generator().manual_seed(config.seed + 1))

    start_epoch, step, elapsed = 0, 0, 0.0
    if state is not None:
        load_weights(state, last_checkpoint(out), generator, discriminator)
        opt_g.load_state_dict(state["opt_g"])
        opt_d.load_state_dict(state["opt_d"])
        rng.set_state(state["rng"])
        torch.set_rng_state(state["torch_rng"])
        start_epoch, step, elapsed = state["epoch"], state["step"], state["elapsed_s"]
        print(f"resuming from epoch {start_epoch}, step {step}, towards epoch {config.epochs}")

    ckpt_dir, sample_dir = out / "checkpoints", out / "samples"
    ckpt_dir.mkdir(exist_ok=True)
    sample_dir.mkdir(exist_ok=True)
    with atomic_path(out / "config.json") as tmp:
        tmp.write_text(json.dumps(asdict(config), indent=2))
    with atomic_path(out / "fixed_noise.pt") as tmp:
        torch.save(fixed_noise, tmp)
    start_log(out / "log.csv", step)
    log_file = open(out / "log.csv", "a", newline="")
    log = csv.DictWriter(log_file, LOG_FIELDS)
    memory_format = torch.channels_last if config.channels_last else torch.contiguous_format
    last_epoch = config.epochs if stop_after_epoch is None else min(stop_after_epoch, config.epochs)
    bar = tqdm(total=max(0, last_epoch - start_epoch) * batches_per_epoch, disable=not progress,
               desc="train", unit="batch")
    started = time.perf_counter() - elapsed
    try:
        for epoch in range(start_epoch + 1, last_epoch + 1):
            generator.train()
            discriminator.train()
            order, flips, codes = epoch_randomness(len(images), batches_per_epoch, config, rng)
            order, codes = order.to(images.device), codes.to(device)
            flips = None if flips is None else flips.to(images.device)
            rows, values = [], []  # the epoch's log rows; their losses, still on the device
            for i in range(batches_per_epoch):
                index = order[i * config.batch_size:(i + 1) * config.batch_size]
                real = real_batch(images, index, None if flips is None else flips[i], device,
                                  memory_format)
                phase = batch_phase(step, blocks)
                losses = {}
                if "D" in phase:
                    losses.update(d_step(generator, discriminator, opt_d, real, codes[i],
                                         config, device))
                if "G" in phase:
                    g_losses = g_step(generator, discriminator, opt_g, codes[i], config, device)
                    losses["g_loss"] = g_losses["g_loss"]
                    if phase == "G":
                        losses["d_fake"] = g_losses["d_fake"]
                rows.append({"step": step, "epoch": epoch, "phase": phase, "d_loss": "",
                             "g_loss": "", "d_real": "", "d_fake": "",
                             "elapsed_s": round(time.perf_counter() - started, 3)})
                values.append(losses)
                step += 1
                bar.update()
            write_rows(log, rows, values)
            bar.set_postfix(epoch=epoch, d=f"{rows[-1]['d_loss'] or 0:.3f}",
                            g=f"{rows[-1]['g_loss'] or 0:.3f}")
            if epoch % config.checkpoint_every == 0 or epoch == config.epochs:
                log_file.flush()
                save_samples(generator, fixed_noise, sample_dir / f"epoch_{epoch:03d}.png", device)
                save_checkpoint(ckpt_dir / f"epoch_{epoch:03d}.pt", {
                    "generator": generator.state_dict(),
                    "discriminator": discriminator.state_dict(),
                    "opt_g": opt_g.state_dict(), "opt_d": opt_d.state_dict(),
                    "rng": rng.get_state(), "torch_rng": torch.get_rng_state(),
                    "epoch": epoch, "step": step, "elapsed_s": time.perf_counter() - started,
                    "config": asdict(config),
                })
    finally:
        bar.close()
        log_file.close()
    return out


def write_rows(log: csv.DictWriter, rows: list[dict], values: list[dict]) -> None:
    """Fill each log row with its step's losses (0-dim device tensors, read in one copy; a loss
    the phase did not compute stays empty) and append the rows to the log."""
    flat = [value for losses in values for value in losses.values()]
    numbers = iter(torch.stack(flat).tolist() if flat else [])
    for row, losses in zip(rows, values):
        row.update({name: next(numbers) for name in losses})
        log.writerow(row)


@torch.no_grad()
def save_samples(generator, noise: torch.Tensor, path: Path, device) -> None:
    """G(noise) in eval mode as a PNG grid, 8 images a row."""
    was_training = generator.training
    generator.eval()
    images = generator(noise.to(device)).float()
    generator.train(was_training)
    with atomic_path(path) as tmp:
        save_image(images, tmp, nrow=8, normalize=True, value_range=(-1, 1))


def save_checkpoint(path: Path, state: dict) -> None:
    """Write atomically: a crash mid-write never leaves a truncated checkpoint."""
    with atomic_path(path) as tmp:
        torch.save(state, tmp)


def load_checkpoint(path: str | os.PathLike, map_location="cpu") -> dict:
    """Read a checkpoint written by `train`, with a clear error when it is missing or unreadable."""
    path = Path(path)
    if not path.is_file():
        raise CheckpointError(f"checkpoint {path} does not exist; train first "
                              f"(python -m inpaint train --out DIR) or check the path")
    try:
        state = torch.load(path, map_location=map_location, weights_only=False)
    except Exception as error:  # torch raises several types for a damaged file
        raise CheckpointError(f"checkpoint {path} cannot be read ({error}); it is corrupt or not "
                              f"a checkpoint of this project: retrain or resume to rewrite it")
    missing = {"generator", "discriminator", "config"} - set(state)
    if missing:
        raise CheckpointError(f"{path} lacks {sorted(missing)}; it is not a checkpoint of this project")
    return state


def checkpoints(run: str | os.PathLike) -> dict[int, Path]:
    """{epoch: path} of the checkpoints in a run directory, in epoch order."""
    paths = sorted(Path(run, "checkpoints").glob("epoch_*.pt"))
    return {int(p.stem.split("_")[1]): p for p in paths}


def last_checkpoint(run: str | os.PathLike) -> Path | None:
    found = checkpoints(run)
    return found[max(found)] if found else None


def weights_width(state: dict) -> int | None:
    """The width of the DCGAN whose weights `state` holds (G's first layer has 8 * width output
    channels), or None when it has no such layer."""
    first = state["generator"].get("net.0.weight") if isinstance(state["generator"], dict) else None
    return first.shape[1] // 8 if isinstance(first, torch.Tensor) and first.ndim == 4 else None


def load_weights(state: dict, path, generator, discriminator) -> None:
    """Load a checkpoint's G and D weights into the models; CheckpointError when they do not fit."""
    try:
        generator.load_state_dict(state["generator"])
        discriminator.load_state_dict(state["discriminator"])
    except (RuntimeError, KeyError, TypeError, AttributeError) as error:
        reason = str(error).strip().splitlines()[0]
        raise CheckpointError(f"checkpoint {path}: its weights do not fit the DCGAN its config "
                              f"describes ({reason}); it is damaged or was edited: retrain") from None


def load_models(path: str | os.PathLike, device: str | torch.device = "cpu"):
    """(G, D) from a checkpoint, in eval mode and float32, on `device`."""
    state = load_checkpoint(path, map_location=device)
    config = state["config"] if isinstance(state["config"], dict) else {}
    width, found = config.get("width"), weights_width(state)
    if width is None:
        raise CheckpointError(f"checkpoint {path} has no width in its config (its weights are for "
                              f"width {found}); it was not written by `train` or was edited: "
                              f"retrain, or restore its config")
    if width != found:
        raise CheckpointError(f"checkpoint {path} says width {width} but its weights are for "
                              f"width {found}; it was edited or mixed up: retrain, or restore "
                              f"its config")
    generator, discriminator = Generator(width), Discriminator(width)
    load_weights(state, path, generator, discriminator)
    return generator.to(device).eval(), discriminator.to(device).eval()


def read_log(run: str | os.PathLike) -> pd.DataFrame:
    """A run's log.csv as a DataFrame (empty loss cells, e.g. G's on D-only steps, are NaN)."""
    path = Path(run) / "log.csv"
    if not path.is_file():
        raise FileNotFoundError(f"{path} does not exist; train first (python -m inpaint train)")
    return pd.read_csv(path)


def start_log(path: Path, step: int) -> None:
    """Rewrite the log atomically as its header and the rows of the steps before `step` (those
    the checkpoint we resume from has seen; step 0 for a new run). Later rows, repeated steps, a
    torn last line and a missing header, which a kill can leave, are all dropped or restored."""
    rows = {}
    if path.exists():
        with open(path, newline="") as handle:
            for row in csv.reader(handle):
                if len(row) == len(LOG_FIELDS) and row[0].isdigit() and int(row[0]) < step:
                    rows[int(row[0])] = row
    with atomic_path(path) as tmp, open(tmp, "w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(LOG_FIELDS)
        writer.writerows(rows[key] for key in sorted(rows))

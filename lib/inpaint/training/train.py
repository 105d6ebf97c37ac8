"""DCGAN training with checkpoints every few epochs, a per-step log and fixed-noise sample grids.

Layout of a run directory:
  config.json                 the full TrainConfig of the run
  log.csv                     one row per step: step, epoch, phase, d_loss, g_loss, d_real, d_fake,
  elapsed_s
  checkpoints/epoch_055.pt    G, D, both optimisers, RNG state, step, epoch and config
  samples/epoch_055.png       G applied to the same fixed noise at every checkpoint
  fixed_noise.pt              that noise, (samples, 100) in [-1, 1]
  CHANGES                     what each resume with --accept-changes changed (settings, data)
  LOCK                        while a `train` runs here: its pid (a second one is refused)

Every file but the log is written atomically (a kill mid-write leaves the previous version); the
log is appended to, and rewritten from the last checkpoint's step when a run resumes.

Speed. Nothing waits for a GPU inside an epoch: the uint8 training set lives on the GPU when it
fits (batches are gathered, flipped and scaled there), the epoch's random numbers are drawn at its
start, and the losses stay on the device until the epoch's rows are written to the log together.
The random numbers come from one seeded CPU generator in the same order on every device, so a
resumed run repeats an uninterrupted one exactly (bit for bit on the CPU). On a GPU, a row's
elapsed_s is when its step was issued; the GPU may still have been working on earlier ones.

Read from `train` down: it checks the run directory, loads the data, builds the networks
(`new_trainer`) and, when resuming, loads the last checkpoint into them (`restore`), then loops
over epochs (`train_epoch`, a `train_step` per batch), saving samples and a checkpoint every few
(`save_epoch`). Reading checkpoints, models and the log is `inpaint.training.checkpoints`, which
needs nothing of this module.
"""
from __future__ import annotations

import csv
import hashlib
import json
import os
import time
from dataclasses import asdict, dataclass
from pathlib import Path
import numpy as np
import torch
import torch.nn.functional as F
from torchvision.utils import save_image
from tqdm.auto import tqdm

from inpaint.data.cache import load_images, load_sample_split
from inpaint.files import atomic_path, prepare_output, single_run
from inpaint.method.device import pick_device
from inpaint.method.models import Discriminator, Generator, sample_z
from inpaint.method.precision import autocast
from inpaint.training.checkpoints import (CheckpointError, checkpoints, last_checkpoint,
                                          load_checkpoint, load_weights, save_checkpoint)
from inpaint.training.config import TrainConfig, parse_schedule

LOCK = "LOCK"  # present, locked and holding the pid, while a `train` writes into a run folder
CHANGES = "CHANGES"  # what each resume with --accept-changes changed
LOG_FIELDS = ["step", "epoch", "phase", "d_loss", "g_loss", "d_real", "d_fake", "elapsed_s"]


def batch_phase(step: int, blocks: tuple[int, int] | None) -> str:
    """Which networks step `step` updates: "DG" (joint), "D" or "G"."""
    if blocks is None:
        return "DG"
    d_steps, g_steps = blocks
    return "D" if step % (d_steps + g_steps) < d_steps else "G"


def training_images(config: TrainConfig, source=None, verbose: bool = True) -> np.ndarray:
    """uint8 (N, 64, 64, 3) training photographs for `config` (`verbose`: say where from)."""
    if config.dataset == "sample":
        if source is not None:
            raise ValueError(f"--data {source} is not used by dataset 'sample' (the committed "
                             f"images); drop --data, or pick a dataset with --dataset")
        return load_sample_split("train")
    return load_images(config.dataset, "train", limit=config.limit, source=source,
                       verbose=verbose)


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
    `inpaint.method.pixels.to_tensor` scales, wherever `images` lives."""
    batch = images[index]
    if flip is not None:
        batch = torch.where(flip[:, None, None, None], batch.flip(2), batch)
    batch = batch.to(device).permute(0, 3, 1, 2)
    return batch.float().div(127.5).sub(1).contiguous(memory_format=memory_format)


def resume_state(out: Path, config: TrainConfig, device, accept_changes: bool = False
                 ) -> tuple[dict | None, list[str]]:
    """(the last checkpoint's state in run `out` to continue from, or None to start at step 0
    (no checkpoint yet); the settings that differ from the run's, "lr: run 0.0002, now 0.001").

    `epochs` may differ, but only upwards (to extend a finished run). Any other difference is a
    CheckpointError naming every setting that differs, unless `accept_changes`."""
    last = last_checkpoint(out)
    if last is not None:
        try:
            state = load_checkpoint(last, map_location=device)
        except CheckpointError as error:
            found = checkpoints(out)
            earlier = [path.name for epoch, path in found.items() if epoch < max(found)]
            before = (f"move it out of {last.parent} and resume from {earlier[-1]}" if earlier
                      else f"no earlier checkpoint is left: move it out of {last.parent} and "
                           f"resume, which starts again from epoch 0")
            raise CheckpointError(f"cannot resume {out}: its last checkpoint {last.name} is "
                                  f"unreadable or damaged ({str(error).split(';')[0]}); "
                                  f"{before}") from None
        saved, source = state["config"], last.name
    elif (out / "config.json").is_file():
        state, source = None, "config.json"
        try:
            saved = json.loads((out / "config.json").read_text())
        except ValueError:
            raise CheckpointError(f"{out / 'config.json'} is unreadable and the run has no "
                                  f"checkpoint; delete the run or choose another --out") from None
    else:
        return None, []
    differ = [f"{name}: run {saved.get(name)!r}, now {value!r}"
              for name, value in asdict(config).items()
              if name != "epochs" and saved.get(name) != value]
    if differ and not accept_changes:
        raise CheckpointError(f"cannot resume {out}: settings differ from its {source} "
                              f"({'; '.join(differ)}); resume with the run's settings (only "
                              f"--epochs may change), pass --accept-changes to continue with "
                              f"these (recorded in {CHANGES}), or choose another --out")
    if state is not None and state["epoch"] > config.epochs:
        raise CheckpointError(f"cannot resume {out} with epochs={config.epochs}: it already has "
                              f"epoch {state['epoch']}; pass --epochs {state['epoch']} or more")
    return state, differ


def data_identity(images: torch.Tensor, config: TrainConfig, source) -> dict:
    """What a run was trained on, stored in each checkpoint: the dataset or --data path, the
    number of images and the sha256 of the uint8 (N, 64, 64, 3) images in their order."""
    digest = hashlib.sha256(images.cpu().numpy().tobytes()).hexdigest()
    return {"source": str(source) if source is not None else config.dataset,
            "images": len(images), "sha256": digest}


def data_change(saved: dict, data: dict) -> list[str]:
    """The difference between the data a checkpoint recorded and `data` (both `data_identity`),
    as one entry, "data: run 64 images from sample (sha256 1a2b...), now ..."; none when equal or
    when the checkpoint recorded none (written before data were recorded)."""
    before = saved.get("data")
    if not isinstance(before, dict) or before.get("sha256") == data["sha256"]:
        return []
    said = lambda d: f"{d.get('images')} images from {d.get('source')} (sha256 {str(d.get('sha256'))[:12]})"
    return [f"data: run {said(before)}, now {said(data)}"]


def record_changes(out: Path, epoch: int, changes: list[str]) -> None:
    """Append to the run's CHANGES file one line saying what a resume at `epoch` changed."""
    with open(out / CHANGES, "a") as handle:
        handle.write(f"resumed at epoch {epoch} with --accept-changes: {'; '.join(changes)}\n")


def train(config: TrainConfig, out: str | os.PathLike, resume: bool = False, source=None,
          stop_after_epoch: int | None = None, progress: bool = True,
          accept_changes: bool = False) -> Path:
    """Train a DCGAN as `config` says, writing checkpoints, log and samples under `out`.

    `resume=True` continues from the last checkpoint in `out` (same config required, except
    `epochs`, which may be raised to extend a finished run); a run killed before its first
    checkpoint starts again from step 0. `stop_after_epoch` ends the run early after that epoch
    (used to test resuming). An existing run is never overwritten: without `resume`, an `out`
    holding a log or checkpoints is an error, and so is `resume` where `out` holds no run (a
    mistyped path). `resume` with other settings or other training images (their digest is kept
    in each checkpoint) is refused unless `accept_changes`, which appends what changed to the
    run's CHANGES file. The folder is held by one `train` at a time: its LOCK file, locked and
    holding the pid, refuses a second at once. Nothing but the folder itself and LOCK is written
    before the settings, the folder, the run to resume and the data have been checked. Returns
    the run directory.
    """
    out = Path(out)
    if resume and not any((out / name).exists() for name in ("log.csv", "config.json",
                                                              "checkpoints")):
        raise FileNotFoundError(f"no run to resume in {out}; check --out or drop --resume")
    prepare_output(out)
    with single_run(out / LOCK, "`train`", remove=True):
        return train_locked(config, out, resume, source, stop_after_epoch, progress,
                            accept_changes)


def train_locked(config: TrainConfig, out: Path, resume: bool, source, stop_after_epoch,
                 progress: bool, accept_changes: bool) -> Path:
    """`train`, once the run folder `out` is ours (its LOCK file locked)."""
    if not resume and ((out / "log.csv").exists() or checkpoints(out)):
        raise FileExistsError(f"{out} already holds a training run (a log or checkpoints); pass "
                              f"--resume to continue it or choose another --out")
    device = pick_device()
    saved, changes = resume_state(out, config, device, accept_changes) if resume else (None, [])
    images = load_training_set(config, source, device)
    data = data_identity(images, config, source)
    if saved is not None:
        changes += data_change(saved, data)
        if changes and not accept_changes:
            raise CheckpointError(f"cannot resume {out}: {changes[0]}; pass the run's --data, "
                                  f"or --accept-changes to continue on these images (recorded "
                                  f"in {CHANGES})")

    trainer = new_trainer(config, device, data)
    fixed_noise = sample_z(config.samples, generator=torch.Generator().manual_seed(config.seed + 1))
    start_epoch, step, elapsed = 0, 0, 0.0
    if saved is not None:
        start_epoch, step, elapsed = restore(trainer, saved, last_checkpoint(out))
        print(f"resuming from epoch {start_epoch}, step {step}, towards epoch {config.epochs}")
    if changes:
        record_changes(out, start_epoch, changes)
        print(f"resuming with changes, recorded in {out / CHANGES}: {'; '.join(changes)}")
    write_run_files(out, config, fixed_noise, step)

    batches = len(images) // config.batch_size
    last_epoch = config.epochs if stop_after_epoch is None else min(stop_after_epoch, config.epochs)
    started = time.perf_counter() - elapsed
    with (open(out / "log.csv", "a", newline="") as log_file,
          tqdm(total=max(0, last_epoch - start_epoch) * batches, disable=not progress,
               desc="train", unit="batch") as bar):
        log = csv.DictWriter(log_file, LOG_FIELDS)
        for epoch in range(start_epoch + 1, last_epoch + 1):
            rows, losses = train_epoch(trainer, images, epoch, step, started, bar)
            write_rows(log, rows, losses)
            step += len(rows)
            bar.set_postfix(epoch=epoch, d=f"{rows[-1]['d_loss'] or 0:.3f}",
                            g=f"{rows[-1]['g_loss'] or 0:.3f}")
            if epoch % config.checkpoint_every == 0 or epoch == config.epochs:
                log_file.flush()
                save_epoch(out, trainer, fixed_noise, epoch, step, time.perf_counter() - started)
    return out


def load_training_set(config: TrainConfig, source, device: torch.device) -> torch.Tensor:
    """The training photographs, uint8 (N, 64, 64, 3), where `data_device` puts them. ValueError
    when they are fewer than one batch."""
    images = torch.from_numpy(np.ascontiguousarray(training_images(config, source)))
    if len(images) < config.batch_size:
        raise ValueError(f"{len(images)} training images are fewer than one batch of "
                         f"{config.batch_size}; lower --batch-size or raise --limit")
    return images.to(data_device(images, device))


@dataclass
class Trainer:
    """What the training steps read and change: the settings, the device, both networks, their
    optimisers and `rng`, the CPU generator of the data order, flips and codes."""

    config: TrainConfig
    device: torch.device
    generator: Generator
    discriminator: Discriminator
    opt_g: torch.optim.Optimizer
    opt_d: torch.optim.Optimizer
    rng: torch.Generator
    data: dict  # what it trains on (`data_identity`), stored in each checkpoint


def new_trainer(config: TrainConfig, device: torch.device, data: dict) -> Trainer:
    """Networks initialised from `config.seed`, their optimisers, and `rng` seeded from it too."""
    torch.manual_seed(config.seed)
    generator, discriminator = build_models(config, device)
    opt_g, opt_d = make_optimizers(config, generator, discriminator)
    rng = torch.Generator().manual_seed(config.seed)
    return Trainer(config, device, generator, discriminator, opt_g, opt_d, rng, data)


def restore(trainer: Trainer, state: dict, path: Path) -> tuple[int, int, float]:
    """Load the checkpoint `state` (read from `path`) into `trainer`: weights, optimisers and both
    random generators. Returns where it stopped: (epoch, step, elapsed_s)."""
    load_weights(state, path, trainer.generator, trainer.discriminator)
    trainer.opt_g.load_state_dict(state["opt_g"])
    trainer.opt_d.load_state_dict(state["opt_d"])
    trainer.rng.set_state(state["rng"])
    torch.set_rng_state(state["torch_rng"])
    return state["epoch"], state["step"], state["elapsed_s"]


def write_run_files(out: Path, config: TrainConfig, fixed_noise: torch.Tensor, step: int) -> None:
    """The run's folders, config.json and fixed_noise.pt, and its log as of `step`."""
    (out / "checkpoints").mkdir(exist_ok=True)
    (out / "samples").mkdir(exist_ok=True)
    with atomic_path(out / "config.json") as tmp:
        tmp.write_text(json.dumps(asdict(config), indent=2))
    with atomic_path(out / "fixed_noise.pt") as tmp:
        torch.save(fixed_noise, tmp)
    start_log(out / "log.csv", step)


def train_epoch(trainer: Trainer, images: torch.Tensor, epoch: int, step: int, started: float,
                bar) -> tuple[list[dict], list[dict]]:
    """One pass over `images` in whole batches, the first being global step `step`. Returns the
    epoch's log rows (losses empty, elapsed_s counted from `started`) and, for each, the losses
    its step computed, still on the device (`write_rows` reads them all at once)."""
    config, device = trainer.config, trainer.device
    blocks = parse_schedule(config.schedule)
    memory_format = torch.channels_last if config.channels_last else torch.contiguous_format
    batches = len(images) // config.batch_size
    trainer.generator.train()
    trainer.discriminator.train()
    order, flips, codes = epoch_randomness(len(images), batches, config, trainer.rng)
    order, codes = order.to(images.device), codes.to(device)
    flips = None if flips is None else flips.to(images.device)
    rows, losses = [], []
    for i in range(batches):
        index = order[i * config.batch_size:(i + 1) * config.batch_size]
        real = real_batch(images, index, None if flips is None else flips[i], device, memory_format)
        phase = batch_phase(step + i, blocks)
        losses.append(train_step(trainer, real, codes[i], phase))
        rows.append({"step": step + i, "epoch": epoch, "phase": phase, "d_loss": "",
                     "g_loss": "", "d_real": "", "d_fake": "",
                     "elapsed_s": round(time.perf_counter() - started, 3)})
        bar.update()
    return rows, losses


def train_step(trainer: Trainer, real: torch.Tensor, z: torch.Tensor, phase: str) -> dict:
    """Update D, G or both (D first) as `phase` says; the losses computed, as `d_step` returns
    them, with G's loss and, on a G-only step, its mean D(G(z))."""
    generator, discriminator, config, device = (trainer.generator, trainer.discriminator,
                                                trainer.config, trainer.device)
    losses = {}
    if "D" in phase:
        losses.update(d_step(generator, discriminator, trainer.opt_d, real, z, config, device))
    if "G" in phase:
        g_losses = g_step(generator, discriminator, trainer.opt_g, z, config, device)
        losses["g_loss"] = g_losses["g_loss"]
        if phase == "G":
            losses["d_fake"] = g_losses["d_fake"]
    return losses


def save_epoch(out: Path, trainer: Trainer, fixed_noise: torch.Tensor, epoch: int, step: int,
               elapsed_s: float) -> None:
    """The epoch's sample grid and its checkpoint: everything `restore` reads, and the config."""
    save_samples(trainer.generator, fixed_noise, out / "samples" / f"epoch_{epoch:03d}.png",
                 trainer.device)
    save_checkpoint(out / "checkpoints" / f"epoch_{epoch:03d}.pt", {
        "generator": trainer.generator.state_dict(),
        "discriminator": trainer.discriminator.state_dict(),
        "opt_g": trainer.opt_g.state_dict(), "opt_d": trainer.opt_d.state_dict(),
        "rng": trainer.rng.get_state(), "torch_rng": torch.get_rng_state(),
        "epoch": epoch, "step": step, "elapsed_s": elapsed_s, "config": asdict(trainer.config),
        "data": trainer.data,
    })


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

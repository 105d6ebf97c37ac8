"""`python -m inpaint complete`: inpaint your own image files, with the shipped full-scale model
(--model, no training needed) or with a checkpoint written by `train` (--checkpoint).

Photos of any size. The model makes 64x64 images, so for each photo the solver completes a square
around the hole: the hole's bounding box, centred in a square twice its longer side (at least 64
pixels, at most the photo's shorter side), resized to 64x64. The generated fill is resized back
to the square's size and put into the full-resolution photo, Poisson-blended there by default:
the output has the photo's size and the photo's known pixels, unchanged. A 64x64 photo is
completed whole, as in the study.

Masks. --mask is a PNG of the photo's size (white = known, black = the hole; grey thresholded at
50%), or a named kind made at 64x64 and scaled to each photo's size (center: the middle quarter).

For each input image NAME it writes, under --out:
  NAME_corrupted.png   the photo with the hole in grey
  NAME_generated.png   G(z*), the generator's 64x64 image of the square around the hole
  NAME_completed.png   the photo's known pixels, the resized fill in the hole
  NAME_blended.png     the --blend result (Poisson by default)
and, when the inputs are whole images (not --corrupted), metrics.csv comparing the completed
and blended images with the originals at full resolution. NAME is the file's stem, or its whole
name when two inputs share a stem (cat.jpg and cat.png give cat.jpg_... and cat.png_...).

Every file is written atomically, metrics.csv last. While a run is in progress, --out holds a
file INCOMPLETE; a run that is killed leaves it there, and the next run into the same folder is
refused until --overwrite is passed. Images are decoded faithfully: 16-bit values are scaled to 8
bits, transparent pixels are composited on white (with a warning).
"""
from __future__ import annotations

import argparse
import os
import sys
import warnings
from dataclasses import Field, dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import torch
import torch.nn.functional as F
from PIL import Image, UnidentifiedImageError
from torchvision.utils import save_image

from . import reference
from .blend import blend_image
from .checkpoints import load_models, pick_device
from .cli import add_config_flags, given
from .data import IMAGE_SIZE, IMAGE_SUFFIXES, atomic_path, has_alpha, prepare_output, preprocess
from .data import to_rgb, to_tensor, to_uint8
from .masks import make_mask
from .metrics import COLUMNS, l1, psnr, ssim_map
from .solver import SolverConfig, complete

BLENDS = ("paste", "poisson")
INCOMPLETE = "INCOMPLETE"  # present in --out while a run is writing into it
CONTEXT = 2  # the square completed around a hole is CONTEXT times the hole's longer side
# --model's solver defaults: one 224x224 photo in under a minute on 2 CPU cores (width-64 model)
MODEL_DEFAULTS = {"iters": 200}

EXAMPLES = """\
examples:
  # the shipped full-scale model (no training); mask.png: the photo's size, black = hole
  python -m inpaint complete --model tiny-imagenet-full --input photo.jpg --mask mask.png \\
      --out out/
  # a checkpoint of your own, a folder of photos, the centre quarter of each filled
  python -m inpaint complete --checkpoint runs/mine/checkpoints/epoch_055.pt \\
      --input photos/ --mask center --out out/
"""


def add_complete_parser(commands) -> None:
    parser = commands.add_parser("complete", help="inpaint your own images (no training needed)",
                                 description=__doc__, epilog=EXAMPLES,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    names = ", ".join(reference.REFERENCE_MODELS)
    parser.add_argument("--model", default=None,
                        help=f"a shipped reference model, by name ({names}) or the path of its "
                             f"folder; or pass --checkpoint")
    parser.add_argument("--epoch", type=int, default=None,
                        help="--model's generator epoch (default: the epoch chosen in "
                             "book/choices.yml, else the last); the discriminator is the "
                             "nearest saved epoch")
    parser.add_argument("--checkpoint", default=None,
                        help="a checkpoint written by `train`, instead of --model")
    parser.add_argument("--input", required=True, help="an image file or a folder of images")
    parser.add_argument("--mask", default="center",
                        help="a PNG of the photo's size (white = known, black = hole), or "
                             "center | pattern | random | half | half-right | ... (made at "
                             "64x64 and scaled to the photo; pattern and random use --seed) "
                             "(default: center)")
    parser.add_argument("--blend", choices=BLENDS, default="poisson",
                        help="how the fill meets the known pixels (default: poisson)")
    parser.add_argument("--out", required=True, help="output folder")
    parser.add_argument("--corrupted", action="store_true",
                        help="the inputs already have holes: no metrics against them")
    parser.add_argument("--overwrite", action="store_true",
                        help="replace outputs that already exist (refused otherwise)")
    parser.add_argument("--batch-size", type=int, default=64,
                        help="images solved together (default: 64)")
    add_config_flags(parser, SolverConfig, solver_default)


def solver_default(field: Field) -> str:
    """The default a solver flag states: SolverConfig's, and --model's where it differs."""
    text = f"default: {field.default}"
    if field.name in MODEL_DEFAULTS:
        text += (f"; {MODEL_DEFAULTS[field.name]} with --model, so that a photo takes under a "
                 f"minute on 2 CPU cores")
    return text


# ------------------------------------------------------------------------- the model

def check_model_flags(args: argparse.Namespace) -> None:
    """Exactly one of --model and --checkpoint; --epoch only with --model."""
    if (args.model is None) == (args.checkpoint is None):
        raise ValueError("pass exactly one of --model (a shipped model: "
                         f"{', '.join(reference.REFERENCE_MODELS)}, or its folder) and "
                         "--checkpoint (a checkpoint written by `train`)")
    if args.epoch is not None and args.model is None:
        raise ValueError("--epoch chooses an epoch of --model; a --checkpoint holds one epoch, "
                         "leave --epoch out or pass another checkpoint")


def model_name(model: str) -> tuple[str, str | None]:
    """(registered name, folder or None) for --model: a name of `reference.REFERENCE_MODELS`, or
    the path of a model's folder (or of a folder holding it)."""
    if model in reference.REFERENCE_MODELS:
        return model, None
    path = Path(model)
    if not path.is_dir():
        raise ValueError(f"--model {model} is neither a shipped model "
                         f"({', '.join(reference.REFERENCE_MODELS)}) nor a folder; pass one of "
                         f"those names or the path of the model's folder")
    for name, spec in reference.REFERENCE_MODELS.items():
        if path.name == spec.folder or (path / spec.folder).is_dir():
            return name, model
    if (path / reference.SUMS_FILENAME).is_file() and len(reference.REFERENCE_MODELS) == 1:
        return next(iter(reference.REFERENCE_MODELS)), model
    raise ValueError(f"--model {model} holds no shipped model: pass the model's folder (named "
                     f"{', '.join(s.folder for s in reference.REFERENCE_MODELS.values())}) or a "
                     f"folder holding it")


def default_epoch(name: str) -> tuple[int, str]:
    """(generator epoch, why) for --model NAME without --epoch: the epoch chosen for it in
    book/choices.yml, else its last generator epoch."""
    from . import runs
    choice = runs.recorded_choice(runs.GAN(key=name, label=name, reference=name),
                                  runs.CHOICES_FILE)
    if choice is not None:
        return choice["epoch"], f"the epoch chosen in {runs.CHOICES_FILE.name}"
    last = max(reference.reference_spec(name).generator_epochs)
    return last, f"the last: no epoch is chosen for {name} in {runs.CHOICES_FILE}"


def load_reference(name: str, source: str | None, epoch: int | None, device: torch.device):
    """(G, D) of a shipped model, float32, eval mode, on `device`: G of `epoch` (None: see
    `default_epoch`), D of the nearest saved epoch; prints which."""
    if epoch is None:
        epoch, why = default_epoch(name)
    else:
        why = "--epoch"
    d_epoch = reference.nearest_discriminator_epoch(name, epoch)
    generator = reference.load_generator(name, epoch, device, source)
    discriminator = reference.load_discriminator(name, d_epoch, device, source)
    print(f"model {name} ({reference.locate_reference(name, source)}): generator of epoch "
          f"{epoch} ({why}); discriminator of epoch {d_epoch}, the nearest saved")
    return generator, discriminator


# ------------------------------------------------------------------------- inputs

def read_photos(path: Path) -> tuple[list[str], list[np.ndarray]]:
    """Names and uint8 (H, W, 3) images, each at its own size, from a file or folder.

    Names are the files' stems, or their whole names where two files share a stem, so that no
    two inputs write the same outputs. Unreadable files, and files over PIL's decompression-bomb
    limit, are reported and skipped; transparency is composited on white, with a warning
    (see `inpaint.data.to_rgb`).
    """
    if not path.exists():
        raise FileNotFoundError(f"input {path} does not exist; pass an image file or a folder")
    files = [path] if path.is_file() else sorted(
        p for p in path.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES)
    read, photos, transparent = [], [], []
    for file in files:
        try:
            with Image.open(file) as image:
                image.load()
                if has_alpha(image):
                    transparent.append(file.name)
                photos.append(np.array(to_rgb(image)))
                read.append(file)
        except (OSError, UnidentifiedImageError, ValueError, Image.DecompressionBombError) as error:
            print(f"skipping unreadable image {file}: {error}", file=sys.stderr)
    if transparent:
        warnings.warn(f"{len(transparent)} image(s) have transparent pixels, composited on white "
                      f"(255, 255, 255) as known pixels: {', '.join(transparent[:5])}"
                      f"{' ...' if len(transparent) > 5 else ''}")
    if not photos:
        raise ValueError(f"no readable image in {path} (looked for {', '.join(IMAGE_SUFFIXES)})")
    return output_names(read), photos


def read_images(path: Path) -> tuple[list[str], np.ndarray]:
    """Names and uint8 (N, 64, 64, 3) images as the study sees photos: those of `read_photos`,
    other sizes centre-cropped and resized to 64x64 (with a warning)."""
    names, photos = read_photos(path)
    resized = [f"{name} {p.shape[1]}x{p.shape[0]}" for name, p in zip(names, photos)
               if p.shape[:2] != (IMAGE_SIZE, IMAGE_SIZE)]
    if resized:
        warnings.warn(f"{len(resized)} image(s) are not 64x64 and were centre-cropped and "
                      f"resized: {', '.join(resized[:5])}{' ...' if len(resized) > 5 else ''}")
    return names, np.stack([np.asarray(preprocess(Image.fromarray(p), "center-square"))
                            for p in photos])


def output_names(files: list[Path]) -> list[str]:
    """Each file's stem, or its whole name where stems repeat; ValueError if names still clash."""
    stems = [file.stem for file in files]
    names = [file.name if stems.count(file.stem) > 1 else file.stem for file in files]
    clashes = sorted({name for name in names if names.count(name) > 1})
    if clashes:
        raise ValueError(f"several inputs would write the outputs named {clashes}; rename them "
                         f"or complete them into separate --out folders")
    return names


def read_mask_png(path: str | os.PathLike) -> np.ndarray:
    """The mask drawn in a PNG of any size: bool (H, W), True = known (128..255, white), False =
    hole (0..127, black), read like `inpaint.masks.from_png` (grey pixels counted in a warning)."""
    if not Path(path).is_file():
        raise FileNotFoundError(f"mask {path} does not exist; pass a PNG (white = known, black = "
                                f"hole) or a kind such as center")
    with Image.open(path) as image:
        grey = np.asarray(to_rgb(image).convert("L"))
    grey_pixels = int(((grey != 0) & (grey != 255)).sum())
    if grey_pixels:
        warnings.warn(f"the mask PNG {path} has {grey_pixels} grey pixel(s), neither black (0) nor "
                      f"white (255); thresholded at 50%: 128 and above known, below 128 hole")
    return grey >= 128


def photo_masks(kind: str, names: list[str], photos: list[np.ndarray],
                seed: int) -> list[np.ndarray]:
    """One bool (H, W) mask per photo, True = known: the PNG `kind` (it must have the photo's
    size), or the 64x64 masks of a named kind (see `inpaint.masks.make_mask`; one per photo,
    seeded) scaled to each photo's size by nearest neighbour."""
    if kind.lower().endswith(".png"):
        known = read_mask_png(kind)
        masks = [known] * len(photos)
    else:
        made = make_mask(kind, len(photos), seed=seed)[:, 0].numpy() > 0.5
        masks = [np.array(Image.fromarray(m).resize((p.shape[1], p.shape[0]), Image.NEAREST))
                 for m, p in zip(made, photos)]
    for name, known, photo in zip(names, masks, photos):
        if known.shape != photo.shape[:2]:
            raise ValueError(f"the mask PNG {kind} is {known.shape[1]}x{known.shape[0]} pixels but "
                             f"the image {name} is {photo.shape[1]}x{photo.shape[0]}; draw the "
                             f"mask at the image's size")
        if known.all():
            raise ValueError(f"the mask for {name} has no hole (every pixel is white = known); "
                             f"paint the pixels to fill black")
        if not known.any():
            raise ValueError(f"the mask for {name} has no known pixel (every pixel is black = "
                             f"hole); inpainting needs some known pixels, paint them white")
    return masks


# ------------------------------------------------------------------------- the square around a hole

@dataclass(frozen=True)
class Square:
    """The square of a photo that the solver completes: rows top..top+side, columns
    left..left+side."""

    top: int
    left: int
    side: int

    @property
    def region(self) -> tuple[slice, slice]:
        return slice(self.top, self.top + self.side), slice(self.left, self.left + self.side)


def square_around_hole(known: np.ndarray) -> Square:
    """The square around the hole of a bool (H, W) mask (True = known): centred on the hole's
    bounding box, CONTEXT times its longer side, at least 64 pixels and at most the photo's
    shorter side, moved inside the photo. For a 64x64 photo, the whole photo.
    ValueError if the hole is longer than the photo's shorter side (no square holds it)."""
    height, width = known.shape
    rows, cols = np.nonzero(~known)
    top, bottom, left, right = rows.min(), rows.max() + 1, cols.min(), cols.max() + 1
    longest, shortest = max(bottom - top, right - left), min(height, width)
    if longest > shortest:
        raise ValueError(f"the hole spans {right - left}x{bottom - top} pixels, longer than the "
                         f"image's shorter side ({shortest}), so no square around it fits in the "
                         f"{width}x{height} image; use a smaller hole or crop the image")
    side = min(max(CONTEXT * longest, IMAGE_SIZE), shortest)
    top = int(np.clip(top - (side - (bottom - top)) // 2, 0, height - side))
    left = int(np.clip(left - (side - (right - left)) // 2, 0, width - side))
    return Square(top, left, int(side))


def shrink(photo: torch.Tensor, known: np.ndarray, square: Square):
    """The square of a photo as the solver sees it: (y float (3, 64, 64) in [-1, 1], mask float
    (1, 64, 64), 1 = known, 0 = hole), from photo float (3, H, W) in [-1, 1] and known bool (H, W).

    Area resizing over the known pixels only: a 64x64 pixel is known only if every photo pixel it
    averages is, so no hole pixel leaks into it; hole pixels are 0. At 64x64, the square as it is.
    """
    rows, cols = square.region
    mask = torch.from_numpy(known[rows, cols]).float()[None]
    area = F.adaptive_avg_pool2d(torch.cat([photo[:, rows, cols] * mask, mask]), IMAGE_SIZE)
    known_64 = (area[3:] > 1 - 1e-6).float()
    return area[:3] * known_64, known_64


def put_back(photo: torch.Tensor, known: np.ndarray, square: Square, generated: torch.Tensor,
             blend: str) -> tuple[torch.Tensor, torch.Tensor]:
    """(completed, blended), float (3, H, W): the photo (float (3, H, W) in [-1, 1]) with the
    hole of `known` (bool (H, W), True = known) filled from G(z*) (float (3, 64, 64) in [-1, 1])
    resized to the square. `completed` pastes the fill; `blended` is `blend` ("paste", or
    "poisson": see `inpaint.blend.blend_image`, solved within the square). Both keep every known
    pixel of the photo exactly."""
    rows, cols = square.region
    fill = generated
    if square.side != IMAGE_SIZE:
        fill = F.interpolate(generated[None], size=(square.side, square.side), mode="bicubic",
                             align_corners=False, antialias=True)[0].clamp(-1, 1)
    inside = torch.from_numpy(known[rows, cols])
    completed, blended = photo.clone(), photo.clone()
    completed[:, rows, cols] = torch.where(inside, photo[:, rows, cols], fill)
    if blend == "paste":
        return completed, completed.clone()
    solved = blend_image(photo[:, rows, cols].permute(1, 2, 0).double().numpy(),
                         fill.permute(1, 2, 0).double().numpy(), inside.numpy())
    blended[:, rows, cols] = torch.from_numpy(solved).permute(2, 0, 1).to(photo.dtype)
    return completed, blended


def describe(name: str, photo: np.ndarray, known: np.ndarray, square: Square, blend: str) -> str:
    """One line saying what was resized for a photo other than 64x64, and why."""
    rows, cols = np.nonzero(~known)
    hole = f"{cols.max() - cols.min() + 1}x{rows.max() - rows.min() + 1}"
    how = "Poisson-blended" if blend == "poisson" else "pasted"
    side = f"{square.side}x{square.side}"
    return (f"{name}: {photo.shape[1]}x{photo.shape[0]} image, hole within {hole} pixels; the "
            f"model makes 64x64 images, so the {side} square at x={square.left}, y={square.top} "
            f"around the hole is completed at 64x64 and the fill resized back and {how} into "
            f"the full-size image (known pixels unchanged)")


# ------------------------------------------------------------------------- outputs

def output_paths(out: Path, names: list[str], with_metrics: bool) -> list[Path]:
    kinds = ("corrupted", "generated", "completed", "blended")
    paths = [out / f"{name}_{kind}.png" for name in names for kind in kinds]
    return paths + ([out / "metrics.csv"] if with_metrics else [])


def check_outputs(out: Path, targets: list[Path], overwrite: bool) -> None:
    """Refuse, before any work, to overwrite results or to write into an interrupted run."""
    if overwrite:
        return
    if (out / INCOMPLETE).exists():
        raise FileExistsError(f"a previous `complete` into {out} was interrupted and left partial "
                              f"outputs ({out / INCOMPLETE}); pass --overwrite or choose another "
                              f"--out")
    existing = [p for p in targets if p.exists()]
    if existing:
        raise FileExistsError(f"{len(existing)} output file(s) already exist in {out}, e.g. "
                              f"{existing[0].name}; choose another --out or pass --overwrite")


def save_png(image: torch.Tensor, path: Path) -> None:
    """Write a float (3, H, W) image in [-1, 1] as an 8-bit PNG, atomically."""
    with atomic_path(path) as tmp:
        save_image(image, tmp, normalize=True, value_range=(-1, 1))


def scores(completed: torch.Tensor, truth: torch.Tensor, known: np.ndarray) -> dict:
    """PSNR, SSIM and L1 (`inpaint.metrics.COLUMNS`) of a completed image against the original,
    both float (3, H, W) in [-1, 1], over the hole of `known` (bool (H, W)) and the whole image,
    on the saved 0..255 values (as `inpaint.metrics.evaluate` at 64x64)."""
    a, b = to_uint8(completed[None])[0], to_uint8(truth[None])[0]
    hole, similarity = ~known, ssim_map(a, b)
    values = (psnr(a, b, hole), float(similarity[hole].mean()), l1(a, b, hole),
              psnr(a, b), float(similarity.mean()), l1(a, b))
    return dict(zip(COLUMNS, values))


def run_complete(args: argparse.Namespace) -> None:
    check_model_flags(args)
    if args.batch_size < 1:
        raise ValueError(f"batch_size must be at least 1, got {args.batch_size}; set "
                         f"--batch-size to 1 or more")
    defaults = MODEL_DEFAULTS if args.model is not None else {}
    config = SolverConfig(**{**defaults, **given(args, SolverConfig)})
    name, source = model_name(args.model) if args.model is not None else (None, None)
    out = Path(args.out)
    names, photos = read_photos(Path(args.input))
    masks = photo_masks(args.mask, names, photos, config.seed)
    squares = [square_around_hole(known) for known in masks]
    truths = [to_tensor(photo[None])[0] for photo in photos]
    crops = [shrink(truth, known, square) for truth, known, square in zip(truths, masks, squares)]
    for image, (_, mask_64) in zip(names, crops):
        if not mask_64.any():
            raise ValueError(f"{image}: the square around the hole holds no known pixel once "
                             f"resized to 64x64; use a smaller hole")
    check_outputs(out, output_paths(out, names, with_metrics=not args.corrupted), args.overwrite)
    device = pick_device()
    if args.checkpoint is not None:
        generator, discriminator = load_models(args.checkpoint, device)
    else:
        generator, discriminator = load_reference(name, source, args.epoch, device)
    prepare_output(out)
    (out / INCOMPLETE).write_text("python -m inpaint complete is writing here, or was interrupted: "
                                  "the outputs may be partial; rerun with --overwrite\n")
    for image, photo, known, square in zip(names, photos, masks, squares):
        if photo.shape[:2] != (IMAGE_SIZE, IMAGE_SIZE):
            print(describe(image, photo, known, square, args.blend))
    rows = []
    for start in range(0, len(names), args.batch_size):
        batch = range(start, min(start + args.batch_size, len(names)))
        y = torch.stack([crops[i][0] for i in batch])
        m = torch.stack([crops[i][1] for i in batch])
        result = complete(generator, discriminator, y, m, config)
        for k, i in enumerate(batch):
            generated = result.generated[k].cpu()
            completed, blended = put_back(truths[i], masks[i], squares[i], generated, args.blend)
            corrupted = torch.where(torch.from_numpy(masks[i]), truths[i], torch.zeros(()))
            for kind, image in (("corrupted", corrupted), ("generated", generated),
                                ("completed", completed), ("blended", blended)):
                save_png(image, out / f"{names[i]}_{kind}.png")
            if not args.corrupted:
                for kind, image in (("completed", completed), ("blended", blended)):
                    rows.append({**scores(image, truths[i], masks[i]), "image": names[i],
                                 "output": kind, "loss": float(result.loss[k])})
    if rows:
        metrics = pd.DataFrame(rows)
        with atomic_path(out / "metrics.csv") as tmp:
            metrics.to_csv(tmp, index=False)
        print(metrics.groupby("output")[["psnr_hole", "ssim_hole", "l1_hole"]].mean().round(3))
    (out / INCOMPLETE).unlink()
    print(f"{len(names)} image(s) completed into {out}")

"""`python -m inpaint complete`: inpaint image files with a trained checkpoint.

For each input image `NAME` it writes, under --out:
  NAME_corrupted.png   the known pixels, the hole in grey
  NAME_generated.png   G(z*), the generator's image for the best latent code
  NAME_completed.png   known pixels pasted over G(z*): M*y + (1-M)*G(z*)
  NAME_blended.png     the --blend result (Poisson by default)
and, when the inputs are whole images (not --corrupted), metrics.csv comparing the completed
and blended images with the originals. NAME is the file's stem, or its whole name when two inputs
share a stem (cat.jpg and cat.png give cat.jpg_... and cat.png_...).

Every file is written atomically, metrics.csv last. While a run is in progress, --out holds a
file INCOMPLETE; a run that is killed leaves it there, and the next run into the same folder is
refused until --overwrite is passed.

Images are decoded faithfully: 16-bit values are scaled to 8 bits, transparent pixels are
composited on white (with a warning), other sizes are centre-cropped and resized (with a warning).
"""
from __future__ import annotations

import argparse
import sys
import warnings
from dataclasses import fields
from pathlib import Path

import numpy as np
import pandas as pd
import torch
from PIL import Image, UnidentifiedImageError
from torchvision.utils import save_image

from .blend import paste, poisson
from .data import IMAGE_SIZE, IMAGE_SUFFIXES, atomic_path, has_alpha, preprocess, to_rgb, to_tensor
from .masks import make_mask
from .metrics import evaluate
from .solver import SolverConfig, complete
from .train import load_models, pick_device, prepare_output

BLENDS = {"paste": paste, "poisson": poisson}
INCOMPLETE = "INCOMPLETE"  # present in --out while a run is writing into it


def add_complete_parser(commands) -> None:
    parser = commands.add_parser("complete", help="inpaint images with a trained checkpoint",
                                 description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--checkpoint", required=True, help="a checkpoint written by `train`")
    parser.add_argument("--input", required=True, help="an image file or a folder of images")
    parser.add_argument("--mask", default="center",
                        help="center | pattern | random | half | half-right | ... | PATH.png")
    parser.add_argument("--blend", choices=sorted(BLENDS), default="poisson")
    parser.add_argument("--out", required=True, help="output folder")
    parser.add_argument("--corrupted", action="store_true",
                        help="the inputs already have holes: no metrics against them")
    parser.add_argument("--overwrite", action="store_true",
                        help="replace outputs that already exist (refused otherwise)")
    parser.add_argument("--batch-size", type=int, default=64)
    defaults = SolverConfig()
    for field in fields(SolverConfig):
        parser.add_argument("--" + field.name.replace("_", "-"), type=type(getattr(defaults, field.name)),
                            default=getattr(defaults, field.name))


def read_images(path: Path) -> tuple[list[str], np.ndarray]:
    """Names and uint8 (N, 64, 64, 3) images from a file or folder (see `inpaint.data.to_rgb`).

    Names are the files' stems, or their whole names where two files share a stem, so that no
    two inputs write the same outputs. Unreadable files, and files over PIL's decompression-bomb
    limit, are reported and skipped; other sizes are centre-cropped and resized to 64x64, and
    transparency is composited on white, each with a warning.
    """
    if not path.exists():
        raise FileNotFoundError(f"input {path} does not exist; pass an image file or a folder")
    files = [path] if path.is_file() else sorted(
        p for p in path.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES)
    read, images, resized, transparent = [], [], [], []
    for file in files:
        try:
            with Image.open(file) as image:
                image.load()
                if image.size != (IMAGE_SIZE, IMAGE_SIZE):
                    resized.append(f"{file.name} {image.size[0]}x{image.size[1]}")
                if has_alpha(image):
                    transparent.append(file.name)
                images.append(np.asarray(preprocess(to_rgb(image), "center-square")))
                read.append(file)
        except (OSError, UnidentifiedImageError, ValueError, Image.DecompressionBombError) as error:
            print(f"skipping unreadable image {file}: {error}", file=sys.stderr)
    if resized:
        warnings.warn(f"{len(resized)} image(s) are not 64x64 and were centre-cropped and "
                      f"resized: {', '.join(resized[:5])}{' ...' if len(resized) > 5 else ''}")
    if transparent:
        warnings.warn(f"{len(transparent)} image(s) have transparent pixels, composited on white "
                      f"(255, 255, 255) as known pixels: {', '.join(transparent[:5])}"
                      f"{' ...' if len(transparent) > 5 else ''}")
    if not images:
        raise ValueError(f"no readable image in {path} (looked for {', '.join(IMAGE_SUFFIXES)})")
    return output_names(read), np.stack(images)


def output_names(files: list[Path]) -> list[str]:
    """Each file's stem, or its whole name where stems repeat; ValueError if names still clash."""
    stems = [file.stem for file in files]
    names = [file.name if stems.count(file.stem) > 1 else file.stem for file in files]
    clashes = sorted({name for name in names if names.count(name) > 1})
    if clashes:
        raise ValueError(f"several inputs would write the outputs named {clashes}; rename them "
                         f"or complete them into separate --out folders")
    return names


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
    """Write a float (3, 64, 64) image in [-1, 1] as an 8-bit PNG, atomically."""
    with atomic_path(path) as tmp:
        save_image(image, tmp, normalize=True, value_range=(-1, 1))


def run_complete(args: argparse.Namespace) -> None:
    if args.batch_size < 1:
        raise ValueError(f"batch_size must be at least 1, got {args.batch_size}; set "
                         f"--batch-size to 1 or more")
    config = SolverConfig(**{f.name: getattr(args, f.name) for f in fields(SolverConfig)})
    out = Path(args.out)
    names, images = read_images(Path(args.input))
    truth = to_tensor(images)
    mask = make_mask(args.mask, len(truth), seed=config.seed)
    check_outputs(out, output_paths(out, names, with_metrics=not args.corrupted), args.overwrite)
    device = pick_device()
    generator, discriminator = load_models(args.checkpoint, device)
    prepare_output(out)
    (out / INCOMPLETE).write_text("python -m inpaint complete is writing here, or was interrupted: "
                                  "the outputs may be partial; rerun with --overwrite\n")
    tables = []
    for start in range(0, len(truth), args.batch_size):
        batch = slice(start, start + args.batch_size)
        y, m = truth[batch], mask[batch]
        result = complete(generator, discriminator, y, m, config)
        generated = result.generated.cpu()
        completed = paste(y, generated, m)
        blended = BLENDS[args.blend](y, generated, m)
        corrupted = y * m
        for i, name in enumerate(names[batch]):
            for kind, image in (("corrupted", corrupted), ("generated", generated),
                                ("completed", completed), ("blended", blended)):
                save_png(image[i], out / f"{name}_{kind}.png")
        if not args.corrupted:
            for kind, image in (("completed", completed), ("blended", blended)):
                table = evaluate(image, y, m).assign(image=names[batch], output=kind,
                                                     loss=result.loss.cpu().numpy())
                tables.append(table)
    if tables:
        metrics = pd.concat(tables, ignore_index=True)
        with atomic_path(out / "metrics.csv") as tmp:
            metrics.to_csv(tmp, index=False)
        print(metrics.groupby("output")[["psnr_hole", "ssim_hole", "l1_hole"]].mean().round(3))
    (out / INCOMPLETE).unlink()
    print(f"{len(names)} image(s) completed into {out}")

"""`python -m inpaint complete`: inpaint your own image files, with the shipped full-scale model
(--model, no training needed) or with a checkpoint written by `train` (--checkpoint).

Photos of any size (holes are another matter: see Large holes). The model makes 64x64 images, so
for each photo the solver completes a square around the hole: the hole's bounding box, centred in
a square twice its longer side (at least 64 pixels, at most the photo's shorter side), resized to
64x64. The generated fill is resized back
to the square's size and put into the full-resolution photo, Poisson-blended there by default:
the output has the photo's size and the photo's known pixels, unchanged. A 64x64 photo is
completed whole, as in the study.

Large holes. However large the photo, the fill is the model's 64x64 image scaled up to the
square: a hole whose square is more than 4x64 = 256 pixels a side is filled with a blurred,
blocky image (a line says so), not with detail at the photo's resolution. --compare telea writes
a classical fill (OpenCV's Telea, at full resolution) beside the GAN's, to compare.

Orientation. Photos and mask PNGs are read upright, as a viewer shows them: their EXIF
orientation tag (a phone's "rotate 90") is applied, so draw the mask on the photo as you see it.
Outputs are written upright, with no orientation tag, and keep an RGB input's ICC colour profile.

Inputs. --input is one image file (any format PIL reads), or a folder: its files ending in
.jpg .jpeg .png .bmp .webp .tif .tiff .gif are read; subfolders are not searched. Of an animated
GIF/WebP or a multi-page TIFF the first frame is used, with a warning. Unreadable files,
non-regular files (a named pipe, a folder named x.png) and photos that cannot be completed (a
1x1 image, a panorama whose hole is longer than its height) are each skipped with a one-line
message (see --strict).

Masks. --mask is a PNG of the photo's size (white = known, black = the hole; grey thresholded at
50%), or a named kind made at 64x64 and scaled to each photo's size (center: the middle quarter).

For each input image NAME it writes, under --out:
  NAME_corrupted.png   the photo with the hole in grey
  NAME_generated.png   G(z*), the generator's 64x64 image of the square around the hole
  NAME_completed.png   the photo's known pixels, the resized fill in the hole
  NAME_blended.png     the --blend result (Poisson by default)
  NAME_telea.png       with --compare telea: OpenCV's Telea fill at full resolution
and, with --score, metrics.csv: the completed and blended images' PSNR, SSIM and L1 over the hole
(and the whole image) against the photo as given, whose hole pixels you asked to replace. That is
a measurement only where the photo is whole under the mask (a whole photo masked to test the
method); removing an object (a clock), the numbers would score the fill against the clock, so
they are not computed unless asked for. NAME is the file's stem, or its whole name when two
inputs share a stem (cat.jpg and cat.png give cat.jpg_... and cat.png_...).

Every file is written atomically, metrics.csv last. While a run is in progress, --out holds a
file INCOMPLETE; a run that is killed leaves it there, and the next run into the same folder is
refused until --overwrite is passed. --out is claimed (INCOMPLETE is locked) before any work: a
second run into the same folder is refused at once, told the pid of the one running. Images are
decoded faithfully: 16-bit values are scaled to 8 bits, transparent pixels are composited on
white (with a warning). The image names in metrics.csv are UTF-8: bytes of a file name that are
not valid UTF-8 are written as \\xNN escapes (caf\\xe9 for b'caf\\xe9'). Only the square around a
hole is processed in float and scored (the whole-image metrics follow from it exactly, the rest
of the image being unchanged), so memory grows with the hole rather than the photo: the Poisson
solve runs at most 512 pixels a side (a larger square's correction to the fill is solved there
and resized up), and SSIM is taken in strips. Measured with /usr/bin/time -v, the shipped model,
--iters 20 and the default centre mask on a 4000x3000 JPEG: 1.6 GB peak (8.9 GB before).
"""
from __future__ import annotations

import argparse
import contextlib
import hashlib
import os
import sys
import warnings
from dataclasses import Field, dataclass
from pathlib import Path
from types import SimpleNamespace
import numpy as np
import pandas as pd
import torch
from PIL import Image, ImageOps, UnidentifiedImageError

from inpaint.data.decoding import IMAGE_SIZE, IMAGE_SUFFIXES
from inpaint.files import atomic_path, lock_file, lock_text, prepare_output
from inpaint.method.baselines import telea_photo
from inpaint.method.device import pick_device
from inpaint.method.masks import make_mask
from inpaint.method.geometry import Square, put_back, scores, shrink, square_around_hole
from inpaint.method.pixels import has_alpha, to_rgb, to_tensor
from inpaint.method.solver import SolverConfig, complete, saturated
from inpaint.tools.flags import add_config_flags, given
from inpaint.training import shipped
from inpaint.training.checkpoints import load_models

BLENDS = ("paste", "poisson")
COMPARISONS = ("telea",)  # --compare: classical fills written beside the GAN's
INVERTED = 0.5  # a mask PNG whose hole is more of the photo than this may be inverted
BLURRED = 4  # a fill scaled up more than this many times is said to look blurred
INCOMPLETE = "INCOMPLETE"  # present in --out while a run is writing into it
# The photo formats a folder is searched for (a single --input file may have any suffix). Those
# this Pillow cannot open (HEIC without a plugin; AVIF before Pillow 11.2) are named, one line
# each, when a folder holds them: the same answer as for such a file given alone.
PHOTO_FORMATS = IMAGE_SUFFIXES + (".tif", ".tiff", ".gif", ".avif", ".heic", ".heif")
PHOTO_SUFFIXES = tuple(s for s in PHOTO_FORMATS if s in Image.registered_extensions())
MIN_SIDE = 7  # the smallest photo completed and scored (SSIM's 7x7 window)
FAILED_EXIT = 3  # some image failed (the solver diverged), or --strict and some input was skipped
# --model's solver defaults: one 224x224 photo in under a minute on 2 CPU cores (width-64 model)
MODEL_DEFAULTS = {"iters": 200}

EXAMPLES = """\
exit codes:
  0    every image completed (skipped inputs are reported but do not count, unless --strict)
  2    nothing done: a bad flag, input, mask or --out (one line says which and how to fix it)
  1    a write failed, e.g. the disk is full (one line names the file); nothing partial is left
       under a final name
  3    some image failed (the solver diverged: lower --lr or --lam), or --strict and some input
       was skipped; the others are completed
  130  interrupted (Ctrl-C); rerun with --overwrite

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
    names = ", ".join(shipped.SHIPPED_MODELS)
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
                             "center | pattern | random | half | blocks | half-left | ... (made "
                             "at 64x64 and scaled to the photo; pattern, random, half and blocks "
                             "are drawn from --seed and each photo's pixels) "
                             "(default: center)")
    parser.add_argument("--blend", choices=BLENDS, default="poisson",
                        help="how the fill meets the known pixels (default: poisson)")
    parser.add_argument("--out", required=True, help="output folder")
    parser.add_argument("--compare", choices=COMPARISONS, default=None,
                        help="also write NAME_telea.png, a classical fill (cv2.inpaint, "
                             "INPAINT_TELEA) at the photo's full resolution, beside the GAN's "
                             "(scored with them under --score)")
    parser.add_argument("--score", action="store_true",
                        help="write metrics.csv and print the hole's PSNR and SSIM against the "
                             "photo as given, whose hole pixels you asked to replace: a "
                             "measurement only when the photo is whole there (you masked a "
                             "whole photo to test the fill), not when removing an object")
    parser.add_argument("--corrupted", action="store_true",
                        help="the inputs already have holes: nothing to score them against "
                             "(the default without --score; refused with it)")
    parser.add_argument("--overwrite", action="store_true",
                        help="replace outputs that already exist (refused otherwise)")
    parser.add_argument("--strict", action="store_true",
                        help=f"exit {FAILED_EXIT} when an input was skipped (unreadable, not a "
                             f"regular file, or not completable), after completing the others")
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
                         f"{', '.join(shipped.SHIPPED_MODELS)}, or its folder) and "
                         "--checkpoint (a checkpoint written by `train`)")
    if args.epoch is not None and args.model is None:
        raise ValueError("--epoch chooses an epoch of --model; a --checkpoint holds one epoch, "
                         "leave --epoch out or pass another checkpoint")


def model_name(model: str) -> tuple[str, str | None]:
    """(registered name, folder or None) for --model: a name of `shipped.SHIPPED_MODELS`, or
    the path of a model's folder (or of a folder holding it)."""
    if model in shipped.SHIPPED_MODELS:
        return model, None
    path = Path(model)
    if not path.is_dir():
        raise ValueError(f"--model {model} is neither a shipped model "
                         f"({', '.join(shipped.SHIPPED_MODELS)}) nor a folder; pass one of "
                         f"those names or the path of the model's folder")
    for name, spec in shipped.SHIPPED_MODELS.items():
        if path.name == spec.folder or (path / spec.folder).is_dir():
            return name, model
    if (path / shipped.SUMS_FILENAME).is_file() and len(shipped.SHIPPED_MODELS) == 1:
        return next(iter(shipped.SHIPPED_MODELS)), model
    raise ValueError(f"--model {model} holds no shipped model: pass the model's folder (named "
                     f"{', '.join(s.folder for s in shipped.SHIPPED_MODELS.values())}) or a "
                     f"folder holding it")


def default_epoch(name: str) -> tuple[int, str]:
    """(generator epoch, why) for --model NAME without --epoch: the epoch the book chose for it,
    from the first choices.yml of `gans.choices_files()`; its last generator epoch when that file
    records no choice for it. Without any choices.yml, a ValueError: never another epoch than the
    book's without saying so."""
    from inpaint.study import gans
    files = [path for path in gans.choices_files() if path.is_file()]
    if not files:
        looked = ", ".join(str(path) for path in gans.choices_files())
        raise ValueError(f"the epoch the book chose for {name} is not known here (no "
                         f"{gans.CHOICES_FILE.name} in {looked}): pass --epoch, or run `inpaint "
                         f"install-model {name} --from <a clone of the repository>`")
    choice = gans.recorded_choice(gans.ShippedGAN(name), files[0])
    if choice is not None:
        return choice["epoch"], f"the epoch chosen in the book ({files[0]})"
    last = max(shipped.shipped_spec(name).generator_epochs)
    return last, f"the last: {files[0]} records no choice for {name}"


def load_reference(name: str, source: str | None, epoch: int | None, device: torch.device):
    """(G, D) of a shipped model, float32, eval mode, on `device`: G of `epoch` (None: see
    `default_epoch`), D of the nearest saved epoch; prints which."""
    if epoch is None:
        epoch, why = default_epoch(name)
    else:
        why = "--epoch"
    d_epoch = shipped.nearest_discriminator_epoch(name, epoch)
    generator = shipped.load_generator(name, epoch, device, source)
    discriminator = shipped.load_discriminator(name, d_epoch, device, source)
    print(f"model {name} ({shipped.locate_shipped(name, source)}): generator of epoch "
          f"{epoch} ({why}); discriminator of epoch {d_epoch}, the nearest saved")
    return generator, discriminator


# ------------------------------------------------------------------------- inputs

@dataclass
class Photos:
    """The photos read from --input: names (see `output_names`), uint8 (H, W, 3) images each at
    its own size, upright, their ICC colour profiles (bytes, or None), the files they were read
    from, and how many files were skipped."""

    names: list[str]
    images: list[np.ndarray]
    profiles: list[bytes | None]
    files: list[Path]
    skipped: int = 0


def printable(name: str) -> str:
    """`name` as text any terminal or UTF-8 file takes: bytes of a file name that are not valid
    UTF-8 (b'caf\\xe9.png', which Python holds as surrogates) as \\xNN escapes ('caf\\\\xe9')."""
    return name.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")


def photo_files(path: Path, mask: Path | None = None) -> tuple[list[Path], int]:
    """(the image files to read, how many were skipped) for --input: the file itself, or the
    regular files of a folder whose suffix is one of PHOTO_SUFFIXES (subfolders are not searched).
    Skipped with a message each: a file of a photo format this Pillow cannot open (PHOTO_FORMATS),
    and folders, named pipes and devices with a photo's suffix (reading a pipe would hang). The
    mask PNG `mask`, when it lies in the folder, is not a photo."""
    if not path.exists():
        raise FileNotFoundError(f"input {path} does not exist; pass an image file or a folder")
    if not path.is_dir():
        if not path.is_file():
            raise ValueError(f"input {path} is not a regular file (a named pipe or a device?); "
                             f"pass an image file or a folder")
        return [path], 0
    files, skipped = [], 0
    for file in sorted(p for p in path.iterdir() if p.suffix.lower() in PHOTO_FORMATS):
        if mask is not None and same_file(file, mask):
            continue
        if file.suffix.lower() not in PHOTO_SUFFIXES:
            print(f"skipping {file}: this installation of Pillow cannot read {file.suffix} "
                  f"files; convert it to JPEG or PNG", file=sys.stderr)
            skipped += 1
        elif file.is_file():
            files.append(file)
        else:
            print(f"skipping {file}: not a regular file (a folder, named pipe or device)",
                  file=sys.stderr)
            skipped += 1
    return files, skipped


def upright(image: Image.Image, name) -> Image.Image:
    """`image` as a viewer shows it: its first frame (with a warning when it has more, e.g. an
    animated GIF or a multi-page TIFF), turned as its EXIF orientation tag says (no tag left)."""
    frames = getattr(image, "n_frames", 1)
    if frames > 1:
        warnings.warn(f"{name} has {frames} frames (animated or multi-page); only the first is "
                      f"used")
    return ImageOps.exif_transpose(image)


def same_file(a: Path, b: Path) -> bool:
    """Whether the paths `a` and `b` name one existing file (through links and `..`)."""
    try:
        return os.path.samefile(a, b)
    except OSError:
        return False


def read_photos(path: Path, mask: Path | None = None) -> Photos:
    """The photos of a file or folder (see `photo_files`), each upright (`upright`).

    Names are the files' stems, or their whole names where two files share a stem, so that no
    two inputs write the same outputs. Unreadable files, and files over PIL's decompression-bomb
    limit, are reported and skipped; transparency is composited on white, with a warning
    (see `inpaint.method.pixels.to_rgb`). An RGB image's ICC profile is kept for its outputs.
    The mask PNG `mask` is not read as a photo.
    """
    files, skipped = photo_files(path, mask)
    read, photos, profiles, transparent = [], [], [], []
    for file in files:
        try:
            with Image.open(file) as image:
                image.load()
                pixels = np.array(to_rgb(upright(image, file)))
                # an RGB image's profile; another mode's would misdescribe the RGB output
                profile = image.info.get("icc_profile") if image.mode in ("RGB", "RGBA") else None
                if has_alpha(image):
                    transparent.append(file.name)
        except (OSError, UnidentifiedImageError, ValueError, Image.DecompressionBombError) as error:
            print(f"skipping unreadable image {file}: {error}", file=sys.stderr)
            skipped += 1
        else:
            read.append(file)
            photos.append(pixels)
            profiles.append(profile)
    if transparent:
        warnings.warn(f"{len(transparent)} image(s) have transparent pixels, composited on white "
                      f"(255, 255, 255) as known pixels: {', '.join(transparent[:5])}"
                      f"{' ...' if len(transparent) > 5 else ''}")
    if not photos:
        raise ValueError(f"no readable image in {path} (looked for {', '.join(PHOTO_SUFFIXES)})")
    return Photos(output_names(read), photos, profiles, read, skipped)




def output_names(files: list[Path]) -> list[str]:
    """Each file's stem, or its whole name where stems repeat; ValueError if names still clash."""
    stems = [file.stem for file in files]
    names = [file.name if stems.count(file.stem) > 1 else file.stem for file in files]
    clashes = sorted({printable(name) for name in names if names.count(name) > 1})
    if clashes:
        raise ValueError(f"several inputs would write the outputs named {clashes}; rename them "
                         f"or complete them into separate --out folders")
    return names


def read_mask_png(path: str | os.PathLike) -> np.ndarray:
    """The mask drawn in a PNG of any size: bool (H, W), True = known (128..255, white), False =
    hole (0..127, black), read like `inpaint.method.masks.from_png` (grey pixels counted in a
    warning), upright as a viewer shows it (its EXIF orientation applied, as the photo's is)."""
    if Path(path).is_dir():
        raise ValueError(not_a_folder(path))
    if not Path(path).is_file():
        raise FileNotFoundError(f"mask {path} does not exist; pass a PNG (white = known, black = "
                                f"hole) or a kind such as center")
    try:
        with warnings.catch_warnings():  # over Pillow's limit but under twice it: the size check
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)  # against the photo
            with Image.open(path) as image:                                   # follows
                grey = np.asarray(to_rgb(ImageOps.exif_transpose(image)).convert("L"))
    except Image.DecompressionBombError:
        raise ValueError(f"the mask PNG {path} has more pixels than Pillow reads (over "
                         f"{2 * Image.MAX_IMAGE_PIXELS}, a decompression bomb?); draw the mask at "
                         f"the photo's size") from None
    except (OSError, UnidentifiedImageError, SyntaxError, ValueError) as error:
        raise ValueError(f"the mask PNG {path} cannot be read ({error}); it is empty, truncated "
                         f"or not an image: save it again as a PNG") from None
    grey_pixels = int(((grey != 0) & (grey != 255)).sum())
    if grey_pixels:
        warnings.warn(f"the mask PNG {path} has {grey_pixels} grey pixel(s), neither black (0) nor "
                      f"white (255); thresholded at 50%: 128 and above known, below 128 hole")
    return grey >= 128


def not_a_folder(kind) -> str:
    return (f"--mask {kind} is a folder; --mask takes a PNG file of the photo's size (white = "
            f"known, black = hole) or a kind such as center")


def mask_png(kind: str) -> Path | None:
    """The mask PNG --mask names, or None for a named kind (center, ...)."""
    return Path(kind) if kind.lower().endswith(".png") else None


def photo_masks(kind: str, photos: list[np.ndarray], seed: int) -> list[np.ndarray]:
    """One bool (H, W) mask per photo, True = known: the PNG `kind` (read once; `check_mask`
    checks its size), or a 64x64 mask of a named kind (see `inpaint.method.masks.make_mask`)
    scaled to each photo's size by nearest neighbour. A seeded kind draws each photo's mask from
    `seed` and the photo's own pixels, so a photo gets the same mask alone or among others."""
    if kind.lower().endswith(".png"):
        return [read_mask_png(kind)] * len(photos)
    masks = []
    for photo in photos:
        own = int.from_bytes(hashlib.sha256(np.ascontiguousarray(photo).tobytes()).digest()[:4],
                             "little")
        try:
            made = make_mask(kind, 1, seed=seed ^ own)[0, 0].numpy() > 0.5
        except ValueError:  # not a kind: a folder given as --mask is said to be one
            if Path(kind).is_dir():
                raise ValueError(not_a_folder(kind)) from None
            raise
        masks.append(np.array(Image.fromarray(made).resize((photo.shape[1], photo.shape[0]),
                                                           Image.NEAREST)))
    return masks


def check_mask(kind: str, name: str, known: np.ndarray, photo: np.ndarray) -> None:
    """ValueError unless the photo is at least MIN_SIDE pixels each way and the mask `known`
    (bool (H, W)) fits it and has both a hole and known pixels."""
    if min(photo.shape[:2]) < MIN_SIDE:
        raise ValueError(f"{name} is {photo.shape[1]}x{photo.shape[0]} pixels, too small to "
                         f"inpaint (an icon?): at least {MIN_SIDE}x{MIN_SIDE} are needed")
    if known.shape != photo.shape[:2]:
        raise ValueError(f"the mask PNG {kind} is {known.shape[1]}x{known.shape[0]} pixels but "
                         f"the image {name} is {photo.shape[1]}x{photo.shape[0]} (upright); draw "
                         f"the mask at the image's size")
    if known.all():
        raise ValueError(f"the mask for {name} has no hole (every pixel is white = known); "
                         f"paint the pixels to fill black")
    if not known.any():
        raise ValueError(f"the mask for {name} has no known pixel (every pixel is black = "
                         f"hole); inpainting needs some known pixels, paint them white")


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

def output_paths(out: Path, names: list[str], with_metrics: bool,
                 compare: str | None = None) -> list[Path]:
    kinds = ("corrupted", "generated", "completed", "blended") + ((compare,) if compare else ())
    paths = [out / f"{name}_{kind}.png" for name in names for kind in kinds]
    return paths + ([out / "metrics.csv"] if with_metrics else [])


def check_apart(out: Path, photos: Path) -> None:
    """Refuse --out being the --input folder, where a later run would read the outputs back as
    photos and outputs could replace photos."""
    if photos.is_dir() and same_file(out, photos):
        raise ValueError(f"--out {out} is the --input folder: outputs would sit among the photos "
                         f"and be read back as photos; choose another --out (a subfolder is "
                         f"fine: subfolders are not searched)")


def check_outputs(out: Path, targets: list[Path], overwrite: bool, read: list[Path]) -> None:
    """Refuse, before any work, to write over a file the run reads (`read`: photos, mask PNG),
    even with `overwrite`, or to overwrite results without it."""
    for target in targets:
        for source in read:
            if same_file(target, source):
                raise ValueError(f"the output {target} would replace the input {source}; "
                                 f"choose another --out or rename the input")
    existing = [p for p in targets if p.exists()]
    if existing and not overwrite:
        raise FileExistsError(f"{len(existing)} output file(s) already exist in {out}, e.g. "
                              f"{printable(existing[0].name)}; choose another --out or pass "
                              f"--overwrite")


@contextlib.contextmanager
def claimed(out: Path, overwrite: bool):
    """Hold --out for this run, before any work: create the folder, then open out/INCOMPLETE and
    lock it (fcntl.flock, released by the kernel however the process ends) and write our pid.

    Another run holding the lock is refused at once ("running (pid N)"); a file INCOMPLETE
    without a lock is an interrupted run, refused unless `overwrite`. Yields a namespace whose
    `writing` the caller sets when it starts writing outputs: a run that fails before that
    leaves --out as it found it; one that fails after leaves INCOMPLETE, unlocked. On success
    INCOMPLETE is removed."""
    created = not out.exists()
    prepare_output(out)
    marker = out / INCOMPLETE
    handle = lock_file(marker, "`complete`")
    previous = lock_text(handle) if handle.tell() else ""  # "a+" opens at the end: its size
    if previous and not overwrite:
        handle.close()
        raise FileExistsError(f"a previous `complete` into {out} was interrupted and left partial "
                              f"outputs ({marker}); pass --overwrite or choose another --out")
    handle.seek(0)
    handle.truncate()
    handle.write(f"{os.getpid()}\npython -m inpaint complete (the pid above) is writing here, or "
                 f"was interrupted: the outputs may be partial; rerun with --overwrite\n")
    handle.flush()
    state = SimpleNamespace(writing=bool(previous))
    try:
        yield state
        marker.unlink()
    except BaseException:
        if not state.writing:
            marker.unlink(missing_ok=True)
            if created and not any(out.iterdir()):
                out.rmdir()
        raise
    finally:
        handle.close()


def png_values(image: torch.Tensor) -> np.ndarray:
    """uint8 (H, W, 3) of a float (3, H, W) image in [-1, 1], as torchvision's save_image(...,
    normalize=True, value_range=(-1, 1)) quantises it (a known pixel comes back unchanged)."""
    scaled = image.detach().float().cpu().clamp(-1, 1).add(1).div(2).mul(255).add(0.5)
    return scaled.clamp(0, 255).permute(1, 2, 0).to(torch.uint8).numpy()


def save_png(image: np.ndarray, path: Path, profile: bytes | None = None) -> None:
    """Write a uint8 (H, W, 3) image as an 8-bit PNG, atomically, with the ICC colour profile
    `profile` when given (no EXIF: the pixels are upright)."""
    with atomic_path(path) as tmp:
        Image.fromarray(image).save(tmp, icc_profile=profile)


def with_fill(photo: np.ndarray, known: np.ndarray, square: Square,
              fill: torch.Tensor) -> np.ndarray:
    """uint8 (H, W, 3): the photo (uint8 (H, W, 3)) with the hole of `known` (bool (H, W)) taken
    from `fill`, float (3, side, side) in [-1, 1], the square's new pixels: every known pixel
    is the photo's, exactly."""
    rows, cols = square.region
    result = photo.copy()
    result[rows, cols] = np.where(known[rows, cols, None], photo[rows, cols], png_values(fill))
    return result


# ------------------------------------------------------------------------- the run

def usable(kind: str, photos: Photos, masks: list[np.ndarray]) -> list[int]:
    """The indices of the photos that can be completed: the mask fits and the square around its
    hole holds known pixels at 64x64. Each other photo is reported in one line and skipped (and
    counted in photos.skipped); ValueError, with the reason, when none is usable."""
    kept, refused = [], []
    for i, (name, photo, known) in enumerate(zip(photos.names, photos.images, masks)):
        try:
            check_mask(kind, printable(name), known, photo)
            square = square_around_hole(known)
            rows, cols = square.region
            _, mask_64 = shrink(torch.zeros(3, square.side, square.side), known[rows, cols],
                                Square(0, 0, square.side))
            if not mask_64.any():
                raise ValueError(f"{printable(name)}: the square around the hole holds no known "
                                 f"pixel once resized to 64x64; use a smaller hole")
        except ValueError as error:
            refused.append((printable(name), str(error)))
        else:
            kept.append(i)
    if not kept:
        raise ValueError(refused[0][1] if len(refused) == 1 else
                         f"no image can be completed; the first: {refused[0][1]}")
    for name, reason in refused:
        print(f"skipping unusable image {name}: {reason}", file=sys.stderr)
    photos.skipped += len(refused)
    return kept


def square_part(photo: np.ndarray, known: np.ndarray, square: Square):
    """(the square of the photo, float (3, side, side) in [-1, 1]; its mask, bool (side, side)):
    only the square is turned to float, never the whole photo."""
    rows, cols = square.region
    return to_tensor(photo[rows, cols][None])[0], known[rows, cols]


def solver_input(photo: np.ndarray, known: np.ndarray, square: Square):
    """What the solver sees of a photo: `shrink`'s (y, mask) of its square, at 64x64. The float
    square is dropped at once, so a batch holds 64x64 images only, whatever the photos' sizes."""
    part, part_known = square_part(photo, known, square)
    return shrink(part, part_known, Square(0, 0, square.side))


def run_complete(args: argparse.Namespace) -> int:
    """The `complete` command; returns its exit code (0, or FAILED_EXIT: see EXIT_CODES)."""
    check_model_flags(args)
    for flag, value in (("--input", args.input), ("--out", args.out), ("--mask", args.mask)):
        if not value.strip():  # Path("") is the current folder: never act on it unasked
            raise ValueError(f"{flag} is empty (an unset shell variable?); pass it a path"
                             f"{' or a kind such as center' if flag == '--mask' else ''}")
    if args.score and args.corrupted:
        raise ValueError("--score measures the fill against the photo's own hole pixels, which "
                         "--corrupted says are not the truth; drop one of them")
    if args.batch_size < 1:
        raise ValueError(f"batch_size must be at least 1, got {args.batch_size}; set "
                         f"--batch-size to 1 or more")
    defaults = MODEL_DEFAULTS if args.model is not None else {}
    config = SolverConfig(**{**defaults, **given(args, SolverConfig)})
    name, source = model_name(args.model) if args.model is not None else (None, None)
    out, mask_file = Path(args.out), mask_png(args.mask)
    check_apart(out, Path(args.input))
    with claimed(out, args.overwrite) as claim:
        photos = read_photos(Path(args.input), mask_file)
        masks = photo_masks(args.mask, photos.images, config.seed)
        kept = usable(args.mask, photos, masks)
        hole = 1 - masks[kept[0]].mean()
        if mask_file and hole > INVERTED:  # OpenCV's and LaMa's masks are white where to fill
            print(f"warning: the mask {args.mask} makes {hole:.0%} of the photo a hole: it may be "
                  f"inverted (here white = keep, black = fill)", file=sys.stderr)
        names = [photos.names[i] for i in kept]
        check_outputs(out, output_paths(out, names, with_metrics=args.score,
                                        compare=args.compare),
                      args.overwrite, photos.files + ([mask_file] if mask_file else []))
        device = pick_device()
        if args.checkpoint is not None:
            generator, discriminator = load_models(args.checkpoint, device)
        else:
            generator, discriminator = load_reference(name, source, args.epoch, device)
        claim.writing = True
        squares = {i: square_around_hole(masks[i]) for i in kept}
        for i in kept:
            if photos.images[i].shape[:2] != (IMAGE_SIZE, IMAGE_SIZE):
                print(describe(printable(photos.names[i]), photos.images[i], masks[i],
                               squares[i], args.blend))
            if squares[i].side > BLURRED * IMAGE_SIZE:
                print(f"warning: {printable(photos.names[i])}: the hole's square is "
                      f"{squares[i].side} px: the 64x64 fill is scaled up "
                      f"{squares[i].side / IMAGE_SIZE:.0f}x and will look blurred; --compare "
                      f"telea gives a classical fill beside it", file=sys.stderr)
        rows, failed = [], []
        for start in range(0, len(kept), args.batch_size):
            batch = kept[start:start + args.batch_size]
            inputs = [solver_input(photos.images[i], masks[i], squares[i]) for i in batch]
            y = torch.stack([y for y, _ in inputs])
            m = torch.stack([m for _, m in inputs])
            result = complete(generator, discriminator, y, m, config)
            for k, i in enumerate(batch):
                generated = result.generated[k].cpu()
                finite = torch.isfinite(result.loss[k]) and torch.isfinite(generated).all()
                if not finite or saturated(generated[None])[0]:
                    why = "G(z) not finite" if not finite else "G(z) saturated to black and white"
                    print(f"failed {printable(photos.names[i])}: the solver diverged (loss "
                          f"{float(result.loss[k])}, {why}); nothing written for it: "
                          f"lower --lr or --lam", file=sys.stderr)
                    failed.append(photos.names[i])
                    continue
                written = write_outputs(out, photos, i, masks[i], squares[i], generated,
                                        args)
                rows += [{**row, "loss": float(result.loss[k])} for row in written]
        if rows:
            metrics = pd.DataFrame(rows)
            with atomic_path(out / "metrics.csv") as tmp:
                metrics.to_csv(tmp, index=False)
            print("mean scores of the hole against the photo as given, whose hole pixels you "
                  "asked to replace (a measurement only if the photo is whole there):")
            print(metrics.groupby("output")[["psnr_hole", "ssim_hole", "l1_hole"]].mean().round(3))
    print(f"{len(names) - len(failed)} image(s) completed into {out}")
    if failed:
        print(f"error: {len(failed)} image(s) failed (the solver diverged): "
              f"{', '.join(printable(n) for n in failed[:5])}; lower --lr or --lam",
              file=sys.stderr)
        return FAILED_EXIT
    if photos.skipped and args.strict:
        print(f"error: {photos.skipped} input(s) skipped (see above) and --strict was given",
              file=sys.stderr)
        return FAILED_EXIT
    return 0


def write_outputs(out: Path, photos: Photos, i: int, known: np.ndarray, square: Square,
                  generated: torch.Tensor, args: argparse.Namespace) -> list[dict]:
    """Write photo i's four PNGs (with its ICC profile); returns its metrics rows (none
    without --score), the image named as `printable` writes it. The float square lives only while
    the fill is put back: the scores are taken on the uint8 images."""
    photo, name, profile = photos.images[i], photos.names[i], photos.profiles[i]
    part, part_known = square_part(photo, known, square)
    completed_part, blended_part = put_back(part, part_known, Square(0, 0, square.side),
                                            generated, args.blend)
    del part
    completed = with_fill(photo, known, square, completed_part)
    del completed_part
    blended = with_fill(photo, known, square, blended_part)
    del blended_part
    corrupted = photo.copy()
    corrupted[~known] = png_values(torch.zeros(3, 1, 1))[0, 0]  # the hole in grey (128)
    fills = [("completed", completed), ("blended", blended)]
    if args.compare == "telea":
        fills.append(("telea", telea_photo(photo, known)))
    for kind, image in (("corrupted", corrupted), ("generated", png_values(generated)), *fills):
        save_png(image, out / f"{name}_{kind}.png", profile)
    if not args.score:
        return []
    return [{**scores(image, photo, known, square), "image": printable(name), "output": kind}
            for kind, image in fills]

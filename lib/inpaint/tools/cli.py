"""Command line: `inpaint train|bench|data|complete|install-model|study|references ...`
(also `python -m inpaint ...`; see `--help` of each)."""
from __future__ import annotations

import argparse
import json
import sys
from dataclasses import Field

from inpaint import __version__
from inpaint.study.profiles import PROFILES, get_profile, train_config
from inpaint.tools.flags import add_config_flags, given
from inpaint.training.config import TrainConfig

PROFILE_HELP = ("the named settings the other flags override (lib/inpaint/study/profiles.py; "
                "default: cpu)")


def profile_values(field: Field) -> str:
    """What a TrainConfig field's flag defaults to: "default: the profile's: ci 8, cpu 32,
    full 64", or "default: 0 in every profile"."""
    values = {name: "not set" if value is None else value for name, value in
              ((name, getattr(profile.train, field.name)) for name, profile in PROFILES.items())}
    if len(set(values.values())) == 1:
        return f"default: {next(iter(values.values()))} in every profile"
    return "default: the profile's: " + ", ".join(f"{k} {v}" for k, v in values.items())


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="inpaint", description=__doc__)
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    commands = parser.add_subparsers(dest="command", required=True)

    train = commands.add_parser("train", help="train a DCGAN, checkpointing every few epochs")
    train.add_argument("--profile", choices=sorted(PROFILES), default="cpu", help=PROFILE_HELP)
    train.add_argument("--out", required=True, help="run directory (checkpoints, log, samples)")
    train.add_argument("--resume", action="store_true", help="continue from the last checkpoint")
    train.add_argument("--accept-changes", action="store_true",
                       help="with --resume: continue although settings or the training images "
                            "differ from the run's (refused otherwise); what changed is appended "
                            "to the run's CHANGES file")
    train.add_argument("--data", default=None, help="explicit archive or image folder")
    add_config_flags(train, TrainConfig, profile_values)

    bench = commands.add_parser("bench", help="speed of training and of the solver beside "
                                              "plain float32 references, in one table")
    bench.add_argument("--profile", choices=sorted(PROFILES), default="cpu")
    bench.add_argument("--steps", type=int, default=20, help="training steps per timing")
    bench.add_argument("--solver-iters", type=int, default=40, help="solver iterations per timing")
    bench.add_argument("--rounds", type=int, default=3,
                       help="timings of each side of a row, alternated; the best is kept")
    bench.add_argument("--solver", metavar="CHECKPOINT", default=None,
                       help="instead: the batched multi-start solver against one image at a "
                            "time, with this checkpoint")
    bench.add_argument("--precision-check", action="store_true",
                       help="instead: the solver in bf16 against fp32 with the full-scale "
                            "reference model (hole PSNR, known pixels)")
    add_config_flags(bench, TrainConfig, profile_values)

    data = commands.add_parser("data", help="locate, verify, decode and cache a dataset split")
    data.add_argument("--profile", choices=sorted(PROFILES), default="cpu", help=PROFILE_HELP)
    data.add_argument("--data", default=None, help="explicit archive or image folder")
    add_config_flags(data, TrainConfig, profile_values)

    study = commands.add_parser("study", help="data, training, notebooks and book for a profile")
    study.add_argument("--profile", choices=sorted(PROFILES), default="cpu")
    study.add_argument("--force-notebooks", action="store_true",
                       help="re-execute every notebook even if its inputs did not change")
    study.add_argument("--long", nargs="*", metavar="CHAPTER", default=None,
                       help="also the chapters too long for the default study: those named "
                            "(07_beyond_yeh for `make beyond`, 08_faces for `make faces`), or "
                            "all of them when none is named")
    commands.add_parser("references", help="refresh the nbval reference notebooks (ci profile)")

    install = commands.add_parser(
        "install-model", help="copy a shipped model and the book's chosen epochs into the user's "
                              "cache, for an install of the library outside the repository")
    install.add_argument("name", help="the shipped model (tiny-imagenet-full)")
    install.add_argument("--from", dest="source", required=True, metavar="CLONE_OR_URL",
                         help="a clone of the repository, or the URL its raw files are served "
                              "from; every file is checked against the registry's checksums")

    from inpaint.tools.photos import add_complete_parser
    add_complete_parser(commands)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return run(args)
    except (FileNotFoundError, FileExistsError, ValueError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    except OSError as error:  # a failed write (a full disk): one line naming the file and the fix
        from inpaint.files import WriteError, write_error
        print(f"error: {error}" if isinstance(error, WriteError) else
              f"error: {write_error(error.filename or getattr(args, 'out', '?'), error)}",
              file=sys.stderr)
        return 1
    except RuntimeError as error:  # a failed notebook or book build: already explained
        print(f"error: {error}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print(f"interrupted; {INTERRUPTED.get(args.command, 'rerun the command')}", file=sys.stderr)
        return 130


# What an interrupted command leaves, and how to go on (Ctrl-C exits 130 with this one line).
INTERRUPTED = {
    "train": "rerun with --resume (and the same --out) to continue from the last checkpoint",
    "complete": "--out may hold partial outputs: rerun with --overwrite",
}


def run(args: argparse.Namespace) -> int:
    """Run a command; the profile named by --profile is looked up here, once, and passed down."""
    # `references` always uses ci: the nbval references are the ci profile's notebooks
    profile = "ci" if args.command == "references" else getattr(args, "profile", "cpu")
    settings = get_profile(profile)
    if args.command == "train":
        from inpaint.training.train import train
        config = train_config(settings, **given(args, TrainConfig))
        print(f"training profile {args.profile}: {config}")
        if args.accept_changes and not args.resume:
            raise ValueError("--accept-changes applies to --resume; add --resume or drop it")
        out = train(config, args.out, resume=args.resume, source=args.data,
                    accept_changes=args.accept_changes)
        print(f"checkpoints, log and samples in {out}")
    elif args.command == "bench":
        from inpaint.tools import bench
        from inpaint.method.checks import check_count
        for name in ("steps", "solver_iters", "rounds"):
            check_count(name, getattr(args, name))
        if args.solver:
            print(json.dumps(bench.solver_speed(args.solver), indent=2))
        elif args.precision_check:
            print(json.dumps(bench.precision_check(), indent=2))
        else:
            from inpaint.tools.pages import write_bench_page
            config = train_config(settings, **given(args, TrainConfig))
            print(f"{bench.describe_machine()}; profile {args.profile}")
            rows = bench.table(config, steps=args.steps, solver_iters=args.solver_iters,
                               rounds=args.rounds)
            print(bench.markdown(rows))
            print(f"written to {write_bench_page(settings, rows)}")
    elif args.command == "data":
        from inpaint.training.train import training_images
        config = train_config(settings, **given(args, TrainConfig))
        images = training_images(config, source=args.data)
        print(f"{len(images)} training images ready, shape {images.shape}")
    elif args.command == "study":
        from inpaint.tools.pipeline import run_study
        run_study(settings, force_notebooks=args.force_notebooks,
                  long=True if args.long == [] else args.long)
    elif args.command == "references":
        from inpaint.tools.pipeline import refresh_references
        refresh_references(settings)
    elif args.command == "complete":
        from inpaint.tools.photos import run_complete
        return run_complete(args)
    elif args.command == "install-model":
        from inpaint.study.gans import install_choices
        from inpaint.training.shipped import install_shipped
        print(f"model {args.name} installed in {install_shipped(args.name, args.source)}")
        print(f"the book's chosen epochs in {install_choices(args.source)}")
    return 0

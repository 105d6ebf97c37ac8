"""`python -m inpaint complete|train`: outputs, metrics, and clear errors on bad input."""
from __future__ import annotations

import subprocess
import sys
from dataclasses import fields

import numpy as np
import pandas as pd
import pytest
from PIL import Image

from inpaint import __version__
from inpaint.method.solver import SolverConfig
from inpaint.tools.cli import build_parser, main
from inpaint.training.config import TrainConfig

FAST = ["--iters", "3", "--restarts", "1"]


def complete(checkpoint, images, out, *extra):
    return main(["complete", "--checkpoint", checkpoint, "--input", str(images),
                 "--out", str(out), *FAST, *extra])


def test_complete_writes_images_and_metrics(checkpoint, images, tmp_path):
    assert complete(checkpoint, images, tmp_path / "out", "--mask", "random", "--score") == 0
    written = sorted(p.name for p in (tmp_path / "out").iterdir())
    assert len(written) == 3 * 4 + 1 and "metrics.csv" in written
    metrics = pd.read_csv(tmp_path / "out" / "metrics.csv")
    assert set(metrics.output) == {"completed", "blended"} and len(metrics) == 6
    corrupted = np.asarray(Image.open(next((tmp_path / "out").glob("*_corrupted.png"))))
    assert corrupted.shape == (64, 64, 3)


def test_existing_outputs_are_not_overwritten(checkpoint, images, tmp_path, capsys):
    out = tmp_path / "out"
    assert complete(checkpoint, images, out, "--score") == 0
    before = (out / "metrics.csv").read_bytes()
    assert complete(checkpoint, images, out, "--lam", "0.1", "--score") == 2
    assert "already exist" in capsys.readouterr().err
    assert (out / "metrics.csv").read_bytes() == before
    assert complete(checkpoint, images, out, "--overwrite") == 0


def test_unreadable_files_are_skipped_and_other_sizes_kept(checkpoint, images, tmp_path,
                                                            capsys):
    (images / "broken.jpg").write_bytes(b"not an image")
    Image.new("RGB", (128, 96), (200, 10, 10)).save(images / "large.png")
    assert complete(checkpoint, images, tmp_path / "out") == 0
    captured = capsys.readouterr()
    assert "skipping unreadable image" in captured.err
    assert "large: 128x96 image, hole within 64x48 pixels" in captured.out
    assert Image.open(tmp_path / "out" / "large_blended.png").size == (128, 96)
    assert not (tmp_path / "out" / "broken_blended.png").exists()


@pytest.mark.parametrize("problem,message", [
    ("checkpoint", "does not exist"), ("input", "does not exist"),
    ("mask-size", "draw the mask at the image's size"), ("mask-empty", "no hole"), ("mask-kind", "unknown mask kind"),
])
def test_bad_input_gives_a_clear_error(checkpoint, images, tmp_path, capsys, problem, message):
    args = {"checkpoint": checkpoint, "input": str(images), "mask": "center"}
    if problem == "checkpoint":
        args["checkpoint"] = str(tmp_path / "missing.pt")
    elif problem == "input":
        args["input"] = str(tmp_path / "nothing")
    elif problem == "mask-size":
        Image.new("L", (32, 32), 0).save(tmp_path / "small.png")
        args["mask"] = str(tmp_path / "small.png")
    elif problem == "mask-empty":
        Image.new("L", (64, 64), 255).save(tmp_path / "full.png")
        args["mask"] = str(tmp_path / "full.png")
    else:
        args["mask"] = "triangle"
    code = main(["complete", "--checkpoint", args["checkpoint"], "--input", args["input"],
                 "--mask", args["mask"], "--out", str(tmp_path / "out"), *FAST])
    assert code == 2
    assert message in capsys.readouterr().err
    assert not (tmp_path / "out").exists() or not any((tmp_path / "out").iterdir())


def test_train_cli_refuses_to_overwrite_a_run(ci_run, capsys):
    assert main(["train", "--profile", "ci", "--out", str(ci_run)]) == 2
    assert "--resume" in capsys.readouterr().err


def test_every_flag_has_help_and_solver_flags_state_their_dataclass_default():
    commands = build_parser()._subparsers._group_actions[0].choices
    for name in ("train", "data", "complete"):
        for action in commands[name]._actions:
            assert action.help, f"{name} {action.option_strings} has no help"
    complete_flags = {a.dest: a.help for a in commands["complete"]._actions}
    for field in fields(SolverConfig):
        assert complete_flags[field.name].startswith(field.metadata["help"])
        assert f"(default: {field.default}" in complete_flags[field.name]
    train_flags = {a.dest: a.help for a in commands["train"]._actions}
    for field in fields(TrainConfig):
        assert train_flags[field.name].startswith(field.metadata["help"])
    assert "--model tiny-imagenet-full --input photo.jpg" in commands["complete"].format_help()


def test_the_ensemble_from_the_command_line_never_reads_hidden_pixels(checkpoint, images,
                                                                       tmp_path):
    """`complete --combine mean`: repaint the hole of every input and the outputs stay the same
    bytes (inputs re-saved as PNG, so the known pixels are exactly the same in both runs)."""
    first, second = tmp_path / "first", tmp_path / "second"
    first.mkdir(), second.mkdir()
    rng = np.random.default_rng(0)
    for path in sorted(images.iterdir()):
        pixels = np.asarray(Image.open(path).convert("RGB")).copy()
        Image.fromarray(pixels).save(first / f"{path.stem}.png")
        pixels[16:48, 16:48] = rng.integers(0, 256, (32, 32, 3), dtype=np.uint8)
        Image.fromarray(pixels).save(second / f"{path.stem}.png")
    options = ["--combine", "mean", "--restarts", "3", "--iters", "3"]
    for folder in (first, second):
        assert main(["complete", "--checkpoint", checkpoint, "--input", str(folder),
                     "--out", str(tmp_path / f"out_{folder.name}"), *options]) == 0
    blended = sorted((tmp_path / "out_first").glob("*_blended.png"))
    assert blended
    for path in blended:
        assert (np.asarray(Image.open(path)) ==
                np.asarray(Image.open(tmp_path / "out_second" / path.name))).all()


# The packages of the `study` extra (pyproject.toml): `pip install .` without it must still give
# the method and the command line.
STUDY_ONLY = ("matplotlib", "seaborn", "tabulate", "jupyter_book", "papermill", "nbformat",
              "nbclient", "ipykernel", "sphinx", "IPython")


def test_the_command_line_needs_nothing_of_the_study_extra(checkpoint, images, tmp_path):
    """`inpaint --version`, `install-model --help` and a whole `complete` run with every package
    of the study extra made unimportable."""
    block = "import sys\n" + "".join(f"sys.modules[{name!r}] = None\n" for name in STUDY_ONLY)
    for argv in (["--version"], ["install-model", "--help"],
                 ["complete", "--checkpoint", str(checkpoint), "--input", str(images), "--out",
                  str(tmp_path / "out"), *FAST, "--score"]):
        run = subprocess.run([sys.executable, "-c", block + "from inpaint.tools.cli import main\n"
                              f"raise SystemExit(main({argv!r}))"],
                             capture_output=True, text=True, timeout=300)
        assert run.returncode == 0, run.stderr[-2000:]
    assert (tmp_path / "out" / "metrics.csv").is_file()


def test_version_names_the_installed_package(capsys):
    with pytest.raises(SystemExit) as exit_:
        main(["--version"])
    assert exit_.value.code == 0 and capsys.readouterr().out.strip() == f"inpaint {__version__}"
    assert __version__[0].isdigit()


def test_scores_are_only_given_with_score_and_say_what_they_compare(checkpoint, images, tmp_path,
                                                                    capsys):
    assert complete(checkpoint, images, tmp_path / "plain") == 0
    assert not (tmp_path / "plain" / "metrics.csv").exists()  # removing a clock: no score of it
    assert "psnr_hole" not in capsys.readouterr().out
    assert complete(checkpoint, images, tmp_path / "scored", "--score") == 0
    assert ("mean scores of the hole against the photo as given, whose hole pixels you asked to "
            "replace") in capsys.readouterr().out
    assert len(pd.read_csv(tmp_path / "scored" / "metrics.csv")) == 6
    assert complete(checkpoint, images, tmp_path / "both", "--score", "--corrupted") == 2
    assert "drop one of them" in capsys.readouterr().err

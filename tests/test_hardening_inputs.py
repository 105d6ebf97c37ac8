"""Hardening, round 2, item 7: the smaller input and run problems of `complete` (and Ctrl-C of
`train`), each fixed or stated in --help."""
from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from PIL import Image, ImageCms, features

import inpaint

from inpaint.data.cache import SAMPLE_DIR
from inpaint.tools import photos as complete_module
from inpaint.tools.cli import build_parser, main
from inpaint.training import train as train_module

FAST = ["--iters", "3", "--restarts", "1"]
SAMPLE_JPEGS = sorted((SAMPLE_DIR / "val").glob("*.JPEG"))


def complete(checkpoint, images, out, *extra):
    return main(["complete", "--checkpoint", checkpoint, "--input", str(images),
                 "--out", str(out), *FAST, *extra])


def help_text() -> str:
    parser = build_parser()
    commands = next(a for a in parser._subparsers._actions if a.choices)
    return commands.choices["complete"].format_help()


def test_7_tif_and_gif_in_a_folder_are_read_as_a_single_file_is(checkpoint, tmp_path):
    folder = tmp_path / "in"
    folder.mkdir()
    Image.open(SAMPLE_JPEGS[0]).save(folder / "a.tif")
    Image.open(SAMPLE_JPEGS[1]).save(folder / "b.gif")
    assert complete(checkpoint, folder, tmp_path / "out", "--score") == 0
    assert sorted(pd.read_csv(tmp_path / "out" / "metrics.csv").image.unique()) == ["a", "b"]


def test_a_folder_reads_avif_as_a_single_file_does_and_names_a_format_pillow_cannot_open(
        checkpoint, tmp_path, capsys):
    """An .avif photo in a folder is completed, as one given alone is; a .heic one, which this
    Pillow cannot open without a plugin, is named in one line (and counts as skipped)."""
    if not features.check("avif"):
        pytest.skip("this Pillow build has no AVIF codec")
    folder = tmp_path / "in"
    folder.mkdir()
    Image.open(next((SAMPLE_DIR / "val").glob("*.JPEG"))).save(folder / "photo.avif")
    (folder / "phone.heic").write_bytes(b"\x00\x00\x00\x18ftypheic" + bytes(64))
    assert main(["complete", "--checkpoint", checkpoint, "--input", str(folder), "--out",
                 str(tmp_path / "out"), "--iters", "3", "--strict"]) == 3  # heic skipped
    assert (tmp_path / "out" / "photo_completed.png").is_file()
    err = capsys.readouterr().err
    assert "phone.heic: this installation of Pillow cannot read .heic files" in err


def test_7_an_animated_gif_uses_its_first_frame_with_a_one_line_warning(checkpoint, tmp_path):
    frames = [Image.open(p).convert("RGB") for p in SAMPLE_JPEGS[:2]]
    frames[0].save(tmp_path / "moving.gif", save_all=True, append_images=frames[1:])
    with pytest.warns(UserWarning, match=r"moving.gif has 2 frames .*only the first is used"):
        assert complete(checkpoint, tmp_path / "moving.gif", tmp_path / "out") == 0
    first = np.asarray(Image.open(tmp_path / "moving.gif").convert("RGB"))
    corrupted = np.asarray(Image.open(tmp_path / "out" / "moving_corrupted.png"))
    known = corrupted != 128
    np.testing.assert_array_equal(corrupted[known.all(-1)], first[known.all(-1)])


def test_7_subfolders_are_not_searched_and_help_says_so(checkpoint, images, tmp_path):
    (images / "more").mkdir()
    shutil.copy(SAMPLE_JPEGS[5], images / "more" / "deep.jpg")
    assert complete(checkpoint, images, tmp_path / "out", "--score") == 0
    assert "deep" not in set(pd.read_csv(tmp_path / "out" / "metrics.csv").image)
    assert "subfolders are not searched" in " ".join(help_text().split())


def test_7_an_unusable_photo_is_skipped_like_an_unreadable_one_and_strict_exits_3(
        checkpoint, images, tmp_path, capsys):
    Image.new("RGB", (1, 1), (9, 9, 9)).save(images / "dot.png")
    Image.new("RGB", (400, 40), (9, 90, 9)).save(images / "panorama.png")  # hole 100 > 40
    assert complete(checkpoint, images, tmp_path / "out", "--score") == 0
    err = capsys.readouterr().err
    assert "skipping unusable image dot: dot is 1x1 pixels, too small to inpaint" in err
    assert "skipping unusable image panorama: the hole spans 200x20" in err
    assert len(pd.read_csv(tmp_path / "out" / "metrics.csv").image.unique()) == 3
    assert complete(checkpoint, images, tmp_path / "strict", "--strict", "--score") == 3
    assert "2 input(s) skipped" in capsys.readouterr().err
    assert len(pd.read_csv(tmp_path / "strict" / "metrics.csv").image.unique()) == 3
    assert "--strict" in help_text() and "exit codes" in help_text()


def test_7_ctrl_c_is_one_line_and_exit_130(checkpoint, images, tmp_path, capsys, monkeypatch):
    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(complete_module, "complete", interrupted)
    assert complete(checkpoint, images, tmp_path / "out") == 130
    assert capsys.readouterr().err.strip() == ("interrupted; --out may hold partial outputs: "
                                               "rerun with --overwrite")
    monkeypatch.setattr(train_module, "train_epoch", interrupted)
    assert main(["train", "--profile", "ci", "--out", str(tmp_path / "run")]) == 130
    assert capsys.readouterr().err.strip().endswith(
        "interrupted; rerun with --resume (and the same --out) to continue from the last "
        "checkpoint")


def test_7_a_named_pipe_called_x_png_is_skipped_not_read(checkpoint, images, tmp_path, capsys):
    os.mkfifo(images / "x.png")

    def hung(*args):
        raise AssertionError("the run hangs on the named pipe")

    signal.signal(signal.SIGALRM, hung)
    signal.alarm(60)
    try:
        assert complete(checkpoint, images, tmp_path / "out", "--score") == 0
    finally:
        signal.alarm(0)
    assert "x.png: not a regular file" in capsys.readouterr().err
    assert len(pd.read_csv(tmp_path / "out" / "metrics.csv").image.unique()) == 3


def test_7_the_icc_colour_profile_is_kept_in_the_outputs(checkpoint, tmp_path):
    profile = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    Image.open(SAMPLE_JPEGS[0]).save(tmp_path / "tagged.jpg", quality=95, icc_profile=profile)
    assert complete(checkpoint, tmp_path / "tagged.jpg", tmp_path / "out") == 0
    for kind in ("corrupted", "generated", "completed", "blended"):
        with Image.open(tmp_path / "out" / f"tagged_{kind}.png") as written:
            assert written.info.get("icc_profile") == profile


# Runs the command given and prints its peak RSS. A process's peak counts the memory of the
# process it was forked from (Linux keeps the high-water mark across exec), so the command runs
# as a child of this small interpreter, not of pytest.
MEASURED = """
import resource, subprocess, sys
code = subprocess.run(sys.argv[1:]).returncode
print("peak_kib", resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)
sys.exit(code)
"""


def test_7_a_12_megapixel_photo_with_a_small_hole_takes_under_1_5_gb(checkpoint, tmp_path):
    height, width = 3000, 4000
    rows, cols = np.mgrid[0:height, 0:width]
    photo = np.stack([rows * 255 // height, cols * 255 // width, (rows + cols) % 256], -1)
    Image.fromarray(photo.astype(np.uint8)).save(tmp_path / "big.jpg", quality=90)
    mask = np.full((height, width), 255, np.uint8)
    mask[1500:1580, 2000:2100] = 0  # 100x80 hole
    Image.fromarray(mask).save(tmp_path / "mask.png")
    env = {**os.environ, "PYTHONPATH": str(Path(inpaint.__file__).parents[1])}
    result = subprocess.run(
        [sys.executable, "-c", MEASURED, sys.executable, "-m", "inpaint", "complete",
         "--checkpoint", checkpoint, "--input", str(tmp_path / "big.jpg"),
         "--mask", str(tmp_path / "mask.png"), "--out", str(tmp_path / "out"),
         "--iters", "2", "--restarts", "1", "--score"],
        env=env, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-2000:]
    peak_gib = int(result.stdout.split("peak_kib")[1].split()[0]) / 2 ** 20
    assert peak_gib < 1.5, f"peak RSS {peak_gib:.2f} GiB"
    completed = np.asarray(Image.open(tmp_path / "out" / "big_completed.png"))
    known = mask == 255
    expected = np.asarray(Image.open(tmp_path / "big.jpg"))
    assert np.array_equal(completed[known], expected[known])
    metrics = pd.read_csv(tmp_path / "out" / "metrics.csv")
    assert (metrics.ssim_full > 0.99).all() and (metrics.psnr_full > metrics.psnr_hole).all()


# Hardening, round 3 (issue 37)

def test_a_photo_smaller_than_7x7_is_skipped_while_the_others_are_scored(checkpoint, images,
                                                                       tmp_path, capsys):
    Image.new("RGB", (5, 5), (200, 30, 30)).save(images / "icon.png")
    assert complete(checkpoint, images, tmp_path / "out", "--score") == 0
    err = capsys.readouterr().err
    assert ("skipping unusable image icon: icon is 5x5 pixels, too small to inpaint (an icon?): "
            "at least 7x7 are needed") in err
    assert len(pd.read_csv(tmp_path / "out" / "metrics.csv").image.unique()) == 3
    assert not (tmp_path / "out" / "INCOMPLETE").exists()


@pytest.mark.parametrize("flag", ["--input", "--out", "--mask"])
def test_an_empty_path_flag_is_refused_not_taken_for_the_current_folder(checkpoint, images,
                                                                       tmp_path, capsys,
                                                                       monkeypatch, flag):
    monkeypatch.chdir(tmp_path)
    values = {"--input": str(images), "--out": str(tmp_path / "out"), "--mask": "center", flag: ""}
    assert main(["complete", "--checkpoint", checkpoint, *FAST,
                 *(item for pair in values.items() for item in pair)]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith(f"error: {flag} is empty (an unset shell variable?)") and "\n" not in err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in"]


def mask_refused(checkpoint, images, tmp_path, capsys, mask) -> str:
    """The one error line of `complete` with --mask `mask`, checked to exit 2 and write nothing."""
    assert complete(checkpoint, images, tmp_path / "out", "--mask", str(mask)) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("error: ") and "\n" not in err, err
    assert not (tmp_path / "out").exists()
    return err


def test_an_empty_or_truncated_mask_png_is_a_bad_input_not_a_failed_write(checkpoint, images,
                                                                         tmp_path, capsys):
    whole = tmp_path / "whole.png"
    Image.new("L", (64, 64), 255).save(whole)
    (tmp_path / "empty.png").write_bytes(b"")
    (tmp_path / "truncated.png").write_bytes(whole.read_bytes()[:60])
    for name in ("empty.png", "truncated.png"):
        err = mask_refused(checkpoint, images, tmp_path, capsys, tmp_path / name)
        assert f"error: the mask PNG {tmp_path / name} cannot be read" in err
        assert "empty, truncated or not an image" in err


@pytest.mark.parametrize("name", ["masks", "masks.png"])
def test_a_folder_given_as_mask_is_said_to_be_a_folder(checkpoint, images, tmp_path, capsys,
                                                        name):
    (tmp_path / name).mkdir()
    err = mask_refused(checkpoint, images, tmp_path, capsys, tmp_path / name)
    assert err == (f"error: --mask {tmp_path / name} is a folder; --mask takes a PNG file of the "
                   f"photo's size (white = known, black = hole) or a kind such as center")


def test_a_mask_over_pillows_pixel_limit_is_one_line(checkpoint, images, tmp_path, capsys,
                                                     monkeypatch):
    Image.new("L", (101, 101), 255).save(tmp_path / "big.png")
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 5000)  # the 64x64 photos under it, the mask
    err = mask_refused(checkpoint, images, tmp_path, capsys, tmp_path / "big.png")  # over twice
    assert "has more pixels than Pillow reads (over 10000, a decompression bomb?)" in err


def test_an_inverted_mask_png_is_warned_about_not_refused(checkpoint, images, tmp_path, capsys):
    hole = np.full((64, 64), 255, np.uint8)
    hole[16:48, 16:48] = 0  # a quarter: black = fill, as this project draws masks
    Image.fromarray(hole).save(tmp_path / "mask.png")
    Image.fromarray(255 - hole).save(tmp_path / "inverted.png")  # OpenCV's, LaMa's: white = fill
    assert complete(checkpoint, images, tmp_path / "out", "--mask", str(tmp_path / "mask.png")) == 0
    assert "inverted" not in capsys.readouterr().err
    assert complete(checkpoint, images, tmp_path / "inv", "--mask",
                    str(tmp_path / "inverted.png")) == 0
    assert (f"warning: the mask {tmp_path / 'inverted.png'} makes 75% of the photo a hole: it may "
            f"be inverted (here white = keep, black = fill)") in capsys.readouterr().err
    assert len(list((tmp_path / "inv").glob("*_blended.png"))) == 3  # completed all the same

"""`complete --model`: the shipped weights without training, and photos larger than 64x64
completed around the hole and put back at full resolution.

A width-8 fake reference model (made as in test_reference.py) stands in for the shipped one, so
these tests need no ../shared; a real 224x224 MSCOCO photo (committed, data/sample/coco/) with the
real full-scale model runs when the shipped weights are found and is skipped otherwise.
"""
from __future__ import annotations

import io

import cv2
import numpy as np
import pandas as pd
import pytest
import torch
from PIL import Image

from inpaint.data.decoding import list_members
from inpaint.data.registry import SAMPLE_DIR
from inpaint.files import PROJECT_ROOT
from inpaint.method.baselines import telea_photo
from inpaint.method.blend import poisson
from inpaint.method.masks import center
from inpaint.method.solver import SolverConfig
from inpaint.study import gans
from inpaint.tools import photos as complete_module
from inpaint.tools.cli import main
from inpaint.method.geometry import Square, put_back, shrink, square_around_hole
from inpaint.tools.photos import MODEL_DEFAULTS
from inpaint.training import shipped
from inpaint.training.checkpoints import checkpoints
from test_reference import FAKE, make_fake_reference

FAST = ["--iters", "3"]


def error_line(capsys) -> str:
    """The CLI's stderr, checked to be one `error: ...` line (no traceback)."""
    err = capsys.readouterr().err.strip()
    assert err.startswith("error: ") and "\n" not in err, err
    return err


@pytest.fixture
def fake_model(tmp_path, monkeypatch):
    """The fake model (G at epochs 5 and 10, D at 10) in a folder that INPAINT_MODELS points to,
    a choices file that chooses nothing, and an empty user cache; returns the model's folder."""
    monkeypatch.setitem(shipped.SHIPPED_MODELS, FAKE.name, FAKE)
    make_fake_reference(tmp_path / "models" / FAKE.folder)
    monkeypatch.setenv(shipped.MODELS_ENV, str(tmp_path / "models"))
    monkeypatch.setattr(gans, "CHOICES_FILE", tmp_path / "choices.yml")
    monkeypatch.setattr(shipped, "user_models_dir", lambda: tmp_path / "cache" / "models")
    gans.CHOICES_FILE.write_text("# no choice recorded\n")
    return tmp_path / "models" / FAKE.folder


@pytest.fixture
def solver_configs(monkeypatch):
    """The SolverConfig of every solve the CLI runs, in order."""
    seen, solve = [], complete_module.complete

    def recording(generator, discriminator, y, mask, config):
        seen.append(config)
        return solve(generator, discriminator, y, mask, config, progress=False)

    monkeypatch.setattr(complete_module, "complete", recording)
    return seen


def photo_and_mask(folder, size=(200, 150), hole=(40, 90, 60, 120)):
    """A smooth synthetic photo of `size` (width, height) and its PNG mask, black in the box
    (top, bottom, left, right); returns (photo path, mask path, photo array, known array)."""
    width, height = size
    rows, cols = np.mgrid[0:height, 0:width]
    photo = np.stack([rows * 255 // height, cols * 255 // width, (rows + cols) % 256], -1)
    photo = photo.astype(np.uint8)
    known = np.ones((height, width), bool)
    top, bottom, left, right = hole
    known[top:bottom, left:right] = False
    Image.fromarray(photo).save(folder / "photo.png")
    Image.fromarray(known.astype(np.uint8) * 255).save(folder / "mask.png")
    return folder / "photo.png", folder / "mask.png", photo, known


# ------------------------------------------------------------------ --model, --epoch, --checkpoint

def test_model_by_name_uses_the_last_epoch_when_none_is_chosen(fake_model, tmp_path, capsys,
                                                             solver_configs):
    photo, mask, _, _ = photo_and_mask(tmp_path)
    assert main(["complete", "--model", FAKE.name, "--input", str(photo), "--mask", str(mask),
                 "--out", str(tmp_path / "out")]) == 0
    out = capsys.readouterr().out
    assert f"generator of epoch 10 (the last: {gans.CHOICES_FILE} records no choice" in out
    assert "discriminator of epoch 10" in out
    assert solver_configs[0].iters == MODEL_DEFAULTS["iters"]  # --model's modest default


def test_model_by_path_uses_the_chosen_epoch_and_the_nearest_discriminator(fake_model, tmp_path,
                                                                          capsys, solver_configs):
    gans.CHOICES_FILE.write_text(f"{FAKE.name}:\n  epoch: 5\n  reason: the fills look best\n")
    photo, mask, _, _ = photo_and_mask(tmp_path)
    for i, model in enumerate((fake_model, fake_model.parent)):  # the folder, or one holding it
        assert main(["complete", "--model", str(model), "--input", str(photo), "--mask",
                     str(mask), "--out", str(tmp_path / f"out{i}"), *FAST]) == 0
        out = capsys.readouterr().out
        assert f"generator of epoch 5 (the epoch chosen in the book ({gans.CHOICES_FILE}))" in out
        assert "discriminator of epoch 10, the nearest saved" in out
    assert [config.iters for config in solver_configs] == [3, 3]  # --iters overrides


def test_without_the_books_choices_the_model_needs_an_epoch(fake_model, tmp_path, capsys,
                                                          monkeypatch):
    """An install that finds no choices.yml (none beside INPAINT_MODELS, none in a repository,
    none in the user's cache) refuses rather than use another epoch than the book's; the choices
    beside INPAINT_MODELS come first, and `install-model` puts them in the user's cache."""
    photo, mask, _, _ = photo_and_mask(tmp_path)
    args = ["complete", "--model", FAKE.name, "--input", str(photo), "--mask", str(mask), *FAST]
    monkeypatch.setattr(gans, "in_repository", lambda: False)
    assert main([*args, "--out", str(tmp_path / "out")]) == 2
    err = error_line(capsys)
    assert "pass --epoch, or run `inpaint install-model tiny-fake --from" in err
    assert str(tmp_path / "cache" / "models" / "choices.yml") in err
    assert not (tmp_path / "out").exists()
    (fake_model.parent / "choices.yml").write_text(f"{FAKE.name}:\n  epoch: 5\n  reason: why\n")
    assert main([*args, "--out", str(tmp_path / "out")]) == 0
    assert "generator of epoch 5 (the epoch chosen in the book" in capsys.readouterr().out


def test_install_model_brings_the_books_choices_into_the_users_cache(tmp_path, monkeypatch):
    monkeypatch.setattr(shipped, "user_models_dir", lambda: tmp_path / "cache" / "models")
    installed = gans.install_choices(str(PROJECT_ROOT))
    assert installed.read_bytes() == (PROJECT_ROOT / "book" / "choices.yml").read_bytes()
    clone = tmp_path / "clone"
    (clone / "book").mkdir(parents=True)
    (clone / "book" / "choices.yml").write_text("tiny-imagenet-full:\n  epoch: 51\n")
    with pytest.raises(ValueError, match="needs an epoch among"):
        gans.install_choices(str(clone))
    assert installed.read_bytes() == (PROJECT_ROOT / "book" / "choices.yml").read_bytes()


def test_epoch_flag_overrides_the_choice_and_an_unknown_epoch_lists_those_available(
        fake_model, tmp_path, capsys):
    photo, mask, _, _ = photo_and_mask(tmp_path)
    args = ["complete", "--model", FAKE.name, "--input", str(photo), "--mask", str(mask), *FAST]
    assert main([*args, "--epoch", "5", "--out", str(tmp_path / "out")]) == 0
    assert "generator of epoch 5 (--epoch)" in capsys.readouterr().out
    assert main([*args, "--epoch", "7", "--out", str(tmp_path / "out7")]) == 2
    assert "no generator at epoch 7; available epochs: 5, 10" in error_line(capsys)
    assert not (tmp_path / "out7").exists()


@pytest.mark.parametrize("flags,message", [
    ([], "pass exactly one of --model"),
    (["--model", FAKE.name, "--checkpoint", "x.pt"], "pass exactly one of --model"),
    (["--checkpoint", "x.pt", "--epoch", "5"], "--epoch chooses an epoch of --model"),
    (["--model", "no-such-model"], "neither a shipped model"),
])
def test_model_flags_misused_give_one_line(fake_model, tmp_path, capsys, flags, message):
    photo, mask, _, _ = photo_and_mask(tmp_path)
    assert main(["complete", *flags, "--input", str(photo), "--mask", str(mask),
                 "--out", str(tmp_path / "out"), *FAST]) == 2
    assert message in error_line(capsys)
    assert not (tmp_path / "out").exists()


def test_checkpoint_keeps_the_solvers_own_defaults(ci_run, tmp_path, monkeypatch):
    class Stop(Exception):
        pass

    def stop(generator, discriminator, y, mask, config):
        raise Stop(config)

    monkeypatch.setattr(complete_module, "complete", stop)
    photo, mask, _, _ = photo_and_mask(tmp_path)
    with pytest.raises(Stop) as stopped:
        main(["complete", "--checkpoint", str(checkpoints(ci_run)[3]), "--input", str(photo),
              "--mask", str(mask), "--out", str(tmp_path / "out")])
    assert stopped.value.args[0] == SolverConfig()


# ------------------------------------------------------------------ photos at full resolution

def test_large_photo_keeps_its_size_and_known_pixels(fake_model, tmp_path, capsys):
    photo_path, mask, photo, known = photo_and_mask(tmp_path)
    assert main(["complete", "--model", FAKE.name, "--input", str(photo_path), "--mask",
                 str(mask), "--out", str(tmp_path / "out"), *FAST, "--score"]) == 0
    out = capsys.readouterr().out
    assert "photo: 200x150 image, hole within 60x50 pixels" in out
    assert "the 120x120 square at x=30, y=5 around the hole is completed at 64x64" in out
    for kind in ("corrupted", "completed", "blended"):
        result = np.asarray(Image.open(tmp_path / "out" / f"photo_{kind}.png"))
        assert result.shape == photo.shape
        np.testing.assert_array_equal(result[known], photo[known])
    corrupted = np.asarray(Image.open(tmp_path / "out" / "photo_corrupted.png"))
    assert (corrupted[~known] == 128).all()  # the hole in grey
    for kind in ("completed", "blended"):
        filled = np.asarray(Image.open(tmp_path / "out" / f"photo_{kind}.png"))[~known]
        assert not (filled == 128).all()
    assert np.asarray(Image.open(tmp_path / "out" / "photo_generated.png")).shape == (64, 64, 3)
    metrics = pd.read_csv(tmp_path / "out" / "metrics.csv")
    assert len(metrics) == 2 and metrics.psnr_full.gt(metrics.psnr_hole).all()


def test_named_mask_is_scaled_to_the_photo_and_a_mask_of_another_size_refused(
        fake_model, tmp_path, capsys):
    photo, mask, _, _ = photo_and_mask(tmp_path)
    assert main(["complete", "--model", FAKE.name, "--input", str(photo), "--mask", "center",
                 "--out", str(tmp_path / "out"), *FAST]) == 0
    assert "hole within 100x74 pixels" in capsys.readouterr().out  # the middle quarter
    Image.new("L", (64, 64), 255).save(tmp_path / "small.png")
    assert main(["complete", "--model", FAKE.name, "--input", str(photo), "--mask",
                 str(tmp_path / "small.png"), "--out", str(tmp_path / "out2"), *FAST]) == 2
    assert "is 64x64 pixels but the image photo is 200x150" in error_line(capsys)


def test_square_around_hole():
    known = np.ones((150, 200), bool)
    known[40:90, 60:120] = False
    assert square_around_hole(known) == Square(top=5, left=30, side=120)  # twice the hole
    known = np.ones((150, 200), bool)
    known[0:10, 190:200] = False
    assert square_around_hole(known) == Square(top=0, left=136, side=64)  # 64 at least, inside
    known = np.ones((64, 64), bool)
    known[30:34, 2:5] = False
    assert square_around_hole(known) == Square(0, 0, 64)  # a 64x64 photo: all of it
    known = np.ones((100, 300), bool)
    known[10:20, 50:250] = False
    with pytest.raises(ValueError, match=r"hole spans 200x10 pixels, longer than the image's "
                                         r"shorter side \(100\)"):
        square_around_hole(known)


def test_shrink_never_reads_hole_pixels():
    known = np.ones((150, 200), bool)
    known[40:90, 60:120] = False
    square = square_around_hole(known)
    photo = torch.rand(3, 150, 200) * 2 - 1
    bright, dark = photo.clone(), photo.clone()
    bright[:, ~torch.from_numpy(known)], dark[:, ~torch.from_numpy(known)] = 1.0, -1.0
    (y_bright, m_bright), (y_dark, m_dark) = (shrink(p, known, square) for p in (bright, dark))
    assert torch.equal(y_bright, y_dark) and torch.equal(m_bright, m_dark)
    assert y_bright.shape == (3, 64, 64) and m_bright.shape == (1, 64, 64)
    hole = m_bright == 0
    assert 0 < hole.float().mean() < 0.5 and (y_bright[hole.expand(3, -1, -1)] == 0).all()


def test_a_64x64_photo_is_blended_as_in_the_study(sample_val):
    y, generated, mask = sample_val[:1], sample_val[1:2], center(1)
    known = mask[0, 0].numpy() > 0.5
    square = square_around_hole(known)
    y_64, mask_64 = shrink(y[0], known, square)
    assert torch.equal(mask_64, mask[0]) and torch.equal(y_64, y[0] * mask[0])
    _, blended = put_back(y[0], known, square, generated[0], "poisson")
    torch.testing.assert_close(blended, poisson(y, generated, mask)[0])


# ------------------------------------------------------------------ a real MSCOCO photo

COCO = SAMPLE_DIR / "coco"  # the committed MSCOCO photographs


def test_a_224x224_mscoco_photo_with_a_file_mask_and_the_shipped_model(tmp_path, capsys):
    member = list_members(COCO, "*")[3]  # a grazing zebra
    data = (COCO / member).read_bytes()
    (tmp_path / "zebra.jpg").write_bytes(data)
    photo = np.asarray(Image.open(io.BytesIO(data)).convert("RGB"))
    assert photo.shape == (224, 224, 3)
    known = np.ones((224, 224), bool)
    known[120:195, 145:220] = False
    Image.fromarray(known.astype(np.uint8) * 255).save(tmp_path / "mask.png")
    assert main(["complete", "--model", "tiny-imagenet-full", "--input",
                 str(tmp_path / "zebra.jpg"), "--mask", str(tmp_path / "mask.png"),
                 "--out", str(tmp_path / "out"), *FAST, "--score"]) == 0
    out = capsys.readouterr().out
    assert "zebra: 224x224 image, hole within 75x75 pixels; the model makes 64x64 images, so " \
           "the 150x150 square at x=74, y=74" in out
    for kind in ("completed", "blended"):
        result = np.asarray(Image.open(tmp_path / "out" / f"zebra_{kind}.png"))
        assert result.shape == (224, 224, 3)
        np.testing.assert_array_equal(result[known], photo[known])
        assert np.abs(result[~known].astype(int) - 128).mean() > 5  # filled, not left grey
    assert len(pd.read_csv(tmp_path / "out" / "metrics.csv")) == 2


# ------------------------------------------------------------------ memory bounded by the work

def coco_photo(side: int) -> np.ndarray:
    """A committed MSCOCO photograph resized to uint8 (side, side, 3)."""
    first = sorted((COCO / "train2014").glob("*.jpg"))[0]
    return np.array(Image.open(first).convert("RGB").resize((side, side), Image.BICUBIC))


def test_a_square_larger_than_the_blend_side_is_blended_close_to_the_exact_solve():
    from inpaint.method.blend import blend_image
    from inpaint.method.geometry import BLEND_SIDE, poisson_within
    from inpaint.method.pixels import to_tensor
    side = BLEND_SIDE + 88
    part = to_tensor(coco_photo(side)[None])[0]
    inside = torch.ones(side, side, dtype=torch.bool)
    inside[150:450, 200:420] = False
    fill = torch.nn.functional.interpolate(part[None, :, ::10, ::10], size=(side, side),
                                           mode="bicubic")[0].clamp(-1, 1).flip(-1)
    bounded = poisson_within(part, inside, fill)
    exact = torch.from_numpy(blend_image(part.permute(1, 2, 0).double().numpy(),
                                         fill.permute(1, 2, 0).double().numpy(),
                                         inside.numpy())).permute(2, 0, 1).float()
    assert torch.equal(bounded[:, inside], part[:, inside])  # known pixels exactly
    hole = ~inside
    assert (bounded - exact)[:, hole].abs().mean() < 0.02  # within 2.5 grey levels on average
    assert (fill - exact)[:, hole].abs().mean() > 0.05  # while the blend did change the fill


def test_full_size_scores_taken_in_strips_equal_those_of_the_whole_ssim_map():
    from inpaint.method.geometry import STRIP, ssim_sums
    from inpaint.method.metrics import ssim_map
    truth = coco_photo(STRIP + 131)
    completed = truth.copy()
    completed[100:300, 60:200] = truth[100:300, 60:200][::-1]
    hole = np.zeros(truth.shape[:2], bool)
    hole[100:300, 60:200] = True
    whole = ssim_map(completed, truth)
    total, in_hole = ssim_sums(completed, truth, hole)
    assert total == pytest.approx(float(whole.sum()), rel=1e-12)
    assert in_hole == pytest.approx(float(whole[hole].sum()), rel=1e-12)


def test_a_large_hole_is_said_to_look_blurred_and_telea_is_written_beside(checkpoint, tmp_path,
                                                                           capsys):
    member = list_members(COCO, "*")[3]  # the grazing zebra, as a 1024x768 photo
    zebra = Image.open(io.BytesIO((COCO / member).read_bytes())).convert("RGB")
    zebra.resize((1024, 768), Image.BICUBIC).save(tmp_path / "zebra.png")
    photo = np.asarray(Image.open(tmp_path / "zebra.png"))
    assert main(["complete", "--checkpoint", checkpoint, "--input", str(tmp_path / "zebra.png"),
                 "--out", str(tmp_path / "out"), "--compare", "telea", "--score", *FAST]) == 0
    err = capsys.readouterr().err
    assert ("warning: zebra: the hole's square is 768 px: the 64x64 fill is scaled up 12x and "
            "will look blurred; --compare telea gives a classical fill beside it") in err
    telea = np.asarray(Image.open(tmp_path / "out" / "zebra_telea.png"))
    known = np.asarray(Image.open(tmp_path / "out" / "zebra_corrupted.png")) != 128
    known = known.any(-1)
    np.testing.assert_array_equal(telea[known], photo[known])
    assert np.abs(telea[~known].astype(int) - 128).mean() > 5  # filled, not left grey
    metrics = pd.read_csv(tmp_path / "out" / "metrics.csv")
    assert sorted(metrics.output) == ["blended", "completed", "telea"]


def test_a_hole_filled_at_the_models_size_gets_no_blur_warning(checkpoint, images, tmp_path,
                                                              capsys):
    assert main(["complete", "--checkpoint", checkpoint, "--input", str(images), "--out",
                 str(tmp_path / "out"), *FAST]) == 0
    assert "will look blurred" not in capsys.readouterr().err
    assert not list((tmp_path / "out").glob("*_telea.png"))  # only with --compare telea


def test_telea_on_the_holes_box_equals_telea_on_the_whole_photo():
    photo = coco_photo(224)
    known = np.ones((224, 224), bool)
    known[60:150, 40:130] = False
    known[10:12, 0:5] = False  # a second hole, at the edge
    whole = cv2.inpaint(photo, (~known).astype(np.uint8), 3, cv2.INPAINT_TELEA)
    np.testing.assert_array_equal(telea_photo(photo, known), whole)

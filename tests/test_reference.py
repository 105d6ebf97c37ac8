"""The shipped reference models: lookup order, checksums, epochs, and loading (fake and real)."""
from __future__ import annotations

import gzip
import hashlib
import json
import shutil

import pytest
import torch

from inpaint.files import PROJECT_ROOT
from inpaint.method.models import Discriminator, Generator, sample_z
from inpaint.training import shipped
from inpaint.training.train import LOG_FIELDS

FAKE = shipped.ShippedModel(
    name="tiny-fake", folder="tiny-fake", width=8, generator_epochs=(5, 10),
    discriminator_epochs=(10,), description="a width-8 stand-in made by the tests",
    command="python -m inpaint train --profile ci", sums_sha256="not used by these tests")


def randomise_running_stats(model: torch.nn.Module, seed: int) -> None:
    """Give batch norms non-trivial running statistics, so that eval mode is really exercised."""
    gen = torch.Generator().manual_seed(seed)
    for module in model.modules():
        if isinstance(module, torch.nn.BatchNorm2d):
            module.running_mean.copy_(torch.randn(module.num_features, generator=gen) * 0.1)
            module.running_var.copy_(torch.rand(module.num_features, generator=gen) + 0.5)


def make_fake_reference(folder, width: int = 8) -> dict:
    """Write a complete reference folder for FAKE; return the float32 originals it was made from."""
    folder.mkdir(parents=True)
    torch.manual_seed(0)
    originals = {}
    for epoch in FAKE.generator_epochs:
        generator = Generator(width)
        randomise_running_stats(generator, epoch)
        originals[("generator", epoch)] = generator.eval()
        torch.save({k: v.half() if v.is_floating_point() else v
                    for k, v in generator.state_dict().items()},
                   folder / FAKE.generator_filename(epoch))
    for epoch in FAKE.discriminator_epochs:
        discriminator = Discriminator(width)
        randomise_running_stats(discriminator, 100 + epoch)
        originals[("discriminator", epoch)] = discriminator.eval()
        torch.save({k: v.half() if v.is_floating_point() else v
                    for k, v in discriminator.state_dict().items()},
                   folder / FAKE.discriminator_filename(epoch))
    originals["noise"] = sample_z(64, generator=torch.Generator().manual_seed(1))
    torch.save(originals["noise"], folder / shipped.FIXED_NOISE_FILENAME)
    with gzip.open(folder / shipped.LOG_FILENAME, "wt", newline="") as handle:
        handle.write(",".join(LOG_FIELDS) + "\n")
        handle.write("0,1,DG,1.5,3.2,0.4,0.3,0.8\n")
        handle.write("1,1,D,1.4,,0.5,0.2,0.9\n")
    (folder / shipped.RUN_INFO_FILENAME).write_text(json.dumps({"config": {"width": width}}))
    write_sums(folder)
    return originals


def write_sums(folder) -> None:
    lines = [f"{hashlib.sha256(p.read_bytes()).hexdigest()}  {p.name}"
             for p in sorted(folder.iterdir()) if p.name != shipped.SUMS_FILENAME]
    (folder / shipped.SUMS_FILENAME).write_text("\n".join(lines) + "\n")


@pytest.fixture
def places(tmp_path, monkeypatch):
    """The fake model registered, the repository's and the user cache's folders pointed into
    tmp_path, INPAINT_MODELS unset."""
    monkeypatch.setitem(shipped.SHIPPED_MODELS, FAKE.name, FAKE)
    monkeypatch.setattr(shipped, "DATA_MODELS_DIR", tmp_path / "project" / "data" / "models")
    monkeypatch.setattr(shipped, "user_models_dir", lambda: tmp_path / "cache" / "models")
    monkeypatch.delenv(shipped.MODELS_ENV, raising=False)
    return tmp_path


@pytest.fixture
def fake(places):
    """A complete fake reference folder in data/models; returns (folder, originals)."""
    folder = shipped.DATA_MODELS_DIR / FAKE.folder
    return folder, make_fake_reference(folder)


def test_lookup_order(places, monkeypatch):
    explicit = places / "explicit" / FAKE.folder
    from_env = places / "env" / FAKE.folder
    data = shipped.DATA_MODELS_DIR / FAKE.folder
    cache = shipped.user_models_dir() / FAKE.folder
    for folder in (explicit, from_env, data, cache):
        make_fake_reference(folder)
    monkeypatch.setenv(shipped.MODELS_ENV, str(from_env.parent))

    assert shipped.locate_shipped(FAKE.name, explicit.parent) == explicit  # a folder of models
    assert shipped.locate_shipped(FAKE.name, explicit) == explicit  # the model folder itself
    assert shipped.locate_shipped(FAKE.name) == from_env
    monkeypatch.setenv(shipped.MODELS_ENV, str(from_env))  # the model folder itself
    assert shipped.locate_shipped(FAKE.name) == from_env
    monkeypatch.setenv(shipped.MODELS_ENV, str(places / "nowhere"))  # skipped when it lacks it
    assert shipped.locate_shipped(FAKE.name) == data
    monkeypatch.delenv(shipped.MODELS_ENV)
    assert shipped.locate_shipped(FAKE.name) == data
    monkeypatch.setattr(shipped, "in_repository", lambda: False)  # a plain `pip install .`
    assert shipped.locate_shipped(FAKE.name) == cache
    monkeypatch.undo()
    monkeypatch.setitem(shipped.SHIPPED_MODELS, FAKE.name, FAKE)
    monkeypatch.setattr(shipped, "DATA_MODELS_DIR", data.parent)
    monkeypatch.setattr(shipped, "user_models_dir", lambda: cache.parent)
    shutil.rmtree(data)
    assert shipped.locate_shipped(FAKE.name) == cache


def test_not_found_names_places_and_command(places, monkeypatch):
    monkeypatch.setenv(shipped.MODELS_ENV, str(places / "env"))
    with pytest.raises(shipped.ShippedModelNotFoundError) as error:
        shipped.locate_shipped(FAKE.name)
    message = str(error.value)
    assert isinstance(error.value, FileNotFoundError)
    for place in (places / "env", shipped.DATA_MODELS_DIR / FAKE.folder,
                  shipped.user_models_dir() / FAKE.folder):
        assert str(place) in message
    assert shipped.MODELS_ENV in message and "\n" not in message
    assert f"inpaint install-model {FAKE.name} --from" in message
    assert "make study PROFILE=full" in message and "GPU" in message


def test_explicit_path_that_lacks_the_model_is_an_error(fake, places):
    with pytest.raises(shipped.ShippedModelNotFoundError, match="make study PROFILE=full") as error:
        shipped.locate_shipped(FAKE.name, places / "elsewhere")
    assert str(places / "elsewhere") in str(error.value)


def test_unknown_name_lists_the_known():
    with pytest.raises(ValueError, match="tiny-imagenet-full"):
        shipped.shipped_spec("no-such-model")


def test_corrupted_file_is_refused_by_checksum(fake):
    folder, _ = fake
    path = folder / FAKE.generator_filename(10)
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0xFF
    path.write_bytes(bytes(data))
    with pytest.raises(shipped.ShippedModelChecksumError) as error:
        shipped.load_generator(FAKE.name, 10)
    assert str(path) in str(error.value)
    assert "make study PROFILE=full" in str(error.value)
    shipped.load_generator(FAKE.name, 5)  # the other files are still fine
    with pytest.raises(shipped.ShippedModelChecksumError, match=FAKE.generator_filename(10)):
        shipped.verify_shipped(FAKE.name)


def test_unlisted_file_and_missing_sums_are_refused(fake):
    folder, _ = fake
    sums = folder / shipped.SUMS_FILENAME
    sums.write_text("".join(line + "\n" for line in sums.read_text().splitlines()
                            if shipped.FIXED_NOISE_FILENAME not in line))
    with pytest.raises(shipped.ShippedModelChecksumError, match="not listed") as error:
        shipped.fixed_noise(FAKE.name)
    assert shipped.FIXED_NOISE_FILENAME in str(error.value)
    sums.unlink()
    with pytest.raises(shipped.ShippedModelChecksumError, match=shipped.SUMS_FILENAME):
        shipped.run_info(FAKE.name)


def test_a_malformed_sums_line_is_named_in_one_line(fake):
    folder, _ = fake
    sums = folder / shipped.SUMS_FILENAME
    sums.write_text(sums.read_text() + "deadbeef\n")
    with pytest.raises(shipped.ShippedModelChecksumError, match="line 7 is not a `sha256sum` line"):
        shipped.run_info(FAKE.name)


def test_missing_epoch_lists_the_available(fake):
    with pytest.raises(shipped.EpochNotAvailableError, match="5, 10"):
        shipped.load_generator(FAKE.name, 7)
    with pytest.raises(shipped.EpochNotAvailableError, match="available epochs: 10") as error:
        shipped.load_discriminator(FAKE.name, 5)
    assert "nearest with a discriminator is 10" in str(error.value)


def test_nearest_discriminator_epoch():
    nearest = [shipped.nearest_discriminator_epoch("tiny-imagenet-full", e)
               for e in (30, 35, 40, 44, 45, 50, 55, 60)]
    assert nearest == [35, 35, 35, 35, 55, 55, 55, 55]


@torch.no_grad()
def test_loaded_models_match_the_originals(fake):
    _, originals = fake
    z = originals["noise"][:16]
    generator = shipped.load_generator(FAKE.name, 10)
    assert not generator.training
    images = generator(z)
    assert images.dtype == torch.float32 and images.shape == (16, 3, 64, 64)
    assert images.min() >= -1 and images.max() <= 1
    original = originals[("generator", 10)]
    rounded = Generator(8).eval()
    rounded.load_state_dict({k: v.half().float() if v.is_floating_point() else v
                             for k, v in original.state_dict().items()})
    torch.testing.assert_close(images, rounded(z), atol=1e-5, rtol=0)  # exactly the fp16 weights
    torch.testing.assert_close(images, original(z), atol=2e-2, rtol=0)  # within fp16 rounding

    discriminator = shipped.load_discriminator(FAKE.name, 10)
    logits = discriminator(images)
    assert logits.dtype == torch.float32 and logits.shape == (16,)
    torch.testing.assert_close(logits, originals[("discriminator", 10)](images), atol=2e-2, rtol=2e-2)


def test_noise_log_and_run_info(fake):
    _, originals = fake
    noise = shipped.fixed_noise(FAKE.name)
    assert noise.dtype == torch.float32 and noise.shape == (64, 100)
    assert torch.equal(noise, originals["noise"])
    log = shipped.read_shipped_log(FAKE.name)
    assert list(log.columns) == LOG_FIELDS and len(log) == 2 and log["g_loss"].isna().iloc[1]
    assert shipped.run_info(FAKE.name) == {"config": {"width": 8}}
    assert shipped.verify_shipped(FAKE.name) == shipped.DATA_MODELS_DIR / FAKE.folder


@torch.no_grad()
def test_the_weights_shipped_in_the_repository_load_and_run():
    name = "tiny-imagenet-full"
    assert shipped.locate_shipped(name) == shipped.DATA_MODELS_DIR / name
    shipped.verify_shipped(name)
    generator = shipped.load_generator(name, 55)
    discriminator = shipped.load_discriminator(name, 55)
    noise = shipped.fixed_noise(name)
    assert noise.shape == (64, 100) and noise.abs().max() <= 1
    images = generator(noise[:16])
    assert images.shape == (16, 3, 64, 64) and torch.isfinite(images).all()
    assert images.abs().max() <= 1
    logits = discriminator(images)
    assert logits.shape == (16,) and torch.isfinite(logits).all()
    assert shipped.run_info(name)["config"]["width"] == 64
    assert list(shipped.read_shipped_log(name).columns) == LOG_FIELDS


def test_the_registry_vouches_for_the_shipped_sums():
    """The registry's checksum of each model's SHA256SUMS is the committed file's: a model
    installed from elsewhere is checked against what the repository ships."""
    for name, spec in shipped.SHIPPED_MODELS.items():
        sums = shipped.DATA_MODELS_DIR / spec.folder / shipped.SUMS_FILENAME
        assert hashlib.sha256(sums.read_bytes()).hexdigest() == spec.sums_sha256, name


# ------------------------------------------------------------- installing outside the repository

REAL = shipped.SHIPPED_MODELS["tiny-imagenet-full"]


def test_install_model_from_a_clone_and_from_its_url(tmp_path, serve_folder, monkeypatch):
    """`install-model` copies every shipped file, verified, from a clone or over HTTP; a copy in
    the user's cache is then found by an install outside the repository."""
    from_clone = shipped.install_shipped(REAL.name, str(PROJECT_ROOT), tmp_path / "a")
    from_url = shipped.install_shipped(REAL.name, serve_folder(PROJECT_ROOT), tmp_path / "b")
    shipped_files = sorted(p.name for p in (shipped.DATA_MODELS_DIR / REAL.folder).glob("*")
                           if p.name in shipped.read_checksums(from_clone) or
                           p.name == shipped.SUMS_FILENAME)
    for folder in (from_clone, from_url):
        assert sorted(p.name for p in folder.iterdir()) == shipped_files
        assert shipped.verify_shipped(REAL.name, folder) == folder
    monkeypatch.delenv(shipped.MODELS_ENV, raising=False)
    monkeypatch.setattr(shipped, "in_repository", lambda: False)
    monkeypatch.setattr(shipped, "user_models_dir", lambda: tmp_path / "b")
    assert shipped.locate_shipped(REAL.name) == from_url


@pytest.mark.parametrize("corrupt", [shipped.SUMS_FILENAME, "generator_epoch_030.pt"])
def test_install_model_refuses_a_file_that_is_not_the_shipped_one(tmp_path, serve_folder, corrupt):
    clone = tmp_path / "clone"
    shutil.copytree(shipped.DATA_MODELS_DIR / REAL.folder, clone / "data" / "models" / REAL.folder)
    with open(clone / "data" / "models" / REAL.folder / corrupt, "ab") as handle:
        handle.write(b"\n")
    for source in (str(clone), serve_folder(clone)):
        dest = tmp_path / f"dest-{len(source)}"
        with pytest.raises(shipped.ShippedModelChecksumError, match="not the shipped file"):
            shipped.install_shipped(REAL.name, source, dest)
        assert not (dest / REAL.folder / corrupt).exists()  # nothing unverified is kept


def test_install_model_names_a_source_that_serves_nothing(tmp_path, serve_folder):
    with pytest.raises(shipped.ShippedModelNotFoundError, match="cannot fetch .*check --from"):
        shipped.install_shipped(REAL.name, serve_folder(tmp_path), tmp_path / "dest")

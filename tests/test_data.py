"""Data lookup, checksums, greyscale and corrupt images, cache; on real sample photographs (the
download, against a real HTTP server, is tests/test_data_fetch.py)."""
from __future__ import annotations

import hashlib
import zipfile
from pathlib import Path

import numpy as np
import pytest

from inpaint import files
from inpaint.data import cache as data_cache, decoding, registry
from inpaint.data.registry import Archive, DatasetSpec, Split
from inpaint.method import pixels

SAMPLE_TRAIN = data_cache.SAMPLE_DIR / "train"


def make_zip(path: Path, extra: dict[str, bytes] | None = None) -> Path:
    """A zip in the Tiny ImageNet layout holding the committed sample (64 colour, 2 greyscale)."""
    with zipfile.ZipFile(path, "w") as archive:
        for image in sorted(SAMPLE_TRAIN.glob("*.JPEG")):
            archive.write(image, f"val/images/{image.name}")
        for name, payload in (extra or {}).items():
            archive.writestr(f"val/images/{name}", payload)
    return path


def sha256(path: Path) -> str:
    return "sha256:" + hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture
def places(tmp_path, monkeypatch, data_places):
    """Empty data/raw, shared and cache folders, a registry entry 'toy' pointing at them."""
    source = make_zip(tmp_path / "source.zip")
    archive = Archive("toy.zip", sha256(source), source.as_uri())
    spec = DatasetSpec("toy", "test photographs", "test", "none",
                       {"val": Split((archive,), "*val/images/*.JPEG")})
    monkeypatch.setitem(registry.DATASETS, "toy", spec)
    return {**data_places, "source": source, "archive": archive}


def test_lookup_order_explicit_then_raw_then_shared(places, tmp_path, monkeypatch):
    for folder in ("raw", "shared"):
        places[folder].joinpath("toy.zip").write_bytes(places["source"].read_bytes())
    explicit = tmp_path / "mine" / "toy.zip"
    explicit.parent.mkdir()
    explicit.write_bytes(places["source"].read_bytes())
    assert registry.locate("toy", "val", source=explicit)[0] == explicit
    monkeypatch.setenv("INPAINT_DATA", str(explicit.parent))
    assert registry.locate("toy", "val")[0] == explicit
    monkeypatch.delenv("INPAINT_DATA")
    assert registry.locate("toy", "val")[0] == places["raw"] / "toy.zip"
    (places["raw"] / "toy.zip").unlink()
    assert registry.locate("toy", "val")[0] == places["shared"] / "toy.zip"


def test_local_archive_with_wrong_checksum_is_refused(places):
    corrupt = places["shared"] / "toy.zip"
    corrupt.write_bytes(places["source"].read_bytes()[:-10])
    with pytest.raises(files.ChecksumError, match="toy.zip"):
        data_cache.load_images("toy", "val", allow_download=False)


def test_missing_dataset_error_names_every_place(places):
    with pytest.raises(registry.DatasetNotFoundError) as error:
        registry.locate("toy", "val", allow_download=False)
    message = str(error.value)
    for place in (places["raw"], places["shared"]):
        assert str(place) in message
    assert "toy.zip" in message and "INPAINT_DATA" in message


def test_greyscale_dropped_and_counted_and_cache_hit(places, capsys):
    (places["raw"] / "toy.zip").write_bytes(places["source"].read_bytes())
    images = data_cache.load_images("toy", "val")
    assert images.shape == (64, 64, 64, 3) and images.dtype == np.uint8
    assert "2 greyscale dropped" in capsys.readouterr().out
    cached = list(places["cache"].iterdir())
    assert len(cached) == 1 and places["archive"].checksum[7:23] in cached[0].name
    again = data_cache.load_images("toy", "val")
    assert "from cache" in capsys.readouterr().out
    data_cache.load_images("toy", "val")  # a notebook loading it again: the line is said once
    assert "from cache" not in capsys.readouterr().out
    np.testing.assert_array_equal(images, again)


def test_corrupt_cache_is_rebuilt_with_a_warning(places):
    (places["raw"] / "toy.zip").write_bytes(places["source"].read_bytes())
    images = data_cache.load_images("toy", "val")
    cache_file = next(places["cache"].iterdir())
    cache_file.write_bytes(b"truncated")
    with pytest.warns(UserWarning, match="unreadable"):
        again = data_cache.load_images("toy", "val")
    np.testing.assert_array_equal(images, again)
    # rewritten, readable
    np.testing.assert_array_equal(data_cache.load_images("toy", "val"), images)


def test_corrupt_image_is_skipped_and_counted(places, tmp_path, capsys, monkeypatch):
    broken = make_zip(tmp_path / "broken.zip", {"zz_broken.JPEG": b"\xff\xd8 not a jpeg"})
    with pytest.warns(UserWarning, match="zz_broken"):
        # outside the registry: no checksum
        images = data_cache.load_images("toy", "val", source=broken)
    assert len(images) == 64
    assert "1 corrupt skipped" in capsys.readouterr().out


def test_limit_is_a_fixed_seeded_subset(places):
    (places["raw"] / "toy.zip").write_bytes(places["source"].read_bytes())
    first = data_cache.load_images("toy", "val", limit=20, cache=False)
    second = data_cache.load_images("toy", "val", limit=20, cache=False)
    assert len(first) <= 20
    np.testing.assert_array_equal(first, second)


def test_plain_folder_and_course_layout(tmp_path, places):
    course = tmp_path / "course" / "inpainting" / "val2014"
    course.mkdir(parents=True)
    for image in sorted(SAMPLE_TRAIN.glob("*.JPEG"))[:5]:
        (course / image.name.replace(".JPEG", ".jpg")).write_bytes(image.read_bytes())
    images = data_cache.load_images("toy", "val", source=tmp_path / "course")
    assert images.shape == (5, 64, 64, 3)
    assert data_cache.load_images("toy", "val", source=course, cache=False).shape == (5, 64, 64, 3)


def test_real_registry_archives_verify(tmp_path):
    """The shared archives, when present, match the registry's sha256 (skipped without them)."""
    archive = registry.TINY_VAL
    path = registry.SHARED_DIR / archive.filename
    if not path.exists():
        pytest.skip(f"{path} not available")
    files.verify_checksum(path, archive.checksum)


def test_celeba_crop_keeps_the_face_square():
    from PIL import Image
    image = Image.new("RGB", (89, 109))
    assert decoding.preprocess(image, "celeba").size == (64, 64)
    assert decoding.preprocess(Image.new("RGB", (224, 160)), "center-square").size == (64, 64)


def test_tensor_round_trip():
    images = data_cache.load_sample_split("val")
    tensor = pixels.to_tensor(images)
    assert tensor.shape == (32, 3, 64, 64) and tensor.min() >= -1 and tensor.max() <= 1
    np.testing.assert_array_equal(pixels.to_uint8(tensor), images)

"""Fetching the datasets: the download against a real HTTP server on 127.0.0.1 (no mock of the
download), the one-line messages for what cannot be fetched, the pipeline's preflight, the
registry's coverage of what the profiles read, and the committed MSCOCO photographs."""
from __future__ import annotations

import hashlib
import socket
import time
import zipfile
from dataclasses import replace
from pathlib import Path

import pytest

from inpaint.data import cache as data_cache, decoding, registry
from inpaint.data.registry import Archive, DatasetSpec, Split
from inpaint.files import ChecksumError
from inpaint.study.profiles import PROFILES, get_profile
from inpaint.tools import pipeline
from inpaint.tools.cli import main

SAMPLE_VAL = sorted((registry.SAMPLE_DIR / "val").glob("*.JPEG"))


def sha256(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


def toy_zip(path: Path, count: int = 6) -> bytes:
    """A zip of `count` committed sample photographs in the Tiny ImageNet val layout; its bytes."""
    with zipfile.ZipFile(path, "w") as archive:
        for image in SAMPLE_VAL[:count]:
            archive.write(image, f"val/images/{image.name}")
    return path.read_bytes()


@pytest.fixture
def server(tmp_path, serve_folder):
    """A real HTTP server on 127.0.0.1 serving tmp_path/served; yields (base URL, that folder)."""
    served = tmp_path / "served"
    served.mkdir()
    return serve_folder(served), served


@pytest.fixture
def places(data_places):
    """Empty data/raw, shared and cache folders."""
    return data_places


def register_toy(monkeypatch, url: str, checksum: str) -> Archive:
    archive = Archive("toy.zip", checksum, url)
    monkeypatch.setitem(registry.DATASETS, "toy", DatasetSpec(
        "toy", "test photographs", "test", "none", {"val": Split((archive,), "*val/images/*.JPEG")}))
    return archive


def closed_port() -> int:
    """A port on 127.0.0.1 where nothing listens (connections are refused)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


# ------------------------------------------------------------------ the download

def test_a_good_download_lands_verified_in_data_raw(server, serve_folder, places, monkeypatch,
                                                   tmp_path):
    base, served = server
    payload = toy_zip(served / "toy.zip")
    register_toy(monkeypatch, f"{base}/toy.zip", sha256(payload))
    path, archive = registry.locate("toy", "val")
    assert path == places["raw"] / "toy.zip" and archive.filename == "toy.zip"
    assert path.read_bytes() == payload
    assert sorted(p.name for p in places["raw"].iterdir()) == ["toy.zip"]  # no temporary left
    assert serve_folder.requests == ["/toy.zip"]
    images = data_cache.load_images("toy", "val", verbose=False)
    assert images.shape == (6, 64, 64, 3)
    registry.locate("toy", "val")  # found in data/raw now: not fetched again
    assert serve_folder.requests == ["/toy.zip"]


def test_a_corrupt_download_is_refused_and_leaves_nothing(server, serve_folder, places,
                                                         monkeypatch, tmp_path):
    base, served = server
    payload = toy_zip(tmp_path / "good.zip")
    (served / "toy.zip").write_bytes(payload[:-100])  # truncated in transit
    register_toy(monkeypatch, f"{base}/toy.zip", sha256(payload))
    with pytest.raises(ChecksumError, match=r"download of http://127\.0\.0\.1:\d+/toy\.zip is "
                                            r"corrupt .*expected sha256:") as error:
        registry.locate("toy", "val")
    assert "\n" not in str(error.value)
    assert serve_folder.requests == ["/toy.zip"]
    assert list(places["raw"].iterdir()) == []  # nothing under the final name, no partial file


@pytest.mark.parametrize("where, said", [("refused", "the connection was refused"),
                                         ("missing", "HTTP 404 File not found")])
def test_an_unreachable_url_gives_one_line(server, places, monkeypatch, where, said):
    base, _ = server
    url = (f"http://127.0.0.1:{closed_port()}/toy.zip" if where == "refused"
           else f"{base}/nothing-here.zip")
    register_toy(monkeypatch, url, "sha256:" + "0" * 64)
    started = time.perf_counter()
    with pytest.raises(registry.DatasetNotFoundError) as error:
        registry.locate("toy", "val")
    assert time.perf_counter() - started < 10
    for message in (str(error.value), error.value.line):
        assert "\n" not in message
        assert f"download {url} into {places['raw']}/ (the download failed: {said})" in message
    assert error.value.line.startswith("toy (val): download ")
    assert list(places["raw"].iterdir()) == []


def test_a_silent_server_times_out(places, monkeypatch):
    """A host that accepts the connection and never answers (a blocked network's worst case)."""
    monkeypatch.setattr(registry, "DOWNLOAD_TIMEOUT_S", 1)
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")
    monkeypatch.setenv("no_proxy", "127.0.0.1,localhost")
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen(1)
        url = f"http://127.0.0.1:{silent.getsockname()[1]}/toy.zip"
        register_toy(monkeypatch, url, "sha256:" + "0" * 64)
        started = time.perf_counter()
        with pytest.raises(registry.DatasetNotFoundError, match="no answer within 1 s"):
            registry.locate("toy", "val")
        assert time.perf_counter() - started < 10
    assert list(places["raw"].iterdir()) == []


def test_what_no_plain_fetch_gets_says_where_to_get_it(places):
    with pytest.raises(registry.DatasetNotFoundError) as error:
        registry.locate("celeba", "train")
    assert error.value.line == (
        'celeba (train): download img_align_celeba.zip ("Align&Cropped Images", 1.4 GB) from '
        "the CelebA page https://mmlab.ie.cuhk.edu.hk/projects/CelebA.html (it is on Google "
        f"Drive, which a plain HTTP fetch cannot download) and put it in {places['raw']}/")
    assert "\n" not in str(error.value) and "INPAINT_DATA" in str(error.value)


# ------------------------------------------------------------------ the pipeline's preflight

def point_tiny_imagenet_at(monkeypatch, url: str, checksum: str) -> None:
    """The registry's Tiny ImageNet entry, its official archive fetched from `url` instead."""
    spec = registry.DATASETS["tiny-imagenet"]
    official = replace(registry.TINY_OFFICIAL, url=url, checksum=checksum)
    splits = {name: replace(split, archives=(*split.archives[:-1], official))
              for name, split in spec.splits.items()}
    monkeypatch.setitem(registry.DATASETS, "tiny-imagenet", replace(spec, splits=splits))


def test_preflight_stops_with_one_line_per_missing_dataset(places, monkeypatch, capsys):
    url = f"http://127.0.0.1:{closed_port()}/tiny-imagenet-200.zip"
    point_tiny_imagenet_at(monkeypatch, url, "sha256:" + "0" * 64)
    started = time.perf_counter()
    with pytest.raises(registry.DatasetNotFoundError) as error:
        pipeline.preflight(get_profile("cpu"))
    assert time.perf_counter() - started < 60
    header, *lines = str(error.value).splitlines()
    assert header == ("2 of the datasets the cpu profile reads are missing; get them, then run "
                      "again:")
    assert [line.split(":")[0].strip() for line in lines] == ["tiny-imagenet (train)",
                                                              "celeba (train)"]
    assert f"download {url} into {places['raw']}/ (the download failed: the connection was " \
           f"refused)" in lines[0]
    assert "img_align_celeba.zip" in lines[1] and f"put it in {places['raw']}/" in lines[1]
    # The command: exit 2, those lines, and no stage after the preflight begun.
    monkeypatch.setattr(pipeline.shipped, "verify_shipped", lambda name: None)
    monkeypatch.setattr(pipeline, "stage", lambda name: pytest.fail(f"stage {name} began"))
    assert main(["study", "--profile", "cpu"]) == 2
    err = capsys.readouterr().err  # pooch may log its download attempt first
    err = err[err.index("error: "):]
    assert err.startswith("error: 2 of the datasets the cpu profile reads are missing")
    assert err.count(url) == 1 and err.count("img_align_celeba.zip") == 1


def test_preflight_downloads_what_it_can_and_names_the_rest(server, serve_folder, places,
                                                            monkeypatch):
    base, served = server
    payload = toy_zip(served / "tiny-imagenet-200.zip")
    point_tiny_imagenet_at(monkeypatch, f"{base}/tiny-imagenet-200.zip", sha256(payload))
    with pytest.raises(registry.DatasetNotFoundError) as error:
        pipeline.preflight(get_profile("cpu"))
    assert (places["raw"] / "tiny-imagenet-200.zip").read_bytes() == payload
    assert serve_folder.requests == ["/tiny-imagenet-200.zip"]  # once, for train and val
    header, *lines = str(error.value).splitlines()
    assert header.startswith("1 of the datasets the cpu profile reads is missing")
    assert len(lines) == 1 and lines[0].strip().startswith("celeba (train): download ")


def test_preflight_of_the_ci_profile_reads_only_the_committed_sample(places):
    assert pipeline.datasets_read(get_profile("ci")) == {}
    pipeline.preflight(get_profile("ci"))  # nothing to find, nothing raised


# ------------------------------------------------------------------ the registry's coverage

@pytest.mark.parametrize("profile", sorted(PROFILES))
def test_every_split_a_profile_reads_has_a_source_and_a_checksum(profile):
    for dataset, splits in pipeline.datasets_read(get_profile(profile)).items():
        for split in splits:
            entry = registry.DATASETS[dataset].splits[split]
            assert entry.sample or any(a.url and a.url.startswith("http") for a in entry.archives) \
                or any(a.manual for a in entry.archives), (dataset, split)
            for archive in entry.archives:
                algorithm, digest = archive.checksum.split(":")
                assert len(digest) == {"md5": 32, "sha256": 64}[algorithm], archive.filename
            line = registry.fetch_line(dataset, split)
            assert "\n" not in line and line.startswith(f"{dataset} ({split}): ")
    assert set(pipeline.datasets_read(get_profile("cpu"))) == {"tiny-imagenet", "celeba", "coco"}


def test_yeh_test_faces_are_registered_and_found_where_archives_are(places):
    spec = registry.DATASETS["yeh-celeba"]
    archive = spec.splits["test"].archives[0]
    assert archive.filename == "yeh-celeba-testimages-65.zip"
    assert archive.checksum == ("sha256:18112566e8daa0123c6bebfd4056a29158cb1d8af5ceaeeb6538be1a"
                                "289de3cf")
    with zipfile.ZipFile(places["shared"] / archive.filename, "w") as fake:
        fake.writestr("testimages/000001.png", b"")
    assert registry.locate("yeh-celeba", "test") == (places["shared"] / archive.filename, archive)
    (places["shared"] / archive.filename).unlink()
    with pytest.raises(registry.DatasetNotFoundError, match="raw.githubusercontent.com/moodoki"):
        registry.locate("yeh-celeba", "test")


# ------------------------------------------------------------------ MSCOCO, committed

COCO = registry.SAMPLE_DIR / "coco"
COCO_ZIP = registry.SHARED_DIR / registry.COCO_100.filename
# sha256 of the uint8 (99, 64, 64, 3) array the study read from coco-train2014-100.zip
COCO_PIXELS = "8d1aee365011548a8ac4c161904d0d42999550f6e571f403b49a32ceaa683688"


def test_the_committed_coco_photographs_match_their_checksums():
    listed = {}
    for line in (COCO / "SHA256SUMS").read_text().splitlines():
        digest, name = line.split(maxsplit=1)
        listed[name] = digest
    on_disk = decoding.list_members(COCO, "*")
    assert len(on_disk) == 100 and sorted(listed) == on_disk
    for name in on_disk:
        assert hashlib.sha256((COCO / name).read_bytes()).hexdigest() == listed[name], name


def test_coco_is_read_from_the_committed_photographs_as_from_the_zip(places, monkeypatch):
    """The same 99 colour images (one greyscale dropped), in the same order, as the study read from
    coco-train2014-100.zip; found in data/sample/coco/ even when the zip lies in data/raw."""
    (places["raw"] / registry.COCO_100.filename).write_bytes(b"not read")
    assert registry.locate("coco", "val") == (COCO, None)
    images, report = data_cache.load_images("coco", "val", cache=False, verbose=False,
                                            return_report=True)
    assert images.shape == (99, 64, 64, 3) and report.greyscale == 1 and report.corrupt == 0
    assert hashlib.sha256(images.tobytes()).hexdigest() == COCO_PIXELS


@pytest.mark.skipif(not COCO_ZIP.is_file(), reason="needs ../shared (coco-train2014-100.zip)")
def test_the_committed_coco_photographs_are_the_zips_members_byte_for_byte():
    split = registry.DATASETS["coco"].splits["val"]
    members = decoding.list_members(COCO_ZIP, split.pattern)[split.start:split.stop]
    assert members == decoding.list_members(COCO, "*")
    with zipfile.ZipFile(COCO_ZIP) as archive:
        for name in members:
            assert archive.read(name) == (COCO / name).read_bytes(), name
    images, _ = decoding.decode_members(COCO_ZIP, members, "center-square")
    assert hashlib.sha256(images.tobytes()).hexdigest() == COCO_PIXELS

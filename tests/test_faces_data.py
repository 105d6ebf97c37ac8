"""Yeh et al.'s test faces are CelebA 000001-000070: no faces model trains on them, and our own
held-out faces stay apart from them, so that the two test sets of Table 1 are both unseen."""
from __future__ import annotations

import zipfile
from dataclasses import replace

import pytest

from inpaint.data import cache, registry
from inpaint.study import gans
from inpaint.study.profiles import PROFILES

THEIRS = {f"{number:06d}" for number in range(1, 71)}


@pytest.fixture(scope="module")
def celeba_listing(tmp_path_factory):
    """An archive laid out as the aligned CelebA copies are (names only: listing reads no
    image), 000001 to 010000."""
    path = tmp_path_factory.mktemp("celeba") / "celeba-10k.zip"
    with zipfile.ZipFile(path, "w") as archive:
        for number in range(1, 10_001):
            archive.writestr(f"img_align_celeba/{number:06d}.jpg", b"")
    return path


def face_numbers(members) -> set[str]:
    return {member.rsplit("/", 1)[-1][:6] for member in members}


def faces_training_sets():
    """(profile, run, dataset, limit) of every faces model the profiles train: each profile's own
    faces run and every model of the faces chapter's grid, in both crops."""
    for name, settings in PROFILES.items():
        celeba = gans.run_config(settings, "celeba")
        if celeba.dataset == "sample":  # the ci profile trains on the committed sample
            continue
        configs = [("celeba", celeba)] + [(model.name, gans.faces_config(settings, model))
                                          for model in settings.study.faces_models]
        for run, config in configs:
            for dataset in ("celeba", "celeba-yeh-crop"):
                yield name, run, dataset, config.limit


@pytest.mark.parametrize("profile, run, dataset, limit", list(faces_training_sets()))
def test_no_faces_model_trains_on_the_authors_test_faces(celeba_listing, profile, run, dataset,
                                                         limit):
    trained = face_numbers(cache.split_members(dataset, "train", celeba_listing, limit=limit))
    assert trained and not trained & THEIRS, (profile, run, dataset)
    held_out = face_numbers(cache.split_members(dataset, "val", celeba_listing))
    assert not held_out & THEIRS and not held_out & trained
    assert len(held_out) == 1_000


def test_the_training_pool_starts_after_the_authors_faces(celeba_listing):
    members = cache.split_members("celeba", "train", celeba_listing)
    assert members[0].endswith("000071.jpg") and members[-1].endswith("009000.jpg")
    assert len(members) == 9_000 - registry.YEH_TEST_FACES


def test_a_changed_split_decodes_again_instead_of_reading_the_old_cache(tmp_path, monkeypatch,
                                                                       celeba_listing):
    """The cache file names the slice of the archive it holds: a split that starts later is not
    read from the cache of the one that started at the first face."""
    names = []
    monkeypatch.setattr(cache, "CACHE_DIR", tmp_path)
    monkeypatch.setattr(cache, "locate", lambda *a, **k: (celeba_listing, registry.CELEBA_10K))
    monkeypatch.setattr(cache, "verify_checksum", lambda path, checksum: "0" * 64)
    monkeypatch.setattr(cache, "decode_members", lambda path, members, crop, desc: (
        names.append(members) or (__import__("numpy").zeros((len(members), 64, 64, 3), "uint8"),
                                  cache.DecodeReport(len(members), 0, 0))))
    cache.load_images("celeba", "train", limit=5, verbose=False)
    celeba = registry.DATASETS["celeba"]
    earlier = replace(celeba, splits={**celeba.splits,
                                      "train": replace(celeba.splits["train"], start=0)})
    monkeypatch.setitem(registry.DATASETS, "celeba", earlier)
    cache.load_images("celeba", "train", limit=5, verbose=False)
    assert len(names) == 2 and names[0] != names[1]


def test_table_1_s_three_readings_of_psnr_from_per_image_values():
    """Two images whose hole errors are 100 and 400 (grey levels²): the mean of their PSNRs,
    the PSNR of their mean error (lower: the worse image weighs more) and the whole-image mean."""
    import math
    import pandas as pd
    from inpaint.study.paper import PSNR_READINGS, readings
    psnr = [10 * math.log10(255 ** 2 / mse) for mse in (100, 400)]
    metrics = pd.DataFrame({"psnr_hole": psnr, "psnr_full": [p + 6.02 for p in psnr]})
    values = readings(metrics)
    assert list(values) == list(PSNR_READINGS)
    mean, pooled, whole = values.values()
    assert mean == pytest.approx(sum(psnr) / 2)
    assert pooled == pytest.approx(10 * math.log10(255 ** 2 / 250)) and pooled < mean
    assert whole == pytest.approx(mean + 6.02)


def test_a_finished_run_trained_on_other_images_is_refused_not_reused(tmp_path, monkeypatch):
    """A run whose checkpoints record other training images than its settings read now (as the
    faces runs trained before CelebA's first 70 faces left the split) is refused in one line,
    not silently reused; on the images it recorded, it is returned as it is."""
    import numpy as np
    from inpaint.study import gans
    from inpaint.training import train
    from inpaint.training.checkpoints import CheckpointError
    settings = PROFILES["ci"]
    monkeypatch.setattr(gans, "RUNS_DIR", tmp_path)
    config = replace(gans.run_config(settings, "celeba"), epochs=1, checkpoint_every=1)
    monkeypatch.setattr(gans, "run_config", lambda settings, name: config)
    run = gans.ensure_trained(settings, "celeba", progress=False)
    assert gans.ensure_trained(settings, "celeba", progress=False) == run
    original = train.training_images
    monkeypatch.setattr(train, "training_images", lambda config, source=None, verbose=True:
                        np.ascontiguousarray(original(config, source)[1:]))
    with pytest.raises(CheckpointError, match="trained on other images than profile 'ci' reads "
                                              "now .*move or delete it"):
        gans.ensure_trained(settings, "celeba", progress=False)

"""The images that tune the study (the checkpoint, the ablation) are not the images it is tested
on (issue 33, item 4): `validation_images`' tuning part is disjoint from its test part."""
from __future__ import annotations

import pytest
import torch

from inpaint.study import experiments
from inpaint.study.profiles import get_profile


def rows(images: torch.Tensor) -> set[bytes]:
    return {image.numpy().tobytes() for image in images}


def test_tuning_and_test_images_are_disjoint_on_the_committed_sample():
    settings = get_profile("ci")
    size = experiments.validation_size(settings)
    tuning_n = experiments.tuning_images(settings)
    test_n = settings.chapters["05_comparison"].images
    tuning = experiments.validation_images(settings, n=tuning_n, part="tuning")
    test = experiments.validation_images(settings, n=test_n)
    assert len(rows(tuning)) == tuning_n and len(rows(test)) == test_n
    assert not rows(tuning) & rows(test)
    assert experiments.tuning_overlap(settings, test_n, size) == 0
    # the first k of n are the same for every n >= k, in both parts
    assert torch.equal(experiments.validation_images(settings, n=3, part="tuning"), tuning[:3])
    # a split too small for both: the overlap counted is the overlap there is
    everything = experiments.validation_images(settings, n=size)
    assert experiments.tuning_overlap(settings, size, size) == len(rows(tuning) & rows(everything))
    with pytest.raises(ValueError, match="part must be one of"):
        experiments.validation_images(settings, n=2, part="train")


@pytest.mark.parametrize("profile", ["cpu", "full"])
def test_the_larger_profiles_fit_both_parts_in_tiny_imagenet_s_validation_split(profile):
    settings = get_profile(profile)
    assert experiments.tuning_overlap(settings, settings.chapters["05_comparison"].images,
                                      10_000) == 0


def test_images_seen_is_steps_times_batch_from_the_run_s_log():

    class Run:
        def log(self):
            import pandas as pd
            return pd.DataFrame({"step": range(12), "epoch": [1] * 4 + [2] * 4 + [3] * 4})

        def config(self):
            return {"batch_size": 16}

    assert experiments.images_seen(Run(), 2) == 8 * 16
    assert experiments.images_seen(Run(), 3) == 12 * 16

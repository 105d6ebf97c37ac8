"""The latent solver: Yeh's weights, the perceptual term, stopping rules, multi-start, batching."""
from __future__ import annotations

import sys
from dataclasses import replace

import numpy as np
import pytest
import torch

from inpaint.method import solver
from inpaint.method.blend import paste
from inpaint.method.masks import center
from inpaint.method.solver import (SolverConfig, complete, context_loss, image_keys, initial_codes,
                                   perceptual_loss, yeh_weights)
from inpaint.training.checkpoints import checkpoints, load_models


@pytest.fixture(scope="module")
def models(ci_run):
    return load_models(checkpoints(ci_run)[3])


def test_yeh_weights_by_hand():
    """A 5x5 image whose centre pixel is the hole, window 3: each known neighbour of the hole
    sees 1 hole pixel among the in-image pixels of its 3x3 window."""
    mask = torch.ones(1, 1, 5, 5)
    mask[0, 0, 2, 2] = 0
    weights = yeh_weights(mask, window=3)[0, 0]
    expected = torch.zeros(5, 5)
    expected[1:4, 1:4] = 1 / 9
    expected[2, 2] = 0  # the hole itself has no weight
    torch.testing.assert_close(weights, expected)
    # At the image border the window is cut to the pixels inside the image.
    corner = torch.ones(1, 1, 5, 5)
    corner[0, 0, 0, 0] = 0
    assert yeh_weights(corner, window=3)[0, 0, 1, 1] == pytest.approx(1 / 9)
    assert yeh_weights(corner, window=3)[0, 0, 0, 1] == pytest.approx(1 / 6)


def test_yeh_weights_favour_pixels_near_the_hole():
    weights = yeh_weights(center(1), window=7)[0, 0]
    assert weights[15, 31] > weights[13, 31] > weights[12, 31] == 0  # 1, 3 and 4 rows away
    assert (weights[16:48, 16:48] == 0).all()
    assert weights.max() <= 1 and weights.min() >= 0


def test_context_loss_norms_on_known_values():
    generated, y = torch.full((1, 3, 4, 4), 0.5), torch.zeros(1, 3, 4, 4)
    weights = torch.ones(1, 1, 4, 4)
    weights[..., 0, 0] = 0
    assert context_loss(generated, y, weights, "l1").item() == pytest.approx(45 * 0.5)
    assert context_loss(generated, y, weights, "l2").item() == pytest.approx(45 * 0.25)


def test_perceptual_term_decreases_as_d_finds_the_image_real():
    logits = torch.tensor([-3.0, 0.0, 3.0], requires_grad=True)
    loss = perceptual_loss(logits)
    torch.testing.assert_close(loss, torch.log(1 - torch.sigmoid(logits)))
    loss.sum().backward()
    assert (logits.grad < 0).all()  # raising D's logit lowers the loss: descent makes it more real
    assert torch.isfinite(perceptual_loss(torch.tensor([80.0, -80.0]))).all()


@pytest.mark.parametrize("optimizer,lr", [("adam", 0.05), ("gd", 1e-3)])
def test_solver_lowers_the_loss(models, sample_val, optimizer, lr):
    """In float32: plain gradient descent with this small step lowers the loss by less than
    bfloat16's rounding of it, so under bf16 a loss may end a hair above where it started."""
    generator, discriminator = models
    config = SolverConfig(optimizer=optimizer, lr=lr, iters=40, tol=0.0, precision="fp32")
    result = complete(generator, discriminator, sample_val[:4], center(4), config, progress=False)
    first, last = result.history["loss"][0], result.loss.numpy()
    assert (last < first).all()
    assert result.generated.shape == (4, 3, 64, 64)


def test_gd_stopping_rule_is_honoured_per_image(models, sample_val):
    generator, discriminator = models
    probe = SolverConfig(optimizer="gd", lr=1e-3, iters=5, tol=0.0)
    grads = complete(generator, discriminator, sample_val[:4], center(4), probe,
                     progress=False).history["grad_l1"][0]
    tol = float(sorted(grads)[1]) + 1e-6  # the two smallest gradients are below it at the start
    config = replace(probe, iters=25, tol=tol)
    result = complete(generator, discriminator, sample_val[:4], center(4), config, progress=False)
    stopped = result.iterations < config.iters
    assert stopped.sum() >= 2
    for i in range(4):
        n = int(result.iterations[i])
        history = result.history["grad_l1"][:, i]
        assert (history[:n] >= tol).all()  # it kept going while the gradient was large
        if n < config.iters:
            assert history[n] < tol  # and stopped at the first small one


def test_adam_keeps_z_in_the_prior_box(models, sample_val):
    generator, discriminator = models
    result = complete(generator, discriminator, sample_val[:2], center(2),
                      SolverConfig(lr=0.5, iters=10), progress=False)
    assert result.z.abs().max() <= 1


def test_multistart_never_worse_than_its_best_single_start(models, sample_val):
    generator, discriminator = models
    config = SolverConfig(iters=15, restarts=3, seed=7)
    y, mask = sample_val[:3], center(3)
    multi = complete(generator, discriminator, y, mask, config, progress=False)
    starts = initial_codes(image_keys(y, mask), config)
    single = replace(config, restarts=1)
    for k in range(3):
        alone = complete(generator, discriminator, y, mask, single, z0=starts[k::3], progress=False)
        assert (multi.loss <= alone.loss + 1e-4).all()
    torch.testing.assert_close(multi.loss, multi.start_losses.min(dim=1).values)
    # Start 0 of a K-start run is the single-start run's code, whatever K is.
    default_single = complete(generator, discriminator, y, mask, single, progress=False)
    torch.testing.assert_close(default_single.loss, multi.start_losses[:, 0])


def test_an_images_result_does_not_depend_on_its_batch(models, sample_val):
    """The starting codes and every pass are per image: an image gives the same fill alone, at
    another place in a batch, and beside copies of itself (which give the same fill too)."""
    generator, discriminator = models
    config = SolverConfig(iters=10, restarts=2)
    together = complete(generator, discriminator, sample_val[:6], center(6), config,
                        progress=False)
    alone = complete(generator, discriminator, sample_val[2:3], center(1), config,
                     progress=False)
    torch.testing.assert_close(together.generated[2:3], alone.generated, atol=1e-5, rtol=1e-4)
    reordered = complete(generator, discriminator, sample_val[[4, 2]], center(2), config,
                         progress=False)
    torch.testing.assert_close(reordered.generated[1:2], alone.generated, atol=1e-5, rtol=1e-4)
    copies = complete(generator, discriminator, sample_val[[2, 2, 2]], center(3), config,
                      progress=False)
    for i in range(3):
        torch.testing.assert_close(copies.generated[i:i + 1], alone.generated, atol=1e-5,
                                   rtol=1e-4)
    assert generator.training is False and discriminator.training is False


def test_starting_codes_follow_the_image_not_its_place(sample_val):
    config = SolverConfig(restarts=3, seed=1)
    keys = image_keys(sample_val[:4], center(4))
    assert len(set(keys)) == 4
    codes = initial_codes(keys, config).view(4, 3, -1)
    again = initial_codes(keys[::-1], config).view(4, 3, -1)
    torch.testing.assert_close(codes, again.flip(0), atol=0, rtol=0)
    # Hidden pixels do not change an image's key; another seed changes its codes.
    hidden = sample_val[:1].clone()
    hidden[:, :, 16:48, 16:48] = 0.5
    assert image_keys(hidden, center(1)) == keys[:1]
    other = initial_codes(keys, replace(config, seed=2)).view(4, 3, -1)
    assert (other - codes).abs().amax() > 0.1


@pytest.mark.parametrize("combine", ["best", "mean"])
def test_hidden_pixels_are_never_used(models, sample_val, combine):
    generator, discriminator = models
    config = SolverConfig(iters=5, restarts=3, combine=combine)
    y = sample_val[:2].clone()
    first = complete(generator, discriminator, y, center(2), config, progress=False)
    y[:, :, 16:48, 16:48] = torch.rand(2, 3, 32, 32) * 2 - 1
    second = complete(generator, discriminator, y, center(2), config, progress=False)
    torch.testing.assert_close(first.generated, second.generated, atol=0, rtol=0)
    torch.testing.assert_close(first.starts, second.starts, atol=0, rtol=0)


def test_the_ensemble_is_the_mean_of_every_start_and_best_is_one_of_them(models, sample_val):
    generator, discriminator = models
    y, mask = sample_val[:3], center(3)
    best = complete(generator, discriminator, y, mask, SolverConfig(iters=5, restarts=4),
                    progress=False)
    mean = complete(generator, discriminator, y, mask,
                    SolverConfig(iters=5, restarts=4, combine="mean"), progress=False)
    assert best.starts.shape == (3, 4, 3, 64, 64)
    torch.testing.assert_close(mean.generated, best.starts.mean(dim=1))
    chosen = best.start_losses.argmin(dim=1)
    torch.testing.assert_close(best.generated, best.starts[torch.arange(3), chosen])
    # The starts differ, so their mean is a new image, not one of them.
    assert (mean.generated - best.generated).abs().amax() > 1e-3


def test_nan_in_known_pixels_is_refused_but_allowed_in_the_hole(models, sample_val):
    generator, discriminator = models
    y = sample_val[:1].clone()
    y[0, :, 16:48, 16:48] = float("nan")  # a hole marked with NaN is fine
    result = complete(generator, discriminator, y, center(1), SolverConfig(iters=2), progress=False)
    assert torch.isfinite(result.generated).all()
    y[0, 0, 0, 0] = float("nan")
    with pytest.raises(ValueError, match="NaN"):
        complete(generator, discriminator, y, center(1), SolverConfig(iters=1), progress=False)


# Speed paths (issue 11): precision, layout, history kept on the device, stop checks on a GPU.

def test_precision_setting_is_validated():
    with pytest.raises(ValueError, match=r"precision must be one of \['auto', 'bf16', 'fp32'\]"):
        SolverConfig(precision="fp16")


@pytest.mark.parametrize("precision,dtype", [("bf16", torch.bfloat16), ("fp32", torch.float32)])
def test_passes_run_in_the_chosen_precision_and_layout_and_the_result_is_fp32(
        models, sample_val, precision, dtype):
    generator, discriminator = models
    seen = set()
    hooks = [network.net[0].register_forward_hook(lambda m, i, out: seen.add(out.dtype))
             for network in (generator, discriminator)]
    try:
        result = complete(generator, discriminator, sample_val[:2], center(2),
                          SolverConfig(iters=3, precision=precision), progress=False)
    finally:
        for hook in hooks:
            hook.remove()
    assert dtype in seen  # the loop's passes; the final one is float32 whatever the precision
    assert generator.net[0].weight.is_contiguous(memory_format=torch.channels_last)
    for tensor in (result.generated, result.z, result.loss, result.context, result.perceptual):
        assert tensor.dtype == torch.float32
    assert result.generated.is_contiguous()
    assert result.history["loss"].dtype == result.history["grad_l1"].dtype == np.float32


def test_bf16_and_fp32_agree_and_never_touch_a_known_pixel(models, sample_val):
    generator, discriminator = models
    y, mask = sample_val[:4], center(4)
    results = {precision: complete(generator, discriminator, y, mask,
                                   SolverConfig(iters=20, restarts=2, precision=precision),
                                   progress=False)
               for precision in ("bf16", "fp32")}
    torch.testing.assert_close(results["bf16"].generated, results["fp32"].generated,
                               atol=0.05, rtol=0)
    torch.testing.assert_close(results["bf16"].loss, results["fp32"].loss, atol=0, rtol=0.02)
    known = (mask > 0.5).expand_as(y)
    for result in results.values():
        assert torch.equal(paste(y, result.generated, mask)[known], y[known])


def test_the_solver_reads_nothing_back_from_the_device_inside_its_loop(models, sample_val,
                                                                      monkeypatch):
    """Every read of a tensor's value by the solver's own code waits for a GPU; there must be as
    many for 2 iterations as for 9 (the history is copied once, at the end)."""
    generator, discriminator = models
    reads = []
    for name in ("cpu", "item", "tolist", "numpy", "__bool__", "__int__", "__float__"):
        original = getattr(torch.Tensor, name)

        def counted(self, *args, _original=original, _name=name, **kwargs):
            if sys._getframe(1).f_globals.get("__name__") == solver.__name__:
                reads.append(_name)
            return _original(self, *args, **kwargs)
        monkeypatch.setattr(torch.Tensor, name, counted)
    counts = []
    for iters in (2, 9):
        reads.clear()
        complete(generator, discriminator, sample_val[:2], center(2), SolverConfig(iters=iters),
                 progress=False)
        counts.append(len(reads))
    assert counts[0] == counts[1] > 0


def test_checking_for_stopped_images_now_and_then_changes_nothing(models, sample_val,
                                                                  monkeypatch):
    """On a GPU, "gd" asks whether all images stopped only every few iterations; the extra
    iterations must leave the result, the iteration counts and the history as they were."""
    generator, discriminator = models
    y, mask = sample_val[:4], center(4)
    probe = SolverConfig(optimizer="gd", lr=0.01, iters=30, tol=0.0)
    grads = complete(generator, discriminator, y, mask, probe, progress=False).history["grad_l1"]
    # Each image's gradient falls below this tol at some iteration: every image stops early.
    config = replace(probe, tol=float(grads.min(axis=0).max()) * 1.0001)
    every_time = complete(generator, discriminator, y, mask, config, progress=False)
    assert (every_time.iterations < config.iters).all()
    monkeypatch.setattr(solver, "stop_check_every", lambda device: 7)
    now_and_then = complete(generator, discriminator, y, mask, config, progress=False)
    assert torch.equal(every_time.iterations, now_and_then.iterations)
    assert torch.equal(every_time.generated, now_and_then.generated)
    for name in ("loss", "grad_l1"):
        np.testing.assert_array_equal(every_time.history[name], now_and_then.history[name])


@pytest.mark.parametrize("optimizer, lr", [("adam", 0.01), ("gd", 1e-3)])
def test_the_fill_at_a_checkpoint_of_a_long_run_is_a_short_runs_fill(models, sample_val,
                                                                      optimizer, lr):
    """One search gives the result at every budget: what `at[k]` holds after 12 iterations is,
    bit for bit, what a run of k iterations returns (fill, codes, loss terms, best start, history),
    with several starts and either rule, so the budget chapter's curves are those of separate runs."""
    G, D = models
    y, mask = sample_val[:3], center(3)
    config = SolverConfig(optimizer=optimizer, lr=lr, iters=12, restarts=3, tol=0.0,
                          precision="fp32")
    long = complete(G, D, y, mask, config, progress=False, checkpoints=(3, 7, 12))
    assert list(long.at) == [3, 7, 12]
    for k, snapshot in long.at.items():
        short = complete(G, D, y, mask, replace(config, iters=k), progress=False)
        for name in ("generated", "z", "loss", "context", "perceptual", "iterations",
                     "start_losses", "starts"):
            assert torch.equal(getattr(snapshot, name), getattr(short, name)), (k, name)
        for name in ("loss", "grad_l1"):
            assert np.array_equal(snapshot.history[name], short.history[name]), (k, name)
    assert not torch.equal(long.at[3].generated, long.at[12].generated)  # the search moved
    with pytest.raises(ValueError, match="checkpoints must be"):
        complete(G, D, y, mask, config, progress=False, checkpoints=(13,))

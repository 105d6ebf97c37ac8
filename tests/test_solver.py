"""The latent solver: Yeh's weights, the perceptual term, stopping rules, multi-start, batching."""
from __future__ import annotations

from dataclasses import replace

import pytest
import torch

from inpaint.masks import center
from inpaint.solver import (SolverConfig, complete, context_loss, initial_codes, perceptual_loss,
                            yeh_weights)
from inpaint.train import checkpoints, load_models


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
    generator, discriminator = models
    config = SolverConfig(optimizer=optimizer, lr=lr, iters=40, tol=0.0)
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
    starts = initial_codes(3, config)
    single = replace(config, restarts=1)
    for k in range(3):
        alone = complete(generator, discriminator, y, mask, single, z0=starts[k::3], progress=False)
        assert (multi.loss <= alone.loss + 1e-4).all()
    torch.testing.assert_close(multi.loss, multi.start_losses.min(dim=1).values)
    # Start 0 of a K-start run is the single-start run's code, whatever K is.
    default_single = complete(generator, discriminator, y, mask, single, progress=False)
    torch.testing.assert_close(default_single.loss, multi.start_losses[:, 0])


def test_an_images_result_does_not_depend_on_its_batch(models, sample_val):
    generator, discriminator = models
    config = SolverConfig(iters=10, restarts=1)
    starts = initial_codes(6, config)
    together = complete(generator, discriminator, sample_val[:6], center(6), config, z0=starts,
                        progress=False)
    alone = complete(generator, discriminator, sample_val[2:3], center(1), config,
                     z0=starts[2:3], progress=False)
    torch.testing.assert_close(together.generated[2:3], alone.generated, atol=1e-5, rtol=1e-4)
    assert generator.training is False and discriminator.training is False


def test_hidden_pixels_are_never_used(models, sample_val):
    generator, discriminator = models
    config = SolverConfig(iters=5)
    y = sample_val[:2].clone()
    first = complete(generator, discriminator, y, center(2), config, progress=False)
    y[:, :, 16:48, 16:48] = torch.rand(2, 3, 32, 32)
    second = complete(generator, discriminator, y, center(2), config, progress=False)
    torch.testing.assert_close(first.generated, second.generated)


def test_nan_in_known_pixels_is_refused_but_allowed_in_the_hole(models, sample_val):
    generator, discriminator = models
    y = sample_val[:1].clone()
    y[0, :, 16:48, 16:48] = float("nan")  # a hole marked with NaN is fine
    result = complete(generator, discriminator, y, center(1), SolverConfig(iters=2), progress=False)
    assert torch.isfinite(result.generated).all()
    y[0, 0, 0, 0] = float("nan")
    with pytest.raises(ValueError, match="NaN"):
        complete(generator, discriminator, y, center(1), SolverConfig(iters=1), progress=False)

"""The methods after Yeh: Deep Generative Prior, Intermediate Layer Optimization and an encoder's
start, on the committed sample photographs and the `ci` run's networks."""
from __future__ import annotations

import pandas as pd
import pytest
import torch

from inpaint.method.blend import paste
from inpaint.method.dgp import (DGPConfig, choose_start, dgp_complete, discriminator_features,
                                fine_tune, generator_blocks)
from inpaint.method.encoder import EncoderConfig, encode, train_encoder
from inpaint.method.ilo import ILOConfig, ilo_complete, project_l1_ball
from inpaint.method.masks import center, make_mask
from inpaint.method.models import sample_z
from inpaint.method.solver import SolverConfig, complete, context_loss, context_weights
from inpaint.study import after_yeh, wording
from inpaint.study.fills import CLASSICAL
from inpaint.tools import pages
from inpaint.training.checkpoints import checkpoints, load_models

SMALL_DGP = DGPConfig(candidates=16, iters=(8, 8), blocks=(1, 5), g_lrs=(2e-3, 1e-3),
                      z_lrs=(1e-2, 1e-3), w_features=(1.0, 0.1), w_mse=(10.0, 100.0))


@pytest.fixture
def models(ci_run):
    return load_models(checkpoints(ci_run)[3])


def known_error(images, y, mask):
    """Mean squared error on the known pixels, per image."""
    return ((images - y) * mask).pow(2).flatten(1).sum(1) / (mask.flatten(1).sum(1) * 3)


# Deep Generative Prior

def test_dgp_moves_the_generator_and_fits_the_known_pixels_better_than_its_start(models,
                                                                               sample_val):
    generator, discriminator = models
    before = [p.clone() for p in generator.parameters()]
    y, mask = sample_val[:2], center(2)
    result = dgp_complete(generator, discriminator, y, mask, SMALL_DGP, progress=False)
    assert result.generated.shape == (2, 3, 64, 64) and result.stages.shape == (2, 2, 3, 64, 64)
    assert torch.equal(result.generated, result.stages[-1])
    assert (known_error(result.generated, y, mask) < known_error(result.start, y, mask)).all()
    assert all(torch.equal(p, q) for p, q in zip(before, generator.parameters())), \
        "the caller's generator must be left as it was"
    filled = paste(y, result.generated, mask)
    assert torch.equal(filled * mask, y * mask)


def test_dgp_fine_tunes_only_the_blocks_of_each_stage(models, sample_val):
    generator, discriminator = models
    y, mask = sample_val[:1], center(1)
    z0 = sample_z(1, generator=torch.Generator().manual_seed(0))
    config = DGPConfig(candidates=1, iters=(5,), blocks=(2,), g_lrs=(1e-3,), z_lrs=(1e-2,),
                       w_features=(1.0,), w_mse=(10.0,))
    tuned, z, fills = fine_tune(generator, discriminator, y, mask, z0, config)
    changed = [not all(torch.equal(p, q) for p, q in zip(a, b))
               for a, b in zip(generator_blocks(generator), generator_blocks(tuned))]
    assert changed == [True, True, False, False, False]
    assert not torch.equal(z, z0) and z.abs().max() <= 1
    assert fills.shape == (1, 3, 64, 64)


def test_dgp_chooses_the_candidate_closest_in_the_discriminator_s_features(models, sample_val):
    """The start is the candidate whose features are nearest: given G's own image of one
    candidate as the photograph, that candidate wins."""
    generator, discriminator = models
    generator.eval(), discriminator.eval()
    candidates = sample_z(12, generator=torch.Generator().manual_seed(3))
    with torch.no_grad():
        y = generator(candidates[7:8])
    chosen = choose_start(generator, discriminator, y, center(1), candidates, last=3)
    assert torch.equal(chosen, candidates[7:8])
    assert len(discriminator_features(discriminator, y)) == 4


def test_dgp_gives_an_image_the_same_fill_alone_in_a_batch_and_again(models, sample_val):
    generator, discriminator = models
    y, mask = sample_val[:3], center(3)
    together = dgp_complete(generator, discriminator, y, mask, SMALL_DGP, progress=False)
    alone = dgp_complete(generator, discriminator, y[1:2], mask[1:2], SMALL_DGP, progress=False)
    assert torch.equal(together.generated[1:2], alone.generated)
    again = dgp_complete(generator, discriminator, y[1:2], mask[1:2], SMALL_DGP, progress=False)
    assert torch.equal(again.generated, alone.generated)
    hidden = torch.where(mask[1:2] > 0.5, y[1:2], torch.rand_like(y[1:2]))
    unseen = dgp_complete(generator, discriminator, hidden, mask[1:2], SMALL_DGP, progress=False)
    assert torch.equal(unseen.generated, alone.generated), "hidden pixels must not matter"


def test_dgp_refuses_a_stage_list_of_the_wrong_length():
    with pytest.raises(ValueError, match="blocks must have one value per stage"):
        DGPConfig(iters=(10, 10), blocks=(1,), g_lrs=(1e-4, 1e-4), z_lrs=(1e-3, 1e-3),
                  w_features=(1.0, 1.0), w_mse=(1.0, 1.0))


# Intermediate Layer Optimization

def test_the_l1_projection_is_the_closest_point_of_the_ball():
    assert torch.equal(project_l1_ball(torch.tensor([0.2, -0.3]), 1.0), torch.tensor([0.2, -0.3]))
    torch.testing.assert_close(project_l1_ball(torch.tensor([3.0, 1.0]), 2.0),
                               torch.tensor([2.0, 0.0]))
    torch.testing.assert_close(project_l1_ball(torch.tensor([[1.0, -1.0]]), 1.0),
                               torch.tensor([[0.5, -0.5]]))
    v = torch.randn(500, generator=torch.Generator().manual_seed(0))
    w = project_l1_ball(v, 10.0)
    assert w.abs().sum() == pytest.approx(10.0, rel=1e-5)
    for _ in range(50):  # no other point of the ball is closer
        other = project_l1_ball(w + 0.05 * torch.randn(500), 10.0)
        assert (other - v).norm() >= (w - v).norm() - 1e-5
    assert torch.equal(project_l1_ball(v, 0.0), torch.zeros_like(v))


def test_ilo_lowers_yeh_s_loss_below_the_search_it_starts_from(models, sample_val):
    generator, discriminator = models
    y, mask = sample_val[:2], center(2)
    objective = SolverConfig(iters=20, restarts=1)
    search = complete(generator, discriminator, y, mask, objective, progress=False)
    config = ILOConfig(layers=(1, 2), steps=(15, 15), radius=0.5)
    result = ilo_complete(generator, discriminator, y, mask, search.z, config, objective,
                          progress=False)
    torch.testing.assert_close(result.start_loss, search.loss.float(), atol=1e-3, rtol=1e-4)
    assert (result.loss < result.start_loss).all()
    weights = context_weights(mask, objective)
    assert (context_loss(result.generated, torch.where(weights > 0, y, 0.0), weights, "l1")
            < search.context).all()
    assert result.rounds.shape == (2, 2, 3, 64, 64)


def test_ilo_with_a_ball_of_radius_0_returns_the_search_s_image(models, sample_val):
    generator, discriminator = models
    y, mask = sample_val[:1], center(1)
    z = sample_z(1, generator=torch.Generator().manual_seed(1))
    result = ilo_complete(generator, discriminator, y, mask, z,
                          ILOConfig(layers=(1,), steps=(5,), radius=0.0), progress=False)
    with torch.no_grad():
        torch.testing.assert_close(result.generated, generator(z))


def test_ilo_gives_an_image_the_same_fill_alone_and_in_a_batch(models, sample_val):
    generator, discriminator = models
    y, mask = sample_val[:3], make_mask("pattern", 3, seed=2)
    z = sample_z(3, generator=torch.Generator().manual_seed(2))
    config = ILOConfig(layers=(1, 3), steps=(6, 6), radius=0.5)
    together = ilo_complete(generator, discriminator, y, mask, z, config, progress=False)
    alone = ilo_complete(generator, discriminator, y[2:], mask[2:], z[2:], config, progress=False)
    assert torch.equal(together.generated[2:], alone.generated)


def test_ilo_refuses_layers_that_do_not_go_deeper():
    with pytest.raises(ValueError, match="layers must rise"):
        ILOConfig(layers=(2, 1), steps=(10, 10))


# The encoder's start

def test_the_encoder_learns_codes_closer_than_chance_and_its_start_helps_the_search(models,
                                                                                    sample_val):
    generator, discriminator = models
    config = EncoderConfig(width=16, steps=150, batch=32, lr=1e-3)
    trained = train_encoder(generator, config, progress=False)
    assert sum(trained.code_losses[-20:]) < sum(trained.code_losses[:20])
    z = sample_z(64, generator=torch.Generator().manual_seed(99))  # codes it never trained on
    mask = center(64)
    with torch.no_grad():
        x = generator(z)
    guess = encode(trained.encoder, x, mask)
    assert guess.abs().max() < 1
    chance = (sample_z(64, generator=torch.Generator().manual_seed(5)) - z).pow(2).mean()
    assert (guess - z).pow(2).mean() < 0.9 * chance
    objective = SolverConfig(iters=1, restarts=1, lam=0.0)  # the loss at the start
    from_encoder = complete(generator, discriminator, x, mask, objective, z0=guess,
                            progress=False)
    from_chance = complete(generator, discriminator, x, mask, objective, progress=False)
    assert from_encoder.context.mean() < from_chance.context.mean()


def test_an_image_s_code_does_not_depend_on_its_batch_nor_on_its_hidden_pixels(models,
                                                                             sample_val):
    generator, _ = models
    trained = train_encoder(generator, EncoderConfig(width=8, steps=3, batch=8), progress=False)
    again = train_encoder(generator, EncoderConfig(width=8, steps=3, batch=8), progress=False)
    assert trained.losses == again.losses
    y, mask = sample_val[:4], center(4)
    codes = encode(trained.encoder, y, mask)
    assert torch.equal(codes[3:], encode(trained.encoder, y[3:], mask[3:]))
    noisy = torch.where(mask > 0.5, y, torch.rand_like(y))
    assert torch.equal(encode(trained.encoder, noisy, mask), codes)


def test_the_encoder_refuses_an_unknown_mask_kind():
    with pytest.raises(ValueError, match="unknown mask kind"):
        EncoderConfig(mask="circle")


# The chapter's computation and its answer

def synthetic(gain: dict, realism: dict, n: int = 40, seed: int = 0):
    """Per-image tables as `after_yeh.run` returns them: each method's hole PSNR is Telea's plus
    `gain[method]` plus noise, its critic score Telea's plus `realism[method]` plus noise."""
    import numpy as np
    rng = np.random.default_rng(seed)
    base, score = rng.normal(15, 2, n), rng.uniform(0.3, 0.9, n)
    methods = {"telea": 0.0, "navier-stokes": -0.1, "biharmonic": -0.3, "mean": -2.0,
               "GAN (poisson)": -0.7, **gain}
    metrics = pd.concat([pd.DataFrame({"image": range(n), "method": m,
                                       "psnr_hole": base + g + rng.normal(0, 0.3, n)})
                         for m, g in methods.items()], ignore_index=True)
    caught = pd.concat([pd.DataFrame({"image": range(n), "method": m,
                                      "caught": score + realism.get(m, 0.0)
                                      + rng.normal(0, 0.02, n)})
                        for m in methods], ignore_index=True)
    return metrics, caught


def test_the_answer_names_a_method_closer_than_telea_and_no_easier_to_catch():
    metrics, caught = synthetic({after_yeh.DGP: 1.0, after_yeh.ILO: 0.02},
                                {after_yeh.DGP: 0.0, after_yeh.ILO: 0.0})
    table = after_yeh.answer_table(metrics, caught)
    assert list(table.index) == [after_yeh.DGP, after_yeh.ILO]
    assert table.loc[after_yeh.DGP, "both"] and not table.loc[after_yeh.ILO, "closer"]
    text = after_yeh.answer(metrics, caught)
    assert "Closer than Telea and no easier to catch: DGP (Poisson)." in text
    assert "DGP (Poisson) is above Telea by" in text and "Holm-corrected over 5" in text


def test_a_method_closer_but_easier_to_catch_is_not_the_answer():
    metrics, caught = synthetic({after_yeh.DGP: 1.0}, {after_yeh.DGP: 0.2})
    table = after_yeh.answer_table(metrics, caught)
    assert table.loc[after_yeh.DGP, "closer"] and not table.loc[after_yeh.DGP, "no_easier"]
    text = after_yeh.answer(metrics, caught)
    assert "No method after Yeh is both closer than Telea and no easier to catch" in text
    assert "The closest, DGP (Poisson), is +" in text


def test_the_front_page_s_sentence_names_the_answer_or_the_closest_method_with_its_interval():
    metrics, caught = synthetic({after_yeh.DGP: 1.0, after_yeh.ILO: 0.02},
                                {after_yeh.DGP: 0.0, after_yeh.ILO: 0.0})
    sentence = pages.after_yeh_sentence(metrics, caught)
    assert sentence.startswith("Of the GAN-prior methods that followed Yeh (DGP (Poisson) and "
                               "ILO (Poisson)), on the same 40 photographs, DGP (Poisson) is "
                               "closer to the truth than Telea and no easier")
    metrics, caught = synthetic({after_yeh.DGP: 1.0, after_yeh.ILO: -0.5},
                                {after_yeh.DGP: 0.2, after_yeh.ILO: 0.0})
    sentence = pages.after_yeh_sentence(metrics, caught)
    row = after_yeh.answer_table(metrics, caught).loc[after_yeh.DGP]
    assert "none is both closer to the truth than Telea and no easier" in sentence
    assert "(DGP (Poisson) is closer but easier to catch)" in sentence
    assert (f"the closest, DGP (Poisson), is {row.psnr_difference:+.2f} dB "
            f"[{row.psnr_low:+.2f}, {row.psnr_high:+.2f}] from Telea" in sentence)


def test_the_summary_keeps_the_run_s_order_and_scores_each_method_over_its_images():
    metrics, caught = synthetic({after_yeh.DGP: 1.0}, {after_yeh.DGP: 0.1})
    metrics = metrics.assign(ssim_hole=0.5)
    caught.loc[(caught.method == "telea") & (caught.image < 10), "caught"] = float("nan")
    seconds = pd.DataFrame({"method": metrics.method.unique(), "seconds": 1.0})
    table = after_yeh.summary(metrics, caught, seconds)
    assert list(table.index) == list(metrics.method.unique())
    telea = caught[(caught.method == "telea")].caught.dropna()
    assert table.loc["telea", "score"] == pytest.approx(telea.mean())
    assert table.loc["telea", "score_low"] < telea.mean() < table.loc["telea", "score_high"]
    assert table.loc[after_yeh.DGP, "psnr_hole"] == pytest.approx(
        metrics[metrics.method == after_yeh.DGP].psnr_hole.mean())


def test_the_chapter_fills_every_method_on_the_same_images_and_pairs_the_critic(models,
                                                                                sample_val):
    generator, discriminator = models
    truth, real = sample_val[:8], sample_val[8:16]
    result = after_yeh.run(
        generator, discriminator, truth, real, SolverConfig(iters=5, restarts=2),
        DGPConfig(candidates=4, iters=(3,), blocks=(2,), g_lrs=(1e-3,), z_lrs=(1e-2,),
                  w_features=(1.0,), w_mse=(10.0,)),
        ILOConfig(layers=(1,), steps=(3,)), EncoderConfig(width=8, steps=3, batch=8),
        seeds=2, critic_steps=5, progress=False)
    expected = {"GAN (poisson)", "GAN, 1 start (poisson)", "GAN ensemble of 2 (poisson)",
                *after_yeh.NEW, *CLASSICAL}
    assert set(result.metrics.method) == expected
    assert (result.metrics.groupby("method").image.nunique() == 8).all()
    assert set(result.caught.method) == expected
    assert set(result.seconds.method) == expected and (result.seconds.seconds >= 0).all()
    for name in expected:  # every fill keeps the known pixels
        known = make_mask("center", 8).bool().expand(-1, 3, -1, -1)
        assert torch.allclose(result.fills[name][known], truth[known], atol=1e-5), name
    assert result.dgp_stages.shape == (1, 8, 3, 64, 64)
    assert len(result.encoder_losses) == 3
    text = after_yeh.answer(result.metrics, result.caught)
    for name in after_yeh.NEW:
        assert wording.method(name) in text


def test_dgp_and_ilo_refuse_known_pixels_that_are_not_numbers_in_one_line(models, sample_val):
    generator, discriminator = models
    y, mask = sample_val[:1].clone(), center(1)
    y[0, 0, 0, 0] = float("nan")  # a known pixel (the corner)
    with pytest.raises(ValueError, match="known pixels .* NaN or infinite"):
        dgp_complete(generator, discriminator, y, mask, SMALL_DGP, progress=False)
    with pytest.raises(ValueError, match="known pixels .* NaN or infinite"):
        ilo_complete(generator, discriminator, y, mask, sample_z(1), ILOConfig(layers=(1,),
                     steps=(2,)), progress=False)


def test_paired_verdicts_and_both_targets_follow_the_holm_adjusted_intervals():
    """`fills.paired_verdicts`: closer when the PSNR interval is above 0, more realistic when the
    critic's score interval is below 0; `both_targets` asks both of a fill against every
    classical fill, image by image."""
    from inpaint.study import fills
    metrics, caught = synthetic({after_yeh.DGP: 1.0, after_yeh.ILO: 1.0},
                                {after_yeh.DGP: -0.2, after_yeh.ILO: 0.2})
    verdicts = fills.paired_verdicts(metrics, caught, after_yeh.DGP, CLASSICAL)
    assert list(verdicts.index) == list(CLASSICAL)
    assert verdicts.closer.all() and verdicts.more_realistic.all()
    families = fills.paired_families(metrics, caught, after_yeh.DGP, CLASSICAL)
    assert verdicts.loc["telea", "psnr_low"] == families["psnr"]["telea"].low  # Holm-adjusted
    targets = fills.both_targets(metrics, caught, [after_yeh.DGP, after_yeh.ILO])
    assert targets.both.to_dict() == {after_yeh.DGP: True, after_yeh.ILO: False}
    assert targets.loc[after_yeh.ILO, "closer"] and not targets.loc[after_yeh.ILO, "more_realistic"]

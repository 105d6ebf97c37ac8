"""The result cache: a rerun with one more λ searches only for that λ, and tables made from
cached results are byte-identical to a cold run's."""
from dataclasses import replace

import pytest
import torch

from inpaint.data.cache import load_sample_split
from inpaint.method.masks import make_mask
from inpaint.method.models import Discriminator, Generator
from inpaint.method.pixels import to_tensor
from inpaint.method.solver import SolverConfig
from inpaint.study import experiments, fills
from inpaint.study.store import NO_STORE, Store, function_code


@pytest.fixture(autouse=True)
def one_thread():
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@pytest.fixture
def models():
    torch.manual_seed(0)
    return Generator(width=8).eval(), Discriminator(width=8).eval()


def counting(monkeypatch):
    """Count the latent searches the ablation runs."""
    calls = []
    real = experiments.solve_and_score

    def counted(*args, **kwargs):
        calls.append(args[4].lam)
        return real(*args, **kwargs)
    monkeypatch.setattr(experiments, "solve_and_score", counted)
    return calls


def test_one_more_lambda_searches_only_for_it_and_cached_tables_match_a_cold_run(
        tmp_path, models, monkeypatch):
    images = to_tensor(load_sample_split("val")[:4])
    base = SolverConfig(iters=3, restarts=1, precision="fp32")
    store = Store(tmp_path / "cache")
    calls = counting(monkeypatch)
    grid = experiments.ablation_settings((0.0, 0.003))
    cold, _ = experiments.ablation(*models, images, base, grid, progress=False)
    first, _ = experiments.ablation(*models, images, base, grid, progress=False, store=store)
    assert len(calls) == 2 * len(grid)
    calls.clear()
    more, _ = experiments.ablation(*models, images, base,
                                   experiments.ablation_settings((0.0, 0.003, 1.0)),
                                   progress=False, store=store)
    assert calls == [1.0]  # only the new λ is searched for
    again, _ = experiments.ablation(*models, images, base, grid, progress=False, store=store)
    assert calls == [1.0]
    assert again.to_csv() == first.to_csv()  # byte-identical from the cache
    timing = ["seconds_per_image"]  # the only column a cold run cannot repeat
    assert again.drop(columns=timing).to_csv() == cold.drop(columns=timing).to_csv()
    assert more[more.lam != 1.0].drop(columns=timing).reset_index(drop=True).to_csv() == \
        cold.drop(columns=timing).to_csv()


def test_a_changed_input_is_not_served_from_the_cache(tmp_path, models, monkeypatch):
    images = to_tensor(load_sample_split("val")[:4])
    base = SolverConfig(iters=3, restarts=1, precision="fp32")
    store = Store(tmp_path / "cache")
    calls = counting(monkeypatch)
    grid = [(0.003, "l1", "yeh")]
    experiments.ablation(*models, images, base, grid, progress=False, store=store)
    experiments.ablation(*models, images, replace(base, iters=4), grid, progress=False,
                         store=store)
    experiments.ablation(*models, images[:3], base, grid, progress=False, store=store)
    torch.manual_seed(1)
    experiments.ablation(Generator(width=8).eval(), models[1], images, base, grid,
                         progress=False, store=store)
    assert len(calls) == 4


def test_the_critics_verdicts_are_cached_and_identical(tmp_path, monkeypatch):
    photos = to_tensor(load_sample_split("val")[:16])
    truth, real = photos[:8], photos[8:]
    mask = make_mask("center", 8)
    filled = {"mean": fills.BASELINES["mean"](truth, mask)}
    store = Store(tmp_path / "cache")
    cold = experiments.fills_realism(filled, truth, mask, real, 2, 3, progress=False)
    warm = experiments.fills_realism(filled, truth, mask, real, 2, 3, progress=False, store=store)
    monkeypatch.setattr(experiments, "two_sample_test", None)  # a second run must not call it
    cached = experiments.fills_realism(filled, truth, mask, real, 2, 3, progress=False,
                                       store=store)
    for a, b, c in zip(cold, warm, cached):
        assert a.to_csv() == b.to_csv() == c.to_csv()
    assert NO_STORE.folder is None


def test_one_more_classical_fill_computes_only_it_and_cached_tables_match_a_cold_run(
        tmp_path, models, monkeypatch):
    """Chapter 05: the search and each classical fill are kept; a fill added to BASELINES is
    the only thing a rerun computes."""
    images = to_tensor(load_sample_split("val")[:4])
    config = SolverConfig(iters=3, restarts=2, precision="fp32")
    store = Store(tmp_path / "cache")
    searches, filled = [], []
    real_gan_fills = fills.gan_fills
    monkeypatch.setattr(fills, "gan_fills", lambda *a, **k: searches.append(1) or
                        real_gan_fills(*a, **k))
    counted = {name: (lambda method, name: lambda y, m: filled.append(name) or method(y, m))(
        method, name) for name, method in fills.BASELINES.items()}
    monkeypatch.setattr(fills, "BASELINES", counted)

    def compare(**extra):
        return fills.compare_methods(*models, images, config, mask_kinds=("center", "half"),
                                     ensembles=(2,), progress=False, **extra)
    cold = compare()
    compare(store=store)
    assert len(searches) == 2 * 2 and len(filled) == 2 * 2 * len(counted)
    searches.clear(), filled.clear()
    monkeypatch.setitem(counted, "blur", lambda y, m: filled.append("blur") or y * m)
    more = compare(store=store)
    assert searches == [] and filled == ["blur", "blur"]  # one per mask kind
    timing = ["seconds"]
    old = more.metrics[more.metrics.method != "blur"].reset_index(drop=True)
    assert old.to_csv() == cold.metrics.to_csv()
    assert more.seconds[more.seconds.method != "blur"].drop(columns=timing).reset_index(
        drop=True).to_csv() == cold.seconds.drop(columns=timing).to_csv()


def test_a_fill_s_key_changes_with_its_code_not_with_another_fill_added_beside_it(tmp_path):
    """Adding a classical fill edits baselines.py: the other fills' keys, which digest only
    their own function and what it calls there, must not change; a helper they call must."""
    module = tmp_path / "fills_module.py"

    def key(source, name="fill"):
        module.write_text(source)
        namespace = {}
        exec(compile(source, str(module), "exec"), namespace)
        return function_code(namespace[name])
    base = "def helper(y):\n    return y + 1\n\n\ndef fill(y, m):\n    return helper(y) * m\n"
    assert key(base) == key(base + "\n\ndef other(y, m):\n    return y\n")
    assert key(base) == key(base.replace("return y + 1", '"""adds one"""\n    return y + 1'))
    assert key(base) != key(base.replace("y + 1", "y + 2"))
    assert key(base) != key(base.replace("helper(y) * m", "helper(y) * m * 2"))

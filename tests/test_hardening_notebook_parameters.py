"""Hardening, item 7: a notebook's parameters are checked where the notebook resolves its
settings (experiments.setup), with the setting's name in a one-line message, never run on fewer
images than asked or failing deep inside."""
import pytest
import torch

from inpaint.study import experiments


@pytest.fixture(autouse=True)
def threads():
    """setup("ci") fixes one torch thread, as a notebook's kernel should; the other tests of
    this process keep theirs (a resumed training run is compared bit for bit)."""
    before = torch.get_num_threads()
    yield
    torch.set_num_threads(before)


@pytest.mark.parametrize("value", [-3, 0, 2.5, True])
def test_7_notebook_parameter_images_is_checked_at_setup(value):
    with pytest.raises(ValueError) as error:
        experiments.setup("ci", val_images=value)
    message = str(error.value)
    assert message.startswith("val_images must be a whole number of at least 1")
    assert "-p" in message and "\n" not in message


def test_7_a_bad_lambda_grid_is_refused_at_setup():
    with pytest.raises(ValueError, match="ablation_lams"):
        experiments.setup("ci", ablation_lams=[0.0, -1.0])


def test_7_overrides_reach_every_function_below_setup():
    settings = experiments.setup("ci", val_images=3, lam=0.5)
    assert experiments.solver_config(settings).lam == 0.5
    assert len(experiments.validation_images(settings)) == 3

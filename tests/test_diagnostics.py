"""kl_per_dimension and active_units (notebook 07)."""

import numpy as np
import pytest

from vae_tutorial import kl_to_standard_normal
from vae_tutorial.diagnostics import active_units, kl_per_dimension


def test_kl_per_dimension_sums_to_the_loss_kl():
    rng = np.random.default_rng(0)
    mean, log_var = rng.normal(size=(50, 4)), rng.normal(size=(50, 4))
    per_dim = kl_per_dimension(mean, log_var)
    assert per_dim.shape == (4,)
    assert np.isclose(per_dim.sum(), kl_to_standard_normal(mean, log_var).mean())


def test_kl_per_dimension_zero_for_the_prior_and_finite_at_extremes():
    assert np.allclose(kl_per_dimension(np.zeros((3, 2)), np.zeros((3, 2))), 0.0)
    assert np.allclose(kl_per_dimension(np.zeros((1, 1)), np.full((1, 1), -100.0)), 49.5)


def test_active_units_uses_the_variance_of_the_means():
    rng = np.random.default_rng(1)
    means = np.stack([rng.normal(size=1000), np.full(1000, 3.0), 0.05 * rng.normal(size=1000)], 1)
    assert active_units(means).tolist() == [True, False, False]
    assert active_units(means, threshold=0.001).tolist() == [True, False, True]


@pytest.mark.parametrize("call, message", [
    (lambda: kl_per_dimension(np.zeros((2, 3)), np.zeros((2, 2))), "shape"),
    (lambda: kl_per_dimension(np.full((2, 2), np.nan), np.zeros((2, 2))), "non-finite"),
    (lambda: active_units(np.zeros((1, 3))), "at least 2"),
    (lambda: active_units(np.zeros((3, 3)), threshold=-1), "threshold"),
    (lambda: active_units(np.zeros(3)), "shape"),
])
def test_bad_input_is_named(call, message):
    with pytest.raises((ValueError, TypeError), match=message):
        call()

"""Self-checks for notebook 09's code exercises (evaluating a VAE).

Each check runs the learner's function on small, fixed cases (no model, no training) and
compares it with the package's :mod:`vae_tutorial.evaluation`, naming the case that fails.
"""

from __future__ import annotations

import numpy as np

from . import Exercise, Mismatch, expect_close

_LOG_MEAN_EXP_CASES = {
    "[0, 0]": [0.0, 0.0],
    "[-1000, -1000] (every exp underflows to 0)": [-1000.0, -1000.0],
    "[1000, 999] (every exp overflows)": [1000.0, 999.0],
    "[1000, -inf] (a weight of 0)": [1000.0, -np.inf],
    "[-10000, 0, 5]": [-10_000.0, 0.0, 5.0],
}


def _check_log_mean_exp(function):
    from ..evaluation import log_mean_exp

    for name, values in _LOG_MEAN_EXP_CASES.items():
        expect_close(f"my_log_mean_exp({name})", function(np.array(values)),
                     log_mean_exp(np.array(values)), atol=1e-9)
    batch = np.array([[-800.0, -801.0, -802.0], [3.0, 1.0, 2.0]])
    got = np.asarray(function(batch))
    if got.shape != (2,):
        raise Mismatch(f"for a (2, 3) array the result should have shape (2,), one number per "
                       f"row (the mean is over the last axis); got shape {got.shape}.")
    expect_close("my_log_mean_exp of a (2, 3) array", got, log_mean_exp(batch), atol=1e-9)
    return "It is finite where exp(values) under- or overflows."


def _ess_reference(log_weights: np.ndarray) -> np.ndarray:
    a = log_weights - log_weights.max(axis=-1, keepdims=True)
    weights = np.exp(a)
    return weights.sum(axis=-1) ** 2 / (weights**2).sum(axis=-1)


def _check_effective_sample_size(function):
    cases = {
        "4 equal log-weights of -500": np.full((1, 4), -500.0),
        "one log-weight far above three others": np.array([[-100.0, -400.0, -400.0, -400.0]]),
        "two equal log-weights of -2000 and two of -3000": np.array([[-2000.0, -2000.0,
                                                                      -3000.0, -3000.0]]),
        "log-weights 0, log 2, log 3": np.log(np.array([[1.0, 2.0, 3.0]])),
    }
    for name, log_weights in cases.items():
        expect_close(f"effective_sample_size for {name}", function(log_weights),
                     _ess_reference(log_weights), rtol=1e-6)
    batch = np.random.default_rng(0).normal(-300.0, 2.0, size=(3, 50))
    expect_close("effective_sample_size of a (3, 50) array (one value per row)",
                 function(batch), _ess_reference(batch), rtol=1e-6)
    return "Between 1 (one weight dominates) and S (all equal)."


def _check_frechet_distance(function):
    from ..evaluation import frechet_distance

    rng = np.random.default_rng(0)
    a = rng.normal(size=(200, 3))
    b = rng.normal(0.5, 2.0, size=(150, 3)) @ np.array([[1.0, 0.3, 0.0], [0.0, 1.0, 0.2],
                                                        [0.0, 0.0, 1.0]])
    expect_close("my_frechet_distance(a, a) for identical sets", function(a, a), 0.0, atol=1e-6)
    expect_close("my_frechet_distance(a, b) for two correlated Gaussian sets",
                 function(a, b), frechet_distance(a, b), rtol=1e-5)
    expect_close("my_frechet_distance(b, a) (it is symmetric)", function(b, a),
                 frechet_distance(a, b), rtol=1e-5)
    return "Same as the package's frechet_distance."


exercise_1 = Exercise(
    "Exercise 1", _check_log_mean_exp,
    "subtract the largest value of each row before exp, and add it back after the log; "
    "keep the row axis with keepdims=True so the subtraction broadcasts.")
exercise_2 = Exercise(
    "Exercise 2", _check_effective_sample_size,
    "never exponentiate the log-weights themselves: with LSE(a) = log(S) + log_mean_exp(a), "
    "the ESS is exp(2 LSE(a) - LSE(2a)), one value per row.")
exercise_3 = Exercise(
    "Exercise 3", _check_frechet_distance,
    "use np.cov(features, rowvar=False) (rows are images) and the real part of "
    "scipy.linalg.sqrtm(cov_a @ cov_b); the mean term is the squared distance of the means.")

"""Self-checks for notebook 09's code exercises (evaluating a VAE). They run the learner's
function on small, fixed cases (no model, no training) against :mod:`vae_tutorial.evaluation`."""

from __future__ import annotations

import numpy as np

from . import exercise, expect_cases, expect_close

_LOG_MEAN_EXP_CASES = {  # how a message names the case: the values
    "my_log_mean_exp([0, 0])": [0.0, 0.0],
    "my_log_mean_exp([-1000, -1000] (every exp underflows to 0))": [-1000.0, -1000.0],
    "my_log_mean_exp([1000, 999] (every exp overflows))": [1000.0, 999.0],
    "my_log_mean_exp([1000, -inf] (a weight of 0))": [1000.0, -np.inf],
    "my_log_mean_exp([-10000, 0, 5])": [-10_000.0, 0.0, 5.0],
    "my_log_mean_exp of a (2, 3) array (one number per row: the mean is over the last axis)":
    [[-800.0, -801.0, -802.0], [3.0, 1.0, 2.0]],
}


@exercise("subtract the largest value of each row before exp, and add it back after the log; "
          "keep the row axis with keepdims=True so the subtraction broadcasts.")
def exercise_1(function):
    from ..evaluation import log_mean_exp

    expect_cases(function, {what: (np.array(values),) for what, values in
                            _LOG_MEAN_EXP_CASES.items()}, log_mean_exp, atol=1e-9)
    return "It is finite where exp(values) under- or overflows."


_ESS_CASES = {  # how a message names the case: the log-weights
    "effective_sample_size for 4 equal log-weights of -500": np.full((1, 4), -500.0),
    "effective_sample_size for one log-weight far above three others":
    np.array([[-100.0, -400.0, -400.0, -400.0]]),
    "effective_sample_size for two equal log-weights of -2000 and two of -3000":
    np.array([[-2000.0, -2000.0, -3000.0, -3000.0]]),
    "effective_sample_size for log-weights 0, log 2, log 3": np.log(np.array([[1.0, 2.0, 3.0]])),
    "effective_sample_size of a (3, 50) array (one value per row)":
    np.random.default_rng(0).normal(-300.0, 2.0, size=(3, 50)),
}


@exercise("never exponentiate the log-weights themselves: with LSE(a) = log(S) + "
          "log_mean_exp(a), the ESS is exp(2 LSE(a) - LSE(2a)), one value per row.")
def exercise_2(function):
    from ..evaluation import log_mean_exp

    expect_cases(function, {what: (log_weights,) for what, log_weights in _ESS_CASES.items()},
                 lambda a: a.shape[-1] * np.exp(2 * log_mean_exp(a) - log_mean_exp(2 * a)),
                 rtol=1e-6)
    return "Between 1 (one weight dominates) and S (all equal)."


@exercise("use np.cov(features, rowvar=False) (rows are images) and the real part of "
          "scipy.linalg.sqrtm(cov_a @ cov_b); the mean term is the squared distance of the "
          "means.")
def exercise_3(function):
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

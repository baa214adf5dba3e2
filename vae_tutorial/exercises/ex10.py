"""Self-checks for notebook 10's code exercises (debugging a VAE).

- ``exercise_1``: ``kl_weight(reconstruction, kl, D, K)``, the weight a loss built from
  reductions ("sum" or "mean") puts on the KL relative to the negative ELBO.
- ``exercise_2``: ``kl_as_coded(z_mean, head)`` and ``kl_sampled(z_mean, head)``: the KL the
  blog post's KL line computes from an encoder output ``head`` it reads as a log-variance, and
  the true KL of the distribution its sampling line draws from, N(z_mean, head^2).
- ``exercise_3``: ``implied_variance(reconstruction, kl, D, K)``, the decoder variance a loss
  "squared error + KL" assumes without saying so.

Introduced in notebook 10.
"""

from __future__ import annotations

import numpy as np

from . import Mismatch, exercise, expect_cases, expect_close
from .ex07 import _implied_beta as _kl_weight  # the KL weight is 07's implied beta
from .ex07 import _reduction_cases

_SIZES = ((784, 20), (100, 5), (30, 30))  # (D, K): the course's, and two that are not


@exercise("write the loss as r * (reconstruction summed over D) + c * (KL summed over K), with "
          "r = 1 or 1/D and c = 1 or 1/K; dividing a loss by a constant changes nothing, so only "
          "c / r matters.")
def exercise_1(kl_weight) -> str:
    expect_cases(kl_weight, _reduction_cases("kl_weight", _SIZES), _kl_weight, rtol=1e-6,
                 mistakes=lambda expected, *_: {
                     "that is its inverse: you computed the reconstruction's weight relative to "
                     "the KL": 1.0 / expected})
    return ("The post's code (both averaged) weighs the KL D/K = 784/20 = 39.2 times too "
            "much; averaging the KL alone, 1/K = 0.05.")


def _kl_per_image(z_mean, log_var):
    """KL(N(z_mean, e^log_var) || N(0, I)) summed over the last axis, in numpy (no TensorFlow)."""
    return 0.5 * np.sum(z_mean**2 + np.expm1(log_var) - log_var, axis=-1)


@exercise("both are notebook 03's 0.5 * sum_k (mu^2 + sigma^2 - log sigma^2 - 1), summed over "
          "the last axis. In kl_as_coded, log sigma^2 is the head itself; in kl_sampled, sigma is "
          "the head, so sigma^2 = head**2 and log sigma^2 = log(head**2).")
def exercise_2(kl_as_coded, kl_sampled) -> str:
    rng = np.random.default_rng(10)
    cases = {
        "3 images, K = 4": (rng.normal(size=(3, 4)), rng.normal(size=(3, 4))),
        "1 image, K = 2, head = (1, -0.5)": (np.array([[0.3, -1.0]]), np.array([[1.0, -0.5]])),
    }
    for case, (z_mean, head) in cases.items():
        as_coded = _kl_per_image(z_mean, head)
        got = np.asarray(kl_as_coded(z_mean, head), dtype=np.float64)
        if got.shape == () and as_coded.size > 1:
            raise Mismatch(f"kl_as_coded on {case} returned one number; return one KL per "
                           "image, shape (N,), summed over the K dimensions.")
        expect_close(f"kl_as_coded on {case} (nats per image)", got, as_coded, rtol=1e-6,
                     mistakes={"that is the mean over the K dimensions; sum them instead (the "
                               "KL of a diagonal Gaussian adds over dimensions)":
                               as_coded / head.shape[1]})
        expect_close(f"kl_sampled on {case} (nats per image)", kl_sampled(z_mean, head),
                     _kl_per_image(z_mean, np.log(head**2)), rtol=1e-6, mistakes={
                         "that equals kl_as_coded: it must be the KL of N(z_mean, head^2), the "
                         "distribution z = z_mean + head * eps is drawn from, so its "
                         "log-variance is log(head^2)": as_coded})
    return ("Where the head is 0, the KL line sees the prior's spread (exp(0) = 1) but z gets "
            "no noise: the true KL is infinite there.")


@exercise("a Gaussian decoder's negative log-likelihood is SE / (2 sigma_x^2) + a constant, "
          "with SE the squared error summed over pixels; rescale the loss so the KL (summed) has "
          "weight 1 and read off the weight on SE.")
def exercise_3(implied_variance) -> str:
    # Gaussian decoder: -log p = SE / (2 s2) + const; the loss is proportional to
    # SE / (2 s2) + KL exactly when 1 / (2 s2) = r / c, the inverse of the KL weight.
    expect_cases(implied_variance, _reduction_cases("implied_variance", _SIZES),
                 lambda *case: _kl_weight(*case) / 2, rtol=1e-6,
                 mistakes=lambda expected, *_: {
                     "that is its square root: return the variance sigma_x^2, not the standard "
                     "deviation": np.sqrt(expected)})
    return ("The post's MSE averaged over pixels, with its KL averaged over dimensions, "
            "assumes a pixel noise of standard deviation sqrt(784 / 40), about 4.4, on "
            "pixels that lie in [0, 1].")

"""Self-checks for notebook 10's code exercises (debugging a VAE).

- ``exercise_1``: ``kl_weight(reconstruction, kl, D, K)``, the weight a loss built from
  reductions ("sum" or "mean") puts on the KL relative to the negative ELBO.
- ``exercise_2``: ``kl_as_coded(z_mean, head)`` and ``kl_sampled(z_mean, head)``: the KL the
  blog post's KL line computes from an encoder output ``head`` it reads as a log-variance, and
  the true KL of the distribution its sampling line draws from, N(z_mean, head^2).
- ``exercise_3``: ``implied_variance(reconstruction, kl, D, K)``, the decoder variance a loss
  "squared error + KL" assumes without saying so.

Each check calls the learner's function on small cases (no training) and compares it with
the reference; a wrong answer gets the case, the expected and the obtained value, and a hint.
Introduced in notebook 10.
"""

from __future__ import annotations

import numpy as np

from . import Exercise, Mismatch, expect_close
from .ex07 import REDUCTIONS
from .ex07 import _implied_beta as _kl_weight  # the KL weight is 07's implied beta

_CASES = ((784, 20), (100, 5), (30, 30))  # (D, K): the course's, and two that are not


def _check_kl_weight(kl_weight) -> str:
    for d, k in _CASES:
        for reconstruction in REDUCTIONS:
            for kl in REDUCTIONS:
                got = kl_weight(reconstruction, kl, d, k)
                expected = _kl_weight(reconstruction, kl, d, k)
                if got is None:
                    raise Mismatch(f"kl_weight({reconstruction!r}, {kl!r}, D={d}, K={k}) "
                                   "returned None; return the weight as a number.")
                if np.isclose(float(got), 1.0 / expected, rtol=1e-6) and expected != 1.0:
                    raise Mismatch(f"kl_weight({reconstruction!r}, {kl!r}, D={d}, K={k}): "
                                   f"expected {expected:.6g}, got {float(got):.6g}, its "
                                   "inverse: you computed the reconstruction's weight "
                                   "relative to the KL.")
                expect_close(f"kl_weight({reconstruction!r}, {kl!r}, D={d}, K={k})", got,
                             expected, rtol=1e-6)
    return ("The post's code (both averaged) weighs the KL D/K = 784/20 = 39.2 times too "
            "much; averaging the KL alone, 1/K = 0.05.")


exercise_1 = Exercise(
    "Exercise 1",
    _check_kl_weight,
    "write the loss as r * (reconstruction summed over D) + c * (KL summed over K), with "
    "r = 1 or 1/D and c = 1 or 1/K; dividing a loss by a constant changes nothing, so only "
    "c / r matters.",
)


def _reference_kls(z_mean, head):
    z_mean = np.asarray(z_mean, dtype=np.float64)
    head = np.asarray(head, dtype=np.float64)
    as_coded = 0.5 * np.sum(z_mean**2 + np.exp(head) - head - 1.0, axis=-1)
    sampled = 0.5 * np.sum(z_mean**2 + head**2 - np.log(head**2) - 1.0, axis=-1)
    return as_coded, sampled


def _check_blog_kls(kl_as_coded, kl_sampled) -> str:
    rng = np.random.default_rng(10)
    cases = {
        "3 images, K = 4": (rng.normal(size=(3, 4)), rng.normal(size=(3, 4))),
        "1 image, K = 2, head = (1, -0.5)": (np.array([[0.3, -1.0]]), np.array([[1.0, -0.5]])),
    }
    for case, (z_mean, head) in cases.items():
        as_coded, sampled = _reference_kls(z_mean, head)
        got_coded = np.asarray(kl_as_coded(z_mean, head), dtype=np.float64)
        got_sampled = np.asarray(kl_sampled(z_mean, head), dtype=np.float64)
        if got_coded.shape == () and as_coded.size > 1:
            raise Mismatch(f"kl_as_coded on {case} returned one number; return one KL per "
                           "image, shape (N,), summed over the K dimensions.")
        if got_coded.shape == as_coded.shape and np.allclose(got_coded * head.shape[1],
                                                             as_coded, rtol=1e-6):
            raise Mismatch(f"kl_as_coded on {case} is the mean over the K dimensions; sum "
                           "them instead (the KL of a diagonal Gaussian adds over dimensions).")
        expect_close(f"kl_as_coded on {case} (nats per image)", got_coded, as_coded, rtol=1e-6)
        if got_sampled.shape == sampled.shape and np.allclose(got_sampled, as_coded, rtol=1e-6):
            raise Mismatch(f"kl_sampled on {case} equals kl_as_coded: it must be the KL of "
                           "N(z_mean, head^2), the distribution z = z_mean + head * eps is "
                           "drawn from, so its log-variance is log(head^2).")
        expect_close(f"kl_sampled on {case} (nats per image)", got_sampled, sampled, rtol=1e-6)
    return ("Where the head is 0, the KL line sees the prior's spread (exp(0) = 1) but z gets "
            "no noise: the true KL is infinite there.")


exercise_2 = Exercise(
    "Exercise 2",
    _check_blog_kls,
    "both are notebook 03's 0.5 * sum_k (mu^2 + sigma^2 - log sigma^2 - 1), summed over the "
    "last axis. In kl_as_coded, log sigma^2 is the head itself; in kl_sampled, sigma is the "
    "head, so sigma^2 = head**2 and log sigma^2 = log(head**2).",
)


def _implied_variance(reconstruction: str, kl: str, d: int, k: int) -> float:
    # Gaussian decoder: -log p = SE / (2 s2) + const; the loss is proportional to
    # SE / (2 s2) + KL exactly when s2 = 1 / (2 * (r / c)).
    return 1.0 / (2.0 * (1.0 / _kl_weight(reconstruction, kl, d, k)))


def _check_implied_variance(implied_variance) -> str:
    for d, k in _CASES:
        for reconstruction in REDUCTIONS:
            for kl in REDUCTIONS:
                got = implied_variance(reconstruction, kl, d, k)
                expected = _implied_variance(reconstruction, kl, d, k)
                if got is not None and np.isclose(float(got), np.sqrt(expected), rtol=1e-6) \
                        and not np.isclose(expected, 1.0):
                    raise Mismatch(f"implied_variance({reconstruction!r}, {kl!r}, D={d}, "
                                   f"K={k}): expected {expected:.6g}, got {float(got):.6g}, "
                                   "its square root: return the variance sigma_x^2, not "
                                   "the standard deviation.")
                expect_close(f"implied_variance({reconstruction!r}, {kl!r}, D={d}, K={k})",
                             got, expected, rtol=1e-6)
    return ("The post's MSE averaged over pixels, with its KL averaged over dimensions, "
            "assumes a pixel noise of standard deviation sqrt(784 / 40), about 4.4, on "
            "pixels that lie in [0, 1].")


exercise_3 = Exercise(
    "Exercise 3",
    _check_implied_variance,
    "a Gaussian decoder's negative log-likelihood is SE / (2 sigma_x^2) + a constant, with "
    "SE the squared error summed over pixels; rescale the loss so the KL (summed) has weight "
    "1 and read off the weight on SE.",
)

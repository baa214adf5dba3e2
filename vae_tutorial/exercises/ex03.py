"""Self-checks for notebook 03's exercises (KL divergence)."""

from __future__ import annotations

import numpy as np

from . import Mismatch, exercise, expect_cases, expect_close

LOG_VARIANCE = ("z_log_var was used as log sigma; it is log sigma^2, so the variance is "
                "exp(z_log_var)")


def _kl_bernoulli(a, b):
    return a * np.log(a / b) + (1 - a) * np.log((1 - a) / (1 - b))


@exercise("sum p(x) log(p(x) / q(x)) over the two outcomes x = 1 (probabilities a, b) and x = 0 "
          "(probabilities 1 - a, 1 - b).")
def exercise_1(kl_bernoulli):
    cases = {f"kl_bernoulli({a}, {b}) (nats)": (a, b)
             for a, b in [(0.3, 0.6), (0.6, 0.3), (0.5, 0.5), (0.9, 0.2)]}
    cases["kl_bernoulli(0.3, b) on an array of b"] = (0.3, np.linspace(0.05, 0.95, 19))
    expect_cases(kl_bernoulli, cases, _kl_bernoulli, rtol=1e-6, atol=1e-12,
                 mistakes=lambda expected, a, b: {
                     "that is KL(Ber(b) || Ber(a)): the first argument is the distribution the "
                     "expectation is over": _kl_bernoulli(b, a),
                     "that is in bits (log base 2); use the natural log for nats":
                     expected / np.log(2),
                     "only the outcome 1 is counted; add the term for outcome 0, "
                     "(1 - a) log((1 - a) / (1 - b))": a * np.log(a / b)})


@exercise("for each K make np.full(K, 0.5) and np.full(K, -1.0), pass them to "
          "kl_to_standard_normal (the sum), and average -0.5 * (1 + log_var - mean^2 - "
          "exp(log_var)) over the K entries for the blog's version.")
def exercise_2(ks, kl_sum_k, kl_mean_k):
    ks = np.asarray(ks)
    expect_close("ks, the numbers of latent dimensions", ks, 2 ** np.arange(7))
    per_dimension = 0.5 * (np.expm1(-1.0) + 1.0 + 0.5**2)  # z_mean 0.5, z_log_var -1
    as_log_sigma = 0.5 * (np.expm1(-2.0) + 2.0 + 0.5**2)
    expect_close("the summed KL for each K (nats)", kl_sum_k, ks * per_dimension, rtol=1e-6,
                 mistakes={"that is the average over the K dimensions; the KL sums them":
                           np.full(ks.shape, per_dimension),
                           LOG_VARIANCE: ks * as_log_sigma})
    expect_close("the blog's averaged KL for each K (nats)", kl_mean_k,
                 np.full(ks.shape, per_dimension), rtol=1e-6, mistakes={
                     "that is the sum; the blog averages over the dimensions":
                     ks * per_dimension,
                     LOG_VARIANCE: np.full(ks.shape, as_log_sigma)})
    return "The sum grows linearly with K; the average does not."


@exercise("evaluate kl_univariate_gaussians(mu, sigmas, 0.0, 1.0) on a fine grid of sigmas and "
          "take the sigma at its argmin; the derivative of -log sigma + sigma^2 / 2 tells you "
          "where.")
def exercise_3(best_sigmas):
    if not isinstance(best_sigmas, dict) or not {0.0, 2.0} <= set(best_sigmas):
        raise Mismatch("best_sigmas should be a dict {mu: the sigma with the smallest KL} with "
                       "entries for mu = 0 and mu = 2.")
    for mu, sigma in sorted(best_sigmas.items()):
        expect_close(f"the cheapest sigma for mu = {mu:g}", sigma, 1.0, atol=2e-3, mistakes={
            "that minimises KL(N(0, 1) || N(mu, sigma^2)), the other direction; the KL term "
            "is KL(q || p) with q = N(mu, sigma^2)": np.sqrt(1 + mu**2)})
    return "The KL term alone pulls every sigma to 1, whatever mu is."


@exercise("step mu and log sigma against finite-difference gradients, (kl(x + h) - kl(x - h)) "
          "/ 2h, for a few hundred steps with a small learning rate.")
def exercise_4(ends, fits):
    for key in [("reverse", 1.0), ("reverse", -1.0), ("forward", 1.0), ("forward", -1.0)]:
        if key not in ends:
            raise Mismatch(f"ends should map (direction, start) to the final (mu, sigma); "
                           f"{key} is missing.")
    mode, mode_sigma = abs(fits["reverse"][0]), fits["reverse"][1]
    for start in (1.0, -1.0):
        expect_close(f"the reverse-KL run from mu = {start:+g}, (mu, sigma)",
                     ends["reverse", start], (np.sign(start) * mode, mode_sigma), atol=0.06,
                     mistakes={"that is where the forward KL ends; reverse_kl is KL(q || p)":
                               fits["forward"],
                               "that is the other mode: a local search stays on the side it "
                               "starts": (-np.sign(start) * mode, mode_sigma)})
        expect_close(f"the forward-KL run from mu = {start:+g}, (mu, sigma)",
                     ends["forward", start], fits["forward"], atol=0.06)
    return "Reverse KL: the mode depends on the start; forward KL: one answer."

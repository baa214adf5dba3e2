"""Self-checks for notebook 02's exercises (the ELBO on a toy model whose log p(x) is known)."""

from __future__ import annotations

import numpy as np

from . import Mismatch, exercise, expect_close


@exercise("gap_line = log_px - elbo_closed_form(post_mean, sigma_line), on a grid sigma_line of "
          "widths, e.g. np.geomspace(0.05, 2.0, 2000).")
def exercise_1(sigma_line, gap_line, post_var):
    sigma = np.asarray(sigma_line, np.float64)
    if sigma.ndim != 1 or sigma.size < 10 or np.any(sigma <= 0):
        raise Mismatch("sigma_line should be a 1-D grid of (at least 10) positive widths.")
    kl = np.log(np.sqrt(post_var) / sigma) + sigma**2 / (2 * post_var) - 0.5
    expect_close("the gap log p(x) - ELBO along sigma_line (nats)", gap_line, kl, rtol=1e-6,
                 atol=1e-9, mistakes={
                     "that is ELBO - log p(x); the gap is log p(x) minus the ELBO, never "
                     "negative": -kl})
    return "The gap is exactly that KL, zero only at sigma = sigma_star."


@exercise("draw z = mu + sigma * eps; log-weight = log p(x | z) + log p(z) - log q(z); the "
          "estimate is logsumexp(log-weights) - log S.")
def exercise_2(log_importance_estimate, log_px, post_mean, post_var):
    expect_close("the estimate with q = the true posterior, S = 10",
                 log_importance_estimate(post_mean, float(np.sqrt(post_var)), 10), log_px,
                 atol=1e-6, mistakes={
                     "that is log S too high: average the weights (subtract log S), do not "
                     "sum them": log_px + np.log(10)})
    runs = np.array([log_importance_estimate(0.0, 1.0, 1000) for _ in range(20)])
    if abs(runs.mean() - log_px) > 0.2:
        below = " (far below: is it the average of the log-weights, an ELBO? Take the log of " \
                "the average of the weights, e.g. with np.logaddexp.reduce)" \
            if runs.mean() < log_px - 1 else ""
        raise Mismatch(f"with q = the prior and S = 1000 the estimates should lie within a few "
                       f"hundredths of a nat of log p(x) = {log_px:.4f}; their mean over 20 "
                       f"runs is {runs.mean():.4f}{below}.")
    return "Now compare the biases with the spread at each S."


@exercise("rng.multivariate_normal(codes.mean(axis=0), np.cov(codes.T), size=200) draws 200 "
          "codes with the training codes' correlations.")
def exercise_3(full_cov, codes):
    samples, codes = np.asarray(full_cov, np.float64), np.asarray(codes, np.float64)
    n, k = samples.shape if samples.ndim == 2 else (0, 0)
    if k != codes.shape[1] or n < 100:
        raise Mismatch(f"full_cov should hold codes of {codes.shape[1]} numbers each, one row "
                       f"per code (200 of them); got shape {samples.shape}.")
    target = np.cov(codes.T)
    standard_errors = np.sqrt(np.diag(target) / n)
    off = np.abs(samples.mean(axis=0) - codes.mean(axis=0)) / standard_errors
    if off.max() > 5:
        raise Mismatch(f"the mean of the drawn codes is {off.max():.0f} standard errors away "
                       "from the training codes' mean in some dimension: centre the Gaussian on "
                       "codes.mean(axis=0).")
    drawn = np.cov(samples.T)
    diagonal = np.diag(np.diag(target))
    if np.linalg.norm(drawn - target) >= np.linalg.norm(drawn - diagonal):
        raise Mismatch("the drawn codes look independent, dimension by dimension: give "
                       "rng.multivariate_normal the full covariance np.cov(codes.T).")

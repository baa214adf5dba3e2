"""Self-checks for notebook 04's exercises (score function vs reparameterization)."""

from __future__ import annotations

import numpy as np

from . import Mismatch, exercise, expect_close


def _score_terms(fz, z, mu, sigma, baseline):
    scores = [(z - mu) / sigma**2, 0.5 * ((z - mu) ** 2 / sigma**2 - 1.0)]
    return np.stack([np.mean((fz - baseline) * score, axis=1) for score in scores])


@exercise("sample s's baseline is the mean of f over the other S - 1 samples of its repetition "
          "(the total minus f(z_s), over S - 1); multiply f(z_s) minus it by each score and "
          "average over the S samples.")
def exercise_1(with_baseline, z, f, mu, sigma):
    z = np.asarray(z, np.float64)
    if z.ndim != 2 or z.shape[1] < 2:
        raise Mismatch(f"z should hold the draws as (R repetitions, S samples); got shape "
                       f"{z.shape}.")
    fz = f(z)
    n = z.shape[1]
    leave_one_out = (fz.sum(axis=1, keepdims=True) - fz) / (n - 1)
    expect_close("the baseline estimates, shape (2, R)", with_baseline,
                 _score_terms(fz, z, mu, sigma, leave_one_out), rtol=1e-6, atol=1e-9, mistakes={
                     "the baseline includes sample s itself, so it depends on z_s and biases "
                     "the estimate; average f over the OTHER samples":
                     _score_terms(fz, z, mu, sigma, fz.mean(axis=1, keepdims=True)),
                     "no baseline was subtracted: this is the plain score-function estimate":
                     _score_terms(fz, z, mu, sigma, 0.0),
                 })
    return "Compare its variance with the plain score function's and the pathwise one's."


LOGIT, SHIFT, N_DRAWS = 0.5, 0.3, 100_000  # the exercise's Bernoulli toy


@exercise("(a) the tape cannot see through a comparison; (b) the estimate is the mean over "
          "draws of f(z) * (z - rho), and its standard error their standard deviation / "
          "sqrt(number of draws).")
def exercise_2(grad_logit, estimate, standard_error):
    if grad_logit is not None:
        raise Mismatch(f"the tape should have returned None for a draw made by comparing u < "
                       f"rho (a comparison has no gradient); got {grad_logit!r}. Was z drawn "
                       "with tf.cast(u < rho, ...) inside the tape?")
    rho = 1 / (1 + np.exp(-LOGIT))
    f1, f0 = (1 - SHIFT) ** 2, SHIFT**2
    exact = rho * (1 - rho) * (f1 - f0)
    # the spread of one term f(z) (z - rho), for the standard error of N_DRAWS of them
    second_moment = rho * (f1 * (1 - rho)) ** 2 + (1 - rho) * (f0 * rho) ** 2
    sd = np.sqrt(second_moment - exact**2)
    expect_close("the estimate, within 5 standard errors of the exact gradient", estimate, exact,
                 rtol=0.0, atol=5 * sd / np.sqrt(N_DRAWS), mistakes={
                     "the sign is flipped: the score is z - rho": -exact,
                     "that estimates E[f], not its gradient: multiply each f(z) by the score "
                     "z - rho": rho * f1 + (1 - rho) * f0})
    expect_close("the standard error of the estimate", standard_error, sd / np.sqrt(N_DRAWS),
                 rtol=0.1, mistakes={"that is the standard deviation of the terms; divide it "
                                     "by the square root of the number of draws": sd})


KL_MEAN = np.array([0.5, -1.0, 0.0])  # the exercise's mu and log sigma^2
KL_LOG_VAR = np.array([-1.0, 0.5, 0.0])


@exercise("inside the tape: z from Sampling, then gaussian_log_density(z, means, log_vars) - "
          "gaussian_log_density(z, zeros, zeros); take the gradient of their sum.")
def exercise_3(kl_values, per_code):
    kl_values = np.asarray(kl_values, np.float64)
    if kl_values.ndim != 1 or kl_values.size < 1000:
        raise Mismatch(f"kl_values should hold log q(z) - log p(z) for each code, shape "
                       f"(number of codes,); got shape {kl_values.shape}.")
    n = kl_values.size
    exact_kl = 0.5 * np.sum(np.expm1(KL_LOG_VAR) - KL_LOG_VAR + KL_MEAN**2)
    error = kl_values.std(ddof=1) / np.sqrt(n)
    if abs(kl_values.mean() - exact_kl) > 5 * error:
        raise Mismatch(f"the Monte Carlo KL is {kl_values.mean():.4f} ± {error:.4f} nats, more "
                       f"than 5 standard errors from the closed form {exact_kl:.4f}: is p = "
                       "N(0, I) given a log-variance of 0 (zeros, not ones)?")
    exact = [KL_MEAN, 0.5 * np.expm1(KL_LOG_VAR)]
    for name, grads, grad_exact in zip(["z_mean", "z_log_var"], per_code, exact, strict=True):
        grads = np.asarray(grads, np.float64)
        if grads.shape != (n, 3):
            raise Mismatch(f"the gradients for {name} should have shape ({n}, 3), one row per "
                           f"code; got {grads.shape}.")
        error = grads.std(axis=0, ddof=1) / np.sqrt(n)
        worst = int(np.argmax(np.abs(grads.mean(axis=0) - grad_exact) / error))
        if abs(grads.mean(axis=0)[worst] - grad_exact[worst]) > 5 * error[worst]:
            raise Mismatch(f"the average gradient for {name}[{worst}] is "
                           f"{grads.mean(axis=0)[worst]:.3f} ± {error[worst]:.3f}; the closed "
                           f"form's is {grad_exact[worst]:.3f}.")

"""Self-checks for notebook 07's code exercises (β-VAE and posterior collapse).

- ``exercise_1``: ``implied_beta(reconstruction, kl, D, K)``, the KL weight a loss with the
  given reductions ("sum" or "mean") implies, relative to the ELBO's sum/sum.
- ``exercise_2``: ``free_bits_term(z_mean, z_log_var, free_bits)``, the free-bits KL term
  sum_k max(free_bits, KL_k) with KL_k averaged over the batch.
- ``exercise_3``: the table ``objective[i, j] = distortion[j] + betas[i] * rate[j]`` of every
  model's point on every model's objective, and which model wins each row.

Introduced in notebook 07.
"""

from __future__ import annotations

import itertools

import numpy as np

from . import Exercise, Mismatch, expect_close

REDUCTIONS = ("sum", "mean")


def _implied_beta(reconstruction, kl, D, K):
    weight_reconstruction = 1.0 if reconstruction == "sum" else 1.0 / D
    weight_kl = 1.0 if kl == "sum" else 1.0 / K
    return weight_kl / weight_reconstruction


def _check_implied_beta(implied_beta):
    for (D, K), (rec, kl) in itertools.product([(784, 20), (784, 2), (100, 10)],
                                               itertools.product(REDUCTIONS, REDUCTIONS)):
        expected = _implied_beta(rec, kl, D, K)
        got = implied_beta(rec, kl, D, K)
        expect_close(f"implied_beta({rec!r}, {kl!r}, D={D}, K={K})", got, expected, rtol=1e-9)
    return ("The blog's mean/mean loss weighs the KL D/K = 39.2 times the ELBO's weight: it "
            "trains a β-VAE with β ≈ 39.")


exercise_1 = Exercise(
    "Exercise 1",
    _check_implied_beta,
    "a mean over D pixels is the sum times 1/D, a mean over K dimensions is the sum times 1/K; "
    "divide the whole loss by the reconstruction's factor, and β is what multiplies the KL "
    "sum.",
)


def _free_bits_reference(z_mean, z_log_var, free_bits):
    per_dim = 0.5 * (np.expm1(z_log_var) - z_log_var + z_mean**2)  # (B, K)
    return float(np.sum(np.maximum(per_dim.mean(axis=0), free_bits)))


def _cases():
    rng = np.random.default_rng(7)
    z_mean = rng.normal(0, [0.05, 1.0, 2.0, 0.01], size=(16, 4))
    z_log_var = rng.normal([0.0, -1.0, -3.0, 0.0], 0.1, size=(16, 4))
    # Dimension 0 varies a little from image to image, around the floor: flooring each
    # image's KL before averaging gives another number than flooring the batch average.
    return [(z_mean, z_log_var, 0.0), (z_mean, z_log_var, 0.5), (z_mean, z_log_var, 2.0),
            (z_mean[:1], z_log_var[:1], 0.25)]


def _check_free_bits(free_bits_term):
    for i, (z_mean, z_log_var, free_bits) in enumerate(_cases()):
        expected = _free_bits_reference(z_mean, z_log_var, free_bits)
        got = np.asarray(free_bits_term(z_mean.copy(), z_log_var.copy(), free_bits), np.float64)
        if got.shape != ():
            raise Mismatch(f"case {i + 1}: the term should be one number (a scalar, nats per "
                           f"image); got shape {got.shape}.")
        expect_close(f"case {i + 1} (batch of {len(z_mean)}, free_bits={free_bits})", got,
                     expected, rtol=1e-6)
    return "With free_bits = 0 it is the mean KL; above 0, quiet dimensions cost a fixed floor."


exercise_2 = Exercise(
    "Exercise 2",
    _check_free_bits,
    "per dimension: the KL 0.5 * (exp(z_log_var) - 1 - z_log_var + z_mean**2), then the mean "
    "over the batch (axis 0), THEN the floor np.maximum(..., free_bits), then the sum over k.",
)


def _check_objective_table(betas, rates, distortions, table, winners):
    betas, rates, distortions = (np.asarray(a, np.float64) for a in (betas, rates, distortions))
    if not betas.shape == rates.shape == distortions.shape or betas.ndim != 1:
        raise Mismatch("betas, rates and distortions must be 1-D arrays of the same length, "
                       "one entry per model.")
    expected = distortions[None, :] + betas[:, None] * rates[None, :]
    expect_close("the table objective[i, j] (row i: model i's beta; column j: model j's "
                 "point)", table, expected, rtol=1e-6)
    expected_winners = np.argmin(expected, axis=1)
    got = np.asarray(winners)
    if got.shape != expected_winners.shape or not np.array_equal(got, expected_winners):
        raise Mismatch(f"winners should hold, for each row, the column with the smallest "
                       f"objective: expected {expected_winners.tolist()}, got "
                       f"{got.tolist() if got.ndim else got}.")
    own = int(np.sum(expected_winners == np.arange(len(betas))))
    return f"{own} of {len(betas)} models are best at their own β."


exercise_3 = Exercise(
    "Exercise 3",
    _check_objective_table,
    "use broadcasting: distortions[None, :] + betas[:, None] * rates[None, :]; then "
    "np.argmin(table, axis=1).",
)

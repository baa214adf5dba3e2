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

import numpy as np

from . import Mismatch, exercise, expect_cases, expect_close


def _implied_beta(reconstruction, kl, D, K):
    weight_reconstruction = 1.0 if reconstruction == "sum" else 1.0 / D
    weight_kl = 1.0 if kl == "sum" else 1.0 / K
    return weight_kl / weight_reconstruction


def _reduction_cases(name: str, sizes) -> dict:
    """``{"name('sum', 'mean', D=784, K=20)": ("sum", "mean", 784, 20), ...}``: each pair of
    reductions for each (D, K) in ``sizes``, the cases for :func:`expect_cases`."""
    return {f"{name}({r!r}, {k!r}, D={d}, K={latent})": (r, k, d, latent)
            for d, latent in sizes for r in ("sum", "mean") for k in ("sum", "mean")}


@exercise("a mean over D pixels is the sum times 1/D, a mean over K dimensions is the sum times "
          "1/K; divide the whole loss by the reconstruction's factor, and β is what multiplies "
          "the KL sum.")
def exercise_1(implied_beta):
    expect_cases(implied_beta, _reduction_cases("implied_beta", [(784, 20), (784, 2), (100, 10)]),
                 _implied_beta, rtol=1e-9)
    return ("The blog's mean/mean loss weighs the KL D/K = 39.2 times the ELBO's weight: it "
            "trains a β-VAE with β ≈ 39.")


def _free_bits_reference(z_mean, z_log_var, free_bits):
    from vae_tutorial import kl_per_dimension  # (K,): each dimension's KL, batch mean

    return float(np.sum(np.maximum(kl_per_dimension(z_mean, z_log_var), free_bits)))


@exercise("per dimension: the KL 0.5 * (exp(z_log_var) - 1 - z_log_var + z_mean**2), then the "
          "mean over the batch (axis 0), THEN the floor np.maximum(..., free_bits), then the sum "
          "over k.")
def exercise_2(free_bits_term):
    rng = np.random.default_rng(7)
    z_mean = rng.normal(0, [0.05, 1.0, 2.0, 0.01], size=(16, 4))
    z_log_var = rng.normal([0.0, -1.0, -3.0, 0.0], 0.1, size=(16, 4))
    # Dimension 0 varies a little from image to image, around the floor: flooring each
    # image's KL before averaging gives another number than flooring the batch average.
    cases = [(z_mean, z_log_var, 0.0), (z_mean, z_log_var, 0.5), (z_mean, z_log_var, 2.0),
             (z_mean[:1], z_log_var[:1], 0.25)]
    expect_cases(free_bits_term, {
        f"case {i + 1} (batch of {len(args[0])}, free_bits={args[2]}; nats per image)": args
        for i, args in enumerate(cases)}, _free_bits_reference, rtol=1e-6)
    return "With free_bits = 0 it is the mean KL; above 0, quiet dimensions cost a fixed floor."


@exercise("use broadcasting: distortions[None, :] + betas[:, None] * rates[None, :]; then "
          "np.argmin(table, axis=1).")
def exercise_3(betas, rates, distortions, table, winners):
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

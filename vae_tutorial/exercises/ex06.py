"""Self-checks for notebook 06's exercises (the latent space of a 2-D VAE)."""

from __future__ import annotations

from statistics import NormalDist

import numpy as np

from . import exercise, expect_close


@exercise("vae.encode gives (z_mean, z_log_var); z_log_var is log sigma^2.")
def exercise_1(sigma_one, log_var_one):
    log_var = np.asarray(log_var_one, np.float64).reshape(-1)
    expect_close("the posterior standard deviations sigma", np.reshape(sigma_one, -1),
                 np.exp(log_var / 2), rtol=1e-5, mistakes={
                     "that is exp(z_log_var), the variance; z_log_var is log sigma^2, so "
                     "sigma = exp(z_log_var / 2)": np.exp(log_var),
                     "that treats z_log_var as sigma itself; it is log sigma^2": log_var,
                     "that is sqrt(z_log_var); exponentiate first: exp(z_log_var / 2)":
                     np.sqrt(np.abs(log_var))})
    return "Now compare those sigmas with the scales 0.5 and 1.5."


@exercise("P(|z_k| <= 2) = Phi(2) - Phi(-2) for each of the two independent coordinates; for "
          "the grid, the share of values with |v| <= 2, squared for the two axes.")
def exercise_2(mass_outside, tiles_outside, even_values):
    inside = NormalDist().cdf(2) - NormalDist().cdf(-2)
    expect_close("the prior mass outside [-2, 2]^2", mass_outside, 1 - inside**2, rtol=1e-6,
                 mistakes={
                     "that is for one coordinate; a code lies inside the square only if both "
                     "coordinates do, with probability (Phi(2) - Phi(-2))^2": 1 - inside,
                     "that is the mass inside; subtract it from 1": inside**2})
    share = np.mean(np.abs(np.asarray(even_values)) <= 2)
    expect_close("the share of the even grid's tiles outside [-2, 2]^2", tiles_outside,
                 1 - share**2, rtol=1e-6, mistakes={
                     "that counts grid values on one axis; a tile is inside only if both its "
                     "coordinates are": 1 - share})


@exercise("for each digit d, add up exp(-|z|^2 / 2) over the cells the judge calls d, and "
          "divide by the sum over all cells.")
def exercise_3(mass, named, plane):
    plane, named = np.asarray(plane, np.float64), np.asarray(named)
    weights = np.exp(-np.sum(plane**2, axis=1) / 2)
    expected = np.array([weights[named == d].sum() for d in range(10)]) / weights.sum()
    counts = np.array([np.mean(named == d) for d in range(10)])
    expect_close("the prior mass per digit", mass, expected, rtol=1e-4, atol=1e-9, mistakes={
        "that is the share of grid cells; weight each cell by the prior density "
        "exp(-|z|^2 / 2) before adding up": counts,
        "the masses should be normalised to sum to 1: divide by the total weight":
        expected * weights.sum()})

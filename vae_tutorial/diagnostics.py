"""Which latent dimensions a VAE uses, from the encoder's outputs ``VAE.encode(x)``.

Introduced in notebook 07 and used again by notebooks 09 and 10.
"""

from __future__ import annotations

import numpy as np

from .checks import check_matrix, check_non_negative

ACTIVE_THRESHOLD = 0.01  # Burda et al. (2016)


def kl_per_dimension(z_mean, z_log_var) -> np.ndarray:
    """KL(q(z_k | x) || N(0, 1)) of each latent dimension k, averaged over the N images.

    ``z_mean``, ``z_log_var``: shape (N, K). Returns shape (K,), nats per image; the sum over
    k is the mean of :func:`~vae_tutorial.probability.kl_to_standard_normal`, the KL term of
    the loss. A dimension whose KL is near 0 carries no information about x.
    Introduced in notebook 07.
    """
    mean = check_matrix(z_mean, "z_mean")
    log_var = check_matrix(z_log_var, "z_log_var", columns=mean.shape[1])
    if log_var.shape != mean.shape:
        raise ValueError(f"z_mean and z_log_var must have the same shape; got {mean.shape} "
                         f"and {log_var.shape}.")
    return np.mean(0.5 * (np.expm1(log_var) - log_var + mean**2), axis=0)


def active_units(z_mean, threshold: float = ACTIVE_THRESHOLD) -> np.ndarray:
    """Which latent dimensions are active: Var over images of E_q[z_k | x] above ``threshold``.

    ``z_mean``: shape (N, K), the posterior means of N >= 2 images. Returns a boolean array
    of shape (K,); ``.sum()`` is the number of active units (Burda et al. 2016, with their
    threshold 0.01). An inactive unit's code is the same for every image: the decoder cannot
    read anything about x from it. Introduced in notebook 07.
    """
    mean = check_matrix(z_mean, "z_mean")
    if mean.shape[0] < 2:
        raise ValueError(f"z_mean must hold at least 2 images to measure a variance; got "
                         f"{mean.shape[0]}.")
    threshold = check_non_negative(threshold, "threshold", "a variance")
    return np.var(mean, axis=0) > threshold

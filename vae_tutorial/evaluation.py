"""How good is a VAE: importance-weighted bounds on log p(x), and a Fréchet distance of samples.

Introduced in notebook 09, which derives both. Log-likelihoods are in nats per image; the
codes are decoded in chunks of at most ``chunk_size``, so memory stays bounded whatever the
number of samples S.
"""

from __future__ import annotations

import itertools
import math
import weakref

import numpy as np

from .checks import (
    BINARIZATIONS,
    IMAGE_PIXELS,
    as_array,
    check_choice,
    check_images,
    check_int,
    check_labels,
    check_matrix,
)

DEFAULT_CHUNK = 512  # codes per decoder call (1.6 MB of logits); larger: no faster, more memory
LOG_2PI = math.log(2.0 * math.pi)


# --------------------------------------------------------------------------- small pieces


def log_mean_exp(values, axis: int = -1) -> np.ndarray:
    """``log(mean(exp(values)))`` along ``axis``, float64, computed stably.

    As ``m + log(mean(exp(values - m)))``, m the largest value along the axis: log-weights of
    -10,000 or +1,000 nats give the right answer. -inf (a weight of 0) is allowed, a row of
    only -inf gives -inf; NaN and +inf raise a ``ValueError``. Introduced in notebook 09.
    """
    array = as_array(values, "values")
    if not (np.issubdtype(array.dtype, np.floating) or np.issubdtype(array.dtype, np.integer)):
        raise TypeError(f"values must be real numbers (log-weights); got dtype {array.dtype}.")
    array = array.astype(np.float64)
    if array.ndim == 0 or array.shape[axis] == 0:
        raise ValueError(f"values must have a non-empty axis {axis} to average over; got "
                         f"shape {array.shape}.")
    if np.isnan(array).any() or np.isposinf(array).any():
        raise ValueError("values contains NaN or +inf; log-weights must be finite (or -inf for "
                         "a weight of 0). Check the model's outputs.")
    top = np.max(array, axis=axis, keepdims=True)
    top = np.where(np.isfinite(top), top, 0.0)  # a row of only -inf stays -inf below
    with np.errstate(divide="ignore"):
        return np.log(np.mean(np.exp(array - top), axis=axis)) + np.squeeze(top, axis=axis)


def binarize_images(images, binarization: str = "dynamic", *, seed: int = 0) -> np.ndarray:
    """Binary images (N, 784) float32 from grey ``images`` in [0, 1], drawn or thresholded once.

    ``"dynamic"``: pixel d is 1 with probability x_d, one draw from
    ``np.random.default_rng(seed)``; ``"static"``: x_d > 0.5. Fixed once, so that every bound
    of every model is measured on the same binary images. Introduced in notebook 09.
    """
    x = check_images(images, "images").reshape(-1, IMAGE_PIXELS)
    check_choice(binarization, "binarization", BINARIZATIONS)
    if binarization == "static":
        return (x > 0.5).astype(np.float32)
    seed = check_int(seed, "seed", minimum=0)
    return (np.random.default_rng(seed).random(x.shape) < x).astype(np.float32)


def _binary_images(x) -> np.ndarray:
    """``x`` as float32 (N, 784), checked to hold binary images (shape checked by check_images)."""
    array = as_array(x, "x")
    if not np.issubdtype(array.dtype, np.floating):
        raise TypeError(f"x must be binary images as floats (0.0 or 1.0); got dtype "
                        f"{array.dtype}. Use binarize_images(images, 'dynamic', seed=0).")
    if not np.all((array == 0) | (array == 1)):
        raise ValueError("x must be binary images (every pixel 0 or 1): a log-likelihood is "
                         "only defined for binary pixels. Binarize grey images first with "
                         "binarize_images(images, 'dynamic', seed=0).")
    return check_images(array, "x").reshape(-1, IMAGE_PIXELS)


def _one_hot(model, labels, n_images: int):
    """The labels as one-hot float32 (N, C) for a conditional model, else None (checked)."""
    conditional = bool(getattr(model, "needs_labels", False))
    if labels is None:
        if conditional:
            raise ValueError("this model is conditional (it models p(x | y)): pass labels=, the "
                             "digit of each image, shape (N,).")
        return None
    if not conditional:
        raise ValueError("labels were given, but this model is not conditional: drop labels=.")
    classes = int(model.num_classes)
    labels = check_labels(labels, "labels", length=n_images, classes=classes)
    return np.eye(classes, dtype=np.float32)[labels]


def _posterior(model, x, q, one_hot):
    """(z_mean, z_log_var) float64 (N, K): the encoder's, or ``q`` checked against x."""
    import keras  # here, so that importing this module does not start TensorFlow

    if q is None:
        q = model.encoder(x if one_hot is None else [x, one_hot], training=False)
        return tuple(keras.ops.convert_to_numpy(t).astype(np.float64) for t in q)
    if not (isinstance(q, (tuple, list)) and len(q) == 2):
        raise ValueError("q must be a pair (z_mean, z_log_var) of arrays of shape (N, K), "
                         "one row per image.")
    z_mean = check_matrix(q[0], "q's z_mean")
    z_log_var = check_matrix(q[1], "q's z_log_var", columns=z_mean.shape[1])
    if z_mean.shape != z_log_var.shape or z_mean.shape[0] != x.shape[0]:
        raise ValueError(f"q's z_mean {z_mean.shape} and z_log_var {z_log_var.shape} must both "
                         f"have one row per image ({x.shape[0]}).")
    return z_mean, z_log_var


def _terms(model, x, n_samples, seed, q, chunk_size, labels):
    """Check the arguments of the three bounds once; return ``(z_mean, z_log_var, blocks)``.

    ``z_mean``, ``z_log_var``: q's parameters, float64 (N, K). ``blocks`` yields, chunk by
    chunk, ``(first image, end image, first sample, log p(x|z), log w)``, each of the last two
    of shape (images, samples), nats, float64; log w = log p(x|z) + log p(z) - log q(z|x).
    """
    import keras

    x = _binary_images(x)
    if not (hasattr(model, "encoder") and hasattr(model, "decoder")):
        raise TypeError(f"model must be a VAE with .encoder and .decoder (such as build_vae's); "
                        f"got a {type(model).__name__}.")
    n_samples = check_int(n_samples, "n_samples")
    seed = check_int(seed, "seed", minimum=0)
    chunk_size = check_int(chunk_size, "chunk_size")
    one_hot = _one_hot(model, labels, x.shape[0])
    z_mean, z_log_var = _posterior(model, x, q, one_hot)

    def blocks():  # decoder calls of at most chunk_size codes: whole images or part of one
        n_images = x.shape[0]
        per_block = max(1, chunk_size // n_samples)  # images per call
        step = min(n_samples, chunk_size)  # codes per image and call
        # Per image, its own generator, drawn in order: the chunking does not change the codes.
        generators = [np.random.default_rng([seed, i]) for i in range(n_images)]
        std = np.exp(0.5 * z_log_var)
        for first, s0 in itertools.product(range(0, n_images, per_block),
                                           range(0, n_samples, step)):
            last, s1 = min(first + per_block, n_images), min(s0 + step, n_samples)
            eps = np.stack([generators[i].standard_normal((s1 - s0, z_mean.shape[1]))
                            for i in range(first, last)])  # (images, samples, K)
            z = z_mean[first:last, None] + std[first:last, None] * eps
            z_rows = z.reshape(-1, z_mean.shape[1]).astype(np.float32)
            inputs = z_rows if one_hot is None else [
                z_rows, np.repeat(one_hot[first:last], s1 - s0, axis=0)]
            logits = model.decoder(inputs, training=False)
            x_rows = keras.ops.convert_to_tensor(np.repeat(x[first:last], s1 - s0, axis=0))
            # bernoulli_log_likelihood's formula without its input checks (x is checked
            # above): with them, 20 images x 2,000 samples took 1.4 x as long
            log_lik = -keras.ops.sum(keras.ops.softplus(logits) - x_rows * logits, axis=-1)
            log_lik = keras.ops.convert_to_numpy(log_lik).astype(np.float64).reshape(z.shape[:2])
            log_prior = -0.5 * np.sum(LOG_2PI + z**2, axis=-1)
            log_q = -0.5 * np.sum(LOG_2PI + z_log_var[first:last, None] + eps**2, axis=-1)
            yield first, last, s0, log_lik, log_lik + log_prior - log_q

    return z_mean, z_log_var, blocks()


# --------------------------------------------------------------------------- the bounds


def log_importance_weights(model, x, n_samples: int, *, seed: int = 0, q=None,
                           chunk_size: int = DEFAULT_CHUNK, labels=None) -> np.ndarray:
    """Log importance weights log p(x, z_s) - log q(z_s | x): (N, n_samples), nats, float64.

    ``model``: a VAE (``encoder`` gives q's ``z_mean``, ``z_log_var``; ``decoder``, Bernoulli
    logits). ``x``: BINARY images (N, 784) or (N, 28, 28) (see :func:`binarize_images`).
    ``n_samples``: codes z_s ~ q(z | x) per image; the eps of image i (row i of ``x``) are
    ``np.random.default_rng([seed, i]).standard_normal((n_samples, K))``, whatever
    ``chunk_size`` (codes per decoder call) is. ``q``: optional ``(z_mean, z_log_var)``, each
    (N, K), instead of the encoder's (a q optimized per image). ``labels``: the digits (N,),
    required for a conditional model (notebook 08's, whose bounds are then on log p(x | y))
    and refused for any other. :func:`importance_weighted_bound` keeps one number per image
    instead of N x n_samples. Introduced in notebook 09.
    """
    z_mean, _, blocks = _terms(model, x, n_samples, seed, q, chunk_size, labels)
    weights = np.empty((z_mean.shape[0], n_samples))
    for first, last, s0, _, log_w in blocks:
        weights[first:last, s0:s0 + log_w.shape[1]] = log_w
    return weights


def importance_weighted_bound(model, x, n_samples: int, *, seed: int = 0, q=None,
                              chunk_size: int = DEFAULT_CHUNK, labels=None) -> np.ndarray:
    """One draw of the importance-weighted bound L_S per image: shape (N,), nats, float64.

    ``log (1/S) sum_s p(x, z_s) / q(z_s | x)`` with S = ``n_samples`` (Burda et al. 2016):
    ``log_mean_exp`` of each row of :func:`log_importance_weights` with the same arguments
    (same seed, same codes), computed as a running log-sum-exp over the chunks, so memory
    stays bounded whatever S. Introduced in notebook 09.
    """
    z_mean, _, blocks = _terms(model, x, n_samples, seed, q, chunk_size, labels)
    top = np.full(z_mean.shape[0], -np.inf)
    total = np.zeros(z_mean.shape[0])  # sum of exp(log w - top)
    for first, last, _, _, log_w in blocks:
        new_top = np.maximum(top[first:last], log_w.max(axis=1))
        total[first:last] = (total[first:last] * np.exp(top[first:last] - new_top)
                             + np.exp(log_w - new_top[:, None]).sum(axis=1))
        top[first:last] = new_top
    return top + np.log(total) - math.log(n_samples)


def elbo_per_image(model, x, n_samples: int = 1, *, seed: int = 0, q=None,
                   chunk_size: int = DEFAULT_CHUNK, labels=None) -> np.ndarray:
    """The ELBO of each image, shape (N,), nats, float64: E_q[log p(x | z)] - KL(q || N(0, I)).

    The reconstruction term is averaged over ``n_samples`` codes (those of
    :func:`log_importance_weights` with the same arguments), the KL is in closed form: less
    noise than the mean of the log-weights, the same expectation. It is minus the VAE's loss,
    ``-(reconstruction + kl)``, for the same binary image. Introduced in notebook 09.
    """
    z_mean, z_log_var, blocks = _terms(model, x, n_samples, seed, q, chunk_size, labels)
    kl = 0.5 * np.sum(np.expm1(z_log_var) - z_log_var + z_mean**2, axis=-1)
    log_lik = np.zeros(z_mean.shape[0])
    for first, last, _, block, _ in blocks:
        log_lik[first:last] += block.sum(axis=1)
    return log_lik / n_samples - kl


# --------------------------------------------------------------------------- sample quality


def frechet_distance(features_a, features_b) -> float:
    """Fréchet distance between Gaussians fitted to two sets of feature vectors; >= 0.

    ``features_a`` (N_a, F) and ``features_b`` (N_b, F), N_a, N_b >= 2, finite. Returns
    ``|m_a - m_b|^2 + tr(C_a + C_b - 2 (C_a^(1/2) C_b C_a^(1/2))^(1/2))`` (FID's formula) for
    their means m and covariances C (``np.cov``), in squared feature units; the square roots
    come from symmetric eigendecompositions, negative rounding errors set to 0. It grows with
    the sample size's noise: compare only at equal N_a, N_b, beside a real-vs-real floor.
    Introduced in notebook 09.
    """
    a = check_matrix(features_a, "features_a")
    b = check_matrix(features_b, "features_b")
    if a.shape[1] != b.shape[1]:
        raise ValueError(f"features_a and features_b must have the same number of features "
                         f"(columns); got {a.shape[1]} and {b.shape[1]}. Take both from the "
                         "same feature extractor.")
    for name, f in (("features_a", a), ("features_b", b)):
        if f.shape[0] < 2:
            raise ValueError(f"{name} must hold at least 2 feature vectors to fit a "
                             f"covariance; got {f.shape[0]}.")
    cov_a, cov_b = np.atleast_2d(np.cov(a, rowvar=False)), np.atleast_2d(np.cov(b, rowvar=False))
    values, vectors = np.linalg.eigh((cov_a + cov_a.T) / 2)  # C_a^(1/2) from here on
    root_a = (vectors * np.sqrt(np.clip(values, 0.0, None))) @ vectors.T
    cross = np.sum(np.sqrt(np.clip(np.linalg.eigvalsh(root_a @ cov_b @ root_a), 0.0, None)))
    mean_term = float(np.sum((a.mean(axis=0) - b.mean(axis=0)) ** 2))
    return max(0.0, mean_term + float(np.trace(cov_a) + np.trace(cov_b) - 2.0 * cross))


_FEATURE_MODELS: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()  # judge -> features


def judge_features(judge, images, *, batch_size: int = 2048) -> np.ndarray:
    """The judge's hidden-layer activations for ``images``: (N, F) float64 (F = 128).

    ``judge``: a classifier from :func:`~vae_tutorial.judge.train_judge` (any Keras model
    whose second-to-last layer is the feature layer); ``images``: floats in [0, 1], (N, 784)
    or (N, 28, 28). What :func:`frechet_distance` compares, as FID compares Inception
    features. Introduced in notebook 09.
    """
    import keras

    if not isinstance(judge, keras.Model) or len(judge.layers) < 2:
        raise TypeError(f"judge must be a keras.Model with a hidden layer (from train_judge); "
                        f"got {type(judge).__name__}.")
    x = check_images(images, "images").reshape(-1, IMAGE_PIXELS)
    batch_size = check_int(batch_size, "batch_size")
    features = _FEATURE_MODELS.get(judge)
    if features is None:  # one feature model per judge, however often it is called
        features = keras.Model(judge.inputs[0], judge.layers[-2].output)
        _FEATURE_MODELS[judge] = features
    return np.concatenate([keras.ops.convert_to_numpy(features(x[i:i + batch_size],
                                                               training=False))
                           for i in range(0, x.shape[0], batch_size)]).astype(np.float64)

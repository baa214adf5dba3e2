"""The plain dense autoencoder of notebook 01, and the dense layers every model here uses.

Notebooks 02 and 06 reuse the autoencoder to show what a plain autoencoder's code space
lacks; the VAE's networks (notebook 05) are built with :func:`dense_stack`.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence

import keras

from .checks import IMAGE_PIXELS, check_activation, check_int, check_units


def dense_stack(x, hidden_units: Sequence[int], heads: dict[str, int], *, activation,
                prefix: str, seed: int | None = None, seed_offset: int = 0) -> list:
    """Hidden Dense layers on ``x``, then one linear Dense head per entry of ``heads``.

    Hidden layer i has ``hidden_units[i]`` units, ``activation``, and the name
    ``f"{prefix}_hidden_{i}"``; ``heads`` maps each head's name to its width. Returns the
    heads' outputs, in order. The kernels start from :func:`glorot_initializers` (``seed``,
    ``seed_offset``). Arguments are not checked here: the public builders check them.
    """
    init = glorot_initializers(seed, seed_offset)
    for i, units in enumerate(hidden_units):
        x = keras.layers.Dense(units, activation=activation, kernel_initializer=next(init),
                               name=f"{prefix}_hidden_{i}")(x)
    return [keras.layers.Dense(units, kernel_initializer=next(init), name=name)(x)
            for name, units in heads.items()]


def glorot_initializers(seed: int | None, offset: int = 0):
    """Glorot initializers for successive layers, seeded ``seed * 1000 + offset``, ``+ 1``, ...

    Without ``seed`` they come from Keras' global generator (which ``setup_notebook`` seeds).
    """
    seeds = itertools.repeat(None) if seed is None else itertools.count(seed * 1000 + offset)
    return (keras.initializers.GlorotUniform(seed=s) for s in seeds)


def build_dense_autoencoder(latent_dim: int, hidden_units: Sequence[int] = (256,),
                            activation: str | None = "relu"):
    """Build a dense encoder, decoder and the autoencoder chaining them.

    Encoder: images (N, 784) in [0, 1] -> ``hidden_units...`` -> codes (N, latent_dim)
    (hidden layers use ``activation``; the code layer is linear). Decoder: the mirror image,
    ending in 784 linear outputs (N, 784): logits for :func:`reconstruction_bce` (apply
    ``keras.ops.sigmoid`` for pixel intensities), or the reconstruction itself for a linear
    autoencoder trained on squared error. With ``hidden_units=()`` and ``activation=None``
    the whole model is linear (the autoencoder that notebook 01 compares with PCA).

    Returns ``(autoencoder, encoder, decoder)``: three ``keras.Model`` sharing weights.
    Introduced in notebook 01.
    """
    latent_dim = check_int(latent_dim, "latent_dim")
    hidden_units = check_units(hidden_units)
    activation = check_activation(activation)

    x = keras.Input(shape=(IMAGE_PIXELS,), name="image")
    (code,) = dense_stack(x, hidden_units, {"code": latent_dim}, activation=activation,
                          prefix="encoder")
    encoder = keras.Model(x, code, name="encoder")
    z = keras.Input(shape=(latent_dim,), name="z")
    (out,) = dense_stack(z, hidden_units[::-1], {"decoder_output": IMAGE_PIXELS},
                         activation=activation, prefix="decoder")
    decoder = keras.Model(z, out, name="decoder")
    return keras.Model(x, decoder(encoder(x)), name="autoencoder"), encoder, decoder


def reconstruction_bce(x, logits):
    """Binary cross-entropy of images under the decoder's logits, in nats per image.

    ``x``: targets in [0, 1], shape (N, D); ``logits``: shape (N, D). Returns shape (N,):
    the cross-entropy summed over the D pixels (not averaged), so with Keras' default
    reduction a model's loss reads in nats per image. Stable for any logit; the same
    value as ``-bernoulli_log_likelihood(x, logits)`` (notebook 02). Introduced in
    notebook 01.
    """
    per_pixel_mean = keras.losses.binary_crossentropy(x, logits, from_logits=True)
    return per_pixel_mean * keras.ops.cast(keras.ops.shape(logits)[-1], per_pixel_mean.dtype)

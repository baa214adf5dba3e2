"""The convolutional VAE of notebook 08: Conv2D encoder, Conv2DTranspose decoder.

The same Bernoulli VAE as notebook 05 (:class:`~vae_tutorial.vae.VAE`: the same loss,
binarization and methods); only the two networks change: they see an image as a 28 x 28
grid instead of a list of 784 numbers. A convolution reuses one small kernel at every
position of the image, so it needs far fewer weights than a Dense layer for the same input,
and it builds in that a stroke is a stroke wherever it lies. Introduced in notebook 08.
"""

from __future__ import annotations

from collections.abc import Sequence

import keras

from .autoencoder import glorot_initializers
from .checks import IMAGE_PIXELS, IMAGE_SIDE
from .vae import VAE
from .vae import _checked as _checked_sizes

KERNEL_SIZE = 3
MAX_CONVOLUTIONS = 2  # see the message in _checked


def build_conv_encoder(latent_dim: int = 20, filters: Sequence[int] = (16, 32), *,
                       seed: int | None = None) -> keras.Model:
    """Convolutional encoder: images (N, 784) -> ``[z_mean, z_log_var]``, each (N, latent_dim).

    The images are reshaped to (N, 28, 28, 1); each entry of ``filters`` is the width of a
    3 x 3 convolution of stride 2 with ReLU (one or two: 28 -> 14 -> 7 pixels a side), then
    two linear Dense heads. ``seed`` fixes the initial weights (None: Keras' global seed,
    as set by ``setup_notebook``). Introduced in notebook 08.
    """
    return _encoder(*_checked(latent_dim, filters, seed))


def build_conv_decoder(latent_dim: int = 20, filters: Sequence[int] = (16, 32), *,
                       seed: int | None = None) -> keras.Model:
    """Transposed-convolution decoder: codes (N, latent_dim) -> Bernoulli logits (N, 784).

    ``filters`` is the ENCODER's tuple (listed from the image inwards): the decoder is its
    mirror image. A Dense ReLU layer maps z to the encoder's last feature map (7 x 7 x
    filters[-1] for two filters), then 3 x 3 transposed convolutions of stride 2 go back up
    (ReLU, the filters in reverse order), the last one to a single linear channel of
    logits. ``seed`` as in :func:`build_conv_encoder`. Introduced in notebook 08.
    """
    return _decoder(*_checked(latent_dim, filters, seed))


def build_conv_vae(latent_dim: int = 20, filters: Sequence[int] = (16, 32), *,
                   binarization: str = "dynamic", seed: int | None = None,
                   **loss_options) -> VAE:
    """A convolutional VAE in one call: the package's :class:`~vae_tutorial.vae.VAE` with
    :func:`build_conv_encoder` and its mirror image :func:`build_conv_decoder`.

    Input, output, loss (the negative ELBO in nats per image) and ``seed`` as for
    :func:`~vae_tutorial.vae.build_vae`: images (N, 784) or (N, 28, 28) in [0, 1]; compile
    with an optimizer only. ``loss_options`` (``beta``, ``free_bits``) go to the VAE as they
    are. ``build_conv_vae()``'s encoder and decoder have 105,257 weights. Introduced in
    notebook 08.
    """
    latent_dim, filters, seed = _checked(latent_dim, filters, seed)
    return VAE(_encoder(latent_dim, filters, seed), _decoder(latent_dim, filters, seed),
               binarization=binarization, seed=seed, name="conv_vae", **loss_options)


def _checked(latent_dim, filters, seed):
    latent_dim, filters, seed = _checked_sizes(latent_dim, filters, seed, "filters")
    if not 1 <= len(filters) <= MAX_CONVOLUTIONS:
        raise ValueError(
            f"filters must list one or two convolution widths, such as (16, 32): each "
            f"stride-2 convolution halves the 28-pixel side (28 -> 14 -> 7), and a third would "
            f"not divide it evenly; got {len(filters)} ({filters!r}).")
    return latent_dim, filters, seed


def _encoder(latent_dim, filters, seed):
    init = glorot_initializers(seed, 0)
    image = keras.Input(shape=(IMAGE_PIXELS,), name="image")
    h = keras.layers.Reshape((IMAGE_SIDE, IMAGE_SIDE, 1), name="encoder_to_grid")(image)
    for i, width in enumerate(filters):
        h = keras.layers.Conv2D(width, KERNEL_SIZE, strides=2, padding="same", activation="relu",
                                kernel_initializer=next(init), name=f"encoder_conv_{i}")(h)
    h = keras.layers.Flatten(name="encoder_flatten")(h)
    z_mean = keras.layers.Dense(latent_dim, kernel_initializer=next(init), name="z_mean")(h)
    z_log_var = keras.layers.Dense(latent_dim, kernel_initializer=next(init),
                                   name="z_log_var")(h)
    return keras.Model(image, [z_mean, z_log_var], name="encoder")


def _decoder(latent_dim, filters, seed):
    init = glorot_initializers(seed, 500)
    side = IMAGE_SIDE // 2 ** len(filters)
    z = keras.Input(shape=(latent_dim,), name="z")
    h = keras.layers.Dense(side * side * filters[-1], activation="relu",
                           kernel_initializer=next(init), name="decoder_hidden")(z)
    h = keras.layers.Reshape((side, side, filters[-1]), name="decoder_to_grid")(h)
    for i, width in enumerate(filters[-2::-1]):
        h = keras.layers.Conv2DTranspose(width, KERNEL_SIZE, strides=2, padding="same",
                                         activation="relu", kernel_initializer=next(init),
                                         name=f"decoder_deconv_{i}")(h)
    h = keras.layers.Conv2DTranspose(1, KERNEL_SIZE, strides=2, padding="same",
                                     kernel_initializer=next(init), name="decoder_logits")(h)
    logits = keras.layers.Reshape((IMAGE_PIXELS,), name="logits")(h)
    return keras.Model(z, logits, name="decoder")

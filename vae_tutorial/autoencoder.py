"""The plain dense autoencoder of notebook 01, kept for later notebooks.

Notebook 01 builds this model step by step; notebooks 02 and 06 reuse it from here to
show what a plain autoencoder's code space lacks. Inputs are flattened images, shape
(N, 784), floats in [0, 1].
"""

from __future__ import annotations

from collections.abc import Sequence

import keras

from .checks import IMAGE_PIXELS, check_int


def build_dense_autoencoder(latent_dim: int, hidden_units: Sequence[int] = (256,),
                            activation: str | None = "relu", *, input_dim: int = IMAGE_PIXELS,
                            name: str = "autoencoder"):
    """Build a dense encoder, decoder and the autoencoder chaining them.

    Encoder: ``input_dim -> hidden_units... -> latent_dim`` (hidden layers use
    ``activation``; the code layer is linear). Decoder: the mirror image, ending in
    ``input_dim`` linear outputs. With ``hidden_units=()`` and ``activation=None`` the
    whole model is linear (the autoencoder that notebook 01 compares with PCA).

    The decoder returns pre-activation outputs, shape (N, input_dim): logits for
    :func:`reconstruction_bce` (apply ``keras.ops.sigmoid`` for pixel intensities), or
    the reconstruction itself for a linear autoencoder trained on squared error.

    Returns ``(autoencoder, encoder, decoder)``: three ``keras.Model`` sharing weights;
    ``encoder`` maps (N, input_dim) to codes (N, latent_dim).
    """
    latent_dim = check_int(latent_dim, "latent_dim")
    input_dim = check_int(input_dim, "input_dim")
    try:
        hidden_units = tuple(hidden_units)
    except TypeError:  # a bare number such as 256, or None
        example = (f"({hidden_units},)" if isinstance(hidden_units, int)
                   and not isinstance(hidden_units, bool) else "(256,)")
        raise ValueError(
            f"hidden_units must be a sequence of positive ints such as {example}, or () for "
            f"none; got {hidden_units!r}."
        ) from None
    hidden_units = tuple(check_int(h, f"hidden_units[{i}]") for i, h in enumerate(hidden_units))
    if activation is not None:
        try:
            keras.activations.get(activation)
        except (ValueError, TypeError) as exc:
            raise ValueError(
                f"unknown activation {activation!r}; use a Keras name such as 'relu', "
                "'tanh' or 'sigmoid', or None for a linear model."
            ) from exc

    x = keras.Input(shape=(input_dim,), name="image")
    h = x
    for i, units in enumerate(hidden_units):
        h = keras.layers.Dense(units, activation=activation, name=f"encoder_hidden_{i}")(h)
    code = keras.layers.Dense(latent_dim, name="code")(h)
    encoder = keras.Model(x, code, name="encoder")

    z = keras.Input(shape=(latent_dim,), name="z")
    h = z
    for i, units in enumerate(reversed(hidden_units)):
        h = keras.layers.Dense(units, activation=activation, name=f"decoder_hidden_{i}")(h)
    out = keras.layers.Dense(input_dim, name="decoder_output")(h)
    decoder = keras.Model(z, out, name="decoder")

    autoencoder = keras.Model(x, decoder(encoder(x)), name=name)
    return autoencoder, encoder, decoder


def reconstruction_bce(x, logits):
    """Binary cross-entropy of images under the decoder's logits, in nats per image.

    ``x``: targets in [0, 1], shape (N, D); ``logits``: shape (N, D). Returns shape (N,):
    the cross-entropy summed over the D pixels (not averaged), so with Keras' default
    reduction a model's loss reads in nats per image. Stable for any logit.
    """
    per_pixel_mean = keras.losses.binary_crossentropy(x, logits, from_logits=True)
    return per_pixel_mean * keras.ops.cast(keras.ops.shape(logits)[-1], per_pixel_mean.dtype)

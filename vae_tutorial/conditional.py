"""The conditional VAE of notebook 08: a VAE told which digit each image is.

Since the decoder is told the digit, the code z is free to hold the rest: the style (slant,
width, thickness). So ``sample(labels)`` draws the digits asked for, and decoding one
image's code with another label redraws it as that digit in its own style.
"""

from __future__ import annotations

from collections.abc import Sequence

import keras
import numpy as np
import tensorflow as tf
from keras import ops

from .checks import IMAGE_PIXELS, as_array, check_images, check_int, check_labels, check_matrix
from .vae import VAE, _checked, _decoder, _encoder

NUM_CLASSES = 10
PAIR_HINT = ("a ConditionalVAE takes images together with their integer labels, as a pair: "
             "fit((x_train, y_train)), evaluate((x_test, y_test)), model((x, labels))")


def build_conditional_vae(latent_dim: int = 20, hidden_units: Sequence[int] = (400,), *,
                          num_classes: int = NUM_CLASSES, binarization: str = "dynamic",
                          seed: int | None = None, **loss_options) -> ConditionalVAE:
    """A dense conditional VAE: (784 + C) -> hidden_units -> latent_dim; (latent_dim + C) -> 784.

    Notebook 05's MLP VAE with the one-hot label (C = ``num_classes`` numbers) joined to the
    encoder's image and to the decoder's code; ``seed`` and ``loss_options`` (``beta``,
    ``free_bits``) as for :func:`~vae_tutorial.vae.build_vae`. Returns an uncompiled
    :class:`ConditionalVAE`. Introduced in notebook 08.
    """
    latent_dim, hidden_units, seed = _checked(latent_dim, hidden_units, seed)
    num_classes = check_int(num_classes, "num_classes", minimum=2)
    return ConditionalVAE(_encoder(latent_dim, hidden_units, seed, num_classes),
                          _decoder(latent_dim, hidden_units[::-1], seed, num_classes),
                          binarization=binarization, seed=seed, name="conditional_vae",
                          **loss_options)


@keras.saving.register_keras_serializable(package="vae_tutorial")
class ConditionalVAE(VAE):
    """A Bernoulli VAE whose encoder, q(z | x, y), and decoder, p(x | z, y), see the label.

    ``encoder``: ``[images (N, 784), one-hot (N, C)] -> [z_mean, z_log_var]``; ``decoder``:
    ``[z (N, latent_dim), one-hot (N, C)] -> logits (N, 784)``; the loss, metrics and other
    arguments are :class:`~vae_tutorial.vae.VAE`'s. Where a VAE takes images, it takes pairs
    ``(images, labels)``: images (N, 784) or (N, 28, 28) in [0, 1], labels (N,) integers 0
    to C - 1, as in ``model((x, labels))``, ``negative_elbo_terms((x, labels))`` and
    ``fit((x_train, y_train), validation_data=(x_test, y_test))``; ``fit`` and ``evaluate``
    also take the labels as ``y``. Introduced in notebook 08.
    """

    needs_labels = True  # train_or_load_vae passes (images, labels) to such models

    def __init__(self, encoder, decoder, binarization: str, seed: int | None = None, **kwargs):
        if len(encoder.inputs) != 2 or len(decoder.inputs) != 2:
            raise ValueError("a ConditionalVAE's encoder must take [images, one-hot labels] and "
                             "its decoder [z, one-hot labels]: two inputs each (see "
                             "build_conditional_vae).")
        if encoder.inputs[1].shape[-1] != decoder.inputs[1].shape[-1]:
            raise ValueError(f"the encoder takes {encoder.inputs[1].shape[-1]} classes but the "
                             f"decoder {decoder.inputs[1].shape[-1]}: they must agree.")
        super().__init__(encoder, decoder, binarization=binarization, seed=seed, **kwargs)
        self.num_classes = int(encoder.inputs[1].shape[-1])

    def fit(self, x=None, y=None, *args, validation_data=None, **kwargs):
        """:meth:`VAE.fit` on the pair ``x = (images, labels)``, from arrays only (not datasets)."""
        if isinstance(x, tf.data.Dataset) or isinstance(validation_data, tf.data.Dataset):
            raise TypeError(f"{PAIR_HINT}; pass numpy arrays, not a tf.data.Dataset.")
        return super().fit(x, y, *args, validation_data=validation_data, **kwargs)

    def encode(self, x, labels):
        """``(z_mean, z_log_var)`` of q(z | x, y) for images x and labels; numpy (N, latent_dim)."""
        return super().encode((x, labels))

    def decode(self, z, labels):
        """Pixel probabilities (N, 784) of p(x | z, y) for codes z (N, latent_dim), labels (N,)."""
        z = check_matrix(z, "z", columns=self.latent_dim).astype(np.float32)
        one_hot = self._one_hot(labels, "labels", z.shape[0])
        return ops.convert_to_numpy(ops.sigmoid(self.decoder([z, one_hot], training=False)))

    def reconstruct(self, x, labels):
        """Decode the mean code of each image with its own label: pixel probabilities (N, 784)."""
        return self.decode(self.encode(x, labels)[0], labels)

    def sample(self, labels, seed: int | None = None):
        """Draw one image of each digit in ``labels`` (N,): z ~ N(0, I), decoded with its label.

        Returns pixel probabilities (N, 784). ``seed`` seeds the codes (numpy).
        """
        array = as_array(labels, "labels")
        if array.ndim != 1 or array.shape[0] == 0:
            raise ValueError(f"labels must be a non-empty list of digits (N,), one per image to "
                             f"draw, such as np.arange(10); got shape {array.shape}.")
        z = np.random.default_rng(seed).standard_normal((array.shape[0], self.latent_dim))
        return self.decode(z, array)

    # ---------------------------------------------------------------- how pairs reach the networks

    def _split(self, data, name="x"):
        """``(images (N, 784), one-hot (N, C))`` from a pair, checked as in :meth:`VAE._split`."""
        if not isinstance(data, (tuple, list)):
            raise ValueError(f"{name}: {PAIR_HINT}. Got {type(data).__name__} alone: where are "
                             "the labels?")
        if len(data) != 2:
            raise ValueError(f"{name}: {PAIR_HINT}. Got a {type(data).__name__} of {len(data)} "
                             "items instead of two.")
        images, labels = data
        if not tf.executing_eagerly():
            return ops.reshape(images, (-1, IMAGE_PIXELS)), labels
        images = check_images(images, name).reshape(-1, IMAGE_PIXELS)
        one_hot = self._one_hot(labels, f"the labels of {name}", images.shape[0])
        return ops.convert_to_tensor(images), ops.convert_to_tensor(one_hot)

    def _one_hot(self, labels, name, length):
        """Integer labels (N,) in [0, C) as float32 one-hot rows (N, C); one-hot rows pass."""
        array = as_array(labels, name)
        if (array.ndim == 2 and array.shape == (length, self.num_classes)
                and np.issubdtype(array.dtype, np.floating)
                and np.all((array == 0) | (array == 1)) and np.all(array.sum(axis=1) == 1)):
            return array.astype(np.float32)
        labels = check_labels(array, name, length=length, classes=self.num_classes)
        return np.eye(self.num_classes, dtype=np.float32)[labels]

    def _examples(self, data, labels, name):
        """The checked pair ``(images, one-hot)`` for Keras (``labels``: ``y``, joined to the
        images); the validation batches ``fit`` made pass as they are."""
        if isinstance(data, tf.data.Dataset):
            return data
        if labels is not None:
            if isinstance(data, (tuple, list)):
                raise ValueError(f"labels given twice: {PAIR_HINT}; pass them either in the pair "
                                 "or as the second argument.")
            data = (data, labels)
        return self._split(data, name)

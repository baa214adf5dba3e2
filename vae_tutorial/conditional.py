"""The conditional VAE of notebook 08: a VAE told which digit each image is.

Both networks get the label, as a one-hot vector of ``num_classes`` numbers, next to their
usual input:

- the encoder maps ``[image (N, 784), one-hot (N, C)]`` to ``[z_mean, z_log_var]``, each
  (N, latent_dim): q(z | x, y);
- the decoder maps ``[z (N, latent_dim), one-hot (N, C)]`` to 784 Bernoulli logits:
  p(x | z, y).

The loss is the VAE's (the negative ELBO in nats per image, with the same binarization,
metrics and training step: :class:`ConditionalVAE` inherits them from
:class:`~vae_tutorial.vae.VAE`); only what goes into the two networks changes. Since the
decoder is told the digit, the code z is free to hold the rest: the style (slant, width,
thickness). So ``sample(labels)`` draws the digits asked for, and decoding one image's code
with another label redraws it as that digit in its own style.

Data go in as a pair, images and integer labels, as for any Keras model with two inputs:
``model.fit((x_train, y_train), validation_data=(x_test, y_test))``,
``model.evaluate((x_test, y_test))``. Introduced in notebook 08.
"""

from __future__ import annotations

from collections.abc import Sequence

import keras
import numpy as np
import tensorflow as tf
from keras import ops

from .autoencoder import dense_stack
from .checks import IMAGE_PIXELS, as_array, check_images, check_int, check_labels, check_matrix
from .probability import bernoulli_log_likelihood, kl_to_standard_normal
from .vae import VAE, _checked

NUM_CLASSES = 10
PAIR_HINT = ("a ConditionalVAE takes images together with their integer labels, as a pair: "
             "fit((x_train, y_train)), evaluate((x_test, y_test)), model((x, labels))")


def build_conditional_vae(latent_dim: int = 20, hidden_units: Sequence[int] = (400,), *,
                          num_classes: int = NUM_CLASSES, binarization: str = "dynamic",
                          seed: int | None = None, **loss_options) -> ConditionalVAE:
    """A dense conditional VAE: (784 + C) -> hidden_units -> latent_dim; (latent_dim + C) -> 784.

    Notebook 05's MLP VAE with the one-hot label (C = ``num_classes`` numbers) joined to the
    encoder's image and to the decoder's code. Returns an uncompiled :class:`ConditionalVAE`;
    compile it with an optimizer only. ``seed`` fixes everything the model draws (initial
    weights, sampling of z, dynamic binarization, ``fit``'s shuffling), as in
    :func:`~vae_tutorial.vae.build_vae`. ``loss_options`` go to the model class as they are:
    the training objective's settings of notebook 07 (``beta``, ``free_bits``). Introduced
    in notebook 08.
    """
    latent_dim, hidden_units, seed = _checked(latent_dim, hidden_units, seed)
    num_classes = check_int(num_classes, "num_classes", minimum=2)
    return ConditionalVAE(_encoder(latent_dim, hidden_units, num_classes, seed),
                          _decoder(latent_dim, hidden_units[::-1], num_classes, seed),
                          binarization=binarization, seed=seed, name="conditional_vae",
                          **loss_options)


def _encoder(latent_dim, hidden_units, num_classes, seed):
    image = keras.Input(shape=(IMAGE_PIXELS,), name="image")
    label = keras.Input(shape=(num_classes,), name="label")
    joined = keras.layers.Concatenate(name="encoder_image_and_label")([image, label])
    heads = {"z_mean": latent_dim, "z_log_var": latent_dim}
    z_mean, z_log_var = dense_stack(joined, hidden_units, heads, activation="relu",
                                    prefix="encoder", seed=seed)
    return keras.Model([image, label], [z_mean, z_log_var], name="encoder")


def _decoder(latent_dim, hidden_units, num_classes, seed):
    z = keras.Input(shape=(latent_dim,), name="z")
    label = keras.Input(shape=(num_classes,), name="label")
    joined = keras.layers.Concatenate(name="decoder_code_and_label")([z, label])
    (logits,) = dense_stack(joined, hidden_units, {"logits": IMAGE_PIXELS}, activation="relu",
                            prefix="decoder", seed=seed, seed_offset=500)
    return keras.Model([z, label], logits, name="decoder")


@keras.saving.register_keras_serializable(package="vae_tutorial")
class ConditionalVAE(VAE):
    """A Bernoulli VAE whose encoder and decoder both see the image's label.

    ``encoder``: ``[images (N, 784), one-hot (N, C)] -> [z_mean, z_log_var]``; ``decoder``:
    ``[z (N, latent_dim), one-hot (N, C)] -> logits (N, 784)``; ``binarization`` and
    ``seed`` as for :class:`~vae_tutorial.vae.VAE`, whose loss, metrics and training step
    it inherits. Data are pairs ``(images, labels)``: images (N, 784) or (N, 28, 28) in
    [0, 1], labels (N,) integers 0 to C - 1. ``model((x, labels))`` returns reconstruction
    logits (N, 784) for one sampled z per image. Introduced in notebook 08.
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

    # ------------------------------------------------------------------ the model, on pairs

    def negative_elbo_terms(self, data, training=False):
        """Per-image ``(reconstruction, kl)``, each (N,), in nats, for a pair (images, labels).

        As :meth:`VAE.negative_elbo_terms`, with q(z | x, y) and p(x | z, y).
        """
        reconstruction, z_mean, z_log_var = self._forward(data, training)
        return reconstruction, kl_to_standard_normal(z_mean, z_log_var)

    def _forward(self, data, training):
        """Per-image reconstruction term (N,) and (z_mean, z_log_var) of q(z | x, y), (N, K).

        The one place the label enters: every loss the VAE builds from these terms (the
        training objective, the metrics) works unchanged for the conditional model.
        """
        x, one_hot = self._pair(data, "x")
        x_bin = self.binarize(x)
        z_mean, z_log_var = self.encoder([x_bin, one_hot], training=training)
        z = self.sampling([z_mean, z_log_var])
        logits = self.decoder([z, one_hot], training=training)
        return -bernoulli_log_likelihood(x_bin, logits), z_mean, z_log_var

    def call(self, data, training=False):
        x, one_hot = self._pair(data, "x")
        z_mean, z_log_var = self.encoder([x, one_hot], training=training)
        return self.decoder([self.sampling([z_mean, z_log_var]), one_hot], training=training)

    def fit(self, x=None, y=None, batch_size=None, epochs=1, *, shuffle=True,
            validation_data=None, validation_batch_size=None, **kwargs):
        """``keras.Model.fit`` on the pair ``x = (images, labels)``: ``fit((x_train, y_train))``.

        ``fit(images, labels)`` works too. ``validation_data``: a held-out pair
        ``(x_test, y_test)``. Arrays only (not datasets); shuffled every epoch in an order
        seeded by the model's seed; ``batch_size`` defaults to 32, as in Keras. Otherwise as
        :meth:`VAE.fit` (it stops with an error on a non-finite loss).
        """
        if isinstance(x, tf.data.Dataset) or isinstance(validation_data, tf.data.Dataset):
            raise TypeError(f"{PAIR_HINT}; pass numpy arrays, not a tf.data.Dataset.")
        if y is not None:
            if isinstance(x, (tuple, list)):
                raise ValueError(f"labels given twice: {PAIR_HINT}; pass either fit((x, labels)) "
                                 "or fit(x, labels).")
            x = (x, y)
        batch_size = batch_size or 32
        x = self._batches(self._pair(x, "x"), batch_size, shuffle=shuffle)
        if validation_data is not None:
            validation_data = self._batches(self._pair(validation_data, "validation_data"),
                                            validation_batch_size or batch_size, shuffle=False)
        return super().fit(x, epochs=epochs, validation_data=validation_data, **kwargs)

    def evaluate(self, x=None, y=None, *args, **kwargs):
        """``keras.Model.evaluate`` on a held-out pair ``(images, labels)``, nats per image.

        ``evaluate(images, labels)`` works too. Its noise restarts at every call, as in
        :meth:`VAE.evaluate`.
        """
        if isinstance(x, tf.data.Dataset):  # fit's validation batches, made from a checked pair
            return super().evaluate(x, y, *args, **kwargs)
        if y is not None and not isinstance(x, (tuple, list)):
            x = (x, y)
        elif y is not None:
            raise ValueError(f"labels given twice: {PAIR_HINT}.")
        return super().evaluate(self._pair(x, "x"), None, *args, **kwargs)

    # ------------------------------------------------------------------ numpy helpers

    def encode(self, x, labels):
        """``(z_mean, z_log_var)`` of q(z | x, y) for images x and labels; numpy (N, latent_dim)."""
        x, one_hot = self._pair((x, labels), "x")
        z_mean, z_log_var = self.encoder([x, one_hot], training=False)
        return ops.convert_to_numpy(z_mean), ops.convert_to_numpy(z_log_var)

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

    # ------------------------------------------------------------------ checks

    def _pair(self, data, name):
        """``(images (N, 784), one-hot (N, C))``: checked when a learner passes them, as they
        are inside a graph (where ``fit`` and ``evaluate`` have already checked them)."""
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
        labels = check_labels(array, name, length=length)
        if labels.min() < 0 or labels.max() >= self.num_classes:
            raise ValueError(f"{name} must be class indices 0-{self.num_classes - 1}; got values "
                             f"from {labels.min()} to {labels.max()}.")
        return np.eye(self.num_classes, dtype=np.float32)[labels]

    def _data(self, x, name):
        # fit has made its datasets from checked pairs; evaluate passes a checked pair.
        return x

    def _batches(self, pair, batch_size, *, shuffle):
        """A dataset of ``((images, one-hot),)`` batches: Keras hands the pair to the steps."""
        dataset = tf.data.Dataset.from_tensor_slices((pair,))
        if shuffle:
            dataset = dataset.shuffle(len(pair[0]), seed=self.seed, reshuffle_each_iteration=True)
        return dataset.batch(check_int(batch_size, "batch_size")).prefetch(tf.data.AUTOTUNE)

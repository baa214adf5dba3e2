"""The variational autoencoder: dense encoder/decoder builders and a ``keras.Model``.

Assembled in notebook 05 from the pieces of notebooks 02-04, and reused from then on.
The model is a Bernoulli VAE on binarized pixels:

- the encoder maps images (N, 784) to ``[z_mean, z_log_var]``, each (N, latent_dim);
- :class:`~vae_tutorial.probability.Sampling` draws z = z_mean + exp(z_log_var / 2) * eps;
- the decoder maps z (N, latent_dim) to 784 logits of Bernoulli pixels.

Its loss is the negative ELBO in **nats per image**: the reconstruction term
(-log p(x|z), summed over the 784 pixels) plus KL(q(z|x) || N(0, I)) (summed over the
latent dimensions), both averaged over the batch. ``fit`` reports three metrics, each in
nats per image: ``loss`` (the negative ELBO), ``reconstruction`` and ``kl``.

Binarization is an explicit, named choice (``BINARIZATIONS``): ``"dynamic"`` draws each
pixel as Bernoulli(intensity) afresh at every step, the usual protocol for MNIST VAEs;
``"static"`` thresholds intensities at 0.5, the same binary image every time.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence

import keras
import numpy as np
import tensorflow as tf
from keras import ops

from .checks import IMAGE_PIXELS, check_choice, check_images, check_int, check_matrix
from .probability import Sampling, bernoulli_log_likelihood, kl_to_standard_normal

BINARIZATIONS = ("dynamic", "static")
STEPS_PER_EXECUTION = 32  # see VAE.compile


def _dense(units, name, seeds, activation=None):
    """A Dense layer whose initial kernel comes from the next seed of ``seeds`` (or Keras')."""
    seed = next(seeds)
    init = "glorot_uniform" if seed is None else keras.initializers.GlorotUniform(seed=seed)
    return keras.layers.Dense(units, activation=activation, kernel_initializer=init, name=name)


def _seeds(seed, offset):
    """Distinct per-layer seeds derived from ``seed`` (None: Keras' global generator)."""
    if seed is None:
        while True:
            yield None
    seed = check_int(seed, "seed", minimum=0)
    for i in itertools.count():
        yield seed * 1000 + offset + i


def _dense_stack(x, hidden_units, activation, prefix, seeds):
    for i, units in enumerate(hidden_units):
        x = _dense(units, f"{prefix}_hidden_{i}", seeds, activation)(x)
    return x


def _check_sizes(latent_dim, hidden_units, dim):
    latent_dim = check_int(latent_dim, "latent_dim")
    dim = check_int(dim, "input_dim")
    if isinstance(hidden_units, (int, np.integer)) or hidden_units is None:
        raise ValueError(f"hidden_units must be a sequence such as (400,); got {hidden_units!r}.")
    hidden = tuple(check_int(h, f"hidden_units[{i}]") for i, h in enumerate(hidden_units))
    return latent_dim, hidden, dim


def build_encoder(latent_dim: int = 20, hidden_units: Sequence[int] = (400,), *,
                  input_dim: int = IMAGE_PIXELS, activation: str = "relu",
                  seed: int | None = None):
    """Dense encoder: images (N, input_dim) -> ``[z_mean, z_log_var]``, each (N, latent_dim).

    Hidden layers use ``activation``; the two heads are linear (a log-variance may be any
    real number). ``seed`` fixes the initial weights (None: Keras' global seed, as set by
    ``setup_notebook``). Introduced in notebook 05.
    """
    latent_dim, hidden, input_dim = _check_sizes(latent_dim, hidden_units, input_dim)
    x = keras.Input(shape=(input_dim,), name="image")
    seeds = _seeds(seed, 0)
    h = _dense_stack(x, hidden, activation, "encoder", seeds)
    z_mean = _dense(latent_dim, "z_mean", seeds)(h)
    z_log_var = _dense(latent_dim, "z_log_var", seeds)(h)
    return keras.Model(x, [z_mean, z_log_var], name="encoder")


def build_decoder(latent_dim: int = 20, hidden_units: Sequence[int] = (400,), *,
                  output_dim: int = IMAGE_PIXELS, activation: str = "relu",
                  seed: int | None = None):
    """Dense decoder: codes (N, latent_dim) -> Bernoulli logits (N, output_dim).

    ``hidden_units`` are listed from the code outwards (z -> hidden_units[0] -> ... ->
    logits), so the encoder's tuple reversed gives a mirror image, as :func:`build_vae`
    does. ``seed`` fixes the initial weights, as in :func:`build_encoder`. Introduced in
    notebook 05.
    """
    latent_dim, hidden, output_dim = _check_sizes(latent_dim, hidden_units, output_dim)
    z = keras.Input(shape=(latent_dim,), name="z")
    seeds = _seeds(seed, 500)
    h = _dense_stack(z, hidden, activation, "decoder", seeds)
    logits = _dense(output_dim, "logits", seeds)(h)
    return keras.Model(z, logits, name="decoder")


@keras.saving.register_keras_serializable(package="vae_tutorial")
class VAE(keras.Model):
    """A Bernoulli VAE trained on the negative ELBO with a custom ``train_step``.

    Parameters
    ----------
    encoder:
        Model mapping images (N, D) to ``[z_mean, z_log_var]``, each (N, latent_dim).
    decoder:
        Model mapping codes (N, latent_dim) to logits (N, D).
    binarization:
        ``"dynamic"`` or ``"static"`` (see the module docstring); required, no default
        hides the choice.
    seed:
        Seeds the sampling of z and the dynamic binarization (``keras.random``).

    ``model(x)`` returns reconstruction logits (N, D) for one sampled z per image.
    ``fit``/``evaluate`` take images (N, 784) or (N, 28, 28), floats in [0, 1] (no labels).
    Introduced in notebook 05.
    """

    def __init__(self, encoder, decoder, binarization: str, seed: int | None = None, **kwargs):
        super().__init__(**kwargs)
        self.binarization = check_choice(binarization, "binarization", BINARIZATIONS)
        self.encoder = encoder
        self.decoder = decoder
        self.seed = seed
        self.latent_dim = int(decoder.inputs[0].shape[-1])
        self.input_dim = int(encoder.inputs[0].shape[-1])
        self.sampling = Sampling(seed=seed, name="sampling")
        self.binarize_seed = keras.random.SeedGenerator(None if seed is None else seed + 1)
        self.loss_tracker = keras.metrics.Mean(name="loss")
        self.reconstruction_tracker = keras.metrics.Mean(name="reconstruction")
        self.kl_tracker = keras.metrics.Mean(name="kl")
        self.built = True  # encoder and decoder arrive built; nothing is created lazily

    # ------------------------------------------------------------------ the objective

    @property
    def metrics(self):
        return [self.loss_tracker, self.reconstruction_tracker, self.kl_tracker]

    def binarize(self, x):
        """Binary pixels (same shape and dtype as ``x``) by the model's binarization."""
        if self.binarization == "dynamic":
            noise = keras.random.uniform(ops.shape(x), dtype=x.dtype, seed=self.binarize_seed)
            return ops.cast(noise < x, x.dtype)
        return ops.cast(x > 0.5, x.dtype)

    def negative_elbo_terms(self, x, training=False):
        """Per-image ``(reconstruction, kl)``, each (N,), in nats, for images x (N, D).

        reconstruction = -log p(x_bin | z) summed over pixels, for one z ~ q(z | x_bin);
        kl = KL(q(z | x_bin) || N(0, I)) summed over latent dimensions. Their sum is the
        single-sample estimate of the negative ELBO of each image.
        """
        x_bin = self.binarize(x)
        z_mean, z_log_var = self.encoder(x_bin, training=training)
        z = self.sampling([z_mean, z_log_var])
        logits = self.decoder(z, training=training)
        reconstruction = -bernoulli_log_likelihood(x_bin, logits)
        kl = kl_to_standard_normal(z_mean, z_log_var)
        return reconstruction, kl

    def call(self, x, training=False):
        z_mean, z_log_var = self.encoder(x, training=training)
        return self.decoder(self.sampling([z_mean, z_log_var]), training=training)

    def _update_metrics(self, reconstruction, kl):
        # Per-image values, so each metric is the mean over images: a short last batch
        # does not weigh as much as a full one (as batch means would).
        self.loss_tracker.update_state(reconstruction + kl)
        self.reconstruction_tracker.update_state(reconstruction)
        self.kl_tracker.update_state(kl)

    def _batch_images(self, data):
        # Dataset batches may be (N, 28, 28) images, the shape load_mnist gives by default.
        x, _, _ = keras.utils.unpack_x_y_sample_weight(data)
        return ops.reshape(x, (-1, self.input_dim))

    def train_step(self, data):
        x = self._batch_images(data)
        with tf.GradientTape() as tape:
            reconstruction, kl = self.negative_elbo_terms(x, training=True)
            loss = ops.mean(reconstruction + kl)
        grads = tape.gradient(loss, self.trainable_weights)
        self.optimizer.apply_gradients(zip(grads, self.trainable_weights, strict=True))
        self._update_metrics(reconstruction, kl)
        return {m.name: m.result() for m in self.metrics}

    def test_step(self, data):
        x = self._batch_images(data)
        reconstruction, kl = self.negative_elbo_terms(x, training=False)
        self._update_metrics(reconstruction, kl)
        return {m.name: m.result() for m in self.metrics}

    def compile(self, optimizer="adam", *, steps_per_execution: int = STEPS_PER_EXECUTION,
                **kwargs):
        """``keras.Model.compile`` with an optimizer only: the loss (negative ELBO) is built in.

        ``steps_per_execution`` defaults to ``STEPS_PER_EXECUTION``: that many training steps
        run per call into TensorFlow, which removes most of Keras' per-step Python overhead
        on small models (benchmarks/train_vae.py measures it). The progress bar and batch
        callbacks then update every that many steps; pass 1 for per-batch updates.
        """
        if "loss" in kwargs:
            raise ValueError("a VAE's loss is built in (the negative ELBO): compile it with an "
                             "optimizer only.")
        super().compile(optimizer=optimizer, steps_per_execution=steps_per_execution, **kwargs)

    # ------------------------------------------------------------------ checked entry points

    def _images(self, x, name="x"):
        if isinstance(x, tf.data.Dataset):
            return x
        images = check_images(x, name)
        if self.input_dim != IMAGE_PIXELS:
            raise ValueError(f"this model takes {self.input_dim} inputs, not 28 x 28 images.")
        return images.reshape(-1, IMAGE_PIXELS)

    def fit(self, x=None, y=None, *args, validation_data=None, callbacks=None, **kwargs):
        """``keras.Model.fit`` on images in [0, 1]; stops with an error on a non-finite loss.

        ``x``: images (N, 784) or (N, 28, 28), or a ``tf.data.Dataset`` of such batches.
        ``validation_data``: held-out images, same forms. A VAE needs no labels: pass none.
        """
        if y is not None:
            raise ValueError("a VAE learns from images alone: call fit(x_train), without labels.")
        if validation_data is not None and not isinstance(validation_data, tf.data.Dataset):
            if isinstance(validation_data, tuple):
                if any(part is not None for part in validation_data[1:]):
                    raise ValueError("validation_data must be held-out images alone, without "
                                     "labels: pass validation_data=x_test.")
                validation_data = validation_data[0]
            validation_data = (self._images(validation_data, "validation_data"),)
        callbacks = [*(callbacks or []), StopOnNonFiniteLoss()]
        return super().fit(self._images(x), None, *args, validation_data=validation_data,
                           callbacks=callbacks, **kwargs)

    def evaluate(self, x=None, y=None, *args, **kwargs):
        """``keras.Model.evaluate`` on held-out images: negative ELBO and terms, nats per image."""
        if y is not None:
            raise ValueError("a VAE is evaluated on images alone: call evaluate(x_test).")
        return super().evaluate(self._images(x), None, *args, **kwargs)

    def encode(self, x):
        """``(z_mean, z_log_var)`` of q(z | x) for images x in [0, 1]; numpy, each (N, latent_dim).

        Encodes the images as given (grey levels, not binarized): the mean code of an image.
        """
        z_mean, z_log_var = self.encoder(self._images(x), training=False)
        return ops.convert_to_numpy(z_mean), ops.convert_to_numpy(z_log_var)

    def decode(self, z):
        """Pixel probabilities sigmoid(decoder(z)) for codes z (N, latent_dim); numpy (N, D)."""
        z = check_matrix(z, "z", columns=self.latent_dim).astype(np.float32)
        return ops.convert_to_numpy(ops.sigmoid(self.decoder(z, training=False)))

    def reconstruct(self, x):
        """Decode the mean code of each image: pixel probabilities (N, D) in [0, 1]."""
        return self.decode(self.encode(x)[0])

    def sample(self, n: int, seed: int | None = None):
        """Decode ``n`` codes drawn from the prior N(0, I): pixel probabilities (n, D)."""
        n = check_int(n, "n")
        z = np.random.default_rng(seed).standard_normal((n, self.latent_dim))
        return self.decode(z)

    # ------------------------------------------------------------------ saving

    def get_config(self):
        return {
            **super().get_config(),
            "encoder": keras.saving.serialize_keras_object(self.encoder),
            "decoder": keras.saving.serialize_keras_object(self.decoder),
            "binarization": self.binarization,
            "seed": self.seed,
        }

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        config["encoder"] = keras.saving.deserialize_keras_object(config["encoder"])
        config["decoder"] = keras.saving.deserialize_keras_object(config["decoder"])
        return cls(**config)


def load_vae(path) -> VAE:
    """Load a :class:`VAE` saved with ``model.save(path)`` (a ``.keras`` file), uncompiled.

    The optimizer state is not restored (compile again to train further). Raises
    ``ValueError`` naming the file when it is missing, corrupt, or holds another model.
    Introduced in notebook 05.
    """
    try:
        model = keras.saving.load_model(path, compile=False)
    except Exception as exc:  # missing file, bad zip, bad config: all "cannot use this file"
        raise ValueError(
            f"cannot load a VAE from {path}: {type(exc).__name__}: {exc}. Delete the file and "
            "train again (or save it again with model.save)."
        ) from exc
    if not isinstance(model, VAE):
        raise ValueError(f"{path} holds a {type(model).__name__}, not a vae_tutorial VAE.")
    return model


class StopOnNonFiniteLoss(keras.callbacks.Callback):
    """Stop ``fit`` with a clear ``FloatingPointError`` when an epoch's loss is NaN or inf."""

    def on_epoch_end(self, epoch, logs=None):
        for name, value in (logs or {}).items():
            if not np.isfinite(float(value)):
                raise FloatingPointError(
                    f"training stopped: {name} became {float(value)} in epoch {epoch + 1}. "
                    "Lower the learning rate, check the inputs lie in [0, 1], or check the "
                    "encoder's z_log_var is not exploding."
                )


def build_vae(latent_dim: int = 20, hidden_units: Sequence[int] = (400,), *,
              binarization: str = "dynamic", seed: int | None = None,
              activation: str = "relu") -> VAE:
    """The classic MLP VAE in one call: 784 -> hidden_units -> latent_dim, and back.

    ``build_vae()`` is the classic 784-400-20 MLP (as in PyTorch's VAE example) with
    dynamic binarization. Returns an uncompiled :class:`VAE`; compile it with an optimizer
    only (``model.compile(optimizer=keras.optimizers.Adam(1e-3))``): the loss is built in.
    ``seed`` fixes the initial weights, the sampling of z and the dynamic binarization, so
    the same seed builds and trains the same model. Introduced in notebook 05.
    """
    latent_dim, hidden, _ = _check_sizes(latent_dim, hidden_units, IMAGE_PIXELS)
    return VAE(build_encoder(latent_dim, hidden, activation=activation, seed=seed),
               build_decoder(latent_dim, hidden[::-1], activation=activation, seed=seed),
               binarization=binarization, seed=seed, name="vae")

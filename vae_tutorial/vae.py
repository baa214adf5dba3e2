"""The variational autoencoder of notebook 05: dense encoder and decoder, and the VAE model.

Assembled in notebook 05 from the pieces of notebooks 02-04 and reused from then on; read
:class:`VAE` first. Notebook 07 adds ``beta`` and ``free_bits`` (:meth:`VAE.objective`);
notebook 08 builds its convolutional and conditional VAEs on the same class.
"""

from __future__ import annotations

import contextlib
from collections.abc import Sequence

import keras
import numpy as np
import tensorflow as tf
from keras import ops

from .autoencoder import dense_stack
from .checks import (
    BAD_BATCH,
    BINARIZATIONS,
    IMAGE_PIXELS,
    check_choice,
    check_image_batches,
    check_images,
    check_int,
    check_matrix,
    check_non_negative,
    check_units,
)
from .probability import Sampling, bernoulli_log_likelihood, kl_to_standard_normal

# Training steps per call into TensorFlow (VAE.compile's default). Keras spends about
# 1.4 ms of Python per call, a quarter of a step of this small model on a CPU: at 1 step
# per call fit took 1.2 x the CPU time of a hand-written tf.function loop, at 32 steps
# 0.97 x (benchmarks/train_vae.py). The progress bar then updates every 32 steps.
STEPS_PER_EXECUTION = 32


def build_encoder(latent_dim: int = 20, hidden_units: Sequence[int] = (400,), *,
                  seed: int | None = None):
    """Dense encoder: images (N, 784) -> ``[z_mean, z_log_var]``, each (N, latent_dim).

    Hidden layers use ReLU; the two heads are linear (a log-variance may be any real
    number). ``seed`` fixes the initial weights (None: Keras' global seed, as set by
    ``setup_notebook``). Introduced in notebook 05.
    """
    return _encoder(*_checked(latent_dim, hidden_units, seed))


def build_decoder(latent_dim: int = 20, hidden_units: Sequence[int] = (400,), *,
                  seed: int | None = None):
    """Dense decoder: codes (N, latent_dim) -> Bernoulli logits (N, 784).

    ``hidden_units`` are listed from the code outwards (z -> hidden_units[0] -> ... ->
    logits), so the encoder's tuple reversed gives a mirror image, as :func:`build_vae`
    does. ``seed`` as in :func:`build_encoder`. Introduced in notebook 05.
    """
    return _decoder(*_checked(latent_dim, hidden_units, seed))


def build_vae(latent_dim: int = 20, hidden_units: Sequence[int] = (400,), *,
              binarization: str = "dynamic", seed: int | None = None, beta: float = 1.0,
              free_bits: float = 0.0) -> VAE:
    """The classic MLP VAE in one call: 784 -> hidden_units -> latent_dim, and back.

    ``build_vae()`` is the 784-400-20 MLP of PyTorch's VAE example. Returns an uncompiled
    :class:`VAE`: compile it with an optimizer only, the loss is built in. ``seed`` fixes
    everything the model draws (the initial weights, the sampling of z, the dynamic
    binarization, the order ``fit`` shuffles the images in), so the same seed builds and
    trains the same model in any fresh process (None: Keras' global seed, which
    ``setup_notebook`` sets). ``beta``, ``free_bits``: :meth:`VAE.objective`, notebook 07.
    Introduced in notebook 05.
    """
    latent_dim, hidden_units, seed = _checked(latent_dim, hidden_units, seed)
    return VAE(_encoder(latent_dim, hidden_units, seed),
               _decoder(latent_dim, hidden_units[::-1], seed),
               binarization=binarization, seed=seed, beta=beta, free_bits=free_bits,
               name="vae")


def _checked(latent_dim, hidden_units, seed, units_name="hidden_units"):
    seed = None if seed is None else check_int(seed, "seed", minimum=0)
    return check_int(latent_dim, "latent_dim"), check_units(hidden_units, units_name), seed


def _encoder(latent_dim, hidden_units, seed, num_classes=None):
    image = keras.Input(shape=(IMAGE_PIXELS,), name="image")
    inputs, h = _labelled(image, num_classes, "encoder_image_and_label")
    heads = {"z_mean": latent_dim, "z_log_var": latent_dim}
    z_mean, z_log_var = dense_stack(h, hidden_units, heads, activation="relu", prefix="encoder",
                                    seed=seed)
    return keras.Model(inputs, [z_mean, z_log_var], name="encoder")


def _decoder(latent_dim, hidden_units, seed, num_classes=None):
    z = keras.Input(shape=(latent_dim,), name="z")
    inputs, h = _labelled(z, num_classes, "decoder_code_and_label")
    (logits,) = dense_stack(h, hidden_units, {"logits": IMAGE_PIXELS}, activation="relu",
                            prefix="decoder", seed=seed, seed_offset=500)
    return keras.Model(inputs, logits, name="decoder")


def _labelled(x, num_classes, name):
    """``(inputs, joined)``: ``x``, or ``x`` and a one-hot label input (notebook 08) joined."""
    if num_classes is None:
        return x, x
    label = keras.Input(shape=(num_classes,), name="label")
    return [x, label], keras.layers.Concatenate(name=name)([x, label])


@keras.saving.register_keras_serializable(package="vae_tutorial")
class VAE(keras.Model):
    """A Bernoulli VAE on binarized pixels, trained on the negative ELBO with a ``train_step``.

    ``encoder``: images (N, 784) -> ``[z_mean, z_log_var]``, each (N, K); ``sampling``
    draws z = z_mean + exp(z_log_var / 2) * eps; ``decoder``: z (N, K) -> 784 Bernoulli
    logits; ``model(x)`` returns them (N, 784) for one sampled z per image. The metrics,
    means over images in nats per image: ``reconstruction`` and ``kl`` (the two terms of
    :meth:`negative_elbo_terms`) and their sum ``loss``, the negative ELBO.
    ``binarization`` is required (no default hides the choice: :meth:`binarize`); ``seed``
    as in :func:`build_vae`. Introduced in notebook 05. Notebook 07 adds ``beta`` and
    ``free_bits`` (:meth:`objective`); ``model.beta`` is a non-trainable ``keras.Variable``
    (the KL weight in use now), so a callback such as ``KLWarmup`` can move it in ``fit``,
    from 0 up to ``model.target_beta``, the ``beta`` the model was built with.
    """

    def __init__(self, encoder, decoder, binarization: str, seed: int | None = None,
                 beta: float = 1.0, free_bits: float = 0.0, **kwargs):
        super().__init__(**kwargs)
        if encoder.inputs[0].shape[-1] != IMAGE_PIXELS:
            raise ValueError(f"the encoder must take images of {IMAGE_PIXELS} pixels; it takes "
                             f"{encoder.inputs[0].shape[-1]}.")
        self.encoder = encoder
        self.decoder = decoder
        self.binarization = check_choice(binarization, "binarization", BINARIZATIONS)
        self.seed = seed
        self.latent_dim = int(decoder.inputs[0].shape[-1])
        self.sampling = Sampling(seed=seed, name="sampling")
        self.seed_generator = keras.random.SeedGenerator(None if seed is None else seed + 1)
        self.loss_tracker = keras.metrics.Mean(name="loss")
        self.reconstruction_tracker = keras.metrics.Mean(name="reconstruction")
        self.kl_tracker = keras.metrics.Mean(name="kl")
        self.target_beta = check_non_negative(beta, "beta",
                                              "the weight of the KL term; 1 is the ELBO")
        self.free_bits = check_non_negative(free_bits, "free_bits",
                                            "nats per latent dimension; 0 turns it off")
        self.beta = keras.Variable(self.target_beta, dtype="float32", trainable=False,
                                   name="beta")
        self.built = True  # encoder and decoder arrive built; nothing is created lazily

    @property
    def metrics(self):
        return [self.loss_tracker, self.reconstruction_tracker, self.kl_tracker]

    def binarize(self, x):
        """Binary pixels (same shape and dtype as ``x``) by the model's ``binarization``.

        ``"dynamic"`` draws each pixel as Bernoulli(intensity) afresh at every call, the
        usual protocol for MNIST VAEs; ``"static"`` thresholds intensities at 0.5, the same
        binary image every time.
        """
        if self.binarization == "dynamic":
            noise = keras.random.uniform(ops.shape(x), dtype=x.dtype, seed=self.seed_generator)
            return ops.cast(noise < x, x.dtype)
        return ops.cast(x > 0.5, x.dtype)

    def negative_elbo_terms(self, x, training=False):
        """Per-image ``(reconstruction, kl)``, each (N,), in nats, for grey images x in [0, 1].

        The images are binarized here (``binarize``). reconstruction = -log p(x_bin | z)
        summed over the 784 pixels, for one z ~ q(z | x_bin); kl = KL(q(z | x_bin) || N(0, I))
        summed over the K latent dimensions. Their sum is the single-sample estimate of each
        image's negative ELBO.
        """
        reconstruction, z_mean, z_log_var = self._forward(x, training)
        return reconstruction, kl_to_standard_normal(z_mean, z_log_var)

    def _forward(self, x, training):
        """Per-image reconstruction term (N,) and the encoder's (z_mean, z_log_var), (N, K)."""
        images, condition = self._split(x)
        x_bin = self.binarize(images)
        z_mean, z_log_var = self.encoder(self._given(x_bin, condition), training=training)
        z = self.sampling([z_mean, z_log_var])
        logits = self.decoder(self._given(z, condition), training=training)
        return -bernoulli_log_likelihood(x_bin, logits), z_mean, z_log_var

    def objective(self, reconstruction, z_mean, z_log_var):
        """The scalar ``train_step`` minimises, nats per image, from one batch's terms.

        ``reconstruction``: (B,) nats; ``z_mean``, ``z_log_var``: (B, K). Without free bits
        it is the batch mean of reconstruction + beta x KL (beta = 1: the negative ELBO).
        With free bits it is mean(reconstruction) + beta x sum_k max(free_bits, KL_k), where
        KL_k is dimension k's KL averaged over the batch: a dimension costs the constant
        ``free_bits`` until its KL exceeds it (Kingma et al. 2016), so the encoder can use it
        for free up to there.
        """
        if self.free_bits == 0:  # the negative ELBO of notebook 05, weighted: same operations
            kl = kl_to_standard_normal(z_mean, z_log_var)
            return ops.mean(reconstruction + ops.cast(self.beta, kl.dtype) * kl)
        per_dimension = kl_to_standard_normal(z_mean[..., None], z_log_var[..., None])  # (B, K)
        floored = ops.maximum(ops.mean(per_dimension, axis=0), self.free_bits)
        return ops.mean(reconstruction) + ops.cast(self.beta, floored.dtype) * ops.sum(floored)

    def call(self, x, training=False):
        images, condition = self._split(x)
        z_mean, z_log_var = self.encoder(self._given(images, condition), training=training)
        z = self.sampling([z_mean, z_log_var])
        return self.decoder(self._given(z, condition), training=training)

    def train_step(self, data):
        x, _, _ = keras.utils.unpack_x_y_sample_weight(data)
        with tf.GradientTape() as tape:
            reconstruction, z_mean, z_log_var = self._forward(x, training=True)
            loss = self.objective(reconstruction, z_mean, z_log_var)
        grads = tape.gradient(loss, self.trainable_weights)
        self.optimizer.apply_gradients(zip(grads, self.trainable_weights, strict=True))
        return self._track(reconstruction, kl_to_standard_normal(z_mean, z_log_var))

    def test_step(self, data):
        x, _, _ = keras.utils.unpack_x_y_sample_weight(data)
        return self._track(*self.negative_elbo_terms(x, training=False))

    def _track(self, reconstruction, kl):
        # Per-image values, so each metric is the mean over images: a short last batch
        # does not weigh as much as a full one (as batch means would).
        self.loss_tracker.update_state(reconstruction + kl)
        self.reconstruction_tracker.update_state(reconstruction)
        self.kl_tracker.update_state(kl)
        return {m.name: m.result() for m in self.metrics}

    # ------------------------------------------------------------------ learner-facing entry points

    def compile(self, optimizer="adam", *, steps_per_execution: int = STEPS_PER_EXECUTION,
                **kwargs):
        """``keras.Model.compile`` with an optimizer only: the loss (negative ELBO) is built in.

        ``steps_per_execution`` defaults to ``STEPS_PER_EXECUTION``: see the comment there.
        """
        if kwargs.get("loss") is not None:
            raise ValueError("a VAE's loss is built in (the negative ELBO): compile it with an "
                             "optimizer only.")
        super().compile(optimizer=optimizer, steps_per_execution=steps_per_execution, **kwargs)

    def fit(self, x=None, y=None, batch_size=None, epochs=1, *, shuffle=True,
            validation_data=None, validation_batch_size=None, callbacks=None, **kwargs):
        """``keras.Model.fit`` on images in [0, 1]; stops with an error on a non-finite loss.

        ``x``: images (N, 784) or (N, 28, 28), or a ``tf.data.Dataset`` of such batches
        (checked batch by batch as they stream); no labels. ``validation_data``: held-out
        images, same forms. ``batch_size`` defaults to 32, as in Keras.
        """
        batch_size = batch_size or 32
        x = self._batches(self._examples(x, y, "x"), batch_size, shuffle=shuffle)
        if validation_data is not None:
            validation_data = self._batches(
                self._examples(validation_data, None, "validation_data"),
                validation_batch_size or batch_size, shuffle=False)
        callbacks = [*(callbacks or []), StopOnNonFiniteLoss()]
        with _image_errors():
            return super().fit(x, epochs=epochs, shuffle=False, validation_data=validation_data,
                               callbacks=callbacks, **kwargs)

    def evaluate(self, x=None, y=None, *args, **kwargs):
        """``keras.Model.evaluate`` on held-out images: negative ELBO and terms, nats per image.

        Its noise (the dynamic binarization and the z samples) starts from the same state
        at every call, so a model always gets the same numbers (for the same batch size),
        whether it was just trained or loaded from a file; training's own noise stream is
        put back afterwards. ``fit``'s validation goes through here too.
        """
        x = self._examples(x, y, "x")
        generators = (self.sampling.seed_generator, self.seed_generator)
        saved = [ops.convert_to_numpy(g.state) for g in generators]
        first = 0 if self.seed is None else self.seed
        for offset, generator in enumerate(generators):
            start = ops.convert_to_tensor([first + offset, 0], generator.state.dtype)
            generator.state.assign(start)
        try:
            with _image_errors():
                return super().evaluate(x, None, *args, **kwargs)
        finally:
            for generator, state in zip(generators, saved, strict=True):
                generator.state.assign(state)

    def encode(self, x):
        """``(z_mean, z_log_var)`` of q(z | x), numpy (N, latent_dim) each, for images x in [0, 1]
        as given (grey levels, not binarized)."""
        z_mean, z_log_var = self.encoder(self._given(*self._split(x)), training=False)
        return ops.convert_to_numpy(z_mean), ops.convert_to_numpy(z_log_var)

    def decode(self, z):
        """Pixel probabilities sigmoid(decoder(z)) for codes z (N, latent_dim); numpy (N, 784)."""
        z = check_matrix(z, "z", columns=self.latent_dim).astype(np.float32)
        return ops.convert_to_numpy(ops.sigmoid(self.decoder(z, training=False)))

    def reconstruct(self, x):
        """Decode the mean code of each image: pixel probabilities (N, 784) in [0, 1]."""
        return self.decode(self.encode(x)[0])

    def sample(self, n: int, seed: int | None = None):
        """Decode ``n`` codes drawn from the prior N(0, I): pixel probabilities (n, 784)."""
        z = np.random.default_rng(seed).standard_normal((check_int(n, "n"), self.latent_dim))
        return self.decode(z)

    # ------------------------------------------------------------------ how data reach the networks

    def _split(self, x, name="x"):
        """``(images (N, 784), condition)``: the networks' condition is None here. Checked
        when a learner passes them; in a graph (``fit`` and ``evaluate`` checked them) reshaped."""
        if tf.executing_eagerly():
            return check_images(x, name).reshape(-1, IMAGE_PIXELS), None
        return ops.reshape(x, (-1, IMAGE_PIXELS)), None

    @staticmethod
    def _given(inputs, condition):
        """A network's input: ``inputs`` alone, or ``[inputs, condition]``."""
        return inputs if condition is None else [inputs, condition]

    def _examples(self, x, labels, name):
        """The data ``fit`` and ``evaluate`` hand to Keras: checked images (N, 784), or a
        dataset checked as it streams. ``labels``: their ``y``, which a VAE refuses."""
        if isinstance(x, tuple):  # Keras' (x, y, sample_weight) form
            x, *rest = x
            labels = labels if all(part is None for part in rest) else rest
        if labels is not None:
            raise ValueError(f"a VAE learns from images alone: pass {name} without labels, as in "
                             "fit(x_train, validation_data=x_test) or evaluate(x_test).")
        if isinstance(x, tf.data.Dataset):
            return check_image_batches(x, name)
        return self._split(x, name)[0]

    def _batches(self, examples, batch_size, *, shuffle):
        """Batches of ``examples`` (a dataset passes), reshuffled by the model's seed per epoch."""
        if isinstance(examples, tf.data.Dataset):
            return examples
        dataset = tf.data.Dataset.from_tensor_slices((examples,))  # Keras' (x,) form
        if shuffle:
            dataset = dataset.shuffle(len(dataset), seed=self.seed, reshuffle_each_iteration=True)
        return dataset.batch(check_int(batch_size, "batch_size")).prefetch(tf.data.AUTOTUNE)

    # ------------------------------------------------------------------ saving

    def get_config(self):
        return {
            **super().get_config(),
            "encoder": keras.saving.serialize_keras_object(self.encoder),
            "decoder": keras.saving.serialize_keras_object(self.decoder),
            "binarization": self.binarization,
            "seed": self.seed,
            "beta": self.target_beta,
            "free_bits": self.free_bits,
        }

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        config["encoder"] = keras.saving.deserialize_keras_object(config["encoder"])
        config["decoder"] = keras.saving.deserialize_keras_object(config["decoder"])
        return cls(**config)


@contextlib.contextmanager
def _image_errors():
    """Turn a dataset batch's failed in-graph check into a ValueError naming the argument."""
    try:
        yield
    except tf.errors.InvalidArgumentError as exc:
        for name in ("validation_data", "x"):
            if f"{name} {BAD_BATCH}" in str(exc):
                raise ValueError(f"{name} {BAD_BATCH}") from None
        raise


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

"""Unit tests for notebook 07's additions: beta and free bits in the VAE's training objective,
the KL warm-up callback, and callbacks in ``train_or_load_vae``'s cache key.

Models are tiny (one hidden layer of 8-16 units, 3 latent dimensions) and data synthetic, so
the file runs in seconds.
"""

from __future__ import annotations

import json

import keras
import numpy as np
import pytest
import tensorflow as tf

from vae_tutorial import KLWarmup
from vae_tutorial.data import MnistData
from vae_tutorial.probability import bernoulli_log_likelihood
from vae_tutorial.training import train_or_load_vae, training_key
from vae_tutorial.vae import VAE, build_decoder, build_encoder, build_vae, load_vae

pytestmark = pytest.mark.filterwarnings(
    "ignore:__array__ implementation doesn't accept a copy keyword:DeprecationWarning")


def images(n: int, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).uniform(size=(n, 784)).astype(np.float32)


def data(seed: int = 0) -> MnistData:
    rng = np.random.default_rng(seed)
    return MnistData(x_train=images(64, seed), y_train=rng.integers(0, 10, 64),
                     x_test=images(32, seed + 1), y_test=rng.integers(0, 10, 32),
                     source="synthetic", description="synthetic images for the tests")


def tiny(**kwargs) -> VAE:
    return build_vae(3, (8,), seed=0, **kwargs)


def kl_per_dimension_by_hand(z_mean, z_log_var):
    return 0.5 * (np.exp(z_log_var) - 1 - z_log_var + z_mean**2)  # (B, K)


# --------------------------------------------------------------------------- the objective


TERMS = {
    "reconstruction": np.array([100.0, 120.0, 90.0, 110.0], np.float32),
    "z_mean": np.array([[0.0, 2.0, 0.01], [0.1, -1.5, 0.0], [0.0, 1.0, -0.02],
                        [-0.1, 2.5, 0.01]], np.float32),
    "z_log_var": np.array([[0.0, -2.0, -0.01], [0.05, -1.0, 0.0], [0.0, -3.0, 0.02],
                           [-0.05, -2.5, 0.0]], np.float32),
}


@pytest.mark.parametrize("beta", [0.0, 0.5, 1.0, 4.0])
@pytest.mark.parametrize("free_bits", [0.0, 0.1, 1.0])
def test_objective_matches_a_hand_computation(beta, free_bits):
    model = tiny(beta=beta, free_bits=free_bits)
    got = float(model.objective(TERMS["reconstruction"], TERMS["z_mean"], TERMS["z_log_var"]))
    per_dim = kl_per_dimension_by_hand(TERMS["z_mean"].astype(float),
                                       TERMS["z_log_var"].astype(float))
    kl_term = np.maximum(per_dim.mean(axis=0), free_bits).sum()
    expected = TERMS["reconstruction"].mean() + beta * kl_term
    assert got == pytest.approx(expected, rel=1e-5)


def test_free_bits_only_charge_dimensions_above_the_floor():
    """Dimension 0 and 2 carry almost no KL; with a floor of 1 nat they cost exactly 1 nat each,
    and the gradient of the objective with respect to their z_mean is zero."""
    model = tiny(free_bits=1.0)
    z_mean = tf.Variable(TERMS["z_mean"])
    with tf.GradientTape() as tape:
        value = model.objective(TERMS["reconstruction"], z_mean, TERMS["z_log_var"])
    grad = tape.gradient(value, z_mean).numpy()
    per_dim = kl_per_dimension_by_hand(TERMS["z_mean"], TERMS["z_log_var"]).mean(axis=0)
    assert per_dim[0] < 1 and per_dim[2] < 1 and per_dim[1] > 1
    np.testing.assert_array_equal(grad[:, [0, 2]], 0.0)
    np.testing.assert_allclose(grad[:, 1], TERMS["z_mean"][:, 1] / 4, rtol=1e-6)  # d/dmu mean


def test_beta_scales_the_gradient_of_the_kl_term_only():
    """d objective / d z_mean = beta * mu / B, and d / d reconstruction = 1 / B, whatever beta."""
    for beta in (0.25, 3.0):
        model = tiny(beta=beta)
        z_mean = tf.Variable(TERMS["z_mean"])
        reconstruction = tf.Variable(TERMS["reconstruction"])
        with tf.GradientTape() as tape:
            value = model.objective(reconstruction, z_mean, TERMS["z_log_var"])
        d_rec, d_mean = tape.gradient(value, [reconstruction, z_mean])
        np.testing.assert_allclose(d_rec.numpy(), 0.25, rtol=1e-6)
        np.testing.assert_allclose(d_mean.numpy(), beta * TERMS["z_mean"] / 4, rtol=1e-6)


def test_train_step_follows_the_gradient_of_the_objective():
    """One SGD step of fit moves every weight by -lr x the gradient of reconstruction + beta x KL
    (free bits on), computed by hand from the same noise."""
    x = images(16)
    model = build_vae(3, (8,), binarization="static", seed=0, beta=2.0, free_bits=0.05)
    model.compile(optimizer=keras.optimizers.SGD(0.01), steps_per_execution=1)
    before = [w.numpy().copy() for w in model.trainable_weights]
    state = model.sampling.seed_generator.state.numpy().copy()
    with tf.GradientTape() as tape:
        x_bin = tf.cast(x > 0.5, tf.float32)
        z_mean, z_log_var = model.encoder(x_bin)
        z = model.sampling([z_mean, z_log_var])
        reconstruction = -bernoulli_log_likelihood(x_bin, model.decoder(z))
        per_dim = 0.5 * (tf.exp(z_log_var) - 1 - z_log_var + z_mean**2)
        loss = (tf.reduce_mean(reconstruction)
                + 2.0 * tf.reduce_sum(tf.maximum(tf.reduce_mean(per_dim, axis=0), 0.05)))
    grads = tape.gradient(loss, model.trainable_weights)
    model.sampling.seed_generator.state.assign(state)  # fit draws the same z
    model.fit(x, epochs=1, batch_size=16, shuffle=False, verbose=0)
    for w0, w, g in zip(before, model.trainable_weights, grads, strict=True):
        np.testing.assert_allclose(w.numpy(), w0 - 0.01 * g.numpy(), rtol=1e-4, atol=1e-6)


def test_metrics_stay_the_unweighted_negative_elbo(check_negative_elbo_history):
    """With beta = 10 and free bits the logged loss is still reconstruction + KL."""
    model = tiny(beta=10.0, free_bits=0.5, binarization="static")
    model.compile(optimizer=keras.optimizers.Adam(1e-3))
    history = model.fit(images(64), epochs=2, batch_size=32, validation_data=images(32, 1),
                        verbose=0).history
    check_negative_elbo_history(history)
    x = images(8, 3)
    result = model.evaluate(x, batch_size=8, verbose=0, return_dict=True)
    _, kl = model.negative_elbo_terms(x)  # static binarization: the KL has no noise
    assert result["kl"] == pytest.approx(float(np.mean(kl)), rel=1e-5)


# --------------------------------------------------------------------------- defaults unchanged


class ReferenceVAE(VAE):
    """The training step of notebook 05, before beta and free bits existed."""

    def train_step(self, data):
        x, _, _ = keras.utils.unpack_x_y_sample_weight(data)
        with tf.GradientTape() as tape:
            reconstruction, kl = self.negative_elbo_terms(x, training=True)
            loss = keras.ops.mean(reconstruction + kl)
        grads = tape.gradient(loss, self.trainable_weights)
        self.optimizer.apply_gradients(zip(grads, self.trainable_weights, strict=True))
        return self._track(reconstruction, kl)


def _trained(cls, **kwargs):
    model = cls(build_encoder(3, (8,), seed=0), build_decoder(3, (8,), seed=0),
                binarization="dynamic", seed=0, **kwargs)
    model.compile(optimizer=keras.optimizers.Adam(1e-3))
    history = model.fit(images(96), epochs=3, batch_size=32, verbose=0).history
    return model, history


def test_defaults_train_bit_for_bit_as_before():
    reference, reference_history = _trained(ReferenceVAE)
    model, history = _trained(VAE)
    assert (float(model.beta.numpy()), model.free_bits) == (1.0, 0.0)
    assert history == reference_history
    for a, b in zip(reference.trainable_weights, model.trainable_weights, strict=True):
        np.testing.assert_array_equal(a.numpy(), b.numpy())


def test_beta_is_a_non_trainable_variable_and_not_a_weight_to_learn():
    model = tiny(beta=2.5)
    assert isinstance(model.beta, keras.Variable) and not model.beta.trainable
    assert all(w is not model.beta for w in model.trainable_weights)
    assert float(model.beta.numpy()) == model.target_beta == 2.5


# --------------------------------------------------------------------------- saving and config


def test_save_and_load_keep_beta_and_free_bits(tmp_path):
    model = tiny(beta=4.0, free_bits=0.25)
    assert model.get_config()["beta"] == 4.0 and model.get_config()["free_bits"] == 0.25
    model.save(tmp_path / "beta.keras")
    loaded = load_vae(tmp_path / "beta.keras")
    assert (loaded.target_beta, float(loaded.beta.numpy()), loaded.free_bits) == (4.0, 4.0, 0.25)
    x = images(4)
    for a, b in zip(model.encode(x), loaded.encode(x), strict=True):
        np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("name, value", [
    ("beta", -1.0), ("beta", float("nan")), ("beta", float("inf")), ("beta", "1"),
    ("beta", None), ("beta", True), ("free_bits", -0.5), ("free_bits", float("nan")),
    ("free_bits", "0"), ("free_bits", None)])
@pytest.mark.parametrize("where", ["build_vae", "VAE"])
def test_bad_beta_or_free_bits_are_named(name, value, where):
    with pytest.raises(ValueError, match=name):
        if where == "build_vae":
            build_vae(3, (8,), **{name: value})
        else:
            VAE(build_encoder(3, (8,)), build_decoder(3, (8,)), binarization="dynamic",
                **{name: value})


def test_numpy_scalars_are_accepted():
    model = tiny(beta=np.float32(2.0), free_bits=np.int64(1))
    assert (model.target_beta, model.free_bits) == (2.0, 1.0)
    json.dumps(model.get_config()["beta"])  # plain floats in the config


# --------------------------------------------------------------------------- KL warm-up


def test_warmup_schedule_values():
    warmup = KLWarmup(epochs=4)
    assert [warmup.weight(e) for e in range(7)] == [0.0, 0.25, 0.5, 0.75, 1.0, 1.0, 1.0]
    assert warmup.get_config() == {"epochs": 4}


@pytest.mark.parametrize("epochs", [0, -1, 2.5, "3", None, True])
def test_warmup_needs_a_positive_number_of_epochs(epochs):
    with pytest.raises(ValueError, match="epochs"):
        KLWarmup(epochs=epochs)


def test_warmup_sets_beta_each_epoch_logs_it_and_restores_it():
    model = tiny(beta=2.0)
    model.compile(optimizer=keras.optimizers.Adam(1e-3))
    seen = []

    class Spy(keras.callbacks.Callback):
        def on_epoch_begin(self, epoch, logs=None):
            seen.append(float(self.model.beta.numpy()))

    history = model.fit(images(64), epochs=5, batch_size=32, verbose=0,
                        callbacks=[KLWarmup(epochs=3), Spy()]).history
    expected = [0.0, 2 / 3, 4 / 3, 2.0, 2.0]
    np.testing.assert_allclose(seen, expected, rtol=1e-6)
    np.testing.assert_allclose(history["beta"], expected, rtol=1e-6)
    assert float(model.beta.numpy()) == 2.0


def test_warmup_refuses_a_model_without_beta():
    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(1)])
    model.compile(optimizer="sgd", loss="mse")
    with pytest.raises(TypeError, match="KLWarmup.*VAE"):
        model.fit(np.zeros((8, 4)), np.zeros((8, 1)), epochs=1, verbose=0,
                  callbacks=[KLWarmup(epochs=2)])


def test_beta_zero_in_the_first_warmup_epoch_changes_training():
    """A warm-up is not a no-op: the same model trained with and without one differs."""
    def weights(callbacks):
        model = tiny()
        model.compile(optimizer=keras.optimizers.Adam(1e-3))
        model.fit(images(64), epochs=2, batch_size=32, verbose=0, callbacks=callbacks)
        return model.trainable_weights[0].numpy()

    assert not np.array_equal(weights([]), weights([KLWarmup(epochs=2)]))


# --------------------------------------------------------------------------- the cache key


def _key(build=tiny, callbacks=None):
    return training_key(build(), data(), epochs=2, batch_size=32, learning_rate=1e-3,
                        callbacks=callbacks)[0]


def test_beta_free_bits_and_each_callback_config_change_the_key():
    keys = {
        "base": _key(),
        "beta": _key(lambda: tiny(beta=2.0)),
        "free bits": _key(lambda: tiny(free_bits=0.5)),
        "warm-up 3": _key(callbacks=[KLWarmup(epochs=3)]),
        "warm-up 4": _key(callbacks=[KLWarmup(epochs=4)]),
    }
    assert len(set(keys.values())) == len(keys), keys
    assert _key(callbacks=[KLWarmup(epochs=3)]) == keys["warm-up 3"]
    assert _key(callbacks=[]) == keys["base"]


def test_train_or_load_passes_the_callbacks_and_caches_their_history(tmp_path):
    model, history = train_or_load_vae("warm", lambda: tiny(beta=2.0), data(), epochs=3,
                                       batch_size=32, callbacks=[KLWarmup(epochs=2)],
                                       cache_dir=tmp_path)
    np.testing.assert_allclose(history["beta"], [0.0, 1.0, 2.0], rtol=1e-6)
    assert float(model.beta.numpy()) == 2.0
    again, history_again = train_or_load_vae("warm", lambda: tiny(beta=2.0), data(), epochs=3,
                                             batch_size=32, callbacks=[KLWarmup(epochs=2)],
                                             cache_dir=tmp_path)
    assert history_again == history and len(list(tmp_path.glob("warm-*.keras"))) == 1
    assert (again.target_beta, float(again.beta.numpy())) == (2.0, 2.0)
    train_or_load_vae("warm", lambda: tiny(beta=2.0), data(), epochs=3, batch_size=32,
                      callbacks=[KLWarmup(epochs=1)], cache_dir=tmp_path)
    assert len(list(tmp_path.glob("warm-*.keras"))) == 2  # another schedule, another entry


@pytest.mark.parametrize("callbacks, message", [
    (KLWarmup(epochs=2), "list of callbacks"),
    ("KLWarmup", "list of callbacks"),
    ([lambda epoch: None], r"callbacks\[0\] must be a keras callback"),
    ([keras.callbacks.TerminateOnNaN()], r"callbacks\[0\].*get_config"),
])
def test_bad_callbacks_are_refused_before_anything_is_written(tmp_path, callbacks, message):
    with pytest.raises(TypeError, match=message):
        train_or_load_vae("bad", tiny, data(), epochs=1, callbacks=callbacks,
                          cache_dir=tmp_path / "cache")
    assert not (tmp_path / "cache").exists()

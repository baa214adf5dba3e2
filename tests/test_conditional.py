"""Unit tests for vae_tutorial.conditional: the conditional VAE of notebook 08.

The builder (shapes, weight counts, seeds), the label checks (missing labels, wrong length,
out of range, fractions, given twice), the inherited loss (the VAE's negative ELBO, in nats
per image, of x given its label), that the label changes what is drawn, saving and loading,
and training through train_or_load_vae, which must pass the labels and key the cache on
them. Models are tiny (8-16 hidden units, 2 latent dimensions).
"""

from __future__ import annotations

import keras
import numpy as np
import pytest
import tensorflow as tf

from vae_tutorial import ConditionalVAE, build_conditional_vae, train_or_load_vae
from vae_tutorial.data import MnistData, load_mnist
from vae_tutorial.probability import kl_to_standard_normal
from vae_tutorial.training import training_key
from vae_tutorial.vae import VAE, build_decoder, build_encoder, build_vae, load_vae

pytestmark = pytest.mark.filterwarnings(
    "ignore:__array__ implementation doesn't accept a copy keyword:DeprecationWarning")


@pytest.fixture(scope="module")
def mnist() -> MnistData:
    data = load_mnist(source="offline", flatten=True)
    return MnistData(x_train=data.x_train[:256], y_train=data.y_train[:256],
                     x_test=data.x_test[:64], y_test=data.y_test[:64], source=data.source,
                     description="256 / 64 offline digits")


@pytest.fixture(scope="module")
def model():
    """An untrained static-binarization model that tests use read-only."""
    cvae = build_conditional_vae(2, (16,), binarization="static", seed=0)
    cvae.compile(optimizer=keras.optimizers.Adam(1e-3))
    return cvae


@pytest.fixture(scope="module")
def trained(mnist):
    cvae = build_conditional_vae(2, (16,), seed=1)
    cvae.compile(optimizer=keras.optimizers.Adam(3e-3))
    history = cvae.fit((mnist.x_train, mnist.y_train), epochs=3, batch_size=64,
                       validation_data=(mnist.x_test, mnist.y_test), verbose=0).history
    return cvae, history


# --------------------------------------------------------------------------- building


def test_networks_take_the_one_hot_label_next_to_their_input():
    cvae = build_conditional_vae(3, (16,), seed=0)
    assert [tuple(t.shape[1:]) for t in cvae.encoder.inputs] == [(784,), (10,)]
    assert [tuple(t.shape[1:]) for t in cvae.decoder.inputs] == [(3,), (10,)]
    assert cvae.num_classes == 10 and cvae.latent_dim == 3 and cvae.needs_labels
    assert isinstance(cvae, VAE) and cvae.binarization == "dynamic"
    # (784 + 10 + 1) x 16 + 2 x (16 + 1) x 3, and (3 + 10 + 1) x 16 + (16 + 1) x 784
    assert cvae.encoder.count_params() == 795 * 16 + 2 * 17 * 3
    assert cvae.decoder.count_params() == 14 * 16 + 17 * 784
    assert build_conditional_vae(2, (8,), num_classes=4).decoder.inputs[1].shape[-1] == 4


def test_seed_fixes_the_initial_weights():
    a, b = build_conditional_vae(2, (8,), seed=3), build_conditional_vae(2, (8,), seed=3)
    c = build_conditional_vae(2, (8,), seed=4)
    for x, y in zip(a.get_weights(), b.get_weights(), strict=True):
        np.testing.assert_array_equal(x, y)
    assert any(not np.array_equal(x, y) for x, y in zip(a.get_weights(), c.get_weights(),
                                                         strict=True))


@pytest.mark.parametrize("kwargs, name", [({"latent_dim": 0}, "latent_dim"),
                                          ({"hidden_units": 16}, "hidden_units"),
                                          ({"num_classes": 1}, "num_classes"),
                                          ({"seed": -1}, "seed"),
                                          ({"binarization": "soft"}, "binarization")])
def test_bad_builder_arguments_are_named(kwargs, name):
    with pytest.raises(ValueError, match=name):
        build_conditional_vae(**kwargs)


def test_networks_without_label_inputs_are_refused():
    with pytest.raises(ValueError, match="two inputs"):
        ConditionalVAE(build_encoder(2, (8,)), build_decoder(2, (8,)), binarization="static")
    four = build_conditional_vae(2, (8,), num_classes=4)
    ten = build_conditional_vae(2, (8,), num_classes=10)
    with pytest.raises(ValueError, match="classes"):
        ConditionalVAE(four.encoder, ten.decoder, binarization="static")


# --------------------------------------------------------------------------- labels


@pytest.mark.parametrize("call", [
    lambda m, x, y: m.fit(x, epochs=1, verbose=0),
    lambda m, x, y: m.evaluate(x, verbose=0),
    lambda m, x, y: m.negative_elbo_terms(x),
    lambda m, x, y: m(x),
    lambda m, x, y: m.fit((x, y), validation_data=x, verbose=0),
])
def test_missing_labels_are_named(model, mnist, call):
    with pytest.raises(ValueError, match="labels"):
        call(model, mnist.x_test[:8], mnist.y_test[:8])


@pytest.mark.parametrize("labels, error, match", [
    (np.arange(7), ValueError, "7 entries but there are 8"),
    (np.full(8, 10), ValueError, "0-9"),
    (np.full(8, -1), ValueError, "0-9"),
    (np.full(8, 2.5), TypeError, "whole numbers"),
    (np.full((8, 2), 1), ValueError, "one-dimensional"),
    (np.array(["a"] * 8), TypeError, "integers"),
])
def test_bad_labels_are_named(model, mnist, labels, error, match):
    for call in (lambda: model.evaluate((mnist.x_test[:8], labels), verbose=0),
                 lambda: model.fit((mnist.x_test[:8], labels), verbose=0),
                 lambda: model.encode(mnist.x_test[:8], labels)):
        with pytest.raises(error, match=match):
            call()


def test_bad_images_next_to_labels_are_named(model, mnist):
    with pytest.raises(ValueError, match=r"x must lie in \[0, 1\]"):
        model.evaluate((mnist.x_test[:8] * 255, mnist.y_test[:8]), verbose=0)
    with pytest.raises(ValueError, match="items instead of two"):
        model.evaluate((mnist.x_test[:8], mnist.y_test[:8], mnist.y_test[:8]), verbose=0)


def test_labels_given_twice_and_datasets_are_refused(model, mnist):
    x, y = mnist.x_test[:8], mnist.y_test[:8]
    with pytest.raises(ValueError, match="twice"):
        model.fit((x, y), y, verbose=0)
    with pytest.raises(TypeError, match="Dataset"):
        model.fit(tf.data.Dataset.from_tensor_slices((x, y)).batch(4), verbose=0)


def test_labels_as_y_or_one_hot_rows_are_the_same_as_a_pair(model, mnist):
    x, y = mnist.x_test[:32], mnist.y_test[:32]
    pair = model.evaluate((x, y), batch_size=16, verbose=0, return_dict=True)
    assert model.evaluate(x, y, batch_size=16, verbose=0, return_dict=True) == pair
    one_hot = np.eye(10, dtype=np.float32)[y]
    assert model.evaluate((x, one_hot), batch_size=16, verbose=0, return_dict=True) == pair


# --------------------------------------------------------------------------- the model


def test_loss_is_the_vae_negative_elbo_of_x_given_its_label(model, mnist):
    x, y = mnist.x_test[:6], mnist.y_test[:6]
    reconstruction, kl = (keras.ops.convert_to_numpy(t) for t in model.negative_elbo_terms((x, y)))
    assert reconstruction.shape == kl.shape == (6,)
    x_bin = (x > 0.5).astype(np.float32)  # static binarization
    z_mean, z_log_var = model.encoder([x_bin, np.eye(10, dtype=np.float32)[y]])
    np.testing.assert_allclose(kl, kl_to_standard_normal(z_mean, z_log_var), rtol=1e-5)
    np.testing.assert_allclose(reconstruction, 784 * np.log(2), rtol=0.03)  # untrained
    assert tuple(model((x, y)).shape) == (6, 784)


def test_fit_trains_on_pairs_and_reports_the_vae_metrics(trained, check_negative_elbo_history):
    _, history = trained
    check_negative_elbo_history(history)
    assert history["val_loss"][-1] < history["val_loss"][0] - 50


def test_the_label_changes_what_is_drawn(trained):
    cvae, _ = trained
    z = np.zeros((10, 2))
    images = cvae.decode(z, np.arange(10))
    assert images.shape == (10, 784) and images.min() >= 0 and images.max() <= 1
    differences = np.abs(images[:, None] - images[None]).mean(axis=2)
    assert differences[~np.eye(10, dtype=bool)].min() > 0.005


def test_sample_draws_one_image_per_label_and_repeats_with_its_seed(model):
    first = model.sample([3, 3, 7], seed=1)
    assert first.shape == (3, 784)
    np.testing.assert_array_equal(first, model.sample(np.array([3, 3, 7]), seed=1))
    assert not np.array_equal(first, model.sample([3, 3, 7], seed=2))
    for labels in (3, [], [[1, 2]]):
        with pytest.raises(ValueError, match="labels"):
            model.sample(labels)
    with pytest.raises(ValueError, match="0-9"):
        model.sample([10])


def test_decode_and_reconstruct_check_their_arguments(model, mnist):
    with pytest.raises(ValueError, match="1 entries but there are 2"):
        model.decode(np.zeros((2, 2)), [1])
    with pytest.raises(ValueError, match="z"):
        model.decode(np.zeros((2, 3)), [1, 2])
    assert model.reconstruct(mnist.x_test[:4], mnist.y_test[:4]).shape == (4, 784)


def test_save_and_load_give_the_same_model(trained, mnist, tmp_path):
    cvae, _ = trained
    cvae.save(tmp_path / "cvae.keras")
    loaded = load_vae(tmp_path / "cvae.keras")
    assert type(loaded) is ConditionalVAE and loaded.num_classes == 10
    assert loaded.seed == cvae.seed and loaded.binarization == cvae.binarization
    z, labels = np.random.default_rng(0).standard_normal((5, 2)), [0, 2, 4, 6, 8]
    np.testing.assert_array_equal(loaded.decode(z, labels), cvae.decode(z, labels))
    x, y = mnist.x_test, mnist.y_test
    np.testing.assert_array_equal(loaded.encode(x, y)[1], cvae.encode(x, y)[1])
    loaded.compile(optimizer=keras.optimizers.Adam(1e-3))
    assert (loaded.evaluate((x, y), batch_size=32, verbose=0, return_dict=True)
            == pytest.approx(cvae.evaluate((x, y), batch_size=32, verbose=0, return_dict=True),
                             rel=1e-5))


# --------------------------------------------------------------------------- train_or_load_vae


def test_train_or_load_vae_trains_with_labels_then_loads(mnist, tmp_path, monkeypatch):
    def build():
        return build_conditional_vae(2, (8,), seed=0)

    model, history = train_or_load_vae("cvae-test", build, mnist, epochs=2, batch_size=64,
                                       cache_dir=tmp_path)
    assert isinstance(model, ConditionalVAE) and len(history["val_loss"]) == 2

    def no_fit(self, *args, **kwargs):
        raise AssertionError("fit was called, but the model should come from the cache")

    monkeypatch.setattr(VAE, "fit", no_fit)
    loaded, again = train_or_load_vae("cvae-test", build, mnist, epochs=2, batch_size=64,
                                      cache_dir=tmp_path)
    assert type(loaded) is ConditionalVAE and again == history
    pair = (mnist.x_test, mnist.y_test)
    assert (loaded.evaluate(pair, batch_size=32, verbose=0, return_dict=True)
            == pytest.approx(model.evaluate(pair, batch_size=32, verbose=0, return_dict=True),
                             rel=1e-5))


def test_the_cache_key_of_a_conditional_model_covers_the_labels(mnist):
    relabelled = MnistData(x_train=mnist.x_train, y_train=(mnist.y_train + 1) % 10,
                           x_test=mnist.x_test, y_test=mnist.y_test, source=mnist.source,
                           description=mnist.description)
    settings = {"epochs": 1, "batch_size": 64, "learning_rate": 1e-3}
    cvae = build_conditional_vae(2, (8,), seed=0)
    assert (training_key(cvae, mnist, **settings)[0]
            != training_key(cvae, relabelled, **settings)[0])
    # a plain VAE's key is what it was before: labels play no part in it
    vae = build_vae(2, (8,), seed=0)
    key, description = training_key(vae, mnist, **settings)
    assert key == training_key(vae, relabelled, **settings)[0]
    assert "labels_sha256" not in description["data"]

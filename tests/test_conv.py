"""Unit tests for vae_tutorial.conv: the convolutional encoder, decoder and VAE (notebook 08).

Shapes, weight counts (against the formula (k * k * C + 1) * F), seeds, input checks, and
that the result is the package's VAE with its loss in nats per image: an untrained model
costs about 784 log 2 nats, a short fit lowers it, and a saved model reloads to the same
outputs. Models are small (4-8 filters, 2-4 latent dimensions) so the file runs in seconds.
"""

from __future__ import annotations

import keras
import numpy as np
import pytest

from vae_tutorial import build_conv_decoder, build_conv_encoder, build_conv_vae
from vae_tutorial.data import load_mnist
from vae_tutorial.vae import VAE, load_vae

pytestmark = pytest.mark.filterwarnings(
    "ignore:__array__ implementation doesn't accept a copy keyword:DeprecationWarning")


def conv_weights(kernel, channels, filters):
    return (kernel * kernel * channels + 1) * filters


def dense_weights(inputs, units):
    return (inputs + 1) * units


@pytest.fixture(scope="module")
def digits():
    data = load_mnist(source="offline", flatten=True)
    return data.x_train[:256], data.x_test[:128]


def test_encoder_maps_flat_images_to_mean_and_log_var():
    encoder = build_conv_encoder(3, (4, 8), seed=0)
    z_mean, z_log_var = encoder(np.zeros((5, 784), np.float32))
    assert tuple(z_mean.shape) == tuple(z_log_var.shape) == (5, 3)
    shapes = [tuple(layer.output.shape[1:]) for layer in encoder.layers
              if isinstance(layer, keras.layers.Conv2D)]
    assert shapes == [(14, 14, 4), (7, 7, 8)]  # stride 2 halves the side each time


def test_decoder_maps_codes_to_784_logits_through_transposed_convolutions():
    decoder = build_conv_decoder(3, (4, 8), seed=0)
    assert tuple(decoder(np.zeros((5, 3), np.float32)).shape) == (5, 784)
    shapes = [tuple(layer.output.shape[1:]) for layer in decoder.layers
              if isinstance(layer, keras.layers.Conv2DTranspose)]
    assert shapes == [(14, 14, 4), (28, 28, 1)]
    assert decoder.layers[-2].activation is keras.activations.linear  # logits, not pixels


@pytest.mark.parametrize("latent_dim, filters", [(20, (16, 32)), (2, (4, 8)), (5, (6,))])
def test_weight_counts_follow_the_formula(latent_dim, filters):
    side = 28 // 2 ** len(filters)
    features = side * side * filters[-1]
    channels = (1, *filters[:-1])
    encoder = (sum(conv_weights(3, c, f) for c, f in zip(channels, filters, strict=True))
               + 2 * dense_weights(features, latent_dim))
    reverse = filters[::-1]
    decoder = (dense_weights(latent_dim, features)
               + sum(conv_weights(3, c, f) for c, f in zip(reverse, reverse[1:], strict=False))
               + conv_weights(3, filters[0], 1))
    model = build_conv_vae(latent_dim, filters, seed=0)
    assert model.encoder.count_params() == encoder
    assert model.decoder.count_params() == decoder
    if (latent_dim, filters) == (20, (16, 32)):
        assert encoder + decoder == 105_257  # the size notebook 08 quotes


def test_build_conv_vae_is_the_package_vae_with_its_defaults():
    model = build_conv_vae(seed=1)
    assert isinstance(model, VAE) and model.name == "conv_vae"
    assert model.latent_dim == 20 and model.binarization == "dynamic" and model.seed == 1
    assert build_conv_vae(3, (4,), binarization="static").binarization == "static"


def test_seed_fixes_the_initial_weights():
    first, again = build_conv_vae(3, (4, 8), seed=5), build_conv_vae(3, (4, 8), seed=5)
    other = build_conv_vae(3, (4, 8), seed=6)
    for a, b in zip(first.get_weights(), again.get_weights(), strict=True):
        np.testing.assert_array_equal(a, b)
    assert any(not np.array_equal(a, b)
               for a, b in zip(first.get_weights(), other.get_weights(), strict=True))
    # the encoder's and the decoder's kernels are not copies of one another either
    assert not np.array_equal(first.encoder.layers[2].get_weights()[0][..., 0, 0],
                              first.decoder.layers[-2].get_weights()[0][..., 0, 0])


@pytest.mark.parametrize("filters", [(), (4, 8, 16), 8, "16"])
def test_bad_filters_are_named(filters):
    with pytest.raises(ValueError, match="filters"):
        build_conv_vae(2, filters)


@pytest.mark.parametrize("builder", [build_conv_encoder, build_conv_decoder, build_conv_vae])
@pytest.mark.parametrize("latent_dim", [0, -1, 2.0, True])
def test_bad_latent_dim_is_named(builder, latent_dim):
    with pytest.raises(ValueError, match="latent_dim"):
        builder(latent_dim, (4,))


@pytest.mark.parametrize("seed", [-1, 1.5, "0"])
def test_bad_seed_is_named(seed):
    with pytest.raises(ValueError, match="seed"):
        build_conv_vae(2, (4,), seed=seed)


def test_unknown_binarization_is_named():
    with pytest.raises(ValueError, match="binarization"):
        build_conv_vae(2, (4,), binarization="soft")


def test_untrained_model_costs_about_a_coin_flip_per_pixel_on_either_image_shape(digits):
    model = build_conv_vae(2, (4, 8), seed=0)
    flat = digits[1][:8]
    for images in (flat, flat.reshape(-1, 28, 28)):
        reconstruction, kl = (keras.ops.convert_to_numpy(t)
                              for t in model.negative_elbo_terms(images))
        assert reconstruction.shape == kl.shape == (8,)
        np.testing.assert_allclose(reconstruction, 784 * np.log(2), rtol=0.03)
        assert np.all(kl >= 0)


@pytest.mark.parametrize("bad, error", [(np.full((2, 784), 2.0, np.float32), ValueError),
                                        (np.zeros((2, 27, 27), np.float32), ValueError),
                                        (np.zeros((2, 784), np.uint8), TypeError)])
def test_bad_images_get_the_vae_errors(bad, error):
    model = build_conv_vae(2, (4,), seed=0)
    with pytest.raises(error, match="x"):
        model.negative_elbo_terms(bad)


def test_fit_lowers_the_loss_and_save_load_keeps_the_outputs(digits, tmp_path):
    x_train, x_test = digits
    model = build_conv_vae(2, (4, 8), seed=0)
    model.compile(optimizer=keras.optimizers.Adam(1e-2))
    before = model.evaluate(x_test, batch_size=64, verbose=0, return_dict=True)["loss"]
    history = model.fit(x_train, epochs=3, batch_size=32, validation_data=x_test,
                        verbose=0).history
    after = model.evaluate(x_test, batch_size=64, verbose=0, return_dict=True)
    assert after["loss"] < before - 50  # from about 543 nats per image
    np.testing.assert_allclose(history["loss"], np.add(history["reconstruction"], history["kl"]),
                               rtol=1e-5)
    model.save(tmp_path / "conv.keras")
    loaded = load_vae(tmp_path / "conv.keras")
    assert isinstance(loaded, VAE) and loaded.name == "conv_vae"
    codes = np.random.default_rng(0).standard_normal((6, 2))
    np.testing.assert_array_equal(loaded.decode(codes), model.decode(codes))
    np.testing.assert_array_equal(loaded.encode(x_test[:6])[0], model.encode(x_test[:6])[0])
    loaded.compile(optimizer=keras.optimizers.Adam(1e-2))
    again = loaded.evaluate(x_test, batch_size=64, verbose=0, return_dict=True)
    assert again == pytest.approx(after, rel=1e-5)

"""Unit tests for vae_tutorial.autoencoder: model structure, weight sharing, the linear
special case, argument checks, and the per-image binary cross-entropy loss."""

from __future__ import annotations

from itertools import pairwise

import keras
import numpy as np
import pytest

from vae_tutorial.autoencoder import build_dense_autoencoder, reconstruction_bce

RNG = np.random.default_rng(0)


def to_numpy(tensor) -> np.ndarray:
    return np.asarray(keras.ops.convert_to_numpy(tensor))


def dense_units(model) -> list[int]:
    return [layer.units for layer in model.layers if isinstance(layer, keras.layers.Dense)]


def dense_activations(model) -> list[str]:
    return [layer.get_config()["activation"] for layer in model.layers
            if isinstance(layer, keras.layers.Dense)]


def bce_reference(x, logits) -> np.ndarray:
    """The textbook formula in float64: sum_d -(x log s(l) + (1 - x) log(1 - s(l)))."""
    x = np.asarray(x, np.float64)
    logits = np.asarray(logits, np.float64)
    p = 1.0 / (1.0 + np.exp(-logits))
    return -(x * np.log(p) + (1.0 - x) * np.log(1.0 - p)).sum(axis=-1)


@pytest.fixture(scope="module")
def small_model():
    keras.utils.set_random_seed(1)
    return build_dense_autoencoder(3, hidden_units=(16, 8))


# --------------------------------------------------------------------------- structure


def test_returns_three_models_with_the_documented_shapes(small_model):
    autoencoder, encoder, decoder = small_model
    for model in small_model:
        assert isinstance(model, keras.Model)
    x = RNG.uniform(size=(5, 784)).astype(np.float32)
    assert tuple(encoder(x).shape) == (5, 3)
    assert tuple(decoder(np.zeros((4, 3), np.float32)).shape) == (4, 784)
    assert tuple(autoencoder(x).shape) == (5, 784)
    assert autoencoder.name == "autoencoder"
    assert encoder.name == "encoder" and decoder.name == "decoder"


def test_autoencoder_is_decoder_after_encoder(small_model):
    autoencoder, encoder, decoder = small_model
    x = RNG.uniform(size=(6, 784)).astype(np.float32)
    np.testing.assert_allclose(to_numpy(autoencoder(x)), to_numpy(decoder(encoder(x))),
                               rtol=1e-6, atol=1e-6)


def test_the_three_models_share_their_weights():
    keras.utils.set_random_seed(2)
    autoencoder, encoder, decoder = build_dense_autoencoder(2, hidden_units=(8,))
    ids = {id(w) for w in autoencoder.weights}
    assert ids == {id(w) for w in encoder.weights} | {id(w) for w in decoder.weights}
    assert len(autoencoder.weights) == len(encoder.weights) + len(decoder.weights) == 8

    x = RNG.uniform(size=(3, 784)).astype(np.float32)
    before = to_numpy(autoencoder(x))
    code_layer = encoder.get_layer("code")
    code_layer.kernel.assign(np.zeros(code_layer.kernel.shape, np.float32))
    code_layer.bias.assign(np.ones(code_layer.bias.shape, np.float32))
    after = to_numpy(autoencoder(x))
    assert not np.allclose(before, after)  # a change to the encoder shows in the autoencoder
    expected = to_numpy(decoder(np.ones((3, 2), np.float32)))
    np.testing.assert_allclose(after, expected, rtol=1e-6, atol=1e-6)


@pytest.mark.parametrize(
    "hidden, encoder_units, decoder_units",
    [((128, 64), [128, 64, 5], [64, 128, 784]), ((32,), [32, 5], [32, 784]), ((), [5], [784])],
)
def test_layer_sizes_follow_hidden_units(hidden, encoder_units, decoder_units):
    _, encoder, decoder = build_dense_autoencoder(5, hidden_units=hidden)
    assert dense_units(encoder) == encoder_units
    assert dense_units(decoder) == decoder_units


def test_notebook_01_model_matches_its_hand_built_layers():
    # Notebook 01 builds keras.Sequential([Dense(256, relu), Dense(32)]) and the mirror
    # decoder by hand, then uses this builder: same sizes, activations and parameter counts.
    _, encoder, decoder = build_dense_autoencoder(32, hidden_units=(256,))
    assert dense_units(encoder) == [256, 32] and dense_units(decoder) == [256, 784]
    assert dense_activations(encoder) == ["relu", "linear"]
    assert dense_activations(decoder) == ["relu", "linear"]
    assert encoder.count_params() == 784 * 256 + 256 + 256 * 32 + 32  # 209,184
    assert decoder.count_params() == 32 * 256 + 256 + 256 * 784 + 784  # 209,936


def test_hidden_layers_use_the_activation_and_code_and_output_are_linear():
    _, encoder, decoder = build_dense_autoencoder(2, hidden_units=(8, 4), activation="tanh")
    assert dense_activations(encoder) == ["tanh", "tanh", "linear"]
    assert dense_activations(decoder) == ["tanh", "tanh", "linear"]


def test_hidden_units_may_be_a_list():
    _, encoder, decoder = build_dense_autoencoder(2, [6])
    assert dense_units(encoder) == [6, 2]
    assert dense_units(decoder) == [6, 784]


def test_a_callable_activation_is_accepted():
    _, encoder, _ = build_dense_autoencoder(2, (4,), activation=keras.activations.sigmoid)
    assert dense_activations(encoder)[0] == "sigmoid"


def test_linear_mode_is_exactly_affine():
    keras.utils.set_random_seed(3)
    autoencoder, encoder, _ = build_dense_autoencoder(4, hidden_units=(), activation=None)
    assert dense_units(encoder) == [4]
    x1 = RNG.normal(size=(8, 784)).astype(np.float32)
    x2 = RNG.normal(size=(8, 784)).astype(np.float32)
    for a in (0.0, 0.3, 1.0, 2.5):  # affine maps also preserve extrapolated combinations
        mixed = to_numpy(autoencoder(a * x1 + (1 - a) * x2))
        combined = a * to_numpy(autoencoder(x1)) + (1 - a) * to_numpy(autoencoder(x2))
        np.testing.assert_allclose(mixed, combined, rtol=1e-4, atol=1e-4)


def test_default_relu_model_is_not_affine():
    """The contrast that makes the linear test meaningful: ReLU layers break affinity."""
    keras.utils.set_random_seed(3)
    autoencoder, _, _ = build_dense_autoencoder(4, hidden_units=(32,))
    x1 = RNG.normal(size=(8, 784)).astype(np.float32)
    x2 = -x1
    mixed = to_numpy(autoencoder(0.5 * x1 + 0.5 * x2))
    combined = 0.5 * to_numpy(autoencoder(x1)) + 0.5 * to_numpy(autoencoder(x2))
    assert not np.allclose(mixed, combined, rtol=1e-4, atol=1e-4)


# --------------------------------------------------------------------------- argument checks


@pytest.mark.parametrize("latent_dim", [0, -1, 2.5, True, "2", None])
def test_bad_latent_dim(latent_dim):
    with pytest.raises(ValueError, match=f"^latent_dim must be a positive int; got {latent_dim!r}"):
        build_dense_autoencoder(latent_dim)


@pytest.mark.parametrize("hidden", [(0,), (64, -1), (2.5,), (True,), ("64",), 256, None, 2.5])
def test_bad_hidden_units(hidden):
    with pytest.raises(ValueError, match=r"^hidden_units(\[\d+\])? must be"):
        build_dense_autoencoder(2, hidden_units=hidden)


def test_a_bare_int_for_hidden_units_suggests_a_tuple():
    with pytest.raises(ValueError, match=r"\(256,\)"):
        build_dense_autoencoder(2, hidden_units=256)


@pytest.mark.parametrize("activation", ["nope", "Relu ", 5])
def test_unknown_activation(activation):
    with pytest.raises(ValueError, match=f"^unknown activation {activation!r}.*'relu'"):
        build_dense_autoencoder(2, activation=activation)


# --------------------------------------------------------------------------- reconstruction_bce


def test_bce_matches_the_textbook_formula_per_image():
    x = RNG.uniform(size=(7, 784)).astype(np.float32)
    x[:3] = (x[:3] > 0.5).astype(np.float32)  # binary and grey targets
    logits = RNG.normal(scale=4.0, size=(7, 784)).astype(np.float32)
    loss = to_numpy(reconstruction_bce(x, logits))
    assert loss.shape == (7,)
    assert loss.dtype == np.float32
    np.testing.assert_allclose(loss, bce_reference(x, logits), rtol=1e-5)


def test_bce_accepts_tensors_and_other_widths():
    x = RNG.uniform(size=(2, 10)).astype(np.float32)
    logits = RNG.normal(size=(2, 10)).astype(np.float32)
    loss = to_numpy(reconstruction_bce(keras.ops.convert_to_tensor(x),
                                       keras.ops.convert_to_tensor(logits)))
    np.testing.assert_allclose(loss, bce_reference(x, logits), rtol=1e-5)


def test_bce_sums_over_pixels_rather_than_averaging():
    x = RNG.uniform(size=(3, 50)).astype(np.float32)
    logits = RNG.normal(size=(3, 50)).astype(np.float32)
    single = to_numpy(reconstruction_bce(x, logits))
    doubled = to_numpy(reconstruction_bce(np.concatenate([x, x], 1),
                                          np.concatenate([logits, logits], 1)))
    np.testing.assert_allclose(doubled, 2 * single, rtol=1e-5)


def test_bce_is_finite_for_extreme_logits_where_the_direct_formula_fails():
    x = (RNG.uniform(size=(4, 784)) > 0.5).astype(np.float32)
    logits = np.where(RNG.uniform(size=(4, 784)) > 0.5, 1e4, -1e4).astype(np.float32)
    with np.errstate(all="ignore"):
        assert not np.all(np.isfinite(bce_reference(x, logits)))
    loss = to_numpy(reconstruction_bce(x, logits))
    assert np.all(np.isfinite(loss))
    wrong = (x != (logits > 0)).sum(axis=1)  # each confidently wrong pixel costs |logit| nats
    np.testing.assert_allclose(loss, 1e4 * wrong, rtol=1e-6)


def test_bce_tends_to_zero_for_confident_correct_binary_logits():
    x = (RNG.uniform(size=(3, 784)) > 0.5).astype(np.float32)
    losses = [to_numpy(reconstruction_bce(x, scale * (2 * x - 1))) for scale in (1, 5, 20, 60)]
    for smaller_scale, larger_scale in pairwise(losses):
        assert np.all(larger_scale < smaller_scale)
    assert np.all(losses[-1] >= 0.0)
    assert np.all(losses[-1] < 1e-12)
    np.testing.assert_allclose(losses[0], 784 * np.log1p(np.exp(-1.0)), rtol=1e-5)


def test_bce_minimum_for_grey_targets_is_their_entropy():
    x = RNG.uniform(0.05, 0.95, size=(2, 784))
    best = np.log(x / (1 - x))  # logit(x) minimises the cross-entropy
    entropy = -(x * np.log(x) + (1 - x) * np.log(1 - x)).sum(axis=1)
    x32, best32 = x.astype(np.float32), best.astype(np.float32)
    np.testing.assert_allclose(to_numpy(reconstruction_bce(x32, best32)), entropy, rtol=1e-4)
    nudged = to_numpy(reconstruction_bce(x32, best32 + 0.1))
    assert np.all(nudged > entropy)


# --------------------------------------------------------------------------- training


def test_a_short_fit_reduces_the_loss_reported_in_nats_per_image():
    keras.utils.set_random_seed(0)
    rng = np.random.default_rng(0)
    prototypes = (rng.uniform(size=(4, 784)) > 0.7).astype(np.float32)
    flips = rng.uniform(size=(256, 784)) < 0.05
    x = np.abs(prototypes[np.arange(256) % 4] - flips).astype(np.float32)

    autoencoder, _, _ = build_dense_autoencoder(2, hidden_units=(32,))
    autoencoder.compile(optimizer=keras.optimizers.Adam(1e-2), loss=reconstruction_bce)
    history = autoencoder.fit(x, x, epochs=4, batch_size=64, verbose=0, shuffle=False)
    losses = history.history["loss"]
    assert len(losses) == 4 and np.all(np.isfinite(losses))
    assert losses[-1] < 0.8 * losses[0]

    logits = to_numpy(autoencoder(x))
    per_image = to_numpy(reconstruction_bce(x, logits))
    reported = autoencoder.evaluate(x, x, batch_size=256, verbose=0)
    np.testing.assert_allclose(reported, per_image.mean(), rtol=1e-4)
    np.testing.assert_allclose(per_image, bce_reference(x, logits), rtol=1e-4)

    per_pixel = float(keras.losses.BinaryCrossentropy(from_logits=True)(x, logits))
    np.testing.assert_allclose(reported, 784 * per_pixel, rtol=1e-4)
    assert reported > 100 * per_pixel  # nats per image, not per pixel


def test_numpy_integer_sizes_are_accepted():
    """A size read off an array (numpy int) builds the same model as a Python int."""
    _, encoder, decoder = build_dense_autoencoder(np.int64(3), (np.int32(16),))
    assert encoder.output.shape[-1] == 3
    assert [layer.units for layer in decoder.layers if hasattr(layer, "units")] == [16, 784]

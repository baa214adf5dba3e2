"""Unit tests for vae_tutorial.vae: builders, the negative-ELBO metrics of the custom
train/test steps (nats per image), binarization, input checks, the non-finite-loss stop,
saving and loading, and the numpy helpers (encode, decode, reconstruct, sample).

Models are tiny (one hidden layer of 8-32 units, 2-4 latent dimensions) and data small
(a few hundred offline MNIST digits or synthetic images), so the file runs in seconds;
each new model costs one graph trace per ``fit``, so models are shared where a test does
not change them.
"""

from __future__ import annotations

import keras
import numpy as np
import pytest
import tensorflow as tf

from vae_tutorial.data import MnistData, load_mnist
from vae_tutorial.probability import (
    bernoulli_log_likelihood,
    kl_to_standard_normal,
)
from vae_tutorial.vae import (
    BINARIZATIONS,
    VAE,
    StopOnNonFiniteLoss,
    build_decoder,
    build_encoder,
    build_vae,
    load_vae,
)

METRICS = ("loss", "reconstruction", "kl")
# Keras converts TF variables with np.array (saving, get_weights), which NumPy 2 flags.
pytestmark = pytest.mark.filterwarnings(
    "ignore:__array__ implementation doesn't accept a copy keyword:DeprecationWarning")
# Keras warns that shuffle=True is ignored for a tf.data.Dataset; that is expected here.
IGNORE_SHUFFLE = pytest.mark.filterwarnings("ignore:`shuffle=True` was passed")


def dense_units(model) -> list[int]:
    return [layer.units for layer in model.layers if isinstance(layer, keras.layers.Dense)]


def synthetic_images(n: int, seed: int = 0) -> np.ndarray:
    """(n, 784) float32 grey-level images in [0, 1], including exact 0, 0.5 and 1."""
    images = np.random.default_rng(seed).uniform(size=(n, 784)).astype(np.float32)
    images[:, :3] = [0.0, 0.5, 1.0]
    return images


def compiled(model: VAE, learning_rate: float = 1e-3) -> VAE:
    model.compile(optimizer=keras.optimizers.Adam(learning_rate))
    return model


@pytest.fixture(scope="module")
def mnist() -> MnistData:
    return load_mnist(source="offline", flatten=True)


@pytest.fixture(scope="module")
def trained(mnist):
    """A small VAE trained for 4 epochs on 512 digits, with its history and held-out loss."""
    keras.utils.set_random_seed(0)
    model = compiled(build_vae(2, (32,), seed=0), learning_rate=3e-3)
    x_val = mnist.x_test[:256]
    before = model.evaluate(x_val, batch_size=128, verbose=0, return_dict=True)
    history = model.fit(mnist.x_train[:512], epochs=4, batch_size=64,
                        validation_data=x_val, verbose=0).history
    after = model.evaluate(x_val, batch_size=128, verbose=0, return_dict=True)
    return model, history, before, after


@pytest.fixture(scope="module")
def plain_model():
    """An untrained static-binarization VAE that tests use read-only (no fit)."""
    keras.utils.set_random_seed(1)
    return compiled(build_vae(3, (16,), binarization="static", seed=1))


# --------------------------------------------------------------------------- builders


def test_encoder_outputs_mean_and_log_var_of_latent_width():
    encoder = build_encoder(3, (16,))
    outputs = encoder(synthetic_images(5))
    assert isinstance(outputs, (list, tuple)) and len(outputs) == 2
    assert [tuple(o.shape) for o in outputs] == [(5, 3), (5, 3)]
    assert dense_units(encoder) == [16, 3, 3]
    assert [layer.name for layer in encoder.layers[-2:]] == ["z_mean", "z_log_var"]
    # Both heads are linear: a log-variance (and a mean) may be any real number.
    assert [layer.get_config()["activation"] for layer in encoder.layers[-2:]] == ["linear"] * 2


def test_decoder_outputs_784_linear_logits():
    decoder = build_decoder(3, (16,))
    logits = decoder(np.random.default_rng(0).normal(size=(4, 3)).astype(np.float32))
    assert tuple(logits.shape) == (4, 784)
    assert dense_units(decoder) == [16, 784]
    assert decoder.layers[-1].get_config()["activation"] == "linear"


def test_builders_match_hand_written_dense_layers():
    # Notebook 05 writes 784 -> Dense(400, relu) -> two Dense(20) heads, and 20 ->
    # Dense(400, relu) -> Dense(784), by hand; the builders must be exactly these layers.
    image, code = keras.Input(shape=(784,)), keras.Input(shape=(20,))
    hidden = keras.layers.Dense(400, activation="relu")(image)
    hand_encoder = keras.Model(image, [keras.layers.Dense(20)(hidden),
                                       keras.layers.Dense(20)(hidden)])
    hand_decoder = keras.Model(
        code, keras.layers.Dense(784)(keras.layers.Dense(400, activation="relu")(code)))
    pairs = [(build_encoder(20, (400,), seed=3), hand_encoder),
             (build_decoder(20, (400,), seed=3), hand_decoder)]
    for built, hand in pairs:
        built_dense = [layer for layer in built.layers if isinstance(layer, keras.layers.Dense)]
        hand_dense = [layer for layer in hand.layers if isinstance(layer, keras.layers.Dense)]
        assert len(built_dense) == len(hand_dense)
        for source, target in zip(built_dense, hand_dense, strict=True):
            target.set_weights(source.get_weights())
    z = np.random.default_rng(0).normal(size=(8, 20)).astype(np.float32)
    for (built, hand), inputs in zip(pairs, [synthetic_images(8), z], strict=True):
        # The ReLU matters here: some hidden pre-activations are negative.
        kernel, bias = hand.layers[1].get_weights()
        assert hand.layers[1].units == 400 and np.any(inputs @ kernel + bias < 0)
        built_out, hand_out = built(inputs), hand(inputs)
        if not isinstance(built_out, (list, tuple)):
            built_out, hand_out = [built_out], [hand_out]
        assert len(built_out) == len(hand_out)
        for a, b in zip(built_out, hand_out, strict=True):
            np.testing.assert_allclose(keras.ops.convert_to_numpy(a),
                                       keras.ops.convert_to_numpy(b), rtol=1e-6, atol=1e-6)


def test_build_vae_default_is_784_400_20_with_dynamic_binarization():
    model = build_vae()
    assert isinstance(model, VAE)
    assert tuple(model.encoder.inputs[0].shape) == (None, 784)
    assert dense_units(model.encoder) == [400, 20, 20]
    assert dense_units(model.decoder) == [400, 784]
    assert model.latent_dim == 20
    assert model.binarization == "dynamic"
    assert BINARIZATIONS == ("dynamic", "static")


def test_build_vae_mirrors_the_hidden_layers():
    model = build_vae(4, (512, 256))
    assert dense_units(model.encoder) == [512, 256, 4, 4]
    assert dense_units(model.decoder) == [256, 512, 784]


@pytest.mark.parametrize("builder", [build_encoder, build_decoder, build_vae])
@pytest.mark.parametrize("latent_dim", [0, -2, 2.0, 2.5, "2", True, None])
def test_bad_latent_dim_is_rejected_by_name(builder, latent_dim):
    with pytest.raises(ValueError, match="latent_dim"):
        builder(latent_dim, (16,))


@pytest.mark.parametrize("builder", [build_encoder, build_decoder, build_vae])
@pytest.mark.parametrize("hidden_units", [16, None, (0,), (16, -1), (8.0,), ("8",)])
def test_bad_hidden_units_are_rejected_by_name(builder, hidden_units):
    with pytest.raises(ValueError, match="hidden_units"):
        builder(2, hidden_units)


def test_empty_hidden_units_give_a_linear_model():
    model = build_vae(2, ())
    assert dense_units(model.encoder) == [2, 2]
    assert dense_units(model.decoder) == [784]


@pytest.mark.parametrize("binarization", ["stochastic", "Dynamic", "", None])
def test_unknown_binarization_lists_the_valid_ones(binarization):
    with pytest.raises(ValueError, match="binarization") as info:
        build_vae(2, (8,), binarization=binarization)
    assert "'dynamic'" in str(info.value) and "'static'" in str(info.value)


def test_binarization_has_no_default_in_the_model_class():
    with pytest.raises(TypeError):
        VAE(build_encoder(2, (8,)), build_decoder(2, (8,)))  # binarization missing


# --------------------------------------------------------------------------- metrics


def test_fit_reports_loss_reconstruction_kl_and_validation_twins(trained):
    _, history, _, _ = trained
    assert set(history) == {*METRICS, *(f"val_{m}" for m in METRICS)}
    for values in history.values():
        assert len(values) == 4
        assert np.all(np.isfinite(values))


def test_loss_is_reconstruction_plus_kl_every_epoch(trained):
    _, history, before, after = trained
    for prefix in ("", "val_"):
        loss = np.asarray(history[f"{prefix}loss"])
        total = np.asarray(history[f"{prefix}reconstruction"]) + np.asarray(history[f"{prefix}kl"])
        np.testing.assert_allclose(loss, total, rtol=1e-5)
    for logs in (before, after):
        assert logs["loss"] == pytest.approx(logs["reconstruction"] + logs["kl"], rel=1e-5)


def test_metrics_are_nats_per_image_on_the_right_scale(trained):
    _, history, before, _ = trained
    # An untrained decoder outputs logits near 0, so p(pixel) ~ 1/2 for each of 784 pixels:
    # about 784 * log 2 = 543 nats per image (not per pixel, not summed over the batch).
    assert before["reconstruction"] == pytest.approx(784 * np.log(2), rel=0.1)
    assert 0 <= before["kl"] < 5
    assert all(k >= 0 for k in history["kl"] + history["val_kl"])
    assert all(r > 0 for r in history["reconstruction"] + history["val_reconstruction"])


def test_training_reduces_the_loss(trained):
    _, history, before, after = trained
    assert history["loss"][-1] < history["loss"][0]
    assert history["val_loss"][-1] < history["val_loss"][0]
    assert after["loss"] < 0.8 * before["loss"]  # held-out negative ELBO, nats per image
    assert after["kl"] > 0.1  # the code carries information once trained


def test_evaluate_matches_the_probability_toolkit_per_image():
    """With static binarization and z = z_mean (variance exp(-1000) = 0 in float32), the
    reconstruction term is exactly -log p(x_bin | decoder(z_mean)) averaged over images,
    and the KL term is KL(q(z | x_bin) || N(0, I)) averaged over images. 100 images in
    batches of 64: a short last batch must not count as much as a full one."""
    keras.utils.set_random_seed(2)
    model = compiled(build_vae(3, (16,), binarization="static", seed=2))
    head = model.encoder.get_layer("z_log_var")
    head.kernel.assign(np.zeros(head.kernel.shape, np.float32))
    head.bias.assign(np.full(head.bias.shape, -1000.0, np.float32))
    x = synthetic_images(100, seed=3)

    x_bin = (x > 0.5).astype(np.float32)
    z_mean, z_log_var = model.encoder(x_bin)
    logits = model.decoder(z_mean)
    reconstruction = -bernoulli_log_likelihood(x_bin.astype(np.float64),
                                               np.asarray(logits, np.float64))
    kl = kl_to_standard_normal(np.asarray(z_mean, np.float64), np.asarray(z_log_var, np.float64))

    logs = model.evaluate(x, batch_size=64, verbose=0, return_dict=True)
    assert logs["reconstruction"] == pytest.approx(reconstruction.mean(), rel=1e-5)
    assert logs["kl"] == pytest.approx(kl.mean(), rel=1e-5)
    assert logs["loss"] == pytest.approx(reconstruction.mean() + kl.mean(), rel=1e-5)


def test_negative_elbo_terms_are_per_image():
    model = build_vae(2, (8,), binarization="static", seed=0)
    reconstruction, kl = model.negative_elbo_terms(tf.constant(synthetic_images(7)))
    assert tuple(reconstruction.shape) == (7,) and tuple(kl.shape) == (7,)
    assert np.all(np.asarray(kl) >= 0) and np.all(np.asarray(reconstruction) > 0)


# --------------------------------------------------------------------------- binarization


def test_static_binarization_thresholds_at_one_half():
    model = build_vae(2, (8,), binarization="static")
    x = synthetic_images(20)
    first = np.asarray(model.binarize(tf.constant(x)))
    np.testing.assert_array_equal(first, (x > 0.5).astype(np.float32))
    assert first.dtype == np.float32
    assert first[0, 1] == 0.0  # exactly 0.5 is not above the threshold
    np.testing.assert_array_equal(np.asarray(model.binarize(tf.constant(x))), first)


def test_dynamic_binarization_draws_bernoulli_pixels_with_mean_x():
    model = build_vae(2, (8,), binarization="dynamic", seed=0)
    draws = 2000
    intensities = np.linspace(0.0, 1.0, 784, dtype=np.float32)
    x = np.tile(intensities, (draws, 1))
    binary = np.asarray(model.binarize(tf.constant(x)))
    assert set(np.unique(binary)) <= {0.0, 1.0}
    mean = binary.mean(axis=0)
    standard_error = np.sqrt(intensities * (1 - intensities) / draws)
    assert np.all(np.abs(mean - intensities) <= 5 * standard_error + 1e-12)
    assert np.all(binary[:, 0] == 0) and np.all(binary[:, -1] == 1)
    # A fresh draw at every call: the same images give different binary images.
    again = np.asarray(model.binarize(tf.constant(x[:10])))
    assert not np.array_equal(again, binary[:10])


@pytest.mark.parametrize("binarization", BINARIZATIONS)
def test_a_seeded_model_is_reproducible(binarization):
    x = tf.constant(synthetic_images(16))
    models = [build_vae(2, (8,), binarization=binarization, seed=s) for s in (5, 5, 6)]
    for model in models[1:]:
        model.set_weights(models[0].get_weights())

    def run(model):
        binary = np.asarray(model.binarize(x))
        reconstruction, kl = model.negative_elbo_terms(x)
        return binary, np.asarray(reconstruction), np.asarray(kl), np.asarray(model(x))

    same, twin, other = (run(m) for m in models)
    for a, b in zip(same, twin, strict=True):
        np.testing.assert_array_equal(a, b)
    # Another seed draws other z (and, for dynamic binarization, other binary pixels).
    assert not np.array_equal(same[3], other[3])
    if binarization == "dynamic":
        assert not np.array_equal(same[0], other[0])


# --------------------------------------------------------------------------- bad input


BAD_IMAGES = {
    "wrong width": (np.full((6, 100), 0.5, np.float32), ValueError),
    "uint8 bytes": (np.full((6, 784), 200, np.uint8), TypeError),
    "0-255 floats": (np.full((6, 784), 200.0, np.float32), ValueError),
    "negative": (np.full((6, 784), -0.1, np.float32), ValueError),
    "NaN": (np.full((6, 784), np.nan, np.float32), ValueError),
    "inf": (np.full((6, 28, 28), np.inf, np.float32), ValueError),
    "empty": (np.zeros((0, 784), np.float32), ValueError),
    "None": (None, TypeError),
    "strings": (np.full((6, 784), "a"), TypeError),
}
ENTRY_POINTS = {
    "fit": lambda m, x: m.fit(x, epochs=1, verbose=0),
    "evaluate": lambda m, x: m.evaluate(x, verbose=0),
    "encode": lambda m, x: m.encode(x),
    "reconstruct": lambda m, x: m.reconstruct(x),
}


@pytest.mark.parametrize("entry", ENTRY_POINTS)
@pytest.mark.parametrize("case", BAD_IMAGES)
def test_bad_images_raise_a_clear_error_naming_x(plain_model, entry, case):
    images, error = BAD_IMAGES[case]
    with pytest.raises(error) as info:
        ENTRY_POINTS[entry](plain_model, images)
    assert type(info.value) is error  # our check, not a TensorFlow error subclass
    assert str(info.value).startswith("x ")


@pytest.mark.parametrize("case", ["wrong width", "uint8 bytes", "0-255 floats", "NaN"])
def test_bad_validation_data_is_named(plain_model, case):
    images, error = BAD_IMAGES[case]
    good = synthetic_images(8)
    for validation_data in (images, (images,)):
        with pytest.raises(error, match="^validation_data "):
            plain_model.fit(good, epochs=1, verbose=0, validation_data=validation_data)


def test_labels_are_refused(plain_model):
    x = synthetic_images(8)
    with pytest.raises(ValueError, match="without labels"):
        plain_model.fit(x, np.zeros(8))
    with pytest.raises(ValueError, match="images alone"):
        plain_model.evaluate(x, np.zeros(8))


@pytest.mark.parametrize("z", [np.zeros((4, 2)), np.zeros((4, 4)), np.zeros(3), np.zeros((0, 3)),
                               np.full((2, 3), np.nan), np.full((2, 3), "a")])
def test_decode_checks_the_codes(plain_model, z):
    with pytest.raises((ValueError, TypeError), match="^z "):
        plain_model.decode(z)


@pytest.mark.parametrize("n", [0, -1, 2.5, "3", None, True])
def test_sample_needs_a_positive_count(plain_model, n):
    with pytest.raises(ValueError, match="^n "):
        plain_model.sample(n)


# --------------------------------------------------------------------------- non-finite loss


def test_a_nan_weight_stops_fit_with_floating_point_error():
    keras.utils.set_random_seed(3)
    model = compiled(build_vae(2, (8,), seed=3))
    kernel = model.decoder.get_layer("logits").kernel
    values = kernel.numpy()
    values[0, 0] = np.nan
    kernel.assign(values)
    epochs_started = []
    counter = keras.callbacks.LambdaCallback(
        on_epoch_begin=lambda epoch, logs: epochs_started.append(epoch))
    message = r"(loss|reconstruction|kl) became nan in epoch 1\b"
    with pytest.raises(FloatingPointError, match=message):
        model.fit(synthetic_images(64), epochs=3, batch_size=32, verbose=0, callbacks=[counter])
    assert epochs_started == [0]  # stopped after the first epoch, did not carry on


@pytest.mark.parametrize("value", [np.nan, np.inf, -np.inf])
def test_stop_on_non_finite_loss_names_the_metric_and_the_epoch(value):
    callback = StopOnNonFiniteLoss()
    callback.on_epoch_end(0, {"loss": 100.0, "kl": 3.0})  # finite: nothing happens
    callback.on_epoch_end(0, None)
    with pytest.raises(FloatingPointError, match=r"val_kl became (nan|inf|-inf) in epoch 5\b"):
        callback.on_epoch_end(4, {"loss": 100.0, "val_kl": value})


# --------------------------------------------------------------------------- saving


def test_save_and_load_give_the_same_model(trained, tmp_path):
    model = trained[0]
    path = tmp_path / "m.keras"
    model.save(path)
    loaded = load_vae(path)
    assert isinstance(loaded, VAE)
    assert (loaded.binarization, loaded.latent_dim, loaded.seed) == (
        model.binarization, model.latent_dim, model.seed)
    for a, b in zip(model.get_weights(), loaded.get_weights(), strict=True):
        np.testing.assert_array_equal(a, b)
    x = synthetic_images(10)
    z = np.random.default_rng(0).normal(size=(5, model.latent_dim))
    for a, b in zip(model.encode(x), loaded.encode(x), strict=True):
        np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(model.decode(z), loaded.decode(z))
    np.testing.assert_array_equal(model.reconstruct(x), loaded.reconstruct(x))
    np.testing.assert_array_equal(model.sample(4, seed=1), loaded.sample(4, seed=1))


def test_save_and_load_keep_static_binarization(tmp_path):
    model = build_vae(3, (8,), binarization="static", seed=None)
    model.save(tmp_path / "static.keras")
    loaded = load_vae(str(tmp_path / "static.keras"))
    assert (loaded.binarization, loaded.latent_dim, loaded.seed) == ("static", 3, None)


def _truncated(tmp_path):
    path = tmp_path / "truncated.keras"
    build_vae(2, (8,)).save(path)
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    return path


def _sequential(tmp_path):
    path = tmp_path / "sequential.keras"
    keras.Sequential([keras.Input((3,)), keras.layers.Dense(2)]).save(path)
    return path


def _garbage(tmp_path):
    path = tmp_path / "garbage.keras"
    path.write_bytes(b"not a zip file at all")
    return path


@pytest.mark.parametrize("make", [lambda p: p / "missing.keras", _truncated, _sequential,
                                  _garbage], ids=["missing", "truncated", "sequential", "garbage"])
def test_load_vae_refuses_a_bad_file_naming_it(tmp_path, make):
    path = make(tmp_path)
    with pytest.raises(ValueError) as info:
        load_vae(path)
    assert str(path) in str(info.value)


# --------------------------------------------------------------------------- numpy helpers


def test_encode_decode_reconstruct_sample_shapes_and_ranges(plain_model):
    x = synthetic_images(6)
    z_mean, z_log_var = plain_model.encode(x)
    assert z_mean.shape == z_log_var.shape == (6, 3)
    assert isinstance(z_mean, np.ndarray) and isinstance(z_log_var, np.ndarray)
    for a, b in zip(plain_model.encode(x.reshape(-1, 28, 28)), (z_mean, z_log_var), strict=True):
        np.testing.assert_array_equal(a, b)  # (N, 28, 28) and (N, 784) are the same images
    # encode is deterministic: the mean code of the grey-level image, no sampling
    np.testing.assert_array_equal(plain_model.encode(x)[0], z_mean)

    codes = np.random.default_rng(0).normal(scale=30.0, size=(5, 3))  # saturating logits
    for pixels, n in ((plain_model.decode(codes), 5), (plain_model.reconstruct(x), 6),
                      (plain_model.sample(7), 7)):
        assert isinstance(pixels, np.ndarray) and pixels.shape == (n, 784)
        assert np.all(np.isfinite(pixels)) and pixels.min() >= 0.0 and pixels.max() <= 1.0
    np.testing.assert_array_equal(plain_model.reconstruct(x), plain_model.decode(z_mean))
    np.testing.assert_array_equal(plain_model.decode(codes.tolist()), plain_model.decode(codes))
    assert tuple(plain_model(x).shape) == (6, 784)  # model(x): logits of one sampled z


def test_sample_seed_repeats(plain_model):
    np.testing.assert_array_equal(plain_model.sample(3, seed=1), plain_model.sample(3, seed=1))
    assert not np.array_equal(plain_model.sample(3, seed=1), plain_model.sample(3, seed=2))


@IGNORE_SHUFFLE
def test_fit_accepts_tf_data_datasets():
    keras.utils.set_random_seed(4)
    model = compiled(build_vae(2, (8,), seed=4))
    x = synthetic_images(64)
    flat = tf.data.Dataset.from_tensor_slices(x).batch(32)
    history = model.fit(flat, epochs=1, verbose=0).history
    assert set(history) == set(METRICS) and np.all(np.isfinite(history["loss"]))
    # Images of 28 x 28, the shape load_mnist gives by default, with (x, label) pairs.
    square = tf.data.Dataset.from_tensor_slices((x.reshape(-1, 28, 28), np.zeros(64))).batch(16)
    history = model.fit(square, epochs=1, validation_data=square, verbose=0).history
    assert set(history) == {*METRICS, *(f"val_{m}" for m in METRICS)}
    assert np.all(np.isfinite(list(history.values())))
    assert history["val_loss"][0] == pytest.approx(
        history["val_reconstruction"][0] + history["val_kl"][0], rel=1e-5)


def test_seed_fixes_the_initial_weights():
    first, again = build_vae(4, (16,), seed=3), build_vae(4, (16,), seed=3)
    other = build_vae(4, (16,), seed=4)
    for a, b in zip(first.weights, again.weights, strict=True):
        np.testing.assert_array_equal(a.numpy(), b.numpy())
    assert not any(np.array_equal(a.numpy(), c.numpy())
                   for a, c in zip(first.weights, other.weights, strict=True) if a.ndim == 2)
    # every layer gets its own seed: no two kernels of the same shape are equal
    assert not np.array_equal(first.encoder.get_layer("z_mean").kernel.numpy(),
                              first.encoder.get_layer("z_log_var").kernel.numpy())


def test_validation_data_with_labels_is_refused():
    model = build_vae(2, (8,), seed=0)
    model.compile(optimizer="adam")
    x = np.random.default_rng(0).random((16, 784)).astype("float32")
    with pytest.raises(ValueError, match="without labels"):
        model.fit(x, epochs=1, validation_data=(x, np.zeros(16)), verbose=0)


def test_compile_has_the_loss_built_in_and_batches_steps():
    from vae_tutorial.vae import STEPS_PER_EXECUTION

    model = build_vae(2, (8,), seed=0)
    with pytest.raises(ValueError, match="built in"):
        model.compile(optimizer="adam", loss="mse")
    model.compile(optimizer="adam")
    assert model.steps_per_execution == STEPS_PER_EXECUTION
    model.compile(optimizer="adam", steps_per_execution=1)
    assert model.steps_per_execution == 1


# ------------------------------------------------------------------ issue 8: guarded, repeatable


BAD_BATCHES = {
    "0-255 floats": (lambda x: x * 255, ValueError, "outside \\[0, 1\\] or NaN"),
    "NaN": (lambda x: x * np.nan, ValueError, "outside \\[0, 1\\] or NaN"),
    "uint8 bytes": (lambda x: (x * 255).astype(np.uint8), TypeError, "floats in \\[0, 1\\]"),
    "wrong width": (lambda x: x[:, :100], ValueError, "shape"),
}


@IGNORE_SHUFFLE
@pytest.mark.parametrize("case", BAD_BATCHES)
@pytest.mark.parametrize("argument", ["x", "validation_data"])
def test_bad_dataset_batches_raise_a_clear_error_naming_the_argument(plain_model, case, argument):
    make, error, message = BAD_BATCHES[case]
    good = synthetic_images(64)
    bad = tf.data.Dataset.from_tensor_slices(make(good)).batch(32)
    kwargs = {"x": bad} if argument == "x" else {"x": good, "validation_data": bad}
    with pytest.raises(error, match=f"^{argument} .*{message}"):
        plain_model.fit(**kwargs, epochs=1, verbose=0)


def test_evaluate_on_a_bad_dataset_names_x(plain_model):
    bad = tf.data.Dataset.from_tensor_slices(synthetic_images(64) * 255).batch(32)
    with pytest.raises(ValueError, match="^x holds a batch with values outside"):
        plain_model.evaluate(bad, verbose=0)


@pytest.mark.parametrize("entry", ["negative_elbo_terms", "call"])
@pytest.mark.parametrize("case", ["0-255 floats", "NaN", "wrong width"])
def test_tensors_are_checked_like_numpy_arrays(plain_model, entry, case):
    images, error = BAD_IMAGES[case]
    method = plain_model.negative_elbo_terms if entry == "negative_elbo_terms" else plain_model
    with pytest.raises(error, match=r"x (contains|must)"):  # Keras wraps call's errors
        method(tf.constant(images))


def test_evaluate_repeats_and_leaves_the_training_noise_alone():
    x = synthetic_images(64)
    models = [compiled(build_vae(2, (8,), seed=4)) for _ in range(2)]
    first = models[0].evaluate(x, batch_size=32, verbose=0, return_dict=True)
    assert models[0].evaluate(x, batch_size=32, verbose=0, return_dict=True) == first
    # An evaluation in between does not change what the next training step draws.
    a = models[0].fit(x, epochs=1, batch_size=32, verbose=0).history
    b = models[1].fit(x, epochs=1, batch_size=32, verbose=0).history
    assert a == b


SEED_CONTRACT = """
import json
import numpy as np
from vae_tutorial import build_vae
x = np.random.default_rng(0).uniform(size=(96, 784)).astype("float32")
model = build_vae(2, (8,), seed=11)
model.compile(optimizer="adam")
history = model.fit(x, epochs=2, batch_size=16, verbose=0).history
print(json.dumps({"loss": history["loss"], "weights": float(np.sum(model.get_weights()[0]))}))
"""


def test_build_vae_seed_trains_the_same_model_in_two_fresh_processes():
    """No setup_notebook, no global seed: the model's seed alone fixes the training."""
    import json
    import os
    import subprocess
    import sys
    from pathlib import Path

    root = Path(__file__).resolve().parents[1]
    env = {**os.environ, "PYTHONPATH": str(root), "TF_CPP_MIN_LOG_LEVEL": "3"}
    procs = [subprocess.Popen([sys.executable, "-c", SEED_CONTRACT], cwd=root, env=env,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
             for _ in range(2)]
    results = []
    for proc in procs:
        out, err = proc.communicate(timeout=300)
        assert proc.returncode == 0, err[-2000:]
        results.append(json.loads(out.strip().splitlines()[-1]))
    assert results[0] == results[1]

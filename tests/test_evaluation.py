"""vae_tutorial.evaluation (notebook 09): importance-weighted bounds and the Fréchet distance."""

import math

import numpy as np
import pytest
import scipy.linalg

from vae_tutorial import build_vae
from vae_tutorial.evaluation import (
    binarize_images,
    elbo_per_image,
    frechet_distance,
    importance_weighted_bound,
    judge_features,
    log_importance_weights,
    log_mean_exp,
)


@pytest.fixture(scope="module")
def small_vae():
    """An untrained 784-16-3 VAE whose decoder leans hard on z (kernels scaled by 4): its
    untrained q is far from the posterior, so the bounds differ by many nats."""
    model = build_vae(latent_dim=3, hidden_units=(16,), binarization="dynamic", seed=3)
    for layer in model.decoder.layers:
        if layer.weights:
            layer.weights[0].assign(np.asarray(layer.weights[0]) * 4)
    return model


@pytest.fixture(scope="module")
def binary_images():
    grey = np.random.default_rng(0).random((6, 784)).astype(np.float32) ** 3
    return binarize_images(grey, "dynamic", seed=1)


def _log_normal(z, mean, log_var):
    return -0.5 * np.sum(math.log(2 * math.pi) + log_var + (z - mean) ** 2 / np.exp(log_var), -1)


# --------------------------------------------------------------------------- log_mean_exp


def test_log_mean_exp_matches_the_naive_formula_where_that_works():
    values = np.random.default_rng(0).normal(size=(4, 7))
    assert np.allclose(log_mean_exp(values), np.log(np.mean(np.exp(values), axis=-1)))
    assert np.allclose(log_mean_exp(values, axis=0), np.log(np.mean(np.exp(values), axis=0)))


def test_log_mean_exp_is_stable_with_extreme_values():
    assert log_mean_exp(np.array([-1000.0, -1000.0])) == pytest.approx(-1000.0)
    assert log_mean_exp(np.array([1000.0, 1000.0])) == pytest.approx(1000.0)
    assert log_mean_exp(np.array([-10_000.0, 0.0])) == pytest.approx(math.log(0.5))
    assert log_mean_exp(np.array([1000.0, -np.inf])) == pytest.approx(1000.0 + math.log(0.5))
    assert log_mean_exp(np.array([-np.inf, -np.inf])) == -np.inf
    # float32 input is computed in float64: no underflow at -1000
    assert log_mean_exp(np.array([-1000.0, -1001.0], dtype=np.float32)) == pytest.approx(
        -1000.0 + math.log((1 + math.exp(-1)) / 2))


@pytest.mark.parametrize("values, error, message", [
    (np.array([1.0, np.nan]), ValueError, "NaN"),
    (np.array([1.0, np.inf]), ValueError, r"\+inf"),
    (np.zeros((2, 0)), ValueError, "non-empty"),
    (np.array(["a", "b"]), TypeError, "real numbers"),
])
def test_log_mean_exp_bad_input_is_named(values, error, message):
    with pytest.raises(error, match=message):
        log_mean_exp(values)


# --------------------------------------------------------------------------- the bounds


def test_log_weights_are_the_hand_formula_for_the_documented_noise(small_vae, binary_images):
    x = binary_images[:2]
    weights = log_importance_weights(small_vae, x, 5, seed=7)
    z_mean, z_log_var = (np.asarray(t, dtype=np.float64) for t in small_vae.encoder(x))
    for i in range(2):
        eps = np.random.default_rng([7, i]).standard_normal((5, 3))
        z = z_mean[i] + np.exp(0.5 * z_log_var[i]) * eps
        logits = np.asarray(small_vae.decoder(z.astype(np.float32)), dtype=np.float64)
        log_lik = np.sum(x[i] * logits - np.logaddexp(0.0, logits), axis=-1)
        expected = (log_lik + _log_normal(z, 0.0, 0.0)
                    - _log_normal(z, z_mean[i], z_log_var[i]))
        assert np.allclose(weights[i], expected, atol=1e-3)


def test_chunking_changes_nothing(small_vae, binary_images):
    reference = log_importance_weights(small_vae, binary_images, 7, seed=2)
    for chunk in (1, 3, 7, 20):
        assert np.allclose(log_importance_weights(small_vae, binary_images, 7, seed=2,
                                                  chunk_size=chunk), reference, atol=1e-4)
        assert np.allclose(importance_weighted_bound(small_vae, binary_images, 7, seed=2,
                                                     chunk_size=chunk),
                           log_mean_exp(reference), atol=1e-4)


def test_l1_is_the_one_sample_elbo_for_the_same_code(small_vae, binary_images):
    # With one code, L_1 = log p(x|z) + log p(z) - log q(z|x) exactly (nothing is averaged).
    bound = importance_weighted_bound(small_vae, binary_images, 1, seed=4)
    weights = log_importance_weights(small_vae, binary_images, 1, seed=4)
    assert np.allclose(bound, weights[:, 0], atol=1e-9)


def test_l1_equals_the_elbo_in_expectation(small_vae, binary_images):
    weights = log_importance_weights(small_vae, binary_images, 4000, seed=5)
    elbo = elbo_per_image(small_vae, binary_images, 4000, seed=6)
    se = weights.std(axis=1, ddof=1) / np.sqrt(weights.shape[1])
    assert np.all(np.abs(weights.mean(axis=1) - elbo) < 5 * se + 0.05)


def test_elbo_per_image_is_minus_the_vae_loss_terms(small_vae, binary_images):
    # One code each, the same draws: log p(x|z) - KL from the package's VAE pieces.
    x = binary_images
    elbo = elbo_per_image(small_vae, x, 1, seed=8)
    z_mean, z_log_var = (np.asarray(t, dtype=np.float64) for t in small_vae.encoder(x))
    eps = np.stack([np.random.default_rng([8, i]).standard_normal(3) for i in range(len(x))])
    z = z_mean + np.exp(0.5 * z_log_var) * eps
    logits = np.asarray(small_vae.decoder(z.astype(np.float32)), dtype=np.float64)
    log_lik = np.sum(x * logits - np.logaddexp(0.0, logits), axis=-1)
    kl = 0.5 * np.sum(np.expm1(z_log_var) - z_log_var + z_mean**2, axis=-1)
    assert np.allclose(elbo, log_lik - kl, atol=1e-3)


def test_bound_rises_with_the_number_of_samples_in_expectation(small_vae, binary_images):
    weights = log_importance_weights(small_vae, binary_images, 3000, seed=9)
    means = []
    for size in (1, 10, 100, 1000):
        blocks = weights.reshape(len(weights), -1, size)
        per_image = log_mean_exp(blocks).mean(axis=1)  # mean over disjoint blocks
        means.append(per_image)
    for small, large in zip(means[:-1], means[1:], strict=True):
        diff = large - small  # per image; its mean over the images, with its standard error
        assert diff.mean() > 3 * diff.std(ddof=1) / np.sqrt(len(diff))
    assert np.all(means[-1] - means[0] > 1.0)  # far from tight for an untrained q


def test_exact_when_q_is_the_posterior():
    # A decoder that ignores z: the posterior is the prior; an encoder that outputs the prior.
    # Then every weight is p(x) = p(x | z) and L_S = log p(x) for every S, with no noise.
    model = build_vae(latent_dim=2, hidden_units=(), binarization="dynamic", seed=0)
    for layer in model.encoder.layers + model.decoder.layers:
        for variable in layer.weights:
            variable.assign(np.zeros(variable.shape, dtype=np.float32))
    bias = np.random.default_rng(0).normal(size=784).astype(np.float32)
    model.decoder.get_layer("logits").bias.assign(bias)
    x = binarize_images(np.full((3, 784), 0.4, np.float32), seed=2)
    log_px = np.sum(x * bias - np.logaddexp(0.0, bias), axis=-1)
    for size in (1, 10, 1000):
        assert np.allclose(importance_weighted_bound(model, x, size, seed=size), log_px,
                           atol=1e-3)
    assert np.allclose(elbo_per_image(model, x, 5), log_px, atol=1e-3)


def test_a_given_q_replaces_the_encoder(small_vae, binary_images):
    x = binary_images[:2]
    z_mean, z_log_var = (np.asarray(t) for t in small_vae.encoder(x))
    assert np.allclose(log_importance_weights(small_vae, x, 4, q=(z_mean, z_log_var)),
                       log_importance_weights(small_vae, x, 4), atol=1e-6)
    other = log_importance_weights(small_vae, x, 4, q=(z_mean + 1.0, z_log_var))
    assert not np.allclose(other, log_importance_weights(small_vae, x, 4))


def test_binarize_images():
    grey = np.full((2000, 784), 0.3, np.float32)
    dynamic = binarize_images(grey, "dynamic", seed=0)
    assert dynamic.dtype == np.float32 and set(np.unique(dynamic)) == {0.0, 1.0}
    assert abs(dynamic.mean() - 0.3) < 0.002
    assert np.array_equal(dynamic, binarize_images(grey, seed=0))
    assert np.array_equal(binarize_images(np.full((1, 28, 28), 0.6, np.float32), "static"),
                          np.ones((1, 784), np.float32))


@pytest.mark.parametrize("call, error, message", [
    (lambda m, x: log_importance_weights(m, x * 0.5, 3), ValueError, "binary"),
    (lambda m, x: log_importance_weights(m, x.astype(np.int64), 3), TypeError, "floats"),
    (lambda m, x: log_importance_weights(m, x[:, :100], 3), ValueError, "shape"),
    (lambda m, x: log_importance_weights(m, x, 0), ValueError, "n_samples"),
    (lambda m, x: importance_weighted_bound(m, x, 3, chunk_size=0), ValueError, "chunk_size"),
    (lambda m, x: importance_weighted_bound(m, x, 3, seed=-1), ValueError, "seed"),
    (lambda m, x: importance_weighted_bound("model", x, 3), TypeError, "encoder"),
    (lambda m, x: elbo_per_image(m, x, 2, q=(np.zeros((6, 3)),)), ValueError, "pair"),
    (lambda m, x: elbo_per_image(m, x, 2, q=(np.zeros((5, 3)), np.zeros((5, 3)))),
     ValueError, "one row per image"),
    (lambda m, x: binarize_images(x, "random"), ValueError, "binarization"),
    (lambda m, x: binarize_images(x * 255), ValueError, r"\[0, 1\]"),
])
def test_bad_input_is_named(small_vae, binary_images, call, error, message):
    with pytest.raises(error, match=message):
        call(small_vae, binary_images)


# --------------------------------------------------------------------------- Fréchet distance


def test_frechet_distance_against_hand_computations():
    # Diagonal covariances: d^2 = |m_a - m_b|^2 + sum_k (sqrt(a_k) - sqrt(b_k))^2.
    rng = np.random.default_rng(0)
    a = rng.normal(size=(400, 3))
    b = rng.normal(size=(300, 3)) * 2.0 + 1.0
    cov_a, cov_b = np.cov(a, rowvar=False), np.cov(b, rowvar=False)
    # Sample covariances are not diagonal: compare the general formula with scipy's sqrtm,
    # and the diagonal one on a set whose sample covariance is exactly diagonal.
    cross = scipy.linalg.sqrtm(cov_a @ cov_b).real
    expected = np.sum((a.mean(0) - b.mean(0)) ** 2) + np.trace(cov_a + cov_b - 2 * cross)
    assert frechet_distance(a, b) == pytest.approx(expected, rel=1e-8)
    diagonal_a = np.array([[1.0, 0.0], [-1.0, 0.0], [0.0, 2.0], [0.0, -2.0]])  # cov diag(2/3, 8/3)
    diagonal_b = diagonal_a * 3.0 + 5.0  # cov diag(6, 24), mean (5, 5)
    by_hand = (50.0 + (math.sqrt(2 / 3) - math.sqrt(6)) ** 2
               + (math.sqrt(8 / 3) - math.sqrt(24)) ** 2)
    assert frechet_distance(diagonal_a, diagonal_b) == pytest.approx(by_hand, rel=1e-10)


def test_frechet_distance_is_zero_for_identical_sets_and_symmetric():
    a = np.random.default_rng(1).normal(size=(50, 8))
    assert frechet_distance(a, a) == pytest.approx(0.0, abs=1e-9)
    b = np.random.default_rng(2).normal(size=(60, 8))
    assert frechet_distance(a, b) == pytest.approx(frechet_distance(b, a), rel=1e-8)
    # fewer rows than features: singular covariances still give a finite, non-negative number
    assert 0 <= frechet_distance(a[:5], b[:5]) < np.inf


@pytest.mark.parametrize("a, b, message", [
    (np.zeros((5, 3)), np.zeros((5, 4)), "same number of features"),
    (np.zeros((1, 3)), np.zeros((5, 3)), "at least 2"),
    (np.full((5, 3), np.nan), np.zeros((5, 3)), "non-finite"),
    (np.zeros(5), np.zeros((5, 1)), "shape"),
])
def test_frechet_distance_bad_input_is_named(a, b, message):
    with pytest.raises(ValueError, match=message):
        frechet_distance(a, b)


def test_judge_features_are_the_hidden_layer():
    import keras

    inputs = keras.Input(shape=(784,))
    hidden = keras.layers.Dense(4, activation="relu", name="judge_hidden_0")(inputs)
    judge = keras.Model(inputs, keras.layers.Dense(10, name="logits")(hidden))
    images = np.random.default_rng(0).random((5, 28, 28)).astype(np.float32)
    features = judge_features(judge, images, batch_size=2)
    kernel, bias = (np.asarray(v) for v in judge.get_layer("judge_hidden_0").weights)
    assert features.shape == (5, 4)
    assert np.allclose(features, np.maximum(images.reshape(5, 784) @ kernel + bias, 0), atol=1e-5)
    with pytest.raises(TypeError, match="keras.Model"):
        judge_features("judge", images)
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        judge_features(judge, images * 255)


class _Conditional:
    """A stand-in for notebook 08's ConditionalVAE: two-input encoder and decoder."""

    needs_labels = True
    num_classes = 10

    def __init__(self):
        import keras

        image, label = keras.Input(shape=(784,)), keras.Input(shape=(10,))
        joined = keras.layers.Concatenate()([image, label])
        heads = [keras.layers.Dense(2, kernel_initializer="zeros",
                                    bias_initializer="zeros")(joined) for _ in range(2)]
        self.encoder = keras.Model([image, label], heads)
        z, label_in = keras.Input(shape=(2,)), keras.Input(shape=(10,))
        from_label = keras.layers.Dense(784, use_bias=False, kernel_initializer=keras.initializers
                                        .RandomNormal(seed=0))(label_in)
        # z enters with zero weights (older Keras refuses an input the outputs do not use), so
        # the decoder ignores z
        from_z = keras.layers.Dense(784, use_bias=False, kernel_initializer="zeros")(z)
        logits = keras.layers.Add()([from_label, from_z])
        self.decoder = keras.Model([z, label_in], logits)


def test_conditional_models_take_labels_and_give_log_p_x_given_y():
    model = _Conditional()
    x = binarize_images(np.full((3, 784), 0.5, np.float32), seed=0)
    labels = np.array([0, 3, 9])
    # q = N(0, I) = prior and p(x | z, y) independent of z: L_S = log p(x | y) exactly.
    logits = np.asarray(model.decoder([np.zeros((3, 2), np.float32),
                                       np.eye(10, dtype=np.float32)[labels]]))
    log_px_given_y = np.sum(x * logits - np.logaddexp(0.0, logits), axis=-1)
    assert np.allclose(importance_weighted_bound(model, x, 20, labels=labels), log_px_given_y,
                       atol=1e-3)
    assert np.allclose(elbo_per_image(model, x, 2, labels=labels), log_px_given_y, atol=1e-3)
    with pytest.raises(ValueError, match="conditional"):
        importance_weighted_bound(model, x, 2)
    with pytest.raises(ValueError, match="0-9"):
        importance_weighted_bound(model, x, 2, labels=np.array([0, 3, 10]))
    with pytest.raises(ValueError, match="one label per point"):
        importance_weighted_bound(model, x, 2, labels=np.array([0, 3]))


def test_labels_are_refused_for_an_unconditional_model(small_vae, binary_images):
    with pytest.raises(ValueError, match="not conditional"):
        importance_weighted_bound(small_vae, binary_images, 2, labels=np.zeros(6, int))

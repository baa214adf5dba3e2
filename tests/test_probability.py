"""Unit tests for vae_tutorial.probability: the densities, KL divergences, Bernoulli
likelihood, ELBO and the Sampling layer.

Every value is checked against something computed independently: scipy, a direct textbook
formula in float64, a numerical integral, a Monte Carlo estimate or an analytic gradient.
"""

from __future__ import annotations

import decimal
from itertools import pairwise

import keras
import numpy as np
import pytest
import tensorflow as tf
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from scipy import stats

from vae_tutorial.autoencoder import reconstruction_bce
from vae_tutorial.probability import (
    LOG_2PI,
    Sampling,
    bernoulli_log_likelihood,
    elbo,
    gaussian_kl,
    gaussian_log_density,
    kl_to_standard_normal,
    kl_univariate_gaussians,
)

SETTINGS = settings(max_examples=50, deadline=None)
FEW = settings(max_examples=15, deadline=None)


def to_numpy(value) -> np.ndarray:
    return np.asarray(keras.ops.convert_to_numpy(value))


# --------------------------------------------------------------------------- strategies

shapes = st.tuples(st.integers(1, 4), st.integers(1, 5))  # (B, K)
MEANS = st.floats(-10, 10, allow_nan=False, allow_infinity=False)
LOG_VARS = st.floats(-5, 5, allow_nan=False, allow_infinity=False)


@st.composite
def gaussian_pairs(draw):
    """(mean_q, log_var_q, mean_p, log_var_p), float64 arrays of one shape (B, K)."""
    shape = draw(shapes)
    return tuple(draw(hnp.arrays(np.float64, shape, elements=elements))
                 for elements in (MEANS, LOG_VARS, MEANS, LOG_VARS))


@st.composite
def gaussians(draw):
    """(mean, log_var), float64 arrays of one shape (B, K)."""
    shape = draw(shapes)
    return (draw(hnp.arrays(np.float64, shape, elements=MEANS)),
            draw(hnp.arrays(np.float64, shape, elements=LOG_VARS)))


def kl_reference(mq, lvq, mp, lvp) -> np.ndarray:
    """KL between diagonal Gaussians written with standard deviations, float64, summed."""
    sq, sp = np.exp(0.5 * lvq), np.exp(0.5 * lvp)
    per_dim = np.log(sp / sq) + (sq**2 + (mq - mp) ** 2) / (2 * sp**2) - 0.5
    return per_dim.sum(axis=-1)


# --------------------------------------------------------------------------- KL: values


@SETTINGS
@given(gaussian_pairs())
def test_gaussian_kl_is_non_negative_and_matches_the_sigma_form(params):
    kl = gaussian_kl(*params)
    assert kl.shape == params[0].shape[:1]
    assert np.all(kl >= -1e-12)
    np.testing.assert_allclose(kl, kl_reference(*params), rtol=1e-9, atol=1e-9)


@SETTINGS
@given(gaussians())
def test_kl_to_standard_normal_is_non_negative(params):
    mean, log_var = params
    kl = kl_to_standard_normal(mean, log_var)
    assert kl.shape == mean.shape[:1]
    assert np.all(kl >= -1e-12)
    np.testing.assert_allclose(kl, kl_reference(mean, log_var, 0 * mean, 0 * log_var),
                               rtol=1e-9, atol=1e-9)


@SETTINGS
@given(MEANS, st.floats(1e-2, 1e2), MEANS, st.floats(1e-2, 1e2))
def test_kl_univariate_is_non_negative(mu_q, sigma_q, mu_p, sigma_p):
    assert kl_univariate_gaussians(mu_q, sigma_q, mu_p, sigma_p) >= -1e-12


@SETTINGS
@given(gaussians())
def test_kl_of_a_distribution_to_itself_is_zero(params):
    mean, log_var = params
    np.testing.assert_allclose(gaussian_kl(mean, log_var, mean, log_var), 0.0, atol=1e-12)
    sigma = np.exp(0.5 * log_var)
    np.testing.assert_allclose(kl_univariate_gaussians(mean, sigma, mean, sigma), 0.0,
                               atol=1e-12)
    zeros = np.zeros_like(mean)
    np.testing.assert_allclose(kl_to_standard_normal(zeros, zeros), 0.0, atol=1e-12)


def test_kl_is_not_symmetric():
    # q = N(0, 1), p = N(1, 4): KL(q||p) = log 2 + (1 + 1)/8 - 1/2 = log 2 - 1/4
    #                           KL(p||q) = -log 2 + (4 + 1)/2 - 1/2 = 2 - log 2
    forward = kl_univariate_gaussians(0.0, 1.0, 1.0, 2.0)
    backward = kl_univariate_gaussians(1.0, 2.0, 0.0, 1.0)
    assert forward == pytest.approx(np.log(2) - 0.25, abs=1e-12)
    assert backward == pytest.approx(2 - np.log(2), abs=1e-12)
    q = (np.array([[0.0]]), np.array([[0.0]]))
    p = (np.array([[1.0]]), np.array([[np.log(4.0)]]))
    assert gaussian_kl(*q, *p)[0] == pytest.approx(forward, abs=1e-12)
    assert gaussian_kl(*p, *q)[0] == pytest.approx(backward, abs=1e-12)
    assert abs(gaussian_kl(*q, *p)[0] - gaussian_kl(*p, *q)[0]) > 0.5


def test_kl_known_values():
    # KL(N(m, s^2) || N(0, 1)) = 0.5 * (m^2 + s^2 - 1 - log s^2), per dimension, summed.
    mean = np.array([[1.0, -2.0], [0.0, 0.5]])
    log_var = np.array([[0.0, np.log(2.0)], [np.log(0.5), 0.0]])
    expected = np.array([0.5 * 1 + 0.5 * (4 + 2 - 1 - np.log(2.0)),
                         0.5 * (0.5 - 1 - np.log(0.5)) + 0.5 * 0.25])
    np.testing.assert_allclose(kl_to_standard_normal(mean, log_var), expected, rtol=1e-12)


# --------------------------------------------------------------------------- KL: consistency


@SETTINGS
@given(gaussians())
def test_gaussian_kl_to_standard_normal_equals_kl_to_standard_normal(params):
    mean, log_var = params
    zeros = np.zeros_like(mean)
    np.testing.assert_allclose(gaussian_kl(mean, log_var, zeros, zeros),
                               kl_to_standard_normal(mean, log_var), rtol=1e-12, atol=1e-12)


@SETTINGS
@given(gaussian_pairs())
def test_diagonal_kl_is_the_sum_of_univariate_kls(params):
    mq, lvq, mp, lvp = params
    univariate = kl_univariate_gaussians(mq, np.exp(0.5 * lvq), mp, np.exp(0.5 * lvp))
    assert univariate.shape == mq.shape  # element-wise, nothing summed
    per_dim = gaussian_kl(mq[..., None], lvq[..., None], mp[..., None], lvp[..., None])
    assert per_dim.shape == mq.shape
    np.testing.assert_allclose(per_dim, univariate, rtol=1e-9, atol=1e-9)
    np.testing.assert_allclose(gaussian_kl(mq, lvq, mp, lvp), univariate.sum(axis=-1),
                               rtol=1e-9, atol=1e-9)


def test_batch_axes_are_kept_and_the_last_is_summed():
    rng = np.random.default_rng(3)
    mq, lvq, mp, lvp = (rng.normal(size=(2, 3, 4)) for _ in range(4))
    x = rng.normal(size=(2, 3, 4))
    assert gaussian_kl(mq, lvq, mp, lvp).shape == (2, 3)
    assert kl_to_standard_normal(mq, lvq).shape == (2, 3)
    assert gaussian_log_density(x, mq, lvq).shape == (2, 3)
    assert bernoulli_log_likelihood(rng.uniform(size=(2, 3, 4)), x).shape == (2, 3)
    # each batch element on its own gives the same number as inside the batch
    for i in range(2):
        for j in range(3):
            alone = gaussian_kl(mq[i, j], lvq[i, j], mp[i, j], lvp[i, j])
            assert alone.shape == ()
            assert alone == pytest.approx(gaussian_kl(mq, lvq, mp, lvp)[i, j], rel=1e-12)


def monte_carlo_kl(rng, mq, lvq, mp, lvp, n=200_000):
    z = mq + np.exp(0.5 * lvq) * rng.standard_normal((n, mq.size))
    tile = lambda a: np.broadcast_to(a, z.shape)  # noqa: E731
    log_ratio = (gaussian_log_density(z, tile(mq), tile(lvq))
                 - gaussian_log_density(z, tile(mp), tile(lvp)))
    return log_ratio.mean(), log_ratio.std(ddof=1) / np.sqrt(n)


@pytest.mark.parametrize("seed", range(5))
def test_closed_form_kl_agrees_with_monte_carlo(seed):
    rng = np.random.default_rng(100 + seed)
    k = 3
    mq, mp = rng.uniform(-2, 2, k), rng.uniform(-2, 2, k)
    lvq, lvp = rng.uniform(-1.5, 1.5, k), rng.uniform(-1.5, 1.5, k)
    closed = gaussian_kl(mq, lvq, mp, lvp)
    estimate, se = monte_carlo_kl(rng, mq, lvq, mp, lvp)
    assert abs(estimate - closed) < 5 * se + 1e-6, (estimate, closed, se)
    zeros = np.zeros(k)
    closed_std = kl_to_standard_normal(mq, lvq)
    estimate, se = monte_carlo_kl(rng, mq, lvq, zeros, zeros)
    assert abs(estimate - closed_std) < 5 * se + 1e-6, (estimate, closed_std, se)


# --------------------------------------------------------------------------- log-density


def trapezoid(y, x, axis=-1):
    """The trapezoid rule along ``axis`` (np.trapezoid needs numpy 2; pyproject allows 1.26)."""
    y = np.moveaxis(np.asarray(y), axis, -1)
    return np.sum((y[..., 1:] + y[..., :-1]) * np.diff(x) / 2, axis=-1)


@pytest.mark.parametrize(("mean", "log_var"), [(0.0, 0.0), (3.5, np.log(0.04)), (-7.0, 2.5)])
def test_log_density_integrates_to_one_in_1d(mean, log_var):
    sigma = np.exp(0.5 * log_var)
    grid = np.linspace(mean - 12 * sigma, mean + 12 * sigma, 200_001)
    log_p = gaussian_log_density(grid[:, None], np.full((grid.size, 1), mean),
                                 np.full((grid.size, 1), log_var))
    assert log_p.shape == grid.shape
    assert trapezoid(np.exp(log_p), grid) == pytest.approx(1.0, abs=1e-6)


def test_log_density_integrates_to_one_in_2d():
    mean, log_var = np.array([0.5, -1.0]), np.array([np.log(0.25), np.log(3.0)])
    sigma = np.exp(0.5 * log_var)
    axes = [np.linspace(m - 10 * s, m + 10 * s, 801) for m, s in zip(mean, sigma, strict=True)]
    g0, g1 = np.meshgrid(*axes, indexing="ij")
    points = np.stack([g0, g1], axis=-1)
    log_p = gaussian_log_density(points, np.broadcast_to(mean, points.shape),
                                 np.broadcast_to(log_var, points.shape))
    assert log_p.shape == g0.shape
    integral = trapezoid(trapezoid(np.exp(log_p), axes[1], axis=1), axes[0])
    assert integral == pytest.approx(1.0, abs=1e-4)


@SETTINGS
@given(gaussian_pairs())
def test_log_density_matches_scipy(params):
    x, log_var, mean, _ = params
    expected = stats.norm.logpdf(x, loc=mean, scale=np.exp(0.5 * log_var)).sum(axis=-1)
    np.testing.assert_allclose(gaussian_log_density(x, mean, log_var), expected,
                               rtol=1e-9, atol=1e-9)


# --------------------------------------------------------------------------- Bernoulli


@SETTINGS
@given(st.data())
def test_bernoulli_matches_the_direct_formula(data):
    shape = data.draw(shapes)
    x = data.draw(hnp.arrays(np.float64, shape, elements=st.floats(0, 1)))
    logits = data.draw(hnp.arrays(np.float64, shape, elements=st.floats(-15, 15)))
    p = 1.0 / (1.0 + np.exp(-logits))
    expected = (x * np.log(p) + (1 - x) * np.log(1 - p)).sum(axis=-1)
    np.testing.assert_allclose(bernoulli_log_likelihood(x, logits), expected,
                               rtol=1e-9, atol=1e-6)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("magnitude", [1e4, 1e30])
def test_bernoulli_is_finite_and_exact_for_huge_logits(dtype, magnitude):
    # pixel 1 with +L and pixel 0 with -L are certain and right (0 nats); the other two
    # are certain and wrong (-L nats each)
    x = np.array([[1.0, 0.0, 1.0, 0.0]], dtype)
    logits = np.array([[magnitude, -magnitude, -magnitude, magnitude]], dtype)
    value = bernoulli_log_likelihood(x, logits)
    assert value.dtype == dtype
    assert np.all(np.isfinite(value))
    assert value[0] == pytest.approx(-2 * magnitude, rel=1e-6)
    right = bernoulli_log_likelihood(x[:, :2], logits[:, :2])
    assert right[0] == 0.0
    tensor_value = bernoulli_log_likelihood(tf.constant(x), tf.constant(logits))
    assert np.all(np.isfinite(to_numpy(tensor_value)))


def test_bernoulli_tends_to_zero_for_confident_correct_logits():
    rng = np.random.default_rng(4)
    x = (rng.uniform(size=(3, 50)) < 0.5).astype(np.float64)
    values = [bernoulli_log_likelihood(x, (2 * x - 1) * scale) for scale in (0.5, 2, 8, 40)]
    for smaller, larger in pairwise(values):
        assert np.all(smaller < larger)
    assert np.all(values[0] < -1.0)
    assert np.all(values[-1] <= 0.0)
    np.testing.assert_allclose(values[-1], 0.0, atol=1e-12)


def test_bernoulli_is_minus_reconstruction_bce():
    rng = np.random.default_rng(5)
    x = rng.uniform(size=(6, 784)).astype(np.float32)
    x[:3] = (x[:3] > 0.5).astype(np.float32)
    logits = rng.normal(scale=4, size=(6, 784)).astype(np.float32)
    np.testing.assert_allclose(bernoulli_log_likelihood(x, logits),
                               -to_numpy(reconstruction_bce(x, logits)), rtol=1e-5)


def test_bernoulli_sums_over_pixels():
    rng = np.random.default_rng(6)
    x = rng.uniform(size=(4, 30))
    logits = rng.normal(size=(4, 30))
    single = bernoulli_log_likelihood(x, logits)
    doubled = bernoulli_log_likelihood(np.concatenate([x, x], axis=-1),
                                       np.concatenate([logits, logits], axis=-1))
    np.testing.assert_allclose(doubled, 2 * single, rtol=1e-12)
    # a known value: x = 1/2 and logit 0 give log(1/2) per pixel
    half = bernoulli_log_likelihood(np.full((1, 30), 0.5), np.zeros((1, 30)))
    assert half[0] == pytest.approx(30 * np.log(0.5), rel=1e-12)


@pytest.mark.parametrize("as_tensor", [False, True], ids=["numpy", "tensor"])
@pytest.mark.parametrize("bad", [-0.1, 1.5, 255.0])
def test_bernoulli_rejects_x_outside_unit_interval(bad, as_tensor):
    x = np.full((2, 3), 0.5, np.float32)
    x[1, 2] = bad
    with pytest.raises(ValueError, match=r"^x must lie in \[0, 1\]"):
        bernoulli_log_likelihood(tf.constant(x) if as_tensor else x, np.zeros((2, 3), np.float32))


# --------------------------------------------------------------------------- ELBO


def test_elbo_is_log_likelihood_minus_kl():
    log_likelihood = np.array([-100.0, -80.5, -3.25])
    kl = np.array([5.0, 0.5, 0.0])
    result = elbo(log_likelihood, kl)
    assert result.shape == (3,)
    np.testing.assert_allclose(result, [-105.0, -81.0, -3.25], rtol=1e-12)


def test_elbo_from_the_toolkit_pieces():
    rng = np.random.default_rng(7)
    x = rng.uniform(size=(5, 20))
    logits, mean, log_var = (rng.normal(size=(5, 20)), rng.normal(size=(5, 3)),
                             rng.normal(size=(5, 3)))
    result = elbo(bernoulli_log_likelihood(x, logits), kl_to_standard_normal(mean, log_var))
    assert result.shape == (5,)
    p = 1.0 / (1.0 + np.exp(-logits))
    expected = ((x * np.log(p) + (1 - x) * np.log(1 - p)).sum(-1)
                - 0.5 * (mean**2 + np.exp(log_var) - 1 - log_var).sum(-1))
    np.testing.assert_allclose(result, expected, rtol=1e-9)


def test_elbo_rejects_mismatched_shapes():
    with pytest.raises(ValueError, match=r"\(3,\).*\(4,\)"):
        elbo(np.zeros(3), np.zeros(4))


# --------------------------------------------------------------------------- tensors


def sample_inputs(dtype=np.float64, seed=8):
    """Valid inputs for every tensor-capable function, as numpy arrays of shape (4, 3)."""
    rng = np.random.default_rng(seed)
    a, b, c, d = (rng.normal(size=(4, 3)).astype(dtype) for _ in range(4))
    x = rng.uniform(size=(4, 3)).astype(dtype)
    return {
        "gaussian_log_density": (gaussian_log_density, (a, b, c)),
        "gaussian_kl": (gaussian_kl, (a, b, c, d)),
        "kl_to_standard_normal": (kl_to_standard_normal, (a, b)),
        "bernoulli_log_likelihood": (bernoulli_log_likelihood, (x, a)),
        "elbo": (elbo, (a[:, 0], b[:, 0])),
    }


TENSOR_FUNCTIONS = list(sample_inputs())


@pytest.mark.parametrize("name", TENSOR_FUNCTIONS)
def test_tensors_in_tensors_out_with_the_same_values(name):
    function, args = sample_inputs()[name]
    numpy_result = function(*args)
    assert isinstance(numpy_result, np.ndarray) and numpy_result.dtype == np.float64
    tensor_result = function(*(tf.constant(a) for a in args))
    assert tf.is_tensor(tensor_result)
    assert tensor_result.dtype == tf.float64
    np.testing.assert_allclose(to_numpy(tensor_result), numpy_result, rtol=1e-12)
    # float32 tensors in, float32 tensor out
    f32_result = function(*(tf.constant(a, tf.float32) for a in args))
    assert tf.is_tensor(f32_result) and f32_result.dtype == tf.float32
    np.testing.assert_allclose(to_numpy(f32_result), numpy_result, rtol=1e-4, atol=1e-4)
    # float32 numpy in, float32 numpy out
    f32_numpy = function(*(a.astype(np.float32) for a in args))
    assert isinstance(f32_numpy, np.ndarray) and f32_numpy.dtype == np.float32


@pytest.mark.parametrize("name", TENSOR_FUNCTIONS)
def test_works_inside_tf_function_like_eager(name):
    function, args = sample_inputs(np.float32)[name]
    signature = [tf.TensorSpec([None] * a.ndim, tf.float32) for a in args]
    traced = tf.function(lambda *xs: function(*xs), input_signature=signature)
    result = traced(*(tf.constant(a) for a in args))
    assert tf.is_tensor(result) and result.dtype == tf.float32
    eager = function(*(tf.constant(a) for a in args))
    np.testing.assert_allclose(to_numpy(result), to_numpy(eager), rtol=1e-6, atol=1e-6)


def test_tf_function_checks_static_shapes():
    traced = tf.function(lambda m, v: kl_to_standard_normal(m, v))
    with pytest.raises(ValueError, match=r"\(2, 3\).*\(2, 4\)"):
        traced(tf.zeros((2, 3)), tf.zeros((2, 4)))


def test_works_on_keras_tensors_in_a_functional_model():
    mean, log_var = keras.Input((3,)), keras.Input((3,))
    model = keras.Model([mean, log_var], kl_to_standard_normal(mean, log_var))
    m, v = sample_inputs(np.float32)["kl_to_standard_normal"][1]
    np.testing.assert_allclose(to_numpy(model([m, v])), kl_to_standard_normal(m, v),
                               rtol=1e-6)


def test_kl_univariate_accepts_tensors_and_returns_float64_numpy():
    # documented: numpy (float64) out, whatever goes in
    result = kl_univariate_gaussians(tf.constant([0.0]), tf.constant([1.0]),
                                     tf.constant([1.0]), tf.constant([2.0]))
    assert isinstance(result, np.ndarray) and result.dtype == np.float64
    np.testing.assert_allclose(result, [np.log(2) - 0.25], rtol=1e-6)


def test_kl_to_standard_normal_gradients_are_analytic():
    rng = np.random.default_rng(9)
    mean = tf.constant(rng.normal(size=(4, 3)))
    log_var = tf.constant(rng.normal(size=(4, 3)))
    with tf.GradientTape() as tape:
        tape.watch([mean, log_var])
        total = tf.reduce_sum(kl_to_standard_normal(mean, log_var))
    d_mean, d_log_var = tape.gradient(total, [mean, log_var])
    np.testing.assert_allclose(d_mean.numpy(), mean.numpy(), rtol=1e-12)
    np.testing.assert_allclose(d_log_var.numpy(), 0.5 * (np.exp(log_var.numpy()) - 1),
                               rtol=1e-12, atol=1e-15)


def test_gradients_flow_through_the_other_functions():
    rng = np.random.default_rng(10)
    mq, lvq, mp, lvp = (tf.Variable(rng.normal(size=(2, 3))) for _ in range(4))
    x = tf.constant(rng.uniform(size=(2, 3)))
    with tf.GradientTape(persistent=True) as tape:
        kl = tf.reduce_sum(gaussian_kl(mq, lvq, mp, lvp))
        log_density = tf.reduce_sum(gaussian_log_density(mq, mp, lvp))
        log_lik = tf.reduce_sum(bernoulli_log_likelihood(x, mq))
        bound = tf.reduce_sum(elbo(tf.reduce_sum(mq, -1), tf.reduce_sum(lvq**2, -1)))
    mq_, lvp_, mp_ = mq.numpy(), lvp.numpy(), mp.numpy()
    # d KL / d mean_q = (mean_q - mean_p) / var_p
    np.testing.assert_allclose(tape.gradient(kl, mq).numpy(), (mq_ - mp_) / np.exp(lvp_),
                               rtol=1e-12)
    # d log N(x; m, v) / d x = -(x - m) / v
    np.testing.assert_allclose(tape.gradient(log_density, mq).numpy(),
                               -(mq_ - mp_) / np.exp(lvp_), rtol=1e-12)
    # d/dl [x l - softplus(l)] = x - sigmoid(l)
    np.testing.assert_allclose(tape.gradient(log_lik, mq).numpy(),
                               x.numpy() - 1 / (1 + np.exp(-mq_)), rtol=1e-12)
    np.testing.assert_allclose(tape.gradient(bound, lvq).numpy(), -2 * lvq.numpy(),
                               rtol=1e-12)


# --------------------------------------------------------------------------- Sampling


def sampling_inputs(n=5, k=3, seed=11):
    rng = np.random.default_rng(seed)
    return (rng.normal(size=(n, k)).astype(np.float32),
            rng.normal(size=(n, k)).astype(np.float32))


def test_sampling_shape_and_seeded_repeatability():
    mean, log_var = sampling_inputs()
    first = to_numpy(Sampling(seed=42)([mean, log_var]))
    assert first.shape == (5, 3)
    layer = Sampling(seed=42)
    again = to_numpy(layer([mean, log_var]))
    np.testing.assert_array_equal(first, again)  # fresh layers with one seed agree
    second_call = to_numpy(layer([mean, log_var]))
    assert not np.allclose(again, second_call)  # the generator moves on
    other_seed = to_numpy(Sampling(seed=43)([mean, log_var]))
    assert not np.allclose(first, other_seed)


def test_sampling_equals_the_trick_written_by_hand():
    """Notebook 04 writes z = z_mean + exp(0.5 * z_log_var) * eps with keras.random.normal and
    a SeedGenerator; the layer with the same seed returns the very same codes."""
    mean, log_var = sampling_inputs()

    def sample_z(z_mean, z_log_var, seed_generator):
        eps = keras.random.normal(keras.ops.shape(z_mean), dtype=z_mean.dtype,
                                  seed=seed_generator)
        return z_mean + keras.ops.exp(0.5 * z_log_var) * eps

    mean_t, log_var_t = tf.constant(mean), tf.constant(log_var)
    by_hand = to_numpy(sample_z(mean_t, log_var_t, keras.random.SeedGenerator(7)))
    layer = Sampling(seed=7)
    np.testing.assert_array_equal(to_numpy(layer([mean_t, log_var_t])), by_hand)
    assert not np.allclose(to_numpy(layer([mean_t, log_var_t])), by_hand)  # new noise


def test_sampling_moments_match_the_parameters():
    n = 200_000
    z_mean = np.array([0.0, 2.5, -1.0], np.float32)
    z_log_var = np.array([0.0, np.log(0.09), np.log(4.0)], np.float32)
    z = to_numpy(Sampling(seed=1)([np.tile(z_mean, (n, 1)), np.tile(z_log_var, (n, 1))]))
    z = z.astype(np.float64)
    variance = np.exp(z_log_var.astype(np.float64))
    mean_se = np.sqrt(variance / n)
    var_se = np.sqrt(2.0 / n) * variance
    assert np.all(np.abs(z.mean(axis=0) - z_mean) < 5 * mean_se + 1e-6)
    assert np.all(np.abs(z.var(axis=0, ddof=1) - variance) < 5 * var_se + 1e-6)
    # independent dimensions
    correlation = np.corrcoef(z, rowvar=False)[np.triu_indices(3, 1)]
    assert np.all(np.abs(correlation) < 5 / np.sqrt(n))


def test_sampling_gradients_are_analytic():
    mean, log_var = (tf.constant(a) for a in sampling_inputs())
    layer = Sampling(seed=3)
    with tf.GradientTape() as tape:
        tape.watch([mean, log_var])
        z = layer([mean, log_var])
        total = tf.reduce_sum(z)
    d_mean, d_log_var = tape.gradient(total, [mean, log_var])
    sigma = np.exp(0.5 * log_var.numpy())
    eps = (z.numpy() - mean.numpy()) / sigma
    np.testing.assert_allclose(d_mean.numpy(), 1.0, rtol=0)
    np.testing.assert_allclose(d_log_var.numpy(), 0.5 * sigma * eps, rtol=1e-4, atol=1e-5)


def test_sampling_works_inside_tf_function():
    mean, log_var = sampling_inputs()
    layer = Sampling(seed=8)
    traced = tf.function(lambda m, v: layer([m, v]))
    first = to_numpy(traced(tf.constant(mean), tf.constant(log_var)))
    second = to_numpy(traced(tf.constant(mean), tf.constant(log_var)))
    assert first.shape == (5, 3)
    assert not np.allclose(first, second)


def test_sampling_config_round_trip():
    layer = Sampling(seed=17, name="z")
    config = layer.get_config()
    assert config["seed"] == 17
    clone = Sampling.from_config(config)
    assert isinstance(clone, Sampling)
    assert clone.get_config() == config
    mean, log_var = sampling_inputs()
    np.testing.assert_array_equal(to_numpy(clone([mean, log_var])),
                                  to_numpy(layer([mean, log_var])))


def test_sampling_survives_keras_save_and_load(tmp_path):
    assert keras.saving.get_registered_object("vae_tutorial>Sampling") is Sampling
    mean_in, log_var_in = keras.Input((3,)), keras.Input((3,))
    model = keras.Model([mean_in, log_var_in], Sampling(seed=5, name="z")([mean_in, log_var_in]))
    path = tmp_path / "sampler.keras"
    model.save(path)
    reloaded = keras.models.load_model(path)  # no custom_objects: registered serializable
    layer = reloaded.get_layer("z")
    assert isinstance(layer, Sampling)
    assert layer.get_config() == model.get_layer("z").get_config()
    mean, log_var = sampling_inputs()
    np.testing.assert_array_equal(to_numpy(reloaded([mean, log_var])),
                                  to_numpy(model([mean, log_var])))


@pytest.mark.parametrize("inputs", [
    "single", "three", "dict",
])
def test_sampling_needs_a_list_of_two(inputs):
    mean, log_var = sampling_inputs()
    value = {"single": mean, "three": [mean, log_var, mean],
             "dict": {"z_mean": mean, "z_log_var": log_var}}[inputs]
    with pytest.raises(ValueError, match="list of two"):
        Sampling(seed=0)(value)


def test_sampling_rejects_mismatched_shapes():
    mean, _ = sampling_inputs()
    _, log_var = sampling_inputs(k=4)
    with pytest.raises(ValueError, match=r"\(5, 3\).*\(5, 4\)"):
        Sampling(seed=0)([mean, log_var])


# --------------------------------------------------------------------------- bad input

ALL_FUNCTIONS = {
    "gaussian_log_density": (gaussian_log_density, ("x", "mean", "log_var")),
    "gaussian_kl": (gaussian_kl, ("mean_q", "log_var_q", "mean_p", "log_var_p")),
    "kl_to_standard_normal": (kl_to_standard_normal, ("z_mean", "z_log_var")),
    "kl_univariate_gaussians": (kl_univariate_gaussians, ("mu_q", "sigma_q", "mu_p", "sigma_p")),
    "bernoulli_log_likelihood": (bernoulli_log_likelihood, ("x", "logits")),
    "elbo": (elbo, ("log_likelihood", "kl")),
}
ARGUMENTS = [(name, i) for name, (_, args) in ALL_FUNCTIONS.items() for i in range(len(args))]


def valid_args(name, shape=(2, 3)):
    """Arguments that the function accepts: values in (0, 1), so positive and pixel-like."""
    _, names = ALL_FUNCTIONS[name]
    return [np.full(shape, 0.25 + 0.1 * i) for i in range(len(names))]


@pytest.mark.parametrize("name", list(ALL_FUNCTIONS))
def test_valid_arguments_are_accepted(name):
    function, _ = ALL_FUNCTIONS[name]
    assert np.all(np.isfinite(function(*valid_args(name))))


@pytest.mark.parametrize(("name", "position"), ARGUMENTS)
def test_mismatched_shapes_raise_naming_both_shapes(name, position):
    function, _ = ALL_FUNCTIONS[name]
    args = valid_args(name)
    args[position] = np.full((2, 4), 0.5)
    other = (2, 3)
    with pytest.raises(ValueError, match="shapes do not match") as info:
        function(*args)
    assert str((2, 4)) in str(info.value) and str(other) in str(info.value)


@pytest.mark.parametrize("kind", ["numpy", "tensor"])
@pytest.mark.parametrize(("name", "position"), ARGUMENTS)
def test_nan_raises_naming_the_argument(name, position, kind):
    function, names = ALL_FUNCTIONS[name]
    args = valid_args(name)
    args[position][1, 2] = np.nan
    if kind == "tensor":
        args = [tf.constant(a) for a in args]
    with pytest.raises(ValueError, match=rf"^{names[position]} contains 1 non-finite"):
        function(*args)


@pytest.mark.parametrize(("name", "position"), ARGUMENTS)
def test_infinity_raises_naming_the_argument(name, position):
    function, names = ALL_FUNCTIONS[name]
    args = valid_args(name)
    args[position][0, 0] = -np.inf
    with pytest.raises(ValueError, match=rf"^{names[position]} contains"):
        function(*args)


@pytest.mark.parametrize("bad", [0.0, -1.0, -1e-9])
@pytest.mark.parametrize("position", [1, 3])
def test_kl_univariate_rejects_non_positive_sigma(position, bad):
    args = [0.0, 1.0, 0.5, 2.0]
    args[position] = bad
    with pytest.raises(ValueError, match="log-variance") as info:
        kl_univariate_gaussians(*args)
    assert ("sigma_q", "sigma_p")[position // 2] in str(info.value)


@pytest.mark.parametrize("bad", ["ragged", "object", "strings", "complex"])
@pytest.mark.parametrize(("name", "position"), ARGUMENTS)
def test_non_numeric_arrays_raise_type_error(name, position, bad):
    function, names = ALL_FUNCTIONS[name]
    args = valid_args(name, shape=(2,))
    args[position] = {
        "ragged": [[0.5, 0.5], [0.5]],
        "object": np.array([0.5, None], dtype=object),
        "strings": np.array(["0.5", "0.5"]),
        "complex": np.array([0.5 + 1j, 0.5]),  # a cast would silently drop 1j
    }[bad]
    with pytest.raises(TypeError, match=names[position]):
        function(*args)


def test_python_scalars_broadcast_but_arrays_must_agree():
    mean = np.array([[0.5, -1.0, 2.0]])
    scalar = gaussian_kl(mean, 0.0, 0.0, 0.0)
    np.testing.assert_allclose(scalar, kl_to_standard_normal(mean, np.zeros_like(mean)),
                               rtol=1e-12)
    with pytest.raises(ValueError, match="does not broadcast"):
        gaussian_kl(mean, np.zeros((1, 1)), mean, np.zeros_like(mean))


def test_integer_and_bool_inputs_become_floats():
    x = np.array([[1, 0, 1]])
    logits = np.array([[2, -2, 0]])
    expected = -(np.log1p(np.exp(-2.0)) * 2 + np.log(2.0))
    assert bernoulli_log_likelihood(x, logits)[0] == pytest.approx(expected, rel=1e-6)
    assert bernoulli_log_likelihood(x.astype(bool), logits.astype(np.float64))[0] == (
        pytest.approx(expected, rel=1e-12))


@pytest.mark.parametrize("func", [gaussian_kl, kl_to_standard_normal, gaussian_log_density,
                                  bernoulli_log_likelihood])
def test_all_scalar_inputs_to_summing_functions_get_a_clear_error(func):
    n_args = func.__code__.co_argcount
    with pytest.raises(ValueError, match=r"single numbers.*\(\.\.\., D\)"):
        func(*([0.5] * n_args))


# --------------------------------------------------------------------------- extremes (issue 8)
# Finite inputs whose true result is finite must give that result, not NaN or inf: checked
# in float32 and float64 against references computed with 60-digit decimals.

EXTREME_LOG_VARS = st.floats(-100, 80)
EXTREME_MEANS = st.floats(-1e3, 1e3)
DIGITS = decimal.Context(prec=60)


def _d(value) -> decimal.Decimal:
    return decimal.Decimal(float(value))


def _half_sum(*terms) -> tuple[float, float]:
    """(sum of the terms / 2, sum of their sizes / 2): a value and the scale of its terms."""
    return float(sum(terms) / 2), float(sum(abs(t) for t in terms) / 2)


def _kl_decimal(mq, lvq, mp, lvp) -> tuple[float, float]:
    """One dimension of KL(N(mq, e^lvq) || N(mp, e^lvp)), in 60-digit decimals, and its scale."""
    mq, lvq, mp, lvp = (_d(v) for v in (mq, lvq, mp, lvp))
    return _half_sum(lvp - lvq, DIGITS.exp(lvq - lvp), (mq - mp) ** 2 * DIGITS.exp(-lvp), -1)


def _close(result, reference: tuple[float, float], dtype, condition: float = 0.0) -> bool:
    """Equal to the reference (value, scale) rounded to ``dtype``, up to a few roundings.

    Errors are measured against the scale of the terms summed (terms of 1e3 that cancel to
    1 leave errors of 1e3 eps). ``condition`` is the problem's own sensitivity: exp(a)
    changes by a relative |a| eps when a is rounded, so a function of e^(log_var) may be
    off by |log_var| roundings.

    The formulas halve a sum of terms, so a term may overflow when the result is within a
    factor 2 of the largest float: there, infinity of the right sign is accepted too.
    """
    reference, scale = reference
    if abs(reference) > float(np.finfo(dtype).max) / 2 and np.isinf(result):
        return np.sign(result) == np.sign(reference)
    tolerance = (50 + condition) * np.finfo(dtype).eps
    return bool(np.isfinite(result)) and abs(result - reference) <= tolerance * max(scale, 1.0)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@settings(max_examples=200, deadline=None)
@given(mq=EXTREME_MEANS, lvq=EXTREME_LOG_VARS, mp=EXTREME_MEANS, lvp=EXTREME_LOG_VARS)
def test_gaussian_kl_is_right_at_extreme_log_variances(dtype, mq, lvq, mp, lvp):
    args = [np.array([v], dtype) for v in (mq, lvq, mp, lvp)]
    # The reference of the rounded inputs: what a perfect function of these inputs gives.
    reference = _kl_decimal(*(a[0] for a in args))
    assert _close(gaussian_kl(*args), reference, dtype, condition=abs(lvq) + abs(lvp))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@settings(max_examples=200, deadline=None)
@given(mean=EXTREME_MEANS, log_var=EXTREME_LOG_VARS)
def test_kl_to_standard_normal_is_right_at_extreme_log_variances(dtype, mean, log_var):
    mean, log_var = np.array([mean], dtype), np.array([log_var], dtype)
    reference = _kl_decimal(mean[0], log_var[0], 0.0, 0.0)
    assert _close(kl_to_standard_normal(mean, log_var), reference, dtype,
                  condition=abs(log_var[0]))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@settings(max_examples=200, deadline=None)
@given(x=EXTREME_MEANS, mean=EXTREME_MEANS, log_var=EXTREME_LOG_VARS)
def test_gaussian_log_density_is_right_at_extreme_log_variances(dtype, x, mean, log_var):
    x, mean, log_var = (np.array([v], dtype) for v in (x, mean, log_var))
    d = _d(x[0]) - _d(mean[0])
    reference = _half_sum(-_d(LOG_2PI), -_d(log_var[0]), -d * d * DIGITS.exp(-_d(log_var[0])))
    assert _close(gaussian_log_density(x, mean, log_var), reference, dtype,
                  condition=abs(log_var[0]))


def test_a_log_variance_of_minus_100_gives_finite_values_in_float32():
    """The case of issue 8: a variance of 4e-44, below float32's smallest normal number."""
    zero, tiny = np.zeros((1, 2), np.float32), np.full((1, 2), -100.0, np.float32)
    assert gaussian_kl(zero, tiny, zero, tiny)[0] == 0.0
    assert kl_to_standard_normal(zero, tiny)[0] == pytest.approx(99.0, rel=1e-6)
    assert gaussian_log_density(zero, zero, tiny)[0] == pytest.approx(100.0 - LOG_2PI, rel=1e-6)


@settings(max_examples=200, deadline=None)
@given(mu_q=st.floats(-1e100, 1e100), sigma_q=st.floats(1e-150, 1e150),
       mu_p=st.floats(-1e100, 1e100), sigma_p=st.floats(1e-150, 1e150))
def test_kl_univariate_is_right_at_extreme_scales(mu_q, sigma_q, mu_p, sigma_p):
    mq, sq, mp, sp = (_d(v) for v in (mu_q, sigma_q, mu_p, sigma_p))
    reference = _half_sum(2 * DIGITS.ln(sp / sq), (sq / sp) ** 2, ((mq - mp) / sp) ** 2, -1)
    assert _close(kl_univariate_gaussians(mu_q, sigma_q, mu_p, sigma_p), reference, np.float64)


@SETTINGS
@given(gaussians())
def test_kl_of_a_distribution_to_itself_is_exactly_zero_for_any_dtype(params):
    mean, log_var = params
    for dtype in (np.float32, np.float64):
        m, lv = mean.astype(dtype), log_var.astype(dtype)
        np.testing.assert_array_equal(gaussian_kl(m, lv, m, lv), 0.0)


# --------------------------------------------------------------------------- Sampling: bad input


@pytest.mark.parametrize("bad", [np.nan, np.inf])
@pytest.mark.parametrize("argument", ["z_mean", "z_log_var"])
def test_sampling_rejects_non_finite_inputs_like_the_toolkit(argument, bad):
    mean, log_var = sampling_inputs()
    values = {"z_mean": np.array(mean), "z_log_var": np.array(log_var)}
    values[argument][2, 1] = bad
    with pytest.raises(ValueError, match=f"{argument} contains 1 non-finite"):
        Sampling(seed=0)([tf.constant(values["z_mean"]), tf.constant(values["z_log_var"])])
    with pytest.raises(ValueError, match=f"{argument} contains 1 non-finite"):
        kl_to_standard_normal(values["z_mean"], values["z_log_var"])
